"""prt analyze on PoseTrack: the head-size taxonomy counts exactly the planted errors, ``good`` equals the
metric's hits on real crowded frames, ``--compare`` reports the repaired joints, tracking's MOTA parts add up."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.analysis import analyze
from poseval_refine.cli import main
from poseval_refine.skeletons import POSETRACK15

from .support.ptbuild import TEMPLATE, frame, person, write_case

FLIP = POSETRACK15.flip_permutation()
JOINTS = list(POSETRACK15.joints)
HEAD = 30.0  # ptbuild's head box 30 x 40: head size 0.6 * 50 px


def _planted(rng, n_frames=6, n_people=3):
    """GT frames, predicted frames, the planted kind of every GT joint {joint: {kind: n}} and the
    prediction with the inversions repaired. Every prediction keeps most joints good, so poseval's matching
    pairs it with its own person; people stand 300 px apart, so only planted swaps come near another one."""
    gt_frames, pred_frames, fixed_frames = [], [], []
    planted = {j: {k: 0 for k in ("good", "jitter", "inversion", "swap", "miss")} for j in JOINTS}
    for f in range(n_frames):
        anchors = [(100 + 300 * i, 100 + 5 * f) for i in range(n_people)]
        gt_frames.append(frame([person(ax, ay, track=i) for i, (ax, ay) in enumerate(anchors)],
                               name=f"seq/{f:05d}.jpg"))
        preds, fixed = [], []
        for i, (ax, ay) in enumerate(anchors):
            pts, pts_fixed = [], []
            for j in range(15):
                gx, gy = ax + TEMPLATE[j][0], ay + TEMPLATE[j][1]
                kinds = ["good"] * 6 + ["jitter", "swap", "miss"] + (["inversion"] if FLIP[j] != j else [])
                kind = str(rng.choice(kinds))
                planted[JOINTS[j]][kind] += 1
                nx, ny = rng.uniform(-3, 3, 2)
                if kind == "good":
                    x, y = gx + nx, gy + ny
                elif kind == "jitter":  # 0.73 head sizes below its GT joint: far from its symmetric joint
                    x, y = gx + nx / 3, gy + 22
                elif kind == "inversion":  # on the person's symmetric joint
                    sx, sy = ax + TEMPLATE[FLIP[j]][0], ay + TEMPLATE[FLIP[j]][1]
                    x, y = sx + nx, sy + ny
                elif kind == "swap":  # on the neighbour's same joint
                    ox = anchors[(i + 1) % n_people][0]
                    x, y = ox + TEMPLATE[j][0] + nx, ay + TEMPLATE[j][1] + ny
                else:  # a miss: not predicted, or far away
                    if rng.random() < 0.5:
                        continue
                    x, y = gx + 150, gy + 40
                score = float(rng.uniform(0.2, 1.0))
                pts.append({"id": [j], "x": [float(x)], "y": [float(y)], "score": [score]})
                fx, fy = (gx + nx, gy + ny) if kind == "inversion" else (x, y)
                pts_fixed.append({"id": [j], "x": [float(fx)], "y": [float(fy)], "score": [score]})
            preds.append({"annopoints": [{"point": pts}], "track_id": [i], "score": [0.9]})
            fixed.append({"annopoints": [{"point": pts_fixed}], "track_id": [i], "score": [0.9]})
        pred_frames.append(frame(preds, name=f"seq/{f:05d}.jpg"))
        fixed_frames.append(frame(fixed, name=f"seq/{f:05d}.jpg"))
    return gt_frames, pred_frames, planted, fixed_frames


@pytest.fixture(scope="module")
def planted_case(tmp_path_factory):
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("planted")
    planted = {j: {k: 0 for k in ("good", "jitter", "inversion", "swap", "miss")} for j in JOINTS}
    fixed_dir = root / "fixed"
    fixed_dir.mkdir()
    for s in range(3):
        gt_frames, pred_frames, p, fixed_frames = _planted(rng)
        gt, pred = write_case(root, gt_frames, pred_frames, name=f"seq{s}.json")
        (fixed_dir / f"seq{s}.json").write_text(json.dumps({"annolist": fixed_frames}))
        for j in JOINTS:
            for k in p[j]:
                planted[j][k] += p[j][k]
    return gt, pred, fixed_dir, planted


def test_planted_errors_are_counted_per_joint(planted_case):
    gt, pred, _, planted = planted_case
    a = analyze(gt, pred)
    d = a.to_dict()
    assert d["task"] == "pose"
    assert d["per_joint"] == planted
    assert d["keypoints"] == {k: sum(planted[j][k] for j in JOINTS) for k in planted[JOINTS[0]]}
    assert all(d["keypoints"][k] > 20 for k in d["keypoints"])
    assert d["false_pos"] == 0 and d["false_neg"] == 0
    # fixing every kind leaves only perfect people: mAP 100
    assert d["ap"]["jitter"]["Total"] == pytest.approx(100.0)
    assert d["ap"]["baseline"]["Total"] < d["ap"]["miss"]["Total"]
    frame_ = a.to_frame()
    assert frame_.loc["right_wrist"].to_dict() == planted["right_wrist"]


def test_compare_with_the_inversions_repaired(planted_case):
    gt, pred, fixed, planted = planted_case
    d = analyze(gt, pred, compare=fixed).to_dict()
    n_inv = sum(planted[j]["inversion"] for j in JOINTS)
    changed = {(a, b): n for a, row in d["moved"].items() for b, n in row.items() if a != b}
    assert changed == {("inversion", "good"): n_inv}
    assert d["moved"]["good"]["good"] == d["keypoints"]["good"]  # the joints that stayed are counted too
    assert d["compare"]["keypoints"]["inversion"] == 0
    assert d["compare"]["keypoints"]["good"] == d["keypoints"]["good"] + n_inv


def _metric_hits(gt: Path, pred: Path) -> tuple[int, float]:
    """The TP joints of the metric itself (poseval's AP labels in ``prt evaluate --task pose``'s per-sequence
    items) and its Total mAP."""
    import poseval_refine as prt

    r = prt.evaluate(gt, pred, task="pose").to_dict()
    hits = sum(labels.count("1") for it in r["items"] for labels in it["labels"])
    return hits, r["ap_groups"][-1]


@pytest.mark.parametrize("case", ["bonn_test", "synth24"])
def test_good_equals_the_metric_hits_on_crowded_real_frames(shared_data, case):
    root = shared_data / "posetrack_cases" / case
    d = analyze(root / "gt", root / "pred", task="pose").to_dict()
    hits, total = _metric_hits(root / "gt", root / "pred")
    assert d["keypoints"]["good"] == hits
    expected = json.loads((root / "expected_poseval.json").read_text())
    assert d["ap"]["baseline"]["Total"] == pytest.approx(expected["ap_groups"][-1], abs=1e-9)
    assert d["ap"]["baseline"]["Total"] == pytest.approx(total, abs=1e-12)
    # the per-sequence table is worst first and adds up
    errs = [it["errors"] for it in d["items"]]
    assert errs == sorted(errs, reverse=True)
    assert sum(it["keypoints"]["good"] for it in d["items"]) == hits


def _perturbed_posetrack18(shared_data, tmp_path):
    """The PoseTrack 2018 val frames (real crowded GT) and predictions = the GT with some joints displaced and
    some people's left/right swapped, people in the GT's order."""
    root = shared_data / "posetrack18_val_sample"
    gt = root / "annotations" / "val"
    pred = tmp_path / "pred"
    pred.mkdir()
    rng = np.random.default_rng(3)
    flip = [0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    for f in sorted((root / "gt_as_pred").glob("*.json")):
        data = json.loads(f.read_text())
        for ann in data["annotations"]:
            kp = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)
            if rng.random() < 0.3:
                kp[:, :2] = kp[flip, :2]
            move = rng.random(len(kp)) < 0.4
            kp[move, :2] += rng.normal(0, 12, (int(move.sum()), 2))
            ann["keypoints"] = kp.ravel().tolist()
        (pred / f.name).write_text(json.dumps(data))
    return gt, pred


def test_posetrack18_sample_good_equals_the_metric_hits(shared_data, tmp_path):
    gt, pred = _perturbed_posetrack18(shared_data, tmp_path)
    d = analyze(gt, pred, task="pose").to_dict()
    hits, _ = _metric_hits(gt, pred)
    assert d["keypoints"]["good"] == hits
    assert d["keypoints"]["inversion"] > 0 and d["keypoints"]["jitter"] > 0


def test_pckh_good_equals_the_tasks_hits_per_joint(shared_data, tmp_path):
    import poseval_refine as prt

    gt, pred = _perturbed_posetrack18(shared_data, tmp_path)
    d = analyze(gt, pred, task="pckh").to_dict()
    r = prt.evaluate(gt, pred, task="pckh").to_dict()
    hits = np.array([it["hits"] for it in r["items"]]).sum(0)
    assert [c["good"] for c in d["per_joint"].values()] == hits.tolist()
    assert d["pckh"]["baseline"]["Total"] == pytest.approx(r["pckh_total"], abs=1e-12)
    assert d["keypoints"]["inversion"] > 0 and d["pckh"]["jitter"]["Total"] > d["pckh"]["baseline"]["Total"]


def test_tracking_decomposition_adds_up_to_mota(shared_data):
    root = shared_data / "posetrack_cases" / "bonn_test"
    d = analyze(root / "gt", root / "pred", task="tracking").to_dict()
    expected = json.loads((root / "expected_poseval.json").read_text())
    for j, name in enumerate(JOINTS):
        v = d["per_joint"][name]
        if expected["mota_joint"][j] is None:
            continue
        assert v["mota"] == pytest.approx(expected["mota_joint"][j], abs=1e-9)
        assert v["misses"] + v["false_positives"] + v["switches"] == pytest.approx(100 - v["mota"], abs=1e-9)
    total_err = sum(it["misses"] + it["false_positives"] + it["switches"] for it in d["items"])
    assert total_err == sum(d["counts"]["misses"]) + sum(d["counts"]["false_positives"]) + sum(d["counts"]["switches"])


def test_cli_writes_json_and_refuses_a_missing_pred(planted_case, tmp_path, capsys):
    gt, pred, _, planted = planted_case
    out = tmp_path / "a.json"
    assert main(["analyze", "--gt", str(gt), "--pred", str(pred), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["per_joint"] == planted
    assert "mAP (Total) after fixing each kind" in capsys.readouterr().out
    assert main(["analyze", "--gt", str(gt), "--pred", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prt: error:") and "nope" in err and "fix:" in err


def test_hota_decomposition_per_sequence_is_each_sequence_alone(shared_data, tmp_path):
    import shutil

    import poseval_refine as prt

    root = shared_data / "posetrack21_cases" / "basic"
    d = analyze(root / "gt", root / "pred", task="hota").to_dict()
    want = json.loads((root / "expected_kit.json").read_text())
    for j, parts in d["per_joint"].items():
        for p in ("HOTA", "DetA", "AssA"):
            assert parts[p] == pytest.approx(want[p][j], abs=1e-9)
    hotas = [it["HOTA"] for it in d["items"]]
    assert hotas == sorted(hotas) and len(hotas) == len(list((root / "gt").glob("*.json")))
    first = d["items"][0]
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    shutil.copy(root / "gt" / f"{first['sequence']}.json", tmp_path / "gt")
    shutil.copy(root / "pred" / f"{first['sequence']}.json", tmp_path / "pred")
    alone = prt.evaluate(tmp_path / "gt", tmp_path / "pred", task="hota").to_dict()
    for p in ("HOTA", "DetA", "AssA", "LocA"):
        assert first[p] == pytest.approx(alone[p]["Total"], abs=1e-9)
