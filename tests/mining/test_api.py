"""`mine()`, the Python API: files in, files out; output paths checked and paid models estimated before
any work; nothing half-written after a failure."""

from __future__ import annotations

import json

import pytest

from embedlab.errors import DataError, EmbedlabError
from embedlab.mining import MiningConfig, default_report_path, mine, read_rows
from embedlab.mining.miner import mine_rows
from embedlab.models import ModelOptions
from embedlab.run.options import RunOptions
from tests.conftest import RERANK_ROWS, FakeEncoder, write_jsonl
from tests.mining.conftest import rows_of, store_of
from tests.models.servers import FaultServer

CONFIG = MiningConfig(num_negatives=2, relative_margin=None)


@pytest.fixture
def rows_file(tmp_path):
    return write_jsonl(tmp_path / "rows.jsonl", RERANK_ROWS + [{"query": "x", "positive": [], "negative": ["y"]}])


@pytest.fixture
def server():
    s = FaultServer()
    yield s
    s.close()


def test_mine_reads_mines_and_writes_rows_and_report(tmp_path, rows_file):
    lines = []
    out = tmp_path / "out" / "mined.jsonl"
    report = mine(rows_file, FakeEncoder(), out, config=CONFIG, run=RunOptions(announce=lines.append))
    source = read_rows(rows_file)
    expected = mine_rows(source.rows, source.candidates(), store_of(FakeEncoder()), tmp_path / "core.jsonl",
                         config=CONFIG)
    assert out.read_text() == (tmp_path / "core.jsonl").read_text()
    assert report.negatives_written == expected.negatives_written and report.dropped == expected.dropped
    assert report.skipped_rows == {"no_positive": 1}  # recorded by mine itself, not patched afterwards
    assert report.source == str(rows_file) and report.corpus == f"{rows_file} (all its passages)"
    assert json.loads(default_report_path(out).read_text()) == report.as_dict()
    assert lines == ["note: skipped 1 rows: no positive (not in the output)"]  # no chunk notes without progress
    chatty = []
    mine(rows_file, FakeEncoder(), tmp_path / "again.jsonl", config=CONFIG,
         report_path=tmp_path / "elsewhere" / "r.json", run=RunOptions(announce=chatty.append, progress=True))
    assert f"embedding {len(source.candidates())} candidate passages" in chatty
    assert f"rows 1-{len(source.rows)} of {len(source.rows)}" in chatty
    assert (tmp_path / "elsewhere" / "r.json").exists() and not default_report_path(tmp_path / "again.jsonl").exists()


def test_corpus_and_rows_given_as_objects(tmp_path, rows_file):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "1", "text": "coffee beans are roasted"},
                                                      {"_id": "2", "text": "ferns like humid air"}])
    report = mine(rows_file, FakeEncoder(), tmp_path / "a.jsonl", corpus=corpus, config=CONFIG)
    assert report.corpus == str(corpus) and report.corpus_size == 2
    assert {n for r in rows_of(tmp_path / "a.jsonl") for n in r["neg"]} <= {"coffee beans are roasted",
                                                                           "ferns like humid air"}
    listed = mine(read_rows(rows_file), FakeEncoder(), tmp_path / "b.jsonl", config=CONFIG,
                  corpus=("coffee beans are roasted", "ferns like humid air"))
    assert listed.corpus_size == 2 and (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_models_named_are_loaded_and_closed_objects_given_are_not(tmp_path, rows_file, monkeypatch):
    import embedlab.mining.api as api

    class Closing(FakeEncoder):
        closed = False

        def close(self):
            self.closed = True

    loaded = []
    monkeypatch.setattr(api, "load_model", lambda spec, options: loaded.append((spec, Closing())) or loaded[-1][1])
    given = Closing()
    report = mine(rows_file, "some/model", tmp_path / "o.jsonl", check_model=given, config=CONFIG,
                  options=ModelOptions(batch_size=2))
    assert [spec for spec, _ in loaded] == ["some/model"] and loaded[0][1].closed and not given.closed
    assert report.models == ["fake-bigram", "fake-bigram"]
    assert loaded[0][1].calls and all(len(batch) <= 2 for _, batch in loaded[0][1].calls)


def test_outputs_are_checked_before_any_work(tmp_path, rows_file):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"text": "coffee beans are roasted"}])
    before = rows_file.read_text()
    encoder = FakeEncoder()
    refused = {"the output is DATA": dict(out=rows_file),
               "the output is the corpus": dict(out=corpus, corpus=corpus),
               "the report is DATA": dict(out=tmp_path / "o.jsonl", report_path=rows_file),
               "the report is the output": dict(out=tmp_path / "o.jsonl", report_path=tmp_path / "o.jsonl"),
               "the output is in the retrieval folder": dict(out=tmp_path / "o.jsonl")}
    for what, kwargs in refused.items():
        data = tmp_path if what.endswith("folder") else rows_file
        with pytest.raises(DataError, match="would overwrite or change the input"):
            mine(data, encoder, kwargs.pop("out"), config=CONFIG, **kwargs)
    assert encoder.calls == [] and rows_file.read_text() == before
    assert not (tmp_path / "o.jsonl").exists()


