"""The one interface every embedding backend implements."""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

Kind = Literal["query", "document"]


@runtime_checkable
class Encoder(Protocol):
    """A backend: `encode` is the one required method; batching, dedup and checks live in `embed.py`."""

    name: str

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        """float32 array (len(texts), dimension)."""
        ...


def describe(encoder: Encoder) -> dict[str, Any]:
    """Provenance of a model for results files (backends may add an `info()` method)."""
    info = {"name": encoder.name, "backend": type(encoder).__name__}
    extra = getattr(encoder, "info", None)
    if callable(extra):
        info.update(extra())
    return info
