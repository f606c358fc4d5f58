"""Fuzzing harness: valid files of every readable format, mutated, fed to the ``prt`` command line.

A *reader* is a valid case (one or more files) plus the ``prt`` command that reads it. A fuzz case
draws one of its files, decodes it into a tree (JSON values, HDF5 datasets, MATLAB variables, a
pickled dict), applies 1-3 mutations (drop, retype, duplicate, truncate, wrap/unwrap, NaN/inf/huge
values, reshaped or retyped arrays), sometimes damages the encoded bytes, and runs the command.

The outcome must be exit 0, or exit 2 with exactly one ``prt: error:`` message; never another
exception, never a Python warning (numpy/h5py/scipy included), inputs unchanged and no output left
behind after an error. The draws come from a ``Draw`` (``hypothesis``' ``st.data()`` in the tests,
so failures shrink), and the same harness drives ``benchmarks/fuzz_readers.py``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import math
import os
import pickle
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# ------------------------------------------------------------------------------------------ draws


class Draw:
    """Choices for the mutations; ``hypothesis`` draws or a seeded random generator."""

    def __init__(self, data=None, rng: np.random.Generator | None = None):
        self.data, self.rng = data, rng

    def int(self, lo: int, hi: int) -> int:  # inclusive
        if self.data is not None:
            from hypothesis import strategies as st

            return self.data.draw(st.integers(lo, hi))
        return int(self.rng.integers(lo, hi + 1))

    def pick(self, seq):
        seq = list(seq)
        return seq[self.int(0, len(seq) - 1)]

    def chance(self, p: float) -> bool:
        return self.int(0, 99) < int(p * 100)


HUGE = [math.nan, math.inf, -math.inf, 1e308, -1e308, 1e20, -1e20, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, 1e-320,
        -0.0, 0, -1, 3.5]
OTHER = [None, True, False, "", "x", "1.5", "nan", [], {}, [[]], [1, 2], {"x": 1}, 0.5, -7]


# --------------------------------------------------------------------------------- tree mutations
def _children(node) -> list:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, list):
        return list(range(len(node)))
    return []


def _pick_slot(tree, draw: Draw):
    """A random (parent, key, path) on a random walk from the root; parent None means the root itself."""
    parent, key, node, path = None, None, tree, []
    while True:
        kids = _children(node)
        if not kids or (parent is not None and draw.chance(0.15)):
            return parent, key, "/".join(map(str, path)) or "<root>"
        k = draw.pick(kids)
        parent, key, node = node, k, node[k]
        path.append(k)


def _numeric_array_variants(a: np.ndarray, draw: Draw, allow_object: bool) -> Any:
    a = np.asarray(a)
    ops = ["value", "fill", "shape", "dtype", "empty", "scalar", "string", "transpose", "extra-axis"]
    if allow_object:
        ops.append("ragged")
    op = draw.pick(ops)
    if op == "value" and a.size and a.dtype.kind in "fiuc":
        b = a.astype(np.float64 if a.dtype.kind != "c" else a.dtype).copy()
        idx = tuple(draw.int(0, s - 1) for s in b.shape)
        v = draw.pick(HUGE)
        b[idx] = v if abs(v) < 1e300 or v != v or math.isinf(v) else v
        return b
    if op == "fill":
        return np.full(a.shape, draw.pick([math.nan, math.inf, 1e20, -1.0, 0.0]))
    if op == "shape" and a.ndim:
        ax = draw.int(0, a.ndim - 1)
        n = a.shape[ax]
        keep = draw.int(0, max(n - 1, 0)) if n else 0
        b = np.take(a, range(keep), axis=ax) if keep or n else a
        if draw.chance(0.5) and n:  # longer instead
            b = np.concatenate([a, np.take(a, [0], axis=ax)], axis=ax)
        return b
    if op == "dtype":
        t = draw.pick([np.int32, np.uint8, np.bool_, np.complex128, np.float32, np.int64])
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return np.nan_to_num(a.astype(np.float64)).astype(t) if a.dtype.kind in "fiub" else a
            except (TypeError, ValueError):
                return a
    if op == "empty":
        return np.zeros((0,) + a.shape[1:]) if a.ndim else np.zeros(0)
    if op == "scalar":
        return np.float64(draw.pick([1.0, math.nan, 0.0]))
    if op == "string":
        return draw.pick(["hello", "1.5", np.array([b"a", b"bc"]), b"raw"])
    if op == "transpose" and a.ndim >= 2:
        return a.T
    if op == "extra-axis":
        return a[None] if draw.chance(0.5) else a.reshape(-1)
    if op == "ragged" and a.ndim:
        cells = np.empty(max(a.shape[0], 1), dtype=object)
        for i in range(len(cells)):
            row = a[i] if a.shape[0] else np.zeros(1)
            cells[i] = row if i % 2 == 0 else np.asarray(row).reshape(-1)[:-1]
        return cells
    return draw.pick(HUGE)


def _replacement(value, draw: Draw, kind: str):
    """A new value for one node: another type, an extreme number, wrapped or unwrapped."""
    if isinstance(value, np.ndarray):
        return _numeric_array_variants(value, draw, allow_object=kind in ("mat", "pickle"))
    op = draw.pick(["retype", "number", "wrap", "unwrap", "nest", "numeric-string", "empty"])
    if op == "retype":
        return copy.deepcopy(draw.pick(OTHER))
    if op == "number":
        return draw.pick(HUGE)
    if op == "wrap":
        return [value]
    if op == "unwrap":
        if isinstance(value, list) and value:
            return value[0]
        if isinstance(value, dict) and value:
            return value[draw.pick(list(value))]
        return [[value]]
    if op == "nest":
        return {"value": value} if not isinstance(value, dict) else [value, value]
    if op == "numeric-string":
        return str(value) if isinstance(value, (int, float)) else "12"
    return [] if not isinstance(value, list) else {}


def mutate_tree(tree, draw: Draw, kind: str, log: list | None = None):
    """Apply one structural or value mutation to a nested dict/list tree (arrays are leaves)."""
    tree = copy.deepcopy(tree)
    log = [] if log is None else log
    parent, key, where = _pick_slot(tree, draw)
    if parent is None:  # the root itself
        if draw.chance(0.5):
            log.append("root wrapped in a list")
            return [tree]
        new = _replacement(tree, draw, kind)
        log.append(f"root replaced by {_show(new)}")
        return new
    value = parent[key]
    op = draw.pick(["drop", "replace", "replace", "duplicate", "truncate", "reorder"])
    if op == "drop":
        del parent[key]
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(draw.int(0, len(parent)), copy.deepcopy(value))
        else:
            other = draw.pick(list(parent))
            parent[other] = copy.deepcopy(value)
            op = f"copied onto {other}"
    elif op == "truncate" and isinstance(value, list):
        parent[key] = value[: draw.int(0, max(len(value) - 1, 0))]
        op = f"truncated to {len(parent[key])}"
    elif op == "reorder" and isinstance(value, list) and len(value) > 1:
        parent[key] = value[::-1]
    else:
        parent[key] = _replacement(value, draw, kind)
        op = f"replaced by {_show(parent[key])}"
    log.append(f"{where}: {op}")
    return tree


def _show(v) -> str:
    if isinstance(v, np.ndarray):
        return f"array{v.shape} {v.dtype}"
    s = repr(v)
    return s if len(s) < 60 else s[:57] + "..."


def damage_bytes(data: bytes, draw: Draw) -> bytes:
    op = draw.pick(["truncate", "flip", "empty", "garbage"])
    if op == "truncate" and data:
        return data[: draw.int(0, len(data) - 1)]
    if op == "flip" and data:
        b = bytearray(data)
        for _ in range(draw.int(1, 4)):
            b[draw.int(0, len(b) - 1)] = draw.int(0, 255)
        return bytes(b)
    if op == "empty":
        return b""
    return bytes(draw.int(0, 255) for _ in range(draw.int(1, 64)))


# ------------------------------------------------------------------------------------- encoders
def _json_bytes(tree) -> bytes:
    return json.dumps(tree, allow_nan=True).encode()


def _to_mat(v):
    """A tree as what ``scipy.io.savemat`` writes: dicts are structs, lists are cells, None is []."""
    if isinstance(v, dict):
        return {str(k) if str(k)[:1].isalpha() else f"f{k}": _to_mat(x) for k, x in v.items()}
    if isinstance(v, list):
        cells = np.empty(len(v), dtype=object)
        for i, x in enumerate(v):
            cells[i] = _to_mat(x)
        return cells
    if v is None:
        return np.zeros((0, 0))
    if isinstance(v, bool):
        return np.uint8(v)
    if isinstance(v, int):
        return float(v) if not -(2 ** 63) <= v < 2 ** 63 else v
    if isinstance(v, np.ndarray) and v.dtype == object:
        out = np.empty(v.shape, dtype=object)
        for i, x in np.ndenumerate(v):
            out[i] = _to_mat(x)
        return out
    return v


def _mat_bytes(tree) -> bytes:
    import scipy.io

    if not isinstance(tree, dict):
        tree = {"data": tree}
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scipy.io.savemat(buf, _to_mat(tree))
    return buf.getvalue()


def _h5_write(group, tree) -> None:
    for k, v in tree.items():
        k = str(k) or "empty"
        if isinstance(v, dict):
            _h5_write(group.create_group(k), v)
        elif isinstance(v, list):
            group[k] = np.asarray(v, dtype=np.float64) if all(isinstance(x, (int, float)) for x in v) \
                else np.array([str(x).encode() for x in v])
        elif v is None:
            group[k] = np.zeros(0)
        elif isinstance(v, str):
            group[k] = v
        elif isinstance(v, int) and not -(2 ** 63) <= v < 2 ** 63:
            group[k] = float(v)
        else:
            group[k] = v


def _h5_bytes(tree) -> bytes:
    import h5py

    if not isinstance(tree, dict):
        tree = {"data": tree}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h:
        _h5_write(h, tree)
    return buf.getvalue()


def _pickle_bytes(tree) -> bytes:
    return pickle.dumps(tree, protocol=2)


ENCODERS = {"json": _json_bytes, "mat": _mat_bytes, "h5": _h5_bytes, "pickle": _pickle_bytes}


# --------------------------------------------------------------------------------------- readers
@dataclass
class Reader:
    """A valid case: ``files`` maps a relative path to (kind, tree); ``argv`` is the ``prt`` command,
    with ``{root}`` for the case folder and ``{out}`` for a path that does not exist yet."""

    name: str
    files: dict[str, tuple[str, Any]]
    argv: list[str]
    #: relative paths of the files a case may mutate (default: all)
    targets: list[str] = field(default_factory=list)
    #: the suffix of ``{out}`` (a writer may need one, e.g. ``.h5``)
    out_suffix: str = ""

    def mutable(self) -> list[str]:
        return self.targets or list(self.files)


# PoseTrack-15 / MPII-16 template poses (offsets from an anchor), head box 30 x 40 px
T15 = [(0, 200), (0, 150), (0, 100), (20, 100), (20, 150), (20, 200), (-30, 90), (-25, 60), (-10, 30), (30, 30),
       (45, 60), (50, 90), (10, 20), (10, 5), (10, -15)]
T16 = [(0, 200), (0, 150), (0, 100), (20, 100), (20, 150), (20, 200), (10, 90), (10, 40), (10, 20), (10, -15),
       (-30, 90), (-25, 60), (-10, 30), (30, 30), (45, 60), (50, 90)]
ANCHORS = [(100.0, 100.0), (300.0, 120.0)]


def _pt17_rect(ax, ay, track, score=None, shift=0.0):
    pts = [{"id": [j], "x": [ax + dx + shift], "y": [ay + dy - shift],
            **({"score": [round(score - 0.01 * j, 3)]} if score is not None else {})} for j, (dx, dy) in enumerate(T15)]
    return {"x1": [ax], "y1": [ay - 30], "x2": [ax + 30], "y2": [ay + 10], "track_id": [track],
            "annopoints": [{"point": pts}], **({"score": [score]} if score is not None else {})}


def posetrack2017(frames: int = 3) -> Reader:
    gt, pred = [], []
    for f in range(frames):
        ign = [{"point": [{"x": [500.0], "y": [0.0]}, {"x": [600.0], "y": [0.0]}, {"x": [600.0], "y": [90.0]}]}]
        gt.append({"image": [{"name": f"images/{f:06d}.jpg"}], "imgnum": [f], "is_labeled": [1],
                   "ignore_regions": ign if f == 1 else [],
                   "annorect": [_pt17_rect(x, y, t) for t, (x, y) in enumerate(ANCHORS)]})
        pred.append({"image": [{"name": f"images/{f:06d}.jpg"}], "imgnum": [f],
                     "annorect": [_pt17_rect(x, y, t + 3, score=0.9 - 0.1 * t, shift=2.0 * f)
                                  for t, (x, y) in enumerate(ANCHORS)]})
    return Reader("posetrack2017",
                  {"gt/seq.json": ("json", {"annolist": gt}), "pred/seq.json": ("json", {"annolist": pred})},
                  ["evaluate", "--gt", "{root}/gt", "--pred", "{root}/pred", "--task", "tracking", "-q"])


P18_NAMES = ["nose", "head_bottom", "head_top", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
             "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
             "right_knee", "left_ankle", "right_ankle"]
#: PoseTrack-2018 slot -> PoseTrack-15 template id (ears absent)
P18_FROM15 = [13, 12, 14, None, None, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0]


def posetrack2018(frames: int = 3) -> Reader:
    def ann(img_id, ax, ay, track, score=None, shift=0.0):
        kp, sc = [], []
        for j in P18_FROM15:
            if j is None:
                kp += [0, 0, 0]
                sc.append(0.0)
            else:
                dx, dy = T15[j]
                kp += [ax + dx + shift, ay + dy - shift, 1]
                sc.append(round(score - 0.01 * j, 3) if score is not None else 0.0)
        return {"image_id": img_id, "track_id": track, "keypoints": kp, "scores": sc if score is not None else [],
                "bbox_head": [ax, ay - 30, 30, 40], "bbox": [ax - 40, ay - 40, 120, 260], "category_id": 1}

    def doc(pred):
        images, anns = [], []
        for f in range(frames):
            img = {"id": 1000 + f, "file_name": f"images/{f:06d}.jpg", "frame_id": f, "vid_id": "seq",
                   "is_labeled": True, "nframes": frames}
            if f == 1 and not pred:
                img["ignore_regions_x"] = [[500.0, 600.0, 600.0]]
                img["ignore_regions_y"] = [[0.0, 0.0, 90.0]]
            images.append(img)
            for t, (x, y) in enumerate(ANCHORS):
                anns.append(ann(1000 + f, x, y, t + 3 * pred, 0.9 - 0.1 * t if pred else None, 2.0 * f * pred))
        return {"images": images, "annotations": anns,
                "categories": [{"id": 1, "name": "person", "keypoints": P18_NAMES, "skeleton": []}]}

    return Reader("posetrack2018", {"gt/seq.json": ("json", doc(False)), "pred/seq.json": ("json", doc(True))},
                  ["evaluate", "--gt", "{root}/gt", "--pred", "{root}/pred", "--task", "tracking", "-q"])


def posetrack21(frames: int = 3) -> Reader:
    """The PoseTrack21 layout (``--task hota``): one COCO-like JSON per sequence, 17 keypoint slots (ears
    empty), GT ``person_id`` and ``bbox_head``, prediction ``scores``; image ids 10000000000 + frame."""
    def ann(img_id, ax, ay, track, score=None, shift=0.0):
        kp, sc = [], []
        for j in P18_FROM15:
            if j is None:
                kp += [0.0, 0.0, 0.0]
                sc.append(0.0)
            else:
                dx, dy = T15[j]
                kp += [ax + dx + shift, ay + dy - shift, 1.0]
                sc.append(round(score - 0.01 * j, 3) if score is not None else 0.0)
        a = {"keypoints": kp, "track_id": track, "image_id": img_id, "category_id": 1}
        if score is None:
            a.update(bbox_head=[ax, ay - 30, 30, 40], person_id=track, id=track * 100 + img_id % 100)
        else:
            a["scores"] = sc
        return a

    def doc(pred):
        images, anns = [], []
        for f in range(frames):
            img_id = 10000000000 + f
            ign = f == 1 and not pred
            images.append({"file_name": f"images/val/000000_mpii_test/{f:06d}.jpg", "id": img_id,
                           "frame_id": img_id, "vid_id": "000000", "is_labeled": True, "nframes": frames,
                           "ignore_regions_x": [[500.0, 600.0, 600.0]] if ign else [],
                           "ignore_regions_y": [[0.0, 0.0, 90.0]] if ign else []})
            for t, (x, y) in enumerate(ANCHORS):
                anns.append(ann(img_id, x, y, t + 1 + 100 * pred, 0.9 - 0.1 * t if pred else None, 2.0 * f * pred))
        return {"images": images, "annotations": anns,
                "categories": [{"supercategory": "person", "id": 1, "name": "person"}]}

    return Reader("posetrack21", {"gt/000000_mpii_test.json": ("json", doc(False)),
                                  "pred/000000_mpii_test.json": ("json", doc(True))},
                  ["evaluate", "--gt", "{root}/gt", "--pred", "{root}/pred", "--task", "hota", "-q"])


def mpii_people(n: int = 4, shift: float = 0.0) -> np.ndarray:
    xy = np.array([[[100.0 + 40 * i + dx + shift, 100.0 + dy] for dx, dy in T16] for i in range(n)])
    return xy


def mpii_gt_h5(n: int = 4) -> dict:
    part = mpii_people(n)
    part[1, 6] = 0.0  # not annotated
    return {"part": part, "visible": np.ones((n, 16)), "normalize": np.full(n, 30.0),
            "center": np.full((n, 2), 150.0), "scale": np.full(n, 2.0), "index": np.arange(n, dtype=np.float64),
            "person": np.zeros(n), "imgname": np.array([f"{i:09d}.jpg".encode() for i in range(n)])}


def mpii_arrays() -> Reader:
    n = 4
    preds = mpii_people(n, shift=3.0)
    scored = np.concatenate([preds, np.full((n, 16, 1), 0.8)], axis=2)
    ief = np.concatenate([preds, np.zeros((n, 1, 2))], axis=1)
    hb = np.stack([np.stack([100.0 + 40 * np.arange(n) + 5, np.full(n, 60.0)]),
                   np.stack([100.0 + 40 * np.arange(n) + 35, np.full(n, 100.0)])])  # 2 x 2 x N
    tompson = {"pos_gt_src": mpii_people(n).transpose(1, 2, 0), "jnt_missing": np.zeros((16, n)),
               "headboxes_src": hb}
    files = {"gt.h5": ("h5", mpii_gt_h5(n)), "gt_tompson.mat": ("mat", tompson),
             "preds.h5": ("h5", {"preds": preds}), "scored.mat": ("mat", {"preds": scored}),
             "matlab.mat": ("mat", {"preds": preds.transpose(2, 1, 0)}), "ief.mat": ("mat", {"poses": ief})}
    return Reader("mpii", files, ["evaluate", "--task", "single", "--gt", "{root}/gt.h5", "--gt-alt",
                                  "{root}/gt_tompson.mat", "--pred", "{root}/preds.h5", "--pred", "{root}/scored.mat",
                                  "--pred", "{root}/matlab.mat", "--pred", "{root}/ief.mat", "-q"])


def pose_tensorflow() -> Reader:
    n = 4
    xy = mpii_people(n, shift=-2.0)
    ids = (0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 8, 9)
    cells = [np.column_stack([xy[i, list(ids)], np.full(14, 0.7)]) for i in range(n)]
    return Reader("pose-tensorflow", {"gt.h5": ("h5", mpii_gt_h5(n)), "predictions.mat": ("mat", {"joints": cells})},
                  ["evaluate", "--task", "single", "--gt", "{root}/gt.h5", "--pred", "{root}/predictions.mat", "-q"],
                  targets=["predictions.mat"])


def mpii_annolist(pred: bool, frames: int = 2) -> list:
    out = []
    for f in range(frames):
        rects = []
        for i, (ax, ay) in enumerate(ANCHORS):
            pts = [{"id": j, "x": ax + dx + (3.0 if pred else 0.0), "y": ay + dy,
                    **({"score": round(0.9 - 0.02 * j - 0.1 * i, 3)} if pred else {"is_visible": 1})}
                   for j, (dx, dy) in enumerate(T16) if j not in (6, 7)]
            r = {"annopoints": {"point": pts}}
            if not pred:
                r.update(x1=ax, y1=ay - 30, x2=ax + 30, y2=ay + 10, scale=2.0, objpos={"x": ax, "y": ay + 80})
            else:
                r["score"] = 0.9 - 0.1 * i
            rects.append(r)
        out.append({"image": {"name": f"{f:09d}.jpg"}, "annorect": rects})
    return out


def mpii_annolist_json() -> Reader:
    return Reader("mpii-annolist-json", {"gt.json": ("json", {"annolist": mpii_annolist(False)}),
                                         "pred.json": ("json", {"annolist": mpii_annolist(True)})},
                  ["evaluate", "--task", "multi", "--gt", "{root}/gt.json", "--pred", "{root}/pred.json", "-q"])


def mpii_annolist_mat() -> Reader:
    return Reader("mpii-annolist-mat", {"gt.mat": ("mat", {"annolist": mpii_annolist(False)}),
                                        "pred.mat": ("mat", {"annolist": mpii_annolist(True)})},
                  ["evaluate", "--task", "multi", "--gt", "{root}/gt.mat", "--pred", "{root}/pred.mat", "-q"])


def mpii_release() -> Reader:
    annolist = mpii_annolist(False, frames=3)
    annolist[2]["annorect"] = [{"x1": 5.0, "y1": 5.0, "x2": 20.0, "y2": 25.0, "scale": 1.0,
                                "objpos": {"x": 10.0, "y": 50.0}}]  # a test image: no points
    rel = {"annolist": annolist, "img_train": np.array([1, 1, 0]), "single_person": [[1.0], [1.0, 2.0], []],
           "act": [{"act_name": "run", "act_id": 1.0}] * 3, "video_list": ["abc"]}
    return Reader("mpii-release", {"release.mat": ("mat", {"RELEASE": rel})},
                  ["convert", "--from", "mpii-release", "--to", "posetrack2017", "{root}/release.mat", "{out}"])


def openpose() -> Reader:
    files = {}
    for f in range(2):
        people = []
        for ax, ay in ANCHORS:
            kp = []
            for k in range(25):
                kp += [0.0, 0.0, 0.0] if k in (15, 16) else [ax + 3 * k, ay + 7 * k + f, 0.5 + 0.01 * k]
            people.append({"person_id": [-1], "pose_keypoints_2d": kp, "face_keypoints_2d": [],
                           "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": []})
        files[f"op/clip_{f:012d}_keypoints.json"] = ("json", {"version": 1.3, "people": people})
    return Reader("openpose", files, ["convert", "--from", "openpose", "--to", "posetrack2018", "{root}/op", "{out}"])


def coco_results() -> Reader:
    res = []
    for img in (139, 785):
        for i, (ax, ay) in enumerate(ANCHORS):
            kp = []
            for k in range(17):
                kp += [0, 0, 0] if k == 3 else [ax + 4 * k, ay + 9 * k, 0.6]
            res.append({"image_id": img, "category_id": 1, "keypoints": kp, "score": 0.9 - 0.2 * i})
    return Reader("coco-results", {"res.json": ("json", res)},
                  ["convert", "--from", "coco-results", "--to", "posetrack2018", "{root}/res.json", "{out}"])


def coco_keypoints() -> Reader:
    """``--task coco``: a COCO keypoint GT file and results (pycocotools runs behind prt's checks)."""
    res = coco_results().files["res.json"][1]
    images, anns = [], []
    for img in (139, 785):
        images.append({"id": img, "file_name": f"{img:012d}.jpg", "width": 640, "height": 480})
        for i, (ax, ay) in enumerate(ANCHORS):
            kp = []
            for k in range(17):
                kp += [0, 0, 0] if k == 3 else [ax + 4 * k + 1, ay + 9 * k, 2]
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": 1, "keypoints": kp,
                         "num_keypoints": 16, "area": 9000.0 + 100 * i, "bbox": [ax, ay, 70.0, 150.0],
                         "iscrowd": 0})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": 1, "name": "person", "keypoints": [f"k{k}" for k in range(17)], "skeleton": []}]}
    return Reader("coco-keypoints", {"gt.json": ("json", gt), "res.json": ("json", res)},
                  ["evaluate", "--task", "coco", "--gt", "{root}/gt.json", "--pred", "{root}/res.json", "-q"])


