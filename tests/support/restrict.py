"""Inputs for the pckh task's tests: predictions built from a GT (people in the GT's order).

The files restricted to some items, which ``Result.subset`` is compared with, are written by
``poseval_refine.serve.splits`` (``posetrack_people``, ``annolist_entries``): filters of the raw JSON / .mat
variables, no code shared with the evaluators' statistics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson


def jittered_people(src: Path, dst: Path, seed: int, sigma: float = 6.0, drop: float = 0.1) -> Path:
    """PoseTrack predictions of folder ``src``'s GT for task pckh: every GT person, in order, each joint moved
    by Gaussian noise (``sigma`` px), a fraction ``drop`` of the joints left out."""
    dst.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for f in sorted(src.glob("*.json")):
        data = orjson.loads(f.read_bytes())
        if "annolist" in data:
            groups = [g for frame in data["annolist"] for r in frame.get("annorect") or []
                      for g in (r.get("annopoints") or [] if isinstance(r.get("annopoints") or [], list)
                                else [r["annopoints"]])]
            points = [p for g in groups for p in g.get("point") or []]
            noise, kept = rng.normal(0, sigma, (len(points), 2)).tolist(), (rng.random(len(points)) >= drop).tolist()
            i = 0
            for g in groups:
                pts = []
                for p in g.get("point") or []:
                    if kept[i]:
                        x, y = (v[0] if isinstance(v, list) else v for v in (p["x"], p["y"]))
                        pts.append(dict(p, x=[x + noise[i][0]], y=[y + noise[i][1]], score=[0.9]))
                    i += 1
                g["point"] = pts
        else:
            for a in data["annotations"]:
                kp = np.asarray(a.get("keypoints") or [], dtype=float).reshape(-1, 3)
                present = ~((kp[:, 0] == 0) & (kp[:, 1] == 0) & (kp[:, 2] == 0))
                kp[present, :2] += rng.normal(0, sigma, (int(present.sum()), 2))
                gone = present & (rng.random(len(kp)) < drop)
                kp[gone] = 0
                a["keypoints"] = kp.ravel().tolist()
                a["scores"] = [0.9] * len(kp)
        (dst / f.name).write_bytes(orjson.dumps(data))
    return dst
