"""prt's COCO keypoint engine against pycocotools' COCOeval, to the bit.

Random benchmarks built to stress the matching (people crowded together so that detections
compete for them, duplicate GT people and duplicate detections: OKS ties, scores rounded: score
ties, crowd regions with and without keypoints, people without keypoints, areas on the area-range
boundaries, images without GT or without detections, more than 20 detections in an image, boxes
in the results or not, integer coordinates) are evaluated by pycocotools itself (the reference:
``COCOeval.ious``, ``evalImgs`` and ``stats``) and by prt's engine; every OKS, every per-image
outcome and the ten numbers must be equal, not close.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from poseval_refine.evaluators.coco import evaluate_coco
from poseval_refine.metrics.coco import evaluate_images
from poseval_refine.metrics.oks import SIGMA_SETS

from .support.cocobuild import COCO_NAMES, TEMPLATE, make_benchmark, write_json

NAMES = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


def crowded_benchmark(seed: int, n_images: int = 30, n_joints: int = 17, bbox: bool = False,
                      integer: bool = False):
    """GT and results made to stress pycocotools' matching (see the module docstring)."""
    rng = np.random.default_rng(seed)
    template = TEMPLATE if n_joints == 17 else rng.uniform(0, 1, (n_joints, 2))
    images, anns, results = [], [], []
    ann_id = 1
    for img in range(1, n_images + 1):
        images.append({"id": img * 7, "file_name": f"{img}.jpg"})
        n_people = int(rng.choice([0, 1, 2, 4, 8]))
        people = []
        for _ in range(n_people):
            kind = rng.random()
            height = float(rng.choice([30.0, 50.0, 100.0, 200.0]))
            cx, top = float(rng.uniform(0, 120)), float(rng.uniform(0, 80))  # a small scene: people overlap
            xy = template * height + [cx, top] + rng.normal(0, 0.02 * height, (n_joints, 2))
            if integer:
                xy = np.round(xy)
            v = rng.choice([0, 1, 2], size=n_joints, p=[0.3, 0.2, 0.5])
            if kind < 0.1:
                v[:] = 0
            area = float(rng.choice([32.0 ** 2, 96.0 ** 2, height * height * 0.5, rng.uniform(0, 20000)]))
            nkp = int((v > 0).sum())
            if kind > 0.95:
                nkp = 0  # annotated joints but num_keypoints 0: ignored, OKS from its joints
            elif 0.9 < kind <= 0.95:
                nkp = max(nkp, 3)  # no visible joints but num_keypoints > 0: not ignored, OKS from its box
                v[:] = 0
            crowd = int(rng.random() < 0.1)
            kp = np.column_stack([np.where(v > 0, xy[:, 0], 0), np.where(v > 0, xy[:, 1], 0), v])
            x0, y0 = xy.min(0)
            box = [float(x0), float(y0), float(np.ptp(xy[:, 0]) + 1), float(np.ptp(xy[:, 1]) + 1)]
            ann = {"id": ann_id, "image_id": img * 7, "category_id": 1, "iscrowd": crowd,
                   "keypoints": [int(c) if integer or i % 3 == 2 else float(c) for i, c in enumerate(kp.ravel())],
                   "num_keypoints": 0 if crowd and rng.random() < 0.5 else nkp, "area": area, "bbox": box}
            anns.append(ann)
            if rng.random() < 0.1:  # the same person annotated twice: OKS ties between GT people
                ann_id += 1
                anns.append(dict(ann, id=ann_id))
            ann_id += 1
            people.append(xy)
        if img % 6 == 5:
            continue  # GT, no detections
        n_det = int(rng.choice([0, 1, 3, 6, 25]))
        for _ in range(n_det):
            if people and rng.random() < 0.8:
                xy = people[int(rng.integers(len(people)))]
                d = xy + rng.normal(0, float(rng.choice([0.5, 2.0, 6.0])), xy.shape)
            else:
                d = template * 80 + rng.uniform(0, 120, 2)
            if integer:
                d = np.round(d)
            conf = np.round(rng.uniform(0, 1, n_joints), 2)
            kp = np.column_stack([d, conf])
            kp[rng.random(n_joints) < 0.05] = 0
            r = {"image_id": img * 7, "category_id": 1,
                 "keypoints": [int(c) if integer and i % 3 < 2 else float(c) for i, c in enumerate(kp.ravel())],
                 "score": float(np.round(rng.uniform(0, 1), 1))}  # ties within and across images
            if bbox:
                r["bbox"] = [float(d[:, 0].min()), float(d[:, 1].min()), float(np.ptp(d[:, 0])),
                             float(np.ptp(d[:, 1]))]
            results.append(r)
            if rng.random() < 0.05:
                results.append(dict(r))  # a duplicate detection
    if not results:
        results.append({"image_id": 7, "category_id": 1, "keypoints": [1.0] * (3 * n_joints), "score": 0.5})
    names = COCO_NAMES if n_joints == 17 else [f"j{i}" for i in range(n_joints)]
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": 1, "name": "person", "keypoints": names, "skeleton": []}]}
    return gt, results


