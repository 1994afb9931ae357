from __future__ import annotations

import pytest


@pytest.fixture
def quick_backoff(monkeypatch):
    """Retries wait milliseconds, not seconds (how long they wait is not what these tests check)."""
    monkeypatch.setattr("embedlab.models.http_api.BACKOFF", 0.005, raising=False)
