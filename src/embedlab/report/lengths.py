"""Histograms of text lengths per kind (characters, and model tokens with the max length marked) as a PNG."""

from __future__ import annotations

from pathlib import Path

from embedlab.data.output import write_bytes
from embedlab.quality import Inspection
from embedlab.report.figures import png, pyplot
from embedlab.results.table import short_name

_UNITS = {"chars": "characters", "tokens": "tokens"}


def plot_lengths(inspection: Inspection, path, *, bins: int = 40):
    """One panel per kind (query / positive / negative, or query / document), a row per unit."""
    plt = pyplot("plotting length histograms")

    units = [unit for unit in _UNITS if inspection.values.get(unit)]
    kinds = list(inspection.values["chars"])
    fig, axes = plt.subplots(len(units), len(kinds), figsize=(4 * len(kinds), 3.2 * len(units)), squeeze=False)
    for row, unit in enumerate(units):
        for column, kind in enumerate(kinds):
            ax = axes[row][column]
            values = inspection.values[unit][kind]
            if values:
                ax.hist(values, bins=min(bins, max(values) - min(values) + 1), color="tab:blue", alpha=0.8)
            if unit == "tokens" and inspection.max_length:
                over = sum(v > inspection.max_length for v in values)
                ax.axvline(inspection.max_length, color="tab:red", ls="--",
                           label=f"max length {inspection.max_length} ({over} over)")
                ax.legend(fontsize=8)
            ax.set_title(f"{kind} ({len(values)} texts)", fontsize=10)
            ax.set_xlabel(_UNITS[unit])
            ax.grid(alpha=0.3)
        axes[row][0].set_ylabel("texts")
    title = Path(inspection.source).name
    if inspection.tokenizer:
        title += f" — tokens of {short_name(inspection.tokenizer)}"
    fig.suptitle(title)
    picture = png(fig)
    if not isinstance(path, (str, Path)):  # a binary file object
        path.write(picture)
        return path
    return write_bytes(path, picture)  # atomic: a killed run leaves no half picture
