"""Bad input to the MPII, annolist, pose-tensorflow, OpenPose, COCO and Detect-and-Track readers (and to
``prt convert``/``prt evaluate``): exit 2, one ``prt: error:`` line naming the file and the place, a
``fix:`` line, no traceback, no Python warning, inputs untouched, nothing written."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from .support.cli import run_cli
from .support.fuzzing import detect_and_track, mpii_annolist, mpii_gt_h5, mpii_people

run = run_cli


def digest(folder: Path) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def expect_error(tmp_path, argv, *needles, out=None) -> str:
    before = digest(tmp_path)
    code, _, err, caught = run(argv)
    assert code == 2, err
    assert err.count("prt: error:") == 1 and "Traceback" not in err, err
    assert "\n  fix: " in err, err
    assert not caught, caught
    for n in needles:
        assert n in err, (n, err)
    assert digest(tmp_path) == before  # inputs untouched, nothing half-written
    if out is not None:
        assert not Path(out).exists()
    return err


@pytest.fixture
def gt_h5(tmp_path):
    path = tmp_path / "gt.h5"
    with h5py.File(path, "w") as h:
        for k, v in mpii_gt_h5(4).items():
            h[k] = v
    return path


def single(gt, *preds):
    argv = ["evaluate", "--task", "single", "--gt", gt]
    for p in preds:
        argv += ["--pred", p]
    return argv


# ----------------------------------------------------------------------------- MPII arrays
def test_predictions_stored_as_text(tmp_path, gt_h5):
    with h5py.File(tmp_path / "str.h5", "w") as h:
        h["preds"] = "hello"
    expect_error(tmp_path, single(gt_h5, tmp_path / "str.h5"), "str.h5", "field 'preds'", "the text 'hello'",
                 "not numbers", "N x 16 x 2")
    scipy.io.savemat(tmp_path / "str.mat", {"preds": "hello"})
    expect_error(tmp_path, single(gt_h5, tmp_path / "str.mat"), "str.mat", "the text 'hello'")
    with h5py.File(tmp_path / "strs.h5", "w") as h:
        h["preds"] = np.array([[b"1", b"2"]] * 16)
    expect_error(tmp_path, single(gt_h5, tmp_path / "strs.h5"), "strs.h5", "'preds' holds text")


def test_predictions_as_a_ragged_cell_array(tmp_path, gt_h5):
    cells = np.empty(4, dtype=object)
    for i in range(4):
        cells[i] = mpii_people(4)[i] if i != 2 else mpii_people(4)[i][:15]
    scipy.io.savemat(tmp_path / "ragged.mat", {"preds": cells})
    expect_error(tmp_path, single(gt_h5, tmp_path / "ragged.mat"), "ragged.mat", "field 'preds'",
                 "ragged cell array: cell 2 has shape (15, 2), cell 0 has (16, 2)")


def test_predictions_as_a_uniform_cell_array_read_like_the_array(tmp_path, gt_h5):
    preds = mpii_people(4, shift=12.0)
    preds[0, :5] += 9.0  # 15 px off with head size 30: misses
    cells = np.empty(4, dtype=object)
    for i in range(4):
        cells[i] = preds[i]
    scipy.io.savemat(tmp_path / "cells.mat", {"preds": cells})
    scipy.io.savemat(tmp_path / "array.mat", {"preds": preds})
    a = run(single(gt_h5, tmp_path / "cells.mat") + ["--json", tmp_path / "a.json"])
    b = run(single(gt_h5, tmp_path / "array.mat") + ["--json", tmp_path / "b.json"])
    assert a[0] == b[0] == 0 and not a[3]
    ja, jb = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    assert ja["pckh"] == jb["pckh"] and 50 < ja["pckh"]["Total"] < 100


def test_complex_and_boolean_predictions(tmp_path, gt_h5):
    with h5py.File(tmp_path / "c.h5", "w") as h:
        h["preds"] = mpii_people(4) * (1 + 1j)
    expect_error(tmp_path, single(gt_h5, tmp_path / "c.h5"), "c.h5", "complex numbers")
    with h5py.File(tmp_path / "b.h5", "w") as h:
        h["preds"] = mpii_people(4) > 100
    expect_error(tmp_path, single(gt_h5, tmp_path / "b.h5"), "b.h5", "true/false values")


def test_gt_normalize_of_another_length(tmp_path):
    v = mpii_gt_h5(4)
    v["normalize"] = v["normalize"][:3]
    with h5py.File(tmp_path / "gt.h5", "w") as h:
        for k, x in v.items():
            h[k] = x
    with h5py.File(tmp_path / "p.h5", "w") as h:
        h["preds"] = mpii_people(4)
    expect_error(tmp_path, single(tmp_path / "gt.h5", tmp_path / "p.h5"), "gt.h5", "field 'normalize'",
                 "'normalize' has shape (3,) but the file has 4 people", "one head size per person")


@pytest.mark.parametrize("key, bad, needle", [
    ("visible", np.ones((4, 15)), "'visible' has shape (4, 15) but the file has 4 people (expected 4 x 16)"),
    ("imgname", np.array([b"a.jpg"] * 5), "'imgname' has 5 names but the file has 4 people"),
    ("normalize", np.array([b"x"] * 4), "'normalize' holds text"),
])
def test_gt_per_person_fields(tmp_path, key, bad, needle):
    v = mpii_gt_h5(4)
    v[key] = bad
    with h5py.File(tmp_path / "gt.h5", "w") as h:
        for k, x in v.items():
            h[k] = x
    with h5py.File(tmp_path / "p.h5", "w") as h:
        h["preds"] = mpii_people(4)
    expect_error(tmp_path, single(tmp_path / "gt.h5", tmp_path / "p.h5"), "gt.h5", f"field '{key}'", needle)


def test_release_mat_as_single_person_gt(tmp_path, gt_h5):
    rel = {"annolist": np.array(mpii_annolist(False), dtype=object), "img_train": np.array([1, 1]),
           "single_person": np.array([np.array([1.0]), np.array([2.0])], dtype=object)}
    scipy.io.savemat(tmp_path / "mpii_human_pose_v1_u12_1.mat", {"RELEASE": rel})
    with h5py.File(tmp_path / "p.h5", "w") as h:
        h["preds"] = mpii_people(4)
    err = expect_error(tmp_path, single(tmp_path / "mpii_human_pose_v1_u12_1.mat", tmp_path / "p.h5"),
                       "mpii_human_pose_v1_u12_1.mat", "is an MPII annolist", "--task multi")
    assert "'preds'" not in err.split("fix:")[0]  # no longer "has no 'preds' array"


def test_damaged_mat_file_is_an_error_not_a_crash(tmp_path, gt_h5):
    """scipy's loadmat segfaults on this (a type code flipped in a numeric element); prt checks first."""
    import io as _io

    buf = _io.BytesIO()
    scipy.io.savemat(buf, {"preds": mpii_people(4)})
    data = bytearray(buf.getvalue())
    data[-4 * 16 * 2 * 8 - 8] = 206  # the type code of the 'preds' data element
    (tmp_path / "damaged.mat").write_bytes(bytes(data))
    expect_error(tmp_path, single(gt_h5, tmp_path / "damaged.mat"), "damaged.mat", "cannot be read as a MATLAB",
                 "unknown type code 206")


