"""API rerankers: any `/rerank` endpoint of the common shape (Cohere, Jina, Voyage, vLLM, Xinference, TEI's
Cohere-compatible route...) and Baidu Qianfan's reranker (bce-reranker-base_v1, API Key / Secret Key).

A request holds one query and up to `--max-inputs` of its documents: `{model, query, documents, top_n}`
posted to `<base-url>/rerank` (a base URL that already ends in /rerank or /rerankers is used as it is:
Qianfan v2 is `https://qianfan.baidubce.com/v2/rerankers`). The answer lists `{index, relevance_score}`
under `results` (Cohere, Jina, vLLM, Qianfan) or `data` (Voyage), or as a bare list of `{index, score}`
(TEI's own route), in any order (most sort by relevance). Every index sent must come back exactly once
with a finite number: a count that differs, an index missing, repeated or out of range, or NaN is a
one-line error naming the server (it is never retried: the server would answer the same). Tokens billed
come from `usage.total_tokens` (Jina, Voyage, vLLM, Qianfan); Cohere bills searches, not tokens.

Retries, splits of slow requests, concurrency, rate limits and redaction are `http_api.HttpApi`'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from embedlab.errors import ModelError, UnknownNameError
from embedlab.models.base import ModelOptions, PairScorer
from embedlab.models.http_api import HttpApi, Malformed, billed_tokens, index_problem
from embedlab.models.limits import estimated_tokens
from embedlab.models.pricing import price_of
from embedlab.models.qianfan import BASE_URL as QIANFAN_URL
from embedlab.models.qianfan import QianfanAuth

Pair = tuple[str, str]
ENDPOINTS = ("rerank", "rerankers")


class RerankAPIScorer(HttpApi, PairScorer):
    """`rerank:<model>` at `--base-url`: one relevance score per (query, document) pair."""

    paid = True  # scores of paid backends are cached by default

    def __init__(self, model: str, options: ModelOptions | None = None) -> None:
        options = options or ModelOptions()
        if not options.base_url:
            raise ModelError(f"rerank:{model} needs its endpoint: --base-url (or --reranker-base-url beside "
                             "--reranker), e.g. https://api.jina.ai/v1 or http://localhost:8000/v1")
        self.model, self.name = model, f"rerank:{model}"
        base, self._path = _split_endpoint(options.base_url)
        self._connect(dataclasses.replace(options, base_url=base), base, "API rerankers")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def pairs_per_request(self) -> int:
        return self.options.max_inputs

    @property
    def preferred_batch(self) -> int:
        """Pairs per call that keep every concurrent request slot busy."""
        return self.options.max_inputs * max(1, self.options.concurrency)

    def price_per_mtok(self) -> tuple[float, str] | None:
        return price_of(self.model)

    def cache_key(self) -> str:
        return f"rerank|{self.endpoint.shown_at(self._path)}|{self.model}"

    def info(self) -> dict[str, Any]:
        return {**super().info(), "backend": "rerank-api", "model": self.model,
                "base_url": self.endpoint.shown_at(self._path), "usage": dict(self.usage)}

    def status(self) -> str:
        return self.usage_line(self.price_per_mtok())

    def score_pairs(self, pairs: list[Pair]) -> np.ndarray:
        parts = {start: scores for start, _, scores in self.score_batches(pairs, len(pairs) or 1)}
        return np.concatenate([parts[start] for start in sorted(parts)]) if parts else np.empty(0, np.float32)

    def score_batches(self, pairs: Sequence[Pair], batch_size: int) -> Iterator[tuple[int, int, np.ndarray]]:
        """One query and up to `max_inputs` of its documents per request, `concurrency` in flight, each
        answer yielded as it arrives."""
        return self._pipelined(self._chunks(list(pairs)), lambda chunk: self._post(
            chunk, self._post_once, lambda part: sum(estimated_tokens(q) + estimated_tokens(d) for q, d in part)))

    def _chunks(self, pairs: list[Pair]) -> Iterator[tuple[int, list[Pair]]]:
        """(start, pairs) of each request: consecutive pairs of one query, cut with the size of the moment."""
        start = 0
        while start < len(pairs):
            stop, query = start, pairs[start][0]
            while stop < len(pairs) and stop - start < self.sizer.size and pairs[stop][0] == query:
                stop += 1
            yield start, pairs[start:stop]
            start = stop

    def _post_once(self, pairs: list[Pair]) -> np.ndarray:
        documents = [d for _, d in pairs]
        payload = {"model": self.model, "query": pairs[0][0], "documents": documents, "top_n": len(documents)}
        return self._scores(self._json(self._send(self._path, payload), shape=(dict, list)), len(documents))

    def _scores(self, body: dict | list, expected: int) -> np.ndarray:
        """The score of each document sent, in the order sent, from an answer in any order."""
        items = body if isinstance(body, list) else body.get("results", body.get("data"))
        if not isinstance(items, list):
            raise Malformed("malformed response (no list of results)")
        try:
            indices = [item["index"] for item in items]
            values = [item["relevance_score"] if "relevance_score" in item else item["score"] for item in items]
            scores = np.asarray(values, dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise Malformed(f"malformed response ({type(exc).__name__} in the results)") from None
        problem = index_problem(indices, expected)
        if problem:
            raise ModelError(f"{self._where}: {problem} for {expected} documents sent; the server does not "
                             "answer the /rerank shape (one {index, relevance_score} per document)")
        if not np.isfinite(scores).all():
            raise ModelError(f"{self._where}: the reranker returned {int((~np.isfinite(scores)).sum())} "
                             f"NaN/inf score(s) for {expected} documents")
        out = np.empty(expected, dtype=np.float32)
        out[indices] = scores
        if isinstance(body, dict):
            self._count("prompt_tokens", billed_tokens(body, "total_tokens", "prompt_tokens"))
        return out


def _split_endpoint(base_url: str) -> tuple[str, str]:
    """(base URL, path posted to): `/rerank` below a base, or the last part of a URL that names it already."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    if last in ENDPOINTS:
        return urlunsplit((parts.scheme, parts.netloc, head, parts.query, "")), f"/{last}"
    return base_url, "/rerank"


