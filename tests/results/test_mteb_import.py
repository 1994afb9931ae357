import json
from pathlib import Path

from embedlab.results.mteb_import import (
    embedlab_scores,
    file_names,
    model_of,
    parse_file,
    read_published,
    results_folders,
)
from embedlab.tasks.cmteb import TASKS

SNAPSHOT = Path(__file__).parent / "mteb_snapshot"


def test_both_formats_both_semantics_and_old_task_names():
    found = read_published(SNAPSHOT, {"T2Reranking": "reranking", "CMedQAv1-reranking": "reranking"})
    by = {(p.model, p.task): p for p in found}
    small = by[("example-org/zh-embed-small", "T2Reranking")]
    assert small.semantics == "v2" and small.scores == {"v2.map@1000": 0.62115, "v2.mrr@10": 0.71842,
                                                        "v2.ndcg@10": 0.66731}
    assert small.dataset_revision == TASKS["T2Reranking"].mteb_revision and not small.legacy_format
    assert small.data() == "published: mteb/T2Reranking@a34fe6bc"
    base = by[("example-org/zh-embed-base", "T2Reranking")]
    assert base.semantics == "v1" and base.scores == {"v1.map": 0.66453, "v1.mrr@10": 0.75872}
    assert base.data() == "published: C-MTEB/T2Reranking@76631901, C-MTEB's original data (mteb 1.x)"
    legacy = by[("example-org/zh-embed-legacy", "CMedQAv1-reranking")]  # the file is CMedQAv1.json
    assert legacy.legacy_format and legacy.semantics == "v1" and legacy.revision == "no_revision_available"
    assert legacy.data() == "published: dataset revision not recorded, legacy results format of mteb 1.1.0"
    assert legacy.file == "results/example-org__zh-embed-legacy/no_revision_available/CMedQAv1.json"
    assert len(found) == 4


def test_where_results_are_and_which_models():
    assert results_folders(SNAPSHOT) == [SNAPSHOT / "results"]
    assert results_folders(SNAPSHOT / "results") == [SNAPSHOT / "results"]
    only = read_published(SNAPSHOT / "results", {"T2Retrieval": "retrieval"}, models=["EXAMPLE-ORG/*small"])
    assert [(p.model, p.revision[:6], p.scores["ndcg@10"]) for p in only] == [("example-org/zh-embed-small", "012345",
                                                                               0.70254)]
    assert file_names("CMedQAv1-reranking") == ["CMedQAv1-reranking", "CMedQAv1"]
    assert file_names("demo/reranking") == ["Custom-demo_reranking"]


def test_files_of_every_layout_and_age(tmp_path):
    results = tmp_path / "results"
    flat = results / "old-model" / "T2Retrieval.json"  # the repository before revision folders
    flat.parent.mkdir(parents=True)
    flat.write_text(json.dumps({"mteb_dataset_name": "T2Retrieval", "dev": {"ndcg_at_10": 0.5, "map_at_10": 0.4}}))
    assert model_of(flat, results) == ("old-model", "no_revision_available")
    (item,) = read_published(tmp_path, {"T2Retrieval": "retrieval"})
    assert item.scores == {"ndcg@10": 0.5, "map@10": 0.4} and item.legacy_format and item.dataset_revision is None
    subsets = tmp_path / "subsets.json"  # a legacy file with subsets under the split
    subsets.write_text(json.dumps({"mteb_dataset_name": "T2Retrieval", "dev": {"default": {"ndcg_at_10": 0.3}}}))
    assert parse_file(subsets, "T2Retrieval", "retrieval").scores == {"ndcg@10": 0.3}
    for broken in ("{", "[1]", json.dumps({"task_name": "T2Retrieval", "scores": {"test": []}})):
        subsets.write_text(broken)
        assert parse_file(subsets, "T2Retrieval", "retrieval") is None  # unreadable, not results, no dev split


def test_scores_in_embedlab_names():
    entry = {"map_at_1000": 0.5, "mrr_at_10": 0.6, "ndcg_at_10": 0.7, "main_score": 0.5, "hf_subset": "default",
             "languages": ["cmn-Hans"], "nauc_map_at_1000_max": 0.1}
    assert embedlab_scores(entry, "reranking") == ({"v2.map@1000": 0.5, "v2.mrr@10": 0.6, "v2.ndcg@10": 0.7}, "v2")
    assert embedlab_scores({"map": 0.5, "mrr": 0.6, "main_score": 0.5}, "reranking") == \
        ({"v1.map": 0.5, "v1.mrr@10": 0.6}, "v1")
    assert embedlab_scores(entry, "retrieval") == ({"map@1000": 0.5, "mrr@10": 0.6, "ndcg@10": 0.7}, None)


def test_scores_that_cannot_be_scores_leave_their_file_out_and_say_why(tmp_path):
    """NaN, a percentage (82.931 was shown 8,293.10 and ranked first), -5, 1e400 (inf); and broken files: each is
    left out with a line saying which file and why (issue 24, item 10: taken, or dropped uncounted)."""
    folder = tmp_path / "results"
    for model, value in (("nan", "NaN"), ("percent", "82.931"), ("negative", "-5"), ("huge", "1e400"),
                         ("good", "0.5")):
        path = folder / f"org__{model}" / "r1" / "T2Retrieval.json"
        path.parent.mkdir(parents=True)
        path.write_text('{"task_name": "T2Retrieval", "scores": {"dev": [{"hf_subset": "default", '
                        f'"ndcg_at_10": {value}, "main_score": {value}}}]}}}}', encoding="utf-8")
    for model, text in (("broken", "{"), ("nested", "[" * 100000), ("nosplit", '{"scores": {"test": []}}')):
        path = folder / f"org__{model}" / "r1" / "T2Retrieval.json"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
    skipped: list[str] = []
    found = read_published(tmp_path, {"T2Retrieval": "retrieval"}, skipped=skipped)
    assert [(p.model, p.scores) for p in found] == [("org/good", {"ndcg@10": 0.5})]
    assert sorted(skipped) == [
        "results/org__broken/r1/T2Retrieval.json: not readable (JSONDecodeError)",
        "results/org__huge/r1/T2Retrieval.json: its ndcg@10 score is inf, not a number in 0..1",
        "results/org__nan/r1/T2Retrieval.json: its ndcg@10 score is nan, not a number in 0..1",
        "results/org__negative/r1/T2Retrieval.json: its ndcg@10 score is -5.0, not a number in 0..1",
        "results/org__nested/r1/T2Retrieval.json: not readable (RecursionError)",
        "results/org__nosplit/r1/T2Retrieval.json: no scores of the 'dev' split's default subset",
        "results/org__percent/r1/T2Retrieval.json: its ndcg@10 score is 82.931, not a number in 0..1"]