def pycocotools_eval(gt: dict, results: list, sigmas=None):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(json.dumps(gt))
        coco.createIndex()
        dt = coco.loadRes(json.loads(json.dumps(results)))
        ev = COCOeval(coco, dt, "keypoints")
        if sigmas is not None:
            ev.params.kpt_oks_sigmas = np.array(sigmas)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def _prt_oks(tmp_path, gt, results, sigmas=SIGMA_SETS["coco"]):
    """prt's OKS of every (detection, GT) pair, keyed like ``COCOeval.ious`` (image id, 1-based result id,
    annotation id)."""
    from poseval_refine.evaluators.coco import people_by_image, read_predictions
    from poseval_refine.formats.coco import read_coco_annotations

    g_file, r_file = write_json(tmp_path / "g.json", gt), write_json(tmp_path / "r.json", results)
    ann = read_coco_annotations(g_file, n_joints=len(sigmas))
    res, _, _ = read_predictions(r_file, ann, len(sigmas))
    g, d = people_by_image(ann, res)
    _, (pd, pg, oks) = evaluate_images(g, d, sigmas, with_oks=True)
    # rows of g/d are grouped by image: back to annotation ids and result numbers
    order_g = np.argsort(ann.image, kind="stable")
    index = {v: i for i, v in enumerate(ann.image_ids)}
    img = np.array([index[v] for v in res.image_id])
    order_d = np.argsort(img, kind="stable")
    return {(ann.image_ids[img[order_d[a]]], int(order_d[a]) + 1, int(ann.ids[order_g[b]])): v
            for a, b, v in zip(pd.tolist(), pg.tolist(), oks.tolist())}


def _compare(tmp_path, gt, results, sigmas=None):
    ev = pycocotools_eval(gt, results, sigmas)
    # OKS: every pair pycocotools computed, to the bit
    ours = _prt_oks(tmp_path, gt, results, SIGMA_SETS["coco"] if sigmas is None else np.array(sigmas))
    dts = {d["id"]: d for d in ev.cocoDt.dataset["annotations"]}
    n_pairs = 0
    for (img, _cat), m in ev.ious.items():
        if len(m) == 0:
            continue
        dt = sorted(ev._dts[img, 1], key=lambda d: -d["score"])[:20]  # Python's sort is stable too
        for i, d in enumerate(dt):
            for j, g in enumerate(ev._gts[img, 1]):
                assert ours[img, d["id"], g["id"]] == m[i, j], (img, d["id"], g["id"])
                n_pairs += 1
    assert n_pairs == len(ours)
    assert len(dts) == len(results)
    # per-image outcomes and the ten numbers, through the task
    g_file, r_file = tmp_path / "g.json", tmp_path / "r.json"
    spec = "coco" if sigmas is None else ",".join(repr(float(s)) for s in sigmas)
    ref = evaluate_coco(g_file, [r_file], engine="pycocotools", sigmas=spec)
    got = evaluate_coco(g_file, [r_file], engine="prt", sigmas=spec)
    assert got["items"] == ref["items"]
    assert got["counts"] == ref["counts"]
    for k, v in zip(NAMES, ev.stats):
        assert got[k] == float(v) and ref[k] == float(v), k
    return ev


@pytest.mark.parametrize("seed", range(12))
def test_crowded_benchmarks_equal_pycocotools_bit_for_bit(tmp_path, seed):
    gt, results = crowded_benchmark(seed, bbox=seed % 3 == 1, integer=seed % 4 == 3)
    ev = _compare(tmp_path, gt, results)
    if seed == 0:  # the generator reaches what it is meant to
        e = [x for x in ev.evalImgs if x is not None]
        assert any(len(x["dtScores"]) == 20 for x in e)  # more than 20 detections, cut to 20
        assert any(np.asarray(x["dtIgnore"]).any() for x in e) and any(np.asarray(x["dtMatches"]).any() for x in e)
        assert {i for i, s in enumerate(ev.stats) if s == -1} == set()  # every area range has people


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_cocobuild_benchmarks_equal_pycocotools_bit_for_bit(tmp_path, seed):
    gt, results = make_benchmark(seed, n_images=60, bbox=seed == 1)
    _compare(tmp_path, gt, results)


