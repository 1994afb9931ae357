"""Fuzzed results files and TREC run files (issue 24, item 20): 20 seeded corruptions of a file embedlab wrote
(truncations, type swaps, deep nesting, NaN, huge numbers, wrong lengths), each given to every command that reads
that kind of file. Each gives one line and exit 2, or numbers that are the file's own (results: the scores it holds;
a run: pytrec_eval's on the corrupted file), never a traceback."""

from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from embedlab import RunOptions, evaluate
from embedlab.cli.main import cli
from embedlab.demo import RERANKING, RETRIEVAL
from tests.conftest import FakeEncoder

COPIES = int(os.environ.get("EMBEDLAB_FUZZ_COPIES", 20))  # corruptions per reader (more, locally: 300 take 25 s)
KINDS = ("truncation", "type_swap", "deep_nesting", "nan", "huge_number", "wrong_length")
DEEP = '"__DEEP__"'


def _nodes(value, path=()):
    """(path, value) of every value inside a JSON value."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield (*path, key), child
        yield from _nodes(child, (*path, key))


def corrupt_json(text: str, seed: int) -> str:
    """One seeded corruption of a JSON text, of the kind `KINDS[seed % 6]`."""
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    if kind == "truncation":
        return text[:rng.randrange(1, len(text))]
    data = json.loads(text)
    wanted = {"nan": (int, float), "huge_number": (int, float), "wrong_length": (list,)}.get(kind, (object,))
    nodes = [(path, value) for path, value in _nodes(data) if isinstance(value, wanted) and not isinstance(value, bool)
             and (kind != "wrong_length" or value)]
    path, value = rng.choice(nodes)
    if kind == "type_swap":
        new = rng.choice([v for v in (None, 7, 0.25, "x", [], {}, True) if type(v) is not type(value)])
    elif kind == "deep_nesting":
        new = "__DEEP__"
    elif kind == "nan":
        new = math.nan
    elif kind == "huge_number":
        new = rng.choice([math.inf, 1e300, -1e300, 10 ** 40])
    else:
        new = list(value)
        if rng.random() < 0.5:
            del new[rng.randrange(len(new))]
        else:
            new.append(rng.choice(new))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return json.dumps(data).replace(DEEP, "[" * 3000 + "]" * 3000)


def _invoke(*args) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*map(str, args)], env={"COLUMNS": "200"})
    assert "Traceback" not in result.output and not isinstance(result.exception, (RecursionError, KeyError, TypeError,
                                                                                 ValueError, AttributeError)), \
        (result.output, repr(result.exception))
    return result.exit_code, result.stdout, result.stderr


def _one_line_exit_2(code: int, stderr: str, path: Path) -> bool:
    lines = stderr.strip().splitlines()
    return code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0]


# --- results files -------------------------------------------------------------------------------------------------

def _means(stdout: str) -> set[float]:  # compare --format json: every mean shown
    return {round(row["mean"], 12) for c in json.loads(stdout) for row in c["rows"]}


def _board(stdout: str) -> set[float]:  # leaderboard --format json: every score of every row
    return {round(v, 12) for row in json.loads(stdout)["rows"] for v in row["scores"].values()}


def _exported(stdout: str) -> set[float]:  # export-mteb --format json: every main score written
    return {round(row["main_score"], 12) for row in json.loads(stdout)}


READERS = {  # reader -> (its arguments for a results file and a folder for its output, the numbers it shows)
    "compare": (lambda p, o: ["compare", p, "--format", "json"], _means),
    "leaderboard": (lambda p, o: ["leaderboard", p.parent, "--format", "json"], _board),
    "export-mteb": (lambda p, o: ["export-mteb", p, "-o", o / "mteb", "--format", "json"], _exported),
    "report": (lambda p, o: ["report", p, "-o", o / "r.md"], None),
}


def _read(reader: str, path: Path, out: Path) -> tuple[int, str, set[float] | None]:
    arguments, numbers = READERS[reader]
    code, stdout, stderr = _invoke(*arguments(path, out))
    return code, stderr, numbers(stdout) if numbers and code == 0 else None


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> dict:
    """A results file of two models on both demo tasks (a sample), and the numbers each reader shows of it."""
    folder = tmp_path_factory.mktemp("original")
    other = FakeEncoder("query: ")
    other.name = "other"
    text = evaluate([FakeEncoder(), other], [RERANKING, RETRIEVAL], run=RunOptions(sample=20, seed=1)).to_json()
    (folder / "r.json").write_text(text, encoding="utf-8")
    return {"text": text, **{reader: _read(reader, folder / "r.json", folder)[2] for reader in READERS}}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_fuzzed_results_files(original, tmp_path, reader):
    said = {"exit 2": 0, "read": 0}  # (leaderboard: skipped with a note, as it skips any file that is not results)
    for seed in range(COPIES):
        folder = tmp_path / str(seed)
        folder.mkdir()
        path = folder / "r.json"
        path.write_text(corrupt_json(original["text"], seed), encoding="utf-8")
        code, stderr, numbers = _read(reader, path, folder)
        if code == 2:
            assert _one_line_exit_2(code, stderr, path), (seed, stderr)
            said["exit 2"] += 1
            continue
        assert code == 0, (seed, code, stderr)
        if reader == "leaderboard" and "note: skipped" in stderr:  # its way of refusing a file: skipped, said why
            assert numbers == set(), (seed, stderr)
            said["exit 2"] += 1
            continue
        said["read"] += 1
        if numbers is not None:  # read: the numbers it shows are the file's own (a run or task dropped shows fewer)
            assert numbers <= original[reader], (seed, numbers - original[reader])
    assert said["exit 2"] >= COPIES // 2, said  # most corruptions are caught, not read


# --- TREC run files ------------------------------------------------------------------------------------------------

def corrupt_run(text: str, seed: int) -> str:
    """One seeded corruption of a TREC run's text, of the kind `KINDS[seed % 6]` (as a run file can have them)."""
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    if kind == "truncation":
        return text[:rng.randrange(1, len(text))]
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines))
    fields = lines[at].split()
    if kind == "type_swap":
        column = rng.randrange(len(fields))
        fields[column] = rng.choice(["x", "[]", "{}", "null", "0.5", "7", "true"])
    elif kind == "deep_nesting":
        fields[4] = "[" * 3000 + "]" * 3000
    elif kind == "nan":
        fields[4] = rng.choice(["nan", "NaN", "-nan"])
    elif kind == "huge_number":
        fields[4] = rng.choice(["1e400", "inf", "1e300", "-1e300", "1" + "0" * 40, "3e38"])
    elif rng.random() < 0.5:
        del fields[rng.randrange(len(fields))]
    else:
        fields.append("extra")
    lines[at] = " ".join(fields) + "\n"
    return "".join(lines)


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("saved")
    results = evaluate(FakeEncoder(), [RETRIEVAL], run=RunOptions(save_run=folder / "runs"))
    results.to_json(folder / "r.json")
    return Path(results.runs[0].model["saved_runs"]["demo/retrieval"]).read_text(encoding="utf-8"), folder


