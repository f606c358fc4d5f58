"""prt analyze on MPII multi-person (the MATLAB kit's per-image matching): planted errors counted exactly per
joint, ``good`` equal to the kit's hits on real people, mAP after fixing nothing equal to ``prt evaluate``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import poseval_refine as prt
from poseval_refine.cli import main
from poseval_refine.metrics.pckh import EVAL_JOINTS
from poseval_refine.skeletons import MPII16

from .support.mpiibuild import TEMPLATE16, annorect_person, valid_annolists
from .support.plant import KINDS, empty_counts, plant_person

FLIP = MPII16.flip_permutation()
NAMES = [MPII16.joints[k] for k in EVAL_JOINTS]
HEAD = 30.0  # annorect_person's head box 30 x 40


def _pred_rect(points):
    return {"annopoints": [{"point": [{"id": j, "x": float(x), "y": float(y), "score": float(s)}
                                      for j, x, y, s in points]}]}


def _perfect_person(points, own):
    """The person with every planted joint fixed as the analysis fixes it: on its GT joint, keeping its score; a
    joint not predicted gets the mean score of the predicted ones."""
    scores = {j: s for j, _, _, s in points}
    mean = float(np.mean(list(scores.values())))
    return [(j, *own[j], scores.get(j, mean)) for j in EVAL_JOINTS]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    rng = np.random.default_rng(11)
    root = tmp_path_factory.mktemp("multi_planted")
    counts = empty_counts(NAMES)
    gt, pred, fixed, perfect = [], [], [], []
    for f in range(6):
        people = 2 if f == 4 else 3
        anchors = [(100 + 300 * i, 100 + 5 * f) for i in range(people)]
        gt.append({"image": {"name": f"img{f}.jpg"}, "annorect": [annorect_person(ax, ay) for ax, ay in anchors]})
        rects, rects_fixed, rects_perfect = [], [], []
        for i, (ax, ay) in enumerate(anchors):
            if f == 4 and i == 1:
                continue  # a GT person nobody predicted: a false negative, its joints unlabelled
            own = TEMPLATE16 + (ax, ay)
            neighbour = TEMPLATE16 + anchors[(i + 1) % people]
            pts, pts_fixed = [], []
            for j, kind, xy, fxy in plant_person(rng, own, neighbour, FLIP, HEAD, EVAL_JOINTS):
                counts[MPII16.joints[j]][kind] += 1
                s = float(rng.uniform(0.2, 1.0))
                if xy is not None:
                    pts.append((j, *xy, s))
                    pts_fixed.append((j, *fxy, s))
            rects.append(_pred_rect(pts))
            rects_fixed.append(_pred_rect(pts_fixed))
            rects_perfect.append(_pred_rect(_perfect_person(pts, own)))
        if f == 4:  # a hallucinated person far from everyone: a false positive
            extra = _pred_rect([(j, 2000 + dx, 500 + dy, 0.5) for j, (dx, dy) in enumerate(TEMPLATE16)
                                if j in EVAL_JOINTS])
            rects.append(extra)
            rects_fixed.append(extra)
            rects_perfect.append(extra)
        pred.append({"image": {"name": f"img{f}.jpg"}, "annorect": rects})
        fixed.append({"image": {"name": f"img{f}.jpg"}, "annorect": rects_fixed})
        perfect.append({"image": {"name": f"img{f}.jpg"}, "annorect": rects_perfect})
    # an entry without GT people: the kit never looks at its predictions
    gt.append({"image": {"name": "empty.jpg"}, "annorect": []})
    stray = _pred_rect([(j, 50 + dx, 50 + dy, 0.9) for j, (dx, dy) in enumerate(TEMPLATE16) if j in EVAL_JOINTS])
    for doc in (pred, fixed, perfect):
        doc.append({"image": {"name": "empty.jpg"}, "annorect": [stray]})
    paths = {}
    for name, doc in (("gt", gt), ("pred", pred), ("fixed", fixed), ("perfect", perfect)):
        paths[name] = root / f"{name}.json"
        paths[name].write_text(json.dumps({"annolist": doc}))
    return paths, counts


def test_planted_errors_are_counted_per_joint(planted):
    paths, counts = planted
    d = prt.analyze(paths["gt"], paths["pred"]).to_dict()  # the task from the GT: an annolist -> multi
    assert d["task"] == "multi"
    assert d["per_joint"] == counts
    assert all(d["keypoints"][k] >= 5 for k in KINDS)
    assert (d["false_pos"], d["false_neg"], d["ignored"]) == (1, 1, 1)
    # mAP after fixing nothing is the evaluation's; after fixing everything, the evaluation of the predictions
    # with every matched person made perfect as the analysis makes it (written out independently above)
    evaluated = prt.evaluate(paths["gt"], paths["pred"], task="multi").to_dict()["ap"]
    perfect = prt.evaluate(paths["gt"], paths["perfect"], task="multi").to_dict()["ap"]
    for col in evaluated:
        assert d["ap"]["baseline"][col] == pytest.approx(evaluated[col], abs=1e-9)
        assert d["ap"]["jitter"][col] == pytest.approx(perfect[col], abs=1e-9)
    assert d["ap"]["baseline"]["Total"] < d["ap"]["miss"]["Total"] < d["ap"]["jitter"]["Total"]
    worst = [it["errors"] for it in d["items"]]
    assert worst == sorted(worst, reverse=True) and sum(it["false_neg"] for it in d["items"]) == 1


def test_compare_with_the_inversions_repaired(planted):
    paths, counts = planted
    d = prt.analyze(paths["gt"], paths["pred"], compare=paths["fixed"]).to_dict()
    n_inv = sum(c["inversion"] for c in counts.values())
    changed = {(a, b): n for a, row in d["moved"].items() for b, n in row.items() if a != b}
    assert changed == {("inversion", "good"): n_inv}
    assert d["compare"]["keypoints"]["good"] == d["keypoints"]["good"] + n_inv


@pytest.fixture(scope="module")
def real(shared_data, tmp_path_factory):
    """The MPII validation people grouped by image (every image with 2-4 people, 100 with one), their real head
    boxes, PyraNet's real predictions with its scores, 5 % of the predicted people left out."""
    return valid_annolists(shared_data / "mpii_val", tmp_path_factory.mktemp("multi_real"), drop=0.05, singles=100)


