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


def valid_annolists(root: Path, out: Path, model: str = "pyranet-prm.h5", drop: float = 0.0, seed: int = 0,
                    singles: int | None = None):
    """Real MPII multi-person GT and predictions as JSON annolists: the validation split's people
    (``valid.h5``) grouped by image (2729 images, 215 with 2-4 people), their real head boxes
    (``gt_valid_detections_our_format.mat``, same people and order), and a published model's predictions with
    its per-joint scores (``pyranet-prm.h5``: x, y, score), one predicted person per GT person; ``drop``: the
    share of predicted people left out (false negatives); ``singles``: keep every image with several people
    but only the first ``singles`` images with one (a smaller case)."""
    import json

    import scipy.io as sio

    with h5py.File(root / "valid.h5") as f:
        part = np.asarray(f["part"], dtype=np.float64)
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["imgname"][:]]
    boxes = sio.loadmat(root / "gt_valid_detections_our_format.mat")["headboxes_src"]  # (2, 2, N)
    with h5py.File(root / model) as f:
        preds = np.asarray(f["preds"], dtype=np.float64)
    rng = np.random.default_rng(seed)
    images = list(dict.fromkeys(names))
    if singles is not None:
        from collections import Counter

        many = {n for n, c in Counter(names).items() if c > 1}
        images = [n for n in images if n in many] + [n for n in images if n not in many][:singles]
    gt = {n: [] for n in images}
    pr = {n: [] for n in images}
    for i, n in enumerate(names):
        if n not in gt:
            continue
        pts = [{"id": j, "x": float(part[i, j, 0]), "y": float(part[i, j, 1])} for j in range(16)
               if not (part[i, j, 0] == 0 and part[i, j, 1] == 0)]
        (x1, y1), (x2, y2) = boxes[0, :, i], boxes[1, :, i]
        gt[n].append({"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2),
                      "annopoints": [{"point": pts}]})
        if rng.random() >= drop:
            pr[n].append({"annopoints": [{"point": [{"id": j, "x": float(preds[i, j, 0]), "y": float(preds[i, j, 1]),
                                                      "score": float(preds[i, j, 2])} for j in range(16)]}]})
    out.mkdir(parents=True, exist_ok=True)
    for what, d in (("gt", gt), ("pred", pr)):
        (out / f"{what}.json").write_text(json.dumps(
            {"annolist": [{"image": {"name": n}, "annorect": d[n]} for n in images]}))
    return out / "gt.json", out / "pred.json"