def detect_and_track(frames: int = 3) -> Reader:
    keyps, tracks, boxes = [[], []], [[], []], [[], []]
    for f in range(frames):
        ks, ts, bs = [], [], []
        for i, (ax, ay) in enumerate(ANCHORS):
            k = np.zeros((4, 17))
            k[0] = ax + 5 * np.arange(17)
            k[1] = ay + 11 * np.arange(17) + f
            k[2] = 3.0
            k[3] = 0.8
            ks.append(k)
            ts.append(i)
            bs.append([ax - 10, ay - 10, ax + 100, ay + 200, 0.95])
        keyps[1].append(ks)
        tracks[1].append(np.array(ts))
        boxes[1].append(np.array(bs))
    return Reader("detect-and-track", {"detections_withTracks.pkl": ("pickle", {"all_keyps": keyps,
                                                                                "all_tracks": tracks,
                                                                                "all_boxes": boxes})},
                  ["convert", "--from", "detect-and-track", "--to", "posetrack2017",
                   "{root}/detections_withTracks.pkl", "{out}"])


def posetrack_to_mpii() -> Reader:
    """``prt convert`` of multi-person PoseTrack to single-person MPII arrays (one person per frame)."""
    pred = posetrack2017().files["pred/seq.json"]
    return Reader("posetrack-to-mpii", {"pred/seq.json": pred},
                  ["convert", "--to", "mpii", "--pick", "largest", "{root}/pred/seq.json", "{out}"], out_suffix=".h5")


