"""OpenPose per-frame JSON (``--write_json``): one file per frame, ``people[].pose_keypoints_2d``.

Key names of every OpenPose version are read (``pose_keypoints_2d`` >= 1.3, ``pose_keypoints``
1.0-1.2, ``body_parts`` before); BODY_25 and COCO-18 are told apart by the number of points.
(0, 0, 0) is a missing joint. Frames are grouped into sequences by the file-name prefix before
``_<frame number>_keypoints.json``; no track ids exist in this format.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path, PurePath

import numpy as np

from ..errors import InputError
from ..io import atomic_dir, dumps_json, load_json
from ..poses import NO_TRACK, PoseSequence, PoseSet
from ..skeletons import BODY25, OPENPOSE18
from . import Format, register
from ._values import kind_of, numeric_array

KEYS = ("pose_keypoints_2d", "pose_keypoints", "body_parts")
_FRAME = re.compile(r"^(?P<video>.*?)_?(?P<frame>\d+)_keypoints$")


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if not p.name.startswith("."))
        if not files:
            raise InputError("holds no .json files", file=path, fix="give the folder written by --write_json")
        return files
    return [path]


def read_openpose(path: str | Path) -> PoseSet:
    path = Path(path)
    groups: dict[str, list[Path]] = defaultdict(list)
    for f in _files(path):
        m = _FRAME.match(f.stem)
        groups[m.group("video") if m else f.stem].append(f)
    seqs = {}
    for name, files in groups.items():
        frames, kps, skeleton = [], [], None
        tracks: list[int] = []
        scores: list[float] = []
        extras: list[dict] = []
        for f_idx, f in enumerate(files):
            data = load_json(f)
            people = data.get("people") if isinstance(data, dict) else None
            if not isinstance(people, list):
                raise InputError("has no 'people' list" if people is None else f"'people' is {kind_of(people)}, "
                                 "expected a list", file=f, field="people", fix="give OpenPose --write_json output")
            for p_idx, person in enumerate(people):
                if not isinstance(person, dict):
                    raise InputError(f"person is {kind_of(person)}, expected an object", file=f, person=p_idx,
                                     fix="give OpenPose --write_json output")
                key = next((k for k in KEYS if k in person), None)
                if key is None:
                    raise InputError("person has no pose keypoints", file=f, person=p_idx,
                                     field="pose_keypoints_2d", fix="write body keypoints (--write_json)")
                arr = numeric_array(person[key], what=f"'{key}'", file=f, person=p_idx, field=key,
                                    fix="write the keypoints as a flat list of numbers x1, y1, c1, x2, ...")
                if arr.size == 0:  # a face- or hand-only detection: no body pose
                    continue
                if arr.size % 3:
                    raise InputError(f"has {arr.size} values, not x, y, c triples", file=f, person=p_idx,
                                     field=key, fix="write 3 values (x, y, confidence) per keypoint")
                arr = arr.reshape(-1, 3)
                sk = {18: OPENPOSE18, 25: BODY25}.get(len(arr))
                if sk is None:
                    raise InputError(f"has {len(arr)} points; expected 18 (COCO) or 25 (BODY_25)", file=f,
                                     person=p_idx, field=key, fix="write BODY_25 or COCO-18 body keypoints")
                if skeleton is not None and sk is not skeleton:
                    raise InputError("mixes COCO-18 and BODY_25 people", file=f, person=p_idx, field=key,
                                     fix="convert every frame of a video with the same OpenPose model")
                skeleton = sk
                missing = (arr == 0).all(1)
                arr[missing] = np.nan
                frames.append(f_idx)
                kps.append(arr)
                tracks.append(_track_of(person.get("person_id")))
                scores.append(_number(person.get("score")))
                extras.append({"bbox": person["bbox"]} if _is_box(person.get("bbox")) else {})
        skeleton = skeleton or BODY25
        name = name or path.stem  # files named <image>_keypoints.json: the folder names the set
        seqs[name] = PoseSequence(
            name=name, skeleton=skeleton, image_names=[f.name for f in files], person_frame=np.array(frames, int),
            keypoints=np.array(kps).reshape(-1, len(skeleton), 3),
            track_id=np.array(tracks, dtype=np.int64) if tracks else None,
            person_score=np.array(scores, dtype=np.float64) if scores else None,
            person_extras=extras if any(extras) else None,
            meta={"source": {"path": str(path), "format": "openpose"},
                  "conversions": ["(0, 0, 0) points are missing joints"]}).validate()
    return PoseSet(seqs, format="openpose", root=str(path))


def _track_of(person_id) -> int:
    """OpenPose's ``person_id`` ([-1] without tracking) as a track id."""
    v = person_id[0] if isinstance(person_id, list) and len(person_id) == 1 else person_id
    return int(v) if type(v) is int and 0 <= v < 2**62 else NO_TRACK


