"""Does a synthetic set rank systems as human labels do? (`embedlab synth --validate SYNTH --against HUMAN -m ...`)

Every system is evaluated on both sets (`validate`: one `embedlab.evaluate` run per set, with the run's cache, so a
corpus the sets share is encoded once for cached models); then, from the per-query scores (`validate_sets`):

- Kendall's tau-b and Spearman's rho between the two rankings of the systems (by mean score), each with a
  percentile bootstrap CI: both sets' queries resampled (independently) and the rankings compared again;
- every pair of systems, with its paired difference and bootstrap CI on each set (`results.stats`, as
  `embedlab compare` computes them); a decision flips when the two sets disagree on which is better;
- each set's difficulty: its score level (the mean over systems, the best system) and the gap between the best
  lexical system (BM25) and the best dense one, with its paired CI: a set that copies the passages' words makes
  BM25 look better than it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from embedlab.errors import EmbedlabError
from embedlab.models.base import Encoder, ModelOptions, as_model
from embedlab.models.bm25 import BM25
from embedlab.models.registry import backend_class
from embedlab.results import Results
from embedlab.results.compare import named_runs, resolve_name
from embedlab.results.stats import Interval, bootstrap_cis, resampled_means
from embedlab.run.evaluation import evaluate, load_tasks
from embedlab.run.options import RunOptions
from embedlab.synth.rankings import kendall_tau, spearman

RESAMPLES = 2000


@dataclass(frozen=True)
class Agreement:
    value: float
    low: float
    high: float


@dataclass
class SetScores:
    role: str  # human | synthetic
    task: str
    metric: str
    queries: int
    means: dict[str, Interval]
    level: float  # the mean of the systems' means
    best: str
    gap: Interval | None = None  # best lexical - best dense, paired
    gap_between: tuple[str, str] | None = None


@dataclass
class Pair:
    first: str
    second: str
    human: Interval  # first - second
    synthetic: Interval

    @property
    def flips(self) -> bool:
        return np.sign(self.human.mean) * np.sign(self.synthetic.mean) < 0

    @property
    def significant(self) -> str:
        """Where the difference is significant (its CI excludes 0): both, human, synthetic, or neither."""
        sides = [role for role, ci in (("human", self.human), ("synthetic", self.synthetic)) if ci.low > 0 or ci.high < 0]
        return "both" if len(sides) == 2 else sides[0] if sides else "neither"


@dataclass
class Validation:
    systems: list[str]
    human: SetScores
    synthetic: SetScores
    tau: Agreement
    spearman: Agreement
    pairs: list[Pair]
    confidence: float
    resamples: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def flips(self) -> list[Pair]:
        return [pair for pair in self.pairs if pair.flips]

    def as_dict(self) -> dict:
        found = asdict(self)
        for pair, plain in zip(self.pairs, found["pairs"]):
            plain.update(flips=bool(pair.flips), significant=pair.significant)
        return found


def validate(synthetic, human, models: Sequence, *, model: ModelOptions | None = None,
             run: RunOptions | None = None, metric: str | None = None, resamples: int = RESAMPLES,
             confidence: float = 0.95) -> tuple[Validation, Results, Results]:
    """Evaluate `models` (names or Models, as `evaluate` takes them) on the synthetic set and on the human one (paths or loaded
    tasks; both read before any model loads), one `evaluate` run each with the same run settings, and compare the
    rankings (`validate_sets`). BM25 models are the lexical systems, embedding models the dense ones."""
    run = run or RunOptions()
    sets = [load_tasks([data], run) for data in (synthetic, human)]
    for role, tasks in zip(("synthetic", "human"), sets):
        if len(tasks) != 1:
            raise EmbedlabError(f"the {role} data holds {len(tasks)} tasks: give one data set")
    evaluated = [evaluate(list(models), tasks, model=model, run=run) for tasks in sets]
    runs = [r for r in evaluated[0].runs if r.kind == "model"]
    kinds = {"lexical": BM25, "dense": Encoder}
    groups = {group: [r.model["name"] for spec, r in zip(models, runs) if _of_kind(spec, kind)]
              for group, kind in kinds.items()}
    found = validate_sets(evaluated[0], evaluated[1], metric=metric, lexical=groups["lexical"], dense=groups["dense"],
                          resamples=resamples, seed=run.seed, confidence=confidence)
    return found, evaluated[0], evaluated[1]


def _of_kind(spec, kind: type) -> bool:
    return issubclass(backend_class(spec), kind) if isinstance(spec, str) else isinstance(as_model(spec), kind)


def validate_sets(synthetic: Results, human: Results, *, metric: str | None = None, lexical: Sequence[str] = (),
                  dense: Sequence[str] = (), resamples: int = RESAMPLES, seed: int = 0,
                  confidence: float = 0.95) -> Validation:
    """Compare the systems' rankings on the two sets (see the module docstring). Each side holds one task; the
    systems are the runs both sides have (by display name), at least two. `lexical` / `dense`: the systems (names
    as `compare` takes them) whose best ones make the difficulty gap."""
    sides = {"synthetic": named_runs([synthetic]), "human": named_runs([human])}
    systems = [name for name in sides["synthetic"] if name in sides["human"]]
    missing = sorted(set(sides["synthetic"]) ^ set(sides["human"]))
    if missing:
        raise EmbedlabError(f"the two sets were not evaluated with the same systems ({', '.join(missing)} on one only)")
    if len(systems) < 2:
        raise EmbedlabError("ranking systems needs at least two: give several -m")
    matrices, scores = {}, {}
    for role, runs in sides.items():
        matrices[role], scores[role] = _side(role, runs, systems, metric, lexical, dense, resamples, seed, confidence)
    tau, rho = _agreements(matrices, resamples, seed, confidence)
    human_deltas, synthetic_deltas = (_deltas(matrices[role], resamples, seed, confidence) for role in ("human", "synthetic"))
    pairs = [Pair(systems[i], systems[j], human_deltas[i, j], synthetic_deltas[i, j])
             for i in range(len(systems)) for j in range(i + 1, len(systems))]
    notes = ["with fewer than 4 systems a rank correlation says little (3 systems: tau is -1, -1/3, 1/3 or 1)"] \
        if len(systems) < 4 else []
    return Validation(systems, scores["human"], scores["synthetic"], tau, rho, pairs, confidence, resamples, seed, notes)


def _side(role, runs, systems, metric, lexical, dense, resamples, seed, confidence) -> tuple[np.ndarray, SetScores]:
    """(queries x systems matrix of per-query scores, the set's summary)."""
    results = [runs[name] for name in systems]
    tasks = {t.task for run in results for t in run.tasks}
    if len(tasks) != 1:
        raise EmbedlabError(f"the {role} side holds {len(tasks)} tasks ({', '.join(sorted(tasks))}): give one data set")
    first = results[0].tasks[0]
    key = metric or first.main_score
    for run in results:
        task = run.tasks[0]
        if task.query_ids != first.query_ids or task.data_hash != first.data_hash:
            raise EmbedlabError(f"{role}: the systems were not evaluated on the same queries of {first.task}")
        if key not in task.per_query:
            raise EmbedlabError(f"{role}: no per-query '{key}' for {first.task} (a {task.type} task); give a --metric "
                                "both sets have, e.g. ndcg@10")
    matrix = np.column_stack([np.asarray(run.tasks[0].per_query[key], dtype=np.float64) for run in results])
    means = dict(zip(systems, bootstrap_cis(list(matrix.T), confidence=confidence, resamples=resamples, seed=seed)))
    summary = SetScores(role, first.task, key, matrix.shape[0], means, float(matrix.mean(axis=0).mean()),
                        max(systems, key=lambda s: means[s].mean))
    best = [max((resolve_name(n, runs) for n in group), key=lambda s: means[s].mean, default=None)
            for group in (lexical, dense)]
    if best[0] and best[1]:
        column = matrix[:, systems.index(best[0])] - matrix[:, systems.index(best[1])]
        summary.gap = bootstrap_cis([column], confidence=confidence, resamples=resamples, seed=seed)[0]
        summary.gap_between = (best[0], best[1])
    return matrix, summary


def _agreements(matrices: dict[str, np.ndarray], resamples: int, seed: int, confidence: float
                ) -> tuple[Agreement, Agreement]:
    observed = {role: m.mean(axis=0) for role, m in matrices.items()}
    drawn = {role: resampled_means(m, resamples=resamples, seed=seed + offset)
             for offset, (role, m) in enumerate(sorted(matrices.items()))}
    alpha = (1 - confidence) / 2
    out = []
    for statistic in (kendall_tau, spearman):
        value = float(statistic(observed["synthetic"], observed["human"])[0])
        values = statistic(drawn["synthetic"], drawn["human"])
        values = values[np.isfinite(values)]
        low, high = (np.quantile(values, [alpha, 1 - alpha]) if len(values) else (np.nan, np.nan))
        out.append(Agreement(value, float(low), float(high)))
    return out[0], out[1]


def _deltas(matrix: np.ndarray, resamples: int, seed: int, confidence: float) -> dict[tuple[int, int], Interval]:
    """(i, j) -> the paired interval of system i minus system j, every pair from one set of resamples."""
    pairs = [(i, j) for i in range(matrix.shape[1]) for j in range(i + 1, matrix.shape[1])]
    intervals = bootstrap_cis([matrix[:, i] - matrix[:, j] for i, j in pairs], confidence=confidence,
                              resamples=resamples, seed=seed)
    return dict(zip(pairs, intervals))
