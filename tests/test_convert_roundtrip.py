"""`prt convert` round trips: a prediction file converted between the formats prt writes and evaluated against
the same GT gives the same numbers, on the real cases of ../shared/data; a pair that cannot hold what the GT
scores is refused, naming what would be lost.

Which pairs can hold the data (joint sets, tracks, sequences, people per frame) is the table of
docs/methods.md, "prt convert".
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from poseval_refine import evaluate
from poseval_refine.cli import main
from poseval_refine.formats import read_poses

IGNORED = {"pred", "name", "format", "gt", "plot"}  # where the inputs are, not what they give


def numbers(x):
    """A result's content without the keys that name the input files."""
    if isinstance(x, dict):
        return {k: numbers(v) for k, v in x.items() if k not in IGNORED}
    if isinstance(x, list):
        return [numbers(v) for v in x]
    return x


def convert(capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["convert", *map(str, args)])
    return code, capsys.readouterr().err


def same_numbers(gt, a, b, task):
    x, y = evaluate(gt, a, task=task).to_dict(), evaluate(gt, b, task=task).to_dict()
    assert numbers(x) == numbers(y)
    return x


# ----------------------------------------------------------------------------- pairs that hold the data
def test_coco_results_to_openpose_and_back(shared_data, tmp_path, capsys):
    coco = shared_data / "coco_sample"
    gt, dt = coco / "gt_dataset.json", coco / "dt_dataset.json"
    code, err = convert(capsys, "--to", "openpose", dt, tmp_path / "op")
    assert code == 2 and "give --gt" in err and not (tmp_path / "op").exists()  # file names need the GT's images
    assert convert(capsys, "--to", "openpose", "--gt", gt, dt, tmp_path / "op")[0] == 0
    assert [p.name for p in (tmp_path / "op").iterdir()] == ["000000139099_keypoints.json"]  # the GT image's name
    same_numbers(gt, dt, tmp_path / "op", "coco")
    expected = json.loads((coco / "expected_pycocotools.json").read_text())
    headline = evaluate(gt, tmp_path / "op", task="coco").headline
    assert {k: headline[k] for k in expected} == pytest.approx({k: 100 * v for k, v in expected.items()}, abs=1e-9)
    # and back to COCO results: each frame takes the id of the GT image of its name
    assert convert(capsys, "--to", "coco-results", "--gt", gt, tmp_path / "op", tmp_path / "back.json")[0] == 0
    same_numbers(gt, dt, tmp_path / "back.json", "coco")
    back, raw = json.loads((tmp_path / "back.json").read_text()), json.loads(dt.read_text())
    assert [d["image_id"] for d in back] == [d["image_id"] for d in raw]
    assert [d["bbox"] for d in back] == [d["bbox"] for d in raw] and [d["score"] for d in back] == [d["score"]
                                                                                                    for d in raw]


def test_openpose_to_coco_results_needs_image_ids(shared_data, tmp_path, capsys):
    coco = shared_data / "coco_sample"
    assert convert(capsys, "--to", "openpose", "--gt", coco / "gt_dataset.json", coco / "dt_dataset.json",
                   tmp_path / "op")[0] == 0
    # a numeric file stem is the COCO id (as the COCO evaluator matches it)
    assert convert(capsys, "--to", "coco-results", tmp_path / "op", tmp_path / "a.json")[0] == 0
    assert {d["image_id"] for d in json.loads((tmp_path / "a.json").read_text())} == {139099}
    # a file named after no id: --gt is needed, and its absence is one clear error
    (tmp_path / "named").mkdir()
    src = (tmp_path / "op" / "000000139099_keypoints.json").read_text()
    (tmp_path / "named" / "street_keypoints.json").write_text(src)
    code, err = convert(capsys, "--to", "coco-results", tmp_path / "named", tmp_path / "b.json")
    assert code == 2 and err.count("prt: error:") == 1 and "'street_keypoints.json' names none" in err
    assert "fix: give --gt" in err and not (tmp_path / "b.json").exists()


