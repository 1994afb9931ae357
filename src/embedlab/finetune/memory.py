"""Memory planner for contrastive fine-tuning, and a peak-memory meter.

Estimate (bytes) = weights + gradients + AdamW state (2 moments, fp32) + activations kept for backward.
Activations per encoder layer for one sequence of s tokens follow Korthikanti et al. 2022
("Reducing Activation Recomputation in Large Transformer Models", eq. 2):
s * h * (34 + 5 * a * s / h) bytes in 16-bit (x2 in fp32), h = hidden size, a = attention heads
(tested against the tensors autograd really saves: within 12%).
- plain in-batch loss: every sequence of the step (B queries + B * group_size passages) at once;
- GradCache (CachedMultipleNegativesRankingLoss): one mini-batch of sequences at a time, plus the
  cached embeddings of the whole batch;
- gradient checkpointing: per layer only its input (s * h), plus one layer's full activations;
- backward workspace: the gradients of one layer's activations for the sequences in flight.
Every text is assumed at its max length. Measured on CPU (bench/RESULTS.md), the process peak was
0.95-1.3x the estimate: shorter texts need less, allocator and library overhead adds some.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

GIB = 1024 ** 3


def gib(n: float) -> str:
    """Bytes as GiB with two decimals (the unit every memory message uses)."""
    return f"{n / GIB:.2f}"


@dataclass(frozen=True)
class ModelShape:
    parameters: int
    hidden: int
    layers: int
    heads: int
    dimension: int

    @classmethod
    def of(cls, model) -> ModelShape:
        """Shape of a SentenceTransformer whose first module wraps a Hugging Face encoder."""
        config = model[0].auto_model.config
        get_dimension = getattr(model, "get_embedding_dimension", None) or \
            model.get_sentence_embedding_dimension
        return cls(parameters=sum(p.numel() for p in model.parameters()),
                   hidden=config.hidden_size, layers=config.num_hidden_layers,
                   heads=config.num_attention_heads,
                   dimension=int(get_dimension() or config.hidden_size))


@dataclass
class MemoryPlan:
    mode: str  # "plain" or "gradcache"
    batch_size: int
    mini_batch_size: int | None
    weights: int
    gradients: int
    optimizer: int
    activations: int
    total: int
    available: int | None
    device: str

    @property
    def fits(self) -> bool:
        return self.available is None or self.total <= 0.9 * self.available

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fits": self.fits}

    def describe(self) -> str:
        chunk = f", mini-batch {self.mini_batch_size}" if self.mode == "gradcache" else ""
        room = f" of {gib(self.available)} GiB available" if self.available is not None else ""
        verdict = "fits" if self.fits else "does NOT fit"
        return (f"{self.mode} batch {self.batch_size}{chunk}: ~{gib(self.total)} GiB estimated "
                f"(weights {gib(self.weights)} GiB, grads {gib(self.gradients)} GiB, AdamW "
                f"{gib(self.optimizer)} GiB, activations {gib(self.activations)} GiB){room} on "
                f"{self.device}: {verdict}")


def layer_bytes(shape: ModelShape, tokens: int, dtype_bytes: int = 4) -> float:
    """Activations one encoder layer keeps for backward, for one sequence (Korthikanti et al. eq. 2)."""
    return tokens * shape.hidden * (34 + 5 * shape.heads * tokens / shape.hidden) * dtype_bytes / 2


def activation_bytes(shape: ModelShape, tokens: int, *, dtype_bytes: int = 4,
                     checkpointing: bool = False) -> int:
    """Activations kept for backward by one sequence of `tokens` tokens."""
    per_layer = layer_bytes(shape, tokens, dtype_bytes)
    embeddings = 4 * tokens * shape.hidden * dtype_bytes  # embedding sum, layer norm, dropout
    if checkpointing:
        return int(shape.layers * tokens * shape.hidden * dtype_bytes + per_layer + embeddings)
    return int(shape.layers * per_layer + embeddings)


def plan(shape: ModelShape, *, batch_size: int, group_size: int, query_length: int,
         passage_length: int, mini_batch_size: int | None = None, dtype_bytes: int = 4,
         checkpointing: bool = False, device: str = "cpu", available: int | None = None) -> MemoryPlan:
    """Peak training memory for one optimizer step (see the module docstring)."""
    weight_bytes = shape.parameters * 4  # master weights stay fp32 under mixed precision
    gradients = shape.parameters * 4
    optimizer = shape.parameters * 8
    per_query = activation_bytes(shape, query_length, dtype_bytes=dtype_bytes, checkpointing=checkpointing)
    per_passage = activation_bytes(shape, passage_length, dtype_bytes=dtype_bytes,
                                   checkpointing=checkpointing)
    layer_query, layer_passage = (layer_bytes(shape, n, dtype_bytes) for n in (query_length, passage_length))
    if mini_batch_size and mini_batch_size < batch_size:
        cached = batch_size * (1 + group_size) * shape.dimension * 4 * 2  # embeddings + their grads
        activations = mini_batch_size * (max(per_query, per_passage) + max(layer_query, layer_passage)) \
            + cached
        mode = "gradcache"
    else:
        activations = batch_size * (per_query + layer_query) \
            + batch_size * group_size * (per_passage + layer_passage)
        mode, mini_batch_size = "plain", None
    activations = int(activations)
    total = weight_bytes + gradients + optimizer + activations
    return MemoryPlan(mode, batch_size, mini_batch_size, weight_bytes, gradients, optimizer,
                      activations, total, available, device)


def available_memory(device: str) -> int | None:
    """Free memory on the device (CUDA: free device memory; CPU: available system RAM)."""
    if device.startswith("cuda"):
        import torch

        index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
        return int(torch.cuda.mem_get_info(index)[0])
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        return None


def choose_mini_batch(fit, batch_size: int) -> int | None:
    """Largest power-of-two mini-batch (< batch_size) for which `fit(mini_batch)` is True."""
    size = 1
    while size * 2 < batch_size:
        size *= 2
    while size >= 1:
        if fit(size):
            return size
        size //= 2
    return None


class PeakMemory:
    """Peak memory while the block runs: CUDA max allocated, or on CPU the process RSS sampled every
    20 ms (the training process, including what was loaded before)."""

    def __init__(self, device: str = "cpu", interval: float = 0.02) -> None:
        self.device, self.interval = device, interval
        self.peak = 0
        self.start = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.reset_peak_memory_stats()
            self.start = int(torch.cuda.memory_allocated())
            return self
        self.start = self.peak = _rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(self.interval)

    def __exit__(self, *exc) -> None:
        if self.device.startswith("cuda"):
            import torch

            self.peak = int(torch.cuda.max_memory_allocated())
            return
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> int:
    try:
        import psutil
    except ImportError:  # Linux without psutil
        with open(f"/proc/{os.getpid()}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return int(psutil.Process().memory_info().rss)
