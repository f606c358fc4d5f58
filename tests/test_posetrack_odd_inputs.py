"""Inputs poseval accepts and reads its own way (docs/protocol.md §1.10): prt gives poseval's numbers.

Every expected number below is derived by hand from poseval's rules (docs/protocol.md §1.3-1.7 and the
notes of each test); ``test_recorded_official_run`` compares with numbers the official poseval
printed. The template person (tests/support/ptbuild.py) has head size 30 px, so a hit is within 15 px.
"""

from __future__ import annotations

import glob
import json
import math
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.errors import InputError
from poseval_refine.evaluators.posetrack import evaluate_posetrack
from poseval_refine.formats import posetrack as ptformat
from poseval_refine.formats.posetrack import read_sequence
from poseval_refine.skeletons import POSETRACK18

from .support.ptbuild import frame, person

A, B, C = (100, 100), (300, 100), (600, 400)
REGION = [(500, 300), (700, 300), (700, 700), (500, 700)]


def write(root: Path, gt_frames, pred_frames, name="seq.json", layout18=None):
    for d, frames in (("gt", gt_frames), ("pred", pred_frames)):
        (root / d).mkdir(parents=True, exist_ok=True)
        (root / d / name).write_text(json.dumps({"annolist": frames}))  # Python's json writes NaN as NaN
    return root / "gt", root / "pred"


def evaluate(root, protocol="official", tracking=True):
    return evaluate_posetrack(root / "gt", [root / "pred"], tracking=tracking, protocol=protocol)


def point(rect, j):
    return next(p for p in rect["annopoints"][0]["point"] if p["id"] == [j])


def test_repeated_joint_first_point_counts(tmp_path):
    """Joint 3 named twice: poseval's getPointGTbyID returns the first point with the id."""
    far_first, exact_first = tmp_path / "far", tmp_path / "exact"
    for root, far_before in ((far_first, True), (exact_first, False)):
        gt = [frame([person(*A, track=0)]) for _ in range(3)]
        pred = []
        for _ in range(3):
            rect = person(*A, track=5, score=0.9)
            pts = rect["annopoints"][0]["point"]
            real = point(rect, 3)
            far = dict(real, x=[real["x"][0] + 100])
            i = pts.index(real)
            pts[i:i + 1] = [far, real] if far_before else [real, far]
            pred.append(frame([rect]))
        write(root, gt, pred)
    r = evaluate(far_first)
    # joint 3: three predictions, all 100 px off (false positives), three GT joints
    assert r["ap_joint"][3] == 0.0 and r["ap_pre"][3] == 0.0 and r["ap_rec"][3] == 0.0
    assert r["ap_joint"][2] == 100.0
    # tracking (frames 0 and 1): one object and one unreachable hypothesis per frame
    assert r["mota_joint"][3] == pytest.approx(100 * (1 - (2 + 2) / 2))
    r = evaluate(exact_first)
    assert r["ap_joint"][3] == 100.0 and r["mota_joint"][3] == 100.0


def _nan_case(root: Path, value, layout="2017"):
    """GT A and B; predictions: A' exact (score .9) and a false positive C' whose joint 0 has ``value``."""
    gt = [frame([person(*A, track=0), person(*B, track=1)]) for _ in range(3)]
    pred = []
    for _ in range(3):
        fp = person(*C, track=9, score=0.1)
        p0 = point(fp, 0)
        if value == "missing":
            del p0["score"]
        else:
            p0["score"] = [value]
        pred.append(frame([person(*A, track=5, score=0.9), fp]))
    write(root, gt, pred)
    if layout == "2018":
        for d in ("gt", "pred"):
            seq = read_sequence(root / d / "seq.json")
            data = ptformat.to_2018(seq)
            if d == "pred":
                for ann in data["annotations"]:
                    if ann["track_id"] == 9:
                        slot = list(POSETRACK18.file_names).index("right_ankle")
                        ann["scores"][slot] = value
            (root / d / "seq.json").write_text(json.dumps(data))


# Joint 0 pools 3 true positives (.9) and 3 false positives (C', the tested score) over 6 GT joints.
# NaN first (poseval): ranks 1-3 false, 4-6 true -> precision 1/4, 2/5, 3/6 at recall 1/6, 2/6, 3/6 ->
# VOC AP = 3 * (1/6) * (1/2) = 25. Ranked last: ranks 1-3 true -> AP = 3 * (1/6) * 1 = 50.
SCORE_CASES = [
    (None, 25.0, 50.0),          # null: numpy stores NaN, which poseval's reversed argsort ranks first
    (math.nan, 25.0, 50.0),      # NaN (Python's json writes it)
    ("missing", 50.0, 50.0),     # no score: -9999, last (2017 only: a 2018 person has all scores or none)
    ("0.95", 25.0, 25.0),        # a numeric string is the number (numpy's conversion): above .9
    ("0.05", 50.0, 50.0),
]


@pytest.mark.parametrize("layout, value, official, corrected",
                         [("2017", *c) for c in SCORE_CASES] + [("2018", *c) for c in SCORE_CASES if c[0] != "missing"])
