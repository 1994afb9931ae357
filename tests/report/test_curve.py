"""plot_curve: the fine-tuning curve as a PNG (file or file object)."""

import io

import pytest

from embedlab.results.curve import Curve
from tests.report.test_page import _curve

pytest.importorskip("matplotlib")


def test_plot_curve_writes_a_png_file_and_to_a_file_object(tmp_path):
    from embedlab.report.curve import plot_curve

    curve = _curve()
    curve.points[1]["warnings"] = ["passages are collapsing"]
    assert plot_curve(curve, tmp_path / "curve.png", title="t") == tmp_path / "curve.png"
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    buffer = io.BytesIO()
    plot_curve(Curve(curve.metric, curve.tasks, curve.points), buffer)  # no train loss: one axis
    assert buffer.getvalue()[:4] == b"\x89PNG"
