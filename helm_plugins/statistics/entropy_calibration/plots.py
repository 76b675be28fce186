"""Per-step curves of generation entropy H_t (solid) and log loss L_t (dashed), one colour per setting."""

from pathlib import Path

import numpy as np


def draw_curves(axis, results: dict, title: str) -> None:
    """results: setting name -> EntCEResult dict."""
    for name, r in results.items():
        steps = np.arange(1, r["steps"] + 1)
        line = axis.plot(steps, r["entropy_per_step"], label=f"{name}: H_t (EntCE {r['entce']:+.3f}, L {r['mean_log_loss']:.3f})")
        axis.plot(steps, r["log_loss_per_step"], "--", color=line[0].get_color())
    axis.set(xlabel="generation step t", ylabel="nats", title=f"{title}: H_t (solid) and L_t (dashed)")
    axis.legend(fontsize=7)


def save_curves(results: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    draw_curves(axis, results, title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
