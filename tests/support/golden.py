"""The official poseval outputs of the shared PoseTrack cases, and the comparison every golden test uses."""

from __future__ import annotations

import numpy as np

CASES = ["case1", "case2", "case3", "case4", "case5", "all", "case2_18", "case3_18", "case4_18",
         "synth24", "bonn_test"]
AP_KEYS = ["ap_joint", "ap_pre", "ap_rec", "ap_groups"]
MOT_KEYS = ["mota_joint", "motp_joint", "pre_joint", "rec_joint", "mota_groups",
            "mota_total", "motp_total", "pre_total", "rec_total"]


def as_array(v):
    v = v if isinstance(v, list) else [v]
    return np.array([np.nan if x is None else x for x in v], dtype=np.float64)


def assert_close(got, expected, keys, tol=1e-6):
    for k in keys:
        a, b = as_array(got[k]), as_array(expected[k])
        assert a.shape == b.shape, k
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NaN pattern of {k}")
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=tol, err_msg=k)
