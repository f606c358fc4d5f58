"""MPII cases built for tests: multi-person annolist people from one template, and single-person
predictions prt never saw."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

TEMPLATE16 = np.array([(0, 200), (0, 150), (0, 100), (20, 100), (20, 150), (20, 200), (10, 90), (10, 40), (10, 20),
                       (10, -15), (-30, 90), (-25, 60), (-10, 30), (30, 30), (45, 60), (50, 90)], float)


def annorect_person(ax, ay, score=None, skip=(), head=True):
    pts = [{"id": j, "x": float(ax + dx), "y": float(ay + dy), **({"score": score} if score is not None else {})}
           for j, (dx, dy) in enumerate(TEMPLATE16) if j not in skip and j not in (6, 7)]
    r = {"annopoints": [{"point": pts}]}
    if head:
        r.update(x1=ax, y1=ay - 30, x2=ax + 30, y2=ay + 10)  # head size 30 px
    return r


def perturbed_predictions(src: Path, out: Path, seed: int, sigma: float) -> Path:
    """A prediction file prt never saw: a shipped model's MPII predictions moved by Gaussian noise."""
    with h5py.File(src) as f:
        preds = np.asarray(f["preds"], dtype=np.float64)
    rng = np.random.default_rng(seed)
    with h5py.File(out, "w") as f:
        f["preds"] = preds + rng.normal(0, sigma, preds.shape)
    return out
