"""COCO keypoint evaluation (``prt evaluate --task coco``) against pycocotools and hand-derived values.

Expectations come from sources independent of prt's path: ``expected_pycocotools.json`` of the
shared sample (pycocotools 2.0.11, computed outside this project), pycocotools run directly on the
raw JSON files the tests write (``cocobuild.pycocotools_stats``; prt instead reads the predictions
through its adapters, maps joints by name and pairs images itself), and values derived by hand.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.evaluators import get_task

from .support.cocobuild import COCO_NAMES, duplicate, make_benchmark, pycocotools_stats, write_json

NAMES = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


def run(capsys, gt, pred, *extra):
    code = main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--task", "coco", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def evaluate_json(capsys, tmp_path, gt, pred) -> dict:
    out_json = tmp_path / "result.json"
    code, out, err = run(capsys, gt, pred, "--json", str(out_json))
    assert code == 0, err
    assert out.splitlines()[0].startswith("COCO keypoints")  # nothing of pycocotools' own printing
    assert "loading annotations" not in out + err and "index created" not in out + err
    return json.loads(out_json.read_text())


# ----------------------------------------------------------------------------- shared real sample
def test_shared_sample_equals_pycocotools(shared_data, capsys, tmp_path):
    root = shared_data / "coco_sample"
    expected = json.loads((root / "expected_pycocotools.json").read_text())
    r = evaluate_json(capsys, tmp_path, root / "gt_dataset.json", root / "dt_dataset.json")
    for k in NAMES:
        assert r[k] == pytest.approx(expected[k], abs=1e-12), k
    assert r["counts"] == {"images": 1, "gt_people": 14, "gt_people_evaluated": 11, "gt_crowd_regions": 1,
                           "detections": 128, "detections_evaluated": 20}


def test_shared_sample_table(shared_data, capsys):
    root = shared_data / "coco_sample"
    code, out, _ = run(capsys, root / "gt_dataset.json", root / "dt_dataset.json")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 11
    assert lines[1] == " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ] = 0.505"
    assert lines[10] == " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets= 20 ] = 0.750"


# ----------------------------------------------------------------------------- synthetic benchmarks
@pytest.mark.parametrize("seed,bbox", [(0, False), (1, True), (7, False)])
def test_synthetic_equals_pycocotools_on_raw_files(tmp_path, capsys, seed, bbox):
    gt, res = make_benchmark(seed, bbox=bbox)
    g, r = write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "res.json", res)
    ref = pycocotools_stats(g, r)
    out = evaluate_json(capsys, tmp_path, g, r)
    for k in NAMES:
        assert abs(out[k] - ref[k]) <= 1e-12, k
    assert 0.2 < out["AP"] < 0.8  # a benchmark that discriminates (neither empty nor perfect)
    c = out["counts"]
    assert c["gt_crowd_regions"] > 0 and c["detections"] == len(res) and c["detections_evaluated"] < len(res)
    assert c["gt_people_evaluated"] == sum(1 for a in gt["annotations"] if not a["iscrowd"] and a["num_keypoints"])


def _openpose_folder(tmp_path, gt, res, body25=False) -> Path:
    """The detections as OpenPose --write_json output: <image stem>_keypoints.json, COCO-18 or BODY_25,
    joint orders written out here by hand (not taken from prt's skeletons)."""
    coco_of_op18 = [0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3]  # COCO index per OP-18 slot
    coco_of_b25 = [0, None, 6, 8, 10, 5, 7, 9, None, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3] + [None] * 6
    order = coco_of_b25 if body25 else coco_of_op18
    folder = tmp_path / ("op25" if body25 else "op18")
    folder.mkdir()
    rng = np.random.default_rng(3)
    by_img: dict = {}
    for d in res:
        by_img.setdefault(d["image_id"], []).append(d)
    names = {im["id"]: Path(im["file_name"]).stem for im in gt["images"]}
    for img, dets in by_img.items():
        people = []
        for d in dets:
            kp = np.array(d["keypoints"]).reshape(17, 3)
            pts = []
            for c in order:
                pts.append(kp[c].tolist() if c is not None else
                           [float(rng.uniform(0, 600)), float(rng.uniform(0, 400)), float(rng.uniform(0.1, 1))])
            people.append({"person_id": [-1], "pose_keypoints_2d": [v for p in pts for v in p]})
        (folder / f"{names[img]}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    return folder


def _no_score_results(res):
    """What prt must hand pycocotools for a format without instance scores: the mean confidence of the
    detected COCO joints ((0, 0, 0) = not detected) as score; no bbox."""
    out = []
    for d in res:
        kp = np.array(d["keypoints"]).reshape(17, 3)
        found = ~(kp == 0).all(1)
        out.append({"image_id": d["image_id"], "category_id": 1, "keypoints": d["keypoints"],
                    "score": float(kp[found, 2].mean())})
    return out


@pytest.mark.parametrize("body25", [False, True])
def test_openpose_folder_equals_pycocotools(tmp_path, capsys, body25):
    gt, res = make_benchmark(11)
    g = write_json(tmp_path / "gt.json", gt)
    folder = _openpose_folder(tmp_path, gt, res, body25)
    ref = pycocotools_stats(g, write_json(tmp_path / "ref.json", _no_score_results(res)))
    out = evaluate_json(capsys, tmp_path, g, folder)
    assert out["format"] == "openpose"
    for k in NAMES:
        assert abs(out[k] - ref[k]) <= 1e-12, k


def test_posetrack2018_file_with_image_ids(tmp_path, capsys):
    """PoseTrack 2018 slots: nose, head_bottom, head_top, ears, body; no eyes. prt must give the eyes as
    absent (0, 0, 0) and take the person 'score'."""
    gt, res = make_benchmark(5)
    g = write_json(tmp_path / "gt.json", gt)
    pt_names = ["nose", "head_bottom", "head_top"] + COCO_NAMES[3:]
    anns, ref = [], []
    for i, d in enumerate(res):
        kp = np.array(d["keypoints"]).reshape(17, 3)
        pt = kp.copy()
        pt[1] = [kp[5, 0], kp[5, 1] - 10, 0.5]  # head_bottom / head_top: not COCO joints
        pt[2] = [kp[0, 0], kp[0, 1] - 30, 0.5]
        pt[~(pt == 0).all(1), 2] = 1  # visibility flag; the confidences go to 'scores'
        anns.append({"id": i, "image_id": d["image_id"], "track_id": i, "keypoints": pt.ravel().tolist(),
                     "scores": kp[:, 2].tolist(), "score": d["score"]})
        coco = kp.copy()
        coco[1:3] = 0
        ref.append({"image_id": d["image_id"], "category_id": 1, "keypoints": coco.ravel().tolist(),
                    "score": d["score"]})
    images = [{"id": im["id"], "file_name": f"images/val/seq/{im['id']:06d}.jpg", "is_labeled": True}
              for im in gt["images"]]
    pred = write_json(tmp_path / "pt18.json", {"images": images, "annotations": anns,
                                               "categories": [{"id": 1, "name": "person", "keypoints": pt_names}]})
    expected = pycocotools_stats(g, write_json(tmp_path / "ref.json", ref))
    out = evaluate_json(capsys, tmp_path, g, pred)
    assert out["format"] == "posetrack2018"
    for k in NAMES:
        assert abs(out[k] - expected[k]) <= 1e-12, k
    assert any("left_eye, right_eye" in n for n in out["conversions"])


# ----------------------------------------------------------------------------- hand-derived values
def _person(x0, y0, scale=1.0):
    """17 joints of a person ~200 x 100 px (area 20000: a large person), all visible."""
    xy = np.array([[50, 10], [45, 5], [55, 5], [40, 8], [60, 8], [30, 40], [70, 40], [25, 80], [75, 80],
                   [20, 115], [80, 115], [35, 110], [65, 110], [35, 150], [65, 150], [35, 195], [65, 195]], float)
    return xy * scale + [x0, y0]


def _tiny(tmp_path, dets, people=((0, 0), (300, 0))):
    anns = []
    for i, (x0, y0) in enumerate(people):
        xy = _person(x0, y0)
        anns.append({"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "num_keypoints": 17,
                     "keypoints": np.column_stack([xy, np.full(17, 2)]).ravel().tolist(), "area": 20000.0,
                     "bbox": [x0, y0, 100, 200]})
    gt = {"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": anns,
          "categories": [{"id": 1, "name": "person", "keypoints": COCO_NAMES}]}
    res = [{"image_id": 1, "category_id": 1, "keypoints": np.column_stack([xy, np.ones(17)]).ravel().tolist(),
            "score": s} for xy, s in dets]
    return write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "res.json", res)


def test_hand_perfect_detections(tmp_path, capsys):
    g, r = _tiny(tmp_path, [(_person(0, 0), 0.9), (_person(300, 0), 0.8)])
    out = evaluate_json(capsys, tmp_path, g, r)
    for k in NAMES:  # no medium-sized GT person: pycocotools' -1
        assert out[k] == (-1 if k in ("APm", "ARm") else 1.0), k


def test_hand_one_hit_one_false_positive(tmp_path, capsys):
    # TP first: precision 1 up to recall 1/2 -> 51 of the 101 recall thresholds (0, .01, ..., .50)
    g, r = _tiny(tmp_path, [(_person(0, 0), 0.9), (_person(0, 250), 0.8)])
    out = evaluate_json(capsys, tmp_path, g, r)
    assert out["AP"] == pytest.approx(51 / 101, abs=1e-12) and out["AP50"] == pytest.approx(51 / 101, abs=1e-12)
    assert out["AR"] == 0.5 and out["ARl"] == 0.5
    # the false positive ranked first: precision 1/2 at the hit
    g, r = _tiny(tmp_path, [(_person(0, 0), 0.8), (_person(0, 250), 0.9)])
    out = evaluate_json(capsys, tmp_path, g, r)
    assert out["AP"] == pytest.approx(0.5 * 51 / 101, abs=1e-12)
    assert out["AR"] == 0.5


def test_hand_partial_oks(tmp_path, capsys):
    # every joint displaced so that exp(-d^2 / (2 area (2 sigma)^2)) = 0.72: OKS 0.72 matches at the
    # thresholds .50 .55 .60 .65 .70 only -> AP = AR = 5/10, AP50 = 1, AP75 = 0
    sigmas = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10
    d = np.sqrt(-math.log(0.72) * 2 * 20000.0 * (2 * sigmas) ** 2)
    xy = _person(0, 0) + np.column_stack([d, np.zeros(17)])
    g, r = _tiny(tmp_path, [(xy, 0.9)], people=((0, 0),))
    out = evaluate_json(capsys, tmp_path, g, r)
    assert out["AP"] == pytest.approx(0.5, abs=1e-12) and out["AR"] == pytest.approx(0.5, abs=1e-12)
    # (one hit alone has precision 1 / (1 + eps) in pycocotools, hence approx)
    assert out["AP50"] == pytest.approx(1.0, abs=1e-12) and out["AP75"] == 0.0
    assert out["AR50"] == 1.0 and out["AR75"] == 0.0


# ----------------------------------------------------------------------------- bootstrap over images
def test_resample_all_ones_is_cocoeval_and_duplicates_match_pycocotools(tmp_path, capsys):
    gt, res = make_benchmark(21, bbox=True)
    g, r = write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "res.json", res)
    result = evaluate_json(capsys, tmp_path, g, r)
    task = get_task("coco")
    assert task.primary == "AP" and task.unit == "image"
    n = len(result["items"])
    assert n == len(gt["images"])
    head = task.headline(result)
    assert head == {k: 100 * result[k] for k in NAMES}  # the leaderboard shows percent, as COCO papers
    ones = task.resample(result, np.ones((2, n), dtype=int))
    for k in NAMES:
        assert np.all(ones[k] == head[k]), k  # bit for bit
    rng = np.random.default_rng(4)
    weights = np.vstack([rng.multinomial(n, np.ones(n) / n, size=3), rng.integers(0, 3, size=(1, n))])
    got = task.resample(result, weights)
    for row, w in enumerate(weights):
        g2, r2 = duplicate(gt, res, w)
        ref = pycocotools_stats(write_json(tmp_path / "g2.json", g2), write_json(tmp_path / "r2.json", r2))
        for k in NAMES:
            want = math.nan if ref[k] == -1 else 100 * ref[k]  # the leaderboard's percent
            assert got[k][row] == pytest.approx(want, abs=1e-10, nan_ok=True), (row, k)


