"""What the memory planner needs to know about a model: sizes, kind of layer, and its linear layers.

Two kinds of transformer layer are told apart by their module names, as their activations differ:
- "encoder" (BERT, XLM-R, MiniLM, bge-m3's backbone): post-LayerNorm, a GELU MLP of two matrices, dropout;
- "decoder" (Qwen, Llama, Mistral: the LLM-based embedders such as gte-Qwen2 and Qwen3-Embedding): pre-RMSNorm
  (computed in fp32), a gated MLP of three matrices (`gate_proj`), grouped-query attention, no dropout.

`ModelShape.of(model)` reads a loaded SentenceTransformer; `ModelShape.from_config(spec)` builds the model on
PyTorch's meta device from its config (no weights are read: a 8B model is planned on a laptop).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

# linear layers that read the same tensor (one saved input between them)
SHARED_INPUT = {"query": "qkv", "key": "qkv", "value": "qkv", "q_proj": "qkv", "k_proj": "qkv", "v_proj": "qkv",
                "gate_proj": "gate_up", "up_proj": "gate_up", "w1": "gate_up", "w3": "gate_up"}
_LAYER = re.compile(r"^(?P<stack>.*\.)?(?:layer|layers|h|block|blocks)\.0\.(?P<inner>.+)$")


@dataclass(frozen=True)
class Linear:
    """A linear layer of one transformer layer: its name inside the layer, its widths, and what it reads."""

    name: str  # e.g. attention.self.query, self_attn.q_proj
    in_features: int
    out_features: int

    @property
    def leaf(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def group(self) -> str:
        """Layers of one group read one tensor (q, k and v read the same normalised input)."""
        return SHARED_INPUT.get(self.leaf, self.name)


@dataclass(frozen=True)
class ModelShape:
    parameters: int
    hidden: int
    layers: int
    heads: int
    dimension: int
    intermediate: int | None = None  # the MLP's width (default 4 x hidden)
    kv_heads: int | None = None  # grouped-query attention (default: heads)
    head_dim: int | None = None  # default hidden / heads
    family: str = "encoder"  # or "decoder" (see the module docstring)
    dropout: float = 0.1  # hidden and attention dropout in training (encoders; decoders train without)
    qk_norm: bool = False  # RMSNorm on each head's queries and keys (Qwen3)
    linears: tuple[Linear, ...] = field(default=(), compare=False)  # of one layer (every layer is alike)
    layer_prefixes: tuple[str, ...] = field(default=(), compare=False)  # "encoder.layer.0." ... one per layer

    @property
    def mlp_width(self) -> int:
        return self.intermediate or 4 * self.hidden

    @property
    def head_width(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @classmethod
    def of(cls, model) -> ModelShape:
        """The shape of a SentenceTransformer whose first module wraps a Hugging Face model (adapter weights, if
        any, are not counted among the base parameters)."""
        backbone = model[0].auto_model
        get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        parameters = sum(p.numel() for name, p in backbone.named_parameters() if "lora_" not in name)
        parameters += sum(p.numel() for module in list(model)[1:] for p in module.parameters())
        return cls._build(backbone, parameters, int(get_dimension() or backbone.config.hidden_size))

    @classmethod
    def from_config(cls, spec: str) -> ModelShape:
        """The shape of the model in folder (or cached hub id) `spec`, built on the meta device from its config."""
        from accelerate import init_empty_weights
        from transformers import AutoConfig, AutoModel

        config = AutoConfig.from_pretrained(spec)
        with init_empty_weights():
            backbone = AutoModel.from_config(config)
        return cls._build(backbone, sum(p.numel() for p in backbone.parameters()), _st_dimension(spec, config))

    @classmethod
    def _build(cls, backbone, parameters: int, dimension: int) -> ModelShape:
        config = backbone.config
        linears, prefixes = layer_linears(backbone)
        decoder = any(linear.leaf == "gate_proj" for linear in linears)
        dropout = 0.0 if decoder else float(max(getattr(config, "attention_probs_dropout_prob", 0.0) or 0.0,
                                                  getattr(config, "attention_dropout", 0.0) or 0.0,
                                                  getattr(config, "hidden_dropout_prob", 0.0) or 0.0))
        return cls(parameters=parameters, hidden=config.hidden_size, layers=config.num_hidden_layers,
                   heads=config.num_attention_heads, dimension=dimension,
                   intermediate=getattr(config, "intermediate_size", None),
                   kv_heads=getattr(config, "num_key_value_heads", None),
                   head_dim=getattr(config, "head_dim", None), family="decoder" if decoder else "encoder",
                   dropout=dropout, qk_norm=any(name.endswith("q_norm") for name, _ in backbone.named_modules()),
                   linears=tuple(linears), layer_prefixes=tuple(prefixes))


def layer_linears(backbone) -> tuple[list[Linear], list[str]]:
    """The linear layers of the first transformer layer (names inside the layer, adapter layers left out),
    and the prefix of every layer (`encoder.layer.3.`): LoRA targets are named inside these."""
    import torch

    linears, stack = [], None
    for name, module in backbone.named_modules():
        match = _LAYER.match(name)
        if match is None or "lora_" in name or "base_layer" in name:
            continue
        weight = getattr(module, "weight", None)
        if isinstance(module, torch.nn.Linear) or (type(module).__name__ == "Linear" and weight is not None
                                                    and weight.dim() == 2):
            stack = match.group("stack") or ""
            linears.append(Linear(match.group("inner"), module.in_features, module.out_features))
    if stack is None:
        return [], []
    pattern = re.compile(rf"^{re.escape(stack)}(?:layer|layers|h|block|blocks)\.\d+\.$")
    prefixes = [name + "." for name, _ in backbone.named_modules() if pattern.match(name + ".")]
    return linears, prefixes


def _st_dimension(spec: str, config) -> int:
    """The sentence-embedding width a sentence-transformers folder declares (a Dense module's output), else the
    hidden size."""
    folder = Path(spec).expanduser()
    modules = folder / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text(encoding="utf-8")):
            dense = folder / module.get("path", "") / "config.json"
            if "Dense" in module.get("type", "") and dense.is_file():
                settings = json.loads(dense.read_text(encoding="utf-8"))
                return int(settings.get("out_features", config.hidden_size))
    return int(config.hidden_size)