@pytest.mark.parametrize("case, task", [("bonn_test", "tracking"), ("case3_18", "tracking")])
def test_posetrack_2017_2018_round_trip(shared_data, tmp_path, capsys, case, task):
    root = shared_data / "posetrack_cases" / case
    expected = json.loads((root / "expected_poseval.json").read_text())
    first, second = ("posetrack2018", "posetrack2017") if case == "bonn_test" else ("posetrack2017", "posetrack2018")
    assert convert(capsys, "--to", first, "--gt", root / "gt", root / "pred", tmp_path / "a")[0] == 0
    assert convert(capsys, "--to", second, "--gt", root / "gt", tmp_path / "a", tmp_path / "b")[0] == 0
    for out in ("a", "b"):
        res = same_numbers(root / "gt", root / "pred", tmp_path / out, task)
        assert res["mota_total"] == pytest.approx(expected["mota_total"], abs=1e-9)  # poseval's own number
        assert res["ap_groups"][-1] == pytest.approx(expected["ap_groups"][-1], abs=1e-9)
    a, b = read_poses(root / "pred"), read_poses(tmp_path / "b")
    assert a.names() == b.names()  # sequence names
    for name in a.names():
        assert a[name].image_names == b[name].image_names
        np.testing.assert_array_equal(a[name].track_id, b[name].track_id)


def test_posetrack18_val_sample_to_2017(shared_data, tmp_path, capsys):
    root = shared_data / "posetrack18_val_sample"
    gt = root / "annotations" / "val"
    assert convert(capsys, "--to", "posetrack2017", "--gt", gt, root / "gt_as_pred", tmp_path / "p17")[0] == 0
    res = same_numbers(gt, root / "gt_as_pred", tmp_path / "p17", "pose")
    expected = json.loads((root / "expected_poseval_gt_as_pred.json").read_text())
    assert res["ap_groups"][-1] == pytest.approx(expected["ap_groups"][-1], abs=1e-9)


@pytest.mark.parametrize("pred", ["newell.h5", "pyranet-prm.h5"])
def test_mpii_h5_to_mat(shared_data, tmp_path, capsys, pred):
    mpii = shared_data / "mpii_val"
    assert convert(capsys, "--to", "mpii", "--gt", mpii / "valid.h5", mpii / pred, tmp_path / "p.mat")[0] == 0
    same_numbers(mpii / "valid.h5", mpii / pred, tmp_path / "p.mat", "single")


def test_coco_results_to_posetrack2018_keeps_image_ids(shared_data, tmp_path, capsys):
    """Without --gt the conversion is written (PoseTrack 2018 has no eyes: one note says so), each image keeps
    its COCO id, so the file is scored against the COCO GT — as the results with their eyes removed score."""
    coco = shared_data / "coco_sample"
    code, err = convert(capsys, "--to", "posetrack2018", coco / "dt_dataset.json", tmp_path / "p.json")
    assert code == 0 and "posetrack2018 has no slot for left_eye (128 points), right_eye (128 points)" in err
    data = json.loads((tmp_path / "p.json").read_text())
    assert [im["id"] for im in data["images"]] == [139099] and {a["image_id"] for a in data["annotations"]} == {139099}
    assert convert(capsys, "--to", "posetrack2018", "--gt", coco / "gt_dataset.json", coco / "dt_dataset.json",
                   tmp_path / "q.json")[0] == 2  # with the GT that scores eyes: refused (below)
    raw = json.loads((coco / "dt_dataset.json").read_text())
    for d in raw:
        d["keypoints"][3:9] = [0] * 6  # the eyes, absent
    by_hand = evaluate(coco / "gt_dataset.json", raw, task="coco")
    converted = evaluate(coco / "gt_dataset.json", tmp_path / "p.json", task="coco")
    a, b = numbers(converted.to_dict()), numbers(by_hand.to_dict())
    assert a.pop("conversions") and not b.pop("conversions")  # the converted file's note: no eyes
    assert a == b
    assert converted.headline["AP"] < evaluate(coco / "gt_dataset.json", coco / "dt_dataset.json").headline["AP"]


