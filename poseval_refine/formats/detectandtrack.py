"""Detect-and-Track output: ``detections_withTracks.pkl`` (a Python-2 pickle).

``all_keyps[1][i]`` holds, for frame i, one 4 x 17 array per person (x, y, logit, prob) in COCO
order, ``all_tracks[1][i]`` their track ids and ``all_boxes[1][i]`` N x 5 boxes. The conversion
to PoseTrack-15 synthesizes the neck (shoulder midpoint) and the head top (the shoulder midpoint
reflected about the nose, 2 * nose - neck), as the paper's conversion of Detect-and-Track did; it
is recorded in meta.

Detect-and-Track's own ``lib/core/mpii_eval_engine.py`` reads models trained on PoseTrack with a
different source order (``nose, head_bottom, head_top, ears, ...``: rows 1 and 2 are head bottom
and head top instead of the eyes) and then takes the head top as predicted; ``order="posetrack"``
reproduces that (neck is still the shoulder midpoint). Scores are the probability row (row 3);
the released converter thresholds and scores on row 2 (the logit) by its config, which is not
reproduced here.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..poses import PoseSequence, PoseSet
from ..skeletons import COCO17, POSETRACK15
from . import Format, register
from ._synthesize import synthesize_neck_head_top
from ._values import integer, is_empty, kind_of, numeric_array, quiet_load

ORDERS = ("coco", "posetrack")


def read_detect_and_track(path: str | Path, image_names: list[str] | None = None,
                          to_posetrack: bool = True, order: str = "coco") -> PoseSet:
    path = Path(path)
    if order not in ORDERS:
        raise InputError(f"unknown keypoint order {order!r}", file=path, fix=f"use one of {', '.join(ORDERS)}")
    data = _load_pickle(path)
    keyps = _class_list(data, "all_keyps", path, required=True)
    tracks = _class_list(data, "all_tracks", path)
    boxes = _class_list(data, "all_boxes", path)
    frames, kps, tids, pscores, tops = [], [], [], [], []
    for f, people in enumerate(keyps):
        people = _people(people, path, f, "all_keyps")
        t = _frame_values(tracks, f, len(people), path, "all_tracks")
        b = _frame_values(boxes, f, len(people), path, "all_boxes")
        for p, arr in enumerate(people):
            a = numeric_array(arr, what="the keypoints", file=path, frame=f, person=p, field="all_keyps",
                              fix="give each person's keypoints as a 4 x 17 array (x, y, logit, prob)")
            if a.shape != (4, 17):
                raise InputError(f"keypoints have shape {a.shape}, expected 4 x 17", file=path, frame=f, person=p,
                                 field="all_keyps", fix="give each person's keypoints as a 4 x 17 array "
                                                        "(x, y, logit, prob) in COCO order")
            frames.append(f)
            kps.append(np.column_stack([a[0], a[1], a[3]]))
            tops.append((a[0, 2], a[1, 2], a[3, 2]))
            tids.append(-1 if t is None else integer(t[p], what="the track id", file=path, frame=f, person=p,
                                                     field="all_tracks", fix="give integer track ids"))
            pscores.append(np.nan if b is None else _box_score(b[p], path, f, p))
    names = image_names or [f"{i:06d}" for i in range(len(keyps))]
    seq = PoseSequence(name=path.stem, skeleton=COCO17, image_names=list(names), person_frame=np.array(frames, int),
                       keypoints=np.array(kps).reshape(-1, 17, 3), track_id=np.array(tids, np.int64),
                       person_score=np.array(pscores),
                       meta={"source": {"path": str(path), "format": "detect-and-track", "order": order},
                             "conversions": []})
    if to_posetrack:
        seq = seq.to_skeleton(POSETRACK15)
        if order == "posetrack" and tops:
            kp = seq.keypoints.copy()
            kp[:, POSETRACK15.index("head_top")] = np.array(tops, dtype=np.float64)
            seq = seq.with_keypoints(kp)
            seq.meta = dict(seq.meta, conversions=list(seq.meta.get("conversions", []))
                            + ["head_top taken from row 2 (PoseTrack source order)"])
        seq = synthesize_neck_head_top(seq)
    return PoseSet({seq.name: seq.validate()}, format="detect-and-track", root=str(path))


_FIX = "give Detect-and-Track's detections_withTracks.pkl"


def _load_pickle(path: Path) -> dict:
    try:
        with open(path, "rb") as fh, quiet_load(path):
            data = pickle.load(fh, encoding="latin1")
    except FileNotFoundError:
        raise InputError("not found", file=path, fix="check the path") from None
    except Exception as e:  # a damaged pickle raises nearly any exception type
        raise InputError(f"is not a readable pickle ({type(e).__name__})", file=path, fix=_FIX) from None
    if not isinstance(data, dict) or "all_keyps" not in data:
        raise InputError("has no 'all_keyps'", file=path, field="all_keyps", fix=_FIX)
    return data


def _class_list(data: dict, key: str, path: Path, required: bool = False) -> list | None:
    """``data[key][1]``: the per-frame list of the person class (index 0 is the background class)."""
    v = data.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, (list, tuple)) or len(v) < 2 or not isinstance(v[1], (list, tuple, np.ndarray)):
        raise InputError(f"'{key}' is {kind_of(v)}; expected one per-frame list per class, the people at index 1",
                         file=path, field=key, fix=_FIX)
    return list(v[1])


def _people(v, path: Path, f: int, key: str) -> list:
    if is_empty(v):
        return []
    if isinstance(v, np.ndarray) and v.dtype.kind in "fiu" and v.ndim == 3:
        return list(v)
    if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.dtype.kind == "O"):
        return list(v)
    raise InputError(f"frame entry is {kind_of(v)}, expected a list of 4 x 17 arrays", file=path, frame=f, field=key,
                     fix=_FIX)


def _frame_values(per_frame: list | None, f: int, n: int, path: Path, key: str):
    """Track ids or boxes of frame ``f``: one row per person (None when the file has none)."""
    if per_frame is None or f >= len(per_frame) or is_empty(per_frame[f]):
        if n and per_frame is not None:
            raise InputError(f"has no '{key}' for the {n} people of this frame", file=path, frame=f, field=key,
                             fix=f"give one '{key}' entry per person")
        return None
    v = per_frame[f]
    rows = list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]
    if len(rows) != n:
        raise InputError(f"'{key}' has {len(rows)} entries for {n} people", file=path, frame=f, field=key,
                         fix=f"give one '{key}' entry per person of all_keyps")
    return rows


def _box_score(row, path: Path, f: int, p: int) -> float:
    a = numeric_array(row, what="the box", file=path, frame=f, person=p, field="all_boxes",
                      fix="give boxes as x1, y1, x2, y2, score").reshape(-1)
    if a.size != 5:
        raise InputError(f"box has {a.size} values, expected 5 (x1, y1, x2, y2, score)", file=path, frame=f,
                         person=p, field="all_boxes", fix="give boxes as x1, y1, x2, y2, score")
    return float(a[4])


def _sniff(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in (".pkl", ".pickle")


register(Format("detect-and-track", "Detect-and-Track detections_withTracks.pkl (read; neck and head top synthesized)",
                read=lambda p, **kw: read_detect_and_track(p, order=kw.get("order", "coco")),
                sniff=_sniff, aliases=("detectandtrack",)))
