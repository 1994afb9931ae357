"""Memory planner for contrastive fine-tuning (full or LoRA), and a peak-memory meter.

Estimate (bytes) = the process (CPU: what it holds before training, the model included; CUDA: its context)
+ weights + gradients and AdamW state (2 fp32 moments) of the trainable parameters + the activations kept for
backward + a backward workspace. Activations are counted per tensor autograd keeps (`layer_bytes`), per kind of
layer (`shape.py`: "encoder" = BERT-like, "decoder" = Qwen/Llama-like), tested against the tensors a training
forward pass really saves (tests/finetune/test_memory.py) and the peak against measured CPU peaks:
- full fine-tuning keeps every linear layer's input; LoRA keeps only the inputs of the layers it adapts (their
  dropout's output and mask when `lora_dropout` > 0, and the rank-r projection), frozen layers keep none;
- the s x s attention probabilities are kept only where the kernel materialises them: on CPU with attention
  dropout (the math kernel, BERT-like models in training); flash kernels (CUDA, and CPU without dropout) keep the
  output and a log-sum-exp instead;
- plain in-batch loss: every sequence of the step (B queries + B * group_size passages) at once; GradCache
  (CachedMultipleNegativesRankingLoss): one mini-batch of sequences at a time, plus the cached embeddings;
- gradient checkpointing: per layer only its input, plus one layer's activations recomputed in backward;
- backward workspace: the gradients of one layer's activations for the sequences in flight.
Every text is assumed at its max length (an upper bound: a batch is padded to its longest text).

On CPU the measure is the process RSS. glibc's malloc keeps freed activation memory in its heap (RSS grew to
1.5x the live tensors by the second step on MiniLM, bench/RESULTS.md section 6), so CPU training sets a fixed
mmap threshold (`release_freed_memory`): tensors of 1 MiB and more go back to the system when freed.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from embedlab.finetune.shape import Linear, ModelShape

__all__ = ["Adapter", "MemoryPlan", "ModelShape", "PeakMemory", "activation_bytes", "available_memory",
           "choose_mini_batch", "gib", "layer_bytes", "plan", "release_freed_memory"]

GIB = 1024 ** 3
CUDA_CONTEXT = GIB // 2  # what CUDA and its kernels take on a GPU before any tensor (about 0.3-0.5 GiB)
MMAP_THRESHOLD = 1024 ** 2


def gib(n: float) -> str:
    """Bytes as GiB with two decimals (the unit every memory message uses)."""
    return f"{n / GIB:.2f}"


@dataclass(frozen=True)
class Adapter:
    """LoRA as the planner sees it: rank, dropout, and the linear layers (names inside a layer) it adapts."""

    rank: int
    dropout: float
    targets: frozenset[str]

    def trainable(self, shape: ModelShape) -> int:
        per_layer = sum(self.rank * (lin.in_features + lin.out_features)
                        for lin in linears_of(shape) if lin.name in self.targets)
        return per_layer * shape.layers


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
    process: int = 0  # CPU: the process before training besides the weights; CUDA: the context
    trainable: int = 0
    parameters: int = 0
    adapter: str | None = None  # "LoRA r=16 on 4 layers" when training an adapter
    checkpointing: bool = False
    processes: int = 1  # the batch and the figures are per process

    @property
    def fits(self) -> bool:
        return self.available is None or self.total <= 0.9 * self.available

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fits": self.fits}

    def describe(self) -> str:
        chunk = f", mini-batch {self.mini_batch_size}" if self.mode == "gradcache" else ""
        what = f"{self.adapter}, " if self.adapter else ""
        ckpt = " + gradient checkpointing" if self.checkpointing else ""
        room = f" of {gib(self.available)} GiB available" if self.available is not None else ""
        verdict = "fits" if self.fits else "does NOT fit"
        process = "CUDA context" if self.device.startswith("cuda") else "process"
        per = f" per process of {self.processes}" if self.processes > 1 else ""
        return (f"{what}{self.mode} batch {self.batch_size}{per}{chunk}{ckpt}: ~{gib(self.total)} GiB estimated "
                f"({process} {gib(self.process)}, weights {gib(self.weights)}, grads {gib(self.gradients)}, AdamW "
                f"{gib(self.optimizer)}, activations {gib(self.activations)} GiB; {self.trainable:,} of "
                f"{self.parameters:,} parameters trained){room} on {self.device}: {verdict}")


def linears_of(shape: ModelShape) -> tuple[Linear, ...]:
    """The shape's linear layers, or the standard ones of its kind when it does not list them."""
    if shape.linears:
        return shape.linears
    h, i, q, kv = shape.hidden, shape.mlp_width, shape.heads * shape.head_width, \
        (shape.kv_heads or shape.heads) * shape.head_width
    if shape.family == "decoder":
        return (Linear("self_attn.q_proj", h, q), Linear("self_attn.k_proj", h, kv), Linear("self_attn.v_proj", h, kv),
                Linear("self_attn.o_proj", q, h), Linear("mlp.gate_proj", h, i), Linear("mlp.up_proj", h, i),
                Linear("mlp.down_proj", i, h))
    return (Linear("attention.self.query", h, q), Linear("attention.self.key", h, kv),
            Linear("attention.self.value", h, kv), Linear("attention.output.dense", q, h),
            Linear("intermediate.dense", h, i), Linear("output.dense", i, h))


