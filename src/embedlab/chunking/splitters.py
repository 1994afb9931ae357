"""The splitters: each cuts a document into chunks that keep their character offsets in it.

- `tokens`: fixed windows of `size` units, `overlap` units shared by neighbours (cut at token boundaries);
- `recursive`: semantic-text-splitter (the Rust `text-splitter`): the largest Unicode units (paragraphs, then
  sentences, words, graphemes) that fit `size` tokens of the model's own tokenizer, with `overlap`;
- `sentence`: sentences (`chunking.sentences`, Chinese punctuation, never inside a number) packed up to `size`,
  the last sentences of a chunk repeated at the start of the next up to `overlap`; a sentence longer than
  `size` is cut by `recursive`;
- `semantic`: sentence packing that also breaks where neighbouring sentences' embeddings diverge
  (`chunking.semantic`);
- `none`: the document as one passage (the model truncates it: the baseline people forget).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from embedlab.chunking.documents import Document
from embedlab.chunking.sentences import sentence_spans
from embedlab.chunking.units import SHORTEST_CHUNK, CharUnits
from embedlab.errors import EmbedlabError, UnknownNameError

SPLITTERS = ("tokens", "recursive", "sentence", "semantic", "none")
WITHOUT_OVERLAP = ("semantic", "none")  # semantic breaks are not windows; none is one passage


@dataclass(frozen=True)
class ChunkConfig:
    splitter: str
    size: int | None = None  # units (ChunkingUnits.name); None for "none"
    overlap: int = 0

    def label(self) -> str:
        if self.size is None:
            return self.splitter
        return f"{self.splitter}-{self.size}" + (f"-{self.overlap}" if self.overlap else "")

    def as_dict(self) -> dict:
        return {"splitter": self.splitter, "size": self.size, "overlap": self.overlap, "label": self.label()}


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    start: int
    end: int

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.start}-{self.end}"


def grid(splitters: list[str], sizes: list[int], overlaps: list[int]) -> list[ChunkConfig]:
    """Every configuration of splitters x sizes x overlaps, checked before anything is read or encoded:
    an unknown splitter, an overlap not below its size, a size below the shortest sensible chunk are one
    EmbedlabError each. Semantic chunks and "none" take no overlap (one configuration per size / one)."""
    for name in splitters:
        if name not in SPLITTERS:
            raise UnknownNameError("splitter", name, SPLITTERS)
    if any(name != "none" for name in splitters) and not sizes:
        raise EmbedlabError("give --size (one or more chunk sizes) for the splitters other than none")
    for size in sizes:
        if size < SHORTEST_CHUNK:
            raise EmbedlabError(f"--size {size} is below the shortest sensible chunk ({SHORTEST_CHUNK} units: less "
                                "holds no complete sentence, and the model's special tokens would outweigh the text)")
    for overlap in overlaps:
        if overlap < 0:
            raise EmbedlabError(f"--overlap {overlap}: an overlap is 0 or more units")
    configs: list[ChunkConfig] = []
    for name in dict.fromkeys(splitters):
        if name == "none":
            configs.append(ChunkConfig("none"))
            continue
        for size in dict.fromkeys(sizes):
            for overlap in dict.fromkeys(overlaps if name not in WITHOUT_OVERLAP else [0]):
                if overlap >= size:
                    raise EmbedlabError(f"--overlap {overlap} is not below --size {size} ({name}): each chunk "
                                        "would repeat the whole previous one; give an overlap smaller than the size")
                configs.append(ChunkConfig(name, size, overlap))
    return list(dict.fromkeys(configs))


def split_document(document: Document, config: ChunkConfig, units: CharUnits,
                   breaks: Callable[[Document, list[tuple[int, int]]], set[int]] | None = None) -> list[Chunk]:
    """The chunks of one document, in order. `breaks` (semantic): the sentence indices a chunk must start at."""
    text = document.text
    if config.splitter == "none":
        spans = [_trimmed(text, 0, len(text))]
    elif config.splitter == "tokens":
        spans = _windows(units, text, config.size, config.overlap)
    elif config.splitter == "recursive":
        spans = _recursive(units, text, 0, len(text), config.size, config.overlap)
    else:
        sentences = sentence_spans(text)
        forced = breaks(document, sentences) if config.splitter == "semantic" and breaks is not None else set()
        spans = _packed(units, text, sentences, config.size, config.overlap, forced)
    return [Chunk(document.id, start, end) for start, end in dict.fromkeys(spans) if end > start]


def _windows(units: CharUnits, text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    offsets = units.offsets(text)
    n, step = len(offsets), size - overlap
    spans = []
    for first in range(0, max(n, 1), step):
        last = min(first + size, n) - 1
        spans.append((int(offsets[first, 0]), int(offsets[last, 1])))
        if first + size >= n:
            break
    return spans


def _recursive(units: CharUnits, text: str, start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    piece = text[start:end]
    return [(start + at, start + at + len(chunk)) for at, chunk in units.text_splitter(size, overlap).chunk_indices(piece)]


def _packed(units: CharUnits, text: str, sentences: list[tuple[int, int]], size: int, overlap: int,
            forced: set[int]) -> list[tuple[int, int]]:
    """Sentences packed greedily up to `size` units; a chunk starts at each index in `forced`; the next chunk
    starts with the last sentences of the previous one that fit in `overlap` (never all of them)."""
    pieces: list[tuple[int, int, int, int]] = []  # (start, end, units, sentence index)
    for index, (start, end) in enumerate(sentences):
        count = units.count(text, start, end)
        if count <= size:
            pieces.append((start, end, count, index))
        else:  # a sentence longer than a chunk: cut by the recursive splitter, without overlap
            pieces += [(s, e, units.count(text, s, e), index) for s, e in _recursive(units, text, start, end, size, 0)]
    spans, current = [], []
    for piece in pieces:
        starts_here = piece[3] in forced and current and current[-1][3] != piece[3]
        if current and (starts_here or sum(p[2] for p in current) + piece[2] > size):
            spans.append((current[0][0], current[-1][1]))
            current = [] if starts_here else _tail(current, overlap, size - piece[2])
        current.append(piece)
    if current:
        spans.append((current[0][0], current[-1][1]))
    return spans


def _tail(current: list, overlap: int, room: int) -> list:
    """The last pieces of a chunk that fit in `overlap` units and leave room for the next piece."""
    kept, total = [], 0
    for piece in reversed(current[1:]):  # never the whole chunk: the next one must move on
        if total + piece[2] > min(overlap, room):
            break
        kept.insert(0, piece)
        total += piece[2]
    return kept


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
