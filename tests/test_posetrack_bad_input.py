"""Bad input ends with one clear message naming the file (and frame/person) and the fix."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from poseval_refine.cli import main
from poseval_refine.skeletons import POSETRACK18

from .ptbuild import frame, person, write_case

A, B = (100, 100), (300, 100)


def good_case(tmp_path, n=3):
    gt = [frame([person(*A, track=0), person(*B, track=1)]) for _ in range(n)]
    pred = [frame([person(*A, track=5, score=0.9), person(*B, track=6, score=0.8)]) for _ in range(n)]
    return write_case(tmp_path, gt, pred)


def digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(capsys, gt, pred, *extra):
    code = main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--task", "tracking", *extra])
    captured = capsys.readouterr()
    return code, captured.err


def expect_error(capsys, gt, pred, *needles, extra=()):
    before = digest(gt.parent)
    code, err = run_cli(capsys, gt, pred, *extra)
    assert code != 0
    assert "Traceback" not in err
    assert err.count("prt: error:") == 1
    for n in needles:
        assert n in err, (n, err)
    assert "fix:" in err
    assert digest(gt.parent) == before  # inputs untouched
    return err


def test_good_case_runs(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    code, err = run_cli(capsys, gt, pred)
    assert code == 0, err


def test_truncated_json(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    p = pred / "seq.json"
    p.write_text(p.read_text()[:-40])
    expect_error(capsys, gt, pred, "seq.json", "truncated")


def test_invalid_json(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    (pred / "seq.json").write_text('{"annolist": [ {"image": oops} ]}')
    expect_error(capsys, gt, pred, "seq.json", "not valid JSON", "line 1")


def test_missing_prediction_file(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    (gt / "other.json").write_text((gt / "seq.json").read_text())
    expect_error(capsys, gt, pred, "other.json", "no prediction file")


def test_different_number_of_frames(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    data = json.loads((pred / "seq.json").read_text())
    data["annolist"].pop()
    (pred / "seq.json").write_text(json.dumps(data))
    expect_error(capsys, gt, pred, "seq.json", "2 frames", "has 3")


def test_duplicate_track_id_in_frame(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    data = json.loads((pred / "seq.json").read_text())
    data["annolist"][1]["annorect"][1]["track_id"] = [5]
    (pred / "seq.json").write_text(json.dumps(data))
    expect_error(capsys, gt, pred, "seq.json", "frame 1", "person 1", "used twice")


def test_track_id_too_large(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    data = json.loads((pred / "seq.json").read_text())
    data["annolist"][2]["annorect"][0]["track_id"] = [10000]
    (pred / "seq.json").write_text(json.dumps(data))
    expect_error(capsys, gt, pred, "seq.json", "frame 2", "person 0", "10000")


def test_non_numeric_coordinate(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    data = json.loads((pred / "seq.json").read_text())
    data["annolist"][1]["annorect"][0]["annopoints"][0]["point"][3]["x"] = ["12a"]
    (pred / "seq.json").write_text(json.dumps(data))
    expect_error(capsys, gt, pred, "seq.json", "frame 1", "person 0", "'12a'")


def test_file_in_neither_layout(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    (pred / "seq.json").write_text(json.dumps([{"image_id": 1, "keypoints": [1, 2, 3]}]))
    expect_error(capsys, gt, pred, "seq.json", "neither PoseTrack layout")


def test_missing_scores_warn_once_naming_the_file(tmp_path, capsys):
    gt = [frame([person(*A, track=0)]) for _ in range(3)]
    pred = [frame([person(*A, track=5)]) for _ in range(3)]  # no scores at all
    gt, pred = write_case(tmp_path, gt, pred)
    code, err = run_cli(capsys, gt, pred)
    assert code == 0
    assert err.count("have no score") == 1 and "seq.json" in err and "-9999" in err


def test_min_score_reports_dropped_joints(tmp_path, capsys):
    gt = [frame([person(*A, track=0)]) for _ in range(3)]
    scores = [0.9] * 10 + [0.7] * 5  # five joints at exactly tau are dropped (strictly greater kept)
    pred = [frame([person(*A, track=5, scores=scores)]) for _ in range(3)]
    gt, pred = write_case(tmp_path, gt, pred)
    out = tmp_path / "r.json"
    code, err = run_cli(capsys, gt, pred, "--min-score", "0.7", "--json", str(out))
    assert code == 0
    assert "dropped 15 of 45" in err
    res = json.loads(out.read_text())
    assert res["ap_joint"][10:] == [0.0] * 5 and res["ap_joint"][:10] == [100.0] * 10


def test_option_of_another_task_is_rejected(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    code = main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--task", "pose", "--motp", "clear"])
    err = capsys.readouterr().err
    assert code != 0 and "--motp" in err and "Traceback" not in err


@pytest.mark.parametrize("layout", ["2018"])
def test_2018_missing_keypoints_length(tmp_path, capsys, layout):
    gt, pred = good_case(tmp_path)
    bad = {"images": [{"id": 1, "file_name": "a/000000.jpg"}] * 3,
           "annotations": [{"image_id": 1, "keypoints": [1, 2, 1], "track_id": 0}],
           "categories": [{"name": "person", "keypoints": list(POSETRACK18.file_names)}]}
    (pred / "seq.json").write_text(json.dumps(bad))
    expect_error(capsys, gt, pred, "seq.json", "keypoints")


def test_repeated_gt_track_id_that_motmetrics_crashes_on(tmp_path, capsys):
    gt = [frame([person(*A, track=0), person(*B, track=0)]) for _ in range(3)]  # one id for two people
    pred = [frame([person(*A, track=5, score=0.9), person(*B, track=6, score=0.8)]) for _ in range(3)]
    gt, pred = write_case(tmp_path, gt, pred)
    err = expect_error(capsys, gt, pred, "seq.json", "track ids unique")
    assert "give every GT person of a frame its own track_id" in err