def test_fuzzed_run_files_as_a_model(saved_run, tmp_path):
    pytrec_eval = pytest.importorskip("pytrec_eval")
    from embedlab.data.resolve import resolve

    task = next(t for t in resolve(RETRIEVAL) if t.type == "retrieval")
    caught = 0
    for seed in range(COPIES):
        path = tmp_path / f"{seed}.trec"
        path.write_text(corrupt_run(saved_run[0], seed), encoding="utf-8")
        code, _, stderr = _invoke("eval", "-m", f"run:{path}", "--retrieval", RETRIEVAL, "-q",
                                  "-o", tmp_path / f"{seed}.json")
        if code == 2:
            assert _one_line_exit_2(code, stderr, path), (seed, stderr)
            caught += 1
            continue
        assert code == 0, (seed, code, stderr)
        result = json.loads((tmp_path / f"{seed}.json").read_text())["runs"][0]["tasks"][0]
        with open(path) as handle:
            reference = pytrec_eval.RelevanceEvaluator(task.qrels, {"ndcg_cut.10"}).evaluate(pytrec_eval.parse_run(handle))
        ours = dict(zip(result["query_ids"], result["per_query"]["ndcg@10"]))
        for qid in task.queries:  # a query the run lost scores 0
            assert ours[qid] == pytest.approx(reference.get(qid, {"ndcg_cut_10": 0.0})["ndcg_cut_10"], abs=1e-12), seed
    assert caught >= COPIES // 3


def test_fuzzed_saved_runs_under_compare_queries(saved_run, tmp_path):
    """A saved run that was damaged since is a note under `compare --queries`, never a traceback nor its ranking."""
    text, folder = saved_run
    data = json.loads((folder / "r.json").read_text())
    other = json.loads(json.dumps(data["runs"][0]))
    other["model"]["name"] = "other"
    data["runs"].append(other)
    path = Path(data["runs"][0]["model"]["saved_runs"]["demo/retrieval"])
    (tmp_path / "r.json").write_text(json.dumps(data))
    try:
        for seed in range(COPIES):
            path.write_text(corrupt_run(text, seed), encoding="utf-8")
            code, stdout, stderr = _invoke("compare", tmp_path / "r.json", "--queries", "2")
            assert code == 0 and "queries are not shown" in stderr + stdout, (seed, stderr)
    finally:
        path.write_text(text, encoding="utf-8")