@pytest.mark.parametrize("spec", ["crowdpose", "list"])
def test_custom_sigmas_equal_pycocotools_with_its_sigmas_overwritten(tmp_path, spec):
    if spec == "crowdpose":
        sigmas = SIGMA_SETS["crowdpose"].tolist()
    else:
        sigmas = [0.05, 0.031, 0.12, 0.07, 0.02]
    gt, results = crowded_benchmark(3, n_joints=len(sigmas))
    _compare(tmp_path, gt, results, sigmas)


def test_sigmas_change_the_numbers_and_must_fit_the_gt(tmp_path, capsys):
    from poseval_refine.cli import main

    gt, results = make_benchmark(4, n_images=20)
    g, r = write_json(tmp_path / "g.json", gt), write_json(tmp_path / "r.json", results)
    coco = evaluate_coco(g, [r])
    wide = evaluate_coco(g, [r], sigmas=",".join(["0.2"] * 17))
    assert wide["AP"] > coco["AP"]  # larger sigmas: more lenient OKS
    ref = pycocotools_eval(gt, results, [0.2] * 17)
    assert wide["AP"] == float(ref.stats[0])
    code = main(["evaluate", "--gt", str(g), "--pred", str(r), "--task", "coco", "--sigmas", "crowdpose"])
    err = capsys.readouterr().err
    assert code == 2 and "names 17 keypoints; the OKS sigmas are for 14" in err
    code = main(["evaluate", "--gt", str(g), "--pred", str(r), "--task", "coco", "--sigmas", "0.1,x"])
    err = capsys.readouterr().err
    assert code == 2 and "neither a named set" in err
    code = main(["evaluate", "--gt", str(g), "--pred", str(r), "--task", "tracking", "--engine", "pycocotools"])
    assert code == 2 and "--engine does not apply" in capsys.readouterr().err


def test_gt_without_keypoint_names_and_other_joint_count(tmp_path):
    """The joint count then comes from the keypoint lists: a GT of 17 under 14 sigmas is an error naming it."""
    gt, results = make_benchmark(4, n_images=5)
    gt["categories"] = [{k: v for k, v in gt["categories"][0].items() if k != "keypoints"}]
    g, r = write_json(tmp_path / "g.json", gt), write_json(tmp_path / "r.json", results)
    from poseval_refine.errors import InputError

    with pytest.raises(InputError, match=r"annotations\[0\].*51 keypoint values, expected 42"):
        evaluate_coco(g, [r], sigmas="crowdpose")


def test_comparison_sees_one_bit(tmp_path, monkeypatch):
    """The comparison can fail: OKS one ulp lower (np.nextafter towards 0) is caught."""
    import poseval_refine.metrics.coco as mc

    gt, results = crowded_benchmark(1)
    real = mc.oks_pairs
    monkeypatch.setattr(mc, "oks_pairs", lambda *a: np.nextafter(real(*a), 0))
    with pytest.raises(AssertionError):
        _compare(tmp_path, gt, results)


