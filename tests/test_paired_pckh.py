"""metrics/paired_pckh.py (task pckh) against counts worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from poseval_refine.metrics.paired_pckh import finalize_paired_pckh, frame_counts, resample_paired_pckh


def test_frame_counts_by_hand():
    gt = np.zeros((2, 15, 2))
    pred = np.zeros((2, 15, 2))
    hs = np.array([10.0, 20.0])
    pred[0, 0] = (3, 4)  # 5 px = 0.5 head sizes: a hit (<=)
    pred[0, 1] = (3, 4.0001)  # just beyond: a miss
    pred[1, 0] = (6, 8)  # 10 px = 0.5 of a 20 px head: a hit
    pred[1, 1] = np.nan  # no prediction: a miss
    gt[1, 2] = np.nan  # not annotated: neither hit nor counted
    gt[0, 3] = pred[0, 3] = np.inf  # inf - inf is no number: a miss, still annotated
    hits, annotated = frame_counts(pred, gt, hs)
    assert annotated.tolist() == [2, 2, 1] + [2] * 12
    assert hits.tolist() == [2, 0, 1, 1] + [2] * 11


def test_finalize_pools_the_total_and_averages_the_groups():
    hits = np.array([1, 2] + [0] * 12 + [3], dtype=float)  # r-ankle 1/2, r-knee 2/2, head top 3/4
    annotated = np.array([2, 2] + [0] * 12 + [4], dtype=float)
    out = finalize_paired_pckh(hits, annotated)
    assert out["pckh_total"] == pytest.approx(100 * 6 / 8)
    assert out["pckh_joint"][:2] == [50.0, 100.0] and out["pckh_joint"][14] == 75.0 and out["pckh_joint"][5] is None
    head, _, _, _, _, knee, ankle, total = out["pckh_groups"]
    assert np.isnan(head) and np.isnan(knee) and np.isnan(ankle)  # a group with an unannotated member is NaN
    assert total == pytest.approx((50 + 100 + 75) / 3)  # the mean of the joints that have a value


def test_resample_weights_items():
    hits = np.array([[1] * 15, [0] * 15], dtype=float)
    annotated = np.ones((2, 15))
    rows = resample_paired_pckh(hits, annotated, np.array([[1, 1], [2, 0], [0, 3]]))
    assert [r["pckh_total"] for r in rows] == [50.0, 100.0, 0.0]
