"""The checkpoint evaluator: every point of the fine-tuning curve, scored with `evaluate`'s own code.

`CurveEvaluator` is a sentence-transformers evaluator, so the trainer calls it at step 0
(`eval_on_start`), every `eval_every` steps and at epoch ends; it scores the in-memory model, which
has exactly the weights of the checkpoint saved at that step, at the max length the checkpoint is
saved with (not the shorter training length): step 0 is `embedlab eval` of the base model, and every
point is `embedlab eval` of its checkpoint. Each point goes on the `Curve` (plain data in
`results/curve.py`, saved after every point). While a checkpoint is scored, the progress line (`finetune.progress`)
says which task and how many of its texts are encoded: minutes on a large held-out set.
"""

from __future__ import annotations

from collections.abc import Callable

from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import require
from embedlab.finetune.health import collapse_indicators, collapse_warnings, health_sample
from embedlab.finetune.matryoshka import dimension_line, dimension_scores
from embedlab.finetune.progress import Announcer
from embedlab.models.base import KINDS, ModelOptions
from embedlab.models.sentence_transformers import SentenceTransformerEncoder
from embedlab.results.curve import Curve
from embedlab.scorers import DenseScorer
from embedlab.tasks.types import Task

require("sentence_transformers", "fine-tuning")
try:
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator
except ImportError:  # pragma: no cover - sentence-transformers < 6
    from sentence_transformers.evaluation import SentenceEvaluator as BaseEvaluator


class CurveEvaluator(BaseEvaluator):
    """Scores the model being trained on held-out tasks (and guard tasks) plus collapse indicators."""

    def __init__(self, tasks: dict[str, Task], curve: Curve, *, options: ModelOptions,
                 batch_size: int = 64, max_length: int | None = None, announce=None, dimensions=None) -> None:
        super().__init__()
        self.announce, self.max_length, self.dimensions = announce, max_length, dimensions  # Matryoshka widths
        self.tasks, self.curve, self.options, self.batch_size = tasks, curve, options, batch_size
        self.health_texts = health_sample(tasks[curve.task])
        self.texts = len({(kind, text) for task in tasks.values() for kind in KINDS for text in task.texts(kind)})
        self._done = 0
        self.primary_metric = f"{curve.task}_{curve.metric_name}"
        self.greater_is_better = True

    def __call__(self, model, output_path=None, epoch: float = -1, steps: int = -1) -> dict[str, float]:
        from embedlab.models.sentence_transformers import at_max_length

        step = max(int(steps), 0)
        with at_max_length(model, self.max_length):
            encoder = _Watched.from_model(model, self.options, name=f"step {step}")
            store = EmbeddingStore(encoder, batch_size=self.batch_size, progress=False)
            results = {}
            for label, task in self.tasks.items():
                encoder.watch(self._scoring(step, label))
                results[label] = DenseScorer(store).score(task)
            queries, passages = self.health_texts
            health = collapse_indicators(store.embed(queries, "query"), store.embed(passages, "document"))
            dims = dimension_scores(store, self.tasks, self.curve, self.dimensions) if self.dimensions else None
            encoder.watch(None)
        if isinstance(self.announce, Announcer):
            self.announce.scoring(step)  # done: the line shows the training again
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
            **({"dims": dims} if dims else {}),
        }
        self.curve.add(point)
        if self.announce is not None:
            value, base_value = self.curve.value(point), self.curve.value(self.curve.points[0])
            loss = [p["loss"] for p in self.curve.loss if 0 < p["step"] <= step][-1:]
            self.announce(f"step {step}: {self.curve.metric} {value:.4f} ({value - base_value:+.4f} vs base)"
                          + dimension_line(self.curve, point) + "".join(f"; train loss {x:.4f}" for x in loss)
                          + "".join(f"; warning: {w}" for w in point["warnings"]))
        metrics = {f"{label}_{name}": value for label, r in results.items()
                   for name, value in r.scores.items()}
        metrics.update({f"health_{name}": value for name, value in health.items()})
        return metrics

    def _scoring(self, step: int, label: str) -> Callable[[int], None] | None:
        """What the encoder reports each batch to while `label` is scored: the checkpoint's texts encoded so far, of
        all it will encode (every held-out task's, each distinct text once), on the progress line."""
        if not isinstance(self.announce, Announcer):
            return None
        if label == next(iter(self.tasks)):
            self._done = 0
            self.announce.scoring(step, label, 0, self.texts)

        def encoded(n: int) -> None:
            self._done += n
            self.announce.scoring(step, label, self._done, self.texts)
        return encoded


class _Watched(SentenceTransformerEncoder):
    """The checkpoint's model, telling the progress line how many texts each batch encoded (the vectors are the
    encoder's own: scoring is `embedlab eval`'s)."""

    report: Callable[[int], None] | None = None

    def watch(self, report: Callable[[int], None] | None) -> None:
        self.report = report

    def encode_batches(self, texts, kind, batch_size):
        for start, stop, output in super().encode_batches(texts, kind, batch_size):
            if self.report is not None:
                self.report(stop - start)
            yield start, stop, output

