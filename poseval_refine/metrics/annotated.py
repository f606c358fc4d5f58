"""The Total over the joints the GT annotates, beside poseval's official Total.

poseval's Total averages every joint whose value is not NaN. A joint the GT never annotates gets
AP 0 when nothing predicts it (quirk 6, counted in the Total) and NaN when something does (left
out), and a MOTA of -100 from poseval's dummy objects, or far below when it is predicted (every
predicted point a false positive). So predicting such a joint — a refiner that recovers a nose on a
benchmark without noses — moves the official Total while no joint gets better. The Total over the
annotated joints does not move: it is what two runs that differ in such a joint can be compared by.
``--protocol corrected`` already leaves such a joint out of its AP Total.

Pure functions of arrays: per-joint values and per-joint GT counts (the AP statistics' ``num_gt``).
"""

from __future__ import annotations

import numpy as np


def annotated_joints(num_gt) -> np.ndarray:
    """(K,) bool: the GT annotates the joint at least once."""
    return np.asarray(num_gt, dtype=np.float64) > 0


def annotated_total(values, num_gt) -> float:
    """Mean of the per-joint ``values`` over the joints the GT annotates, skipping NaN (as poseval's Total
    skips NaN); NaN when none is left."""
    v = np.asarray(values, dtype=np.float64)
    keep = annotated_joints(num_gt) & ~np.isnan(v)
    return float(np.mean(v[keep])) if keep.any() else float("nan")


def annotated_total_rows(values: np.ndarray, num_gt: np.ndarray) -> np.ndarray:
    """:func:`annotated_total` of every row of (R, K) ``values`` with (R, K) or (K,) ``num_gt`` at once: (R,)."""
    v = np.asarray(values, dtype=np.float64)
    g = np.broadcast_to(np.asarray(num_gt), v.shape)
    # row by row through the scalar function: an all-ones resample gives the evaluated number bit for bit
    return np.array([annotated_total(v[r], g[r]) for r in range(len(v))], dtype=np.float64)


def counted_unannotated(values, num_gt) -> np.ndarray:
    """(K,) bool: joints the GT never annotates whose value counts in the official Total (not NaN): the
    joints that make the two Totals differ."""
    v = np.asarray(values, dtype=np.float64)
    return ~annotated_joints(num_gt) & ~np.isnan(v)