def test_huge_coordinates_are_misses_without_warnings(tmp_path, gt_h5):
    preds = mpii_people(4)
    preds[0, 0] = (1e308, -1e308)
    with h5py.File(tmp_path / "p.h5", "w") as h:
        h["preds"] = preds
    code, out, err, caught = run(single(gt_h5, tmp_path / "p.h5") + ["--json", tmp_path / "r.json"])
    assert code == 0 and not caught, (err, caught)
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["pckh_joint"][0] == pytest.approx(75.0)  # 3 of 4 right ankles hit


# ----------------------------------------------------------------------------- annolists
def multi(tmp_path, gt, pred):
    (tmp_path / "gt.json").write_text(json.dumps({"annolist": gt}))
    (tmp_path / "pred.json").write_text(json.dumps({"annolist": pred}))
    return ["evaluate", "--task", "multi", "--gt", tmp_path / "gt.json", "--pred", tmp_path / "pred.json"]


def test_annolist_non_numeric_score(tmp_path):
    pred = mpii_annolist(True)
    pred[1]["annorect"][0]["annopoints"]["point"][3]["score"] = "high"
    expect_error(tmp_path, multi(tmp_path, mpii_annolist(False), pred), "pred.json", "frame 1, person 0",
                 "field 'score'", "score of joint 3 is the text 'high', not a number")


