"""Baidu Qianfan embeddings (Embedding-V1, bge-large-zh, bge-large-en, tao-8k), legacy API Key /
Secret Key authentication, as Baidu's own SDK calls it (`QianfanAuth`, shared with its reranker in
`rerank_api.py`).

- An OAuth `client_credentials` access token from `{base}/oauth/2.0/token`, cached until shortly
  before it expires and fetched again when the server says it is invalid or expired (110 / 111).
- Embeddings from `{base}/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/<route>?access_token=…`
  with body `{"input": [...]}`; errors arrive as HTTP 200 with `error_code` / `error_msg`.
- At most 16 texts per request, and for Embedding-V1 1,000 characters and 384 tokens per text (tokens
  estimated from characters, 1 per CJK character: Baidu's tokenizer is not public): longer texts are
  cut to fit and counted (`usage.truncated`), or rejected with `truncate=False`; never silently.

The v2 platform's bearer-key OpenAI-compatible endpoint needs no special code: use `openai:<model>`
with its base URL.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import numpy as np

from embedlab.errors import ModelError
from embedlab.models.base import Kind, ModelOptions
from embedlab.models.credentials import secret
from embedlab.models.http_api import RetryableError
from embedlab.models.limits import estimated_tokens
from embedlab.models.openai_compat import OpenAICompatibleEncoder

BASE_URL = "https://aip.baidubce.com"
ROUTES = {"embedding-v1": "embedding-v1", "bge-large-zh": "bge_large_zh",
          "bge-large-en": "bge_large_en", "tao-8k": "tao_8k"}
MAX_INPUTS = 16
MAX_CHARS = {"embedding-v1": 1000}
MAX_TOKENS = {"embedding-v1": 384}  # checked with embedlab's character-based token estimate
# codes from Baidu's qianfan SDK (APIErrorCode): worth retrying, and "get a new token"
RETRY_CODES = {4: "request limit", 18: "QPS limit", 336100: "server high load",
               336501: "RPM limit", 336502: "TPM limit"}
TOKEN_CODES = {110: "access token invalid", 111: "access token expired"}


class QianfanAuth:
    """Qianfan's legacy API Key / Secret Key authentication and error answers, shared by its embeddings and
    its reranker (mixed in before the backend's HTTP class)."""

    def _login(self) -> None:
        """Reads QIANFAN_AK / QIANFAN_SK (a ModelError when absent); the token is fetched when first needed."""
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self._ak = secret("QIANFAN_AK")
        self._sk = secret("QIANFAN_SK")
        if not (self._ak and self._sk):
            raise ModelError("no Qianfan credentials: set the environment variables QIANFAN_AK and QIANFAN_SK "
                             "(API Key and Secret Key of your Qianfan application), or put them in ~/.config/embedlab/keys.env")

    def _read_key(self) -> None:
        return None  # authentication is by access token, in the query string

    def _qianfan_post(self, route: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with the access token; an error answer (HTTP 200 with error_code) is retried, refreshes the
        token, or fails with one line."""
        token = self._access_token()
        body = self._json(self._send(route, payload, params={"access_token": token}))
        code = body.get("error_code")
        if code is not None:
            message = f"Qianfan error {code}: {self._redact(str(body.get('error_msg', '')))}"
            if code in TOKEN_CODES:
                with self._token_lock:
                    if self._token == token:
                        self._token = None  # the next attempt fetches a new one
                raise RetryableError(message)
            if code in RETRY_CODES:
                raise RetryableError(message)
            raise ModelError(f"{self._where}: {message}")
        return body

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token and time.time() < self._token_expires:
                return self._token
            body = self._json(self._send("/oauth/2.0/token", {}, params={
                "grant_type": "client_credentials", "client_id": self._ak, "client_secret": self._sk}))
            if "access_token" not in body:
                detail = body.get("error_description") or body.get("error") or "no access_token in the answer"
                raise ModelError(f"{self._where}: Qianfan authentication failed: {self._redact(str(detail))} "
                                 "(check QIANFAN_AK / QIANFAN_SK)")
            self._token = str(body["access_token"])
            self._token_expires = time.time() + float(body.get("expires_in", 3600)) - 60
            return self._token

    def _secrets(self) -> list[str]:
        return [s for s in (self._ak, self._sk, self._token) if s] + self.endpoint.secrets


class QianfanEncoder(QianfanAuth, OpenAICompatibleEncoder):

    # AK / SK from QIANFAN_AK / QIANFAN_SK, no --api-key-env; no dimensions or input types
    options_read = OpenAICompatibleEncoder.options_read - {"api_key_env", "dimensions", "input_type"}
    def __init__(self, model: str, options: ModelOptions | None = None) -> None:
        options = options or ModelOptions()
        key = model.lower().replace("_", "-")
        if key not in ROUTES:
            from embedlab.errors import UnknownNameError

            raise UnknownNameError("Qianfan embedding model", model, ROUTES)
        self._login()
        # a copy: the options object is shared by every model of a run
        options = dataclasses.replace(options, base_url=options.base_url or BASE_URL,
                                      max_inputs=min(options.max_inputs, MAX_INPUTS))
        super().__init__(model, options)
        self.model = key
        self.name = f"qianfan:{key}"
        self._route = f"/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/{ROUTES[key]}"
        self.max_chars = MAX_CHARS.get(key)
        self.max_tokens = MAX_TOKENS.get(key)
        self.truncate = True
        self.usage["truncated"] = 0

    def __repr__(self) -> str:
        return f"QianfanEncoder(model={self.model!r}, base_url={self.base_url!r})"

    def cache_key(self, kind: Kind) -> str:
        return (f"qianfan|{self.model}|max_chars={self.max_chars}|max_tokens={self.max_tokens}"
                f"|prefix={self.instructions[kind]!r}")

    def info(self) -> dict[str, Any]:
        return {**super().info(), "backend": "qianfan", "max_chars": self.max_chars,
                "max_tokens": self.max_tokens}

    def _inputs(self, texts: list[str], kind: Kind) -> list[str]:
        """The prefix, then the longest start of each text within the model's limits; cuts are counted."""
        prefix = self.instructions[kind]
        fitted = [self._fit(prefix, t) for t in texts]
        cut = sum(f != t for f, t in zip(fitted, texts))
        if cut and not self.truncate:
            longest = max(texts, key=len)
            raise ModelError(f"{cut} text(s) exceed {self.model}'s limit of {self.max_chars} characters / "
                             f"{self.max_tokens} tokens, e.g. one of {len(longest)} characters; shorten them "
                             "or allow truncation")
        self._count("truncated", cut)
        return [prefix + f for f in fitted]

    def _fit(self, prefix: str, text: str) -> str:
        """The longest start of `text` within the model's character and (estimated) token limits."""
        keep = len(text) if self.max_chars is None else max(0, min(len(text), self.max_chars - len(prefix)))
        if self.max_tokens is not None and estimated_tokens(prefix + text[:keep]) > self.max_tokens:
            low, high = 0, keep  # estimated_tokens grows with length: bisect the cut
            while low < high:
                middle = (low + high + 1) // 2
                if estimated_tokens(prefix + text[:middle]) <= self.max_tokens:
                    low = middle
                else:
                    high = middle - 1
            keep = low
        return text[:keep]

    def _post_once(self, inputs: list[str], kind: Kind) -> np.ndarray:
        return self._vectors(self._qianfan_post(self._route, {"input": inputs}), len(inputs))
