"""Golden tests: every case of shared/data/posetrack_cases against poseval's own output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.evaluators.posetrack import evaluate_posetrack

from .support.golden import AP_KEYS, CASES, MOT_KEYS, as_array, assert_close


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
        np.testing.assert_array_equal(as_array(one[k]), as_array(two[k]), err_msg=k)


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