def test_resample_all_ones_with_score_ties(tmp_path, capsys):
    """Scores rounded to 0.1: ties within and across images, broken as pycocotools breaks them."""
    gt, res = make_benchmark(8)
    res = [dict(d, score=round(d["score"], 1)) for d in res]
    g, r = write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "res.json", res)
    ref = pycocotools_stats(g, r)
    result = evaluate_json(capsys, tmp_path, g, r)
    ones = get_task("coco").resample(result, np.ones((1, len(result["items"])), dtype=int))
    for k in NAMES:
        assert result[k] == ref[k] and ones[k][0] == 100 * ref[k], k


def test_save_and_leaderboard(tmp_path, capsys):
    gt, res = make_benchmark(13, n_images=12)
    g, r = write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "res.json", res)
    worse = [dict(d, score=1 - d["score"]) for d in res]  # reversed ranking: lower AP
    r2 = write_json(tmp_path / "worse.json", worse)
    store = tmp_path / "store"
    for name, pred in (("good-net", r), ("reversed-net", r2)):
        code, _, err = run(capsys, g, pred, "--save", name, "--results", str(store), "--benchmark", "synth-coco")
        assert code == 0, err
    # the named COCO val benchmark checks the GT's size
    code, _, err = run(capsys, g, r, "--save", "x", "--results", str(store), "--benchmark", "coco-val2017")
    assert code == 2 and "12 items but coco-val2017 has 5000" in err
    args = ["leaderboard", "--results", str(store), "--task", "coco", "--format", "json", "--resamples", "50"]
    assert main(args) == 0
    (board,) = json.loads(capsys.readouterr().out)["boards"]
    assert (board["benchmark"], board["task"], board["metric"], board["unit"], board["items"]) == (
        "synth-coco", "coco", "AP", "image", 12)
    rows = board["rows"]
    assert [row["method"] for row in rows] == ["good-net", "reversed-net"]  # ranked by AP
    for row, pred in zip(rows, (r, r2)):
        ref = pycocotools_stats(g, pred)
        for k in NAMES:
            assert row["metrics"][k] == pytest.approx(100 * ref[k], abs=1e-10), (row["method"], k)
        lo, hi = row["ci95"]
        assert lo <= row["value"] <= hi and lo < hi


