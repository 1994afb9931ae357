"""`deploy_sweep`: encode a model's texts once, then score every deployment variant from those vectors.

The sweep only builds a plan (`DeployPlan`, a `run.plan.Plan`): the run context, the cost check and the loop that
scores it are `evaluate`'s. Each variant is a model run of its own (kind "variant", named `<model> @<dims>
<precision> <index>[ prompt:...]`, with a `deploy` entry in its model info), so `compare`, `leaderboard` and
`report` read the results unchanged; the baseline (full width, float32, exact search, the configured prompt) comes
first and scores what `eval` scores. Reranking rows are scored candidate by candidate (no search), so approximate
indexes run on retrieval only. With `prompt_variants`, queries are encoded again without a prompt and with each
instruction given (documents are reused) and scored at full width, float32, exact. With `encoders` (`sweep
--backend`), the model runs again on each other backend, a row each (`deploy.encoders`), with each encoder's speed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from embedlab.deploy.encoders import EncoderRow, check_sweepable, encoder_rows
from embedlab.deploy.scorer import DeployKnobs, VariantScorer
from embedlab.deploy.variants import CONFIGURED, DEFAULT_PRECISIONS, NO_PROMPT, TORCH, Variant, grid
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import EmbedlabError, ModelError
from embedlab.models.base import Encoder, Model, ModelOptions
from embedlab.results import Results
from embedlab.run.context import RunContext, environment
from embedlab.run.estimate import estimate_models
from embedlab.run.evaluation import check_options_read, execute, load_tasks
from embedlab.run.options import RunOptions
from embedlab.run.plan import ModelPlan, Plan, PlannedRun
from embedlab.tasks.types import Task, ranks_corpus


@dataclass
class DeployOptions:
    dims: tuple[int, ...] = ()  # empty: the model's full width only
    precisions: tuple[str, ...] = DEFAULT_PRECISIONS
    indexes: tuple[str, ...] = ("exact",)
    prompt_variants: bool = False
    query_instructions: tuple[str, ...] = ()  # with prompt_variants: instructions to try besides the configured one
    knobs: DeployKnobs = field(default_factory=DeployKnobs)
    encoders: tuple[str, ...] = ()  # backends to encode with besides torch (`deploy.encoders`); given: speeds measured


def deploy_sweep(spec: str | Model | Any, tasks, *, model: ModelOptions | None = None, run: RunOptions | None = None,
                 deploy: DeployOptions | None = None) -> Results:
    """The results of every variant of `deploy` for one embedding model on `tasks` (paths, names or loaded)."""
    options, run, deploy = model or ModelOptions(), run or RunOptions(), deploy or DeployOptions()
    loaded = load_tasks(tasks, run)
    if not loaded:
        raise ValueError("nothing to evaluate: give reranking and/or retrieval data")
    if deploy.prompt_variants and not isinstance(spec, str):
        raise EmbedlabError("--prompt-variants encodes the queries again with other prompts: give the model by name")
    check_options_read(options, [spec])
    check_sweepable(spec, deploy.encoders)
    if deploy.encoders and options.device is None:  # the speeds compared are a CPU's
        options = dataclasses.replace(options, device="cpu")
    plan = DeployPlan(spec, options, deploy, loaded)
    with RunContext(run, batch_size=options.batch_size) as ctx:
        paid = plan.paid_models()
        ctx.check_costs(estimate_models(paid, loaded, cache=run.cache, price_per_mtok=run.price_per_mtok)
                        if paid else [])
        runs, _ = execute([plan], loaded, ctx, keep_going=False)
    return Results(runs, environment(), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), run.seed)


class DeployPlan(Plan):
    """One encoder, encoded once; a run per variant (and per prompt variant), baseline first."""

    def __init__(self, spec: str | Model | Any, options: ModelOptions, deploy: DeployOptions, tasks: list[Task]
                 ) -> None:
        self.base, self.spec, self.options, self.deploy = ModelPlan(spec, options), spec, options, deploy
        self.label, self.tasks = self.base.label, tasks
        self._others: list[Model] = []

    def paid_models(self) -> list[Model]:
        return self.base.paid_models()

    def open(self, ctx: RunContext) -> list[PlannedRun]:
        encoder = self.base.model
        if not isinstance(encoder, Encoder):
            raise ModelError(f"'{encoder.name}' is not an embedding model: a sweep of dimensions, precisions and "
                             "indexes needs vectors")
        documents = ctx.plain_vectors(encoder)
        full = _full_width(documents, self.tasks)
        variants, notes = grid(encoder.name, full, self.deploy.dims or (full,), self.deploy.precisions,
                               self.deploy.indexes)
        for note in notes:
            ctx.say(f"note: {note}")
        for task in self.tasks:  # every text once, before any variant: the sweep's cost is this encoding
            documents.embed(task.texts("document"), "document")
            documents.embed(task.texts("query"), "query")
        scorers = [VariantScorer(documents, documents, v, self.deploy.knobs) for v in variants]
        if self.deploy.encoders:  # the baseline's speed, to compare the other encoders' with
            scorers[0] = EncoderRow(documents, variants[0], self.deploy.knobs, encoder.name)
            scorers += encoder_rows(ctx, self.spec, self.options, encoder, self.deploy.encoders, self.tasks,
                                    self.deploy.knobs, self._others)
        runs = [self._run(encoder, scorer) for scorer in scorers]
        if self.deploy.prompt_variants:
            runs += self._prompt_runs(ctx, encoder, documents)
        return runs

    def _run(self, swept: Encoder, scorer: VariantScorer, prompt: str | None = None) -> PlannedRun:
        """The variant's run; its provenance is its encoder's (the swept model's, or another backend's)."""
        variant = scorer.variant

        def describe() -> dict[str, Any]:
            info = {**scorer.documents.encoder.info(), "name": scorer.name,
                    "deploy": {**variant.as_dict(), "of": swept.name,
                               "baseline": variant.prompt == CONFIGURED and variant.index == "exact"
                               and variant.precision == "float32" and variant.encoder == TORCH
                               and variant.dimension == scorer.documents.dimension,
                               "knobs": dataclasses.asdict(scorer.knobs)}}
            return info if prompt is None else {**info, "query_instruction": prompt}

        applies = (lambda task: True) if variant.index == "exact" else ranks_corpus
        return PlannedRun(scorer, describe, "variant", swept.paid, applies=applies)

    def _prompt_runs(self, ctx: RunContext, encoder: Encoder, documents: EmbeddingStore) -> list[PlannedRun]:
        """Queries encoded again with no prompt and with each instruction given; full width, float32, exact."""
        configured = encoder.instructions["query"]
        prompts = [p for p in dict.fromkeys((NO_PROMPT, *self.deploy.query_instructions)) if p != configured]
        if not configured:
            if not prompts:
                raise EmbedlabError(f"--prompt-variants: {encoder.name} configures no query prompt and no "
                                    "--query-instruction was given: nothing to compare; give --query-instruction TEXT")
            ctx.say(f"warning: {encoder.name} configures no query prompt (config_sentence_transformers.json "
                    "'prompts' or --query-instruction): its queries are encoded without one; the variants below "
                    "show whether an instruction helps")
        runs = []
        for prompt in prompts:
            other = ModelPlan(self.spec, dataclasses.replace(self.options, query_instruction=prompt)).model
            self._others.append(other)
            variant = Variant(int(documents.dimension), "float32", "exact", prompt)
            scorer = VariantScorer(documents, ctx.plain_vectors(other), variant, self.deploy.knobs)
            runs.append(self._run(encoder, scorer, prompt))
        return runs

    def close(self) -> None:
        for other in self._others:
            other.close()
        self._others = []
        self.base.close()


def _full_width(documents: EmbeddingStore, tasks: list[Task]) -> int:
    if documents.dimension is None:  # an API model tells its width with its first vectors
        documents.embed(tasks[0].texts("query")[:1], "query")
    return int(documents.dimension)
