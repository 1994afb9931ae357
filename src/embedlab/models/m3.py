"""bge-m3 through FlagEmbedding's `BGEM3FlagModel` (`m3:PATH|ID#OUTPUTS`): dense, sparse (lexical weights) and
ColBERT outputs of ONE forward pass per text.

`m3:X#dense` is a dense `Encoder` (usable wherever one is: mining, `sweep --dims`, Ray), `m3:X#sparse` a
`SparseEncoder`, `m3:X#colbert` a `MultiVectorEncoder` (mean MaxSim, as FlagEmbedding scores it), and two or more
joined by `+` (`m3:X#dense+sparse+colbert`) a `MultiOutputEncoder` whose outputs all come from the same pass and
are fused as `compute_score` does: (w_dense s_dense + w_sparse s_sparse + w_colbert s_colbert) / sum(w), weights
`--weights` (default 0.4, 0.2, 0.4, the BGE-M3 paper's). Every output is cached under one key per (model, output,
kind), whichever spelling computed it. A bare `m3:X` is `#dense+sparse+colbert`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError, ModelError, require
from embedlab.models.base import (
    Encoder,
    Kind,
    Model,
    ModelOptions,
    MultiOutputEncoder,
    MultiVectorEncoder,
    SparseEncoder,
    fingerprint,
)
from embedlab.models.hybrid import weight_grid
from embedlab.models.sentence_transformers import model_revision, pick_device

OUTPUTS = ("dense", "sparse", "colbert")
DEFAULT_WEIGHTS = (0.4, 0.2, 0.4)  # dense, sparse, colbert: BGE-M3's compute_score weights
_RETURN = {"dense": "return_dense", "sparse": "return_sparse", "colbert": "return_colbert_vecs"}


def parse_outputs(name: str) -> tuple[str, tuple[str, ...]]:
    """'PATH#sparse+dense' -> ('PATH', ('dense', 'sparse')) in canonical order; no '#': all three."""
    path, _, wanted = name.rpartition("#") if "#" in name else (name, "", "+".join(OUTPUTS))
    parts = [p.strip() for p in wanted.split("+")]
    unknown = [p for p in parts if p not in OUTPUTS]
    if not path or unknown or not parts:
        raise EmbedlabError(f"m3:{name}: give m3:PATH#OUTPUTS with OUTPUTS one or more of {', '.join(OUTPUTS)} "
                            "joined by + (m3:BAAI/bge-m3#dense+sparse+colbert)")
    return path, tuple(o for o in OUTPUTS if o in parts)


class M3Backbone:
    """One loaded bge-m3 (weights, tokenizer, sparse_linear and colbert_linear heads), shared by its outputs."""

    def __init__(self, spec: str, options: ModelOptions) -> None:
        flag = require("FlagEmbedding", "bge-m3 (m3:)")
        self.spec, self.options = spec, options
        self.device = pick_device(options.device)
        try:
            self.flag = flag.BGEM3FlagModel(spec, use_fp16=self.device.startswith("cuda"), devices=self.device,
                                            query_instruction_for_retrieval=options.query_instruction or None)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load bge-m3 '{spec}': {str(exc).splitlines()[0][:300]}") from None
        # bge-m3 reads 8192 tokens; a model of another tokenizer no more than its own limit
        self.max_length = options.max_length or min(8192, int(self.flag.tokenizer.model_max_length))
        self.flag.query_max_length = self.flag.passage_max_length = self.max_length
        self.vocab_size = int(self.flag.model.vocab_size)
        self.revision = model_revision(spec)
        self.passes = 0

    def key(self, output: str, kind: Kind) -> str:
        heads = fingerprint(self.flag.model.sentence_pooling_method, self.flag.model.normalize_embeddings)
        prefix = self.options.query_instruction or "" if kind == "query" else ""
        return f"m3|{self.spec}|rev={self.revision}|max_length={self.max_length}|heads={heads}|output={output}|" \
               f"{kind}|prefix={prefix!r}"

    def encode(self, texts: list[str], kind: Kind, outputs: tuple[str, ...]) -> dict[str, Any]:
        """One forward pass over `texts` giving each of `outputs`."""
        encode = self.flag.encode_queries if kind == "query" else self.flag.encode_corpus
        flags = {flag: name in outputs for name, flag in _RETURN.items()}
        # a batch size above the texts' count keeps FlagEmbedding's own progress bars off
        raw = encode(list(texts), batch_size=len(texts) + 1, **flags)
        self.passes += len(texts)
        out: dict[str, Any] = {}
        if "dense" in outputs:
            out["dense"] = np.asarray(raw["dense_vecs"], dtype=np.float32)
        if "sparse" in outputs:
            out["sparse"] = lexical_to_csr(raw["lexical_weights"], self.vocab_size)
        if "colbert" in outputs:
            out["colbert"] = [np.asarray(block, dtype=np.float32) for block in raw["colbert_vecs"]]
        return out

    def count_tokens(self, texts: list[str]) -> int:
        ids = self.flag.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        return sum(len(i) for i in ids)


def lexical_to_csr(weights: list[dict[str, float]], vocab_size: int):
    """FlagEmbedding's lexical weights ({token id: weight} per text) as float32 CSR rows."""
    sparse = require("scipy.sparse", "bge-m3's sparse output")
    lengths = [len(w) for w in weights]
    terms = np.fromiter((int(t) for w in weights for t in w), dtype=np.int32, count=sum(lengths))
    values = np.fromiter((float(v) for w in weights for v in w.values()), dtype=np.float32, count=sum(lengths))
    rows = sparse.csr_matrix((values, terms, np.concatenate([[0], np.cumsum(lengths)])), shape=(len(weights), vocab_size))
    rows.sort_indices()
    return rows


