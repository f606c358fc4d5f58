"""Bootstrap intervals over a benchmark's independent items (people, images, sequences).

A resample draws the N items with replacement; its numbers are the task's ``resample`` hook applied to
the stored per-item statistics (a weighted sum, then the task's own finalize step; nothing is read from
files again). Every result on one board uses the same draws, seeded from ``seed`` and the board's
name, so intervals are reproducible and differences between two methods are paired.

- interval: the 2.5th and 97.5th percentiles of the resampled values (percentile bootstrap);
- difference (refined - base): the same percentiles of the paired differences, and a two-sided p-value
  from the bootstrap distribution shifted to the null (``(1 + #{|d* - d| >= |d|}) / (R + 1)``).
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