def test_resample_undefined_area_is_nan(tmp_path, capsys):
    g, r = _tiny(tmp_path, [(_person(0, 0), 0.9)])
    result = evaluate_json(capsys, tmp_path, g, r)
    task = get_task("coco")
    assert math.isnan(task.headline(result)["APm"])
    out = task.resample(result, np.array([[1], [0], [3]]))
    assert math.isnan(out["APm"][0]) and math.isnan(out["AP"][1])  # nothing drawn: undefined
    assert out["AP"][0] == 100 * result["AP"] and out["AP"][2] == pytest.approx(100 * result["AP"], abs=1e-10)


# ----------------------------------------------------------------------------- errors
def _gt_and_results(tmp_path):
    gt, res = make_benchmark(2, n_images=6)
    return gt, res


def _expect_error(capsys, tmp_path, gt, res, *needles):
    g = write_json(tmp_path / "gt.json", gt) if not isinstance(gt, Path) else gt
    r = write_json(tmp_path / "res.json", res) if not isinstance(res, Path) else res
    code, out, err = run(capsys, g, r)
    assert code == 2, (out, err)
    assert out == "" and err.startswith("prt: error: ") and "Traceback" not in err, err
    assert err.count("prt: error:") == 1
    for n in needles:
        assert n in err, (n, err)
    return err