READERS = {r.name: r for r in (posetrack2017(), posetrack2018(), posetrack21(), mpii_arrays(), pose_tensorflow(),
                               mpii_annolist_json(), mpii_annolist_mat(), mpii_release(), openpose(),
                               coco_results(), coco_keypoints(), detect_and_track(), posetrack_to_mpii())}


# ------------------------------------------------------------------------------------------ runs
@dataclass
class Outcome:
    reader: str
    code: int | None
    stdout: str
    stderr: str
    exception: BaseException | None = None
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    mutations: list[str] = field(default_factory=list)

    @property
    def unexpected(self) -> bool:
        return bool(self.problems)


def _digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _argv(reader: Reader, root: Path, out: Path, draw: Draw) -> list[str]:
    argv = [a.format(root=root, out=out) for a in reader.argv]
    if "--gt-alt" in argv:  # MPII: either GT file (valid.h5 or Tompson's .mat), one or all predictions
        i = argv.index("--gt-alt")
        alt = argv[i + 1]
        del argv[i: i + 2]
        if draw.chance(0.5):
            argv[argv.index("--gt") + 1] = alt
    return argv


#: what a case may give as its output path (``--json``/``--plot`` of ``prt evaluate``, ``OUT`` of ``prt
#: convert``) or results store (``--save --results``): a new file in an existing folder, and the paths that
#: must be refused (exit 2, nothing written, no folder made)
OUTPUT_KINDS = ("new file", "existing folder", "trailing separator", "missing folder", "file as folder",
                "store is a file")