def test_scores_null_nan_missing_and_numeric_strings(tmp_path, layout, value, official, corrected):
    _nan_case(tmp_path, value, layout)
    assert evaluate(tmp_path, tracking=False)["ap_joint"][0] == pytest.approx(official, abs=1e-12)
    assert evaluate(tmp_path, "corrected", tracking=False)["ap_joint"][0] == pytest.approx(corrected, abs=1e-12)
    assert evaluate(tmp_path, tracking=False)["ap_joint"][1] == pytest.approx(50.0, abs=1e-12)  # score .1: last


def test_non_number_score_is_refused(tmp_path, capsys):
    _nan_case(tmp_path, "abc")
    code = main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred")])
    err = capsys.readouterr().err
    assert code == 2 and "score is the text 'abc'" in err and "frame 0, person 1" in err and "fix:" in err


@pytest.mark.parametrize("odd_id", [[15], [-1], [3.5], [None], ["3"], None])
def test_points_whose_id_is_no_joint_are_ignored(tmp_path, odd_id):
    """poseval matches ids with ``id[0] == j`` for j in 0..14: anything else is never a joint."""
    gt = [frame([person(*A, track=0)]) for _ in range(3)]
    pred = []
    for _ in range(3):
        rect = person(*A, track=5, score=0.9)
        far = dict(point(rect, 3), x=[400], id=odd_id)
        rect["annopoints"][0]["point"].insert(0, far)  # before the real joint 3
        pred.append(frame([rect]))
        gt[0]["annorect"][0]["annopoints"][0]["point"].insert(0, dict(far))  # in the GT too
    write(tmp_path, gt, pred)
    r = evaluate(tmp_path)
    assert r["ap_groups"][-1] == 100.0 and r["mota_total"] == 100.0


def test_nan_coordinate_is_present_and_never_matches(tmp_path):
    """A GT joint at x = NaN counts as annotated (nGT, objects) and a NaN prediction is a false positive."""
    gt = []
    for _ in range(3):
        rect = person(*A, track=0)
        point(rect, 2)["x"] = [math.nan]
        gt.append(frame([rect]))
    pred = []
    for _ in range(3):
        rect = person(*A, track=5, score=0.9)
        point(rect, 4)["y"] = [math.nan]
        pred.append(frame([rect]))
    write(tmp_path, gt, pred)
    r = evaluate(tmp_path)
    for j in (2, 4):  # three predictions, none a hit, three GT joints
        assert (r["ap_joint"][j], r["ap_pre"][j], r["ap_rec"][j]) == (0.0, 0.0, 0.0)
        assert r["mota_joint"][j] == pytest.approx(-100.0)  # 2 frames: 2 misses + 2 false positives, 2 objects
        assert r["pre_joint"][j] == 0.0 and r["rec_joint"][j] == 0.0
    assert r["ap_joint"][3] == 100.0


def test_conversion_refuses_nan_coordinates(tmp_path):
    rect = person(*A, track=0)
    point(rect, 2)["x"] = [math.nan]
    write(tmp_path, [frame([rect])], [frame([rect])])
    with pytest.raises(InputError, match="not a finite number"):
        read_sequence(tmp_path / "gt" / "seq.json")  # records=True: for writing back


def test_ignore_region_exposes_the_repeated_point(tmp_path):
    """removeIgnoredPoints deletes the far first copy (inside the region); the exact repeat is then joint 3."""
    gt = [frame([person(*A, track=0)], ignore=[REGION]) for _ in range(3)]
    pred = []
    for _ in range(3):
        rect = person(*A, track=5, score=0.9)
        pts = rect["annopoints"][0]["point"]
        real = point(rect, 3)
        pts.insert(pts.index(real), dict(real, x=[600], y=[500]))  # inside REGION
        pred.append(frame([rect]))
    write(tmp_path, gt, pred)
    r = evaluate(tmp_path)
    assert r["ap_joint"][3] == 100.0 and r["mota_joint"][3] == 100.0
    (tmp_path / "gt" / "seq.json").write_text(json.dumps({"annolist": [frame([person(*A, track=0)])] * 3}))
    assert evaluate(tmp_path)["ap_joint"][3] == 0.0  # no region: the far copy counts


def test_ignore_region_keeps_a_person_alive_by_a_point_without_joint_id(tmp_path):
    """Frame 0's only prediction C' lies inside the region except for a point with id 15. poseval keeps
    C' (it still has a point), so the frame is not empty: no dummy. Tracking uses frames 0 and 1:
    frame 0 one object and no hypothesis (a miss), frame 1 a match -> MOTA = 1 - 1/2 = 50 per joint.
    Without the id-15 point C' is deleted, frame 0 has no prediction and gets the dummy
    (1 object, 1 miss, 1 false positive): MOTA = 1 - 2/2 = 0."""
    gt = [frame([person(*A, track=0)], ignore=[REGION]) for _ in range(3)]
    results = []
    for extra in (True, False):
        c = person(*C, track=9, score=0.5)
        if extra:
            c["annopoints"][0]["point"].append({"id": [15], "x": [50], "y": [50]})
        pred = [frame([c])] + [frame([person(*A, track=5, score=0.9)]) for _ in range(2)]
        root = tmp_path / str(extra)
        write(root, gt, pred)
        results.append(evaluate(root))
    assert results[0]["mota_joint"] == pytest.approx([50.0] * 15)
    assert results[1]["mota_joint"] == pytest.approx([0.0] * 15)


