"""No labels yet? A synthetic evaluation set from a team's own documents (`embedlab synth`), and the measurement
of whether it ranks models as human labels do (`embedlab synth --validate`).

Flow: documents -> passages (`passages`: a corpus as it is, or documents cut by `embedlab.chunking`) -> draft queries
(`generate`: `ict`, `title`, `keywords` without an LLM; a chat model of `models.chat` through `ask`, cached and
costed, its answers read strictly by `parse` from the templates of `prompts`) -> `filters` (checks, duplicates,
too-easy share from `copying`, the round trip through `retrievers`) -> a retrieval folder with its provenance
(`folder`). `validate` evaluates systems on a synthetic and a human set and compares their rankings (`rankings`).
"""

from embedlab.synth.filters import FILTERS, FilterSettings
from embedlab.synth.run import SynthOptions, synthesize
from embedlab.synth.validate import Validation, validate, validate_sets

__all__ = ["FILTERS", "FilterSettings", "SynthOptions", "Validation", "synthesize", "validate", "validate_sets"]
