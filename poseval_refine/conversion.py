"""What ``prt convert`` keeps: identities the evaluation pairs by, and a refusal where the target cannot hold them.

A converted prediction file must score what the original scores against the same GT. The writers keep
image ids, file names, sequence names, track ids and scores where their format has a place for them
(``formats``); what one format lacks and the other needs comes from ``--gt``, the GT the file will be
evaluated against:

- COCO results name images by id, OpenPose files by name: ``--to openpose`` names each file after its
  GT image (``<image stem>_keypoints.json``), ``--to coco-results`` from OpenPose takes each image's id.
- With ``--gt``, a target that cannot hold what that GT scores — joints it annotates that the target has
  no slot for, track ids a tracking GT pairs by, several sequences in a one-set format — is refused,
  naming what would be lost. Without ``--gt`` the conversion is written and one note says which joints
  had no slot (they are absent in the output).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import numpy as np

from .errors import InputError
from .formats.coco import image_stem
from .poses import NO_TRACK, PoseSet
from .skeletons import BODY25, COCO17, MPII16, OPENPOSE18, POSETRACK15, POSETRACK18, Skeleton

#: formats that hold one set of images (no sequences) and no track ids
ONE_SET = ("coco-results", "mpii")


@dataclass
class GTReference:
    """What a GT says about the files evaluated against it."""

    path: Path
    #: canonical names of the joints the GT has at least one point of
    annotated: set[str]
    #: the GT pairs people by track id (PoseTrack tracking)
    has_tracks: bool = False
    #: COCO GT: image id -> file name, and file name / stem -> image id
    file_name_of_id: dict = field(default_factory=dict)
    id_of_name: dict = field(default_factory=dict)


def read_gt_reference(path: str | Path) -> GTReference:
    """The GT as ``--gt`` of ``prt convert``: COCO keypoint annotations, MPII arrays, or PoseTrack files."""
    from .formats import detect_format
    from .formats.coco import is_coco_keypoints_gt, read_coco_annotations
    from .io import load_json

    path = Path(path)
    if not path.exists():
        raise InputError("not found", file=path, fix="check the --gt path")
    if path.is_file() and path.suffix.lower() == ".json" and is_coco_keypoints_gt(load_json(path)):
        ann = read_coco_annotations(path)
        seen = (ann.keypoints[..., 2] > 0).any(axis=0) if len(ann.keypoints) else np.zeros(17, bool)
        ref = GTReference(path, {j for j, s in zip(COCO17.joints, seen) if s})
        for img in ann.dataset["images"]:
            name = img.get("file_name")
            if isinstance(name, str):
                ref.file_name_of_id[img["id"]] = name
                ref.id_of_name.setdefault(name, img["id"])
                ref.id_of_name.setdefault(image_stem(name), img["id"])
        return ref
    gt = detect_format(path).read(path)
    annotated: set[str] = set()
    tracks = False
    for seq in gt:
        if seq.num_persons:
            has = ~np.isnan(seq.keypoints[..., 0]).all(axis=0)
            annotated |= {seq.skeleton.joints[j] for j in np.flatnonzero(has)}
            tracks = tracks or bool((seq.track_id != NO_TRACK).any())
    return GTReference(path, annotated, has_tracks=tracks)


def target_skeleton(fmt: str, seq) -> Skeleton:
    """The joint set a writer puts a sequence in (formats/*: ``write_*``)."""
    source = seq.meta.get("source", {}).get("format")
    if fmt == "coco-results":
        return COCO17
    if fmt == "mpii":
        return MPII16
    if fmt == "openpose":
        return seq.skeleton if seq.skeleton in (OPENPOSE18, BODY25) else BODY25
    if fmt == "posetrack2017":
        return POSETRACK15
    if fmt == "posetrack2018":
        return seq.skeleton if source == "posetrack2018" else POSETRACK18
    return seq.skeleton


def lost_points(poses: PoseSet, fmt: str) -> dict[str, int]:
    """{joint: points} of the joints that have points in ``poses`` and no slot in format ``fmt``."""
    out: dict[str, int] = {}
    for seq in poses:
        target = target_skeleton(fmt, seq)
        for j, name in enumerate(seq.skeleton.joints):
            if name in target:
                continue
            n = int((~np.isnan(seq.keypoints[:, j, 0])).sum())
            if n:
                out[name] = out.get(name, 0) + n
    return out


def check_holds(poses: PoseSet, fmt: str, gt: GTReference, picked: bool = False) -> None:
    """One error naming everything the target cannot hold that evaluating against ``gt`` needs. ``picked``:
    the user chose whom to keep in a frame with several people (``--pick``), so that is not refused."""
    reasons = []
    lost = {j: n for j, n in lost_points(poses, fmt).items() if j in gt.annotated}
    if lost:
        reasons.append(f"{fmt} has no slot for {', '.join(f'{j} ({n} points)' for j, n in lost.items())}, which the "
                       "GT annotates")
    has_tracks = any((seq.track_id != NO_TRACK).any() for seq in poses)
    if fmt in ONE_SET and has_tracks and gt.has_tracks:
        reasons.append(f"{fmt} holds no track ids, which tracking against this GT pairs people by")
    crowded = sum(int((np.diff(seq.frame_bounds()) > 1).sum()) for seq in poses)
    if fmt == "mpii" and crowded and not picked:
        reasons.append(f"mpii holds one person per frame, {crowded} frames hold more")
    if fmt in ONE_SET and len(poses) > 1:
        reasons.append(f"{fmt} holds one set of images, these are {len(poses)} sequences")
    if reasons:
        raise InputError(f"--to {fmt} cannot hold what this GT scores: {'; '.join(reasons)}; the converted file "
                         "would score differently against it", file=gt.path,
                         fix="convert to a format that holds them (prt convert --list; docs/methods.md#prt-convert), "
                             "or evaluate the original file")


def carry_identity(poses: PoseSet, src: str, dst: str, gt: GTReference | None) -> PoseSet:
    """The set with what format ``dst`` needs to name images, taken from ``gt`` where ``src`` lacks it:
    OpenPose file names from COCO image ids, COCO image ids from OpenPose or PoseTrack 2018 frames."""
    if dst == "openpose" and src == "coco-results":
        if gt is None or not gt.file_name_of_id:
            raise InputError("COCO results name images by id; OpenPose files are named after their images",
                             file="--gt", fix="give --gt, the COCO keypoint annotations of these images "
                                              "(person_keypoints_*.json): each file is named after its image")
        return _renamed(poses, lambda seq, f: _file_name(gt, seq.meta["image_ids"][f]))
    if dst == "coco-results" and src in ("openpose", "posetrack2018"):
        return _with_image_ids(poses, src, gt)
    if dst == "posetrack2018" and src == "coco-results" and gt is not None and gt.file_name_of_id:
        return _renamed(poses, lambda seq, f: _file_name(gt, seq.meta["image_ids"][f]))
    return poses


def _file_name(gt: GTReference, image_id):
    name = gt.file_name_of_id.get(image_id)
    if name is None:
        raise InputError(f"image id {image_id!r} of the results is not an image of the GT", file=gt.path,
                         field="images", fix="give the GT these results were made for")
    return name


def _renamed(poses: PoseSet, name_of) -> PoseSet:
    seqs = {}
    for key, seq in poses.sequences.items():
        s = copy.copy(seq)
        s.image_names = [name_of(seq, f) for f in range(seq.num_frames)]
        seqs[key] = s
    return PoseSet(seqs, format=poses.format, root=poses.root, meta=poses.meta)


def _with_image_ids(poses: PoseSet, src: str, gt: GTReference | None) -> PoseSet:
    seqs = {}
    for key, seq in poses.sequences.items():
        ids = []
        for f in range(seq.num_frames):
            extra = seq.frame_extras[f] if seq.frame_extras else {}
            if src == "posetrack2018" and isinstance(extra, dict) and "id" in extra:
                ids.append(extra["id"])
                continue
            name = seq.image_names[f]
            if gt is not None and gt.id_of_name:
                found = gt.id_of_name.get(PurePath(name).name, gt.id_of_name.get(image_stem(name)))
                if found is None:
                    raise InputError(f"frame file {name!r} matches no image of the GT (by file name or stem)",
                                     file=seq.source, frame=f, fix="give the GT these predictions were made for")
                ids.append(found)
            elif image_stem(name).isdigit():
                ids.append(int(image_stem(name)))
            else:
                raise InputError(f"COCO results need image ids; frame file {name!r} names none", file=seq.source,
                                 frame=f, fix="give --gt, the COCO keypoint annotations of these images: each frame "
                                              "takes the id of the GT image of its name")
        s = copy.copy(seq)
        s.meta = dict(seq.meta, image_ids=ids)
        seqs[key] = s
    return PoseSet(seqs, format=poses.format, root=poses.root, meta=poses.meta)
