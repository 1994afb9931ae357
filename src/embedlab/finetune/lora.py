"""LoRA through sentence-transformers' adapter support (peft): the spec, the target layers, merging, and the proof
that the adapter changed the model.

- `--lora r=16,alpha=32,dropout=0.05,targets=auto`: `auto` adapts every linear layer of every transformer layer
  (attention and MLP, as FlagEmbedding's and ms-swift's `all-linear` do; never a pooler or a head); `targets=`
  names layers by their name inside a layer, joined with `+` (`query+value`, `q_proj+v_proj`). A name that matches
  no layer is refused, with the names there are.
- Checkpoints hold the adapter (sentence-transformers saves only it, beside the base model's path); `best/` is
  the best checkpoint with its adapter merged into the weights, a plain model.
- The proof (`adapter_proof`): on held-out texts, the merged model equals the adapter model to 1e-5 and differs
  from the base model; an adapter still at its initial weights after training is an error, not a silent no-op.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError, SetupError, require
from embedlab.finetune.memory import Adapter
from embedlab.finetune.shape import ModelShape

MERGED_TOLERANCE = 1e-5  # merged vs adapter embeddings, max abs difference
CHANGED_AT_LEAST = 1e-6  # adapter vs base embeddings: below this, the adapter changed nothing


@dataclass(frozen=True)
class LoraSpec:
    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    targets: str = "auto"  # or layer names inside a transformer layer, joined with "+"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def label(self, layers: int) -> str:
        return f"LoRA r={self.r} on {layers} linear layers per transformer layer"


def parse_lora(text: str | None) -> LoraSpec:
    """`r=16,alpha=32,dropout=0.05,targets=auto` (any subset; empty = the defaults)."""
    given: dict[str, Any] = {}
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or key not in ("r", "alpha", "dropout", "targets"):
            raise EmbedlabError(f"--lora '{text}': '{part}' is not one of r=N, alpha=X, dropout=X, targets=auto|A+B")
        try:
            given[key] = value if key == "targets" else int(value) if key == "r" else float(value)
        except ValueError:
            raise EmbedlabError(f"--lora '{text}': {key} must be a number, not '{value}'") from None
    spec = LoraSpec(**given)
    if spec.r < 1 or spec.alpha <= 0 or not 0 <= spec.dropout < 1 or not spec.targets:
        raise EmbedlabError(f"--lora '{text}': r must be 1 or more, alpha above 0, dropout in [0, 1), targets given")
    return spec


def target_layers(spec: LoraSpec, shape: ModelShape) -> list[str]:
    """The linear layers (names inside a transformer layer) the spec adapts; a name matching none is an error."""
    names = [lin.name for lin in shape.linears]
    if not names:
        raise SetupError("LoRA: no transformer layers with linear layers found in this model")
    if spec.targets == "auto":
        return names
    chosen = []
    for target in spec.targets.split("+"):
        matched = [n for n in names if n == target or n.endswith("." + target)]
        if not matched:
            raise SetupError(f"--lora targets={target} matches no linear layer of this model; its layers have: "
                             f"{', '.join(dict.fromkeys(n.rsplit('.', 1)[-1] for n in names))} "
                             f"({', '.join(names)})")
        chosen += [n for n in matched if n not in chosen]
    return chosen


def add_adapter(model, spec: LoraSpec, shape: ModelShape) -> Adapter:
    """A fresh LoRA adapter on the SentenceTransformer `model` (its base weights frozen); the planner's view of it."""
    peft = require("peft", "LoRA fine-tuning (--lora)")
    targets = target_layers(spec, shape)
    full = [prefix + name for prefix in shape.layer_prefixes for name in targets]
    model.add_adapter(peft.LoraConfig(r=spec.r, lora_alpha=spec.alpha, lora_dropout=spec.dropout,
                                      target_modules=full, bias="none"))
    return Adapter(spec.r, spec.dropout, frozenset(targets))


def adapter_weights(model) -> dict[str, Any]:
    """A copy of the adapter's weights (to tell, after training, whether it moved)."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if "lora_" in name}


def check_trained(initial: dict[str, Any], model) -> float:
    """The largest change of an adapter weight since `initial`; an error when nothing moved."""
    now = adapter_weights(model)
    moved = max(float((now[name] - weight).abs().max()) for name, weight in initial.items())
    if moved == 0.0:
        raise EmbedlabError("LoRA: training left the adapter at its initial weights (nothing was learned: a "
                            "learning rate of 0, no step taken, or targets outside the layers the loss reaches); "
                            "no model was written from it")
    return moved


def merge_adapter(model) -> None:
    """Merge the LoRA weights into the base weights of `model` (a SentenceTransformer, in place) and drop the
    adapter layers. (Save it through `plain_copy`: a model loaded with an adapter keeps peft's key names.)"""
    from peft.tuners.tuners_utils import BaseTunerLayer

    backbone = model[0].auto_model
    for name, module in list(backbone.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge(safe_merge=True)
            parent, _, child = name.rpartition(".")
            setattr(backbone.get_submodule(parent) if parent else backbone, child, module.get_base_layer())


def plain_copy(merged, base):
    """`base` (the base SentenceTransformer, freshly loaded) with the weights of `merged` (the adapter merged in),
    its prompts and max length: a plain model that saves and loads as sentence-transformers does."""
    base[0].auto_model.load_state_dict(merged[0].auto_model.state_dict(), strict=True)
    for theirs, ours in zip(list(merged)[1:], list(base)[1:]):
        ours.load_state_dict(theirs.state_dict(), strict=True)
    base.prompts, base.max_seq_length = dict(merged.prompts or {}), merged.max_seq_length
    return base


def adapter_proof(adapter_model, base_model, merged_model, texts: list[str], batch_size: int = 32) -> dict[str, float]:
    """Base vs adapter vs merged embeddings of `texts`: merged must equal adapter to `MERGED_TOLERANCE` and the
    adapter must differ from the base; either failure is an error."""
    def embed(model) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                       show_progress_bar=False), dtype=np.float64)

    adapter, base, merged = embed(adapter_model), embed(base_model), embed(merged_model)
    proof = {"texts": len(texts), "merged_vs_adapter_max_abs": float(np.abs(merged - adapter).max()),
             "adapter_vs_base_max_abs": float(np.abs(adapter - base).max()), "merged_bound": MERGED_TOLERANCE}
    if proof["merged_vs_adapter_max_abs"] > MERGED_TOLERANCE:
        raise EmbedlabError(f"LoRA: the merged model differs from the adapter model by "
                            f"{proof['merged_vs_adapter_max_abs']:.2e} (> {MERGED_TOLERANCE:g}) on {len(texts)} "
                            "held-out texts: best/ would not be the model that was scored")
    if proof["adapter_vs_base_max_abs"] < CHANGED_AT_LEAST:
        raise EmbedlabError("LoRA: the trained adapter gives the base model's embeddings on "
                            f"{len(texts)} held-out texts (max difference {proof['adapter_vs_base_max_abs']:.1e})")
    return proof