def test_good_is_the_kits_hits_on_real_people(real, tmp_path, capsys):
    gt, pred = real
    d = prt.analyze(gt, pred, task="multi").to_dict()
    r = prt.evaluate(gt, pred, task="multi").to_dict()
    per_joint_hits = np.zeros(len(EVAL_JOINTS), int)
    for it in r["items"]:
        per_joint_hits += [labels.count("1") for labels in it["labels"]]
    assert [d["per_joint"][n]["good"] for n in NAMES] == per_joint_hits.tolist()
    assert d["keypoints"]["good"] == d["hits"] == per_joint_hits.sum()
    for col, v in r["ap"].items():
        assert d["ap"]["baseline"][col] == pytest.approx(v, abs=1e-9)
    assert d["false_neg"] > 0 and d["keypoints"]["swap"] > 0 and d["keypoints"]["inversion"] > 0
    assert sum(it["keypoints"]["good"] for it in d["items"]) <= d["keypoints"]["good"]
    # the command line: same numbers in --json, a clear error for a prediction with fewer entries
    out = tmp_path / "a.json"
    assert main(["analyze", "--gt", str(gt), "--pred", str(pred), "--task", "multi", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["per_joint"] == d["per_joint"]
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"annolist": json.loads(pred.read_text())["annolist"][:-1]}))
    capsys.readouterr()
    assert main(["analyze", "--gt", str(gt), "--pred", str(short), "--task", "multi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prt: error:") and "short.json" in err and "entries" in err and "fix:" in err
