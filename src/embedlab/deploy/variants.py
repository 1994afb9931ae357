"""The variants of a deployment sweep: (dimensions, precision, index, query prompt), parsed and checked.

A variant may also run the model on another backend (`encoder`: `deploy.encoders`, `sweep --backend`): its texts
encoded again, at its own full width, float32, exact search.

`--precision` takes float32, float16, int8, binary, and `int8+rescore` / `binary+rescore`: the top
`rescore_depth` candidates of the quantized search scored again with the float query against the stored
vectors, as sentence-transformers' `semantic_search_*(rescore=True)` does. Indexes (`search.names`): `exact` (the
exact search of `eval`), `flat`, `hnsw` and `ivf` (faiss), `usearch` (its HNSW).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from embedlab.deploy.precision import BYTES_PER_DIM
from embedlab.errors import EmbedlabError, UnknownNameError
from embedlab.search.names import INDEXES, RENAMED

PRECISIONS = ("float32", "float16", "int8", "int8+rescore", "binary", "binary+rescore")
DEFAULT_PRECISIONS = ("float32", "int8", "binary")  # what `sweep` tries when --precision is not given
# what each index (`search.names.INDEXES`) can hold: faiss quantizes int8 its own way (not sentence-transformers'),
# so its indexes take none
TAKES = {"exact": {"float32", "float16", "int8", "binary"}, "flat": {"float32", "float16", "binary"},
         "hnsw": {"float32", "float16", "binary"}, "ivf": {"float32", "float16", "binary"},
         "usearch": {"float32", "float16", "int8", "binary"}}
CONFIGURED = "configured"  # the query prompt the model itself configures (what `eval` uses)
NO_PROMPT = ""
TORCH = "torch"  # the encoder of the baseline and of every vector variant


@dataclass(frozen=True)
class Variant:
    dimension: int
    precision: str  # one of PRECISIONS
    index: str = "exact"
    prompt: str = CONFIGURED  # CONFIGURED, NO_PROMPT ("") or a query instruction
    encoder: str = TORCH  # the backend that encodes the texts: torch, onnx, onnx-int8, ..., static

    @property
    def stored_precision(self) -> str:
        return self.precision.removesuffix("+rescore")

    @property
    def rescore(self) -> bool:
        return self.precision.endswith("+rescore")

    @property
    def bytes_per_vector(self) -> float:
        return self.dimension * BYTES_PER_DIM[self.stored_precision]

    def label(self) -> str:
        prompt = "" if self.prompt == CONFIGURED else " prompt:" + (repr(self.prompt) if self.prompt else "none")
        encoder = "" if self.encoder == TORCH else f" backend:{self.encoder}"
        return f"@{self.dimension} {self.precision} {self.index}{prompt}{encoder}"

    def as_dict(self) -> dict:
        return {**asdict(self), "bytes_per_vector": self.bytes_per_vector}


def parse_dims(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(dict.fromkeys(int(d) for d in text.replace(" ", "").split(",") if d))
    except ValueError:
        raise EmbedlabError(f"--dims '{text}': give dimensions as numbers, e.g. 1024,512,256") from None
    if not dims or min(dims) < 1:
        raise EmbedlabError(f"--dims '{text}': give one or more dimensions of 1 or more, e.g. 1024,512,256")
    return dims


def _names(text: str, known: tuple[str, ...], kind: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    for name in names:
        if name not in known:
            raise UnknownNameError(kind, name, known)
    if not names:
        raise EmbedlabError(f"no {kind} given (known: {', '.join(known)})")
    return names


def parse_precisions(text: str) -> tuple[str, ...]:
    return _names(text, PRECISIONS, "precision")


def parse_indexes(text: str) -> tuple[str, ...]:
    return _names(",".join(RENAMED.get(n.strip(), n.strip()) for n in text.split(",")), INDEXES, "index")


def grid(model: str, full: int, dims: tuple[int, ...], precisions: tuple[str, ...], indexes: tuple[str, ...]
         ) -> tuple[list[Variant], list[str]]:
    """Every (dimension, precision, index) an index can take, the baseline (full width, float32, exact) first,
    and a note per pair left out. A dimension above the model's, or a precision given that no index given takes, is
    one line of error; a default precision no index takes is left out with a note."""
    for dim in dims:
        if dim > full:
            raise EmbedlabError(f"--dims {dim} is more than the {full} dimensions of {model}: give dimensions "
                                f"up to {full}")
    notes, held = [], []
    for precision in precisions:
        stored = precision.removesuffix("+rescore")
        if any(stored in TAKES[index] for index in indexes):
            held.append(precision)
            continue
        takers = " or ".join(i for i in INDEXES if stored in TAKES[i])
        if precisions != DEFAULT_PRECISIONS:
            raise EmbedlabError(f"--precision {precision}: no --index given can hold {stored} vectors "
                                f"({', '.join(indexes)}); {takers} can")
        notes.append(f"{precision} (a default --precision) left out: no --index given ({', '.join(indexes)}) can "
                     f"hold {stored} vectors; {takers} can")  # not blamed on an option that was not given
    variants = [Variant(full, "float32", "exact")]  # the baseline
    for index in indexes:
        for precision in held:
            if precision.removesuffix("+rescore") not in TAKES[index]:
                notes.append(f"{precision} × {index} left out: {index} cannot hold "
                             f"{precision.removesuffix('+rescore')} vectors")
                continue
            variants += [Variant(d, precision, index) for d in sorted(dims, reverse=True)]
    return list(dict.fromkeys(variants)), notes
