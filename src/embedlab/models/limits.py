"""Client-side request and token budgets for paid APIs (requests / tokens per minute)."""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque

_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
WINDOW = 60.0


def estimated_tokens(text: str) -> int:
    """A labelled estimate: one token per CJK character, one per four other characters."""
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


class RateLimiter:
    """Blocks until one more request of `tokens` fits in the last minute's budgets (sliding window)."""

    def __init__(self, rpm: int | None = None, tpm: int | None = None, clock=time.monotonic,
                 sleep=time.sleep) -> None:
        self.rpm, self.tpm = rpm, tpm
        self._clock, self._sleep = clock, sleep
        self._sent: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def acquire(self, tokens: int = 0) -> None:
        if not (self.rpm or self.tpm):
            return
        if self.tpm:
            tokens = min(tokens, self.tpm)  # one request larger than the budget still goes, alone
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0][0] >= WINDOW:
                    self._sent.popleft()
                used = sum(t for _, t in self._sent)
                if (not self.rpm or len(self._sent) < self.rpm) and (not self.tpm or used + tokens <= self.tpm):
                    self._sent.append((now, tokens))
                    return
                wait = WINDOW - (now - self._sent[0][0])
            self._sleep(max(wait, 0.01))
