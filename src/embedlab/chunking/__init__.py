"""Which chunking for my documents? Splitters x sizes x overlaps, each configuration's chunks scored as a
retrieval corpus against the answers' spans (`embedlab chunks`).

Flow: documents and questions (`documents`, `questions`: answer spans checked against the text) -> units
(`units`: the model's tokens or characters) -> chunks with their character offsets (`splitters`, `sentences`,
`semantic`) -> one `RetrievalTask` per configuration (`corpus`) -> the existing scorers and their `score`,
plus the span metrics of Chroma's report (`spans`) -> Results, one run per (model, configuration) (`run`).

The splitting library, chosen by measurement (bench/chunks.py, bench/RESULTS.md "Which chunking?"): on the 48
joined xquad_r_zh articles at 128 MiniLM tokens, semantic-text-splitter split in 0.33 s with every chunk's
offset exact and no chunk over the size; chonkie 1.7's TokenChunker returns decoded text (a WordPiece
tokenizer loses characters: every offset wrong), its RecursiveChunker got 80 offsets wrong on Chinese and its
SentenceChunker let a chunk reach 898 tokens; langchain-text-splitters 1.1 was the slowest (0.40 s), finds
offsets by searching the text (wrong where text repeats: 13 wrong with a 32-token overlap) and needs tiktoken
for its token splitter. So: semantic-text-splitter for the recursive splitter; fixed token windows are cut
from the tokenizer's own offsets, and sentence boundaries are our own (`sentences`: Unicode sentence rules do
not end a sentence at "；" or "…").
"""

from embedlab.chunking.run import ChunkOptions, evaluate_chunking
from embedlab.chunking.splitters import SPLITTERS, ChunkConfig, grid

__all__ = ["SPLITTERS", "ChunkConfig", "ChunkOptions", "evaluate_chunking", "grid"]
