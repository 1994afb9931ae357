"""What a mining run is asked to do: the rank range, how many negatives, the false-negative filters."""

from __future__ import annotations

import math
from dataclasses import dataclass

from embedlab.errors import UnknownNameError
from embedlab.search.names import index_name

SAMPLING = ("top", "random")


@dataclass
class MiningConfig:
    range_min: int = 0  # skip the best `range_min` candidates (they are the likeliest false negatives)
    range_max: int = 100  # consider candidates up to this rank
    num_negatives: int = 7  # per row (7 = FinetuneConfig.group_size - 1)
    sampling: str = "top"  # top | random (seeded, among the candidates that survive the filters)
    absolute_margin: float | None = None
    relative_margin: float | None = 0.05
    max_score: float | None = None
    min_score: float | None = None
    keep_given: bool = False  # keep the row's own negatives first, mined ones fill up to num_negatives
    seed: int = 0
    row_chunk: int = 4096  # rows embedded and searched at once
    corpus_chunk: int = 65536  # corpus texts embedded per chunk (into a memory map when larger)
    index: str = "exact"  # search.names.INDEXES: exact, flat (faiss, exhaustive), hnsw | ivf | usearch (approximate)

    def check(self) -> None:
        """Raise ValueError on a setting no run can use (before any data is read or any text embedded)."""
        if not 0 <= self.range_min < self.range_max:
            raise ValueError(f"need 0 <= range_min < range_max (got {self.range_min}, {self.range_max})")
        if self.num_negatives < 1:
            raise ValueError("num_negatives must be >= 1")
        if self.sampling not in SAMPLING:
            raise ValueError(f"sampling is 'top' or 'random', not {self.sampling!r}")
        try:
            self.index = index_name(self.index)
        except UnknownNameError as exc:
            raise ValueError(str(exc)) from None
        self._check_filters()

    def _check_filters(self) -> None:
        """NaN would turn a filter off without a word (every comparison with it is false): refused, as are limits
        that drop every candidate."""
        if self.relative_margin is not None and not 0 <= self.relative_margin < 1:
            raise ValueError(f"relative_margin must be a number in [0, 1), not {self.relative_margin!r} (0.05: a "
                             "negative scores at most 95% of the positive)")
        for name in ("absolute_margin", "max_score", "min_score"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not {value!r}")
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise ValueError(f"min_score {self.min_score:g} is above max_score {self.max_score:g}: every candidate "
                             "would be dropped")

    def second_model_margins(self) -> MiningConfig:
        """The filters a second model applies: the same margins, or, with none, "below the positive"."""
        margins = MiningConfig(absolute_margin=self.absolute_margin, relative_margin=self.relative_margin)
        if margins.absolute_margin is None and margins.relative_margin is None:
            margins.absolute_margin = 0.0
        return margins
