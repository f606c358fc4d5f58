"""Single-person PCKh and AUC with the MPII MATLAB kit's semantics, and the Python ports' flavours.

MATLAB kit (``computePCK.m``, ``genTablePCK.m``, ``evaluatePCKh.m``): 14 joints (pelvis and
thorax excluded), a hit is ``d <= t`` with ``d`` = distance / head size, unannotated GT joints
are ignored and missing predictions always miss; "UBody" and "Total" are *pooled* over their
joints (count-weighted); Head = mean of upper neck and head top; AUC is the trapezoid rule over
the 51 thresholds 0:0.01:0.5 on the Total curve, abscissa scaled to [0, 1].

The ports differ (spec §2.2): HRNet's Head column is head top only and its "Mean@0.1" reads
t = 0.11; mmpose and bearpaw use a strict ``<``; bearpaw's mean is unweighted over 14 joints
and its grid has 50 points. Each is a named :class:`PCKhFlavour`, so users see which
convention moves their number.

Arrays are in MPII-16 joint order (0 r-ankle ... 5 l-ankle, 6 pelvis, 7 thorax, 8 upper neck,
9 head top, 10 r-wrist ... 15 l-wrist).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
    with np.errstate(over="ignore", invalid="ignore"):
        return _normalized_distances(pred_xy, gt_xy, head_size, float32)


def _normalized_distances(pred_xy, gt_xy, head_size, float32):
    if float32:
        diff = (pred_xy - gt_xy).astype(np.float32)
        d = (np.sqrt((diff * diff).sum(-1)) / head_size[:, None].astype(np.float32)).astype(np.float64)
    else:
        diff = pred_xy - gt_xy
        d = np.sqrt(diff[..., 0] * diff[..., 0] + diff[..., 1] * diff[..., 1]) / head_size[:, None]
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


def pckh_stats(dist: np.ndarray, flavour: PCKhFlavour, at: float = 0.5) -> PCKhStats:
    """Counts of hits at every threshold of the flavour's grid and, last, at the table threshold
    ``at`` (bearpaw's grid stops at 0.49, yet its table is at 0.5)."""
    ann = ~np.isnan(dist)
    d = np.where(ann, dist, np.inf)
    t = np.append(flavour.thresholds, at)[:, None, None]
    hit = (d[None] < t) if flavour.strict else (d[None] <= t)
    return PCKhStats(flavour.thresholds, hit.sum(axis=1), ann.sum(axis=0))


def _pct(hits, n):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, 100.0 * hits / np.maximum(n, 1), np.nan)


def finalize_pckh(stats: PCKhStats, flavour: PCKhFlavour) -> dict:
    """The table at the table threshold (the last row of the stats), per-joint values, curve and AUC."""
    th = stats.thresholds
    i = len(th)  # the row of the table threshold
    per_joint = _pct(stats.hits, stats.annotated[None, :])  # (T + 1, 16)
    ev = list(EVAL_JOINTS)
    if flavour.total == "pooled":
        total_all = _pct(stats.hits[:, ev].sum(1), stats.annotated[ev].sum())
    else:
        total_all = np.nanmean(per_joint[:, ev], axis=1)
    total_curve = total_all[:-1]
    ub = list(UBODY_JOINTS)
    ubody = _pct(stats.hits[i, ub].sum(), stats.annotated[ub].sum())
    table = {}
    for name, ids in TABLE:
        ids = flavour.head_joints if name == "Head" else ids
        table[name] = float(np.mean(per_joint[i, list(ids)]))
    table["UBody"] = float(ubody)
    table["Total"] = float(total_all[i])
    # AUC: trapezoid rule on the Total curve, abscissa 0..0.5 rescaled to 0..1 (area_under_curve + scale01)
    x = (th - th[0]) / (th[-1] - th[0]) if len(th) > 1 else th
    auc = float(np.sum((x[1:] - x[:-1]) * (total_curve[1:] + total_curve[:-1]) / 2.0))
    joint = per_joint[i].copy()
    joint[[6, 7]] = np.nan  # pelvis and thorax are not evaluated
    return {
        "pckh": table,
        "auc": auc,
        "pckh_joint": [None if np.isnan(v) else float(v) for v in joint],
        "pckh_at_0.1": float(total_curve[flavour.at_01_index]) if len(th) > flavour.at_01_index else None,
        "curve": {"thresholds": [float(v) for v in th], "total": [float(v) for v in total_curve]},
    }


def pckh(pred_xy: np.ndarray, gt_xy: np.ndarray, head_size: np.ndarray, flavour: str = "matlab") -> dict:
    """Convenience: PCKh table, AUC and curve of ``(N, 16, 2)`` predictions against GT."""
    fl = get_flavour(flavour)
    return finalize_pckh(pckh_stats(normalized_distances(pred_xy, gt_xy, head_size, fl.float32), fl), fl)
