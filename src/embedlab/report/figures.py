"""matplotlib for every plot of the reports: imported on first use (headless, Agg), and a figure as PNG bytes."""

from __future__ import annotations

import io

from embedlab.errors import require


def pyplot(purpose: str = "plots in reports"):
    """matplotlib.pyplot on the Agg backend (no display needed); a missing matplotlib names the extra."""
    require("matplotlib", purpose)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (laid out tightly), closed."""
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=dpi)
    pyplot().close(fig)
    return buffer.getvalue()
