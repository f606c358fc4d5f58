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


def test_gather_over_two_ranks_equals_one_process(cases, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(cases))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(prt.__file__).parents[1]), os.environ.get(
        "PYTHONPATH", "")]), OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--standalone", str(SCRIPT), str(spec), str(tmp_path)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for name, case in cases.items():
        one = prt.evaluate(Path(case["gt"]), Path(case["pred"]), task=case["task"]).to_dict()
        for r, got in enumerate(ranks):
            mine = got[name]
            if name in ("coco", "single"):  # the file's name vs the in-memory predictions' label
                one = {k: v for k, v in one.items() if k not in ("pred", "entries")}
                mine = {k: v for k, v in mine.items() if k not in ("pred", "entries")}
            assert mine == json.loads(json.dumps(one)), (name, r)


def test_gather_without_a_process_group_is_the_evaluator_itself(cases):
    from poseval_refine.distributed import gather

    case = cases["tracking"]
    ev = prt.Evaluator(case["gt"], task="tracking")
    assert gather(ev) is ev
