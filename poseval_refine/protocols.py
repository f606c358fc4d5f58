"""Benchmark protocols: the conventions a task evaluates under, each official quirk a named field.

The official kits have quirks (docs/protocol.md §1.9, §2.2). prt reproduces them by default and names
each one, so an "official" and a "corrected" run (or the MATLAB kit and a Python port) differ by
configuration, not by scattered code paths. A protocol is a frozen dataclass whose fields are the
quirks; every protocol of every task is in :data:`PROTOCOLS`, by the family of tasks that reads it:

- ``posetrack`` (tasks ``pose`` and ``tracking``, ``--protocol``): ``official`` is poseval,
  ``corrected`` fixes its quirks, ``posetrack21`` (``pose``) is the PoseTrack21 kit's mAP;
- ``mpii-single`` (task ``single``, ``--flavour``): ``matlab`` is the MPII MATLAB kit, ``hrnet``,
  ``mmpose`` and ``bearpaw`` the conventions of the Python ports papers report numbers from;
- ``hota`` (task ``hota``, ``--protocol``): ``official`` is the PoseTrack21 kit, ``corrected`` fixes
  its quirks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .errors import ConfigError
from .metrics.mota import MOTP_MODES  # the MOTP definitions: defined once, where MOTP is computed

__all__ = ["MOTP_MODES", "PROTOCOLS", "get_protocol", "pckh_protocol", "posetrack_protocol", "protocol_names"]

#: PoseTrack reporting groups over PoseTrack-2017 joint ids (poseval ``getCum``)
POSETRACK_GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("Head", (14, 12, 13)),
    ("Shou", (8, 9)),
    ("Elb", (7, 10)),
    ("Wri", (6, 11)),
    ("Hip", (2, 3)),
    ("Knee", (1, 4)),
    ("Ankl", (0, 5)),
)


@dataclass(frozen=True)
class PoseTrackProtocol:
    """Switches for the poseval semantics; field names say which quirk they control."""

    name: str = "official"
    #: quirk 6: a joint with no predictions at all gets AP 0 and counts in the Total
    #: (False: AP is NaN when the joint has neither predictions nor GT)
    ap_zero_without_predictions: bool = True
    #: quirk 7: the tracking evaluation ignores the last labeled frame of every sequence
    drop_last_labeled_frame: bool = True
    #: quirk 8: a frame with no GT or no predictions counts, for every joint, one dummy object,
    #: one miss and one false positive (False: the real people count, issue #5's proposal)
    dummy_empty_frames: bool = True
    #: quirk 10: what MOTP's distance sum holds (which motmetrics version poseval ran with)
    motp: str = "poseval-mm1.2+"
    #: a predicted joint whose score is null/NaN ranks first in AP, where poseval's reversed
    #: ascending sort puts NaN (False: it ranks last, below every score)
    nan_scores_first: bool = True
    #: sequences are concatenated in the order the file system lists the GT folder, as poseval's
    #: glob; with tied scores this order decides AP ("sorted": by file name, the same on every machine)
    sequence_order: str = "filesystem"
    #: AP sorts scores with numpy's default (unstable) sort, reversed, as poseval: ties fall where
    #: numpy puts them (False: a stable descending sort, ties keep the concatenation order)
    numpy_tie_order: bool = True
    #: a joint is a hit when its distance is <= threshold head sizes
    threshold: float = 0.5
    #: poseval rejects predicted track ids >= this value
    max_track_id: int = 10000
    #: whose evaluation: "poseval", or "posetrack21" (the PoseTrack21 kit's mAP, docs/posetrack21.md; the
    #: fields above do not apply to it)
    kit: str = "poseval"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PCKhProtocol:
    """MPII single-person PCKh conventions: the MATLAB kit's, or a Python port's (docs/protocol.md §2.2)."""

    name: str
    description: str
    #: hit test d < t instead of d <= t
    strict: bool = False
    #: MPII ids whose mean is the Head column
    head_joints: tuple[int, ...] = (8, 9)
    #: "pooled": Total = hits / annotated over the 14 joints; "mean": unweighted mean of the 14 values
    total: str = "pooled"
    thresholds: np.ndarray = field(default_factory=lambda: np.linspace(0.0, 0.5, 51))
    #: index into ``thresholds`` that the protocol reports as "@0.1"
    at_01_index: int = 10
    #: compute distances in float32 (mmpose)
    float32: bool = False


@dataclass(frozen=True)
class HotaProtocol:
    """The PoseTrack21 kit's keypoint HOTA conventions (docs/posetrack21.md)."""

    name: str = "official"
    #: similarity max(0, 1 - d / 0.5001), 0 beyond half a head size (False: max(0, 1 - d))
    clip_similarity: bool = True
    #: a labeled frame with GT but no predictions adds the whole sequence's GT joints as misses
    #: (False: that frame's own)
    whole_sequence_empty_frames: bool = True
    #: a labeled frame without GT people is an error, as the kit fails on it (False: its predicted
    #: joints are false positives)
    empty_labeled_frame_is_error: bool = True


