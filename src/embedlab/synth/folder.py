"""The synthetic set as a folder every command reads: `corpus.jsonl` ({_id, title, text}), `queries.jsonl` ({_id,
text, passage, style}), `qrels.tsv` (query-id, corpus-id, score 1), and beside them `synth.json` (the provenance:
generator, model, prompts with their sha256, seed, filters and what each removed), `removed.jsonl` (every query a
filter took out, and why) and, with --reranking-rows, `reranking.jsonl` (rows with mined negatives) and its mining
report. Written into a temporary sibling and renamed into place (`data.output.atomic_folder`): a killed run leaves
no folder that looks complete."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from embedlab.data.output import atomic_folder, dump_jsonl
from embedlab.data.records import read_json
from embedlab.errors import DataError
from embedlab.synth.drafts import Draft
from embedlab.synth.passages import Passage

PROVENANCE = "synth.json"
SCHEMA = "embedlab.synth/1"
Rows = Callable[[list[tuple[str, Draft]], dict[str, Passage], Path], dict]


def write_folder(output: Path, corpus: dict[str, Passage], kept: list[Draft], removed: list[dict],
                 provenance: dict, rows: Rows | None = None) -> dict:
    """Write the set (see the module docstring); `rows` mines the reranking rows into the file it is given.
    Returns the provenance as written."""
    numbered = [(f"q{i}", draft) for i, draft in enumerate(kept, start=1)]
    with atomic_folder(output) as partial:
        dump_jsonl(partial / "corpus.jsonl", ({"_id": p.id, "title": p.title, "text": p.text} for p in corpus.values()))
        dump_jsonl(partial / "queries.jsonl", ({"_id": qid, "text": d.text, "passage": d.passage, "style": d.style}
                                               for qid, d in numbered))
        lines = [f"{qid}\t{doc}\t1\n" for qid, d in numbered for doc in d.positives]
        (partial / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(lines), encoding="utf-8")
        dump_jsonl(partial / "removed.jsonl", removed)
        if rows is not None:
            provenance["reranking_rows"] = rows(numbered, corpus, partial / "reranking.jsonl")
        provenance = {"schema": SCHEMA, **provenance, "queries": len(numbered), "judgments": len(lines)}
        (partial / PROVENANCE).write_text(json.dumps(provenance, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return provenance


def read_provenance(folder: str | Path) -> dict | None:
    """A synthetic folder's provenance, or None for a folder synth did not write."""
    path = Path(folder) / PROVENANCE
    if not path.is_file():
        return None
    found = read_json(path, what="synthetic set's provenance", hint="write the set again with embedlab synth")
    if not isinstance(found, dict) or found.get("schema") != SCHEMA:
        raise DataError(f"not a provenance file of embedlab synth (schema {SCHEMA})", path=path)
    return found
