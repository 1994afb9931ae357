"""`hybrid:A+B[+C]`: the rankings of two or more models fused into one, as mteb's `HybridSearch` fuses them.

A `Hybrid` only describes the combination: its sub-models (any embedlab models: encoders, rankers such as
BM25, pair scorers on reranking rows), the fusion (`rrf`, `dbsf`, `rsf`; see `search/fusion.py`), the weights
and the depth. `scorers.HybridScorer` runs each sub-model as it runs alone (encoders through the
`EmbeddingStore`, so caches and de-duplication apply) and fuses their outputs.

- Spec: sub-model names joined by `+`, each loaded by the registry with the same ModelOptions. A `+` that is
  part of a name is written `++`: `hybrid:./runs/a++b+bm25` fuses `./runs/a+b` and `bm25`.
- Weights: one per sub-model, used as given (mteb's way; only their ratios change a ranking); equal (1/n) by
  default. `"sweep"`: every weight of a grid (`weight_grid`), from one computation of each sub-model.
- Depth: each sub-model gives the fusion max(100, the evaluation depth) documents, as mteb's `HybridSearch`
  with `sub_model_top_k=None`; `fusion_depth=N` gives exactly N (a production hybrid fusing top-N lists;
  mteb's `sub_model_top_k=N` is `fusion_depth=max(N, depth)`). A reranking row's candidates are all fused
  (cut to N when N is given).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from typing import Any

from embedlab.errors import ModelError, UnknownNameError
from embedlab.models.base import Combination, Model, ModelOptions, as_model
from embedlab.models.names import short_name
from embedlab.models.registry import backend_class, backend_of, is_paid, load_model, name_part
from embedlab.search.names import DEFAULT_RRF_K, FUSIONS

MTEB_SUB_DEPTH = 100  # mteb's HybridSearch: each sub-model gives max(top_k, 100) documents


def split_spec(spec: str) -> list[str]:
    """`A+B` -> [A, B]; `++` is a `+` inside a name."""
    parts, current, i = [], "", 0
    while i < len(spec):
        if spec.startswith("++", i):
            current, i = current + "+", i + 2
        elif spec[i] == "+":
            parts, current, i = parts + [current], "", i + 1
        else:
            current, i = current + spec[i], i + 1
    return parts + [current]


def weight_grid(n: int) -> list[tuple[float, ...]]:
    """The weights `--weights sweep` tries: every split of 1 into `n` multiples of a step (0.1 for two or three
    models: 11 / 66 weights; 0.25 beyond, to keep the runs few), and the equal weights (1/n each)."""
    steps = 10 if n <= 3 else 4
    grid = [tuple(c / steps for c in combo) for combo in _compositions(steps, n)]
    equal = tuple(1 / n for _ in range(n))
    return grid if equal in grid else grid + [equal]


def _compositions(total: int, n: int):
    """Every n-tuple of non-negative integers summing to `total`, the first growing fastest from 0."""
    for cuts in itertools.combinations(range(total + n - 1), n - 1):
        bounds = (-1, *cuts, total + n - 1)
        yield tuple(b - a - 1 for a, b in zip(bounds, bounds[1:]))


MAX_WEIGHT = 1e6  # weights are relative; far larger ones only overflow the fused scores (1e308: every score inf)


def parse_weights(weights: str | Sequence[float] | None, n: int, spec: str) -> tuple[float, ...] | None:
    """One non-negative weight per sub-model, or None for a sweep; equal weights when none are given."""
    if weights is None:
        return tuple(1 / n for _ in range(n))
    if isinstance(weights, str) and weights.strip().lower() == "sweep":
        return None
    try:
        values = tuple(float(w) for w in (weights.split(",") if isinstance(weights, str) else weights))
    except ValueError:
        raise ModelError(f"--weights {weights!r}: give numbers separated by commas (0.7,0.3) or 'sweep'") from None
    if len(values) != n:
        raise ModelError(f"hybrid:{spec} fuses {n} models but --weights gives {len(values)} "
                         f"({','.join(f'{v:g}' for v in values)}): give one weight per model, in order")
    if not all(0 <= v <= MAX_WEIGHT for v in values) or not any(values):  # NaN is in no range
        raise ModelError(f"--weights {weights!r}: weights must be non-negative numbers up to {MAX_WEIGHT:g}, not all "
                         "0 (they are relative: 0.7,0.3 or 7,3)")
    return values


def check_settings(specs: Sequence[Any], spec: str, fusion: str, rrf_k: int, depth: int | None) -> None:
    """One clear line for each way a hybrid can be mis-specified."""
    if len(specs) < 2:
        raise ModelError(f"hybrid:{spec} names {len(specs)} model; a hybrid fuses two or more: hybrid:A+B "
                         "(a '+' inside a name is written '++')")
    for sub in specs:
        if isinstance(sub, str) and not sub.strip():
            raise ModelError(f"hybrid:{spec} has an empty model name; write hybrid:A+B (a '+' inside a name: '++')")
        if isinstance(sub, str) and backend_of(sub) == "hybrid":
            raise ModelError(f"hybrid:{spec}: a hybrid inside a hybrid is not supported; list all models in one "
                             "hybrid:A+B+C with --weights")
        if isinstance(sub, str):
            backend_class(sub)  # an unknown backend fails before any model loads
    if fusion not in FUSIONS:
        raise UnknownNameError("fusion", fusion, FUSIONS)
    if not isinstance(rrf_k, int) or isinstance(rrf_k, bool) or rrf_k < 0:
        raise ModelError(f"--rrf-k {rrf_k!r}: give a whole number >= 0 (default {DEFAULT_RRF_K})")
    if depth is not None and (not isinstance(depth, int) or depth < 1):
        raise ModelError(f"--fusion-depth {depth!r}: give a whole number >= 1")


class Hybrid(Combination):
    """Two or more models whose rankings are fused (see the module docstring)."""

    options_read = frozenset({"fusion", "rrf_k", "weights", "fusion_depth"})

    def __init__(self, spec: str | Sequence[Model | str], options: ModelOptions | None = None, *,
                 fusion: str | None = None, rrf_k: int | None = None,
                 weights: str | Sequence[float] | None = None, depth: int | None = None) -> None:
        options = options or ModelOptions()
        specs = split_spec(spec) if isinstance(spec, str) else list(spec)
        label = spec if isinstance(spec, str) else "+".join(s if isinstance(s, str) else as_model(s).name
                                                            for s in specs)
        self.fusion = fusion or options.fusion
        self.rrf_k = options.rrf_k if rrf_k is None else rrf_k
        self.depth = options.fusion_depth if depth is None else depth
        check_settings(specs, label, self.fusion, self.rrf_k, self.depth)
        given = options.weights if weights is None else weights
        self.weights = parse_weights(given, len(specs), label)
        self.sweep = self.weights is None
        self.explicit_weights = given is not None and not self.sweep
        if self.sweep:
            self.weights = parse_weights(None, len(specs), label)
        self.models: list[Model] = []
        self._owned: list[Model] = []
        try:
            for sub in specs:
                model = load_model(sub, options) if isinstance(sub, str) else as_model(sub)
                self.models.append(model)
                if isinstance(sub, str):
                    self._owned.append(model)
        except BaseException:
            self.close()
            raise
        self.paid = any(model.paid for model in self.models)
        self.name = self._name()

    @classmethod
    def paid_for(cls, spec: str, options: ModelOptions) -> bool:
        specs = split_spec(spec)
        check_settings(specs, spec, options.fusion, options.rrf_k, options.fusion_depth)
        parse_weights(options.weights, len(specs), spec)
        return any(is_paid(sub, options) for sub in specs)

    @classmethod
    def options_read_by(cls, spec: str) -> frozenset[str]:
        parts = [backend_class(sub).options_read_by(name_part(sub)) for sub in split_spec(spec) if sub.strip()]
        return cls.options_read.union(*parts)

    @classmethod
    def requires_for(cls, spec: str) -> tuple[str, ...]:
        parts = [backend_class(sub).requires_for(name_part(sub)) for sub in split_spec(spec) if sub.strip()]
        return tuple(dict.fromkeys(module for part in parts for module in part))

    def sweep_weights(self) -> list[tuple[float, ...]] | None:
        return weight_grid(len(self.models)) if self.sweep else None

    @classmethod
    def sweeps(cls, spec: str, options: ModelOptions) -> bool:
        return isinstance(options.weights, str) and options.weights.strip().lower() == "sweep"

    def _name(self, weights: bool = True) -> str:
        tags = [f"w={','.join(f'{w:.3g}' for w in self.weights)}"] if weights and self.explicit_weights else []
        tags += [f"k={self.rrf_k}"] if self.fusion == "rrf" and self.rrf_k != DEFAULT_RRF_K else []
        tags += [f"depth={self.depth}"] if self.depth is not None else []
        short = "+".join(short_name(model.name) for model in self.models)
        return f"hybrid-{self.fusion}{'(' + ' '.join(tags) + ')' if tags else ''}:{short}"

    def sub_depth(self, depth: int) -> int:
        """Documents each sub-model gives the fusion when the evaluation ranks `depth` (see the module docstring)."""
        return self.depth if self.depth is not None else max(depth, MTEB_SUB_DEPTH)

    def with_weights(self, weights: Sequence[float]) -> Hybrid:
        """The same sub-models fused with other weights (a point of a sweep; closing it closes nothing)."""
        variant = copy.copy(self)
        variant.weights, variant.explicit_weights, variant._owned = tuple(weights), True, []
        variant.name = variant._name()
        return variant

    def parts(self) -> list[Model]:
        return list(self.models)

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"name": self.name, "backend": type(self).__name__, "dimension": None,
                                "fusion": self.fusion}
        if self.fusion == "rrf":
            info["rrf_k"] = self.rrf_k
        info |= {"weights": list(self.weights), "fusion_depth": self.depth if self.depth is not None else
                 f"max({MTEB_SUB_DEPTH}, evaluation depth)", "models": [model.info() for model in self.models]}
        if self.sweep:
            info["sweep"] = {"of": self._name(weights=False), "weights": len(weight_grid(len(self.models)))}
        return info

    def status(self) -> str:
        return "; ".join(line for line in (model.status() for model in self.models) if line)

    def close(self) -> None:
        for model in self._owned:
            model.close()
        self._owned = []
