"""PoseTrack JSON, 2017 (``annolist``) and 2018 (COCO-like) layouts, GT and predictions.

One JSON file per sequence; a folder holds a benchmark. Reading keeps every record as read
(``frame_extras``/``person_extras`` hold the source dicts) so that writing back in the same
layout changes only what prt owns (:mod:`.writers`).

Conventions, as poseval reads these files (docs/protocol.md §1.2), are in :mod:`.reader_2017` and
:mod:`.reader_2018`. Odd inputs poseval accepts are read its way (docs/protocol.md §1.10), so numbers
stay poseval's:
- a score ``null``/NaN stays NaN (``score_null``; poseval's sort ranks it first), a score
  given as a numeric string is that number (numpy's conversion), a missing score stays NaN
  (the evaluator gives it poseval's -9999);
- a non-finite coordinate (JSON NaN/Infinity) makes a joint that is present but never within
  any distance (stored as +inf; only evaluation reads, ``records=False``, accept it).
What poseval crashes on (strings as coordinates, track ids or head boxes, true/false where a
number belongs, track ids that cannot be stored, polygons of one or two points, ...) is one
:class:`InputError` naming the file, frame, person and field.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError
from ...io import load_json
from .. import Format, register
from .fields import FMT17, FMT18, layout_of
from .listing import sequence_files
from .reader import (
    is_posetrack_data,
    prepare_reads,
    read_posetrack,
    read_posetrack_data,
    read_sequence,
    read_sequence_data,
)
from .writers import to_2017, to_2018, write_posetrack, write_sequence

__all__ = ["FMT17", "FMT18", "prepare_reads", "read_posetrack", "read_sequence", "read_sequence_data",
           "sequence_files", "to_2017",
           "to_2018", "write_posetrack", "write_sequence"]


def _sniff(layout: str):
    def sniff(path: Path) -> bool:
        try:
            first = sequence_files(path)[0]
        except InputError:
            return False
        if first.suffix.lower() != ".json":
            return False
        try:
            return layout_of(load_json(first), first) == layout
        except InputError:
            return False
    return sniff


def _gt_task(path: Path) -> tuple[str, str] | None:
    """A PoseTrack folder or file is a tracking benchmark; an annolist without frame numbers, labeled flags or
    track ids is MPII's multi-person GT, and COCO keypoint annotations share the 2018 layout's keys."""
    if path.is_dir():
        return "tracking", "a folder of PoseTrack sequence files"
    data = load_json(path)
    if layout_of(data, path) == FMT17:
        if is_posetrack17(data["annolist"]):
            return "tracking", "a PoseTrack 2017 annolist file"
        return "multi", "an MPII multi-person annolist (no frame numbers, labeled flags or track ids)"
    from ..coco import is_coco_keypoints_gt

    if is_coco_keypoints_gt(data):
        return "coco", "COCO keypoint annotations"
    return "tracking", "a PoseTrack 2018 file"


def is_posetrack17(annolist) -> bool:
    """A PoseTrack 2017 sequence, not an MPII multi-person annolist: frames numbered or flagged as labeled,
    or people with track ids."""
    if not isinstance(annolist, list):
        return False
    frames = [e for e in annolist if isinstance(e, dict)]
    if any("imgnum" in e or "is_labeled" in e for e in frames):
        return True
    rects = (r for e in frames for r in (e.get("annorect") if isinstance(e.get("annorect"), list) else []))
    return any(isinstance(r, dict) and "track_id" in r for r in rects)


register(Format(FMT17, "PoseTrack 2017 annolist JSON, one file per sequence (GT or predictions)",
                read=lambda p, **kw: read_posetrack(p),
                write=lambda poses, p, **kw: write_posetrack(poses, p, FMT17, **kw),
                sniff=_sniff(FMT17), aliases=("posetrack17", "pt17", "annolist"), gt_task=_gt_task,
                read_data=read_posetrack_data, sniff_data=lambda d: is_posetrack_data(d, FMT17)))
register(Format(FMT18, "PoseTrack 2018 COCO-like JSON, one file per sequence (GT or predictions)",
                read=lambda p, **kw: read_posetrack(p),
                write=lambda poses, p, **kw: write_posetrack(poses, p, FMT18, **kw),
                sniff=_sniff(FMT18), aliases=("posetrack18", "pt18"), gt_task=_gt_task,
                read_data=read_posetrack_data, sniff_data=lambda d: is_posetrack_data(d, FMT18)))