REFUSED_OUTPUTS = frozenset(OUTPUT_KINDS[1:])


def _output_case(reader: Reader, root: Path, argv: list[str], out: Path, draw: Draw, kind: str | None = None
                 ) -> tuple[list, Path, str]:
    """The command line with one output path drawn from :data:`OUTPUT_KINDS` (``{out}`` replaced or, for
    ``prt evaluate``, ``--json``/``--plot``/``--save`` added); the path whose absence after an error the case
    checks; the kind. What the kinds need (a folder, a file) is made here, before the inputs' digest."""
    kind = kind or draw.pick(OUTPUT_KINDS)
    evaluate = argv[0] == "evaluate"
    if kind == "store is a file" and not evaluate:
        kind = "file as folder"
    flag = draw.pick(["--json", "--plot"]) if evaluate and "single" in argv else "--json"
    if evaluate:
        out = root / ("out.png" if flag == "--plot" else "out.json")
    (root / "adir").mkdir(exist_ok=True)
    (root / "afile").write_text("x")
    path = {"new file": str(out), "existing folder": str(root / "adir"), "trailing separator": f"{out}{os.sep}",
            "missing folder": str(root / "missing" / "deeper" / out.name),
            "file as folder": str(root / "afile" / out.name), "store is a file": str(out)}[kind]
    if not evaluate:
        argv = [path if a == str(root / f"out{reader.out_suffix}") else a for a in argv]
    elif kind == "store is a file":
        argv = [*argv, "--save", "fuzz", "--results", str(root / "afile")]
    else:
        argv = [*argv, flag, path]
    return argv, out, kind


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) + ("/" if p.is_dir() else "") for p in root.rglob("*")}


