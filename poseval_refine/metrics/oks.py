"""Object keypoint similarity (OKS), computed in pycocotools' own float64 operations.

For a detection d and a GT person g with visible joints V (``v > 0``)::

    e_j = (dx_j**2 + dy_j**2) / (2 sigma_j)**2 / (area_g + eps) / 2
    OKS = sum(exp(-e_j) for j in V) / |V|

and, for a GT person without visible joints, the distance of each detected joint to the GT box
enlarged by its own size on every side, over all joints. pycocotools evaluates this pair by
pair; here all pairs are computed at once, and every elementwise operation is the same IEEE
operation in the same order, so the values are the same bits (the tests compare them with
``COCOeval.ious``). The one reduction, the sum over V, is done by numpy's pairwise summation
exactly as ``np.sum`` does it on V alone: pairs are grouped by |V| and each group summed along
contiguous rows of length |V|.
"""

from __future__ import annotations

import numpy as np

from . import sigma_tables

#: named OKS sigma sets (``--sigmas``), as their official kits write them (tenths, divided by 10)
SIGMA_SETS = {
    # pycocotools Params.setKpParams: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles
    "coco": np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0,
    # CrowdPose's crowdposetools: shoulders, elbows, wrists, hips, knees, ankles, head, neck
    "crowdpose": np.array([.79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89, .79, .79]) / 10.0,
    # mmpose's AI Challenger and COCO-WholeBody tables (metrics/sigma_tables.py)
    "aic": sigma_tables.AIC,
    "wholebody": sigma_tables.WHOLEBODY,
}


def oks_pairs(dx_det: np.ndarray, dy_det: np.ndarray, gx: np.ndarray, gy: np.ndarray, visible: np.ndarray,
              area: np.ndarray, box: np.ndarray, pair_det: np.ndarray, pair_gt: np.ndarray,
              sigmas: np.ndarray) -> np.ndarray:
    """OKS of each (detection ``pair_det[p]``, GT ``pair_gt[p]``) pair.

    ``dx_det``/``dy_det`` (D, K): detected joint coordinates; ``gx``/``gy`` (G, K) GT coordinates,
    ``visible`` (G, K) their ``v > 0``; ``area`` (G,) the GT areas; ``box`` (G, 4) the GT boxes
    ``x, y, w, h`` (for GT people without visible joints: the box enlarged by its size on each side)."""
    var = (sigmas * 2) ** 2
    out = np.empty(len(pair_det))
    if not len(pair_det):
        return out
    n_vis = visible.sum(1)
    pair_n = n_vis[pair_gt]
    scale = area + np.spacing(1)
    for n in np.unique(pair_n).tolist():
        sel = np.flatnonzero(pair_n == n)
        d, g = pair_det[sel], pair_gt[sel]
        xd, yd = dx_det[d], dy_det[d]
        if n:
            dx = xd - gx[g]
            dy = yd - gy[g]
        else:  # distance to the enlarged box, per joint (pycocotools: max((0, x0 - xd)) + max((0, xd - x1)))
            b = box[g]
            x0, x1 = b[:, 0:1] - b[:, 2:3], b[:, 0:1] + b[:, 2:3] * 2
            y0, y1 = b[:, 1:2] - b[:, 3:4], b[:, 1:2] + b[:, 3:4] * 2
            dx = np.maximum(0.0, x0 - xd) + np.maximum(0.0, xd - x1)
            dy = np.maximum(0.0, y0 - yd) + np.maximum(0.0, yd - y1)
        e = (dx ** 2 + dy ** 2) / var / scale[g][:, None] / 2
        if n:
            e = e[visible[g]].reshape(len(sel), n)  # the visible joints of each pair, in joint order
        k = e.shape[1]
        out[sel] = np.sum(np.exp(-e), axis=1) / k
    return out
