"""Run under ``torchrun --nproc_per_node N`` by tests/test_distributed.py: every rank evaluates its shard of
each case (the cases and shards in a JSON spec the test writes), gathers the evaluators' states over gloo
(``poseval_refine.distributed.gather``) and writes its results to ``OUT/rank<R>.json``.

    torchrun --nproc_per_node 2 tests/support/ddp_evaluate.py SPEC.json OUT [torchmetrics]

With ``torchmetrics``, each case goes through the ``poseval_refine.integrations.torchmetrics`` class of its
task instead (its own DDP sync); the results then also hold the headline ``compute`` returned, and whether the
metric holds only the rank's own items again after it (torchmetrics' unsync).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch.distributed as dist

import poseval_refine as prt
from poseval_refine.distributed import gather


def shard_parts(case: dict, shard: list) -> list:
    """The update() arguments of one rank's shard of a case (one part per item, as a sampler yields them)."""
    kind = case["kind"]
    if kind == "sequences":  # {file name: path}
        return [{name: Path(case["pred"]) / name} for name in shard]
    if kind == "coco":  # the result dicts of one image
        results = json.loads(Path(case["pred"]).read_text())
        return [[r for r in results if r["image_id"] == img] for img in shard]
    if kind == "people":  # (indices, rows) of an N x 16 x 2 prediction array
        from poseval_refine.formats.mpii import load_arrays

        pred = np.asarray(load_arrays(Path(case["pred"]))["preds"])
        return [(np.asarray(idx), pred[np.asarray(idx)]) for idx in shard]
    raise ValueError(kind)


def with_torchmetrics(case: dict, rank: int) -> dict:
    from poseval_refine.integrations import torchmetrics as tm

    cls = {"coco": tm.KeypointAP, "pose": tm.PoseTrackMAP, "tracking": tm.PoseTrackMOTA, "single": tm.PCKh,
           "hota": tm.KeypointHOTA}[case["task"]]
    metric = cls(case["gt"], **case.get("options", {}))
    own = None
    for part in shard_parts(case, case["shards"][rank]):
        metric.update(part)
        own = metric.evaluator.state()
    headline = {k: float(v) for k, v in metric.compute().items()}
    back = metric.evaluator.state()
    return {**metric.result.to_dict(), "torchmetrics_headline": headline,
            "own_items_after": sorted(map(str, back["items"])) == sorted(map(str, own["items"]))}


def main(spec_path: str, out: str, mode: str = "gather") -> int:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    spec = json.loads(Path(spec_path).read_text())
    results = {}
    for name, case in spec.items():
        if mode == "torchmetrics":
            results[name] = with_torchmetrics(case, rank)
            continue
        ev = prt.Evaluator(case["gt"], task=case["task"], **case.get("options", {}))
        for part in shard_parts(case, case["shards"][rank]):
            ev.update(part)
        gather(ev)
        results[name] = ev.compute().to_dict()
    Path(out, f"rank{rank}.json").write_text(json.dumps(results))
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
