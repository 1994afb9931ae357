"""The fine-tuning curve as plain data: every evaluation of the model during training, in curve.json.

A point is one checkpoint's scores on every held-out task, the per-query values of each task's main
score, collapse indicators and warnings. The file is rewritten atomically after every point, so a
killed run keeps what it measured and never leaves a truncated curve.json. No torch here: `report`
and `compare` read curves without the training stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.output import write_json
from embedlab.data.records import read_json
from embedlab.errors import DataError
from embedlab.results.stats import paired_bootstrap_ci

FIELDS = {"metric": str, "tasks": dict, "points": list}


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
            write_json(self.path, self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "tasks": self.tasks, "points": self.points, "loss": self.loss}

    @classmethod
    def load(cls, path: str | Path) -> Curve:
        path = Path(path)
        hint = "give a curve.json written by `embedlab finetune`"
        data = read_json(path, what="curve", hint=hint)
        if not isinstance(data, dict):
            raise DataError("not a fine-tuning curve (expected a JSON object)", path=path, hint=hint)
        for name, kind in FIELDS.items():
            if not isinstance(data.get(name), kind):
                raise DataError(f"not a fine-tuning curve (no {kind.__name__} '{name}')", path=path,
                                field=name, hint=hint)
        if "/" not in data["metric"]:
            raise DataError(f"curve metric '{data['metric']}' is not '<task>/<metric>'", path=path,
                            field="metric", hint=hint)
        return cls(data["metric"], data["tasks"], data["points"], data.get("loss", []), path)

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