@pytest.mark.parametrize("bad", ["people", 3, [[1, 2]], True])
def test_annolist_annorect_not_a_list_of_people(tmp_path, bad):
    pred = mpii_annolist(True)
    pred[0]["annorect"] = bad
    expect_error(tmp_path, multi(tmp_path, mpii_annolist(False), pred), "pred.json", "frame 0", "annorect")


def test_annorect_keyed_by_index_is_not_silently_empty(tmp_path):
    """{"0": person, "1": person} used to be read as one person without joints: AP 0, exit 0."""
    pred = mpii_annolist(True)
    for entry in pred:
        entry["annorect"] = {str(i): r for i, r in enumerate(entry["annorect"])}
    expect_error(tmp_path, multi(tmp_path, mpii_annolist(False), pred), "pred.json", "frame 0, person 0",
                 "field 'annorect'", "person has none of the annolist fields", "it has '0', '1'")
    pred = mpii_annolist(True)
    pred[1] = {"people": pred[1]["annorect"]}
    expect_error(tmp_path, multi(tmp_path, mpii_annolist(False), pred), "pred.json", "frame 1",
                 "entry has none of the annolist fields (image, annorect); it has 'people'")


def test_annorect_as_one_object_is_one_person(tmp_path):
    """MATLAB's jsonencode writes a 1 x 1 struct array as an object: it is the same person."""
    gt, pred = mpii_annolist(False, frames=1), mpii_annolist(True, frames=1)
    gt[0]["annorect"], pred[0]["annorect"] = gt[0]["annorect"][0], pred[0]["annorect"][0]
    code, out, err, caught = run(multi(tmp_path, gt, pred) + ["--json", tmp_path / "r.json"])
    assert code == 0 and not caught, err
    assert json.loads((tmp_path / "r.json").read_text())["ap"]["Total"] == pytest.approx(100.0)


def test_annolist_repeated_joint_keeps_the_first_point(tmp_path):
    """The MPII kit's util_get_annopoint_by_id returns the first point with the id."""
    gt, pred = mpii_annolist(False, frames=1), mpii_annolist(True, frames=1)
    for r in pred[0]["annorect"]:
        first = dict(r["annopoints"]["point"][0])
        r["annopoints"]["point"].append(dict(first, x=first["x"] + 500))  # a far-off copy after the real one
    code, _, err, _ = run(multi(tmp_path, gt, pred) + ["--json", tmp_path / "r.json"])
    assert code == 0, err
    assert json.loads((tmp_path / "r.json").read_text())["ap_joint"][0] == pytest.approx(100.0)


@pytest.mark.parametrize("point, needle", [
    ({"id": 1.5, "x": 1, "y": 2, "score": 0.5}, "point 0's id is 1.5, not an integer"),
    ({"id": 22, "x": 1, "y": 2, "score": 0.5}, "joint id 22 is not an MPII id 0..15"),
    ({"id": 1, "x": "12", "y": 2, "score": 0.5}, "x of joint 1 is the text '12', not a number"),
    ({"id": 1, "y": 2, "score": 0.5}, "point 0 has no 'x'"),
    ("point", "point 0 is the text 'point'"),
])
def test_annolist_bad_points(tmp_path, point, needle):
    pred = mpii_annolist(True)
    pred[0]["annorect"][1]["annopoints"]["point"] = [point]
    expect_error(tmp_path, multi(tmp_path, mpii_annolist(False), pred), "pred.json", "frame 0, person 1", needle)