def _tie_case(root: Path):
    """Sequence a: a true positive of score .5; sequence b: a false positive of score .5 (every joint)."""
    write(root, [frame([person(*A, track=0)])] * 2, [frame([person(*A, track=5, score=0.5)])] * 2, "a.json")
    write(root, [frame([person(*A, track=0)])] * 2, [frame([person(*C, track=5, score=0.5)])] * 2, "b.json")


def _ap_of_order(labels_in_concatenation_order, scores, num_gt):
    """poseval's computeRPC + VOCap, by hand: rank by reversed argsort, then all-point AP."""
    order = np.argsort(np.array(scores))[::-1]
    lab = np.array(labels_in_concatenation_order)[order]
    tp = np.cumsum(lab)
    prec, rec = tp / np.arange(1, len(lab) + 1), tp / num_gt
    ap, best = 0.0, 0.0
    for i in range(len(lab) - 1, -1, -1):  # precision envelope from the right
        best = max(best, prec[i])
        ap += (rec[i] - (rec[i - 1] if i else 0.0)) * best
    return 100 * ap


@pytest.mark.parametrize("listing", [["a.json", "b.json"], ["b.json", "a.json"]])
def test_sequence_order_is_the_file_systems_as_poseval_and_sorted_when_corrected(tmp_path, monkeypatch, listing):
    """poseval concatenates sequences in glob order; with tied scores that order decides AP."""
    _tie_case(tmp_path)
    real_glob = glob.glob
    monkeypatch.setattr(glob, "glob", lambda pattern: [str(Path(pattern).parent / n) for n in listing]
                        if pattern.endswith("*.json") else real_glob(pattern))
    labels = {"a.json": [1, 1], "b.json": [0, 0]}
    expected = _ap_of_order(sum((labels[n] for n in listing), []), [0.5] * 4, 4)
    assert evaluate(tmp_path, tracking=False)["ap_joint"][0] == pytest.approx(expected, abs=1e-12)
    # corrected: sorted names (a, b) and a stable descending sort: the true positives first
    stable = evaluate(tmp_path, "corrected", tracking=False)["ap_joint"][0]
    assert stable == pytest.approx(100 * (0.25 + 0.25), abs=1e-12)


def test_sequence_files_orders(tmp_path):
    for n in ("b.json", "a.json", "c.JSON", ".hidden.json", "d.txt"):
        (tmp_path / n).write_text("{}")
    assert [p.name for p in ptformat.sequence_files(tmp_path, "sorted")] == ["a.json", "b.json"]
    listed = [p.name for p in ptformat.sequence_files(tmp_path, "filesystem")]
    assert sorted(listed) == ["a.json", "b.json"]  # glob's "*.json": case-sensitive, no hidden files
    import glob

    assert listed == [Path(p).name for p in glob.glob(str(tmp_path) + "//*.json")]  # poseval's exact call


RECORDED = Path(__file__).parent / "data" / "poseval_odd_inputs.json"


@pytest.mark.parametrize("layout", ["2017", "2018"])
def test_recorded_official_run(tmp_path, layout):
    """One generated sequence full of odd inputs (one sequence: no dependence on the file-system order);
    the numbers are what the official poseval (HEAD 4258a15, motmetrics 1.4.0) printed for it."""
    from poseval_refine.synthetic import write_odd_benchmark

    write_odd_benchmark(tmp_path, n_sequences=1, n_frames=40, seed=11, layout=layout)
    expected = json.loads(RECORDED.read_text())[layout]
    got = evaluate(tmp_path)
    for k, v in expected.items():
        a = np.array([np.nan if x is None else x for x in (v if isinstance(v, list) else [v])], float)
        b = np.array(got[k] if isinstance(got[k], list) else [got[k]], float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=k)
        np.testing.assert_allclose(b[~np.isnan(b)], a[~np.isnan(a)], rtol=0, atol=1e-9, err_msg=k)


def test_ignore_region_frame_without_predictions(tmp_path):
    """A frame with an ignore region and no prediction (nothing to delete on that side): poseval's dummy
    frame for tracking, the GT joints outside the region still count. Frames 0-1 are tracked: frame 0 has
    the dummy (1 object, 1 miss, 1 false positive), frame 1 a match -> MOTA = 1 - 2/2 = 0; AP: 2 of 3 GT
    joints found, every prediction right -> AP 66.67 (recall 2/3 at precision 1)."""
    gt = [frame([person(*A, track=0)], ignore=[REGION])] + [frame([person(*A, track=0)]) for _ in range(2)]
    pred = [frame([])] + [frame([person(*A, track=5, score=0.9)]) for _ in range(2)]
    write(tmp_path, gt, pred)
    r = evaluate(tmp_path)
    assert r["mota_joint"] == pytest.approx([0.0] * 15)
    assert r["ap_joint"] == pytest.approx([200 / 3] * 15)
