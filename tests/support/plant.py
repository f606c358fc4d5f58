"""Predictions with one planted error kind per GT joint, for ``prt analyze``'s head-size taxonomy tests
(MPII multi, PoseTrack21): what each joint was planted as is known, so the counts can be checked exactly."""

from __future__ import annotations

import numpy as np

KINDS = ("good", "jitter", "inversion", "swap", "miss")


def plant_person(rng, own: np.ndarray, neighbour: np.ndarray, flip: np.ndarray, head: float, joints):
    """One predicted person for GT joints ``own`` (K, 2), ``neighbour`` the GT joints of another person of the
    frame (far away): a list of (joint, kind, predicted (x, y) or None, the same with an inversion repaired).

    good: within 0.1 head sizes; jitter: 0.73 head sizes straight down (the template's left/right partners stand
    further apart sideways, so it is near nothing else); inversion: on the symmetric joint; swap: on the
    neighbour's same joint; miss: not predicted, or 5 head sizes away. Two of three joints are good, so the
    kit's matching pairs the prediction with its own person."""
    out = []
    for j in joints:
        kinds = ["good"] * 6 + ["jitter", "swap", "miss"] + (["inversion"] if flip[j] != j else [])
        kind = str(rng.choice(kinds))
        noise = rng.uniform(-0.1, 0.1, 2) * head
        gx, gy = own[j]
        if kind == "good":
            xy = (gx + noise[0], gy + noise[1])
        elif kind == "jitter":
            xy = (gx + noise[0] / 3, gy + 0.73 * head)
        elif kind == "inversion":
            xy = (own[flip[j]][0] + noise[0], own[flip[j]][1] + noise[1])
        elif kind == "swap":
            xy = (neighbour[j][0] + noise[0], neighbour[j][1] + noise[1])
        else:
            xy = None if rng.random() < 0.5 else (gx + 5 * head, gy + 1.3 * head)
        fixed = (gx + noise[0], gy + noise[1]) if kind == "inversion" else xy
        out.append((j, kind, xy, fixed))
    return out


def empty_counts(names) -> dict:
    return {n: {k: 0 for k in KINDS} for n in names}
