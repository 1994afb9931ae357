"""Hard-negative mining with false-negative control.

`mine(data, model, out)` reads rows, mines negatives for each from the candidate passages with the model,
and writes the rows and a report (`MiningReport`). Inside: `config` (what to mine), `inputs` (reading rows
and candidates), `miner` (search, rank range, bounded memory), `filters` (likely false negatives),
`report` (counts, examples, advice), `api` (`mine`: files in, files out, cost check first).
"""

from embedlab.mining.api import default_report_path, mine
from embedlab.mining.config import MiningConfig
from embedlab.mining.inputs import MiningInput, MiningRow, read_corpus, read_rows
from embedlab.mining.report import MiningReport

__all__ = ["MiningConfig", "MiningInput", "MiningReport", "MiningRow", "default_report_path", "mine",
           "read_corpus", "read_rows"]
