"""Synthetic scenes for tests, the demo and users without data (``prt synth``).

Several articulated people per image, drawn as limbs of varied width and colour on a textured
background, with occluders, some people close enough to each other for T3 errors. Bodies vary as
real ones do: limb proportions +-15 %, children (a shorter body under the same head) and limbs
foreshortened by turning out of the image plane. Joints have
no markers of their own and a person's left and right limbs look alike, so, as on real images,
only structure tells which joint is which. Deterministic: scene ``i`` of seed ``s`` is always
the same image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..poses import PoseSequence
from ..skeletons import POSETRACK15

#: file ``prt synth`` writes beside its images
SYNTH_MARKER = "prt_synth.json"
IMAGE_SIZE = (480, 360)  # width, height
J = {n: i for i, n in enumerate(POSETRACK15.joints)}
LIMBS = [("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("left_ankle", "left_knee"),
         ("left_knee", "left_hip"), ("right_wrist", "right_elbow"), ("right_elbow", "right_shoulder"),
         ("left_wrist", "left_elbow"), ("left_elbow", "left_shoulder"), ("neck", "head_top")]


@dataclass
class Scene:
    image: np.ndarray  # (H, W, 3) uint8
    keypoints: np.ndarray  # (P, 15, 2) PoseTrack-15
    head_boxes: np.ndarray  # (P, 4) x1, y1, x2, y2


#: an adult's segment lengths in head sizes before foreshortening; drawn people vary each by +-15 %,
#: children have a body 0.62-0.8 times as long for the same head, and limbs turned out of the image
#: plane look shorter, so the 2D medians come out near those of real people (encode.BONES)
ADULT = {"head": 1.333, "shoulder": 1.08, "upper_arm": 1.42, "forearm": 1.15, "torso": 2.8, "hip": 0.57,
         "thigh": 2.07, "shin": 2.02}
CHILD_PROB = 0.2


def _unit(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)])


def _foreshortened(rng: np.random.Generator) -> float:
    """How long a segment looks: 1 in the image plane, cos(tilt) when turned out of it."""
    return float(np.cos(rng.uniform(0, 1.25))) if rng.random() < 0.5 else float(np.cos(rng.uniform(0, 0.35)))


def _person(rng: np.random.Generator, centre: np.ndarray, head: float) -> tuple[np.ndarray, bool]:
    """A random articulated pose (15 x 2) with pelvis at ``centre`` and head size ``head`` px; whether
    it is a child."""
    child = rng.random() < CHILD_PROB
    body = rng.uniform(0.62, 0.8) if child else 1.0
    L = {k: v * head * (1.0 if k == "head" else body * rng.uniform(0.85, 1.15)) for k, v in ADULT.items()}
    xy = np.zeros((15, 2))
    up = -np.pi / 2 + rng.normal(0, 0.15)  # torso direction (image y points down)
    direction = _unit(up)
    yaw = rng.uniform(-1.3, 1.3)  # body turned away from the camera: shoulders and hips look narrower
    width = abs(np.cos(yaw))
    side = np.array([-direction[1], direction[0]]) * (1 if rng.random() < 0.5 else -1)  # facing
    neck = centre + direction * L["torso"] * np.cos(rng.uniform(0, 0.5))
    xy[J["neck"]] = neck
    head_dir = up + rng.normal(0, 0.2)
    xy[J["head_top"]] = neck + _unit(head_dir) * L["head"] * rng.uniform(0.95, 1.05)
    xy[J["nose"]] = neck + _unit(head_dir) * 0.55 * L["head"] + side * 0.12 * head * np.sin(yaw)
    for s, sign in (("right", 1), ("left", -1)):
        sh = neck + side * sign * L["shoulder"] * width - direction * 0.15 * head
        hip = centre + side * sign * L["hip"] * width
        xy[J[f"{s}_shoulder"]], xy[J[f"{s}_hip"]] = sh, hip
        a = up + np.pi + sign * rng.uniform(0.15, 1.7) * (1 if rng.random() < 0.85 else -0.3)
        elbow = sh + _unit(a) * L["upper_arm"] * _foreshortened(rng)
        a2 = a + rng.uniform(-1.8, 1.8)
        xy[J[f"{s}_elbow"]], xy[J[f"{s}_wrist"]] = elbow, elbow + _unit(a2) * L["forearm"] * _foreshortened(rng)
        t = up + np.pi + sign * rng.uniform(-0.15, 0.5)
        knee = hip + _unit(t) * L["thigh"] * _foreshortened(rng)
        t2 = t + rng.uniform(-0.9, 0.1) * sign
        xy[J[f"{s}_knee"]], xy[J[f"{s}_ankle"]] = knee, knee + _unit(t2) * L["shin"] * _foreshortened(rng)
    return xy, child


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    low = rng.uniform(40, 200, size=(3, 3, 3))
    from PIL import Image

    base = np.asarray(Image.fromarray(low.astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC), np.float32)
    f = rng.uniform(0.02, 0.15, 2).astype(np.float32)
    phase = np.float32(rng.uniform(0, 6))
    stripes = 25 * np.sin(np.arange(h, dtype=np.float32)[:, None] * f[1] + np.arange(w, dtype=np.float32) * f[0]
                          + phase)
    noise = rng.standard_normal((h, w), dtype=np.float32) * 12
    return np.clip(base + (stripes + noise)[..., None], 0, 255).astype(np.uint8)


def make_scene(seed: int, index: int, size: tuple[int, int] = IMAGE_SIZE) -> Scene:
    from PIL import Image, ImageDraw

    rng = np.random.default_rng([seed, index])
    w, h = size
    img = Image.fromarray(_background(rng, w, h))
    draw = ImageDraw.Draw(img)
    n = int(rng.integers(2, 5))
    poses, boxes = [], []
    x = rng.uniform(0.15, 0.3) * w
    for _ in range(n):
        head = rng.uniform(0.45, 0.75) * h / 8.0  # an adult is about 8 head sizes tall
        centre = np.array([x, rng.uniform(0.5, 0.62) * h])
        x += rng.uniform(0.12, 0.3) * w  # neighbours overlap now and then
        xy, _ = _person(rng, centre, head)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))  # limbs: left and right alike
        torso_colour = tuple(int((c + rng.integers(80, 176)) % 256) for c in colour)  # clothing differs from limbs
        skin = tuple(int(c) for c in rng.integers(60, 256, 3))
        width = int(max(3, rng.uniform(0.3, 0.55) * head))
        torso = [xy[J["right_shoulder"]], xy[J["left_shoulder"]], xy[J["left_hip"]], xy[J["right_hip"]]]
        draw.polygon([tuple(p) for p in torso], fill=torso_colour)
        for a, b in LIMBS:
            draw.line([tuple(xy[J[a]]), tuple(xy[J[b]])], fill=colour if a != "neck" else skin, width=width)
        for j in ("right_shoulder", "left_shoulder", "right_hip", "left_hip", "right_elbow", "left_elbow",
                  "right_knee", "left_knee"):
            r = width / 2
            draw.ellipse([xy[J[j], 0] - r, xy[J[j], 1] - r, xy[J[j], 0] + r, xy[J[j], 1] + r], fill=colour)
        # head: an ellipse from the neck to the head top whose box has a diagonal of head / 0.6
        hc = (xy[J["head_top"]] + xy[J["neck"]]) / 2
        hr = head / (0.6 * 2.0 * np.sqrt(1.0 + 0.8**2))
        draw.ellipse([hc[0] - hr * 0.8, hc[1] - hr, hc[0] + hr * 0.8, hc[1] + hr], fill=skin)
        boxes.append([hc[0] - hr * 0.8, hc[1] - hr, hc[0] + hr * 0.8, hc[1] + hr])
        poses.append(xy)
    for _ in range(int(rng.integers(0, 3))):  # occluders
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        ow, oh = rng.uniform(0.05, 0.18) * w, rng.uniform(0.05, 0.2) * h
        draw.rectangle([cx, cy, cx + ow, cy + oh], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return Scene(np.asarray(img), np.array(poses), np.array(boxes))


def write_scenes(out: str | Path, n: int, seed: int, overwrite: bool = False) -> Path:
    """``out/annotations.json`` (PoseTrack-2018 layout), ``out/images/NNNNNN.jpg`` and the marker
    ``out/prt_synth.json`` (``SYNTH_MARKER``) that tells ``prt refine`` these images are synthetic."""
    from PIL import Image

    from ..formats.posetrack import write_sequence
    from ..io import atomic_dir

    out = Path(out)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "images").mkdir()
        frames, kps, heads, tracks, names = [], [], [], [], []
        for i in range(n):
            sc = make_scene(seed, i)
            name = f"images/{i:06d}.jpg"
            Image.fromarray(sc.image).save(tmp / name, quality=95)
            names.append(name)
            for p in range(len(sc.keypoints)):
                frames.append(i)
                kps.append(np.column_stack([sc.keypoints[p], np.ones(15)]))
                heads.append(sc.head_boxes[p])
                tracks.append(p)
        seq = PoseSequence(name="annotations", skeleton=POSETRACK15, image_names=names,
                           person_frame=np.array(frames), keypoints=np.array(kps).reshape(-1, 15, 3),
                           track_id=np.array(tracks), head_box=np.array(heads).reshape(-1, 4),
                           meta={"conversions": [f"prt synth --n {n} --seed {seed}"]})
        write_sequence(seq, tmp / "annotations.json", "posetrack2018", overwrite=True)
        (tmp / SYNTH_MARKER).write_text(json.dumps({"prt synth": {"n": n, "seed": seed}}) + "\n")
    return out


def synthetic_images(images: str | Path) -> bool:
    """Whether an image folder was written by ``prt synth`` (it holds the marker)."""
    return (Path(images) / SYNTH_MARKER).is_file()
