import pytest

pytest.importorskip("matplotlib")


def test_a_figure_becomes_png_bytes_and_is_closed():
    from embedlab.report.figures import png, pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    small, large = png(fig, dpi=50), None
    assert small.startswith(b"\x89PNG\r\n\x1a\n")
    assert not plt.fignum_exists(fig.number)  # closed: a report of many plots does not pile them up
    fig2, ax2 = plt.subplots(figsize=(2, 2))
    ax2.plot([0, 1], [1, 0])
    large = png(fig2, dpi=150)
    assert len(large) > len(small)  # the dpi is applied
    assert plt.get_backend().lower() == "agg"
