import json

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli

SQUAD = {"data": [{"title": "茶", "paragraphs": [
    {"context": "绿茶要用八十度的水冲泡两分钟。红茶需要沸水。", "qas": [
        {"id": "q1", "question": "绿茶用多少度的水", "answers": [{"text": "八十度", "answer_start": 4}]}]},
    {"context": "乌龙茶介于两者之间，可以冲泡多次。茶叶应该放在干燥的地方保存。", "qas": [
        {"id": "q2", "question": "茶叶怎么保存", "answers": [{"text": "放在干燥的地方", "answer_start": 21}]}]}]},
    {"title": "车", "paragraphs": [
        {"context": "自行车的内胎破了可以用补丁修补。洞太大时就换一条新内胎。链条要定期上油。", "qas": [
            {"id": "q3", "question": "链条怎么保养", "answers": [{"text": "定期上油", "answer_start": 31}]}]}]}]}


def squad(tmp_path, data=SQUAD):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_chunks_end_to_end_and_results_read_by_compare_leaderboard_report(tmp_path):
    path = squad(tmp_path)
    out = tmp_path / "out"
    args = ["chunks", str(path), "--join-paragraphs", "-m", "bm25:char", "--size-unit", "chars", "--splitter",
            "sentence,tokens,none", "--size", "16,24", "--overlap", "0,4", "-k", "2", "-o", str(out), "-q"]
    result = CliRunner(env={"COLUMNS": "300"}).invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "answer_hit@2 (3 queries), k=2, units: chars" in result.stdout
    assert "sentence-16" in result.stdout and "frontier" in result.stdout
    assert (out / "results.json").exists() and (out / "report.html").exists()
    for command in (["compare", str(out / "results.json")], ["leaderboard", str(out)],
                    ["report", str(out / "results.json"), "-o", "-"]):
        done = CliRunner(env={"COLUMNS": "300"}).invoke(cli, command)
        assert done.exit_code == 0, (command, done.output)
        assert "bm25:char" in done.stdout
    summaries = json.loads(CliRunner().invoke(cli, ["chunks", str(path), "-m", "bm25", "--size-unit", "chars",
                                                    "--size", "16", "--format", "json", "-o", str(out), "-q"]).stdout)
    assert summaries[0]["rows"][0]["config"]["label"] in ("recursive-16", "sentence-16", "tokens-16", "none")


def _bad_squad():
    data = json.loads(json.dumps(SQUAD))
    data["data"][0]["paragraphs"][1]["qas"][0]["answers"][0]["answer_start"] = 3
    return data


@pytest.mark.parametrize("case, args, message", [
    ("overlap", ["--size", "16", "--overlap", "16"], "--overlap 16 is not below --size 16"),
    ("small", ["--size", "4"], "below the shortest sensible chunk"),
    ("splitter", ["--splitter", "paragraph"], "unknown splitter 'paragraph'"),
    ("answer", [], "question 'q2': answer 1 '放在干燥的地方' is not at answer_start 3"),
    ("empty", [], "document '茶' is empty"),
    ("missing", [], "document 'nope' is not among"),
])
def test_bad_input_is_one_line_exit_2_before_any_encoding(tmp_path, case, args, message):
    if case == "answer":
        docs = [str(squad(tmp_path, _bad_squad()))]
    elif case in ("empty", "missing"):
        (tmp_path / "d.jsonl").write_text('{"id": "茶", "text": "%s"}\n' % ("" if case == "empty" else "绿茶"),
                                          encoding="utf-8")
        (tmp_path / "q.jsonl").write_text('{"query": "x", "doc_id": "%s", "answers": ["绿茶"]}\n'
                                          % ("茶" if case == "empty" else "nope"), encoding="utf-8")
        docs = [str(tmp_path / "d.jsonl"), "--questions", str(tmp_path / "q.jsonl")]
    else:
        docs = [str(squad(tmp_path))]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(cli, ["chunks", *docs, "-m", "bm25", "--size-unit", "chars",
                                      *(args or ["--size", "16"]), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_tokens_need_a_tokenizer(tmp_path):
    result = CliRunner().invoke(cli, ["chunks", str(squad(tmp_path)), "-m", "bm25", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "sizes in tokens need a tokenizer" in result.output