def run_case(reader: Reader, draw: Draw, workdir: Path | None = None, on_start=None, output: str | None = None,
             mutate: bool = True) -> Outcome:
    """Write the reader's files (one of them mutated, unless not ``mutate``), run its command, and judge the
    outcome. ``output``: this kind of output path (:data:`OUTPUT_KINDS`) rather than a drawn one."""
    from poseval_refine.cli import main

    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="prt-fuzz-")) if own else workdir
    mutations: list[str] = []
    try:
        target = draw.pick(reader.mutable()) if mutate else None
        for rel, (kind, tree) in reader.files.items():
            if rel == target:
                mutations.append(f"file {rel}")
                for _ in range(draw.int(1, 3)):
                    tree = mutate_tree(tree, draw, kind, mutations)
                try:
                    data = ENCODERS[kind](tree)
                except Exception as e:  # an encoder cannot store this tree: store the damage as bytes instead
                    mutations.append(f"unencodable ({type(e).__name__}), bytes damaged instead")
                    data = damage_bytes(ENCODERS[kind](reader.files[rel][1]), draw)
                if draw.chance(0.1):
                    data = damage_bytes(data, draw)
                    mutations.append("bytes damaged")
            else:
                data = ENCODERS[kind](tree)
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        out = root / f"out{reader.out_suffix}"
        argv = _argv(reader, root, out, draw)
        if output is not None or draw.chance(0.3):  # the output path (or results store) is what this case varies
            argv, out, output = _output_case(reader, root, argv, out, draw, output)
            mutations.append(f"output: {output}")
        before = _digest(root)
        paths_before = _tree(root)
        if on_start is not None:  # e.g. record what is about to run, in case the process dies
            on_start(reader.name, argv, mutations)
        stdout, stderr = io.StringIO(), io.StringIO()
        exc, code = None, None
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            warnings.simplefilter("always")
            try:
                code = main(argv)
            except BaseException as e:  # noqa: BLE001 - anything else is what we hunt for
                exc = e
        o = Outcome(reader.name, code, stdout.getvalue(), stderr.getvalue(), exc,
                    [f"{w.category.__name__}: {w.message} ({Path(w.filename).name}:{w.lineno})" for w in caught],
                    mutations=mutations)
        o.problems += judge(o)
        if {k: v for k, v in _digest(root).items() if not k.startswith("out")} != before:
            o.problems.append("an input file changed")
        if code not in (0, None) and out.exists():
            o.problems.append("output written although the command failed")
        if output in REFUSED_OUTPUTS:
            # a file output naming a folder must be refused; OUT of `prt convert` may be a folder (its writer
            # decides), so a trailing separator there names a folder it may make
            folder_ok = output == "trailing separator" and argv[0] == "convert"
            if code == 0 and not folder_ok:
                o.problems.append(f"output path ({output}) accepted")
            if code != 0 and _tree(root) != paths_before:
                o.problems.append(f"output path ({output}) refused but something was written or a folder made: "
                                  f"{sorted(_tree(root) - paths_before)}")
        if (root / "missing").exists():
            o.problems.append("a missing output folder was created")
        return o
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