# ----------------------------------------------------------------------------- other readers, prt convert
def convert(src, fmt, out, to="posetrack2018"):
    return ["convert", "--from", fmt, "--to", to, src, out]


def test_pose_tensorflow_bad_cell(tmp_path, gt_h5):
    cells = np.empty(4, dtype=object)
    for i in range(4):
        cells[i] = np.full((14, 3), 5.0) if i != 1 else "x"
    scipy.io.savemat(tmp_path / "predictions.mat", {"joints": cells})
    expect_error(tmp_path, single(gt_h5, tmp_path / "predictions.mat"), "predictions.mat", "person 1",
                 "field 'joints'", "the text 'x'")


@pytest.mark.parametrize("doc, needle", [
    ({"people": {"a": 1}}, "'people' is a struct/object, expected a list"),
    ({"people": ["x"]}, "person 0: person is the text 'x'"),
    ({"people": [{"pose_keypoints_2d": [1, 2, "3"] * 25}]}, "'pose_keypoints_2d' holds text"),
    ({"people": [{"pose_keypoints_2d": [1.0, 2.0] * 25}]}, "has 50 values, not x, y, c triples"),
])
def test_openpose_bad_files(tmp_path, doc, needle):
    (tmp_path / "op").mkdir()
    (tmp_path / "op" / "v_000000000000_keypoints.json").write_text(json.dumps(doc))
    expect_error(tmp_path, convert(tmp_path / "op", "openpose", tmp_path / "out"), "v_000000000000_keypoints.json",
                 needle, out=tmp_path / "out")


@pytest.mark.parametrize("result, needle", [
    ({"image_id": [1], "keypoints": [1.0] * 51, "score": 0.5}, "'image_id' is a list of 1"),
    ({"image_id": 1.5, "keypoints": [1.0] * 51, "score": 0.5}, "'image_id' is 1.5, not an integer"),
    ({"keypoints": [1.0] * 51, "score": 0.5}, "results[1] has no 'image_id'"),
    ({"image_id": 1, "keypoints": [1.0] * 50 + ["a"], "score": 0.5}, "'keypoints' holds text"),
    ({"image_id": 1, "keypoints": [1.0] * 51, "score": "0.5"}, "'score' is the text '0.5', not a number"),
    ("x", "results[1] is the text 'x'"),
])
def test_coco_results_bad_entries(tmp_path, result, needle):
    good = {"image_id": 7, "category_id": 1, "keypoints": [5.0] * 51, "score": 0.9}
    (tmp_path / "res.json").write_text(json.dumps([good, result]))
    # named as the evaluator names a result (results[i]), not "person i"
    err = expect_error(tmp_path, convert(tmp_path / "res.json", "coco-results", tmp_path / "out"), "res.json",
                       "results[1]", needle, out=tmp_path / "out")
    assert "person" not in err


def _dt(tmp_path, edit) -> Path:
    data = detect_and_track().files["detections_withTracks.pkl"][1]
    edit(data)
    (tmp_path / "d.pkl").write_bytes(pickle.dumps(data, protocol=2))
    return tmp_path / "d.pkl"


@pytest.mark.parametrize("edit, needle", [
    (lambda d: d["all_tracks"][1].__setitem__(1, np.array([0])), "frame 1, field 'all_tracks': 'all_tracks' has 1 "
                                                                  "entries for 2 people"),
    (lambda d: d["all_tracks"][1].__setitem__(0, np.array([0, 1e20])), "frame 0, person 1"),
    (lambda d: d["all_keyps"][1][2].__setitem__(0, np.zeros((3, 17))), "keypoints have shape (3, 17)"),
    (lambda d: d["all_boxes"][1].__setitem__(0, np.zeros((2, 4))), "box has 4 values"),
    (lambda d: d.__setitem__("all_keyps", "x"), "'all_keyps' is the text 'x'"),
])
def test_detect_and_track_bad_pickles(tmp_path, edit, needle):
    src = _dt(tmp_path, edit)
    expect_error(tmp_path, convert(src, "detect-and-track", tmp_path / "out", to="posetrack2017"), "d.pkl", needle,
                 out=tmp_path / "out")


