"""Training samples: an image, the true poses of its people, and one person's synthesized input.

Sources: synthetic scenes (drawn on the fly, seeds disjoint from ``prt synth``'s), PoseTrack
2017/2018 JSON + image folder, COCO keypoints + image folder, and the MPII annotation .mat +
image folder, all mapped to PoseTrack-15 as the paper does (COCO: head bottom = shoulder
midpoint, head top = the eye midpoint pushed away from it; MPII: nose = midpoint of head top and
upper neck).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..skeletons import COCO17, MPII16, POSETRACK15, remap_keypoints
from .encode import EncodeConfig, crop_image, disk_channels, in_canvas, make_crop, network_input, person_scale, targets
from .synth import FLIP, SynthConfig, synthesize

#: ``prt train --dataset synthetic`` draws scenes from this seed on, never from small user seeds
TRAIN_SEED_BASE = 1_000_003


@dataclass
class ImageRecord:
    image: str | np.ndarray  # path or pixels
    keypoints: np.ndarray  # (P, 15, 2) PoseTrack-15, NaN = absent
    head_boxes: np.ndarray  # (P, 4), NaN = absent


def load_image(path: str | Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise InputError("image not found", file=path,
                         fix="check --images (the folder the image names are relative to)") from None
    except (UnidentifiedImageError, OSError) as e:
        raise InputError(f"image cannot be read ({e})", file=path,
                         fix="replace the file with a readable image") from None


def make_sample(image: np.ndarray, people: np.ndarray, head_boxes: np.ndarray, p: int, rng: np.random.Generator,
                enc: EncodeConfig, syn: SynthConfig, augment: bool = True) -> dict[str, np.ndarray]:
    """Network input and targets for person ``p`` of an image (all arrays float32).

    The errors are synthesized at the person's true scale (the paper's pixel constants apply to the
    normalised person), but the canvas is then placed and scaled from the corrupted input pose
    alone, exactly as ``prt refine`` does with a method's output: the network learns with the
    scale and centring errors it will meet."""
    gt = people[p]
    s_true = person_scale(gt, enc, head_boxes[p], scale_from="head-box")
    others = np.delete(people, p, axis=0)
    inp = synthesize(gt * s_true, others * s_true, rng, syn) / s_true
    s = person_scale(inp, enc)
    if augment:
        s *= rng.uniform(0.9, 1.1)
    crop = make_crop(inp, s, enc)
    canvas = crop_image(image, crop)
    inp_c, gt_c = crop.to_canvas(inp), crop.to_canvas(gt)
    if augment and rng.random() < 0.5:  # mirror, with left/right relabelling
        canvas = canvas[:, ::-1]
        inp_c, gt_c = inp_c[FLIP], gt_c[FLIP]
        inp_c[:, 0] = enc.canvas - 1 - inp_c[:, 0]
        gt_c[:, 0] = enc.canvas - 1 - gt_c[:, 0]
    gt_c[~in_canvas(gt_c, enc.canvas)] = np.nan
    x = network_input(np.ascontiguousarray(canvas), disk_channels(inp_c, enc.canvas, enc.radius))
    heat, loc, weight, present = targets(gt_c, enc.canvas, enc.target_radius, enc.target_sigma)
    return {"input": x, "heat": heat, "loc": loc, "weight": weight, "present": present.astype(np.float32)}


class RefinerDataset:
    """Indexable samples; subclasses say how to get image ``i`` and its people."""

    def __init__(self, enc: EncodeConfig, syn: SynthConfig, seed: int = 0, length: int = 10**9):
        self.enc, self.syn, self.seed, self.length = enc, syn, seed, length

    def __len__(self) -> int:
        return self.length

    def record(self, i: int) -> ImageRecord:
        raise NotImplementedError

    def __getitem__(self, i: int) -> dict:
        rng = np.random.default_rng([self.seed, i, 17])
        rec = self.record(i)
        image = rec.image if isinstance(rec.image, np.ndarray) else load_image(rec.image)
        ok = np.isfinite(rec.keypoints).all(-1).sum(1) >= 4
        candidates = np.flatnonzero(ok) if ok.any() else np.arange(len(rec.keypoints))
        p = int(rng.choice(candidates))
        return make_sample(image, rec.keypoints, rec.head_boxes, p, rng, self.enc, self.syn)


#: consecutive samples drawn from one synthetic scene (different people and augmentations): drawing
#: the scene costs more than the rest of a sample
SAMPLES_PER_SCENE = 4


@lru_cache(maxsize=16)
def _scene(seed: int, index: int):
    from .scenes import make_scene

    return make_scene(seed, index)


class SyntheticDataset(RefinerDataset):
    def record(self, i: int) -> ImageRecord:
        sc = _scene(TRAIN_SEED_BASE + self.seed, i // SAMPLES_PER_SCENE)
        return ImageRecord(sc.image, sc.keypoints, sc.head_boxes)


class RecordDataset(RefinerDataset):
    def __init__(self, records: list[ImageRecord], enc, syn, seed=0):
        if not records:
            raise InputError("the training set has no annotated people", fix="check the annotation file")
        super().__init__(enc, syn, seed, length=10**9)
        self.records = records

    def record(self, i: int) -> ImageRecord:
        return self.records[i % len(self.records)]


# ------------------------------------------------------------------------------------ readers
def posetrack_records(annotations: str | Path, images: str | Path) -> list[ImageRecord]:
    from ..formats.posetrack import read_posetrack

    out = []
    for seq in read_posetrack(annotations):
        s15 = seq.to_skeleton(POSETRACK15)
        b = s15.frame_bounds()
        for f in range(s15.num_frames):
            if b[f + 1] > b[f]:
                out.append(ImageRecord(str(Path(images) / s15.image_names[f]), s15.keypoints[b[f]:b[f + 1], :, :2],
                                       s15.head_box[b[f]:b[f + 1]]))
    return out


def coco_to_posetrack15(kp: np.ndarray) -> np.ndarray:
    """(P, 17, 2) COCO -> (P, 15, 2): head bottom = shoulder midpoint; head top = eye midpoint moved
    away from the head bottom by 0.6 of their distance (the paper's COCO heuristics)."""
    out = remap_keypoints(np.concatenate([kp, np.zeros(kp.shape[:-1] + (1,))], -1), COCO17, POSETRACK15)[..., :2]
    neck = (kp[:, COCO17.index("left_shoulder")] + kp[:, COCO17.index("right_shoulder")]) / 2
    eyes = (kp[:, COCO17.index("left_eye")] + kp[:, COCO17.index("right_eye")]) / 2
    out[:, POSETRACK15.index("neck")] = neck
    out[:, POSETRACK15.index("head_top")] = eyes + 0.6 * (eyes - neck)
    return out


def coco_records(annotations: str | Path, images: str | Path) -> list[ImageRecord]:
    from pycocotools.coco import COCO

    coco = COCO(str(annotations))
    out = []
    for img_id in sorted(coco.getImgIds()):
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=img_id, iscrowd=False)) if a.get("num_keypoints", 0) > 0]
        if not anns:
            continue
        kp = np.array([a["keypoints"] for a in anns], float).reshape(-1, 17, 3)
        xy = np.where((kp[..., 2] > 0)[..., None], kp[..., :2], np.nan)
        pt = coco_to_posetrack15(xy)
        heads = np.full((len(anns), 4), np.nan)  # COCO has no head boxes: the scale comes from the pose
        out.append(ImageRecord(str(Path(images) / coco.loadImgs(img_id)[0]["file_name"]), pt, heads))
    return out


