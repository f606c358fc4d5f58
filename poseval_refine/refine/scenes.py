"""Synthetic scenes for tests, the demo and users without data (``prt synth``).

Several articulated people per image, drawn as limbs of varied width and colour on a textured
background, with occluders, some people close enough to each other for T3 errors. Joints have
no markers of their own and a person's left and right limbs look alike, so, as on real images,
only structure tells which joint is which. Deterministic: scene ``i`` of seed ``s`` is always
the same image.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..poses import PoseSequence
from ..skeletons import POSETRACK15

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


def _person(rng: np.random.Generator, centre: np.ndarray, height: float) -> np.ndarray:
    """A random articulated pose (15 x 2), pelvis at ``centre``."""
    xy = np.zeros((15, 2))
    up = -np.pi / 2 + rng.normal(0, 0.15)  # torso direction (image y points down)
    direction = np.array([np.cos(up), np.sin(up)])
    side = np.array([-direction[1], direction[0]]) * (1 if rng.random() < 0.5 else -1)  # facing
    neck = centre + direction * 0.30 * height
    xy[J["neck"]] = neck
    head_dir = up + rng.normal(0, 0.2)
    xy[J["head_top"]] = neck + np.array([np.cos(head_dir), np.sin(head_dir)]) * 0.13 * height
    xy[J["nose"]] = neck + np.array([np.cos(head_dir), np.sin(head_dir)]) * 0.07 * height + side * 0.015 * height
    for s, sign in (("right", 1), ("left", -1)):
        sh = neck + side * sign * 0.11 * height + direction * -0.02 * height
        hip = centre + side * sign * 0.07 * height
        xy[J[f"{s}_shoulder"]], xy[J[f"{s}_hip"]] = sh, hip
        a = up + np.pi + sign * rng.uniform(0.15, 1.7) * (1 if rng.random() < 0.85 else -0.3)
        elbow = sh + np.array([np.cos(a), np.sin(a)]) * 0.17 * height
        a2 = a + rng.uniform(-1.8, 1.8)
        xy[J[f"{s}_elbow"]], xy[J[f"{s}_wrist"]] = elbow, elbow + np.array([np.cos(a2), np.sin(a2)]) * 0.15 * height
        t = up + np.pi + sign * rng.uniform(-0.15, 0.5)
        knee = hip + np.array([np.cos(t), np.sin(t)]) * 0.245 * height
        t2 = t + rng.uniform(-0.9, 0.1) * sign
        xy[J[f"{s}_knee"]], xy[J[f"{s}_ankle"]] = knee, knee + np.array([np.cos(t2), np.sin(t2)]) * 0.245 * height
    return xy


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    low = rng.uniform(40, 200, size=(3, 3, 3))
    from PIL import Image

    base = np.asarray(Image.fromarray(low.astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    f = rng.uniform(0.02, 0.15, 2)
    stripes = 25 * np.sin(xx * f[0] + yy * f[1] + rng.uniform(0, 6))[..., None]
    noise = rng.normal(0, 12, (h, w, 1))
    return np.clip(base + stripes + noise, 0, 255).astype(np.uint8)


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
        height = rng.uniform(0.45, 0.75) * h
        centre = np.array([x, rng.uniform(0.5, 0.62) * h])
        x += rng.uniform(0.12, 0.3) * w  # neighbours overlap now and then
        xy = _person(rng, centre, height)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))  # limbs: left and right alike
        torso_colour = tuple(int((c + rng.integers(80, 176)) % 256) for c in colour)  # clothing differs from limbs
        skin = tuple(int(c) for c in rng.integers(60, 256, 3))
        width = int(max(3, rng.uniform(0.035, 0.07) * height))
        torso = [xy[J["right_shoulder"]], xy[J["left_shoulder"]], xy[J["left_hip"]], xy[J["right_hip"]]]
        draw.polygon([tuple(p) for p in torso], fill=torso_colour)
        for a, b in LIMBS:
            draw.line([tuple(xy[J[a]]), tuple(xy[J[b]])], fill=colour if a != "neck" else skin, width=width)
        for j in ("right_shoulder", "left_shoulder", "right_hip", "left_hip", "right_elbow", "left_elbow",
                  "right_knee", "left_knee"):
            r = width / 2
            draw.ellipse([xy[J[j], 0] - r, xy[J[j], 1] - r, xy[J[j], 0] + r, xy[J[j], 1] + r], fill=colour)
        head_len = np.hypot(*(xy[J["head_top"]] - xy[J["neck"]]))
        hc = (xy[J["head_top"]] + xy[J["neck"]]) / 2
        hr = head_len * 0.55
        draw.ellipse([hc[0] - hr * 0.8, hc[1] - hr, hc[0] + hr * 0.8, hc[1] + hr], fill=skin)
        boxes.append([hc[0] - hr * 0.8, hc[1] - hr, hc[0] + hr * 0.8, hc[1] + hr])
        poses.append(xy)
    for _ in range(int(rng.integers(0, 3))):  # occluders
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        ow, oh = rng.uniform(0.05, 0.18) * w, rng.uniform(0.05, 0.2) * h
        draw.rectangle([cx, cy, cx + ow, cy + oh], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return Scene(np.asarray(img), np.array(poses), np.array(boxes))


def write_scenes(out: str | Path, n: int, seed: int, overwrite: bool = False) -> Path:
    """``out/annotations.json`` (PoseTrack-2018 layout) and ``out/images/NNNNNN.jpg``."""
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
    return out
