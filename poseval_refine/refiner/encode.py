"""Input normalisation, disk encoding, training targets and decoding (docs/refiner.md: "No GT in the
refiner's input").

A person is rescaled so that it is about ``340 * scale`` px tall (height = 8 head sizes), and
the network sees a fixed canvas centred on the input pose, large enough for the pose plus the
official 250 px margin. The head size comes from the input pose itself, robustly: the median,
over the bones present, of the bone's length divided by its typical length in head sizes on real
people. A method's output carries no GT head box, and a single displaced joint must not change
the scale much (the official neck-head-top stick does both wrong). A fixed canvas (instead of
the official tight crop) makes each person's result independent of which other people share its
batch. Every pixel constant is multiplied by the single ``scale`` knob, so small CPU
configurations keep the paper's geometry.

Coordinates are pixel indices: canvas pixel ``i`` is at ``i``, a mirror maps ``x`` to
``size - 1 - x``, and output cell ``c`` (pixels ``8c .. 8c + 7``) is centred at ``8c + 3.5``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..skeletons import POSETRACK15, head_size
from .model import LOCREF_STDEV, STRIDE

_J = {n: i for i, n in enumerate(POSETRACK15.joints)}
NECK, HEAD_TOP = _J["neck"], _J["head_top"]
#: official constants at scale 1 (human-pose-refiner run.py / pose_cfg.yaml)
PERSON_HEIGHT = 340.0  # px; 400 * global_scale 0.845
CROP_MARGIN = 250.0  # delta_crop
DISK_RADIUS = 14.4  # pos_dist_thresh 17 * global_scale
MEAN_HEAD_DIAG = 101.4252  # mean_hbbox_diag
IMAGE_MEAN = np.array([116.1, 105.3, 96.0], np.float32)
IMAGE_STD = 64.0
#: the head size when a pose has no two joints to measure (the official mean head-box diagonal)
FALLBACK_HEAD_SIZE = 0.6 * MEAN_HEAD_DIAG
#: (joint, joint, median length in head sizes): medians over the people of the MPII Human Pose validation
#: split who have both joints (``python benchmarks/refiner_bone_lengths.py`` prints them again; the 1208 people
#: of Iqbal et al.'s PoseTrack training split were reported to give the same within 8 %, not re-measured
#: here). Real bones are foreshortened, so these are
#: medians of 2D lengths, not anatomical lengths.
BONES = tuple((_J[a], _J[b], ref) for a, b, ref in (
    ("neck", "head_top", 1.333),
    ("neck", "right_shoulder", 0.767), ("neck", "left_shoulder", 0.772), ("right_shoulder", "left_shoulder", 1.399),
    ("right_shoulder", "right_elbow", 1.254), ("right_elbow", "right_wrist", 1.011),
    ("left_shoulder", "left_elbow", 1.254), ("left_elbow", "left_wrist", 0.998),
    ("right_shoulder", "right_hip", 2.318), ("left_shoulder", "left_hip", 2.331), ("right_hip", "left_hip", 0.834),
    ("right_hip", "right_knee", 1.812), ("right_knee", "right_ankle", 1.753),
    ("left_hip", "left_knee", 1.796), ("left_knee", "left_ankle", 1.754),
    ("neck", "right_hip", 2.619), ("neck", "left_hip", 2.618),
))
_BONE_A = np.array([b[0] for b in BONES])
_BONE_B = np.array([b[1] for b in BONES])
_BONE_REF = np.array([b[2] for b in BONES])
#: joints farther than this many head sizes from the pose's median are left out when centring the canvas
CORE_RADIUS = 6.0
#: centre of output cell 0 in canvas pixel indices (pixels 0..7)
CELL_CENTRE = (STRIDE - 1) / 2.0


@dataclass(frozen=True)
class EncodeConfig:
    scale: float = 1.0
    #: canvas in units of PERSON_HEIGHT + 2 margins; 1.0 gives 840 x 840 px at scale 1
    canvas_factor: float = 1.0
    #: 0: the official binary disk targets; > 0: Gaussian targets of this sigma (canvas px), which peak
    #: at the joint, so the argmax cell is the nearest one even before the offsets are learnt
    target_sigma: float = 0.0

    @property
    def person_height(self) -> float:
        return PERSON_HEIGHT * self.scale

    @property
    def margin(self) -> float:
        return CROP_MARGIN * self.scale

    @property
    def radius(self) -> float:
        return DISK_RADIUS * self.scale

    @property
    def target_radius(self) -> float:
        # at least 1.5 cells, so small scales still get a few positive cells around every joint
        return max(DISK_RADIUS * self.scale, 1.5 * STRIDE)

    @property
    def canvas(self) -> int:
        side = (self.person_height + 2 * self.margin) * self.canvas_factor
        return int(np.ceil(side / 16.0) * 16)  # a multiple of 16: exact stride-8 maps

    def as_dict(self) -> dict:
        return asdict(self)


def pose_head_size(xy: np.ndarray) -> float:
    """Head size (px) from a pose alone, robust to a few wrong joints: the median over the bones
    present of length / typical length (``BONES``). NaN when no bone has both ends."""
    d = np.hypot(*(xy[_BONE_A] - xy[_BONE_B]).T) / _BONE_REF
    d = d[np.isfinite(d) & (d > 0)]
    return float(np.median(d)) if len(d) else float("nan")


def head_size_estimate(xy: np.ndarray, head_box: np.ndarray | None = None, scale_from: str = "pose") -> float:
    """The head size the refiner normalises with: from the pose (default), or from the head box when
    asked for by name (``scale_from="head-box"``) and present; the official mean head as a last resort."""
    if scale_from == "head-box" and head_box is not None and np.isfinite(head_box).all():
        hs = float(head_size(head_box))
        if hs > 0:
            return hs
    hs = pose_head_size(xy)
    return hs if np.isfinite(hs) and hs > 1e-3 else FALLBACK_HEAD_SIZE


def person_scale(xy: np.ndarray, cfg: EncodeConfig, head_box: np.ndarray | None = None,
                 scale_from: str = "pose") -> float:
    """Factor that brings the person to ``cfg.person_height`` px (height = 8 head sizes)."""
    return cfg.person_height / (8.0 * head_size_estimate(xy, head_box, scale_from))


@dataclass
class Crop:
    """Maps canvas pixels to image pixels: image = origin + canvas / scale."""

    origin: np.ndarray  # (2,) image coordinates of canvas pixel (0, 0)
    scale: float
    size: int

    def to_canvas(self, xy: np.ndarray) -> np.ndarray:
        return (xy - self.origin) * self.scale

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        return xy / self.scale + self.origin


def pose_centre(xy: np.ndarray, head: float) -> np.ndarray:
    """Centre of the box of the pose's core: present joints within CORE_RADIUS head sizes of the
    joints' median, so a few far-off joints do not pull the canvas away from the person."""
    pts = xy[np.isfinite(xy).all(1)]
    med = np.median(pts, 0)
    core = pts[np.hypot(*(pts - med).T) <= CORE_RADIUS * head]
    if len(core) == 0:
        core = pts
    return (core.min(0) + core.max(0)) / 2.0


