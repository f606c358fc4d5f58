"""Golden tests: every case of shared/data/posetrack_cases against poseval's own output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.evaluators.posetrack import evaluate_posetrack

CASES = ["case1", "case2", "case3", "case4", "case5", "all", "case2_18", "case3_18", "case4_18",
         "synth24", "bonn_test"]
AP_KEYS = ["ap_joint", "ap_pre", "ap_rec", "ap_groups"]
MOT_KEYS = ["mota_joint", "motp_joint", "pre_joint", "rec_joint", "mota_groups",
            "mota_total", "motp_total", "pre_total", "rec_total"]


def _as_array(v):
    v = v if isinstance(v, list) else [v]
    return np.array([np.nan if x is None else x for x in v], dtype=np.float64)


def assert_close(got, expected, keys, tol=1e-6):
    for k in keys:
        a, b = _as_array(got[k]), _as_array(expected[k])
        assert a.shape == b.shape, k
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NaN pattern of {k}")
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=tol, err_msg=k)


@pytest.mark.parametrize("case", CASES)
def test_pose_ap_matches_poseval(shared_data, case):
    root = shared_data / "posetrack_cases" / case
    expected = json.loads((root / "expected_poseval.json").read_text())
    got = evaluate_posetrack(root / "gt", [root / "pred"], tracking=False)
    assert_close(got, expected, AP_KEYS)


@pytest.mark.parametrize("case", [c for c in CASES if c != "case5"])
def test_tracking_matches_poseval(shared_data, case):
    root = shared_data / "posetrack_cases" / case
    expected = json.loads((root / "expected_poseval.json").read_text())
    got = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True)
    assert_close(got, expected, AP_KEYS + MOT_KEYS)


def test_tracking_with_workers_is_identical(shared_data):
    root = shared_data / "posetrack_cases" / "synth24"
    one = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True, workers=1)
    two = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True, workers=2)
    for k in AP_KEYS + MOT_KEYS:
        np.testing.assert_array_equal(_as_array(one[k]), _as_array(two[k]), err_msg=k)


def test_case5_tracking_is_a_clear_error(shared_data, capsys):
    root = shared_data / "posetrack_cases" / "case5"
    code = main(["evaluate", "--gt", str(root / "gt"), "--pred", str(root / "pred"), "--task", "tracking"])
    err = capsys.readouterr().err
    assert code != 0
    assert "one labeled frame" in err and "seq5.json" in err
    assert "Traceback" not in err


def test_cli_json_keys_and_order(shared_data, tmp_path, capsys):
    root = shared_data / "posetrack_cases" / "case2"
    out = tmp_path / "res.json"
    code = main(["evaluate", "--gt", str(root / "gt"), "--pred", str(root / "pred"), "--task", "tracking",
                 "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Average Precision" in text and "MOTA" in text
    got = json.loads(out.read_text())
    expected = json.loads((root / "expected_poseval.json").read_text())
    keys = [k for k in got if k in expected]
    assert keys == [k for k in expected if k in got]
    assert set(expected) <= set(got)
    assert_close(got, expected, AP_KEYS + MOT_KEYS)


def test_2018_gt_fed_back_gives_100(shared_data):
    root = shared_data / "posetrack18_val_sample"
    expected = json.loads((root / "expected_poseval_gt_as_pred.json").read_text())
    got = evaluate_posetrack(root / "annotations" / "val", [root / "gt_as_pred"], tracking=False)
    assert_close(got, expected, AP_KEYS)
