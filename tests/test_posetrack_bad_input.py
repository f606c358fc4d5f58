"""Bad input ends with one clear message naming the file (and frame/person) and the fix."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from poseval_refine.cli import main
from poseval_refine.formats.posetrack import read_sequence, to_2018
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


def _edit(folder: Path, fn, name="seq.json"):
    data = json.loads((folder / name).read_text())
    fn(data)
    (folder / name).write_text(json.dumps(data))


def expect_clean_error(capsys, gt, pred, *needles):
    """expect_error, and no Python warning reached stderr either (numpy overflow, shapely, ...)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return expect_error(capsys, gt, pred, *needles)


@pytest.mark.parametrize("who", ["gt", "pred"])
@pytest.mark.parametrize("value", [[1e20], [-1e20], [float("nan")], 1e20])
def test_track_id_that_cannot_be_stored(tmp_path, capsys, who, value):
    gt, pred = good_case(tmp_path)
    _edit(gt if who == "gt" else pred, lambda d: d["annolist"][1]["annorect"][1].__setitem__("track_id", value))
    err = expect_clean_error(capsys, gt, pred, f"{who}/seq.json", "frame 1", "person 1", "track_id",
                             "too large", "< 10000")
    assert "renumber" in err


@pytest.mark.parametrize("n", [1, 2])
def test_ignore_region_with_fewer_than_three_points(tmp_path, capsys, n):
    gt, pred = good_case(tmp_path)
    region = {"point": [{"x": [10 * i], "y": [5 * i]} for i in range(n)]}
    _edit(gt, lambda d: d["annolist"][2].__setitem__("ignore_regions", [region]))
    err = expect_clean_error(capsys, gt, pred, "gt/seq.json", "frame 2", "ignore_regions", f"has {n} point",
                             "at least 3")
    assert "track" not in err  # the old message ended with a fix about track ids


def test_2018_ignore_region_with_two_points(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    for folder in (gt, pred):
        seq = read_sequence(folder / "seq.json")
        data = to_2018(seq)
        if folder == gt:
            data["images"][1]["ignore_regions_x"] = [[1, 2]]
            data["images"][1]["ignore_regions_y"] = [[1, 2]]
        (folder / "seq.json").write_text(json.dumps(data))
    expect_clean_error(capsys, gt, pred, "gt/seq.json", "frame 1", "has 2 points", "at least 3")


def test_self_intersecting_ignore_region_is_evaluated_without_warning(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    bowtie = {"point": [{"x": [x], "y": [y]} for x, y in [(0, 0), (400, 400), (400, 0), (0, 400)]]}
    _edit(gt, lambda d: d["annolist"][0].__setitem__("ignore_regions", [bowtie]))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, err = run_cli(capsys, gt, pred)
    assert code == 0 and "Warning" not in err


@pytest.mark.parametrize("field, value, needle", [
    ("x", ["12.5"], "x is the text '12.5'"),
    ("y", [None], "y is null"),
    ("x", [], "x is an empty list"),
    ("x", [True], "x is true"),
    ("id", [True], "joint id is true"),
    ("id", [], "joint id is an empty list"),
    ("score", ["high"], "score is the text 'high'"),
    ("score", [[0.5]], "score is a list"),
])
def test_point_values_poseval_fails_on(tmp_path, capsys, field, value, needle):
    gt, pred = good_case(tmp_path)
    _edit(pred, lambda d: d["annolist"][2]["annorect"][1]["annopoints"][0]["point"][4].__setitem__(field, value))
    expect_clean_error(capsys, gt, pred, "pred/seq.json", "frame 2", "person 1", "point 4", needle)


@pytest.mark.parametrize("field, value, needle", [
    ("x1", ["12"], "head box x1 is the text '12'"),
    ("track_id", ["3"], "track id is the text '3'"),
    ("track_id", [2.5], "track id 2.5 is not an integer"),
    ("annorect", 5, "'annorect' is the number 5, not a list"),
])
def test_person_values_poseval_fails_on(tmp_path, capsys, field, value, needle):
    gt, pred = good_case(tmp_path)
    if field == "annorect":
        _edit(gt, lambda d: d["annolist"][1].__setitem__("annorect", value))
        expect_clean_error(capsys, gt, pred, "gt/seq.json", "frame 1", needle)
        return
    _edit(gt, lambda d: d["annolist"][1]["annorect"][0].__setitem__(field, value))
    expect_clean_error(capsys, gt, pred, "gt/seq.json", "frame 1", "person 0", field, needle)


def test_2018_values_name_the_annotation(tmp_path, capsys):
    gt, pred = good_case(tmp_path)
    for folder in (gt, pred):
        (folder / "seq.json").write_text(json.dumps(to_2018(read_sequence(folder / "seq.json"))))
    _edit(pred, lambda d: d["annotations"][3].__setitem__("scores", [0.5] * 5))
    expect_clean_error(capsys, gt, pred, "pred/seq.json", "frame 1", "person 1", "annotations[3].scores", "5 values")
    _edit(pred, lambda d: d["annotations"][3].__setitem__("scores", ["x"] * 17))
    expect_clean_error(capsys, gt, pred, "annotations[3].scores[0]", "the text 'x'")
    _edit(pred, lambda d: (d["annotations"][3].__setitem__("scores", [0.5] * 17),
                           d["annotations"][3].__setitem__("track_id", 1e20)))
    expect_clean_error(capsys, gt, pred, "annotations[3].track_id", "too large")
