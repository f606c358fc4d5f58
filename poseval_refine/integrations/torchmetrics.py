"""torchmetrics ``Metric`` classes for prt's tasks (extra ``torchmetrics``): COCO keypoint AP, PoseTrack mAP
and MOTA, MPII PCKh and PoseTrack21 keypoint HOTA, with the official kits' numbers.

    metric = KeypointAP("person_keypoints_val2017.json")      # the GT read and checked once
    for images, targets in loader:                             # this rank's shard under DDP
        metric.update(result_dicts_of(model(images)))          # COCO result dicts of the batch
    metric.compute()["AP"]                                     # every rank: the numbers of the whole set
    metric.result.render()                                     # the official table (a poseval_refine.Result)

``update`` takes what ``poseval_refine.Evaluator.update`` takes (COCO result dicts, ``{sequence file name:
parsed JSON}``, ``(person indices, N x 16 x 2 array)``); ``compute`` returns the headline numbers as float64
tensors (percent) and keeps the full :class:`~poseval_refine.Result` in ``metric.result``. Under DDP the
metric syncs through the same per-item states as ``poseval_refine.distributed.gather`` (all-gathered
objects, merged: a sampler's padding repeats count once), so every rank computes the numbers of one process
that saw every item, bit for bit; after ``compute`` each rank holds its own items again (torchmetrics'
unsync). NCCL: as ``poseval_refine.distributed`` (written the same way, not tested here).
"""

from __future__ import annotations

from typing import Any

from ..optional import require

require("torchmetrics", "poseval_refine.integrations.torchmetrics")

import torch  # noqa: E402
from torchmetrics import Metric  # noqa: E402

from ..api import Evaluator, Result  # noqa: E402

__all__ = ["PoseMetric", "KeypointAP", "PoseTrackMAP", "PoseTrackMOTA", "PCKh", "KeypointHOTA"]


class PoseMetric(Metric):
    """A prt task as a torchmetrics ``Metric``; ``task`` and ``options`` are ``poseval_refine.Evaluator``'s,
    ``metric_kwargs`` torchmetrics' (``process_group``, ``sync_on_compute``, ...)."""

    task: str = ""
    full_state_update = False
    higher_is_better = True

    def __init__(self, gt: Any, task: str | None = None, metric_kwargs: dict | None = None, **options: Any):
        super().__init__(**(metric_kwargs or {}))
        self.evaluator = Evaluator(gt, task=task or self.task or None, **options)
        #: the full result of the last ``compute``
        self.result: Result | None = None
        self._local = None

    def update(self, part: Any) -> None:
        self.evaluator.update(part)

    def compute(self) -> dict[str, torch.Tensor]:
        self.result = self.evaluator.compute()
        return {k: torch.tensor(v, dtype=torch.float64) for k, v in self.result.headline.items()}

    def reset(self) -> None:
        super().reset()
        self.evaluator.reset()

    def _sync_dist(self, dist_sync_fn=None, process_group=None) -> None:
        """The ranks' per-item states all-gathered and merged (not torchmetrics' tensor states: there are none)."""
        from ..distributed import gather

        self._local = self.evaluator.state()
        gather(self.evaluator, process_group or self.process_group)

    def unsync(self, should_unsync: bool = True) -> None:
        """Back to this rank's own items after a synced ``compute``."""
        was_synced = self._is_synced
        super().unsync(should_unsync)
        if was_synced and should_unsync and self._local is not None:
            self.evaluator.reset()
            self.evaluator.merge([self._local])
            self._local = None


class KeypointAP(PoseMetric):
    """COCO keypoint AP/AR (pycocotools' COCOeval numbers; ``task="coco"``); updates: lists of result dicts."""

    task = "coco"


class PoseTrackMAP(PoseMetric):
    """PoseTrack per-frame multi-person mAP (poseval; ``task="pose"``); updates: ``{sequence file: JSON}``."""

    task = "pose"


class PoseTrackMOTA(PoseMetric):
    """PoseTrack MOTA, MOTP, precision, recall and mAP (poseval; ``task="tracking"``)."""

    task = "tracking"


class PCKh(PoseMetric):
    """MPII single-person PCKh@0.5 and AUC (the MATLAB kit; ``task="single"``); updates: ``(indices, array)``."""

    task = "single"


class KeypointHOTA(PoseMetric):
    """PoseTrack21 keypoint HOTA (the PoseTrack21 kit; ``task="hota"``)."""

    task = "hota"
