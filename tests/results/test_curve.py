"""Curve: plain data of a fine-tuning run, on hand-made points (no model)."""

import json
from pathlib import Path

import pytest

from embedlab.errors import DataError
from embedlab.results.curve import Curve

TASKS = {"test": {"main": "v1.map", "role": "test"}, "guard": {"main": "ndcg@10", "role": "guard"}}


def point(step, value, per_query, *, guard=0.5, warnings=()):
    return {"step": step, "scores": {"test": {"v1.map": value}, "guard": {"ndcg@10": guard}},
            "per_query": {"test": list(per_query)}, "health": {}, "warnings": list(warnings)}


def shifted(values, by):
    return [round(v + by, 10) for v in values]


BASE = [0.2, 0.4, 0.6, 0.8]  # mean 0.5


def test_add_keeps_points_in_step_order_and_replaces_a_measured_step():
    curve = Curve("test/v1.map", TASKS)
    for step, value in ((10, 0.6), (0, 0.5), (20, 0.7)):
        curve.add(point(step, value, BASE))
    assert [p["step"] for p in curve.points] == [0, 10, 20]
    curve.add(point(10, 0.65, BASE))  # measured again after a resume
    assert [p["step"] for p in curve.points] == [0, 10, 20]
    assert curve.value(curve.points[1]) == 0.65
    assert (curve.task, curve.metric_name) == ("test", "v1.map")


def test_best_is_the_earliest_of_tied_points():
    curve = Curve("test/v1.map", TASKS, [point(0, 0.5, BASE), point(10, 0.7, BASE), point(20, 0.7, BASE),
                                          point(30, 0.6, BASE)])
    assert curve.best()["step"] == 10


def test_summary_plateau_delta_degradation_guards_and_warnings():
    points = [point(0, 0.5, BASE, guard=0.40),
              point(10, 0.6, shifted(BASE, 0.1)),
              point(20, 0.69, shifted(BASE, 0.19), warnings=["passages are collapsing"]),
              point(30, 0.7, shifted(BASE, 0.2), guard=0.35),
              point(40, 0.65, shifted(BASE, 0.15))]
    s = Curve("test/v1.map", TASKS, points).summary()
    assert (s["base"], s["best"], s["best_step"], s["last"], s["last_step"]) == (0.5, 0.7, 30, 0.65, 40)
    assert s["plateau_step"] == 20  # first step with 90% of the 0.2 gain (>= 0.18)
    # every query gained exactly 0.2: the paired interval is that point, and significant
    assert s["delta"]["mean"] == pytest.approx(0.2) and s["delta"]["low"] == pytest.approx(0.2)
    assert s["delta"]["high"] == pytest.approx(0.2) and s["significant"]
    assert s["degrades_after_best"] and s["last_vs_best"]["high"] == pytest.approx(-0.05)
    assert s["guards"] == {"guard": {"base": 0.40, "best": 0.35}}
    assert s["warnings"] == ["passages are collapsing"]


def test_summary_of_a_flat_curve_has_no_plateau_and_no_significant_change():
    s = Curve("test/v1.map", TASKS, [point(0, 0.5, BASE), point(10, 0.5, BASE)]).summary()
    assert s["best_step"] == 0 and s["plateau_step"] is None
    assert not s["significant"] and not s["degrades_after_best"]


def test_save_and_load_round_trip(tmp_path):
    curve = Curve("test/v1.map", TASKS, loss=[{"step": 5, "loss": 1.5}], path=tmp_path / "curve.json")
    curve.add(point(0, 0.5, BASE))
    loaded = Curve.load(tmp_path / "curve.json")
    assert loaded.as_dict() == curve.as_dict() and loaded.path == tmp_path / "curve.json"


def test_a_write_killed_midway_keeps_the_previous_curve_whole(tmp_path, monkeypatch):
    curve = Curve("test/v1.map", TASKS, path=tmp_path / "curve.json")
    curve.add(point(0, 0.5, BASE))
    real_write = Path.write_text

    def killed(self, text, *args, **kwargs):
        real_write(self, text[: len(text) // 2], *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", killed)
    with pytest.raises(KeyboardInterrupt):
        curve.add(point(10, 0.6, BASE))
    monkeypatch.undo()
    assert [p["step"] for p in Curve.load(tmp_path / "curve.json").points] == [0]
    assert [p.name for p in tmp_path.iterdir()] == ["curve.json"]  # no partial file left


@pytest.mark.parametrize("content, message", [
    ('{"metric": "test/v1.map", "tasks": {}, "poi', "invalid JSON"),
    (json.dumps({"schema": "embedlab.results/1", "runs": []}), "field 'metric': not a fine-tuning curve"),
    (json.dumps([1, 2]), "expected a JSON object"),
    (json.dumps({"metric": "test/v1.map", "tasks": {}, "points": {}}), "no list 'points'"),
    (json.dumps({"metric": "v1.map", "tasks": {}, "points": []}), "is not '<task>/<metric>'"),
])
def test_a_truncated_or_foreign_file_is_a_clear_error_naming_it(tmp_path, content, message):
    path = tmp_path / "curve.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as caught:
        Curve.load(path)
    assert str(path) in str(caught.value) and "embedlab finetune" in str(caught.value)