OFFICIAL = PoseTrackProtocol()
CORRECTED = PoseTrackProtocol(
    name="corrected",
    ap_zero_without_predictions=False,
    drop_last_labeled_frame=False,
    dummy_empty_frames=False,
    motp="clear",
    nan_scores_first=False,
    sequence_order="sorted",
    numpy_tie_order=False,
)
#: --task pose --protocol posetrack21: the PoseTrack21 kit's mAP (its own semantics: docs/posetrack21.md)
POSETRACK21 = PoseTrackProtocol(name="posetrack21", kit="posetrack21", ap_zero_without_predictions=True,
                                sequence_order="sorted")

#: every protocol, by the family of tasks that reads it, then by name; the official one first
PROTOCOLS: dict[str, dict[str, PoseTrackProtocol | PCKhProtocol | HotaProtocol]] = {
    "posetrack": {p.name: p for p in (OFFICIAL, CORRECTED, POSETRACK21)},
    "mpii-single": {p.name: p for p in (
        PCKhProtocol("matlab", "the official MPII MATLAB kit (default)"),
        PCKhProtocol("hrnet", "HRNet / Simple Baselines MPIIDataset.evaluate: Head = head top; 'Mean@0.1' reads "
                     "t = 0.11", head_joints=(9,), thresholds=np.arange(0, 0.51, 0.01), at_01_index=11),
        PCKhProtocol("mmpose", "mmpose MpiiPCKAccuracy: strict '<', Head = head top, float32 distances",
                     strict=True, head_joints=(9,), thresholds=np.arange(0, 0.51, 0.01), float32=True),
        PCKhProtocol("bearpaw", "bearpaw/pytorch-pose eval_PCKh.py: strict '<', Head = head top, unweighted mean, "
                     "50 thresholds", strict=True, head_joints=(9,), total="mean",
                     thresholds=np.arange(0, 0.5, 0.01)),
    )},
    "hota": {p.name: p for p in (
        HotaProtocol(),
        HotaProtocol("corrected", clip_similarity=False, whole_sequence_empty_frames=False,
                     empty_labeled_frame_is_error=False),
    )},
}


def protocol_names(family: str) -> tuple[str, ...]:
    """The names of a family's protocols, the official one first (the choices of its option)."""
    return tuple(PROTOCOLS[family])


def get_protocol(family: str, name: str):
    """A protocol by name, or a ConfigError listing the family's protocols."""
    known = PROTOCOLS[family]
    if name not in known:
        raise ConfigError(f"unknown protocol {name!r}", fix=f"use one of: {', '.join(known)}")
    return known[name]


def posetrack_protocol(name: str = "official", motp: str | None = None) -> PoseTrackProtocol:
    proto = get_protocol("posetrack", name)
    if motp is not None:
        if motp not in MOTP_MODES:
            raise ConfigError(f"unknown MOTP mode {motp!r}", fix=f"use one of: {', '.join(MOTP_MODES)}")
        proto = replace(proto, motp=motp)
    return proto


def pckh_protocol(name: str = "matlab") -> PCKhProtocol:
    return get_protocol("mpii-single", name)