def mpii_records(annotation: str | Path, images: str | Path, train: bool | None = True) -> list[ImageRecord]:
    from ..formats.mpii import read_release

    seq = next(iter(read_release(annotation)))
    img_train = np.asarray(seq.meta["img_train"], bool)
    b = seq.frame_bounds()
    out = []
    for f in range(seq.num_frames):
        if b[f + 1] == b[f] or (train is not None and img_train[f] != train):
            continue
        kp = seq.keypoints[b[f]:b[f + 1], :, :2]
        pt = remap_keypoints(np.concatenate([kp, np.zeros(kp.shape[:-1] + (1,))], -1), MPII16, POSETRACK15)[..., :2]
        pt[:, POSETRACK15.index("nose")] = (kp[:, MPII16.index("head_top")] + kp[:, MPII16.index("neck")]) / 2
        if np.isfinite(pt).all(-1).any():
            out.append(ImageRecord(str(Path(images) / seq.image_names[f]), pt, seq.head_box[b[f]:b[f + 1]]))
    return out


DATASETS = {
    "posetrack": posetrack_records,
    "coco": coco_records,
    "mpii": mpii_records,
}


def read_split(dataset: str, annotations: str | Path, images: str | Path,
               holdout: float) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """The images of a real dataset split into training and held-out ones: the last ``holdout`` share
    of them in the reader's order (whole sequences last for PoseTrack folders, the last frames of a
    single sequence), at least one when ``holdout`` > 0 and there are two images or more. The split is
    deterministic, so the calibration step after training finds the same held-out images."""
    records = DATASETS[dataset](annotations, images)
    if not records:
        raise InputError("has no annotated people to train on", file=annotations, fix="check the annotation file")
    n_held = int(np.ceil(holdout * len(records))) if holdout > 0 and len(records) > 1 else 0
    n_held = min(n_held, len(records) - 1)
    return records[:len(records) - n_held], records[len(records) - n_held:]
