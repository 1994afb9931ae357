"""A run plan: every model spec expands up front into the model runs it stands for, executed by one loop
(`run.evaluation.execute`).

- `ModelPlan`: a model's own run; a combination with `--weights sweep` also one run per part alone and per
  weight of its grid (kind "weights"), all from one output of each part.
- `StackPlan`: a first stage's plan, then one run per rerank depth (kind "stage", on tasks that rank a corpus):
  the first stage's top documents reordered by a reranker, each pair scored once.
- `RerankerPlan`: the reranker alone on reranking rows.
- `deploy.plan.DeployPlan` (`embedlab sweep`): one encoding, a run per deployment variant (kind "variant").

A plan opens its runs inside the run context's scope (their stores close with it) and closes the models it loaded
itself; the runs of a plan are scored task by task in order, so a later run may build on an earlier one's output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from embedlab.errors import EmbedlabError
from embedlab.models.base import Model, ModelOptions, PairScorer, as_model
from embedlab.models.registry import backend_class, is_paid, load_model, name_part, reranker_spec
from embedlab.run.context import RunContext
from embedlab.scorers.base import Scorer
from embedlab.scorers.table import scorer_for
from embedlab.scorers.two_stage import TwoStage
from embedlab.tasks.types import Task, ranks_corpus

DEFAULT_RERANK_DEPTH = 100


def _every_task(task: Task) -> bool:
    return True


@dataclass
class PlannedRun:
    """One model run of a plan: its scorer, its provenance (read when the run is done: usage counts are final
    then), its kind (`results.results.RUN_KINDS`), whether it is paid for, and the tasks it applies to."""

    scorer: Scorer
    describe: Callable[[], dict[str, Any]]
    kind: str = "model"
    paid: bool = False
    applies: Callable[[Task], bool] = field(default=_every_task)
    run_file: str | None = None  # the TREC run file its rankings are read from (`Model.own_run`)

    @property
    def name(self) -> str:
        return self.scorer.name

    def info(self) -> dict[str, Any]:
        info = self.describe()
        for key, value in self.scorer.provenance().items():
            info.setdefault(key, value)
        return info


class Plan:
    """The runs one model spec stands for."""

    label = "model"  # how failures name it, before its model loads

    def open(self, ctx: RunContext) -> list[PlannedRun]:
        raise NotImplementedError

    def paid_models(self) -> list[Model]:
        """The paid models the plan runs, loaded now: their costs are estimated before any run starts."""
        return []

    def close(self) -> None:
        """Close what the plan loaded itself (a model given as an object stays open)."""


class ModelPlan(Plan):
    """A model's own run (a combination with sweep weights: its parts' and every weight's runs too)."""

    def __init__(self, spec: str | Model | Any, options: ModelOptions) -> None:
        self.spec, self.options = spec, options
        self.label = spec if isinstance(spec, str) else as_model(spec).name
        self._model: Model | None = None if isinstance(spec, str) else as_model(spec)

    @property
    def paid(self) -> bool:
        return self.model.paid if self._model is not None else is_paid(self.spec, self.options)

    def paid_models(self) -> list[Model]:
        return [self.model] if self.paid else []

    @property
    def model(self) -> Model:
        """The model, loaded the first time it is asked for."""
        if self._model is None:
            self._model = load_model(self.spec, self.options)
        return self._model

    def sweeps(self) -> bool:
        """Whether the model runs as a sweep of weights (known before a model given by name loads)."""
        if self._model is not None:
            return self._model.sweep_weights() is not None
        return backend_class(self.spec).sweeps(name_part(self.spec), self.options)

    def open(self, ctx: RunContext) -> list[PlannedRun]:
        model = self.model
        scorer = scorer_for(model, ctx)
        scorer.use_index(ctx.run.index, ctx.run.seed)
        weights = model.sweep_weights()
        if weights is None:
            return [PlannedRun(scorer, model.info, "model", model.paid, run_file=model.own_run())]
        return [PlannedRun(run.scorer, run.describe, run.kind, run.paid, run_file=run.run_file)
                for run in scorer.sweep_views(weights)]

    def close(self) -> None:
        if self._model is not None and isinstance(self.spec, str):
            self._model.close()
        self._model = None if isinstance(self.spec, str) else self._model