def make_crop(xy: np.ndarray, scale: float, cfg: EncodeConfig) -> Crop:
    """The canvas centred on the core of the present joints of ``xy`` (image coordinates).

    Joints outside it are not seen by the network (their disks are clipped away); the refiner
    still predicts them."""
    centre = pose_centre(xy, cfg.person_height / (8.0 * scale))
    size = cfg.canvas
    return Crop(origin=centre - (size / 2.0) / scale, scale=scale, size=size)


def in_canvas(xy_canvas: np.ndarray, size: int) -> np.ndarray:
    """(J,) bool: the joint is present and lies on the canvas."""
    return np.isfinite(xy_canvas).all(1) & (xy_canvas >= 0).all(1) & (xy_canvas <= size - 1).all(1)


def crop_image(image: np.ndarray, crop: Crop) -> np.ndarray:
    """(size, size, 3) float32 canvas of an (H, W, 3) uint8 image, bilinear, zeros outside."""
    from PIL import Image

    pil = Image.fromarray(image)
    inv = 1.0 / crop.scale
    # PIL samples at pixel centres (i + 0.5): shift so canvas pixel i shows image pixel origin + i / scale
    c = 0.5 - 0.5 * inv
    out = pil.transform((crop.size, crop.size), Image.Transform.AFFINE,
                        (inv, 0.0, float(crop.origin[0]) + c, 0.0, inv, float(crop.origin[1]) + c),
                        resample=Image.Resampling.BILINEAR, fillcolor=tuple(int(v) for v in IMAGE_MEAN))
    return np.asarray(out, dtype=np.float32)