class _M3Part:
    """What every bge-m3 spelling shares: the backbone, its name, prompts, tokens, provenance."""

    output = ""
    sweep = False
    options_read = frozenset({"query_instruction", "max_length", "device", "weights", "index"})

    def __init__(self, backbone: M3Backbone, outputs: tuple[str, ...], weights: tuple[float, ...] = ()) -> None:
        self.backbone, self.outputs, self.weights = backbone, outputs, weights
        self.name = f"m3:{backbone.spec}#{'+'.join(outputs)}"

    @property
    def instructions(self) -> dict[Kind, str]:
        return {"query": self.backbone.options.query_instruction or "", "document": ""}

    def cache_key(self, kind: Kind) -> str:
        return self.backbone.key(self.output, kind)

    def count_tokens(self, texts: list[str]) -> int:
        return self.backbone.count_tokens(texts)

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "backend": "FlagEmbedding BGEM3FlagModel", "path": self.backbone.spec,
                "revision": self.backbone.revision, "max_length": self.backbone.max_length,
                "device": self.backbone.device, "vocab_size": self.backbone.vocab_size}

    def close(self) -> None:
        self.backbone.flag = None


class M3Dense(_M3Part, Encoder):
    output = "dense"

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        return self.backbone.encode(texts, kind, ("dense",))["dense"]


class M3Sparse(_M3Part, SparseEncoder):
    output = "sparse"

    def encode_sparse(self, texts: list[str], kind: Kind = "document"):
        return self.backbone.encode(texts, kind, ("sparse",))["sparse"]


class M3ColBERT(_M3Part, MultiVectorEncoder):
    output = "colbert"
    mean_over_query_tokens = True  # FlagEmbedding divides the sum by the query's token count

    def encode_tokens(self, texts: list[str], kind: Kind = "document") -> list[np.ndarray]:
        return self.backbone.encode(texts, kind, ("colbert",))["colbert"]


class M3Fused(_M3Part, MultiOutputEncoder):
    """Two or more outputs of one pass, scored together (`weights`: one per output, in `outputs` order)."""

    def sweep_weights(self) -> list[tuple[float, ...]] | None:
        return weight_grid(len(self.outputs)) if self.sweep else None

    def encode_outputs(self, texts: list[str], kind: Kind = "document") -> dict[str, Any]:
        return self.backbone.encode(texts, kind, self.outputs)

    def output_key(self, output: str, kind: Kind) -> str:
        return self.backbone.key(output, kind)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "outputs": list(self.outputs), "weights": list(self.weights)}


_VIEWS = {"dense": M3Dense, "sparse": M3Sparse, "colbert": M3ColBERT}


class BGEM3(Model):
    """`m3:PATH|ID#OUTPUTS`: picks the kind the outputs make (`from_spec`)."""

    gives = M3Fused.gives
    requires = ("torch", "FlagEmbedding", "scipy.sparse")

    @classmethod
    def check_name(cls, name: str) -> None:
        parse_outputs(name)

    @classmethod
    def options_read_by(cls, spec: str) -> frozenset[str]:
        outputs = parse_outputs(spec)[1]
        read = {"query_instruction", "max_length", "device"}
        read |= {"weights"} if len(outputs) > 1 else {"index"} if outputs[0] in ("dense", "colbert") else set()
        return frozenset(read)

    @classmethod
    def sweeps(cls, spec: str, options: ModelOptions) -> bool:
        return len(parse_outputs(spec)[1]) > 1 and options.weights == "sweep"

    @classmethod
    def from_spec(cls, name: str, options: ModelOptions) -> Model:
        path, outputs = parse_outputs(name)
        weights = fused_weights(outputs, options.weights)
        kind = _VIEWS[outputs[0]] if len(outputs) == 1 else M3Fused
        model = kind(M3Backbone(path, options), outputs, weights)
        model.sweep = len(outputs) > 1 and options.weights == "sweep"  # `--weights sweep`: scorers.m3.M3Scorer.sweep
        return model


def fused_weights(outputs: tuple[str, ...], given: str | tuple[float, ...] | None) -> tuple[float, ...]:
    """One weight per output: as given ("0.4,0.2,0.4"), else the outputs' share of (0.4, 0.2, 0.4)."""
    if given is None or given == "sweep":
        return tuple(DEFAULT_WEIGHTS[OUTPUTS.index(o)] for o in outputs)
    values = tuple(float(w) for w in (given.split(",") if isinstance(given, str) else given))
    if len(values) != len(outputs) or any(w < 0 for w in values) or not sum(values):
        raise EmbedlabError(f"--weights {given}: give {len(outputs)} non-negative weights, one per output of "
                            f"{'+'.join(outputs)}, not all zero")
    return values
