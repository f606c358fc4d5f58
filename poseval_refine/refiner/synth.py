"""Training-error synthesis of the paper (§3.2): T1 shift, T2 left/right swap, T3 a neighbour's
joint, T4 removal. Coordinates are canvas pixels of the normalised person; every pixel constant
is multiplied by ``scale``. Each transform can be switched off (Table 1's strong methods were
refined with a model trained on T1 only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..skeletons import POSETRACK15


@dataclass(frozen=True)
class SynthConfig:
    t1: bool = True
    t2: bool = True
    t3: bool = True
    t4: bool = True
    scale: float = 1.0
    near_prob: float = 0.9  # T1: share of shifts drawn from [0, near] px
    near: float = 25.0
    far: float = 125.0  # T1: the others from [near, far] px
    swap_prob: float = 0.1  # T2: per symmetric pair
    neighbour_prob: float = 0.3  # T3: per joint
    neighbour_radius: float = 75.0
    remove_prob: float = 0.3  # T4: per joint

    @classmethod
    def only(cls, names: str, scale: float = 1.0) -> SynthConfig:
        """E.g. ``only("t1")`` or ``only("t1,t2,t3,t4")``."""
        chosen = {n.strip().lower() for n in names.split(",") if n.strip()}
        unknown = chosen - {"t1", "t2", "t3", "t4"}
        if unknown:
            raise ValueError(f"unknown transforms {sorted(unknown)}; use t1, t2, t3, t4")
        return cls(t1="t1" in chosen, t2="t2" in chosen, t3="t3" in chosen, t4="t4" in chosen, scale=scale)

    def as_dict(self) -> dict:
        return asdict(self)


PAIRS = POSETRACK15.symmetric_pairs
FLIP = POSETRACK15.flip_permutation()


def t1_shift(xy: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    """Every joint moves in a uniform direction by a length from [0, 25] px (90%) or [25, 125] px."""
    n = len(xy)
    angle = rng.uniform(0, 2 * np.pi, n)
    near = rng.random(n) < cfg.near_prob
    length = np.where(near, rng.uniform(0, cfg.near, n), rng.uniform(cfg.near, cfg.far, n)) * cfg.scale
    return xy + np.column_stack([np.cos(angle), np.sin(angle)]) * length[:, None]


def t2_swap(xy: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    """Each left/right pair is swapped with probability 0.1."""
    out = xy.copy()
    for a, b in PAIRS:
        if rng.random() < cfg.swap_prob:
            out[[a, b]] = xy[[b, a]]
    return out


def t3_neighbour(xy: np.ndarray, gt_xy: np.ndarray, others: np.ndarray, rng: np.random.Generator,
                 cfg: SynthConfig) -> np.ndarray:
    """With probability 0.3 a joint takes the same or the symmetric joint of another person whose
    joint lies within 75 px of this person's true joint (when there is one)."""
    out = xy.copy()
    if len(others) == 0:
        return out
    radius = cfg.neighbour_radius * cfg.scale
    for j in range(len(xy)):
        if not np.isfinite(gt_xy[j]).all() or rng.random() >= cfg.neighbour_prob:
            continue
        cand = np.concatenate([others[:, j], others[:, FLIP[j]]])
        cand = cand[np.isfinite(cand).all(1)]
        cand = cand[np.hypot(*(cand - gt_xy[j]).T) <= radius]
        if len(cand):
            out[j] = cand[rng.integers(len(cand))]
    return out


def t4_remove(xy: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    """Each joint is removed with probability 0.3."""
    out = xy.copy()
    out[rng.random(len(xy)) < cfg.remove_prob] = np.nan
    return out


def synthesize(gt_xy: np.ndarray, others: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    """An input pose with the paper's errors: T3, then T2, then T1, then T4."""
    xy = gt_xy.copy()
    if cfg.t3:
        xy = t3_neighbour(xy, gt_xy, others, rng, cfg)
    if cfg.t2:
        xy = t2_swap(xy, rng, cfg)
    if cfg.t1:
        xy = t1_shift(xy, rng, cfg)
    if cfg.t4:
        xy = t4_remove(xy, rng, cfg)
    if not np.isfinite(xy).all(1).any():  # keep at least one joint: a pose with none is not refined
        j = int(rng.choice(np.flatnonzero(np.isfinite(gt_xy).all(1))))
        xy[j] = gt_xy[j]
    return xy
