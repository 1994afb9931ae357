"""Encoder variants of a deployment sweep (`sweep --backend torch,onnx,onnx-int8,openvino-int8,static`): the swept
model run by another backend, every text encoded again by it and scored at its own full width, float32, exact
search, against the float32 torch baseline. `onnx`, `openvino` (and `-int8`) run the model's export
(`models.export`, made once and cached); `static` is a model2vec model distilled from it (`models.static.cached_distil`,
made once and cached). All of them run on the CPU, the baseline too unless a --device is given.

These rows and the baseline also get each encoder's speed on each task (`models.throughput.measure_speed`: texts per
second over up to `SPEED_TEXTS` of the task's documents, ms per query at batch 1 after a warm-up), beside the bytes of
the model it runs (its provenance); `results.deploy` puts them on a frontier of their own and recommends an encoder
apart from the vector format: the two choices combine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from embedlab.deploy.scorer import DeployKnobs, VariantScorer
from embedlab.deploy.variants import TORCH, Variant
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import EmbedlabError, UnknownNameError
from embedlab.models.base import Encoder, Model, ModelOptions, as_model
from embedlab.models.export import backend_requires, parse_label
from embedlab.models.throughput import measure_speed
from embedlab.scorers.base import Measured
from embedlab.tasks.types import Task

ENCODERS = (TORCH, "onnx", "onnx-int8", "openvino", "openvino-int8", "static")
STATIC = "static"
STATIC_DIMS = 256  # model2vec's default width (`embedlab distil`'s); a model no wider keeps its own
SPEED_TEXTS = 1000  # documents a task's throughput is measured on (spread over the corpus)


def parse_encoders(text: str) -> tuple[str, ...]:
    """`torch,onnx-int8,static` -> the encoders, checked (an unknown one: one line with the closest name)."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    if not names:
        raise EmbedlabError(f"--backend '{text}': give one or more of {', '.join(ENCODERS)}")
    for name in names:
        if name not in ENCODERS:
            raise UnknownNameError("backend", name, ENCODERS)
    return names


def encoder_requires(encoders: Iterable[str]) -> list[tuple[str, str]]:
    """(module, option) pairs the encoders need, checked before any work with the models' own."""
    needs = []
    for label in encoders:
        if label == STATIC:
            needs += [("model2vec", "--backend static"), ("skeletoken", "--backend static")]
        elif label != TORCH:
            needs += [(module, f"--backend {label}") for module in backend_requires(parse_label(label).backend)]
    return needs


def others(encoders: Iterable[str]) -> list[str]:
    """The encoders besides the baseline's (torch)."""
    return [label for label in encoders if label != TORCH]


def check_sweepable(spec: str | Model | Any, encoders: Iterable[str]) -> None:
    """Only a local sentence-transformers model, given by name, can run on other backends (its files are exported or
    distilled): any other model is refused with one line, before any work."""
    swept = others(encoders)
    if not swept:
        return
    from embedlab.models.registry import backend_class
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder

    if isinstance(spec, str) and issubclass(backend_class(spec), SentenceTransformerEncoder):
        return
    name = spec if isinstance(spec, str) else as_model(spec).name
    raise EmbedlabError(f"--backend {','.join(swept)}: only a local sentence-transformers model given by name can be "
                        f"swept over backends (its files are exported or distilled); '{name}' is not one: leave "
                        "--backend out")


def load_encoder(label: str, spec: str, options: ModelOptions, swept: Encoder) -> Encoder:
    """The swept model run by `label`'s backend on the CPU, with the swept model's instructions (its configured
    prompts too: a static model reads them as text, as it reads any prefix)."""
    from embedlab.models.registry import name_part

    same = dataclasses.replace(options, device="cpu", query_instruction=swept.instructions["query"],
                               document_instruction=swept.instructions["document"])
    if label == STATIC:
        from embedlab.models.static import StaticEncoder, cached_distil

        width = swept.dimension or STATIC_DIMS
        folder = cached_distil(name_part(spec), dims=STATIC_DIMS if width > STATIC_DIMS else None)
        return StaticEncoder(str(folder), same)
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder

    variant = parse_label(label)
    return SentenceTransformerEncoder(name_part(spec), dataclasses.replace(same, backend=variant.backend,
                                                                           quantize=variant.quantize))


class EncoderRow(VariantScorer):
    """A variant scored from one encoder's vectors (full width, float32, exact), with that encoder's speed measured
    on each task it scores: the baseline's, and each encoder variant's. Named after the swept model."""

    def __init__(self, store: EmbeddingStore, variant: Variant, knobs: DeployKnobs, model: str) -> None:
        super().__init__(store, store, variant, knobs)
        self.name = f"{model} {variant.label()}"

    def measured(self, task) -> Measured:
        measured = super().measured(task)
        speed = task_speed(self.documents.encoder, task, self.documents.batch_size)
        return Measured({**measured.counts, **speed.counts}, {**measured.timings, **speed.timings},
                        measured.per_query)


def task_speed(encoder: Encoder, task: Task, batch_size: int) -> Measured:
    """Texts per second over up to SPEED_TEXTS of the task's documents (every n-th: short and long alike), and ms per
    query at batch 1 (median and 90th percentile), each after a warm-up; no cache, no dedup."""
    documents = task.texts("document")
    sample = documents[:: max(1, len(documents) // SPEED_TEXTS)][:SPEED_TEXTS]
    speed = measure_speed(encoder, sample, task.texts("query"), batch_size=batch_size)
    return Measured(counts={"speed_texts": speed.texts, "speed_queries": speed.queries},
                    timings={"encode_texts_per_second": round(speed.texts_per_second, 2),
                             "encode_ms_per_query": round(speed.query_ms, 4),
                             "encode_ms_per_query_p90": round(speed.query_ms_p90, 4)})


def encoder_rows(ctx, spec: str, options: ModelOptions, swept: Encoder, encoders: Iterable[str], tasks: list[Task],
                 knobs: DeployKnobs, opened: list[Model]) -> list[EncoderRow]:
    """A row per encoder besides torch, every text of `tasks` encoded by it now (as the baseline's were). Each
    encoder loaded is appended to `opened` at once, for the plan to close whatever happens next."""
    rows = []
    for label in others(encoders):
        encoder = load_encoder(label, spec, options, swept)
        opened.append(encoder)
        store = ctx.plain_vectors(encoder)
        for task in tasks:
            store.embed(task.texts("document"), "document")
            store.embed(task.texts("query"), "query")
        rows.append(EncoderRow(store, Variant(int(store.dimension), "float32", "exact", encoder=label), knobs,
                               swept.name))
    return rows