def test_an_existing_output_or_report_needs_overwrite(tmp_path, rows_file):
    out = tmp_path / "o.jsonl"
    out.write_text("old\n")
    encoder = FakeEncoder()
    with pytest.raises(DataError, match=r"o.jsonl: already exists \(pass --overwrite to replace it\)"):
        mine(rows_file, encoder, out, config=CONFIG)
    assert encoder.calls == [] and out.read_text() == "old\n"
    report = tmp_path / "r.json"
    report.write_text("{}")
    with pytest.raises(DataError, match="r.json: already exists"):
        mine(rows_file, encoder, tmp_path / "new.jsonl", config=CONFIG, report_path=report)
    assert encoder.calls == [] and not (tmp_path / "new.jsonl").exists()
    mine(rows_file, encoder, out, config=CONFIG, report_path=report, overwrite=True)
    assert len(rows_of(out)) == len(RERANK_ROWS) and json.loads(report.read_text())["rows"] == len(RERANK_ROWS)


def test_a_failure_leaves_no_output_report_or_partial_file(tmp_path, rows_file):
    class FailsOnQueries(FakeEncoder):
        def encode(self, texts, kind="document"):
            if kind == "query":
                raise RuntimeError("the model broke")
            return super().encode(texts, kind)

    out_dir = tmp_path / "out"
    with pytest.raises(RuntimeError, match="the model broke"):
        mine(rows_file, FailsOnQueries(), out_dir / "o.jsonl", config=MiningConfig(corpus_chunk=2))
    assert not out_dir.exists() or list(out_dir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["rows.jsonl"]


def test_a_cost_above_max_cost_sends_nothing(tmp_path, rows_file, server):
    options = ModelOptions(base_url=server.url, api_key_env="NO_SUCH_VAR", max_inputs=4)
    lines = []
    with pytest.raises(EmbedlabError, match="nothing was sent"):
        mine(rows_file, "openai:m", tmp_path / "o.jsonl", check_model="openai:second", options=options,
             run=RunOptions(cache=tmp_path / "c.sqlite", max_cost=0.01, announce=lines.append))  # no price known
    assert server.requests == []
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.report.json").exists()
    source = read_rows(rows_file)
    texts = len({r.query for r in source.rows}) + len(source.candidates())
    assert f"estimate: openai:m: {texts:,} texts to embed (0 cached)" in lines[1]
    assert lines[2].startswith(f"estimate: openai:second: at most {texts:,} texts to embed")
    with pytest.raises(EmbedlabError, match=r"openai:m: estimated cost ~0\.\d+ \(at the price given\) is not within"):
        mine(rows_file, "openai:m", tmp_path / "o.jsonl", options=options,
             run=RunOptions(cache=False, max_cost=1e-9, price_per_mtok=1.0))
    assert server.requests == []
    report = mine(rows_file, "openai:m", tmp_path / "o.jsonl", options=options,
                  run=RunOptions(cache=False, max_cost=1.0, price_per_mtok=1.0))
    assert report.embedding["openai:m"]["texts_encoded"] == texts  # the estimate is exact
    assert len(server.requests) > 0


def test_mining_on_ray_writes_the_same_rows_and_resumes(ray_cluster, tmp_path, rows_file):
    from embedlab.embedding.engines import EngineOptions
    from tests.embedding.engines.conftest import RayFake

    mine(rows_file, FakeEncoder(), tmp_path / "local.jsonl", config=CONFIG)
    engine = EngineOptions(workers=2, vectors=tmp_path / "vectors", shard_size=4)
    report = mine(rows_file, RayFake(), tmp_path / "ray.jsonl", config=CONFIG, run=RunOptions(engine=engine))
    assert (tmp_path / "ray.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()
    documents = report.embedding["fake-bigram"]
    again = mine(rows_file, RayFake(), tmp_path / "again.jsonl", config=CONFIG, run=RunOptions(engine=engine))
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()
    rerun = again.embedding["fake-bigram"]
    assert rerun["cache_hits"] > 0 and rerun["texts_encoded"] + rerun["cache_hits"] == documents["texts_encoded"]
