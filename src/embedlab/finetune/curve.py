"""The checkpoint curve: every evaluation of the model during fine-tuning, with `evaluate`'s own code.

`CurveEvaluator` is a sentence-transformers evaluator, so the trainer calls it at step 0
(`eval_on_start`), every `eval_every` steps and at epoch ends; it scores the in-memory model, which
has exactly the weights of the checkpoint saved at that step. `Curve` is plain data kept in
curve.json (rewritten after every point, so a killed run keeps what it measured).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.embed import EmbeddingStore
from embedlab.evaluation import evaluate_task
from embedlab.finetune.health import collapse_indicators, collapse_warnings
from embedlab.models.base import ModelOptions
from embedlab.results.stats import paired_bootstrap_ci
from embedlab.scorers import DenseScorer
from embedlab.tasks.types import Task

try:  # the evaluator base class; only needed when training (sentence-transformers installed)
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator
except ImportError:  # pragma: no cover - older sentence-transformers
    try:
        from sentence_transformers.evaluation import SentenceEvaluator as BaseEvaluator
    except ImportError:
        BaseEvaluator = object  # type: ignore[assignment,misc]


@dataclass
class Curve:
    metric: str  # "<task label>/<metric>", e.g. "test/v1.map"
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)
    loss: list[dict[str, float]] = field(default_factory=list)
    path: Path | None = None

    @property
    def task(self) -> str:
        return self.metric.split("/", 1)[0]

    @property
    def metric_name(self) -> str:
        return self.metric.split("/", 1)[1]

    def value(self, point: dict[str, Any]) -> float:
        return point["scores"][self.task][self.metric_name]

    def add(self, point: dict[str, Any]) -> None:
        """Add (or replace, after a resume) the point of a step, and save."""
        self.points = sorted([p for p in self.points if p["step"] != point["step"]] + [point],
                             key=lambda p: p["step"])
        self.save()

    def best(self) -> dict[str, Any]:
        """The highest point; the earliest on ties."""
        return max(self.points, key=lambda p: (self.value(p), -p["step"]))

    def save(self) -> None:
        if self.path is not None:
            self.path.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=1) + "\n",
                                 encoding="utf-8")

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "tasks": self.tasks, "points": self.points, "loss": self.loss}

    @classmethod
    def load(cls, path: Path) -> Curve:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["metric"], data["tasks"], data["points"], data.get("loss", []), Path(path))

    def summary(self, *, seed: int = 0) -> dict[str, Any]:
        """Base vs best with a paired bootstrap CI over queries, plateau and degradation."""
        base, best, last = self.points[0], self.best(), self.points[-1]
        per_query = lambda p: p["per_query"][self.task]
        delta = paired_bootstrap_ci(per_query(best), per_query(base), seed=seed)
        gain = self.value(best) - self.value(base)
        plateau = next((p["step"] for p in self.points
                        if gain > 0 and self.value(p) - self.value(base) >= 0.9 * gain), None)
        drop = paired_bootstrap_ci(per_query(last), per_query(best), seed=seed)
        return {
            "metric": self.metric,
            "base": self.value(base),
            "best": self.value(best),
            "best_step": best["step"],
            "last": self.value(last),
            "last_step": last["step"],
            "delta": delta.as_dict(),
            "significant": delta.low > 0 or delta.high < 0,
            "plateau_step": plateau,  # first step with 90% of the best gain
            "degrades_after_best": last["step"] != best["step"] and drop.high < 0,
            "last_vs_best": drop.as_dict(),
            "guards": {label: {"base": p0, "best": pb} for label, p0, pb in self._guards(base, best)},
            "warnings": sorted({w for p in self.points for w in p.get("warnings", [])}),
        }

    def _guards(self, base, best):
        for label, info in self.tasks.items():
            if info.get("role") == "guard":
                yield label, base["scores"][label][info["main"]], best["scores"][label][info["main"]]


class CurveEvaluator(BaseEvaluator):
    """Scores the model being trained on held-out tasks (and guard tasks) plus collapse indicators."""

    def __init__(self, tasks: dict[str, Task], curve: Curve, *, options: ModelOptions,
                 batch_size: int = 64, health_texts: tuple[list[str], list[str]] | None = None,
                 announce=None) -> None:
        super().__init__()
        self.announce = announce
        self.tasks, self.curve, self.options, self.batch_size = tasks, curve, options, batch_size
        self.health_texts = health_texts or health_sample(tasks[curve.task])
        self.primary_metric = f"{curve.task}_{curve.metric_name}"
        self.greater_is_better = True

    def __call__(self, model, output_path=None, epoch: float = -1, steps: int = -1) -> dict[str, float]:
        from embedlab.models.sentence_transformers import SentenceTransformerEncoder

        step = max(int(steps), 0)
        encoder = SentenceTransformerEncoder.from_model(model, self.options, name=f"step {step}")
        store = EmbeddingStore(encoder, batch_size=self.batch_size, progress=False)
        results = {label: evaluate_task(task, DenseScorer(store)) for label, task in self.tasks.items()}
        queries, passages = self.health_texts
        health = collapse_indicators(store.embed(queries, "query"), store.embed(passages, "document"))
        base = self.curve.points[0]["health"] if self.curve.points and step > 0 else health
        point = {
            "step": step,
            "epoch": round(float(epoch), 4) if epoch is not None and epoch >= 0 else 0.0,
            "scores": {label: r.scores for label, r in results.items()},
            "per_query": {label: r.per_query[self.curve.tasks[label]["main"]]
                          for label, r in results.items()},
            "health": health,
            "warnings": collapse_warnings(base, health),
            "encode_seconds": round(store.stats.seconds, 3),
        }
        self.curve.add(point)
        if self.announce is not None:
            value, base_value = self.curve.value(point), self.curve.value(self.curve.points[0])
            self.announce(f"step {step}: {self.curve.metric} {value:.4f} ({value - base_value:+.4f} vs base)"
                          + "".join(f"; warning: {w}" for w in point["warnings"]))
        metrics = {f"{label}_{name}": value for label, r in results.items()
                   for name, value in r.scores.items()}
        metrics.update({f"health_{name}": value for name, value in health.items()})
        return metrics


def health_sample(task: Task, *, queries: int = 64, passages: int = 512, seed: int = 0
                  ) -> tuple[list[str], list[str]]:
    """A fixed seeded sample of a task's distinct queries and passages (the same at every point)."""
    rng = random.Random(seed)
    qs = list(dict.fromkeys(task.texts("query")))
    ps = list(dict.fromkeys(task.texts("document")))
    return (rng.sample(qs, min(queries, len(qs))), rng.sample(ps, min(passages, len(ps))))

