"""Input normalisation, disk encoding, training targets and decoding (refiner.md §1.1).

A person is rescaled so that it is about ``340 * scale`` px tall (height estimated as 8 head
sizes: from the head box when given, else from the neck-head-top stick, else a mean head), and
the network sees a fixed canvas centred on the input pose's box, large enough for the pose plus
the official 250 px margin. A fixed canvas (instead of the official tight crop) makes each
person's result independent of which other people share its batch. Every pixel constant is
multiplied by the single ``scale`` knob, so small CPU configurations keep the paper's geometry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..skeletons import POSETRACK15, head_size
from .model import LOCREF_STDEV, STRIDE

NECK, HEAD_TOP = POSETRACK15.index("neck"), POSETRACK15.index("head_top")
#: official constants at scale 1 (human-pose-refiner run.py / pose_cfg.yaml)
PERSON_HEIGHT = 340.0  # px; 400 * global_scale 0.845
CROP_MARGIN = 250.0  # delta_crop
DISK_RADIUS = 14.4  # pos_dist_thresh 17 * global_scale
MEAN_HEAD_DIAG = 101.4252  # mean_hbbox_diag
DIAG_TO_STICK = 1.4286  # mean_diag_to_stick
MAX_CROP_PIXELS = 3_000_000
IMAGE_MEAN = np.array([116.1, 105.3, 96.0], np.float32)
IMAGE_STD = 64.0


@dataclass(frozen=True)
class EncodeConfig:
    scale: float = 1.0
    #: canvas in units of PERSON_HEIGHT + 2 margins; 1.0 gives 840 x 840 px at scale 1
    canvas_factor: float = 1.0

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


def head_size_estimate(xy: np.ndarray, head_box: np.ndarray | None) -> float:
    """Head size (0.6 x head-box diagonal) from the box, else from the neck-head-top stick, else a mean."""
    if head_box is not None and np.isfinite(head_box).all():
        hs = float(head_size(head_box))
        if hs > 0:
            return hs
    if np.isfinite(xy[[NECK, HEAD_TOP]]).all():
        stick = float(np.hypot(*(xy[HEAD_TOP] - xy[NECK])))
        if stick > 1:
            return stick * DIAG_TO_STICK * 0.6
    return MEAN_HEAD_DIAG * 0.6


def person_scale(xy: np.ndarray, head_box: np.ndarray | None, cfg: EncodeConfig) -> float:
    """Factor that brings the person to ``cfg.person_height`` px (height = 8 head sizes)."""
    return cfg.person_height / (8.0 * head_size_estimate(xy, head_box))


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


def make_crop(xy: np.ndarray, scale: float, cfg: EncodeConfig) -> Crop:
    """The canvas centred on the box of the present joints of ``xy`` (image coordinates)."""
    ok = np.isfinite(xy).all(1)
    lo, hi = xy[ok].min(0), xy[ok].max(0)
    centre = (lo + hi) / 2.0
    size = cfg.canvas
    return Crop(origin=centre - (size / 2.0) / scale, scale=scale, size=size)


def crop_image(image: np.ndarray, crop: Crop) -> np.ndarray:
    """(size, size, 3) float32 canvas of an (H, W, 3) uint8 image, bilinear, zeros outside."""
    from PIL import Image

    pil = Image.fromarray(image)
    inv = 1.0 / crop.scale
    out = pil.transform((crop.size, crop.size), Image.Transform.AFFINE,
                        (inv, 0.0, float(crop.origin[0]), 0.0, inv, float(crop.origin[1])),
                        resample=Image.Resampling.BILINEAR, fillcolor=tuple(int(v) for v in IMAGE_MEAN))
    return np.asarray(out, dtype=np.float32)


def disk_channels(xy: np.ndarray, size: int, radius: float) -> np.ndarray:
    """(J, size, size) float32: 1 within ``radius`` of each present joint (canvas coords), else 0."""
    J = len(xy)
    out = np.zeros((J, size, size), np.float32)
    grid = np.arange(size, dtype=np.float32)
    for j in np.flatnonzero(np.isfinite(xy).all(1)):
        dx = (grid - xy[j, 0]) ** 2
        dy = (grid - xy[j, 1]) ** 2
        out[j] = (dy[:, None] + dx[None, :] <= radius * radius).astype(np.float32)
    return out


def network_input(canvas_rgb: np.ndarray, disks: np.ndarray) -> np.ndarray:
    """(3 + J, S, S) float32: normalised RGB and the disk channels (centred at 0.5)."""
    rgb = ((canvas_rgb - IMAGE_MEAN) / IMAGE_STD).transpose(2, 0, 1)
    return np.concatenate([rgb, disks - 0.5], axis=0).astype(np.float32)


def targets(xy: np.ndarray, size: int, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Heatmap targets (J, S/8, S/8), locref targets (J, 2, S/8, S/8), their masks, per joint.

    A cell is positive when its centre (cell * 8 + 4) lies within ``radius`` of the joint; its
    locref target is the offset to the joint in units of LOCREF_STDEV. Absent joints (NaN) get
    weight 0 everywhere."""
    J = len(xy)
    n = size // STRIDE
    centres = np.arange(n, dtype=np.float32) * STRIDE + STRIDE / 2.0
    heat = np.zeros((J, n, n), np.float32)
    loc = np.zeros((J, 2, n, n), np.float32)
    present = np.isfinite(xy).all(1)
    for j in np.flatnonzero(present):
        dx = xy[j, 0] - centres[None, :]
        dy = xy[j, 1] - centres[:, None]
        pos = dx * dx + dy * dy <= radius * radius
        heat[j] = pos
        loc[j, 0] = np.where(pos, dx / LOCREF_STDEV, 0)
        loc[j, 1] = np.where(pos, dy / LOCREF_STDEV, 0)
    weight = np.broadcast_to(present[:, None, None], heat.shape).astype(np.float32)
    return heat, loc, weight, present


def decode(heat_prob: np.ndarray, locref: np.ndarray) -> np.ndarray:
    """(B, J, 3) canvas x, y and confidence: argmax cell * 8 + 4 + offset * LOCREF_STDEV."""
    B, J, H, W = heat_prob.shape
    flat = heat_prob.reshape(B, J, -1)
    idx = flat.argmax(-1)
    conf = np.take_along_axis(flat, idx[..., None], -1)[..., 0]
    cy, cx = np.divmod(idx, W)
    lx = np.take_along_axis(locref[:, :, 0].reshape(B, J, -1), idx[..., None], -1)[..., 0]
    ly = np.take_along_axis(locref[:, :, 1].reshape(B, J, -1), idx[..., None], -1)[..., 0]
    x = cx * STRIDE + STRIDE / 2.0 + lx * LOCREF_STDEV
    y = cy * STRIDE + STRIDE / 2.0 + ly * LOCREF_STDEV
    return np.stack([x, y, conf], axis=-1)
