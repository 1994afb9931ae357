"""Fine-tuning on the sentence-transformers trainer, with every checkpoint evaluated by `evaluate`'s code."""

from embedlab.finetune.config import FinetuneConfig

__all__ = ["FinetuneConfig", "finetune"]


def finetune(*args, **kwargs):
    """See `embedlab.finetune.train.finetune` (imported lazily: it needs torch)."""
    from embedlab.finetune.train import finetune as run

    return run(*args, **kwargs)
