"""Client-side limits for APIs: request and token budgets per minute, and request sizes adapted to the server."""

from __future__ import annotations

import logging
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


class RequestSizer:
    """Texts per request and requests in flight, adapted to a server that is slower than its timeout (AIMD).

    Both start at the user's `--max-inputs` / `--concurrency`, their ceilings. The first request of a run is
    measured: when a full pipe of such requests would not finish well within the timeout, later requests get
    fewer texts. A request that times out (or is refused as too large, HTTP 413) is split in halves, and every
    later request gets at most half as many texts and half as many slots (multiplicative decrease), so a slow
    server is never sent again what it could not finish. After GROW_AFTER fast answers in a row (each within a
    quarter of the timeout, and fast enough that the grown size would be too), the size grows by an eighth of
    --max-inputs (at least 1) and the slots by one, up to the ceilings (additive increase). Each decrease is
    said once, with the options that set it; the return to full size is said too.
    """

    SAFETY = 4  # aim for a request to take at most a quarter of the timeout
    GROW_AFTER = 8  # fast answers in a row before one step back up

    def __init__(self, max_inputs: int, concurrency: int, timeout: float, where: str,
                 say=logging.getLogger(__name__).warning) -> None:
        self.size, self.concurrency, self.timeout, self.where = max_inputs, max(1, concurrency), timeout, where
        self.ceiling = (self.size, self.concurrency)
        self.measured = False
        self.changes = 0
        self._fast = 0  # fast answers in a row at the present size
        self._say = say
        self._lock = threading.Lock()

    def first(self, texts: int, seconds: float) -> None:
        """The first request took `seconds` for `texts` texts (alone): size the next ones from it."""
        with self._lock:
            self.measured = True
            per_text = seconds / max(texts, 1)
            fit = int(self.timeout / self.SAFETY / (per_text * self.concurrency)) if per_text > 0 else self.size
            if fit < self.size:
                self.size = max(1, fit)
                self.changes += 1
                self._say(f"{self.where}: the first request took {seconds:.1f} s for {texts} texts: sending "
                          f"{self.size} texts per request from now on, {self.concurrency} at once, to stay "
                          f"within the {self.timeout:g} s timeout (--max-inputs, --concurrency, --timeout)")

    def shrink(self, texts: int, reason: str) -> None:
        """A request of `texts` texts was too slow or too large: halve the size (and the slots after a timeout)."""
        with self._lock:
            self._fast = 0
            size = max(1, min(self.size, texts // 2))
            concurrency = max(1, self.concurrency // 2) if reason == "timeout" else self.concurrency
            if (size, concurrency) == (self.size, self.concurrency):
                return
            self.size, self.concurrency = size, concurrency
            self.changes += 1
            what = f"timed out after {self.timeout:g} s" if reason == "timeout" else "was refused as too large"
            self._say(f"{self.where}: a request of {texts} texts {what}: splitting it, and sending at most "
                      f"{size} texts per request, {concurrency} at once, from now on "
                      "(--max-inputs, --concurrency, --timeout)")

    def answered(self, texts: int, seconds: float) -> None:
        """A request of `texts` texts was answered in `seconds`: after GROW_AFTER fast ones in a row, one step up."""
        with self._lock:
            if not self.measured or (self.size, self.concurrency) == self.ceiling:
                return
            size = min(self.ceiling[0], self.size + max(1, self.ceiling[0] // 8))
            concurrency = min(self.ceiling[1], self.concurrency + 1)
            # the time a request of the grown size would take, with one more in flight on a server that queues
            expected = seconds / max(texts, 1) * size * concurrency / self.concurrency
            if expected > self.timeout / self.SAFETY:
                self._fast = 0
                return
            self._fast += 1
            if self._fast < self.GROW_AFTER:
                return
            self._fast = 0
            self.size, self.concurrency = size, concurrency
            self.changes += 1
            if (size, concurrency) == self.ceiling:
                self._say(f"{self.where}: {self.GROW_AFTER} fast answers in a row: back to {size} texts per "
                          f"request, {concurrency} at once")
