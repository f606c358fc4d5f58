"""Single-person PCKh and AUC with the MPII MATLAB kit's semantics, and the Python ports' flavours.

MATLAB kit (``computePCK.m``, ``genTablePCK.m``, ``evaluatePCKh.m``): 14 joints (pelvis and
thorax excluded), a hit is ``d <= t`` with ``d`` = distance / head size, unannotated GT joints
are ignored and missing predictions always miss; "UBody" and "Total" are *pooled* over their
joints (count-weighted); Head = mean of upper neck and head top; AUC is the trapezoid rule over
the 51 thresholds 0:0.01:0.5 on the Total curve, abscissa scaled to [0, 1].

The ports differ (docs/protocol.md §2.2): HRNet's Head column is head top only and its "Mean@0.1" reads
t = 0.11; mmpose and bearpaw use a strict ``<``; bearpaw's mean is unweighted over 14 joints
and its grid has 50 points. Each is a named :class:`PCKhFlavour`, so users see which
convention moves their number.

Arrays are in MPII-16 joint order (0 r-ankle ... 5 l-ankle, 6 pelvis, 7 thorax, 8 upper neck,
9 head top, 10 r-wrist ... 15 l-wrist).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .distance import normalized_distance

#: MPII ids of the 14 evaluated joints in the kit's order (annolist2matrix.m)
EVAL_JOINTS = (0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 8, 9)
UBODY_JOINTS = (10, 11, 12, 13, 14, 15)
#: table columns: (name, MPII ids averaged) for the MATLAB kit
TABLE = (
    ("Head", (8, 9)),
    ("Shoulder", (12, 13)),
    ("Elbow", (11, 14)),
    ("Wrist", (10, 15)),
    ("Hip", (2, 3)),
    ("Knee", (1, 4)),
    ("Ankle", (0, 5)),
)
COLUMNS = tuple(name for name, _ in TABLE) + ("UBody", "Total")


@dataclass(frozen=True)
class PCKhFlavour:
    name: str
    description: str
    #: hit test d < t instead of d <= t
    strict: bool = False
    #: MPII ids whose mean is the Head column
    head_joints: tuple[int, ...] = (8, 9)
    #: "pooled": Total = hits / annotated over the 14 joints; "mean": unweighted mean of the 14 values
    total: str = "pooled"
    thresholds: np.ndarray = field(default_factory=lambda: np.linspace(0.0, 0.5, 51))
    #: index into ``thresholds`` that the flavour reports as "@0.1"
    at_01_index: int = 10
    #: compute distances in float32 (mmpose)
    float32: bool = False


FLAVOURS = {f.name: f for f in (
    PCKhFlavour("matlab", "the official MPII MATLAB kit (default)"),
    PCKhFlavour("hrnet", "HRNet / Simple Baselines MPIIDataset.evaluate: Head = head top; 'Mean@0.1' reads t = 0.11",
                head_joints=(9,), thresholds=np.arange(0, 0.51, 0.01), at_01_index=11),
    PCKhFlavour("mmpose", "mmpose MpiiPCKAccuracy: strict '<', Head = head top, float32 distances",
                strict=True, head_joints=(9,), thresholds=np.arange(0, 0.51, 0.01), float32=True),
    PCKhFlavour("bearpaw", "bearpaw/pytorch-pose eval_PCKh.py: strict '<', Head = head top, unweighted mean, "
                "50 thresholds", strict=True, head_joints=(9,), total="mean", thresholds=np.arange(0, 0.5, 0.01)),
)}


def get_flavour(name: str) -> PCKhFlavour:
    if name not in FLAVOURS:
        raise KeyError(f"unknown PCKh flavour {name!r}; known: {', '.join(FLAVOURS)}")
    return FLAVOURS[name]


def normalized_distances(pred_xy: np.ndarray, gt_xy: np.ndarray, head_size: np.ndarray,
                         float32: bool = False) -> np.ndarray:
    """``(N, 16)`` distances in head sizes: NaN where the GT joint is not annotated (NaN),
    ``+inf`` where the prediction is missing. A distance too large for floats (coordinates near
    1e308) is ``inf``, a miss, as in MATLAB; numpy's overflow warning is not raised for it."""
    d = normalized_distance(pred_xy, gt_xy, head_size[:, None], np.float32 if float32 else np.float64)
    d = d.astype(np.float64, copy=False)
    gt_missing = np.isnan(gt_xy).any(-1)
    pred_missing = np.isnan(pred_xy).any(-1)
    d = np.where(pred_missing, np.inf, d)
    return np.where(gt_missing, np.nan, d)


@dataclass
class PCKhStats:
    """Additive counts: hits per threshold and joint, annotated joints per joint."""

    thresholds: np.ndarray  # the flavour's grid (T,)
    hits: np.ndarray  # (T + 1, 16) int: the grid, then the table threshold
    annotated: np.ndarray  # (16,) int

    def merge(self, other: PCKhStats) -> PCKhStats:
        return PCKhStats(self.thresholds, self.hits + other.hits, self.annotated + other.annotated)


def _grid(flavour: PCKhFlavour, at: float) -> np.ndarray:
    t = np.append(flavour.thresholds, at)
    if np.any(np.diff(t) < 0):  # every flavour's grid rises; the per-person levels rely on it
        raise ValueError(f"thresholds of flavour {flavour.name!r} followed by {at} are not sorted")
    return t


