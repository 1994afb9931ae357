"""The passages synthetic queries are written for.

DOCS is a corpus embedlab reads, used as it is (ids and titles kept): a retrieval folder (BEIR / C-MTEB parquet: its
corpus files; mteb 2.x's layout: its corpus), or a corpus file, JSONL or parquet records `{_id, title?, text}`. Or
plain documents: `.txt` / `.md` files, folders of them, JSONL records with a text field and no `_id`
(`chunking.documents`), cut into passages by `embedlab.chunking`'s splitters first (`--chunk`, sizes in characters;
a chunk's id is `<document>:<start>-<end>`). A passage with no text and an id used twice are one line each.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from embedlab.chunking.documents import make_document, read_documents
from embedlab.chunking.splitters import ChunkConfig, grid, split_document
from embedlab.chunking.units import CharUnits
from embedlab.data.mteb_layout import is_mteb_layout, load_mteb_layout
from embedlab.data.output import is_saved_dataset
from embedlab.data.records import read_records
from embedlab.data.retrieval import TextRecord, find_files, is_retrieval_folder, join_title, read_text_records
from embedlab.errors import DataError, EmbedlabError

DEFAULT_CHUNK = "recursive-500"  # documents: semantic-text-splitter, 500 characters, no overlap
TABLES = (".parquet", ".arrow")


@dataclass(frozen=True)
class Passage:
    id: str
    text: str
    title: str = ""

    @property
    def content(self) -> str:
        """What a model reads: the title and text joined as mteb joins them."""
        return join_title(self.title, self.text)


@dataclass
class Passages:
    items: list[Passage]
    source: dict = field(default_factory=dict)  # what was read and how (for the provenance)

    def by_id(self) -> dict[str, Passage]:
        return {p.id: p for p in self.items}


def read_passages(paths: list[str | Path], *, chunk: str = "auto", split: str | None = None) -> Passages:
    """Passages of `paths` (see the module docstring). `chunk`: "auto" (documents cut with DEFAULT_CHUNK, a corpus
    as it is), "none" (nothing cut), or a configuration such as `recursive-500`, `sentence-300-50`, `tokens-256`
    (every text cut, a corpus's too)."""
    config = parse_chunk(chunk)
    paths = [Path(p) for p in paths]
    corpus = all(_is_corpus(p) for p in paths)
    if corpus:
        passages = _corpus(paths, split)
    else:
        passages = [Passage(d.id, d.text.strip()) for d in read_documents(paths).values()]
        config = parse_chunk(DEFAULT_CHUNK) if chunk == "auto" else config
    if config is not None:
        passages = _chunked(passages, config)
    if not corpus:
        passages = _spaceless(passages)
    return Passages(passages, {"docs": [str(p) for p in paths], "layout": "corpus" if corpus else "documents",
                               "chunking": config.as_dict() if config else None, "passages": len(passages)})


def parse_chunk(text: str) -> ChunkConfig | None:
    """`auto` / `none` -> None; `splitter-size[-overlap]` (characters) -> its configuration, checked."""
    if text in ("auto", "none"):
        return None
    name, *numbers = text.split("-")
    try:
        size, overlap = int(numbers[0]), int(numbers[1]) if len(numbers) > 1 else 0
        if len(numbers) > 2:
            raise ValueError
    except (IndexError, ValueError):
        raise EmbedlabError(f"--chunk '{text}' is not auto, none or SPLITTER-SIZE[-OVERLAP] (sizes in characters), "
                            "e.g. recursive-500, sentence-300-50") from None
    if name in ("semantic", "none"):
        raise EmbedlabError(f"--chunk {name}-…: synth cuts documents with tokens, recursive or sentence "
                            "(semantic chunking needs a model; `embedlab chunks` compares it)")
    return grid([name], [size], [overlap])[0]


def sample_passages(passages: Passages, sample: int | None, seed: int) -> list[Passage]:
    """A seeded sample of `sample` passages in corpus order (all of them when None or more than there are)."""
    items = passages.items
    if sample is None or sample >= len(items):
        return list(items)
    chosen = set(random.Random(seed).sample(range(len(items)), sample))
    return [p for i, p in enumerate(items) if i in chosen]


def _is_corpus(path: Path) -> bool:
    if path.is_dir():
        return is_retrieval_folder(path) or is_mteb_layout(path) or is_saved_dataset(path)
    if path.suffix.lower() in TABLES:
        return True
    if path.suffix.lower() not in (".jsonl", ".json-lines"):
        return False
    first = next(iter(read_records(path)), None)
    return first is not None and "_id" in first[2]


def _corpus(paths: list[Path], split: str | None) -> list[Passage]:
    passages: dict[str, Passage] = {}
    where: dict[str, str] = {}
    for path in paths:
        for item in _records(path, split):
            if item.problem == "malformed_row":
                raise DataError(item.detail, path=item.file, line=item.line)
            if item.problem == "duplicate_id" or item.key in passages:
                raise DataError(f"passage id '{item.key}' occurs twice (also at {where[item.key]})", path=item.file,
                                line=item.line, field="_id", hint="give every passage its own id")
            if not item.text.strip():
                raise DataError(f"passage '{item.key}' has no text", path=item.file, line=item.line, field="text",
                                hint="remove it or give it text: no query can be written for it")
            passages[item.key] = Passage(item.key, item.text.strip(), (item.title or "").strip())
            where[item.key] = f"{item.file}:{item.line}"
    if not passages:
        raise DataError("no passages", path=", ".join(map(str, paths)))
    return list(passages.values())


def _records(path: Path, split: str | None):
    """The corpus records of a corpus file or folder, as `data.retrieval` reads them."""
    if path.is_dir() and is_mteb_layout(path):
        task = load_mteb_layout(path, split=split)
        corpus = getattr(task, "corpus", None) or {}
        for line, (key, text) in enumerate(corpus.items(), start=1):
            yield TextRecord(path, line, {}, key=key, text=text)
        return
    files = find_files(path, "corpus", split) if path.is_dir() and not is_saved_dataset(path) else [path]
    yield from read_text_records(files, with_title=True)


def _spaceless(passages: list[Passage]) -> list[Passage]:
    """Passages of documents with ids a qrels file can hold (a file name's spaces become _), still unique."""
    out: dict[str, Passage] = {}
    given: dict[str, str] = {}
    for passage in passages:
        key = re.sub(r"\s+", "_", passage.id)
        if key in out:
            raise DataError(f"two documents get the id '{key}' ('{given[key]}' and '{passage.id}': spaces become _ "
                            "in ids)", path=passage.id, hint="rename one of them")
        out[key], given[key] = Passage(key, passage.text, passage.title), passage.id
    return list(out.values())


def _chunked(passages: list[Passage], config: ChunkConfig) -> list[Passage]:
    units, out = CharUnits(), []
    for passage in passages:
        document = make_document(passage.id, passage.content, "passages")
        out += [Passage(chunk.id, document.text[chunk.start:chunk.end]) for chunk in split_document(document, config, units)]
        units.forget()
    return out
