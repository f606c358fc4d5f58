"""CrowdPose / AI Challenger / COCO-WholeBody protocols: hand-computed cases of each way xtcocotools differs from
pycocotools, the protocol picked from the GT's layout, the clear errors, and the boards (no xtcocotools needed;
tests/test_xtcocotools.py compares with xtcocotools itself)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from poseval_refine import evaluate
from poseval_refine.cli import main
from poseval_refine.errors import ConfigError, InputError
from poseval_refine.evaluators import get_task

from .support.xtcocobuild import benchmark

FIELDS = (("keypoints", 17), ("foot_kpts", 6), ("face_kpts", 68), ("lefthand_kpts", 21), ("righthand_kpts", 21))


def _person(n: int, x0: float = 10.0, v: int = 2) -> list:
    return [c for j in range(n) for c in (x0 + 7.0 * j, 20.0 + 3.0 * j, v)]


def crowdpose_gt(ids=(1,), crowd_index=0.1, categories=1, nkp=None) -> dict:
    anns = [{"id": i, "image_id": 5, "category_id": 1, "keypoints": _person(14, 10.0 + 200 * k), "iscrowd": 0,
             "num_keypoints": 14 if nkp is None else nkp, "bbox": [10.0 + 200 * k, 20.0, 100.0, 60.0]}
            for k, i in enumerate(ids)]
    cats = [{"id": 1, "name": "person", "keypoints": [f"j{i}" for i in range(14)]}]
    cats += [{"id": 2 + c, "name": f"other{c}"} for c in range(categories - 1)]
    return {"images": [{"id": 5, "file_name": "5.jpg", "crowdIndex": crowd_index}], "annotations": anns,
            "categories": cats}


def perfect(n_people: int = 1, n: int = 14, v: float = 0.9) -> list:
    return [{"image_id": 5, "category_id": 1, "keypoints": _person(n, 10.0 + 200 * k, v), "score": 0.9 - 0.1 * k}
            for k in range(n_people)]


def test_crowdpose_split_mean_averages_the_minus_one_of_categories_without_gt():
    """xtcocotools' AP_easy = round(mean(precision[:, :, :, 0, :]), 4): with a second category (no GT, -1
    everywhere) a perfect easy image gives (1 + -1) / 2 = 0; the corrected protocol gives its AP, 1."""
    for cats, easy in ((1, 1.0), (2, 0.0), (3, round((1 - 2) / 3, 4))):
        d = evaluate(crowdpose_gt(categories=cats), perfect(), task="coco").to_dict()
        # precision tp / (tp + fp + eps): one ulp below 1
        assert d["protocol"] == "crowdpose" and d["AP"] == pytest.approx(1, abs=1e-15) and d["AP_easy"] == easy
        assert d["AP_medium"] == -1 and d["AP_hard"] == -1  # no image in the split
        c = evaluate(crowdpose_gt(categories=cats), perfect(), task="coco", protocol="crowdpose-corrected").to_dict()
        assert c["AP_easy"] == d["AP"] and c["AP_medium"] == -1
    # rounded to 4 decimals by default, not by the corrected protocol
    gt = crowdpose_gt(ids=(1, 2, 3))
    dets = perfect(2) + [{"image_id": 5, "category_id": 1, "keypoints": _person(14, 700.0), "score": 0.95}]
    quirk = evaluate(gt, dets, task="coco").to_dict()
    fixed = evaluate(gt, dets, task="coco", protocol="crowdpose-corrected").to_dict()
    assert quirk["AP_easy"] == round(fixed["AP_easy"], 4) != fixed["AP_easy"]
    assert fixed["AP_easy"] == quirk["AP"]  # the only image is easy: its AP is the AP


def test_crowd_index_boundaries():
    """easy < 0.2 <= medium < 0.8 <= hard"""
    for ci, split in ((0.1999, "easy"), (0.2, "medium"), (0.7999, "medium"), (0.8, "hard")):
        d = evaluate(crowdpose_gt(crowd_index=ci), perfect(), task="coco").to_dict()
        assert d[f"AP_{split}"] == 1.0 and [d[f"AP_{s}"] for s in ("easy", "medium", "hard")].count(-1) == 2


def test_annotation_id_zero_and_negative_ids():
    """xtcocotools' match arrays start at -1: id 0 matches (pycocotools cannot: prt refuses it there); a
    negative id is taken by the detection but counted as no match (a false positive)."""
    assert evaluate(crowdpose_gt(ids=(0,)), perfect(), task="coco").to_dict()["AP"] == pytest.approx(1, abs=1e-15)
    d = evaluate(crowdpose_gt(ids=(-3,)), perfect(), task="coco").to_dict()
    assert d["AP"] == 0.0 and d["AR"] == 0.0
    # two people, ids -3 and 4, two perfect detections: one TP (rank 2) after one FP: precision 1/2 at recall 1/2
    d = evaluate(crowdpose_gt(ids=(-3, 4)), perfect(2), task="coco", protocol="aic", sigmas="crowdpose").to_dict()
    assert d["AP50"] == pytest.approx(51 * 0.5 / 101) and d["AR50"] == 0.5
    coco = crowdpose_gt(ids=(0,))
    for a in coco["annotations"]:
        a["area"] = 6000.0
    with pytest.raises(InputError, match="id 0"):
        evaluate(coco, perfect(), task="coco", protocol="coco", sigmas="crowdpose")


def test_num_keypoints_for_crowdpose_visible_flags_for_aic():
    """CrowdPose ignores a person whose num_keypoints (v = 2 only) is 0; AI Challenger looks at the v flags."""
    gt = crowdpose_gt(nkp=0)
    assert evaluate(gt, perfect(), task="coco").to_dict()["AP"] == -1  # ignored: no GT left
    assert evaluate(gt, perfect(), task="coco", protocol="aic", sigmas="crowdpose").to_dict()["AP"] > 0.99


def test_detections_without_a_visible_keypoint_are_dropped():
    """A top-scored detection with every v = 0 would be a false positive before the TP; xtcocotools drops it."""
    gt = crowdpose_gt()
    dets = perfect() + [{"image_id": 5, "category_id": 1, "keypoints": _person(14, 500.0, 0), "score": 1.0}]
    d = evaluate(gt, dets, task="coco").to_dict()
    assert d["AP"] > 0.99 and d["counts"]["detections_without_visible_keypoints"] == 1
    dets[-1]["keypoints"][2] = 0.1  # one visible joint: kept, a false positive ranked first
    assert evaluate(gt, dets, task="coco").to_dict()["AP50"] == 0.5  # recall 1 reached at precision 1/2


def test_use_area_false_scales_by_the_box():
    """OKS scale bbox w * h * 0.53; the area ranges too (100 x 60 x 0.53 = 3180: medium)."""
    gt = crowdpose_gt()
    dets = perfect()
    dets[0]["keypoints"][0] += 8.0  # one joint 8 px off: e = 64 / (2 * 0.079)**2 / (3180 + eps) / 2
    d = evaluate(gt, dets, task="coco", protocol="aic", sigmas="crowdpose").to_dict()
    s = np.float32(0.079)
    var = float(np.float32((s * 2) ** 2))
    oks = (np.exp(-64.0 / var / (3180.0 + np.spacing(1)) / 2) + 13) / 14
    thr = np.linspace(0.5, 0.95, 10)
    assert d["AP"] == pytest.approx(np.mean(oks >= thr)) and d["APm"] == d["AP"] and d["APl"] == -1


def wholebody_gt() -> dict:
    ann = {"id": 1, "image_id": 5, "category_id": 1, "iscrowd": 0, "area": 5000.0, "bbox": [10.0, 20.0, 90.0, 60.0],
           "num_keypoints": 17}
    at = 0
    for field, k in FIELDS:
        ann[field] = _person(k)[:]
        at += k
    ann["face_kpts"] = [0.0] * (68 * 3)  # no face labeled: ignored for the face part
    return {"images": [{"id": 5, "file_name": "5.jpg"}], "annotations": [ann],
            "categories": [{"id": 1, "name": "person", "keypoints": [f"j{i}" for i in range(17)]}]}


def wholebody_det(**scores) -> dict:
    d = {"image_id": 5, "category_id": 1, "score": 0.9, **scores}
    for field, k in FIELDS:
        d[field] = _person(k, v=0.8)
    return d


def test_wholebody_parts_headline_and_score_note(tmp_path, capsys):
    g = tmp_path / "wb.json"
    g.write_text(json.dumps(wholebody_gt()))
    r = tmp_path / "res.json"
    r.write_text(json.dumps([wholebody_det()]))
    out = tmp_path / "out.json"
    assert main(["evaluate", "--gt", str(g), "--pred", str(r), "--json", str(out)]) == 0
    err = capsys.readouterr().err
    assert "the annotations of wb.json carry foot_kpts, so --protocol wholebody" in err
    assert err.count("'score' ranks them") == 1  # one note, not one per detection
    d = json.loads(out.read_text())
    assert {p: round(d[p]["AP"], 12) for p in ("body", "foot", "face", "lefthand", "righthand", "wholebody")} == \
        {"body": 1.0, "foot": 1.0, "face": -1.0, "lefthand": 1.0, "righthand": 1.0, "wholebody": 1.0}
    assert d["AP"] == d["wholebody"]["AP"] and set(d["foot"]) == {"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50",
                                                                   "AR75", "ARm", "ARl"}
    # a part score ranks that part: a second, wrong detection ranked first only by its foot_score
    wrong = wholebody_det(foot_score=1.0)
    wrong["foot_kpts"] = _person(6, 400.0, 0.8)
    both = [wholebody_det(foot_score=0.5), wrong]
    res = evaluate(wholebody_gt(), both, task="coco").to_dict()
    assert res["foot"]["AP50"] == 0.5  # the wrong feet first
    assert res["body"]["AP50"] == pytest.approx(1, abs=1e-15)  # tied 'score': the right one first (file order)
    assert res["wholebody"]["AP50"] == pytest.approx(1, abs=1e-15)  # wrong feet, still OKS > 0.5; ranked second


def test_protocol_from_the_gt_and_errors(tmp_path, capsys):
    g = tmp_path / "crowd.json"
    g.write_text(json.dumps(crowdpose_gt()))
    r = tmp_path / "res.json"
    r.write_text(json.dumps(perfect()))
    assert main(["evaluate", "--gt", str(g), "--pred", str(r)]) == 0
    cap = capsys.readouterr()
    assert "--task coco" in cap.err and "the images of crowd.json carry crowdIndex, so --protocol crowdpose" in cap.err
    assert "type=  easy" in cap.out
    assert main(["evaluate", "--gt", str(g), "--pred", str(r), "--engine", "pycocotools"]) == 2
    assert "--engine pycocotools cannot compute --protocol crowdpose" in capsys.readouterr().err
    # CrowdPose's GT has no area: under COCO's protocol that is one error pointing at the protocols
    assert main(["evaluate", "--gt", str(g), "--pred", str(r), "--protocol", "coco", "--sigmas", "crowdpose"]) == 2
    assert "has no 'area'" in (err := capsys.readouterr().err) and "--protocol crowdpose or aic" in err
    bad = crowdpose_gt()
    del bad["images"][0]["crowdIndex"]
    with pytest.raises(InputError, match=r"images\[0\] \(id 5\) has no 'crowdIndex'"):
        evaluate(bad, perfect(), task="coco", protocol="crowdpose")
    other = crowdpose_gt(categories=2)
    other["annotations"].append(dict(other["annotations"][0], id=9, category_id=2))
    with pytest.raises(InputError, match="evaluates every category"):
        evaluate(other, perfect(), task="coco")
    nameless = crowdpose_gt(categories=2)
    nameless["categories"][1]["id"] = None
    with pytest.raises(InputError, match=r"categories\[1\] has no integer"):
        evaluate(nameless, perfect(), task="coco")
    huge = crowdpose_gt()
    huge["annotations"][0]["bbox"] = [1e308, 1e308, 1e308, 1e308]  # overflows to inf, as in xtcocotools: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert evaluate(huge, perfect(), task="coco").to_dict()["AP"] == -1  # area inf: outside every range
    det = wholebody_det()
    del det["foot_kpts"]
    with pytest.raises(InputError, match=r"results\[0\] has no 'foot_kpts'"):
        evaluate(wholebody_gt(), [det], task="coco")
    with pytest.raises(ConfigError, match="--protocol corrected does not apply to --task coco"):
        evaluate(wholebody_gt(), [wholebody_det()], task="coco", protocol="corrected")


def test_boards_and_resampling():
    """Each protocol ranks on its own board; resampling with every image drawn once gives the headline."""
    task = get_task("coco")
    crowd = evaluate(crowdpose_gt(ids=(1, 2, 3), categories=2), perfect(2), task="coco").to_dict()
    wb = evaluate(wholebody_gt(), [wholebody_det()], task="coco").to_dict()
    aic = evaluate(crowdpose_gt(), perfect(), task="coco", protocol="aic").to_dict()
    assert task.board_protocol(crowd) == "protocol crowdpose"
    assert task.board_protocol(wb) == "protocol wholebody"
    assert task.board_protocol(aic) == "protocol aic"
    for d in (crowd, wb, aic):
        head = task.headline(d)
        again = task.resample(d, np.ones((1, len(d["items"])), dtype=np.int64))
        for k, v in again.items():
            assert v[0] == head[k] or (np.isnan(v[0]) and np.isnan(head[k])), k
    assert task.headline(crowd)["AP_easy"] == 100 * crowd["AP_easy"] < 100 * crowd["AP"]
    assert task.headline(wb)["AP"] == pytest.approx(100) and np.isnan(task.headline(wb)["face AP"])


def test_docs_page_examples_print_what_the_page_shows():
    """Every ``console`` block of docs/crowdpose.md, run from the repository root, prints (stderr then stdout)
    exactly the lines shown."""
    import os
    import re
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "crowdpose.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```console\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) == 3
    for block in blocks:
        rows = block.splitlines()
        assert rows[0].startswith("$ prt ")
        args = shlex.split(rows[0][2:])[1:]
        r = subprocess.run([sys.executable, "-m", "poseval_refine.cli", *args], cwd=root, capture_output=True,
                           text=True, timeout=600, env={**os.environ, "COLUMNS": "120"})
        assert r.returncode == 0, r.stderr
        assert [row.rstrip() for row in (r.stderr + r.stdout).splitlines()] == [row.rstrip() for row in rows[1:]]


def test_convert_crowdpose_and_aic_results(tmp_path, capsys):
    """CrowdPose results through PoseTrack 2018 and AI Challenger's order and back: the same nine numbers."""
    from pathlib import Path

    examples = Path(__file__).resolve().parent.parent / "docs" / "examples" / "crowdpose"
    pred = examples / "pred.json"
    steps = [("crowdpose-results", "posetrack2018", pred, tmp_path / "pt18.json"),
             ("posetrack2018", "aic-results", tmp_path / "pt18.json", tmp_path / "aic.json"),
             ("aic-results", "crowdpose-results", tmp_path / "aic.json", tmp_path / "back.json")]
    for src, dst, a, b in steps:
        assert main(["convert", "--from", src, "--to", dst, str(a), str(b)]) == 0
    before = evaluate(examples / "gt.json", pred, task="coco").to_dict()
    after = evaluate(examples / "gt.json", tmp_path / "back.json", task="coco").to_dict()
    assert [before[k] for k in ("AP", "AR", "AP_medium", "AP_hard")] == [after[k] for k in ("AP", "AR", "AP_medium",
                                                                                             "AP_hard")]
    aic = json.loads((tmp_path / "aic.json").read_text())
    orig = json.loads(pred.read_text())
    assert aic[0]["keypoints"][:3] == orig[0]["keypoints"][3:6]  # AIC starts with the right shoulder
    capsys.readouterr()
    assert main(["convert", "--to", "posetrack2018", str(pred), str(tmp_path / "x.json")]) == 2
    assert "--from crowdpose-results or --from aic-results" in capsys.readouterr().err


