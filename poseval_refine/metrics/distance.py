"""The normalized distance: how far a predicted joint is from its GT joint, in GT head sizes.

Every PCKh-based number of prt (PoseTrack AP and MOTA, MPII single and multi-person, the refiner's
calibration) goes through :func:`normalized_distance`, so they all share one arithmetic: the square
root of the summed squares (as ``numpy.linalg.norm`` and the official kits, not ``hypot``, which can
differ in the last bit), then one division by the head size.
"""

from __future__ import annotations

import numpy as np


def normalized_distance(pred_xy: np.ndarray, gt_xy: np.ndarray, head_size: np.ndarray,
                        dtype: type = np.float64) -> np.ndarray:
    """``|pred - gt| / head_size`` over the last axis (x, y) of ``pred_xy`` and ``gt_xy``; the operands
    broadcast, ``head_size`` against the result. ``dtype=np.float32`` computes in single precision
    (mmpose). NaN and inf pass through as IEEE arithmetic gives them; what they mean (a miss, an
    unannotated joint) is the caller's. A distance too large for floats is ``inf``, without a warning."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # inf - inf, x / 0, overflow
        diff = np.subtract(pred_xy, gt_xy).astype(dtype, copy=False)
        return (np.sqrt(diff[..., 0] * diff[..., 0] + diff[..., 1] * diff[..., 1])
                / np.asarray(head_size).astype(dtype, copy=False))
