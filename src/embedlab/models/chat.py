"""Chat models that write text for a prompt (`embedlab synth --generator openai-chat:<model>`): the contract
(`ChatModel`) and any OpenAI-compatible `/v1/chat/completions` endpoint (vLLM, Ollama, llama.cpp's server,
Qianfan's v2 endpoint, OpenAI).

One prompt per request, `concurrency` in flight, with the retries, timeouts, rate limits, usage counts and redaction
every API backend shares (`http_api.HttpApi`). JSON mode (`response_format: {"type": "json_object"}`) is asked for
while the server takes it: a server that refuses it (HTTP 400 naming it) is asked again without, and from then on,
said once. A server that is not a chat endpoint (HTTP 404 / 405 on /chat/completions, or an answer without
`choices`) stops the run with one line before anything is written. Tokens billed come from `usage`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from embedlab.errors import ModelError
from embedlab.models.base import Model, ModelOptions
from embedlab.models.http_api import HttpApi, Malformed, Refused, billed_tokens
from embedlab.models.limits import estimated_tokens

log = logging.getLogger(__name__)
OPENAI_URL = "https://api.openai.com/v1"
CHAT_PATH = "/chat/completions"


@dataclass(frozen=True)
class Answer:
    """What a chat model wrote for one prompt, and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: bool = False  # stopped at the token limit (finish_reason "length")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ChatModel(Model):
    """A model that answers prompts: `complete_batches(prompts, seed=, max_tokens=)` yields (start, stop,
    answers) as they arrive, one `Answer` per prompt. Paid by default: estimated first, cached, --max-cost."""

    gives = "text written for a prompt (a chat model)"
    paid = True
    json_mode: bool = False  # the server is asked for a JSON object

    def __init__(self, model: str, options: ModelOptions | None = None, *, temperature: float = 0.7) -> None:
        self.model, self.options, self.temperature = model, options or ModelOptions(), temperature

    def complete_batches(self, prompts: Sequence[str], *, seed: int, max_tokens: int
                         ) -> Iterator[tuple[int, int, list[Answer]]]:
        raise NotImplementedError(f"{type(self).__name__} must implement complete_batches(prompts, seed, max_tokens)")

    def cache_key(self) -> str:
        """Everything besides the prompt and the seed that decides an answer (model, endpoint, temperature);
        never a secret."""
        return f"{type(self).__module__}.{type(self).__qualname__}|{self.name}|temperature={self.temperature!r}"


class OpenAIChat(HttpApi, ChatModel):
    """`openai-chat:<model>` at `--base-url` (or its `.../chat/completions` URL)."""

    options_read = HttpApi.options_read - {"max_inputs"}  # one prompt per request

    def __init__(self, model: str, options: ModelOptions | None = None, *, temperature: float = 0.7) -> None:
        options = options or ModelOptions()
        ChatModel.__init__(self, model, options, temperature=temperature)
        self.name = f"openai-chat:{model}"
        base = chat_base(options.base_url or OPENAI_URL)
        self._connect(dataclasses.replace(options, base_url=base, max_inputs=1), base, "chat models (synth --generator)")
        self.usage["completion_tokens"] = 0
        self.json_mode = True  # until the server says it does not take it

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"

    def cache_key(self) -> str:
        return f"openai-chat|{self.base_url}|{self.model}|temperature={self.temperature!r}"

    def info(self) -> dict[str, Any]:
        return {**super().info(), "backend": "openai-chat", "model": self.model, "base_url": self.base_url,
                "temperature": self.temperature, "json_mode": self.json_mode, "usage": dict(self.usage)}

    def status(self) -> str:
        return self.usage_line(self.price_per_mtok()) + f", {self.usage['completion_tokens']:,} written"

    def complete_batches(self, prompts: Sequence[str], *, seed: int, max_tokens: int
                         ) -> Iterator[tuple[int, int, list[Answer]]]:
        """One request per prompt, `concurrency` in flight, each answer yielded as it arrives."""
        chunks = ((i, [prompt]) for i, prompt in enumerate(prompts))
        for start, stop, answers in self._pipelined(chunks, lambda chunk: self._post(
                chunk, lambda part: self._asked(part[0], seed, max_tokens),
                lambda part: sum(estimated_tokens(p) for p in part) + max_tokens)):
            yield start, stop, list(answers)

    def _asked(self, prompt: str, seed: int, max_tokens: int) -> np.ndarray:
        """The answer to one prompt (an object array of one, as the shared client expects)."""
        answer = np.empty(1, dtype=object)
        answer[0] = self._complete(prompt, seed, max_tokens)
        return answer

    def _complete(self, prompt: str, seed: int, max_tokens: int) -> Answer:
        payload: dict[str, Any] = {"model": self.model, "messages": [{"role": "user", "content": prompt}],
                                   "temperature": self.temperature, "seed": seed, "max_tokens": max_tokens}
        if self.json_mode:
            payload["response_format"] = {"type": "json_object"}
        try:
            response = self._send(CHAT_PATH, payload)
        except Refused as exc:
            if exc.status in (404, 405):
                raise ModelError(f"{self._where} is not a chat endpoint (HTTP {exc.status} on {CHAT_PATH}): give the "
                                 "base URL of an OpenAI-compatible chat server, e.g. http://127.0.0.1:8000/v1") from None
            if not (self.json_mode and exc.status in (400, 422) and _names_json_mode(str(exc))):
                raise
            self.json_mode = False
            log.warning("%s does not take JSON mode (response_format): asking without it from now on; answers are "
                        "still parsed strictly", self._where)
            return self._complete(prompt, seed, max_tokens)
        return self._answer(self._json(response))

    def _answer(self, body: dict[str, Any]) -> Answer:
        choices = body.get("choices")
        if choices is None and ("data" in body or "embedding" in str(body.get("object", ""))):
            raise ModelError(f"{self._where} answers as an embeddings endpoint, not a chat endpoint: give the base "
                             "URL of an OpenAI-compatible chat server")
        try:
            message = choices[0]["message"]
            text = message.get("content") or ""
            finish = choices[0].get("finish_reason")
        except (TypeError, KeyError, IndexError, AttributeError):
            raise Malformed("malformed response (no choices[0].message)") from None
        if not isinstance(text, str):
            raise Malformed("malformed response (a message content that is not text)")
        return self._counted(Answer(text, billed_tokens(body, "prompt_tokens"), billed_tokens(body, "completion_tokens"),
                                    truncated=finish == "length"))

    def _counted(self, answer: Answer) -> Answer:
        self._count("prompt_tokens", answer.prompt_tokens)
        self._count("completion_tokens", answer.completion_tokens)
        return answer


def chat_base(base_url: str) -> str:
    """The base URL of a chat endpoint given as its base (`.../v1`) or as the endpoint itself."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    if path.endswith(CHAT_PATH):
        path = path[: -len(CHAT_PATH)]
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _names_json_mode(message: str) -> bool:
    text = message.lower()
    return "response_format" in text or "json" in text

