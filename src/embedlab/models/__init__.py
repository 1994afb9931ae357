"""Model backends behind one contract each (models/base.py): Encoder, Ranker, PairScorer."""

from embedlab.models.base import Encoder, Kind, Model, ModelOptions, PairScorer, Ranker, as_model
from embedlab.models.registry import backend_class, backends, load_model

__all__ = ["Encoder", "Kind", "Model", "ModelOptions", "PairScorer", "Ranker", "as_model", "backend_class",
           "backends", "load_model"]