def test_unknown_image_id_is_named(tmp_path, capsys):
    gt, res = _gt_and_results(tmp_path)
    res[3] = dict(res[3], image_id=424242)
    _expect_error(capsys, tmp_path, gt, res, "res.json", "results[3]", "image id 424242", "GT lacks")
    res[3] = dict(res[3], image_id=str(gt["images"][0]["id"]))
    _expect_error(capsys, tmp_path, gt, res, "results[3]", "string")


def test_wrong_keypoint_length(tmp_path, capsys):
    gt, res = _gt_and_results(tmp_path)
    res[2] = dict(res[2], keypoints=res[2]["keypoints"] + [1.0, 2.0, 1.0])
    err = _expect_error(capsys, tmp_path, gt, res, "res.json", "results[2] 'keypoints' has 54 values, expected 51")
    assert "person" not in err


def test_gt_without_person_category(tmp_path, capsys):
    gt, res = _gt_and_results(tmp_path)
    gt["categories"] = [{"id": 1, "name": "people"}]
    _expect_error(capsys, tmp_path, gt, res, "gt.json", "no 'person' category")


def test_gt_without_area(tmp_path, capsys):
    gt, res = _gt_and_results(tmp_path)
    del gt["annotations"][4]["area"]
    _expect_error(capsys, tmp_path, gt, res, "gt.json", "annotations[4]", f"id {gt['annotations'][4]['id']}",
                  "no 'area'")