def hit_levels(dist: np.ndarray, flavour: PCKhFlavour, at: float = 0.5) -> np.ndarray:
    """Per person and joint, the index of the first threshold (the flavour's grid, then ``at``) at which the
    joint is a hit: ``T + 1`` when it never is, -1 when the GT joint is not annotated.

    The levels are the per-person statistics of PCKh: hits at threshold i are the joints with level
    ``0 <= level <= i``, so any weighting of people (a bootstrap resample) gives its counts without
    the distances."""
    t = _grid(flavour, at)
    ann = ~np.isnan(dist)
    d = np.where(ann, dist, np.inf)
    # d <= t[i] first holds at searchsorted(t, d, 'left'); d < t[i] at searchsorted(t, d, 'right')
    level = np.searchsorted(t, d, side="right" if flavour.strict else "left")
    return np.where(ann, level, -1).astype(np.int16)


def stats_from_levels(levels: np.ndarray, flavour: PCKhFlavour) -> PCKhStats:
    """The summed counts of :func:`hit_levels`."""
    T1 = len(flavour.thresholds) + 1
    i = np.arange(T1)[:, None, None]
    hit = (levels[None] >= 0) & (levels[None] <= i)  # (T + 1, N, 16)
    return PCKhStats(flavour.thresholds, hit.sum(axis=1), (levels >= 0).sum(axis=0))


def pckh_stats(dist: np.ndarray, flavour: PCKhFlavour, at: float = 0.5) -> PCKhStats:
    """Counts of hits at every threshold of the flavour's grid and, last, at the table threshold
    ``at`` (bearpaw's grid stops at 0.49, yet its table is at 0.5)."""
    return stats_from_levels(hit_levels(dist, flavour, at), flavour)


def _pct(hits, n):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, 100.0 * hits / np.maximum(n, 1), np.nan)


def pckh_arrays(hits: np.ndarray, annotated: np.ndarray, flavour: PCKhFlavour) -> dict[str, np.ndarray]:
    """Table columns, per-joint values, Total curve and AUC from counts with any leading batch shape:
    ``hits`` (..., T + 1, 16), ``annotated`` (..., 16). One code path for the evaluation and its
    bootstrap resamples, so an unweighted resample reproduces the evaluated numbers bit for bit."""
    th = flavour.thresholds
    i = len(th)  # the row of the table threshold
    per_joint = _pct(hits, annotated[..., None, :])  # (..., T + 1, 16)
    ev = list(EVAL_JOINTS)
    if flavour.total == "pooled":
        total_all = _pct(hits[..., ev].sum(-1), annotated[..., ev].sum(-1)[..., None])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample may leave a joint without people
            total_all = np.nanmean(per_joint[..., ev], axis=-1)
    total_curve = total_all[..., :-1]
    ub = list(UBODY_JOINTS)
    out = {}
    for name, ids in TABLE:
        ids = flavour.head_joints if name == "Head" else ids
        out[name] = np.mean(per_joint[..., i, list(ids)], axis=-1)
    out["UBody"] = _pct(hits[..., i, ub].sum(-1), annotated[..., ub].sum(-1))
    out["Total"] = total_all[..., i]
    # AUC: trapezoid rule on the Total curve, abscissa 0..0.5 rescaled to 0..1 (area_under_curve + scale01)
    x = (th - th[0]) / (th[-1] - th[0]) if len(th) > 1 else th
    out["AUC"] = np.sum((x[1:] - x[:-1]) * (total_curve[..., 1:] + total_curve[..., :-1]) / 2.0, axis=-1)
    out["joint"] = per_joint[..., i, :]
    out["curve"] = total_curve
    return out


def finalize_pckh(stats: PCKhStats, flavour: PCKhFlavour) -> dict:
    """The table at the table threshold (the last row of the stats), per-joint values, curve and AUC."""
    a = pckh_arrays(stats.hits, stats.annotated, flavour)
    th = stats.thresholds
    table = {name: float(a[name]) for name in COLUMNS}
    joint = a["joint"].copy()
    joint[[6, 7]] = np.nan  # pelvis and thorax are not evaluated
    total_curve = a["curve"]
    return {
        "pckh": table,
        "auc": float(a["AUC"]),
        "pckh_joint": [None if np.isnan(v) else float(v) for v in joint],
        "pckh_at_0.1": float(total_curve[flavour.at_01_index]) if len(th) > flavour.at_01_index else None,
        "curve": {"thresholds": [float(v) for v in th], "total": [float(v) for v in total_curve]},
    }


def resample_pckh(levels: np.ndarray, weights: np.ndarray, flavour: PCKhFlavour) -> dict[str, np.ndarray]:
    """:func:`pckh_arrays` for every row of ``weights`` (R x N: how often each person is drawn)."""
    levels = np.asarray(levels)
    N = levels.shape[0]
    T1 = len(flavour.thresholds) + 1
    # float32 products and sums of small integers are exact (every partial sum < 2**24)
    exact = np.float32 if float(np.abs(weights).sum(axis=1).max(initial=0)) < 2**24 else np.float64
    i = np.arange(T1)[None, :, None]
    cum = ((levels[:, None, :] >= 0) & (levels[:, None, :] <= i)).reshape(N, -1).astype(exact)
    w = np.asarray(weights, dtype=exact)
    hits = (w @ cum).astype(np.int64).reshape(len(w), T1, levels.shape[1])
    annotated = (w @ (levels >= 0).astype(exact)).astype(np.int64)
    return pckh_arrays(hits, annotated, flavour)


def pckh(pred_xy: np.ndarray, gt_xy: np.ndarray, head_size: np.ndarray, flavour: str = "matlab") -> dict:
    """Convenience: PCKh table, AUC and curve of ``(N, 16, 2)`` predictions against GT."""
    fl = get_flavour(flavour)
    return finalize_pckh(pckh_stats(normalized_distances(pred_xy, gt_xy, head_size, fl.float32), fl), fl)
