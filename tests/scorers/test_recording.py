"""The scorers that watch another (`Observed`, `Recording`): everything passes through, the top is kept."""

from __future__ import annotations

import numpy as np

from embedlab.run.observers import SavedRuns
from embedlab.scorers.recording import Recording


def test_recording_passes_everything_through_and_keeps_the_top():
    class Scorer:
        model_seconds = 1.5

        def stats(self):
            return {"x": 1}

        def candidate_scores(self, task):
            return np.ones(3)

        def ranking(self, task, depth):
            return np.arange(depth)[None, :].repeat(2, 0), np.zeros((2, depth), np.float32)

    class Task:
        name = "t"

    wrapped = SavedRuns("unused", depth=4).watch(None, Scorer())
    assert isinstance(wrapped, Recording) and wrapped.model_seconds == 1.5 and wrapped.stats() == {"x": 1}
    assert wrapped.candidate_scores(Task()).tolist() == [1, 1, 1] and wrapped.rankings == {}
    indices, _ = wrapped.ranking(Task(), 10)
    assert indices.shape == (2, 10) and wrapped.rankings["t"][1].shape == (2, 4)