class StackPlan(Plan):
    """A first stage's runs, then its top `depths` reranked by `reranker` (a run per depth, named
    `first >> reranker@depth`), on the tasks that rank a corpus."""

    def __init__(self, first: ModelPlan, reranker: PairScorer, depths: Sequence[int]) -> None:
        self.first, self.reranker, self.depths = first, reranker, sorted(set(depths))
        self.label = first.label

    def paid_models(self) -> list[Model]:
        return self.first.paid_models()

    def open(self, ctx: RunContext) -> list[PlannedRun]:
        (first,) = self.first.open(ctx)
        stack = TwoStage(first.scorer, ctx.pairs(self.reranker), self.depths)
        own = PlannedRun(stack.recording(), first.describe, first.kind, first.paid, run_file=first.run_file)
        staged = [self._staged(stack, first, depth) for depth in stack.depths]
        return [own, *staged]

    def _staged(self, stack: TwoStage, first: PlannedRun, depth: int) -> PlannedRun:
        scorer, reranker = stack.at(depth), self.reranker

        def describe() -> dict[str, Any]:
            first_info = first.info()
            return {"name": scorer.name, "backend": "two-stage", "first_stage": first_info["name"],
                    "reranker": reranker.name, "rerank_depth": depth, "first_stage_model": first_info,
                    "reranker_model": reranker.info()}

        return PlannedRun(scorer, describe, "stage", reranker.paid, applies=ranks_corpus)

    def close(self) -> None:
        self.first.close()


class RerankerPlan(Plan):
    """The reranker alone: it scores each reranking row's candidates."""

    def __init__(self, reranker: PairScorer) -> None:
        self.reranker, self.label = reranker, reranker.name

    def open(self, ctx: RunContext) -> list[PlannedRun]:
        return [PlannedRun(scorer_for(self.reranker, ctx), self.reranker.info, "model", self.reranker.paid,
                           applies=lambda task: not ranks_corpus(task))]


def plan_evaluation(specs: Sequence[str | Model | Any], tasks: list[Task], options: ModelOptions,
                    reranker: tuple[str | Model, PairScorer] | None = None, depths: Sequence[int] = ()) -> list[Plan]:
    """The plans of `evaluate`: each model's (with a reranker, a stack on it), then the reranker alone on the
    reranking rows, unless it is one of the models. `reranker`: (as given, loaded)."""
    plans: list[Plan] = []
    for spec in specs:
        plan = ModelPlan(spec, options)
        if reranker is not None and plan.sweeps():
            raise EmbedlabError(f"{plan.label}: --weights sweep chooses weights on the test queries, and a reranker "
                                "would stack on each of them; run the sweep first, then rerank the hybrid with the "
                                "weights it found (--weights W1,W2 --reranker ...)")
        plans.append(plan if reranker is None else StackPlan(plan, reranker[1], depths))
    rows = [task for task in tasks if not ranks_corpus(task)]
    if reranker is not None and rows and not any(_same_model(spec, reranker[0]) for spec in specs):
        plans.append(RerankerPlan(reranker[1]))
    return plans


def _same_model(spec: str | Model | Any, reranker: str | Model) -> bool:
    """Whether a model of the run is the reranker (it then scores the reranking rows as a model already)."""
    if isinstance(spec, str) and isinstance(reranker, str):
        return issubclass(backend_class(spec), PairScorer) and reranker_spec(spec) == reranker_spec(reranker)
    return spec is reranker


def check_rerank_depths(reranker: Any, depths: Sequence[int], tasks: list[Task]) -> tuple[int, ...]:
    """The run's rerank depths (the default for a reranker given none), checked: depths need a reranker,
    and none may be larger than a retrieval corpus (one line naming both)."""
    if reranker is None:
        if depths:
            raise EmbedlabError("--rerank-depth needs a --reranker (the model that reorders each first stage's top)")
        return ()
    depths = tuple(depths) or (DEFAULT_RERANK_DEPTH,)
    for depth in depths:
        if depth < 1:
            raise EmbedlabError(f"--rerank-depth {depth}: a depth is a number of documents, 1 or more")
        for task in tasks:
            if ranks_corpus(task) and depth > len(task.corpus):
                raise EmbedlabError(f"--rerank-depth {depth} is larger than the corpus of {task.name} "
                                    f"({len(task.corpus):,} documents): give depths up to {len(task.corpus):,}")
    return depths
