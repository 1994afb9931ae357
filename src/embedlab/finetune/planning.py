"""The memory plan a fine-tune prints before it trains (and alone, with `--plan`): the chosen configuration and its
alternatives (GradCache, gradient checkpointing, LoRA or full), whether each fits the device or a given GPU.

`--plan --gpu-memory 24GB` plans for a CUDA GPU of that size (16-bit activations, flash attention) from the model's
config alone (built on the meta device: no weights are read), so the plan of an 8B model runs anywhere. Every
figure is the planner's estimate (`memory.py`), labelled so; after training the measured peak is reported beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from embedlab.errors import EmbedlabError
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.memory import (
    GIB,
    Adapter,
    MemoryPlan,
    ModelShape,
    available_memory,
    choose_mini_batch,
    gib,
    plan,
    process_memory,
)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(gib|gb|g|mib|mb|m)?\s*$", re.IGNORECASE)
_UNITS = {"gib": GIB, "gb": 10 ** 9, "g": GIB, "mib": 1024 ** 2, "mb": 10 ** 6, "m": 1024 ** 2, None: GIB}


def parse_memory(text: str) -> int:
    """`24GB` (10^9 bytes), `24GiB` or `24G` or `24` (GiB), `512MiB`: bytes."""
    match = _SIZE.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise EmbedlabError(f"--gpu-memory '{text}': give a size such as 24GB, 80GiB or 24 (GiB)")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower() or None])


@dataclass
class Target:
    """Where the plan is for: a device, its free memory, the activations' bytes, the process besides weights."""

    device: str
    available: int | None
    dtype_bytes: int
    process: int = 0
    world_size: int = 1

    @classmethod
    def here(cls, device: str, dtype: str, world_size: int = 1) -> Target:
        return cls(device, available_memory(device), 2 if dtype != "fp32" else 4, process_memory(), world_size)