def test_evaluator_in_batches_equals_one_evaluation():
    """The Python API's streaming Evaluator (GT dict in memory, results in batches) gives evaluate()'s numbers."""
    from poseval_refine import Evaluator

    for layout in ("crowdpose", "wholebody", "aic"):
        gt, res = benchmark(layout, 401, 6)
        kw = {"protocol": "aic"} if layout == "aic" else {}
        whole = evaluate(gt, res, task="coco", **kw).to_dict()
        ev = Evaluator(gt, task="coco", **kw)
        for i in range(0, len(res), 7):
            ev.update(res[i:i + 7])
        parts = ev.compute().to_dict()
        assert parts["protocol"] == layout
        for k, v in whole.items():
            if k not in ("gt", "pred"):
                assert parts[k] == v, (layout, k)


@pytest.mark.parametrize("layout", ["crowdpose", "wholebody", "aic"])
def test_subset_and_merged_states_under_the_protocols(layout):
    """Result.subset equals evaluating only those images (CrowdPose's crowdIndex split included), and the
    states of Evaluators over shards of the images merge into the one evaluation."""
    import pickle

    from poseval_refine import Evaluator

    gt, res = benchmark(layout, 501, 12)
    full = evaluate(gt, res, task="coco", protocol=layout)
    chosen = list(full.items)[::2]
    keep = set(chosen)
    only_gt = dict(gt, images=[im for im in gt["images"] if im["id"] in keep],
                   annotations=[a for a in gt["annotations"] if a["image_id"] in keep])
    alone = evaluate(only_gt, [r for r in res if r["image_id"] in keep], task="coco", protocol=layout).to_dict()
    assert full.subset(chosen).to_dict() == alone
    images = sorted({r["image_id"] for r in res})
    states = []
    for shard in (images[::2], images[1::2]):
        ev = Evaluator(gt, task="coco", protocol=layout)
        for img in shard:
            ev.update([r for r in res if r["image_id"] == img])
        states.append(pickle.loads(pickle.dumps(ev.state())))
    merged = Evaluator(gt, task="coco", protocol=layout).merge(states[::-1]).compute().to_dict()
    assert merged == full.to_dict()
