"""PCKh of people paired by order, as poseval's ``evaluatePCKh.py`` computes it on PoseTrack files.

GT person r of a frame is paired with predicted person r; a GT joint is a hit when its prediction
is within ``threshold`` GT head sizes (``<=``); a GT joint without a prediction, or whose distance
is not a number, is a miss. The statistics are additive counts per joint (hits, annotated GT
joints), so any weighting of frames (a bootstrap resample) pools them exactly.
"""

from __future__ import annotations

import numpy as np

from .ap import pair_distances
from .posetrack import group_means


def person_hits(pred_xy: np.ndarray, gt_xy: np.ndarray, head_size: np.ndarray,
                threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per pair and joint, whether the GT joint is annotated and whether it is a hit, ``(N, K)`` booleans:
    ``pred_xy`` and ``gt_xy`` are ``(N, K, 2)``, ``head_size`` ``(N,)``. A person's row depends on that
    pair alone, which is what lets a result be taken over some people (``Result.subset``)."""
    annotated = ~np.isnan(gt_xy[..., 0])
    hits = annotated & (pair_distances(pred_xy, gt_xy, head_size) <= threshold)
    return hits, annotated


def frame_counts(pred_xy: np.ndarray, gt_xy: np.ndarray, head_size: np.ndarray,
                 threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per joint, the hits and the annotated GT joints of one frame's pairs (:func:`person_hits` summed)."""
    hits, annotated = person_hits(pred_xy, gt_xy, head_size, threshold)
    return hits.sum(0), annotated.sum(0)


def finalize_paired_pckh(hits: np.ndarray, annotated: np.ndarray) -> dict:
    """Per-joint PCKh (None where no GT joint is annotated), the PoseTrack groups with their mean
    ("Total" of the groups) and the Total pooled over every annotated joint, in percent."""
    with np.errstate(invalid="ignore", divide="ignore"):
        joint = 100.0 * hits / annotated
    return {"pckh_joint": [None if np.isnan(v) else float(v) for v in joint], "pckh_groups": group_means(joint),
            "pckh_total": float(100.0 * hits.sum() / max(annotated.sum(), 1))}


def resample_paired_pckh(hits: np.ndarray, annotated: np.ndarray, weights: np.ndarray) -> list[dict]:
    """:func:`finalize_paired_pckh` of every resample: ``hits`` and ``annotated`` are per item ``(n, K)``,
    ``weights[r, i]`` how often item i is drawn in resample r."""
    w = np.asarray(weights, dtype=np.float64)  # sums of integer counts: exact in float64
    return [finalize_paired_pckh(h, a) for h, a in zip(w @ hits, w @ annotated)]
