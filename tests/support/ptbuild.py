"""Builders for hand-made PoseTrack-2017 test sequences (the template of docs/protocol.md §6.2)."""

from __future__ import annotations

import json
from pathlib import Path

#: joint offsets from the anchor, PoseTrack-2017 ids 0..14
TEMPLATE = [(0, 200), (0, 150), (0, 100), (20, 100), (20, 150), (20, 200), (-30, 90), (-25, 60),
            (-10, 30), (30, 30), (45, 60), (50, 90), (10, 20), (10, 5), (10, -15)]


def person(ax, ay, track=None, score=None, joints=range(15), shift=(0, 0), head=True, scores=None):
    """A rect at anchor (ax, ay): head box 30x40 (head size 30 px, hit radius 15 px)."""
    pts = []
    for j in joints:
        dx, dy = TEMPLATE[j]
        pt = {"id": [j], "x": [ax + dx + shift[0]], "y": [ay + dy + shift[1]]}
        s = scores[j] if scores is not None else score
        if s is not None:
            pt["score"] = [s]
        pts.append(pt)
    rect = {"annopoints": [{"point": pts}]}
    if head:
        rect.update(x1=[ax], y1=[ay - 30], x2=[ax + 30], y2=[ay + 10])
    if track is not None:
        rect["track_id"] = [track]
    return rect


def frame(rects, ignore=None, name="img.jpg"):
    fr = {"image": [{"name": name}], "annorect": list(rects)}
    if ignore:
        fr["ignore_regions"] = [{"point": [{"x": [x], "y": [y]} for x, y in poly]} for poly in ignore]
    return fr


def write_case(root: Path, gt_frames, pred_frames, name="seq.json") -> tuple[Path, Path]:
    (root / "gt").mkdir(parents=True, exist_ok=True)
    (root / "pred").mkdir(parents=True, exist_ok=True)
    (root / "gt" / name).write_text(json.dumps({"annolist": gt_frames}))
    (root / "pred" / name).write_text(json.dumps({"annolist": pred_frames}))
    return root / "gt", root / "pred"


#: PoseTrack-2017 joint ids of the nose and the two joints it is placed between
NOSE, NECK, HEAD_TOP = 13, 12, 14


def add_nose(src: Path, dst: Path) -> int:
    """PoseTrack-2017 predictions with a nose on every person that has a neck and a head top (their midpoint,
    scored as the neck): what a refiner that recovers missing joints adds to a GT without noses (Bonn).
    Writes the files of ``src`` into the new folder ``dst``; returns how many noses were added."""
    dst.mkdir()
    added = 0
    for f in sorted(src.glob("*.json")):
        d = json.loads(f.read_text())
        for frame in d["annolist"]:
            for rect in frame["annorect"]:
                pts = (rect.get("annopoints") or [{}])[0].get("point") or []
                by_id = {p["id"][0]: p for p in pts}
                if NECK in by_id and HEAD_TOP in by_id and NOSE not in by_id:
                    n, h = by_id[NECK], by_id[HEAD_TOP]
                    pts.append({"id": [NOSE], "x": [(n["x"][0] + h["x"][0]) / 2], "y": [(n["y"][0] + h["y"][0]) / 2],
                                "score": n["score"]})
                    added += 1
        (dst / f.name).write_text(json.dumps(d))
    return added
