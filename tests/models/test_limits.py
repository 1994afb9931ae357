from __future__ import annotations

from embedlab.models.limits import RateLimiter, RequestSizer


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_requests_per_minute_are_spread_over_the_window():
    clock = FakeClock()
    limiter = RateLimiter(rpm=3, clock=clock, sleep=clock.sleep)
    for _ in range(7):
        limiter.acquire()
    assert clock.now == 120.0  # requests 4-6 wait for the first minute, 7 for the second


def test_tokens_per_minute_budget():
    clock = FakeClock()
    limiter = RateLimiter(tpm=1000, clock=clock, sleep=clock.sleep)
    limiter.acquire(600)
    limiter.acquire(400)
    assert clock.now == 0.0
    limiter.acquire(10)
    assert clock.now == 60.0
    limiter.acquire(5000)  # larger than the whole budget: sent alone once the window is free
    assert clock.now == 120.0


def test_no_limits_never_waits():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        limiter.acquire(10**6)
    assert clock.slept == []


def shrunk(said: list) -> RequestSizer:
    """64 texts x 4 slots, measured, then two timeouts: 16 texts x 1 slot."""
    sizer = RequestSizer(64, 4, timeout=60, where="w", say=said.append)
    sizer.first(64, 1.0)
    sizer.shrink(64, "timeout")
    sizer.shrink(32, "timeout")
    assert (sizer.size, sizer.concurrency) == (16, 1)
    return sizer


def test_after_timeouts_a_run_of_fast_answers_grows_the_requests_back():
    """Issue 30 item 4 (AIMD): halved on a timeout; after 8 fast answers in a row, +1/8 of --max-inputs and +1 slot."""
    said = []
    sizer = shrunk(said)
    for _ in range(7):
        sizer.answered(16, 0.5)
    assert (sizer.size, sizer.concurrency) == (16, 1)
    sizer.answered(16, 0.5)
    assert (sizer.size, sizer.concurrency) == (24, 2)
    steps = []
    for _ in range(8 * 6):
        sizer.answered(sizer.size, 0.5)
        steps.append((sizer.size, sizer.concurrency))
    assert steps[7::8] == [(32, 3), (40, 4), (48, 4), (56, 4), (64, 4), (64, 4)]
    assert said[-1] == "w: 8 fast answers in a row: back to 64 texts per request, 4 at once" and len(said) == 3


def test_slow_answers_never_grow_and_break_a_run_of_fast_ones():
    sizer = shrunk([])
    for _ in range(20):  # 10 s for 16 texts: 24 texts with 2 in flight would take 30 s, over a quarter of 60 s
        sizer.answered(16, 10.0)
    assert (sizer.size, sizer.concurrency) == (16, 1)
    for seconds in [0.5] * 7 + [10.0] + [0.5] * 7:
        sizer.answered(16, seconds)
    assert (sizer.size, sizer.concurrency) == (16, 1)
    sizer.answered(16, 0.5)
    assert (sizer.size, sizer.concurrency) == (24, 2)
    sizer.shrink(24, "timeout")  # a timeout ends the run too
    for _ in range(7):
        sizer.answered(12, 0.5)
    assert (sizer.size, sizer.concurrency) == (12, 1)


def test_an_untouched_sizer_stays_at_the_ceiling():
    sizer = RequestSizer(8, 2, timeout=60, where="w", say=None)
    sizer.first(8, 0.1)
    for _ in range(50):
        sizer.answered(8, 0.1)
    assert (sizer.size, sizer.concurrency, sizer.changes) == (8, 2, 0)