def test_posetrack_to_openpose_keeps_sequences_and_tracks(shared_data, tmp_path, capsys):
    root = shared_data / "posetrack_cases" / "bonn_test"
    code, err = convert(capsys, "--to", "openpose", root / "pred", tmp_path / "op")
    assert code == 0 and "openpose has no slot for head_top" in err
    a, b = read_poses(root / "pred"), read_poses(tmp_path / "op")
    assert sorted(a.names()) == sorted(b.names())
    for name in a.names():
        np.testing.assert_array_equal(a[name].track_id, b[name].track_id)
        assert a[name].num_frames == b[name].num_frames


# ----------------------------------------------------------------------------- pairs that cannot hold it
REFUSED = [
    ("coco", "posetrack2017", ["left_eye", "right_eye", "left_ear", "right_ear"]),
    ("coco", "posetrack2018", ["left_eye (128 points), right_eye (128 points)"]),
    ("coco", "mpii", ["nose", "left_eye", "one person per frame, 1 frames hold more"]),
    ("openpose", "posetrack2018", ["left_eye", "right_eye"]),
    ("openpose", "posetrack2017", ["left_ear"]),
    ("openpose", "mpii", ["nose"]),
    ("bonn", "coco-results", ["neck", "head_top", "no track ids", "30 sequences"]),
    ("bonn", "openpose", ["head_top (7041 points)"]),
    ("bonn", "mpii", ["no track ids", "30 sequences"]),
    ("mpii", "coco-results", ["pelvis", "thorax", "head_top"]),
    ("mpii", "openpose", ["pelvis", "thorax", "head_top"]),
    ("mpii", "posetrack2017", ["pelvis (2958 points), thorax (2958 points)"]),
    ("mpii", "posetrack2018", ["pelvis", "thorax"]),
]


@pytest.mark.parametrize("source, to, words", REFUSED, ids=[f"{s}-{t}" for s, t, _ in REFUSED])
def test_pairs_that_cannot_hold_the_data_are_refused(shared_data, tmp_path, capsys, source, to, words):
    coco, mpii = shared_data / "coco_sample", shared_data / "mpii_val"
    bonn = shared_data / "posetrack_cases" / "bonn_test"
    if source == "openpose":
        assert convert(capsys, "--to", "openpose", "--gt", coco / "gt_dataset.json", coco / "dt_dataset.json",
                       tmp_path / "op")[0] == 0
    gt, src = {"coco": (coco / "gt_dataset.json", coco / "dt_dataset.json"),
               "openpose": (coco / "gt_dataset.json", tmp_path / "op"),
               "bonn": (bonn / "gt", bonn / "pred"), "mpii": (mpii / "valid.h5", mpii / "newell.h5")}[source]
    out = tmp_path / ("out.h5" if to == "mpii" else "out.json" if source in ("coco", "openpose", "mpii") and
                      to != "openpose" else "out")
    code, err = convert(capsys, "--to", to, "--gt", gt, src, out)
    assert code == 2 and err.count("prt: error:") == 1 and "Traceback" not in err, err
    assert f"--to {to} cannot hold what this GT scores" in err and str(gt) in err and "\n  fix: " in err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()


def test_pick_is_the_users_choice_of_one_person_per_frame(shared_data, tmp_path, capsys):
    """With --pick the user chose whom to keep: only what the GT scores and the target lacks is refused."""
    coco = shared_data / "coco_sample"
    code, err = convert(capsys, "--to", "mpii", "--pick", "largest", "--gt", coco / "gt_dataset.json",
                        coco / "dt_dataset.json", tmp_path / "p.h5")
    assert code == 2 and "mpii has no slot for nose" in err and "one person per frame" not in err
