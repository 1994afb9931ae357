"""How each kind of model answers a task: one scorer contract (`base.Scorer`: `score(task) -> TaskResult`), the
scorers of an Encoder, a Ranker, a PairScorer (`kinds`) and of the combinations (`hybrid`, `two_stage`), the table
that picks one per kind of model (`table`), approximate search for dense retrieval (`approximate`) and scorers that
watch the rankings another gives (`recording`).

Every scorer checks what its model returns (shape, NaN) and counts the seconds spent inside the model, which
results report as the model's time.
"""

from embedlab.scorers.base import Scorer
from embedlab.scorers.hybrid import HybridScorer, SweepView
from embedlab.scorers.kinds import DenseScorer, PairScoring, RankerScorer
from embedlab.scorers.table import SCORERS, scorer_for
from embedlab.scorers.two_stage import Reranked, TwoStage, TwoStageScorer

__all__ = ["DenseScorer", "HybridScorer", "PairScoring", "RankerScorer", "Reranked", "SCORERS", "Scorer",
           "SweepView", "TwoStage", "TwoStageScorer", "scorer_for"]