def _number(v) -> float:
    return float(v) if type(v) in (int, float) else np.nan


def _is_box(v) -> bool:
    return isinstance(v, list) and len(v) == 4 and all(type(x) in (int, float) for x in v)


def frame_file_names(seq, name: str | None = None) -> list[str]:
    """The file of every frame: ``<image stem>_keypoints.json`` for an image set read with image ids (COCO
    results; OpenPose's own naming of an image folder, so the GT's file names match), else
    ``<sequence>_<frame:012d>_keypoints.json`` (OpenPose's naming of a video)."""
    names = seq.image_names
    if seq.meta.get("image_ids") is not None and all(names):
        stems = [PurePath(str(n)).stem for n in names]
        if len(set(stems)) == len(stems):
            return [f"{s}_keypoints.json" for s in stems]
    return [f"{seq.name if name is None else name}_{f:012d}_keypoints.json" for f in range(seq.num_frames)]


def write_openpose(poses: PoseSet, path: str | Path, *, overwrite: bool = False) -> None:
    """One JSON per frame (:func:`frame_file_names`), BODY_25 or COCO-18 as read. Besides OpenPose's
    fields, a person keeps what prt read for it and OpenPose readers ignore: ``person_id`` its track id,
    ``score`` its instance score, ``bbox`` its COCO detection box."""
    with atomic_dir(path, overwrite=overwrite) as tmp:
        for name, seq in poses.sequences.items():
            sk = seq.skeleton if seq.skeleton in (OPENPOSE18, BODY25) else BODY25
            s = seq.to_skeleton(sk)
            b = s.frame_bounds()
            for f, file_name in enumerate(frame_file_names(seq, name)):
                people = []
                for p in range(b[f], b[f + 1]):
                    kp = np.nan_to_num(s.keypoints[p], nan=0.0)
                    track = int(s.track_id[p])
                    person = {"person_id": [track if track != NO_TRACK else -1],
                              "pose_keypoints_2d": kp.ravel().tolist()}
                    if np.isfinite(s.person_score[p]):
                        person["score"] = float(s.person_score[p])
                    box = seq.person_extras[p].get("bbox") if isinstance(seq.person_extras[p], dict) else None
                    if _is_box(box):
                        person["bbox"] = box
                    people.append(person)
                (tmp / file_name).write_bytes(dumps_json({"version": 1.3, "people": people}))


def _sniff(path: Path) -> bool:
    try:
        f = _files(path)[0]
        data = load_json(f)
    except InputError:
        return False
    return isinstance(data, dict) and isinstance(data.get("people"), list) and "annolist" not in data


register(Format("openpose", "OpenPose per-frame JSON (BODY_25 or COCO-18; every version's key names)",
                read=lambda p, **kw: read_openpose(p), write=lambda poses, p, **kw: write_openpose(poses, p, **kw),
                sniff=_sniff, aliases=("openpose-json",)))
