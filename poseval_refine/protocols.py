"""Benchmark protocols: which joints count, which official quirks apply, which groups a table shows.

The official kits have quirks (docs/protocol.md §1.9). prt reproduces them by default and names each one,
so an "official" and a "corrected" run differ by configuration, not by scattered code paths.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .errors import ConfigError

MOTP_MODES = ("poseval-mm1.2+", "poseval-mm1.1", "clear")

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
    #: one miss and one false positive (False: the real people count, as poseval's issue #5 proposed;
    #: docs/protocol.md §1.7, §5)
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
PROTOCOLS = {p.name: p for p in (OFFICIAL, CORRECTED, POSETRACK21)}


def posetrack_protocol(name: str = "official", motp: str | None = None) -> PoseTrackProtocol:
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r}", fix=f"use one of: {', '.join(PROTOCOLS)}")
    proto = PROTOCOLS[name]
    if motp is not None:
        if motp not in MOTP_MODES:
            raise ConfigError(f"unknown MOTP mode {motp!r}", fix=f"use one of: {', '.join(MOTP_MODES)}")
        proto = replace(proto, motp=motp)
    return proto
