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

ORDERS = ("coco", "posetrack")


def read_detect_and_track(path: str | Path, image_names: list[str] | None = None,
                          to_posetrack: bool = True, order: str = "coco") -> PoseSet:
    path = Path(path)
    if order not in ORDERS:
        raise InputError(f"unknown keypoint order {order!r}", file=path, fix=f"use one of {', '.join(ORDERS)}")
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh, encoding="latin1")
    except FileNotFoundError:
        raise InputError("not found", file=path) from None
    except Exception as e:
        raise InputError(f"is not a readable pickle ({type(e).__name__})", file=path,
                         fix="give Detect-and-Track's detections_withTracks.pkl") from None
    if not isinstance(data, dict) or "all_keyps" not in data:
        raise InputError("has no 'all_keyps'", file=path, fix="give Detect-and-Track's detections_withTracks.pkl")
    keyps = data["all_keyps"][1]
    tracks = data.get("all_tracks", [None, [None] * len(keyps)])[1]
    boxes = data.get("all_boxes", [None, [None] * len(keyps)])[1]
    frames, kps, tids, pscores, tops = [], [], [], [], []
    for f, people in enumerate(keyps):
        t = tracks[f] if tracks is not None and f < len(tracks) else None
        b = boxes[f] if boxes is not None and f < len(boxes) else None
        for p, arr in enumerate(people if people is not None else []):
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != (4, 17):
                raise InputError(f"keypoints have shape {a.shape}, expected 4 x 17", file=path, frame=f, person=p)
            frames.append(f)
            kps.append(np.column_stack([a[0], a[1], a[3]]))
            tops.append((a[0, 2], a[1, 2], a[3, 2]))
            tids.append(int(np.asarray(t).ravel()[p]) if t is not None and len(np.asarray(t).ravel()) > p else -1)
            pscores.append(float(np.asarray(b)[p, 4]) if b is not None and len(b) > p else np.nan)
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


def _sniff(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in (".pkl", ".pickle")


register(Format("detect-and-track", "Detect-and-Track detections_withTracks.pkl (read; neck and head top synthesized)",
                read=lambda p, **kw: read_detect_and_track(p, order=kw.get("order", "coco")),
                sniff=_sniff, aliases=("detectandtrack",)))
