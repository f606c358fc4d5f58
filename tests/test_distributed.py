"""Evaluation across torch.distributed ranks (``poseval_refine.distributed.gather``): under ``torchrun
--nproc_per_node 2`` on CPU (gloo), each rank holds an uneven shard of the items padded with repeats (as a
DistributedSampler pads), gathers, and computes; every rank's numbers equal one process's, bit for bit, for
COCO, PoseTrack tracking, MPII single and PoseTrack21 HOTA."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import poseval_refine as prt

from .support import cocobuild
from .support.pt21build import CASES as PT21_CASES
from .support.pt21build import write_case

pytest.importorskip("torch")


def _need(module: str) -> None:
    """Skip without ``module`` locally; under CI (which installs the extra) its absence is a failure."""
    if os.environ.get("CI"):
        __import__(module)
    else:
        pytest.importorskip(module)


SEED = 67  # no other test uses it
SCRIPT = Path(__file__).parent / "support" / "ddp_evaluate.py"


def _uneven(items: list) -> list[list]:
    """Rank 0 a third of the items, rank 1 the rest; each padded with repeats (rank 1 of rank 0's items too)."""
    k = max(1, len(items) // 3)
    return [[*items[:k], items[0]], [*items[k:], items[0], items[-1]]]


@pytest.fixture(scope="module")
def cases(tmp_path_factory, shared_data):
    from poseval_refine.formats.posetrack import write_posetrack
    from poseval_refine.synthetic import make_benchmark

    root = tmp_path_factory.mktemp("ddp")
    gt, pred = make_benchmark(7, 10, seed=SEED)
    write_posetrack(gt, root / "pt" / "gt", "posetrack2017")
    write_posetrack(pred, root / "pt" / "pred", "posetrack2018")
    pt21 = write_case(PT21_CASES["switches"], root / "pt21")
    cgt, results = cocobuild.make_benchmark(seed=SEED, n_images=20)
    cocobuild.write_json(root / "coco_gt.json", cgt)
    cocobuild.write_json(root / "coco_res.json", results)
    mpii = shared_data / "mpii_val"
    names = sorted(p.name for p in (root / "pt" / "gt").glob("*.json"))
    names21 = sorted(p.name for p in (pt21 / "gt").glob("*.json"))
    images = sorted({r["image_id"] for r in results})
    people = [list(range(i, min(i + 500, 2958))) for i in range(0, 2958, 500)]  # batches of people
    return {
        "tracking": {"task": "tracking", "kind": "sequences", "gt": str(root / "pt" / "gt"),
                     "pred": str(root / "pt" / "pred"), "shards": _uneven(names)},
        "hota": {"task": "hota", "kind": "sequences", "gt": str(pt21 / "gt"), "pred": str(pt21 / "pred"),
                 "shards": _uneven(names21)},
        "coco": {"task": "coco", "kind": "coco", "gt": str(root / "coco_gt.json"), "pred": str(root / "coco_res.json"),
                 "shards": _uneven(images)},
        "single": {"task": "single", "kind": "people", "gt": str(mpii / "valid.h5"), "pred": str(mpii / "newell.h5"),
                   "shards": _uneven(people)},
    }


def _torchrun(spec: dict, out: Path, *mode: str) -> list[dict]:
    (out / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(prt.__file__).parents[1]), os.environ.get(
        "PYTHONPATH", "")]), OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
                          str(SCRIPT), str(out / "spec.json"), str(out), *mode], capture_output=True, text=True,
                         env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]


def _one_process(case: dict) -> dict:
    one = prt.evaluate(Path(case["gt"]), Path(case["pred"]), task=case["task"]).to_dict()
    return json.loads(json.dumps(one))  # as JSON: NaN as null


def _labels_aside(d: dict) -> dict:
    """Without what names the predictions (their file, or 'pred' for predictions given in memory)."""
    return {k: v for k, v in d.items() if k not in ("pred", "entries", "torchmetrics_headline", "own_items_after")}


def test_gather_over_two_ranks_equals_one_process(cases, tmp_path):
    ranks = _torchrun(cases, tmp_path)
    for name, case in cases.items():
        one = _one_process(case)
        for r, got in enumerate(ranks):
            assert _labels_aside(got[name]) == _labels_aside(one), (name, r)


def test_torchmetrics_classes_over_two_ranks_equal_one_process(cases, tmp_path):
    _need("torchmetrics")
    ranks = _torchrun(cases, tmp_path, "torchmetrics")
    for name, case in cases.items():
        one = _one_process(case)
        for r, got in enumerate(ranks):
            mine = got[name]
            assert _labels_aside(mine) == _labels_aside(one), (name, r)
            headline = prt.evaluate(Path(case["gt"]), Path(case["pred"]), task=case["task"]).headline
            assert json.dumps(mine["torchmetrics_headline"]) == json.dumps(headline), (name, r)  # NaN as NaN
            assert mine["own_items_after"], (name, r)


def test_torchmetrics_coco_equals_pycocotools_on_an_unseen_benchmark(tmp_path):
    """A benchmark no other test uses (seed 71): one process, the metric's numbers against pycocotools'."""
    _need("torchmetrics")
    from poseval_refine.integrations.torchmetrics import KeypointAP

    gt, results = cocobuild.make_benchmark(seed=71, n_images=40)
    official = cocobuild.pycocotools_stats(cocobuild.write_json(tmp_path / "gt.json", gt),
                                           cocobuild.write_json(tmp_path / "res.json", results))
    metric = KeypointAP(gt)
    for i in range(0, len(results), 17):
        metric.update(results[i:i + 17])
    got = metric.compute()
    for k, v in official.items():
        want = float("nan") if v == -1 else 100 * v
        assert abs(float(got[k]) - want) <= 1e-9 or (want != want and got[k] != got[k]), k


def test_gather_without_a_process_group_is_the_evaluator_itself(cases):
    from poseval_refine.distributed import gather

    case = cases["tracking"]
    ev = prt.Evaluator(case["gt"], task="tracking")
    assert gather(ev) is ev