def test_default_engine_imports_neither_pycocotools_nor_scipy(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    gt, results = make_benchmark(2, n_images=8)
    g, r = write_json(tmp_path / "g.json", gt), write_json(tmp_path / "r.json", results)
    code = ("import sys; from poseval_refine.cli import main; "
            f"assert main(['evaluate', '--gt', {str(g)!r}, '--pred', {str(r)!r}, '--task', 'coco', '-q']) == 0; "
            "bad = [m for m in ('pycocotools', 'scipy', 'torch', 'pandas') if m in sys.modules]; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr


def test_gt_values_pycocotools_would_get_wrong_are_errors(tmp_path, capsys):
    """NaN keypoints (Python's json writes them) and image ids mixing numbers and strings."""
    from poseval_refine.cli import main

    gt, results = make_benchmark(2, n_images=6)
    r = write_json(tmp_path / "r.json", results)
    bad = json.loads(json.dumps(gt))
    bad["annotations"][2]["keypoints"][4] = float("nan")
    (tmp_path / "g.json").write_text(json.dumps(bad))  # NaN, as Python's json writes it
    assert main(["evaluate", "--gt", str(tmp_path / "g.json"), "--pred", str(r), "--task", "coco"]) == 2
    err = capsys.readouterr().err
    assert "annotations[2]" in err and "not a finite number" in err
    bad = json.loads(json.dumps(gt))
    bad["images"][0]["id"] = "first"
    write_json(tmp_path / "g.json", bad)
    assert main(["evaluate", "--gt", str(tmp_path / "g.json"), "--pred", str(r), "--task", "coco"]) == 2
    assert "mixes integer and string image ids" in capsys.readouterr().err


def test_string_image_ids_equal_pycocotools_bit_for_bit(tmp_path):
    """Image ids as strings: pycocotools sorts them as strings, and so must the engine's image order."""
    gt, results = crowded_benchmark(5)
    name = {im["id"]: f"img{im['id'] % 97:02d}-{im['id']}" for im in gt["images"]}  # string order != numeric
    for im in gt["images"]:
        im["id"] = name[im["id"]]
    for a in gt["annotations"]:
        a["image_id"] = name[a["image_id"]]
    for r in results:
        r["image_id"] = name[r["image_id"]]
    _compare(tmp_path, gt, results)


def test_results_pycocotools_would_not_read_as_keypoints_are_errors(tmp_path, capsys):
    """A first result with a segmentation and no box sends pycocotools down its mask branch."""
    from poseval_refine.cli import main

    gt, results = make_benchmark(2, n_images=6)
    results[0] = dict(results[0], segmentation=[[0, 0, 10, 0, 10, 10]])
    g, r = write_json(tmp_path / "g.json", gt), write_json(tmp_path / "r.json", results)
    assert main(["evaluate", "--gt", str(g), "--pred", str(r), "--task", "coco"]) == 2
    err = capsys.readouterr().err
    assert "results[0]" in err and "'segmentation'" in err


def test_area_range_boundaries_follow_pycocotools(tmp_path):
    """pycocotools' rule on the area-range boundaries (32² and 96²), pinned for GT and detections: a range
    [lo, hi] holds both ends (``area < lo or area > hi`` is outside), so a GT person of area exactly 32² or
    96² counts in "medium" (and 96² in "large" too), and an unmatched detection of that area is a false
    positive there, not ignored. pycocotools runs here; changing either ``<`` of ``evaluate_images`` to
    ``<=`` changes the per-image outcomes and APm/APl."""
    xs = np.arange(17) / 16
    ys = ((np.arange(17) * 5) % 17) / 16  # both span exactly [0, 1]: a pose of side s has extent s x s

    def pose(side, x0, y0, v=None):
        kp = np.column_stack([xs * side + x0, ys * side + y0, np.full(17, 2 if v is None else v)])
        return [float(c) for c in kp.ravel()]

    small, large = 32.0, 96.0
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "keypoints": pose(small, 50, 50),
             "num_keypoints": 17, "area": small ** 2, "bbox": [50.0, 50.0, small, small]},
            {"id": 2, "image_id": 2, "category_id": 1, "iscrowd": 0, "keypoints": pose(large, 50, 50),
             "num_keypoints": 17, "area": large ** 2, "bbox": [50.0, 50.0, large, large]}]
    gt = {"images": [{"id": 1, "file_name": "1.jpg"}, {"id": 2, "file_name": "2.jpg"}], "annotations": anns,
          "categories": [{"id": 1, "name": "person", "keypoints": COCO_NAMES, "skeleton": []}]}
    results = [  # areas from the joints' extent, as pycocotools' loadRes computes them: 32² and 96² exactly
        {"image_id": 1, "category_id": 1, "keypoints": pose(small, 50, 50, 0.9), "score": 0.9},  # finds GT 1
        {"image_id": 1, "category_id": 1, "keypoints": pose(small, 300, 300, 0.9), "score": 0.95},  # nobody
        {"image_id": 1, "category_id": 1, "keypoints": pose(large, 400, 50, 0.9), "score": 0.8},  # nobody
        {"image_id": 2, "category_id": 1, "keypoints": pose(large, 50, 50, 0.9), "score": 0.7},  # finds GT 2
    ]
    ev = _compare(tmp_path, gt, results)
    assert [d["area"] for d in ev.cocoDt.dataset["annotations"]] == [small ** 2, small ** 2, large ** 2, large ** 2]
    # pycocotools' own per-image outcomes (area ranges all, small, medium, large), read rather than assumed
    by = {(e["aRng"][0], e["image_id"]): e for e in ev.evalImgs if e is not None}
    medium, large_rng = 32 ** 2, 96 ** 2
    assert list(by[medium, 1]["gtIgnore"]) == [0] and list(by[medium, 2]["gtIgnore"]) == [0]
    assert list(by[large_rng, 2]["gtIgnore"]) == [0]
    assert not np.asarray(by[medium, 1]["dtIgnore"]).any()  # the unmatched 32² and 96² detections count
    in_large = np.asarray(by[large_rng, 1]["dtIgnore"])[:, list(by[large_rng, 1]["dtIds"]).index(3)]
    assert not in_large.any()  # the unmatched 96² detection (result 3) counts in "large" too
    assert ev.stats[3] < 1 and ev.stats[4] < 1  # APm and APl pay for those false positives
