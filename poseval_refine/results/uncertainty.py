"""Bootstrap intervals over a benchmark's independent items (people, images, sequences).

A resample draws the N items with replacement; its numbers are the task's ``resample`` hook applied to
the stored per-item statistics (a weighted sum, then the task's own finalize step; nothing is read from
files again). Every result on one board uses the same draws, seeded from ``seed`` and the board's
name, so intervals are reproducible and differences between two methods are paired.

- interval: the 2.5th and 97.5th percentiles of the resampled values (percentile bootstrap);
- difference (refined - base): the same percentiles of the paired differences, and a two-sided p-value
  from the bootstrap distribution shifted to the null (``(1 + #{|d* - d| >= |d|}) / (R + 1)``);
- shape note (:func:`shape_note`): a percentile interval reads as "the value, give or take" only when the
  resampled values form one lump around it. When they split into separate groups, or the value lies in a
  tail, the row says so, and why when the task can tell: PoseTrack's Total averages the joints that have a
  value, so a joint that only some drawn sequences give a value (Bonn's nose: MOTA -100 from poseval's dummy
  objects, present only in sequences with an empty frame) enters and leaves the Total from one resample to
  the next.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

RESAMPLES = 1000
SEED = 0


def draw_weights(n_items: int, resamples: int = RESAMPLES, seed: int = SEED, salt: str = "") -> np.ndarray:
    """(R, N) counts: how often resample r draws item n (each row sums to N)."""
    rng = np.random.default_rng([seed, zlib.crc32(salt.encode())])
    idx = rng.integers(0, n_items, size=(resamples, n_items))
    flat = idx + (np.arange(resamples) * n_items)[:, None]
    return np.bincount(flat.ravel(), minlength=resamples * n_items).reshape(resamples, n_items)


def interval(values: np.ndarray, level: float = 0.95) -> list[float] | None:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return None
    a = (1 - level) / 2 * 100
    lo, hi = np.percentile(v, [a, 100 - a])
    return [float(lo), float(hi)]


@dataclass
class Difference:
    value: float
    ci95: list[float] | None
    p_value: float | None


def paired_difference(value: float, base: float, resampled: np.ndarray, base_resampled: np.ndarray) -> Difference:
    d = value - base
    ds = np.asarray(resampled, dtype=np.float64) - np.asarray(base_resampled, dtype=np.float64)
    ds = ds[np.isfinite(ds)]
    if not np.isfinite(d) or len(ds) == 0:
        return Difference(d, None, None)
    p = (1 + int(np.count_nonzero(np.abs(ds - d) >= abs(d)))) / (len(ds) + 1)
    return Difference(d, interval(ds), p)


def resample_result(task, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    """The task's headline metrics for every row of ``weights``."""
    return {k: np.asarray(v, dtype=np.float64) for k, v in task.resample(result, weights).items()}


#: the resampled values "split" when, inside their central 95 %, two neighbours are further apart than the
#: interquartile range (a single lump of 1000 values has gaps of a few hundredths of it)
SPLIT_GAP = 1.0
#: the value "lies in a tail" when fewer than this share of the resamples are at or below it (or at or above)
TAIL = 0.05
#: a joint explains a split when the resamples it is missing from and one of the groups agree this well
EXPLAINS = 0.9


def shape_note(metric: str, value: float, values: np.ndarray, unit: str = "item",
               absent: dict[str, np.ndarray] | None = None, joint_values: dict[str, float] | None = None) -> str | None:
    """Why the interval of ``value`` is not "the value, give or take", or None when it is.

    ``values`` (R,) are its resamples; ``absent`` maps a joint to the (R,) mask of the resamples where it has
    no value and so is left out of the metric's Total; ``joint_values`` are the joints' values on the whole
    benchmark; ``unit`` is what one item is (a sequence, an image, a person)."""
    units = "people" if unit == "person" else f"{unit}s"
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    if ok.sum() < 20 or not np.isfinite(value):
        return None
    f = v[ok]
    lo, hi = np.percentile(f, [2.5, 97.5])
    q1, q3 = np.percentile(f, [25, 75])
    central = np.sort(f[(f >= lo) & (f <= hi)])
    gaps = np.diff(central)
    cut = None
    if len(gaps) and gaps.max() > SPLIT_GAP * (q3 - q1) and gaps.max() > 1e-9 * max(1.0, abs(value)):
        cut = float(central[int(gaps.argmax())])
    at_or_below, at_or_above = float(np.mean(f <= value)), float(np.mean(f >= value))
    if cut is None and min(at_or_below, at_or_above) >= TAIL:
        return None
    R = len(v)
    if cut is not None:
        upper = ok & (v > cut)
        groups = [(int(np.sum(ok & ~upper)), float(np.median(f[f <= cut]))),
                  (int(np.sum(upper)), float(np.median(f[f > cut])))]
        shape = (f"the resampled {metric} splits into two groups ({groups[0][0]} near {groups[0][1]:.2f}, "
                 f"{groups[1][0]} near {groups[1][1]:.2f}), so the interval is wide and asymmetric")
        for joint, mask in (absent or {}).items():
            mask = np.asarray(mask, dtype=bool)
            k = int(mask.sum())
            if not 0 < k < R:
                continue
            for group in (upper, ok & ~upper):
                both = np.sum(mask & group)
                if both / max(1, np.sum(mask | group)) >= EXPLAINS:  # Jaccard agreement
                    whole = (joint_values or {}).get(joint)
                    whole = f" ({joint} on all {units}: {whole:.2f})" if whole is not None else ""
                    return (f"{joint} has no {metric} in {k} of {R} resamples (no drawn {unit} "
                            f"gives it one) and the Total leaves it out there{whole}: {shape}. That is how the "
                            "protocol's Total works; the value itself is unaffected")
        return f"{shape}: a few {units} drive it"
    side, share = ("at or below", at_or_below) if at_or_below < TAIL else ("at or above", at_or_above)
    return (f"{metric} {value:.2f} lies in a tail of its resamples (only {100 * share:.1f}% are {side} it), "
            "so the interval is not centred on it")