def test_truncated_pickle(tmp_path):
    src = _dt(tmp_path, lambda d: None)
    src.write_bytes(src.read_bytes()[:100])
    expect_error(tmp_path, convert(src, "detect-and-track", tmp_path / "out"), "d.pkl", "not a readable pickle")


# ----------------------------------------------------------------------------- options that do not apply
@pytest.mark.parametrize("extra, needle", [
    (["--workers", "2"], "option --workers does not apply to --task single"),
    (["--protocol", "corrected", "--min-score", "0.7"], "option --min-score, --protocol does not apply"),
])
def test_method_with_an_option_its_task_does_not_take(tmp_path, monkeypatch, extra, needle):
    """--method used to drop such options silently; now it says so, before looking for any data."""
    monkeypatch.delenv("PRT_DATA", raising=False)
    err = expect_error(tmp_path, ["evaluate", "--method", "newell", "--task", "single", *extra], needle,
                       "--task single accepts: --flavour, --plot")
    assert "PRT_DATA" not in err


def test_gt_pred_with_an_option_its_task_does_not_take(tmp_path, gt_h5):
    with h5py.File(tmp_path / "p.h5", "w") as h:
        h["preds"] = mpii_people(4)
    expect_error(tmp_path, single(gt_h5, tmp_path / "p.h5") + ["--motp", "clear"],
                 "option --motp does not apply to --task single")


# ----------------------------------------------------------------------------- prt convert to MPII arrays
def _posetrack(tmp_path, frames) -> Path:
    from .support.ptbuild import frame

    (tmp_path / "pt").mkdir(exist_ok=True)
    (tmp_path / "pt" / "seq.json").write_text(json.dumps({"annolist": [frame(rects) for rects in frames]}))
    return tmp_path / "pt" / "seq.json"


def _big(ax, ay, **kw):
    """A person twice the template's size (its joints span 4x the area)."""
    from .support.ptbuild import TEMPLATE, person

    r = person(ax, ay, **kw)
    for pt, (dx, dy) in zip(r["annopoints"][0]["point"], TEMPLATE):
        pt["x"], pt["y"] = [ax + 2 * dx], [ay + 2 * dy]
    return r


def test_convert_multi_person_posetrack_to_mpii_arrays_names_the_frames(tmp_path):
    from .support.ptbuild import person

    src = _posetrack(tmp_path, [[person(100, 100, score=0.9)], [person(100, 100), person(400, 50)],
                                [person(10, 10)], [person(5, 5), person(300, 300), person(600, 0)]])
    expect_error(tmp_path, ["convert", "--to", "mpii", src, tmp_path / "out.h5"], "seq.json", "frame 1",
                 "2 of 4 frames hold more than one person (frames 1, 3)", "--pick largest", out=tmp_path / "out.h5")


@pytest.mark.parametrize("pick, anchors", [("first", [(100, 100), (700, 50), (None, None), (5, 5)]),
                                           ("largest", [(100, 100), (200, 100), (None, None), (600, 0)])])
