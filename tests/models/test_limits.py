from __future__ import annotations

from embedlab.models.limits import RateLimiter


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
