"""prt analyze --task pose21 (the PoseTrack21 kit's mAP matching): planted errors counted exactly per joint,
``good`` equal to the kit's hits, mAP after fixing nothing equal to ``prt evaluate --task pose21`` and to the
kit's recorded numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

import poseval_refine as prt
from poseval_refine.cli import main
from poseval_refine.formats.posetrack21 import JOINTS, KEPT_SLOTS

from .support.plant import KINDS, empty_counts, plant_person
from .support.pt21build import TEMPLATE

FLIP = np.array([0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13])
SIZE = 200.0
HEAD_BOX = (0.24 * SIZE, 0.3 * SIZE)
HEAD = 0.6 * float(np.hypot(*HEAD_BOX))
CATS = [{"supercategory": "person", "id": 1, "name": "person"}]


def _slots(points: dict) -> tuple[list, list]:
    """17-slot keypoints and scores of {kit joint: (x, y, score)}."""
    kp, sc = np.zeros((17, 3)), np.zeros(17)
    for k, (x, y, s) in points.items():
        kp[KEPT_SLOTS[k]] = (x, y, s)
        sc[KEPT_SLOTS[k]] = s
    return kp.ravel().tolist(), sc.tolist()


def _sequence(rng, index: int, counts: dict):
    """GT, predictions, the predictions with the inversions repaired, and with every matched person made
    perfect as the analysis makes it (fixed joints on their GT joint keeping their scores, a joint not
    predicted with the mean score of the predicted ones)."""
    base = 10000000000 + index * 10000
    images = [{"file_name": f"images/val/{index:06d}/{f:06d}.jpg", "id": base + f, "frame_id": base + f,
               "vid_id": f"{index:06d}", "is_labeled": f != 3, "nframes": 5, "ignore_regions_x": [],
               "ignore_regions_y": []} for f in range(5)]
    gt, docs = [], {"pred": [], "fixed": [], "perfect": []}
    for f in range(5):
        anchors = [np.array([300.0 + 700 * i, 400.0 + 4 * f]) for i in range(3)]
        joints = [TEMPLATE[KEPT_SLOTS] * SIZE + a for a in anchors]
        for i, a in enumerate(anchors):
            box = [float(a[0] - 0.12 * SIZE), float(a[1] - SIZE), *HEAD_BOX]
            trip = np.zeros((17, 3))
            trip[KEPT_SLOTS, :2], trip[KEPT_SLOTS, 2] = joints[i], 1
            if f != 3:
                gt.append({"bbox_head": box, "keypoints": trip.ravel().tolist(), "track_id": i, "person_id": i,
                           "image_id": base + f, "category_id": 1, "id": len(gt)})
            if f == 1 and i == 2:
                continue  # nobody predicts this GT person: a false negative
            pts, fixed = {}, {}
            for k, kind, xy, fxy in plant_person(rng, joints[i], joints[(i + 1) % 3], FLIP, HEAD, range(15)):
                s = round(float(rng.uniform(0.2, 1.0)), 6)
                if f != 3:
                    counts[JOINTS[k]][kind] += 1
                if xy is not None:
                    pts[k], fixed[k] = (*xy, s), (*fxy, s)
            mean = float(np.mean([s for *_, s in pts.values()]))
            perfect = {k: (*joints[i][k], pts[k][2] if k in pts else mean) for k in range(15)}
            for name, p in (("pred", pts), ("fixed", fixed), ("perfect", perfect)):
                kp, sc = _slots(p)
                docs[name].append({"keypoints": kp, "scores": sc, "track_id": 10 + i, "image_id": base + f,
                                   "category_id": 1})
        if f == 2:  # a hallucinated person: a false positive
            kp, sc = _slots({k: (*(TEMPLATE[KEPT_SLOTS][k] * SIZE + (2400.0, 400.0)), 0.5) for k in range(15)})
            for name in docs:
                docs[name].append({"keypoints": kp, "scores": sc, "track_id": 99, "image_id": base + f,
                                   "category_id": 1})
    seq = {"images": images, "annotations": gt, "categories": CATS}
    return seq, {name: {"images": images, "annotations": anns, "categories": CATS} for name, anns in docs.items()}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    rng = np.random.default_rng(5)
    root = tmp_path_factory.mktemp("pose21_planted")
    counts = empty_counts(JOINTS)
    for d in ("gt", "pred", "fixed", "perfect"):
        (root / d).mkdir()
    for s in range(3):
        gt, preds = _sequence(rng, s, counts)
        (root / "gt" / f"{s:06d}_mpii_test.json").write_text(json.dumps(gt))
        for name, doc in preds.items():
            (root / name / f"{s:06d}_mpii_test.json").write_text(json.dumps(doc))
    return root, counts


def test_planted_errors_are_counted_per_joint(planted):
    root, counts = planted
    d = prt.analyze(root / "gt", root / "pred", task="pose21").to_dict()
    assert d["task"] == "pose21"
    assert d["per_joint"] == counts
    assert all(d["keypoints"][k] >= 10 for k in KINDS)
    assert (d["false_pos"], d["false_neg"]) == (3, 3)
    evaluated = prt.evaluate(root / "gt", root / "pred", task="pose21").to_dict()
    perfect = prt.evaluate(root / "gt", root / "perfect", task="pose21").to_dict()
    for i, g in enumerate(evaluated["group_names"]):
        assert d["ap"]["baseline"][g] == pytest.approx(evaluated["ap_groups"][i], abs=1e-9)
        assert d["ap"]["jitter"][g] == pytest.approx(perfect["ap_groups"][i], abs=1e-9)
    assert d["ap"]["baseline"]["Total"] < d["ap"]["miss"]["Total"] < d["ap"]["jitter"]["Total"]


def test_compare_with_the_inversions_repaired(planted):
    root, counts = planted
    d = prt.analyze(root / "gt", root / "pred", task="pose21", compare=root / "fixed").to_dict()
    n_inv = sum(c["inversion"] for c in counts.values())
    changed = {(a, b): n for a, row in d["moved"].items() for b, n in row.items() if a != b}
    assert changed == {("inversion", "good"): n_inv}


@pytest.mark.parametrize("case", ["basic", "empty_frames"])
def test_good_is_the_kits_hits(shared_data, case):
    root = shared_data / "posetrack21_cases" / case
    d = prt.analyze(root / "gt", root / "pred", task="pose21").to_dict()
    r = prt.evaluate(root / "gt", root / "pred", task="pose21").to_dict()
    hits = np.zeros(15, int)
    for it in r["items"]:
        hits += [labels.count("1") for labels in it["labels"]]
    assert [d["per_joint"][j]["good"] for j in JOINTS] == hits.tolist()
    assert d["keypoints"]["good"] == d["hits"]
    kit = json.loads((root / "expected_kit.json").read_text())["AP"]
    for i, g in enumerate(r["group_names"]):
        assert d["ap"]["baseline"][g] == pytest.approx(r["ap_groups"][i], abs=1e-9)
        assert d["ap"]["baseline"][g] == pytest.approx(kit[g], abs=1e-9)
    assert d["keypoints"]["inversion"] > 0 and d["false_pos"] > 0 and d["false_neg"] > 0
    errs = [it["errors"] for it in d["items"]]
    assert errs == sorted(errs, reverse=True)
    assert sum(it["keypoints"]["good"] for it in d["items"]) == d["hits"]


def test_the_kits_crash_is_one_clear_error(shared_data, capsys):
    root = shared_data / "posetrack21_cases" / "labeled_frame_without_people"
    assert main(["analyze", "--task", "pose21", "--gt", str(root / "gt"), "--pred", str(root / "pred")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prt: error:") and "is_labeled" in err and "fix:" in err and "Traceback" not in err


def test_a_missing_prediction_file_is_one_clear_error(planted, tmp_path, capsys):
    import shutil

    root, _ = planted
    shutil.copytree(root / "pred", tmp_path / "pred")
    (tmp_path / "pred" / "000001_mpii_test.json").unlink()
    assert main(["analyze", "--task", "pose21", "--gt", str(root / "gt"), "--pred", str(tmp_path / "pred")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prt: error:") and "000001_mpii_test.json" in err and "fix:" in err
