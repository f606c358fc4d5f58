"""Typed results: one frozen dataclass per family of tasks, behind ``poseval_refine.Result.payload``.

A result travels as JSON data (what ``--json`` writes, what the results store keeps and the leaderboard
ranks); a payload is the same result with its numbers as typed fields, so code that reads results (an error
analyzer, a benchmark server) names ``payload.ap_joint`` rather than ``data["ap_joint"]``. Every payload has
the family-independent part (:class:`Payload`): the task, its board protocol label, the headline numbers,
the per-joint breakdown of the primary metric, the per-item statistics with the items' keys, and
``render``/``to_dict``/``resample``, which are the task's own (``to_dict()`` is the JSON data unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Number = float | None


@dataclass(frozen=True)
class Payload:
    """What every result has, whatever its task."""

    task: str
    #: the conventions it was computed under, as a leaderboard board names them ("official", "protocol X")
    protocol: str
    #: the numbers of a leaderboard row (percent; NaN where undefined), the primary metric first
    headline: dict[str, float]
    #: the primary metric per joint (joints without a value left out)
    per_joint: dict[str, float]
    #: the per-item additive statistics (JSON data, one per item, in the GT's order): the bootstrap's items
    item_stats: tuple = field(repr=False)
    #: the JSON data (``to_dict``)
    data: dict = field(repr=False)

    @classmethod
    def fields_of(cls, data: dict) -> dict[str, Any]:
        """The family's own typed fields from the JSON data."""
        return {}

    @classmethod
    def from_data(cls, task, data: dict) -> Payload:
        headline = {k: float("nan") if v is None else float(v) for k, v in task.headline(data).items()} \
            if task.headline is not None else {}
        if task.primary in headline:
            headline = {task.primary: headline[task.primary], **headline}
        per_joint = task.per_joint(data) if task.per_joint is not None else {}
        return cls(task=task.name, protocol=task.board_protocol(data), headline=headline, per_joint=per_joint,
                   item_stats=tuple(data.get("items") or ()), data=data, **cls.fields_of(data))

    def _task(self):
        from . import get_task

        return get_task(self.task)

    def render(self) -> str:
        """The official kit's text table."""
        return self._task().render(self.data)

    def to_dict(self) -> dict:
        """The JSON data (what ``--json`` writes)."""
        return self.data

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The headline for R weightings of the items (R x n draws); an all-ones row gives ``headline``."""
        return self._task().resample(self.data, weights)


def _floats(values) -> tuple[Number, ...]:
    return tuple(None if v is None else float(v) for v in values)


@dataclass(frozen=True)
class PoseTrackPayload(Payload):
    """``pose`` and ``tracking`` (poseval): AP per joint and group; tracking adds MOTA, MOTP, precision, recall."""

    sequences: tuple[str, ...] = ()
    ap_joint: tuple[Number, ...] = ()
    ap_groups: tuple[Number, ...] = ()
    mota_joint: tuple[Number, ...] | None = None
    mota_groups: tuple[Number, ...] | None = None
    motp_total: Number = None
    precision_total: Number = None
    recall_total: Number = None

    @classmethod
    def fields_of(cls, data: dict) -> dict[str, Any]:
        out = {"sequences": tuple(data.get("per_sequence", ())), "ap_joint": _floats(data["ap_joint"]),
               "ap_groups": _floats(data["ap_groups"])}
        if "mota_joint" in data:
            out.update(mota_joint=_floats(data["mota_joint"]), mota_groups=_floats(data["mota_groups"]),
                       motp_total=data.get("motp_total"), precision_total=data.get("pre_total"),
                       recall_total=data.get("rec_total"))
        return out


@dataclass(frozen=True)
class PoseTrack21MapPayload(Payload):
    """``pose21`` (the PoseTrack21 kit's mAP): AP, precision and recall per joint and group."""

    sequences: tuple[str, ...] = ()
    joints: tuple[str, ...] = ()
    ap_joint: tuple[Number, ...] = ()
    ap_groups: tuple[Number, ...] = ()
    precision_groups: tuple[Number, ...] = ()
    recall_groups: tuple[Number, ...] = ()

    @classmethod
    def fields_of(cls, data: dict) -> dict[str, Any]:
        return {"sequences": tuple(data.get("per_sequence", ())), "joints": tuple(data["joint_names"]),
                "ap_joint": _floats(data["ap_joint"]), "ap_groups": _floats(data["ap_groups"]),
                "precision_groups": _floats(data["precision_groups"]), "recall_groups": _floats(data["recall_groups"])}


@dataclass(frozen=True)
class HotaPayload(Payload):
    """``hota`` (the PoseTrack21 kit): every field per joint and Total, averaged over alpha."""

    sequences: tuple[str, ...] = ()
    #: field (HOTA, DetA, AssA, LocA, ...) -> {joint or "Total": value}
    fields: dict[str, dict[str, float]] = field(default_factory=dict)
    alphas: tuple[float, ...] = ()

    @classmethod
    def fields_of(cls, data: dict) -> dict[str, Any]:
        columns = set(data["joints"])
        return {"sequences": tuple(data.get("per_sequence", ())), "alphas": tuple(data["alphas"]),
                "fields": {k: dict(v) for k, v in data.items() if isinstance(v, dict) and set(v) == columns}}


@dataclass(frozen=True)
class CocoPayload(Payload):
    """``coco`` (pycocotools' COCOeval, keypoints): the ten AP/AR numbers as COCOeval gives them (0-1, -1 when
    undefined), the counts and the engine."""

    stats: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    engine: str = "prt"
    sigmas: str = "coco"

    @classmethod
    def fields_of(cls, data: dict) -> dict[str, Any]:
        from ..metrics.coco import STAT_NAMES

        return {"stats": {k: float(data[k]) for k in STAT_NAMES}, "counts": dict(data["counts"]),
                "engine": data.get("engine", "pycocotools"), "sigmas": data.get("sigmas", "coco")}


@dataclass(frozen=True)
class SinglePayload(Payload):
    """``single`` (MPII PCKh): the table's columns, AUC, per joint, the curve, and the protocol (flavour)."""

    flavour: str = "matlab"
    people: int = 0
    pckh: dict[str, float] = field(default_factory=dict)
    auc: Number = None
    pckh_joint: tuple[Number, ...] = ()

    @classmethod
    def fields_of(cls, data: dict) -> dict[str, Any]:
        one = len(data.get("entries", ())) == 1
        return {"flavour": data["flavour"], "people": int(data["people"]),
                "pckh": dict(data["pckh"]) if one else {}, "auc": data.get("auc") if one else None,
                "pckh_joint": _floats(data["pckh_joint"]) if one else ()}


@dataclass(frozen=True)
class MultiPayload(Payload):
    """``multi`` (the MPII multi-person kit): AP per joint and group."""

    ap: dict[str, float] = field(default_factory=dict)
    ap_joint: tuple[Number, ...] = ()

    @classmethod
    def fields_of(cls, data: dict) -> dict[str, Any]:
        return {"ap": dict(data["ap"]), "ap_joint": _floats(data["ap_joint"])}


@dataclass(frozen=True)
class PairedPCKhPayload(Payload):
    """``pckh`` (poseval's evaluatePCKh): PCKh@0.5 Total, per group and per joint."""

    pckh_total: Number = None
    pckh_groups: tuple[Number, ...] = ()
    pckh_joint: tuple[Number, ...] = ()

    @classmethod
    def fields_of(cls, data: dict) -> dict[str, Any]:
        return {"pckh_total": data["pckh_total"], "pckh_groups": _floats(data["pckh_groups"]),
                "pckh_joint": _floats(data["pckh_joint"])}


def payload_of(task, data: dict) -> Payload:
    """The typed payload of a result's JSON data: its task's ``payload_class`` (the generic :class:`Payload`
    for a task without one)."""
    return (task.payload_class or Payload).from_data(task, data)
