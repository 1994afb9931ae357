"""Documents to chunk: plain text files (`.txt`, `.md`), a folder of them, or JSONL with a text field.

Each document keeps where it came from (file, line) so that an error about it can point there. Text is
normalised once, here (a byte-order mark dropped, CRLF / CR line ends made LF), and every character offset
given in the original text (an answer's `answer_start`) goes through `Normalised.offset` to the text chunked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from embedlab.data.records import id_field, read_jsonl, text_field
from embedlab.errors import DataError

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
JSONL_SUFFIXES = (".jsonl", ".json-lines")


@dataclass
class Normalised:
    """A text as chunked, and where each of its original characters went."""

    text: str
    kept: list[int] = field(default_factory=list)  # original offset -> offset in `text` (len(original) + 1 long)

    @classmethod
    def of(cls, original: str) -> Normalised:
        """Drop a leading byte-order mark, make CRLF and CR line ends LF; offsets are mapped, not guessed."""
        out: list[str] = []
        kept = []
        skip_lf = False
        for i, ch in enumerate(original):
            kept.append(len(out))
            if (i == 0 and ch == "\ufeff") or (ch == "\n" and skip_lf):
                skip_lf = False
                continue
            skip_lf = ch == "\r"
            out.append("\n" if ch == "\r" else ch)
        kept.append(len(out))
        return cls("".join(out), kept)

    def offset(self, original: int) -> int:
        return self.kept[original]


@dataclass
class Document:
    id: str
    text: str
    source: str
    line: int | None = None
    original: Normalised | None = None  # set when the text was normalised from another (offsets map through it)

    def offset(self, original: int) -> int:
        """Where a character offset of the text as read lands in the text as chunked."""
        return original if self.original is None else self.original.offset(original)


def make_document(doc_id: str, raw: str, source: str | Path, line: int | None = None) -> Document:
    """A document from its text as read; an empty (or all-whitespace) text is a DataError naming it."""
    if not raw.strip():
        raise DataError(f"document '{doc_id}' is empty", path=source, line=line, field="text",
                        hint="remove it, or give it text: an empty document has nothing to chunk")
    normalised = Normalised.of(raw)
    return Document(doc_id, normalised.text, str(source), line,
                    None if normalised.text == raw else normalised)


def read_documents(paths: Iterable[str | Path]) -> dict[str, Document]:
    """Documents by id from files and folders (see the module docstring); ids are unique across them."""
    documents: dict[str, Document] = {}
    for path in map(Path, paths):
        for document in _read_path(path):
            if document.id in documents:
                raise DataError(f"document id '{document.id}' occurs twice (also in {documents[document.id].source})",
                                path=document.source, line=document.line, field="id",
                                hint="give every document its own id")
            documents[document.id] = document
    if not documents:
        raise DataError("no documents found", path=", ".join(map(str, paths)),
                        hint=f"give {', '.join(TEXT_SUFFIXES)} files, a folder of them, or JSONL with a text field")
    return documents


def _read_path(path: Path) -> Iterable[Document]:
    if not path.exists():
        raise DataError("no such file or directory", path=path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        for file in files:
            yield make_document(file.relative_to(path).as_posix(), _read_text(file), file)
    elif path.suffix.lower() in JSONL_SUFFIXES:
        for source, line, record in read_jsonl(path):
            doc_id = id_field(record, ("_id", "id", "doc_id"), path=source, line=line) \
                if any(k in record for k in ("_id", "id", "doc_id")) else str(line)
            # the text alone (a title is not prepended): answer offsets given for a document count in its text
            text = text_field(record, ("text", "content", "contents"), path=source, line=line)
            yield make_document(doc_id, text, source, line)
    elif path.suffix.lower() in TEXT_SUFFIXES:
        yield make_document(path.name, _read_text(path), path)
    else:
        raise DataError(f"unknown document format '{path.suffix}'", path=path,
                        hint=f"give {', '.join(TEXT_SUFFIXES + JSONL_SUFFIXES)} files, a folder of text files, "
                             "or SQuAD-format JSON with --questions")


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid UTF-8 (byte {exc.start})", path=path, hint="re-save the file as UTF-8") from None
