"""`synthesize()` end to end on small hand-written documents, with BM25 and the fake encoder as retrievers."""

from __future__ import annotations

import json

import pytest

from embedlab import evaluate
from embedlab.data.retrieval import load_retrieval
from embedlab.errors import DataError, EmbedlabError, SetupError, UnknownNameError
from embedlab.models import ModelOptions
from embedlab.run.options import RunOptions
from embedlab.synth import FilterSettings, SynthOptions, synthesize
from tests.conftest import FakeEncoder, write_jsonl
from tests.models.chat_server import ChatServer

TEXTS = ["Green tea is brewed at eighty degrees. It steeps for two minutes. Milk is never added to it.",
         "Black tea needs boiling water. It steeps for four minutes. Many people add milk and sugar.",
         "Patch the inner tube of a flat tyre. Find the hole with soapy water. Let the glue dry first.",
         "A cactus needs very little water. Water it every few weeks in summer. Never in the winter months.",
         "Oil the bicycle chain every month. Wipe off the old grease first. Use a light oil for chains."]


@pytest.fixture
def corpus(tmp_path):
    return write_jsonl(tmp_path / "data" / "corpus.jsonl",
                       [{"_id": f"p{i}", "title": "", "text": t} for i, t in enumerate(TEXTS)])


def test_an_ict_set_every_command_reads(corpus, tmp_path):
    encoder = FakeEncoder()
    out = tmp_path / "synth"
    provenance = synthesize(corpus, out, synth=SynthOptions(generator="ict", retrievers=("bm25", encoder)),
                            run=RunOptions(seed=2))
    task = load_retrieval(out)
    assert len(task.queries) == provenance["queries"] == 5 and len(task.corpus) == 5
    for qid, query in task.queries.items():
        (doc,) = task.qrels[qid]
        assert query not in task.corpus[doc] and query in TEXTS[int(doc[1:])]  # the sentence left its passage
    steps = {s["filter"]: s for s in provenance["filters"]["steps"]}
    assert steps["round-trip"]["on"] and set(steps["round-trip"]["found_by"]) == {"bm25", "fake-bigram"}
    assert steps["duplicates"]["by_cosine"] and provenance["generator"]["name"] == "ict"
    assert provenance["seed"] == 2 and provenance["source"]["sampled"] == 5 and provenance["drafts"] == 5
    results = evaluate(["bm25", encoder], str(out))
    assert results.runs[0].tasks[0].counts["queries"] == 5


def test_an_llm_set_with_reranking_rows_and_its_provenance(corpus, tmp_path):
    server = ChatServer()
    try:
        out = tmp_path / "synth"
        synth = SynthOptions(generator="openai-chat:stub", per_passage=2, styles=("paraphrase",), sample=3,
                             retrievers=("bm25", FakeEncoder()), reranking_rows=True,
                             filters=FilterSettings(on=("length", "language", "duplicates")))
        provenance = synthesize([corpus], out, synth=synth, model=ModelOptions(base_url=server.url, api_key_env="none"),
                                run=RunOptions(seed=1, cache=tmp_path / "c.sqlite"))
        assert len(server.requests) == 3 and provenance["queries"] == 6
        generator = provenance["generator"]
        assert generator["model"]["name"] == "openai-chat:stub" and generator["temperature"] == 0.7
        (prompt,) = generator["prompts"]
        assert (prompt["language"], prompt["style"]) == ("en", "paraphrase") and len(prompt["sha256"]) == 64
        assert "{passage}" in prompt["text"] and generator["asking"]["asked"] == 3
        rows = [json.loads(line) for line in (out / "reranking.jsonl").read_text().splitlines()]
        assert len(rows) == 6 and all(r["negative"] for r in rows) and provenance["reranking_rows"]["rows"] == 6
        assert json.loads((out / "synth.json").read_text()) == provenance
        synthesize([corpus], tmp_path / "again", synth=synth, model=ModelOptions(base_url=server.url,
                                                                                   api_key_env="none"),
                   run=RunOptions(seed=1, cache=tmp_path / "c.sqlite"))
        assert len(server.requests) == 3  # every answer from the cache
        assert (tmp_path / "again" / "queries.jsonl").read_text() == (out / "queries.jsonl").read_text()
    finally:
        server.close()


def test_settings_that_apply_to_nothing_are_refused_before_anything_is_read(corpus, tmp_path):
    out = tmp_path / "synth"
    cases = [(SynthOptions(generator="ict", prompt=str(corpus)), SetupError, "--prompt applies to a chat model"),
             (SynthOptions(generator="ict", temperature=0.2), SetupError, "--generator-temperature"),
             (SynthOptions(generator="gpt-4o"), UnknownNameError, "unknown generator"),
             (SynthOptions(generator="openai-chat:x", styles=("questions",)), UnknownNameError, "did you mean")]
    for synth, error, message in cases:
        with pytest.raises(error, match=message):
            synthesize(corpus, out, synth=synth)
    with pytest.raises(SetupError, match="--bm25-k1 does not apply"):
        synthesize(corpus, out, synth=SynthOptions(retrievers=(FakeEncoder(),)), model=ModelOptions(bm25_k1=1.2))
    assert not out.exists()


def test_outputs_are_never_inputs_and_a_failed_run_writes_nothing(corpus, tmp_path):
    with pytest.raises(DataError, match="would overwrite or change the input"):
        synthesize(corpus.parent, corpus.parent / "synth")
    (tmp_path / "taken").mkdir()
    with pytest.raises(DataError, match="already exists"):
        synthesize(corpus, tmp_path / "taken")
    with pytest.raises(EmbedlabError, match="no query left to write"):
        synthesize(corpus, tmp_path / "none", synth=SynthOptions(filters=FilterSettings(on=("length",), max_chars=3)))
    assert not (tmp_path / "none").exists()
    overwritten = synthesize(corpus, tmp_path / "taken", synth=SynthOptions(filters=FilterSettings(on=())),
                             overwrite=True)
    assert overwritten["queries"] == 5