def judge(o: Outcome) -> list[str]:
    problems = []
    if o.exception is not None:
        problems.append(f"exception {type(o.exception).__name__}: {o.exception}")
    if o.warnings:
        problems.append("Python warning: " + "; ".join(o.warnings))
    if o.code not in (0, 2, None):
        problems.append(f"exit code {o.code}")
    if o.code == 2:
        if o.stderr.count("prt: error:") != 1:
            problems.append("not exactly one 'prt: error:' line")
        if "Traceback" in o.stderr:
            problems.append("traceback on stderr")
    return problems


def describe(o: Outcome) -> str:
    return (f"[{o.reader}] {'; '.join(o.problems)}\n  mutations: {o.mutations}\n  exit {o.code}\n"
            f"  stderr: {o.stderr.strip()[:800]}")


def exception_class(o: Outcome) -> str:
    """A short key grouping unexpected outcomes (exception type + the innermost prt frame)."""
    if o.exception is not None:
        tb = o.exception.__traceback__
        where = ""
        while tb is not None:
            fn = tb.tb_frame.f_code.co_filename
            if "poseval_refine" in fn:
                where = f"{Path(fn).name}:{tb.tb_lineno}"
            tb = tb.tb_next
        return f"{type(o.exception).__name__} at {where}"
    return o.problems[0][:120] if o.problems else "ok"