def test_empty_result_file(tmp_path, capsys):
    gt, _ = _gt_and_results(tmp_path)
    _expect_error(capsys, tmp_path, gt, [], "res.json", "empty result list")


def test_other_silent_failures(tmp_path, capsys):
    gt, res = _gt_and_results(tmp_path)
    bad = [dict(d) for d in res]
    bad[1]["category_id"] = 2  # pycocotools would drop it silently
    _expect_error(capsys, tmp_path, gt, bad, "results[1]", "category_id 2")
    g2 = json.loads(json.dumps(gt))
    g2["annotations"][0]["id"] = 0  # a match to GT id 0 counts as no match in pycocotools
    _expect_error(capsys, tmp_path, g2, res, "annotations[0]", "id 0")
    g2 = json.loads(json.dumps(gt))
    g2["annotations"][1]["id"] = g2["annotations"][0]["id"]
    _expect_error(capsys, tmp_path, g2, res, "annotations[1]", "repeats")
    bad = [dict(d, bbox=[0, 0, 10, 10]) for d in res]
    del bad[5]["bbox"]  # pycocotools: KeyError deep in loadRes
    _expect_error(capsys, tmp_path, gt, bad, "results[5]", "bbox")
    bad = [dict(d) for d in res]
    bad[4]["keypoints"] = [math.nan, math.nan] + bad[4]["keypoints"][2:]
    _expect_error(capsys, tmp_path, gt, bad, "results[4]", "not a finite number")
    bad = [dict(d) for d in res]
    del bad[6]["score"]  # pycocotools: KeyError; prt must not rank it by its joints instead
    _expect_error(capsys, tmp_path, gt, bad, "results[6]", "no 'score'")
    g2 = json.loads(json.dumps(gt))
    g2["annotations"][3]["image_id"] = []  # found by fuzzing: unhashable ids crashed the checks
    _expect_error(capsys, tmp_path, g2, res, "annotations[3]", "image_id []")
    g2 = json.loads(json.dumps(gt))
    del g2["annotations"][1]["category_id"]  # pycocotools: KeyError; it must not be skipped as "not a person"
    _expect_error(capsys, tmp_path, g2, res, "annotations[1]", "no 'category_id'")
    g2 = json.loads(json.dumps(gt))
    del g2["annotations"][2]["num_keypoints"]
    _expect_error(capsys, tmp_path, g2, res, "annotations[2]", "num_keypoints")


