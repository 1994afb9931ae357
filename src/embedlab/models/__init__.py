"""Embedding backends behind one interface, `encode(texts, kind) -> float32 array`."""

from embedlab.models.base import Encoder, Kind, describe
from embedlab.models.registry import ModelOptions, backends, load_encoder

__all__ = ["Encoder", "Kind", "ModelOptions", "backends", "describe", "load_encoder"]
