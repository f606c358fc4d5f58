"""PCKh-vs-threshold curves as papers print them (MPII protocol: 0-0.5 head sizes, 0-100 %)."""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import ConfigError
from ..io import atomic_path, check_output_file

#: a fixed colour per curve index, so the same method keeps its colour across figures
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")


def plot_pckh_curves(entries: list[dict], path: str | Path, title: str = "MPII PCKh") -> Path:
    """One curve per entry (``name``, ``curve``, ``pckh``, ``auc``); writes PDF or PNG and a CSV beside it."""
    path = check_output_file(path, "--plot", example="pckh.png")  # not a folder, in a folder that exists
    if path.suffix.lower() not in (".png", ".pdf"):
        what = f"as '{path.suffix}'" if path.suffix else "without a .png or .pdf suffix"
        raise ConfigError(f"cannot write a plot {what}", file=path, fix="give a .png or .pdf path to --plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.2), dpi=150)
    for i, e in enumerate(entries):
        th, total = e["curve"]["thresholds"], e["curve"]["total"]
        label = f"{e['name']} (PCKh@0.5 {e['pckh']['Total']:.1f}, AUC {e['auc']:.1f})"
        ax.plot(th, total, color=COLOURS[i % len(COLOURS)], lw=1.8, label=label)
    ax.set_xlim(0, 0.5)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Normalized distance (head sizes)")
    ax.set_ylabel("Detection rate, %")
    ax.set_title(title)
    ax.grid(True, ls=":", lw=0.6)
    ax.legend(loc="lower right", fontsize=7, frameon=True)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:].lower())
    plt.close(fig)
    csv_path = path.with_suffix(".csv")
    with atomic_path(csv_path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["threshold", *(e["name"] for e in entries)])
        for k, t in enumerate(entries[0]["curve"]["thresholds"]):
            w.writerow([f"{t:.2f}", *(f"{e['curve']['total'][k]:.6f}" for e in entries)])
    return path