def test_openpose_file_matching_no_image(tmp_path, capsys):
    gt, res = _gt_and_results(tmp_path)
    folder = _openpose_folder(tmp_path, gt, res)
    first = sorted(folder.iterdir())[0]
    first.rename(folder / "holiday_photo_keypoints.json")
    err = _expect_error(capsys, tmp_path, gt, folder, "holiday_photo_keypoints.json", "matches no GT image")
    assert "fix:" in err


def test_tracking_does_not_import_pycocotools():
    code = ("import sys; from poseval_refine.cli import main; "
            "assert main(['evaluate', '-q']) == 0; "
            "assert 'pycocotools' not in sys.modules, 'pycocotools imported'")
    env_path = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr


def test_joint_mapping_to_coco_is_by_name():
    from poseval_refine.skeletons import BODY25, COCO17, MPII16, OPENPOSE18, POSETRACK18, missing_joints

    assert missing_joints(OPENPOSE18, COCO17) == () and missing_joints(BODY25, COCO17) == ()
    assert missing_joints(POSETRACK18, COCO17) == ("left_eye", "right_eye")
    assert missing_joints(MPII16, COCO17) == tuple(COCO_NAMES[:5])


def test_rec_and_iou_thresholds_are_pycocotools_own():
    from pycocotools.cocoeval import Params

    from poseval_refine.metrics.coco import IOU_THRS, REC_THRS

    p = Params(iouType="keypoints")
    assert np.array_equal(p.iouThrs, IOU_THRS) and np.array_equal(p.recThrs, REC_THRS)
    assert p.maxDets == [20] and p.areaRngLbl == ["all", "medium", "large"]


# ----------------------------------------------------------------------------- fuzzing (tests/support/fuzzing.py)
def _coco_reader():
    from .support.fuzzing import Reader

    gt, res = make_benchmark(3, n_images=3, max_people=3, bbox=True)
    return Reader("coco-eval", {"gt.json": ("json", gt), "res.json": ("json", res[:8])},
                  ["evaluate", "--gt", "{root}/gt.json", "--pred", "{root}/res.json", "--task", "coco", "--json",
                   "{out}"])


def test_fuzzed_inputs_give_pycocotools_numbers_or_one_clear_error(tmp_path_factory):
    """Mutated GT or results: prt exits 0 with pycocotools' own numbers on the same raw files (when
    pycocotools can run them at all), or exits 2 with one ``prt: error:`` line; never a traceback."""
    import shutil

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from .support.fuzzing import Draw, describe, run_case

    reader = _coco_reader()

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.data())
    def case(data):
        root = tmp_path_factory.mktemp("fuzz")
        try:
            o = run_case(reader, Draw(data), workdir=root)
            assert not o.unexpected, describe(o)
            if o.code == 0:
                got = json.loads((root / "out").read_text())
                try:
                    with np.errstate(all="ignore"):
                        ref = pycocotools_stats(root / "gt.json", root / "res.json")
                except Exception:  # noqa: BLE001 - pycocotools crashes on inputs prt reads sensibly
                    return
                for k in NAMES:
                    assert got[k] == pytest.approx(ref[k], abs=1e-12), (k, o.mutations)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    case()