def test_convert_with_pick(tmp_path, pick, anchors):
    from .support.ptbuild import person

    src = _posetrack(tmp_path, [[person(100, 100)], [person(700, 50), _big(200, 100)], [],
                                [person(5, 5), person(300, 300), _big(600, 0)]])
    code, _, err, caught = run(["convert", "--to", "mpii", "--pick", pick, src, tmp_path / "out.h5"])
    assert code == 0 and not caught, err
    assert "frames with several people: 2" in err and "frames without a person: 1" in err
    with h5py.File(tmp_path / "out.h5") as h:
        preds = h["preds"][()]
    assert preds.shape == (4, 16, 2)  # one row per frame; no scores given, so no scores column
    for row, (ax, ay) in zip(preds, anchors):
        if ax is None:
            assert np.isnan(row[..., :2]).all()
            continue
        scale = 2 if (pick == "largest" and (ax, ay) in ((200, 100), (600, 0))) else 1
        np.testing.assert_array_equal(row[0, :2], [ax, ay + 200 * scale])  # MPII 0 = right ankle
        assert np.isnan(row[[6, 7], :2]).all()  # pelvis and thorax: PoseTrack has neither


def test_pick_goes_with_mpii_arrays_only(tmp_path):
    from .support.ptbuild import person

    src = _posetrack(tmp_path, [[person(100, 100)]])
    expect_error(tmp_path, ["convert", "--to", "posetrack2018", "--pick", "first", src, tmp_path / "o"],
                 "--pick does not apply to --to posetrack2018", out=tmp_path / "o")


def test_convert_several_sequences_to_one_mpii_file(tmp_path):
    from .support.ptbuild import frame, person

    (tmp_path / "pt").mkdir()
    for name in ("a", "b"):
        (tmp_path / "pt" / f"{name}.json").write_text(json.dumps({"annolist": [frame([person(1, 1)])]}))
    expect_error(tmp_path, ["convert", "--to", "mpii", tmp_path / "pt", tmp_path / "out.mat"],
                 "holds 2 sequences (a, b)", "one sequence file at a time", out=tmp_path / "out.mat")
    expect_error(tmp_path, ["convert", "--to", "mpii", tmp_path / "pt" / "a.json", tmp_path / "out.txt"],
                 "written as .h5 or .mat", out=tmp_path / "out.txt")


def test_detect_and_track_huge_coordinates_synthesize_no_warning(tmp_path):
    """2 * nose - neck overflows: the head top is not synthesized (and numpy says nothing)."""
    def edit(d):
        d["all_keyps"][1][0][0][0, 0] = 1e308  # the nose's x
    src = _dt(tmp_path, edit)
    code, _, err, caught = run(convert(src, "detect-and-track", tmp_path / "out", to="posetrack2017"))
    assert code == 0 and not caught, (err, caught)
    head_top = json.loads((tmp_path / "out" / "d.json").read_text())["annolist"][0]["annorect"][0]
    ids = [p["id"][0] for p in head_top["annopoints"][0]["point"]]
    assert 14 not in ids and 12 in ids and 13 in ids  # no head top; neck = shoulder midpoint; the nose as given


def test_coco_gt_image_id_that_is_not_an_id(tmp_path):
    from .support.fuzzing import coco_keypoints

    files = coco_keypoints().files
    gt, res = files["gt.json"][1], files["res.json"][1]
    gt = json.loads(json.dumps(gt))
    gt["images"][1]["id"] = {"value": 785}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "res.json").write_text(json.dumps(res))
    argv = ["evaluate", "--task", "coco", "--gt", tmp_path / "gt.json", "--pred", tmp_path / "res.json"]
    expect_error(tmp_path, argv, "gt.json", "images[1] has id {'value': 785}, not an integer")


def test_cell_array_mixing_numbers_and_arrays(tmp_path):
    """Found by fuzzing (a RELEASE single_person entry {[], 2}): an error, not numpy's ValueError."""
    from poseval_refine.errors import InputError
    from poseval_refine.formats._values import numeric_array

    cells = np.empty(2, dtype=object)
    cells[0], cells[1] = np.array([]), 2.0
    with pytest.raises(InputError, match=r"ragged cell array: cell 1 has shape \(\), cell 0 has \(0,\)"):
        numeric_array(cells, what="'single_person' entry", fix="give numbers", file=tmp_path / "r.mat")
    cells[0] = 1.0
    np.testing.assert_array_equal(numeric_array(cells, what="x", fix="y"), [1.0, 2.0])