def plans(shape: ModelShape, config: FinetuneConfig, target: Target, adapter: Adapter | None,
          label: str | None) -> tuple[MemoryPlan, dict[str, MemoryPlan], int | None]:
    """The chosen configuration (GradCache only when the plain loss does not fit, with mini-batch "auto"), the
    alternatives, and the chosen mini-batch (None: the plain loss). A teacher's losses (MarginMSE, KL) have no
    GradCache variant: neither is offered."""
    per_process = max(1, config.batch_size // target.world_size)
    common = {"batch_size": per_process, "group_size": config.group_size, "query_length": config.query_max_length,
              "passage_length": config.passage_max_length, "dtype_bytes": target.dtype_bytes,
              "device": target.device, "available": target.available, "process_bytes": target.process,
              "world_size": target.world_size}

    def estimate(mini: int | None, checkpointing: bool = config.gradient_checkpointing, lora: bool = True):
        return plan(shape, mini_batch_size=mini, checkpointing=checkpointing, adapter=adapter if lora else None,
                    adapter_label=label if lora else None, **common)

    mini = None if config.teacher else config.mini_batch_size
    if mini == "auto":
        mini = None if estimate(None).fits else choose_mini_batch(lambda m: estimate(m).fits, per_process)
    mini = int(mini) if mini and int(mini) < per_process else None
    other = mini or min(32, max(1, per_process // 2))
    alternatives = {"plain": estimate(None, False), "gradcache": estimate(other, False),
                    "plain_checkpointing": estimate(None, True), "gradcache_checkpointing": estimate(other, True)}
    if config.teacher:
        alternatives = {name: p for name, p in alternatives.items() if not name.startswith("gradcache")}
    if adapter is not None:
        alternatives["full_fine_tune"] = estimate(mini, lora=False)
    return estimate(mini), alternatives, mini


def _name(name: str) -> str:
    return name.replace("_", " ") if name == "full_fine_tune" else name.replace("_", " + ")


def suggestion(shape: ModelShape, config: FinetuneConfig, target: Target, adapter: Adapter | None) -> str | None:
    """The settings that make this batch fit when the chosen ones do not: the largest GradCache mini-batch, without
    gradient checkpointing first (it costs ~30% more time), as options to type."""
    from dataclasses import replace

    per_process = max(1, config.batch_size // target.world_size)
    for checkpointing in (False, True):
        minis = [None] + ([] if config.teacher else
                          [2 ** k for k in range(per_process.bit_length(), -1, -1) if 2 ** k < per_process])
        for mini in minis:
            trial = replace(config, mini_batch_size=mini or 0, gradient_checkpointing=checkpointing)
            found = plans(shape, trial, target, adapter, None)[0]
            if found.fits:
                options = [*([] if config.teacher else [f"--mini-batch-size {mini or 0}"]),
                           *(["--gradient-checkpointing"] if checkpointing else [])]
                return f"  fits with {' '.join(options)}: ~{gib(found.total)} GiB" if options else None
    return None


def plan_text(chosen: MemoryPlan, alternatives: dict[str, MemoryPlan], mini_default: int | None) -> str:
    others = ", ".join(f"{_name(name)} {gib(p.total)}" for name, p in alternatives.items())
    fitting = [f"{_name(name)} ({gib(p.total)} GiB)" for name, p in alternatives.items() if p.fits]
    room = "" if chosen.available is None else f" in {gib(chosen.available)} GiB"
    verdict = (f"  fits{room}: {', '.join(fitting)}" if fitting else
               f"  none of these fits{room}")
    cached = f", GradCache mini-batch {mini_default}" if mini_default else ""
    return (f"memory plan (estimate): {chosen.describe()}\n"
            f"  alternatives (GiB{cached}): {others}\n{verdict}")


def memory_plan(shape: ModelShape, config: FinetuneConfig, target: Target, announce, *,
                adapter: Adapter | None = None, label: str | None = None) -> dict[str, Any]:
    """The plan announced (with a warning when it does not fit) and recorded: the chosen configuration, its
    alternatives and the loss it implies."""
    chosen, alternatives, mini = plans(shape, config, target, adapter, label)
    cached = alternatives.get("gradcache")
    text = plan_text(chosen, alternatives, (cached.mini_batch_size or 1) if cached else None)
    if not chosen.fits:
        text += "\n" + (suggestion(shape, config, target, adapter)
                        or ("  gradient checkpointing does not make this batch fit" if config.teacher
                            else "  no GradCache mini-batch or checkpointing makes this batch fit"))
    announce(text)
    if not chosen.fits:
        announce("warning: the estimate is above the free memory; lower --batch-size, set "
                 + ("" if config.teacher else "--mini-batch-size, ")
                 + "--gradient-checkpointing or --lora (the estimate assumes every text at max length)")
    return {
        **{name: p.as_dict() for name, p in alternatives.items()},
        "chosen": {**chosen.as_dict(), "loss": "CachedMultipleNegativesRankingLoss" if mini
                   else "MultipleNegativesRankingLoss"},
        "mini_batch_size": mini,
        "text": text,
        "estimate": "planner estimate (texts at max length), not a measurement",
    }


def plan_only(spec: str, config: FinetuneConfig, *, gpu_memory: int | None, announce) -> dict[str, Any]:
    """`finetune --plan`: the memory plan of `spec` from its config, for a GPU of `gpu_memory` bytes (16-bit, flash
    attention) or for this machine; nothing is trained or written."""
    from embedlab.finetune.lora import target_layers

    shape = ModelShape.from_config(spec)
    adapter, label = None, None
    if config.lora is not None:
        targets = target_layers(config.lora, shape)
        adapter = Adapter(config.lora.r, config.lora.dropout, frozenset(targets))
        label = config.lora.label(len(targets))
    world = config.nproc or 1
    if gpu_memory is not None:
        dtype = 4 if config.dtype == "fp32" else 2
        target = Target("cuda", gpu_memory, dtype, 0, world)
        where = f"a {gib(gpu_memory)} GiB CUDA GPU (no GPU was used: an estimate)"
    else:
        target = Target.here("cpu", "fp32", world)
        target.process += shape.parameters * 4  # the plan subtracts the weights, which this process has not loaded
        where = "this machine (CPU, fp32)"
    announce(f"{spec}: {shape.parameters:,} parameters, {shape.layers} {shape.family} layers, hidden {shape.hidden}; "
             f"planned for {where}" + (f", per process of {world}" if world > 1 else ""))
    return memory_plan(shape, config, target, announce, adapter=adapter, label=label)
