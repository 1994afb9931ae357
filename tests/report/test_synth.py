"""report/synth.py: what `embedlab synth` prints, from plain data."""

from pathlib import Path

from embedlab.report.synth import columns, copied_line, synth_lines, validation_lines
from embedlab.results.stats import Interval
from embedlab.synth.validate import Agreement, Pair, SetScores, Validation

DISTRIBUTION = {"queries": 10, "mean": 0.25, "median": 0.2, "p90": 0.6, "threshold": 0.8, "above_threshold": 1,
                "histogram": [4, 3, 0, 0, 0, 0, 2, 0, 0, 1]}


def test_columns_align():
    assert columns([["a", "10"], ["long", "7"]], right={1}) == ["a     10", "long   7"]


def test_the_set_in_a_few_lines():
    provenance = {"queries": 8, "drafts": 10, "seed": 1, "skipped_passages": {"a single sentence": 2},
                  "source": {"sampled": 12, "passages": 40},
                  "generator": {"name": "openai-chat:m", "asking": {"asked": 12, "asked_again": 1, "from_cache": 0,
                                                                    "unusable_by_reason": {"not JSON": 1},
                                                                    "prompt_tokens": 900, "completion_tokens": 120}},
                  "filters": {"too_easy": DISTRIBUTION, "steps": [
                      {"filter": "empty", "on": True, "removed": 0},
                      {"filter": "language", "on": False, "removed": 0, "not_applied": "own text"},
                      {"filter": "duplicates", "on": True, "removed": 1, "cosine": 0.95, "by_cosine": True},
                      {"filter": "round-trip", "on": True, "removed": 1, "k": 20, "found_by": {"bm25": 9}}]},
                  "reranking_rows": {"file": "reranking.jsonl", "rows": 8, "negatives": 50, "model": "m",
                                     "likely_false_negatives_dropped": 3}}
    lines = synth_lines(provenance, Path("out"))
    assert lines[0] == ("8 queries written to out (10 drafted by openai-chat:m for 12 of 40 passages, seed 1; passages "
                        "skipped: 2 a single sentence)")
    assert lines[1].startswith("asked 12 prompts (1 again after an unusable answer), 0 answers from the cache; "
                               "unusable in the end: 1 not JSON; tokens: 900 prompt, 120 written")
    assert lines[3:7] == ["empty       yes        0  no word character",
                          "language    n/a        0  own text",
                          "duplicates  yes        1  same normalised text then cosine >= 0.95",
                          "round-trip  yes        1  document not in the top 20 of any retriever (found by bm25 9)"]
    assert lines[-1] == "reranking rows: 8 in out/reranking.jsonl (50 negatives mined with m, 3 likely false negatives dropped)"


def test_the_copied_share_line():
    assert copied_line(DISTRIBUTION) == ("copied from the document (too-easy share): mean 0.25, median 0.20, p90 0.60; "
                                         "0 |█▆    ▅  ▃| 1; above 0.8: 1 of 10")
    assert copied_line({"queries": 0}) == "copied share: no query"


def _interval(mean, low, high):
    return Interval(mean, low, high, 0.95, 100)


def test_the_validation():
    human = SetScores("human", "h", "ndcg@10", 100, {"a": _interval(0.8, 0.7, 0.9), "b": _interval(0.6, 0.5, 0.7)},
                      0.7, "a", _interval(0.2, 0.1, 0.3), ("a", "b"))
    synthetic = SetScores("synthetic", "s", "ndcg@10", 50, {"a": _interval(0.5, 0.4, 0.6), "b": _interval(0.55, 0.45,
                                                                                                             0.65)},
                          0.525, "b")
    flip = Pair("a", "b", _interval(0.2, 0.1, 0.3), _interval(-0.05, -0.1, 0.01))
    v = Validation(["a", "b"], human, synthetic, Agreement(-1.0, -1.0, 1.0), Agreement(-1.0, -1.0, 1.0), [flip], 0.95,
                   100, 0, ["few systems"])
    lines = validation_lines(v)
    assert lines[0] == "synthetic s (ndcg@10, 50 queries) against human h (ndcg@10, 100 queries), 2 systems"
    assert lines[1] == ("Kendall tau -1.00 (95% CI -1.00 to 1.00); Spearman -1.00 (95% CI -1.00 to 1.00) (bootstrap over "
                        "both sets' queries, 100 resamples)")
    assert lines[3].split() == ["a", "80.00", "70.00–90.00", "1", "50.00", "40.00–60.00", "2"]
    assert lines[5:7] == ["pairwise decisions that flip: 1 of 1:",
                          "  a - b: human +20.00 (+10.00 to +30.00), synthetic -5.00 (-10.00 to +1.00); significant on human"]
    assert lines[7] == ("difficulty, human: mean over systems 70.00, best a 80.00; a - b (lexical - dense) +20.00 "
                        "(+10.00 to +30.00)")
    assert lines[8] == "difficulty, synthetic: mean over systems 52.50, best b 55.00" and lines[-1] == "note: few systems"