# Qianfan's reranker (legacy API): https://cloud.baidu.com/doc/WENXINWORKSHOP/s/xlu216rqn
QIANFAN_ROUTES = {"bce-reranker-base-v1": "bce_reranker_base", "bce-reranker-base": "bce_reranker_base"}
QIANFAN_MAX_DOCUMENTS = 64
QIANFAN_MAX_CHARS = {"query": 1600, "document": 4096}


class QianfanReranker(QianfanAuth, RerankAPIScorer):
    """`qianfan-rerank:bce-reranker-base_v1` with QIANFAN_AK / QIANFAN_SK: at most 64 documents per request,
    queries cut to 1,600 and documents to 4,096 characters (Qianfan's limits; cuts are counted in
    `usage.truncated`). Errors arrive as HTTP 200 with `error_code`, as for its embeddings."""

    def __init__(self, model: str, options: ModelOptions | None = None) -> None:
        options = options or ModelOptions()
        key = model.lower().replace("_", "-")
        if key not in QIANFAN_ROUTES:
            raise UnknownNameError("Qianfan reranker", model, ["bce-reranker-base_v1"])
        self._login()
        options = dataclasses.replace(options, base_url=options.base_url or QIANFAN_URL,
                                      max_inputs=min(options.max_inputs, QIANFAN_MAX_DOCUMENTS))
        super().__init__("bce-reranker-base_v1", options)
        self.name = "qianfan-rerank:bce-reranker-base_v1"
        self._route = f"/rpc/2.0/ai_custom/v1/wenxinworkshop/reranker/{QIANFAN_ROUTES[key]}"
        self.usage["truncated"] = 0

    def cache_key(self) -> str:
        return f"qianfan-rerank|{self.model}|max_chars={QIANFAN_MAX_CHARS['query']},{QIANFAN_MAX_CHARS['document']}"

    def info(self) -> dict[str, Any]:
        return {**super().info(), "backend": "qianfan-rerank", "base_url": self.base_url}

    def _post_once(self, pairs: list[Pair]) -> np.ndarray:
        query, limit = pairs[0][0], QIANFAN_MAX_CHARS
        documents = [d[:limit["document"]] for _, d in pairs]
        self._count("truncated", (len(query) > limit["query"]) + sum(len(d) > limit["document"] for _, d in pairs))
        body = self._qianfan_post(self._route, {"query": query[:limit["query"]], "documents": documents,
                                                "top_n": len(documents)})
        return self._scores(body, len(documents))