def _input_bytes(shape: ModelShape, tokens: int, e: int, adapter: Adapter | None) -> float:
    """The linear layers' inputs kept for backward (full: each distinct input once; LoRA: see the docstring)."""
    total, seen = 0.0, set()
    for lin in linears_of(shape):
        if adapter is None:
            if lin.group not in seen:
                seen.add(lin.group)
                total += e * tokens * lin.in_features
        elif lin.name in adapter.targets:
            if adapter.dropout > 0:
                total += 2 * e * tokens * lin.in_features  # the dropout's mask and output
            elif lin.group not in seen:
                seen.add(lin.group)
                total += e * tokens * lin.in_features
            total += e * tokens * adapter.rank
    return total


def layer_bytes(shape: ModelShape, tokens: int, dtype_bytes: int = 4, *, adapter: Adapter | None = None,
                attention_matrix: bool | None = None) -> float:
    """Activations one transformer layer keeps for backward, for one sequence of `tokens` tokens.
    `attention_matrix`: whether the attention kernel keeps the s x s probabilities (default: as on CPU)."""
    e, s = dtype_bytes, tokens
    q, kv = s * shape.heads * shape.head_width, s * (shape.kv_heads or shape.heads) * shape.head_width
    if attention_matrix is None:
        attention_matrix = shape.dropout > 0
    dropout = shape.dropout > 0
    if attention_matrix:  # softmax output (+ dropout mask and output): q and k for QK^T, v for probs @ V
        attention = e * (q + 2 * kv) + (3 if dropout else 1) * e * shape.heads * s * s
    else:  # flash: q, k, v, the output and the log-sum-exp
        attention = e * (2 * q + 2 * kv) + 4 * shape.heads * s
    if shape.family == "decoder":  # RMSNorms in fp32: their input, and (weights trained) the normalised input;
        norm = 4 if adapter is not None else 8  # SiLU's input and output, up's output
        rest = 2 * norm * s * shape.hidden + 3 * e * s * shape.mlp_width + (norm * (q + kv) if shape.qk_norm else 0)
    else:  # 2 LayerNorm inputs, GELU input, 2 hidden dropout masks
        rest = 2 * e * s * shape.hidden + e * s * shape.mlp_width + (2 * e * s * shape.hidden if dropout else 0)
    return attention + rest + _input_bytes(shape, s, e, adapter)


def activation_bytes(shape: ModelShape, tokens: int, *, dtype_bytes: int = 4, checkpointing: bool = False,
                     adapter: Adapter | None = None, attention_matrix: bool | None = None) -> int:
    """Activations kept for backward by one sequence of `tokens` tokens (every layer, embeddings, final norm)."""
    per_layer = layer_bytes(shape, tokens, dtype_bytes, adapter=adapter, attention_matrix=attention_matrix)
    around = (8 + dtype_bytes if shape.family == "decoder" else 3 * dtype_bytes) * tokens * shape.hidden
    if checkpointing:
        return int(shape.layers * tokens * shape.hidden * dtype_bytes + per_layer + around)
    return int(shape.layers * per_layer + around)


def plan(shape: ModelShape, *, batch_size: int, group_size: int, query_length: int, passage_length: int,
         mini_batch_size: int | None = None, dtype_bytes: int = 4, checkpointing: bool = False,
         device: str = "cpu", available: int | None = None, adapter: Adapter | None = None,
         process_bytes: int = 0, world_size: int = 1, adapter_label: str | None = None) -> MemoryPlan:
    """Peak training memory of one process for one optimizer step (see the module docstring). `batch_size` is
    the queries of this process; `world_size` processes gather their embeddings (in-batch negatives across all)."""
    cuda = device.startswith("cuda")
    trainable = adapter.trainable(shape) if adapter else shape.parameters
    base_bytes = dtype_bytes if adapter and cuda else 4  # a frozen base is loaded in the training dtype on a GPU
    weights = shape.parameters * base_bytes + (trainable * 4 if adapter else 0)
    if cuda and dtype_bytes < 4 and not adapter:
        weights += shape.parameters * dtype_bytes  # autocast's 16-bit copy of the fp32 weights
    common = {"dtype_bytes": dtype_bytes, "checkpointing": checkpointing, "adapter": adapter,
              "attention_matrix": shape.dropout > 0 and not cuda}
    per_query, per_passage = (activation_bytes(shape, n, **common) for n in (query_length, passage_length))
    layer_q, layer_p = (layer_bytes(shape, n, dtype_bytes, adapter=adapter, attention_matrix=common["attention_matrix"])
                        for n in (query_length, passage_length))
    gathered = world_size * batch_size * (1 + group_size) * shape.dimension * 4 * 2  # embeddings + their grads
    if mini_batch_size and mini_batch_size < batch_size:
        activations = mini_batch_size * (max(per_query, per_passage) + max(layer_q, layer_p)) + gathered
        mode = "gradcache"
    else:
        activations = batch_size * (per_query + layer_q) + batch_size * group_size * (per_passage + layer_p) \
            + (gathered if world_size > 1 else 0)
        mode, mini_batch_size = "plain", None
    process = CUDA_CONTEXT if cuda else max(0, process_bytes - weights)
    total = int(process + weights + trainable * 12 + activations)
    return MemoryPlan(mode, batch_size, mini_batch_size, int(weights), trainable * 4, trainable * 8,
                      int(activations), total, available, device, int(process), trainable, shape.parameters,
                      adapter_label, checkpointing, world_size)


def with_available(memory: MemoryPlan, available: int | None) -> MemoryPlan:
    return replace(memory, available=available)


def release_freed_memory() -> bool:
    """On glibc (Linux), give blocks of 1 MiB and more back to the system when they are freed (a fixed mmap
    threshold): activations freed after backward leave the process instead of staying in malloc's heap, so the
    RSS follows the live tensors. True when set."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-3, MMAP_THRESHOLD))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def process_memory() -> int:
    """The resident memory of this process now (bytes)."""
    return _rss()


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