def disk_channels(xy: np.ndarray, size: int, radius: float) -> np.ndarray:
    """(J, size, size) float32: 1 within ``radius`` of each present joint (canvas coords), else 0.
    Disks are clipped to the canvas; a joint far off it gives an empty channel."""
    J = len(xy)
    out = np.zeros((J, size, size), np.float32)
    grid = np.arange(size, dtype=np.float64)
    r = int(np.ceil(radius)) + 1
    for j in np.flatnonzero(np.isfinite(xy).all(1)):
        cx, cy = xy[j]
        x0, x1 = max(int(np.floor(cx)) - r, 0), min(int(np.ceil(cx)) + r + 1, size)
        y0, y1 = max(int(np.floor(cy)) - r, 0), min(int(np.ceil(cy)) + r + 1, size)
        if x0 >= x1 or y0 >= y1:
            continue
        dx = (grid[x0:x1] - cx) ** 2
        dy = (grid[y0:y1] - cy) ** 2
        out[j, y0:y1, x0:x1] = dy[:, None] + dx[None, :] <= radius * radius
    return out


def network_input(canvas_rgb: np.ndarray, disks: np.ndarray) -> np.ndarray:
    """(3 + J, S, S) float32: normalised RGB and the disk channels (centred at 0.5)."""
    out = np.empty((3 + len(disks),) + disks.shape[1:], np.float32)
    out[:3] = ((canvas_rgb - IMAGE_MEAN) * np.float32(1.0 / IMAGE_STD)).transpose(2, 0, 1)
    np.subtract(disks, np.float32(0.5), out=out[3:])
    return out


def targets(xy: np.ndarray, size: int, radius: float, sigma: float = 0.0
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Heatmap targets (J, S/8, S/8), locref targets (J, 2, S/8, S/8), their masks, per joint.

    A cell is positive when its centre (cell * 8 + 3.5) lies within ``radius`` of the joint; its
    locref target is the offset to the joint in units of LOCREF_STDEV. With ``sigma`` > 0 a positive
    cell's target is exp(-d^2 / 2 sigma^2) instead of 1. Absent joints (NaN) get weight 0 everywhere."""
    J = len(xy)
    n = size // STRIDE
    centres = np.arange(n, dtype=np.float32) * STRIDE + CELL_CENTRE
    heat = np.zeros((J, n, n), np.float32)
    loc = np.zeros((J, 2, n, n), np.float32)
    present = np.isfinite(xy).all(1)
    for j in np.flatnonzero(present):
        dx = xy[j, 0] - centres[None, :]
        dy = xy[j, 1] - centres[:, None]
        d2 = dx * dx + dy * dy
        pos = d2 <= radius * radius
        heat[j] = np.where(pos, np.exp(-d2 / (2 * sigma * sigma)), 0) if sigma > 0 else pos
        loc[j, 0] = np.where(pos, dx / LOCREF_STDEV, 0)
        loc[j, 1] = np.where(pos, dy / LOCREF_STDEV, 0)
    weight = np.broadcast_to(present[:, None, None], heat.shape).astype(np.float32)
    return heat, loc, weight, present


def decode(heat_prob: np.ndarray, locref: np.ndarray) -> np.ndarray:
    """(B, J, 3) canvas x, y and confidence: argmax cell * 8 + 3.5 + offset * LOCREF_STDEV."""
    B, J, H, W = heat_prob.shape
    flat = heat_prob.reshape(B, J, -1)
    idx = flat.argmax(-1)
    conf = np.take_along_axis(flat, idx[..., None], -1)[..., 0]
    cy, cx = np.divmod(idx, W)
    lx = np.take_along_axis(locref[:, :, 0].reshape(B, J, -1), idx[..., None], -1)[..., 0]
    ly = np.take_along_axis(locref[:, :, 1].reshape(B, J, -1), idx[..., None], -1)[..., 0]
    x = cx * STRIDE + CELL_CENTRE + lx * LOCREF_STDEV
    y = cy * STRIDE + CELL_CENTRE + ly * LOCREF_STDEV
    return np.stack([x, y, conf], axis=-1)
