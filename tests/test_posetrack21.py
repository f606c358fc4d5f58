"""PoseTrack21 keypoint HOTA and the kit's mAP against numbers recorded from the official PoseTrack21 kit.

The shared cases (``shared/data/posetrack21_cases``) and the random cases of tests/support/pt21build.py, whose kit
numbers are in tests/data/posetrack21_kit_cases.json (recorded by ``benchmarks/posetrack21_eval.py --record``):
every field the kit returns, per alpha, per joint and Total, to 1e-9, and its mAP groups.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.evaluators.posetrack21 import evaluate_hota, evaluate_map, headline_hota, resample_hota
from poseval_refine.metrics.introsort import introsort_argsort

from .support.pt21build import CASES, write_case

KIT = json.loads((Path(__file__).parent / "data" / "posetrack21_kit_cases.json").read_text())["cases"]
MAIN = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA")
COLUMNS = ("Nose", "Neck", "Head", "LS", "RS", "LE", "RE", "LW", "RW", "LH", "RH", "LK", "RK", "LA", "RA", "Total")
TOL = 1e-9


def assert_matches_kit(hota: dict, pmap: dict | None, kit: dict) -> None:
    for name, want in kit["per_alpha"].items():
        got = np.asarray(hota["per_alpha"][name])
        assert got.shape == np.shape(want), name
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=name)
    for name in MAIN:
        for c in COLUMNS:
            assert hota[name][c] == pytest.approx(kit[name][c], abs=TOL), (name, c)
    if pmap is not None:
        for key, kk in (("ap_groups", "AP"), ("precision_groups", "AP_precision"), ("recall_groups", "AP_recall")):
            got = dict(zip(pmap["group_names"], pmap[key]))
            for g, want in kit[kk].items():
                assert got[g] == pytest.approx(want, abs=TOL), (kk, g)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    root = tmp_path_factory.mktemp("pt21")
    return {name: write_case(spec, root / name) for name, spec in CASES.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_random_cases_match_the_kit(cases, name):
    d = cases[name]
    assert_matches_kit(evaluate_hota(d / "gt", [d / "pred"]), evaluate_map(d / "gt", [d / "pred"]), KIT[name])


@pytest.mark.parametrize("name", ["basic", "empty_frames"])
def test_shared_cases_match_the_kit(shared_data, name):
    d = shared_data / "posetrack21_cases" / name
    kit = json.loads((d / "expected_kit.json").read_text())
    assert_matches_kit(evaluate_hota(d / "gt", [d / "pred"]), evaluate_map(d / "gt", [d / "pred"]), kit)


def test_cli_json_and_table(cases, tmp_path, capsys):
    d = cases["mixed"]
    out = tmp_path / "r.json"
    assert main(["evaluate", "--gt", str(d / "gt"), "--pred", str(d / "pred"), "--task", "hota", "--json",
                 str(out)]) == 0
    table = capsys.readouterr().out
    res = json.loads(out.read_text())
    assert set(MAIN) <= set(res) and set(res["HOTA"]) == set(COLUMNS)
    assert np.shape(res["per_alpha"]["HOTA"]) == (19, 16)
    assert res["HOTA"]["Total"] == pytest.approx(KIT["mixed"]["HOTA"]["Total"], abs=TOL)
    hota_row = next(line for line in table.splitlines() if line.startswith("\tHOTA "))
    assert hota_row.split()[-1] == f"{KIT['mixed']['HOTA']['Total']:1.5g}"
    assert main(["evaluate", "--gt", str(d / "gt"), "--pred", str(d / "pred"), "--task", "pose", "--protocol",
                 "posetrack21"]) == 0
    assert f"{KIT['mixed']['AP']['Total']:.1f}" in capsys.readouterr().out


def test_workers_give_identical_numbers(cases):
    d = cases["switches"]
    one = evaluate_hota(d / "gt", [d / "pred"])
    two = evaluate_hota(d / "gt", [d / "pred"], workers=2)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert json.dumps(evaluate_map(d / "gt", [d / "pred"]), sort_keys=True) == \
        json.dumps(evaluate_map(d / "gt", [d / "pred"], workers=2), sort_keys=True)


def test_resample_all_ones_is_the_headline(cases):
    d = cases["regions"]
    res = evaluate_hota(d / "gt", [d / "pred"])
    n = len(res["items"])
    w = np.vstack([np.ones(n, dtype=int), np.eye(n, dtype=int)[0] * n])
    got = resample_hota(res, w)
    for name, value in headline_hota(res).items():
        assert got[name][0] == value
    # drawing the first sequence n times: its own numbers (a ratio of n-fold sums)
    first = evaluate_hota(d / "gt" / "000000_mpii_test.json", [d / "pred" / "000000_mpii_test.json"])
    for name, value in headline_hota(first).items():
        assert got[name][1] == pytest.approx(value, abs=1e-9)


def test_tracking_task_reads_posetrack21_files(cases, capsys):
    d = cases["mixed"]
    assert main(["evaluate", "--gt", str(d / "gt"), "--pred", str(d / "pred"), "--task", "tracking"]) == 0
    assert "MOTA" in capsys.readouterr().out


# ----------------------------------------------------------------------------- official quirks, corrected
def _seq(frames_gt, frames_pred, regions=None):
    """A hand-made sequence: per frame a list of (track, xy (15, 2) or None) for GT and predictions."""
    images, gt, pred = [], [], []
    for f, (g, p) in enumerate(zip(frames_gt, frames_pred)):
        rx, ry = (regions or {}).get(f, ([], []))
        images.append({"id": 100 + f, "is_labeled": g is not None, "ignore_regions_x": rx, "ignore_regions_y": ry})
        for track, xy in g or []:
            gt.append({"image_id": 100 + f, "track_id": track, "bbox_head": [0, 0, 30, 40],  # head size 0.6 * 50
                       "keypoints": _kps(xy, 1.0)})
        for track, xy in p:
            pred.append({"image_id": 100 + f, "track_id": track, "keypoints": _kps(xy, 0.9), "scores": [0.9] * 17})
    return {"images": images, "annotations": gt}, {"images": images, "annotations": pred}


def _kps(xy, v):
    out = np.zeros((17, 3))
    slots = [0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    out[slots, :2] = xy
    out[slots, 2] = v
    return out.ravel().tolist()


def _write(tmp_path, gt, pred, name="s_test.json"):
    for sub, data in (("gt", gt), ("pred", pred)):
        (tmp_path / sub).mkdir(exist_ok=True)
        (tmp_path / sub / name).write_text(json.dumps(data))
    return tmp_path / "gt", tmp_path / "pred"


POSE = np.column_stack([np.linspace(100, 240, 15), np.linspace(100, 380, 15)])


def test_frame_without_predictions_whole_sequence_misses(tmp_path):
    """Three labeled frames, one person, predicted exactly in the first two only: the kit counts the third
    frame's misses as every GT joint of the sequence (3 per joint), corrected as the frame's own (1)."""
    gt, pred = _seq([[(0, POSE)]] * 3, [[(7, POSE)], [(7, POSE)], []])
    g, p = _write(tmp_path, gt, pred)
    official = evaluate_hota(g, [p])
    corrected = evaluate_hota(g, [p], protocol="corrected")
    assert official["per_alpha"]["HOTA_FN"][0][0] == 3 and corrected["per_alpha"]["HOTA_FN"][0][0] == 1
    # DetA 2 / (2 + 3) and 2 / 3; AssA 2/3 in both (one pair matched twice: 2 / (3 + 2 - 2))
    assert official["DetA"]["Nose"] == pytest.approx(40.0)
    assert corrected["DetA"]["Nose"] == pytest.approx(200 / 3)
    assert official["AssA"]["Nose"] == corrected["AssA"]["Nose"] == pytest.approx(200 / 3)
    assert official["HOTA"]["Total"] == pytest.approx(100 * np.sqrt(0.4 * 2 / 3))
    assert corrected["HOTA"]["Total"] == pytest.approx(200 / 3)


def test_similarity_clipping_shortens_the_alpha_sweep(tmp_path):
    """A prediction 0.3 head sizes off: the kit's similarity 1 - 0.3 / 0.5001 is a match for alpha <= 0.40
    (8 of 19 thresholds), corrected 1 - 0.3 = 0.7 for alpha <= 0.70 (14 of 19)."""
    off = POSE + [0.3 * 30, 0]  # head size 0.6 * hypot(30, 40) = 30
    gt, pred = _seq([[(0, POSE)]], [[(1, off)]])
    g, p = _write(tmp_path, gt, pred)
    official = evaluate_hota(g, [p])
    corrected = evaluate_hota(g, [p], protocol="corrected")
    assert official["DetA"]["Total"] == pytest.approx(100 * 8 / 19)
    assert corrected["DetA"]["Total"] == pytest.approx(100 * 14 / 19)
    assert official["LocA(0)"]["Nose"] == pytest.approx(100 * (1 - 0.3 / 0.5001))
    assert corrected["LocA(0)"]["Nose"] == pytest.approx(70.0)


def test_labeled_frame_without_people(shared_data, capsys):
    d = shared_data / "posetrack21_cases" / "labeled_frame_without_people"
    code = main(["evaluate", "--gt", str(d / "gt"), "--pred", str(d / "pred"), "--task", "hota"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "000001_mpii_test.json" in err and "image id 10000010004" in err and "'annotations'" in err
    assert "--protocol corrected" in err
    assert main(["evaluate", "--gt", str(d / "gt"), "--pred", str(d / "pred"), "--task", "pose", "--protocol",
                 "posetrack21"]) == 2
    capsys.readouterr()
    res = evaluate_hota(d / "gt", [d / "pred"], protocol="corrected")
    assert np.isfinite(res["HOTA"]["Total"])


def test_frame_emptied_by_ignore_regions(tmp_path, capsys):
    """The kit fails (IndexError) on a labeled frame whose GT people are all inside ignore regions."""
    region = ([[50, 300, 300, 50]], [[50, 50, 500, 500]])
    gt, pred = _seq([[(0, POSE)]] * 3, [[(3, POSE + 500)]] * 3, regions={1: region})
    g, p = _write(tmp_path, gt, pred)
    assert main(["evaluate", "--gt", str(g), "--pred", str(p), "--task", "hota"]) == 2
    err = capsys.readouterr().err
    assert "frame 1 (image id 101)" in err and "left after its ignore regions" in err and "IndexError" in err
    res = evaluate_hota(g, [p], protocol="corrected")
    assert res["per_alpha"]["HOTA_FP"][0][0] == 3  # one predicted nose in each frame, all false


def test_corrected_counts_a_frame_without_gt_as_false_positives(tmp_path):
    """Corrected protocol: a labeled frame without GT adds its own predicted joints as false positives."""
    gt, pred = _seq([[(0, POSE)], [], [(0, POSE)]], [[(7, POSE)], [(7, POSE)], [(7, POSE)]])
    (tmp_path / "a").mkdir()
    g, p = _write(tmp_path / "a", gt, pred)
    with_frame = evaluate_hota(g, [p], protocol="corrected")
    gt2, pred2 = _seq([[(0, POSE)], [(0, POSE)]], [[(7, POSE)], [(7, POSE)]])
    (tmp_path / "b").mkdir()
    g2, p2 = _write(tmp_path / "b", gt2, pred2)
    without = evaluate_hota(g2, [p2], protocol="corrected")
    fp = np.asarray(with_frame["per_alpha"]["HOTA_FP"]) - np.asarray(without["per_alpha"]["HOTA_FP"])
    assert (fp[:, :15] == 1).all()
    with pytest.raises(Exception, match="no GT people"):
        evaluate_hota(g, [p])


def test_ignore_region_removes_joints_and_people(tmp_path):
    """A region over the upper body removes those joints from GT and prediction (no miss, no false positive);
    a predicted person wholly inside a region is removed."""
    stray = POSE + [800, 0]
    rx, ry = [[90, 300, 300, 90], [850, 1100, 1100, 850]], [[90, 90, 250, 250], [50, 50, 450, 450]]
    gt, pred = _seq([[(0, POSE)]], [[(1, POSE), (2, stray)]], regions={0: (rx, ry)})
    g, p = _write(tmp_path, gt, pred)
    res = evaluate_hota(g, [p])
    inside = (POSE[:, 1] > 90) & (POSE[:, 1] < 250) & (POSE[:, 0] > 90) & (POSE[:, 0] < 300)
    tp = np.asarray(res["per_alpha"]["HOTA_TP"])[0, :15]
    fp = np.asarray(res["per_alpha"]["HOTA_FP"])[0, :15]
    fn = np.asarray(res["per_alpha"]["HOTA_FN"])[0, :15]
    assert inside.any() and (~inside).any()
    assert (tp == ~inside).all() and (fp == 0).all() and (fn == 0).all()


# ----------------------------------------------------------------------------- bad input
def _bad(tmp_path, capsys, mutate, *needles, task=("--task", "hota")):
    gt, pred = _seq([[(0, POSE)], [(0, POSE)]], [[(7, POSE)], [(7, POSE)]])
    gt, pred = copy.deepcopy(gt), copy.deepcopy(pred)
    mutate(gt, pred)
    g, p = _write(tmp_path, gt, pred)
    code = main(["evaluate", "--gt", str(g), "--pred", str(p), *task])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("prt: error:")
    for n in needles:
        assert n in err
    return err


@pytest.mark.parametrize("mutate,needles", [
    (lambda g, p: g["annotations"][0].pop("bbox_head"), ["gt/s_test.json", "'bbox_head'"]),
    (lambda g, p: g["annotations"][0].update(bbox_head=[0, 0, 0, 0]), ["gt/s_test.json", "'bbox_head'", "size 0"]),
    (lambda g, p: p["annotations"][0].update(keypoints=[1, 2, 3]), ["pred/s_test.json", "'keypoints'", "51"]),
    (lambda g, p: p["annotations"][1].update(track_id="a"), ["pred/s_test.json", "person 1", "'track_id'"]),
    (lambda g, p: p["annotations"][0].update(scores=[0.5] * 15), ["pred/s_test.json", "'scores'", "17"]),
    (lambda g, p: p["annotations"].append(dict(p["annotations"][0])), ["pred/s_test.json", "used twice",
                                                                       "'track_id'"]),
    (lambda g, p: p["annotations"][0].update(image_id=5), ["pred/s_test.json", "image_id the number 5"]),
    (lambda g, p: g["images"][0].update(ignore_regions_x=[[1, 2]], ignore_regions_y=[[1, 2]]),
     ["gt/s_test.json", "frame 0", "3 or more corners"]),
    (lambda g, p: g["images"][1].update(is_labeled="yes"), ["gt/s_test.json", "frame 1", "is_labeled"]),
    (lambda g, p: p.update(images=p["images"][:1], annotations=p["annotations"][:1]),
     ["pred/s_test.json", "no image with id 101"]),
    (lambda g, p: p.update(images=p["images"][1:], annotations=p["annotations"][1:]),
     ["pred/s_test.json", "no image with id 100"]),
    (lambda g, p: p.update(images=[], annotations=[]), ["pred/s_test.json", "no image with id 100"]),
    (lambda g, p: g["images"][1].update(id=100), ["gt/s_test.json", "image id 100 is listed twice"]),
    (lambda g, p: g["images"][1].update(id=True), ["gt/s_test.json", "frame 1", "integer 'id'"]),
    (lambda g, p: p["images"].append([]), ["pred/s_test.json", "frame 2", "integer 'id'"]),
])
def test_bad_input_is_one_clear_error(tmp_path, capsys, mutate, needles):
    def both(g, p):
        p["images"] = copy.deepcopy(p["images"])
        mutate(g, p)
    _bad(tmp_path, capsys, both, *needles)


def test_missing_prediction_file(tmp_path, capsys):
    gt, pred = _seq([[(0, POSE)]], [[(7, POSE)]])
    g, p = _write(tmp_path, gt, pred)
    (g / "t_test.json").write_text(json.dumps(gt))
    code = main(["evaluate", "--gt", str(g), "--pred", str(p), "--task", "hota"])
    err = capsys.readouterr().err
    assert code == 2 and "t_test.json has no prediction file" in err


def test_options_that_do_not_apply(tmp_path, capsys):
    gt, pred = _seq([[(0, POSE)]], [[(7, POSE)]])
    g, p = _write(tmp_path, gt, pred)
    assert main(["evaluate", "--gt", str(g), "--pred", str(p), "--task", "hota", "--protocol", "posetrack21"]) == 2
    assert main(["evaluate", "--gt", str(g), "--pred", str(p), "--task", "tracking", "--protocol",
                 "posetrack21"]) == 2
    assert main(["evaluate", "--gt", str(g), "--pred", str(p), "--task", "pose", "--protocol", "posetrack21",
                 "--min-score", "0.5"]) == 2
    capsys.readouterr()


# ----------------------------------------------------------------------------- numpy 1.23's tie order
#: np.argsort under numpy 1.23.5 (the kit's), recorded in its venv for these arrays
#: (scores as digits: 3 -> 0.3, ...; the order np.argsort gave them under numpy 1.23.5)
RECORDED_SORTS = [
    ("85885883333883583",
     [8, 13, 10, 9, 7, 16, 4, 1, 14, 6, 15, 3, 2, 11, 12, 5, 0]),
    ("8358353838555555888855853838533533585888",
     [1, 29, 24, 4, 6, 30, 8, 32, 26, 33, 13, 23, 21, 20, 31, 34, 28, 14, 12, 11, 10, 36, 5, 2, 15, 35, 37, 0, 19,
      25, 22, 38, 18, 17, 16, 9, 7, 3, 27, 39]),
    ("5553553833388838553585353883588853853358558855533555333585558555555588355533583588338335835538858588",
     [74, 37, 70, 27, 52, 24, 75, 22, 78, 18, 33, 83, 85, 14, 82, 53, 48, 47, 3, 92, 86, 6, 36, 8, 9, 10, 89, 54,
      58, 57, 59, 61, 62, 63, 55, 0, 65, 66, 67, 71, 72, 73, 76, 79, 87, 90, 91, 95, 97, 64, 51, 49, 23, 16, 21,
      50, 28, 5, 19, 4, 35, 38, 32, 40, 46, 45, 44, 1, 17, 2, 41, 11, 88, 93, 96, 13, 15, 84, 94, 7, 12, 98, 80,
      56, 43, 42, 60, 39, 34, 31, 68, 69, 30, 29, 26, 25, 77, 20, 81, 99]),
]


def test_introsort_orders_ties_as_numpy_1_23():
    rng = np.random.default_rng(3)
    for n in (1, 2, 16, 17, 40, 300):
        v = rng.choice([0.3, 0.5, 0.8], size=n)
        order = introsort_argsort(v)
        assert sorted(order.tolist()) == list(range(n))
        assert (np.diff(v[order]) >= 0).all()
        if n <= 16:  # insertion sort only: stable
            assert order.tolist() == np.argsort(v, kind="stable").tolist()
    for digits, want in RECORDED_SORTS:
        values = np.array([int(c) / 10 for c in digits])
        assert introsort_argsort(values).tolist() == want
        assert introsort_argsort(values).tolist() != np.argsort(values, kind="stable").tolist()


def test_map_resample_all_ones_is_the_headline(cases):
    from poseval_refine.evaluators.posetrack import headline_pose, missing_pose, resample_pose

    d = cases["ties"]
    res = evaluate_map(d / "gt", [d / "pred"])
    n = len(res["items"])
    w = np.vstack([np.ones(n, dtype=int), np.eye(n, dtype=int)[1] * 2])
    got = resample_pose(res, w)
    for name, value in headline_pose(res).items():
        assert got[name][0] == value
    assert got["mAP"][1] != got["mAP"][0]
    assert not any(m.any() for m in missing_pose(res, w).values())


def test_python_api_and_evaluator_update(cases):
    """poseval_refine.evaluate and Evaluator.update (predictions in parts, on paths or parsed JSON) give the
    numbers of the command line bit for bit."""
    import poseval_refine as prt

    d = cases["regions"]
    whole = evaluate_hota(d / "gt", [d / "pred"])
    assert prt.evaluate(d / "gt", d / "pred", task="hota").to_dict()["HOTA"] == whole["HOTA"]
    files = sorted((d / "pred").glob("*.json"))
    ev = prt.Evaluator(d / "gt", task="hota")
    ev.update({f.name: json.loads(f.read_text()) for f in files[:2]})
    ev.update(files[2])
    ev.update({f.name: f for f in files[3:]})
    got = ev.compute().to_dict()
    assert json.dumps(got["per_alpha"]) == json.dumps(whole["per_alpha"])
    gt_mem = {f.name: json.loads(f.read_text()) for f in sorted((d / "gt").glob("*.json"))}
    ev = prt.Evaluator(gt_mem, task="pose", protocol="posetrack21")
    ev.update(d / "pred")
    assert ev.compute().to_dict()["ap_groups"] == evaluate_map(d / "gt", [d / "pred"])["ap_groups"]
    with pytest.raises(Exception, match="has no prediction"):
        ev.reset()
        ev.update(files[0])
        ev.compute()


def test_evaluate_starts_numpy_with_one_blas_thread():
    """`prt evaluate` sets OPENBLAS_NUM_THREADS=1 before numpy loads (its thread pool costs each run ~50 ms of
    CPU; evaluation has no matrix products), and leaves a value the user set."""
    import os
    import subprocess
    import sys

    code = ("import os, sys; from poseval_refine.cli import main; main(['evaluate', '--task', 'hota', '-q']); "
            "print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split()[-2:] == ["1", "True"]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**env, "OPENBLAS_NUM_THREADS": "2"})
    assert out.stdout.split()[-2:] == ["2", "True"]


# ----------------------------------------------------------------------------- the skimming reader
def _same_sequence(a, b) -> None:
    for name, v in a.__dict__.items():
        w = b.__dict__[name]
        if isinstance(v, np.ndarray):
            assert v.dtype == w.dtype and v.shape == w.shape and v.tobytes() == w.tobytes(), name
        elif name == "regions":
            assert [[q.tobytes() for q in r] for r in v] == [[q.tobytes() for q in r] for r in w]
        else:
            assert v == w, name


def test_skimming_reader_gives_the_parsers_arrays(cases):
    """read_skimmed (msgspec outline, orjson for the lists of the people evaluated) gives the arrays of
    parse_sequence (orjson for the whole file) bit for bit, on every random case, GT and predictions."""
    from poseval_refine.evaluators.posetrack21 import labeled_ids
    from poseval_refine.formats.posetrack21 import parse_sequence, read_skimmed
    from poseval_refine.io import load_json

    n = 0
    for name in CASES:
        for g in sorted((cases[name] / "gt").glob("*.json")):
            gt = parse_sequence(load_json(g), g, True)
            skimmed = read_skimmed(g.read_bytes(), g, True, None)
            assert skimmed is not None, g
            _same_sequence(skimmed, gt)
            p = cases[name] / "pred" / g.name
            if p.exists():
                only = labeled_ids(gt)
                skimmed = read_skimmed(p.read_bytes(), p, False, only)
                assert skimmed is not None, p
                _same_sequence(skimmed, parse_sequence(load_json(p), p, False, only))
                n += 1
    assert n >= 20


@pytest.mark.parametrize("edit", [
    lambda p: p["annotations"][0].update(scores=None),  # "scores": null: the kit's -9999
    lambda p: p["annotations"][0].pop("scores"),
    lambda p: p["annotations"][0].update(keypoints=[0] * 51, extra={"keypoints": [1, 2]}),
    lambda p: p["annotations"][0].update(note="caf\u00e9 \u2713"),  # non-ASCII text
    lambda p: p["annotations"][0].update(keypoints=[float(v) for v in range(51)]),
    lambda p: p.update(categories=[{"keypoints": ["nose", "head_bottom"]}]),
    lambda p: p["annotations"][2].update(keypoints="skipped: not on a labeled frame"),
    lambda p: p["annotations"][0].update(keypoints=[[1, 2, 3]] * 17),
    lambda p: p["annotations"][0].update(image_id=None),
])
def test_skimming_reader_agrees_or_leaves_it_to_the_parser(tmp_path, edit):
    """On unusual files the skimming reader either gives parse_sequence's arrays or declines (None); what the
    evaluation returns is the same either way."""
    from poseval_refine.formats.posetrack21 import parse_sequence, read_skimmed

    gt, pred = _seq([[(0, POSE)], [(0, POSE)]], [[(7, POSE)], [(7, POSE)]])
    pred = copy.deepcopy(pred)
    pred["images"].append({"id": 102, "is_labeled": False})
    pred["annotations"].append({**copy.deepcopy(pred["annotations"][0]), "image_id": 102})
    edit(pred)
    raw = json.dumps(pred, ensure_ascii=False).encode()
    path = tmp_path / "p.json"
    only = {100, 101}
    try:
        want = parse_sequence(json.loads(raw), path, False, only)
    except Exception as e:  # noqa: BLE001 -- the parser's error is what the reader must leave to it
        assert read_skimmed(raw, path, False, only) is None, e
        return
    got = read_skimmed(raw, path, False, only)
    if got is not None:
        _same_sequence(got, want)


ZEROS = b"[" + b", ".join([b"0"] * 51) + b"]"


@pytest.mark.parametrize("person,needle", [
    (b'"keypoints": ' + ZEROS + b', "note": "\xff"', "UTF-8"),
    (b'"keypoints": [1.0, NaN]', "keypoints"),
    (b'"keypoints": [1..0]', "not valid JSON"),
])
def test_skimming_reader_leaves_broken_files_to_the_parser(tmp_path, capsys, person, needle):
    """What msgspec would let through unchecked (bytes that are not UTF-8 in a string nobody reads) or refuses
    goes to the ordinary reader, which ends with its one error."""
    from poseval_refine.formats.posetrack21 import read_skimmed

    raw = b'{"images": [{"id": 100}], "annotations": [{"image_id": 100, "track_id": 1, ' + person + b"}]}"
    assert read_skimmed(raw, tmp_path / "x.json", False, None) is None
    fine = raw.replace(b', "note": "\xff"', b"")
    if fine != raw:  # the same file without the stray byte is read by the skimming reader
        assert read_skimmed(fine, tmp_path / "x.json", False, None) is not None
    gt, pred = _seq([[(0, POSE)]], [[(7, POSE)]])
    g, p = _write(tmp_path, gt, pred)
    (p / "s_test.json").write_bytes(raw)
    assert main(["evaluate", "--gt", str(g), "--pred", str(p), "--task", "pose21"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prt: error:") and needle in err and "Traceback" not in err, err


def test_skimming_reader_against_the_parser_on_mutated_files():
    """Differential fuzzing: 300 mutated PoseTrack21 files (the fuzz harness's mutations of values and
    structure, some with a damaged byte), GT and predictions: read_sequence's outcome (the arrays bit for
    bit, or the one error) is parse_sequence's on the whole parsed file, and the skimming reader reads a
    good share of them itself."""
    from poseval_refine.errors import InputError
    from poseval_refine.formats.posetrack21 import parse_sequence, read_skimmed
    from poseval_refine.io import parse_json

    from .support.fuzzing import READERS, Draw, mutate_tree

    trees = {name: tree for name, (_, tree) in READERS["posetrack21"].files.items()}
    rng = np.random.default_rng(29)
    path = Path("seq.json")

    def outcome(read, *args):
        try:
            return "ok", read(*args)
        except InputError as e:
            return "error", str(e)

    def parsed(raw, is_gt, only):
        return parse_sequence(parse_json(raw, path), path, is_gt, only)

    skimmed = 0
    for i in range(300):
        name = sorted(trees)[i % 2]
        is_gt = name.startswith("gt")
        tree = trees[name]
        for _ in range(1 + i % 3):
            tree = mutate_tree(tree, Draw(rng=rng), "json")
        raw = json.dumps(tree).encode()
        if i % 5 == 0:
            damaged = bytearray(raw)
            damaged[int(rng.integers(0, len(raw)))] = int(rng.integers(0, 256))
            raw = bytes(damaged)
        only = {10000000000, 10000000002} if not is_gt and i % 4 == 1 else None
        want = outcome(parsed, raw, is_gt, only)
        got = outcome(read_skimmed, raw, path, is_gt, only)
        if got == ("ok", None):
            continue
        skimmed += 1
        assert got[0] == want[0], (i, got, want)
        if got[0] == "ok":
            _same_sequence(got[1], want[1])
        else:
            assert got[1] == want[1]
    assert skimmed > 75


def test_without_msgspec_the_parser_reads_everything(cases, monkeypatch):
    """msgspec is only a faster path: without it read_skimmed declines and read_sequence gives the same arrays."""
    import sys

    import poseval_refine.formats.posetrack21 as pt21
    from poseval_refine.io import load_json

    g = sorted((cases["mixed"] / "gt").glob("*.json"))[0]
    monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec raises ImportError
    monkeypatch.setattr(pt21, "_DECODERS", {})
    assert pt21.read_skimmed(g.read_bytes(), g, True, None) is None
    _same_sequence(pt21.read_sequence(g, True), pt21.parse_sequence(load_json(g), g, True))
