"""The fine-tuning curve as a PNG: scores vs step (loss on a second axis) beside collapse indicators."""

from __future__ import annotations

from pathlib import Path

from embedlab.report.figures import pyplot
from embedlab.results.curve import Curve


def plot_curve(curve: Curve, path, *, title: str | None = None):
    plt = pyplot("plotting the fine-tuning curve")
    steps = [p["step"] for p in curve.points]
    healthy = all("health" in p for p in curve.points)  # a cross-encoder's curve has no collapse indicators
    fig, axes = plt.subplots(1, 2 if healthy else 1, figsize=(12 if healthy else 7.5, 4.5), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 2] if healthy else [1]})
    ax = axes[0][0]
    for label, info in curve.tasks.items():
        metrics = [curve.metric_name] if label == curve.task else [info["main"]]
        for metric in metrics:
            values = [p["scores"][label][metric] for p in curve.points]
            style = "-" if info.get("role") != "guard" else "--"
            ax.plot(steps, values, style, marker="o", ms=3, label=f"{label} {metric}")
            if label == curve.task:
                _dimension_lines(ax, curve, steps)
    best = curve.best()
    ax.plot([best["step"]], [curve.value(best)], marker="*", ms=16, color="gold", mec="black",
            ls="none", label=f"best: step {best['step']} ({curve.value(best):.4f})", zorder=5)
    ax.axhline(curve.value(curve.points[0]), color="grey", lw=0.8, ls=":", label="base (step 0)")
    ax.set_xlabel("step")
    ax.set_ylabel("score")
    ax.grid(alpha=0.3)
    if curve.loss:
        loss_ax = ax.twinx()
        loss_ax.plot([p["step"] for p in curve.loss], [p["loss"] for p in curve.loss], color="tab:red",
                     alpha=0.45, lw=1, label="train loss")
        loss_ax.set_ylabel("train loss", color="tab:red")
        handles, labels = ax.get_legend_handles_labels()
        more, more_labels = loss_ax.get_legend_handles_labels()
        ax.legend(handles + more, labels + more_labels, fontsize=8, loc="lower right")
    else:
        ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or f"{curve.metric} per checkpoint")

    if healthy:
        _health(axes[0][1], curve, steps)
    fig.tight_layout()
    target = Path(path) if isinstance(path, (str, Path)) else path  # or a binary file object
    fig.savefig(target, dpi=110, format="png")
    plt.close(fig)
    return target


def _dimension_lines(ax, curve: Curve, steps: list[int]) -> None:
    """A Matryoshka run: the curve metric at each width below the full one, one line each."""
    widths = sorted({int(d) for p in curve.points for d in p.get("dims", {})}, reverse=True)
    for width in widths:
        values = [p["dims"][str(width)]["scores"][curve.task][curve.metric_name] if str(width) in p.get("dims", {})
                  else float("nan") for p in curve.points]
        ax.plot(steps, values, ":", marker=".", ms=3, label=f"{curve.metric} @{width} dims")


def _health(health_ax, curve: Curve, steps: list[int]) -> None:
    base_health = curve.points[0]["health"]
    for name, color in (("mean_pairwise_cosine", "tab:purple"), ("score_spread", "tab:green"),
                        ("effective_rank", "tab:orange")):
        start = base_health[name] or 1.0
        health_ax.plot(steps, [p["health"][name] / start for p in curve.points], marker="o", ms=3,
                       color=color, label=f"{name} (base {base_health[name]:.3g})")
    warned = [p["step"] for p in curve.points if p.get("warnings")]
    for step in warned:
        health_ax.axvline(step, color="red", alpha=0.3)
    health_ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    health_ax.set_xlabel("step")
    health_ax.set_ylabel("relative to base (1 = unchanged)")
    health_ax.set_title("collapse indicators" + (" (red: warning)" if warned else ""))
    health_ax.legend(fontsize=8)
    health_ax.grid(alpha=0.3)
