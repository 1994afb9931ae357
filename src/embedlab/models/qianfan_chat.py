"""Baidu Qianfan chat models with the legacy API Key / Secret Key (`synth --generator qianfan-chat:<model>`).

`{base}/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/<route>?access_token=…` with `{messages, temperature,
max_output_tokens[, response_format]}`; the answer's text is `result` (`is_truncated` when cut at the limit),
errors arrive as HTTP 200 with `error_code` (`QianfanAuth`, shared with the embeddings and the reranker). The
route is the model's (`ernie-3.5-8k` -> `completions`, `ernie-4.0-8k` -> `completions_pro`; any other name is
used as the route, as a custom service's is). Qianfan's temperature is in (0, 1]: 0 is sent as 0.01, and the legacy
API takes no seed (the cache still keys answers by it). JSON mode (`response_format: "json_object"`) is asked of
the ERNIE 3.5 / 4.0 routes, which take it. The v2 bearer-key endpoint is OpenAI-compatible: use `openai-chat:`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from embedlab.errors import ModelError
from embedlab.models.base import ModelOptions
from embedlab.models.chat import Answer, OpenAIChat
from embedlab.models.http_api import Malformed, billed_tokens
from embedlab.models.qianfan import BASE_URL, QianfanAuth

ROUTES = {"ernie-3.5-8k": "completions", "ernie-bot": "completions", "ernie-4.0-8k": "completions_pro",
          "ernie-bot-4": "completions_pro", "ernie-4.0-turbo-8k": "ernie-4.0-turbo-8k",
          "ernie-speed-8k": "ernie_speed", "ernie-speed-128k": "ernie-speed-128k", "ernie-lite-8k": "ernie-lite-8k",
          "ernie-tiny-8k": "ernie-tiny-8k"}
JSON_MODE_ROUTES = {"completions", "completions_pro", "ernie-4.0-turbo-8k"}
LOWEST_TEMPERATURE = 0.01


class QianfanChat(QianfanAuth, OpenAIChat):

    options_read = OpenAIChat.options_read - {"api_key_env"}  # QIANFAN_AK / QIANFAN_SK

    def __init__(self, model: str, options: ModelOptions | None = None, *, temperature: float = 0.7) -> None:
        options = options or ModelOptions()
        if not 0 <= temperature <= 1:
            raise ModelError(f"Qianfan's temperature is between 0 and 1 (got {temperature:g}): give "
                             "--generator-temperature in that range")
        self._login()
        key = model.lower()
        super().__init__(key, dataclasses.replace(options, base_url=options.base_url or BASE_URL),
                         temperature=temperature)
        self.name = f"qianfan-chat:{key}"
        route = ROUTES.get(key, key)
        self._route = f"/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{route}"
        self.json_mode = route in JSON_MODE_ROUTES

    def cache_key(self) -> str:
        return f"qianfan-chat|{self.base_url}|{self._route}|temperature={self.temperature!r}"

    def info(self) -> dict[str, Any]:
        return {**super().info(), "backend": "qianfan-chat", "route": self._route}

    def _complete(self, prompt: str, seed: int, max_tokens: int) -> Answer:
        payload: dict[str, Any] = {"messages": [{"role": "user", "content": prompt}],
                                   "temperature": max(self.temperature, LOWEST_TEMPERATURE),
                                   "max_output_tokens": max(2, max_tokens)}
        if self.json_mode:
            payload["response_format"] = "json_object"
        body = self._qianfan_post(self._route, payload)
        text = body.get("result")
        if not isinstance(text, str):
            raise Malformed("malformed response (no result text)")
        return self._counted(Answer(text, billed_tokens(body, "prompt_tokens"), billed_tokens(body, "completion_tokens"),
                                    truncated=bool(body.get("is_truncated"))))
