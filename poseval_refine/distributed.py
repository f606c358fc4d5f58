"""Evaluation across ``torch.distributed`` ranks (torchrun, DDP): every rank evaluates its shard of the items,
``gather`` all-gathers the evaluators' states and merges them, so every rank computes the numbers of one
process that saw everything, bit for bit.

    ev = poseval_refine.Evaluator(gt, task="coco")
    for batch in loader:                    # this rank's shard (a DistributedSampler pads it with repeats)
        ev.update(predictions_of(batch))
    poseval_refine.distributed.gather(ev)   # every rank: every rank's items (a repeated item counts once)
    ev.compute().headline["AP"]             # the same on every rank

It works because a session's state is its per-item additive statistics (``Session.state``): merging the
states of any partition of the items gives the statistics of the whole, and the result is a pure function
of them combined in the GT's order. The states travel as pickled objects (``all_gather_object``).

Tested with the ``gloo`` backend on CPU (``tests/test_distributed.py``, under ``torchrun --nproc_per_node
2``). With ``nccl`` the same code runs, but ``all_gather_object`` needs each rank's current CUDA device set
(``torch.cuda.set_device(local_rank)``) and moves the pickled bytes through the GPU: written the same way,
NOT tested here (no GPU on the machine that wrote it).
"""

from __future__ import annotations

from typing import Any


def gather(evaluator: Any, group: Any = None) -> Any:
    """Merge into ``evaluator`` (a ``poseval_refine.Evaluator`` or an evaluators ``Session``) the states of the
    same evaluator on every other rank of ``group`` (default: the whole world); returns it. Without an
    initialized process group (one process) it returns the evaluator as it is. Every rank must call it."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return evaluator
    states: list = [None] * dist.get_world_size(group)
    dist.all_gather_object(states, evaluator.state(), group=group)
    me = dist.get_rank(group)
    evaluator.merge([s for rank, s in enumerate(states) if rank != me])
    return evaluator
