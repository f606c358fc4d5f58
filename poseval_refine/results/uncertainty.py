"""Bootstrap intervals over a benchmark's independent items (people, images, sequences).

A resample draws the N items with replacement; its numbers are the task's ``resample`` hook applied to
the stored per-item statistics (a weighted sum, then the task's own finalize step; nothing is read from
files again). Every result on one board uses the same draws, seeded from ``seed`` and the board's
name, so intervals are reproducible and differences between two methods are paired.

- interval: the 2.5th and 97.5th percentiles of the resampled values (percentile bootstrap);
- difference (A - B, e.g. refined - base): the same percentiles of the paired differences d* (both results
  weighted by the same draws), and the two-sided p-value that inverts that interval,
  ``min(1, 2 (1 + min(#{d* <= 0}, #{d* >= 0})) / (R + 1))``: p < 0.05 when the 95% interval leaves 0 out
  (up to one resample of the percentile's interpolation), p = 1 when every d* is 0 (identical results),
  never below 2 / (R + 1) (docs/leaderboard.md);
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
from functools import lru_cache

import numpy as np

from .paired import RESAMPLES, SEED  # noqa: F401  (the draws' defaults, also needed without numpy)


def draw_weights(n_items: int, resamples: int = RESAMPLES, seed: int = SEED, salt: str = "") -> np.ndarray:
    """(R, N) counts: how often resample r draws item n (each row sums to N). Read-only: the last draws are
    kept, so a process that saves many results on one board (a benchmark server) draws them once."""
    return _draws(n_items, resamples, seed, salt)


@lru_cache(maxsize=2)
def _draws(n_items: int, resamples: int, seed: int, salt: str) -> np.ndarray:
    rng = np.random.default_rng([seed, zlib.crc32(salt.encode())])
    idx = rng.integers(0, n_items, size=(resamples, n_items))
    flat = idx + (np.arange(resamples) * n_items)[:, None]
    out = np.bincount(flat.ravel(), minlength=resamples * n_items).reshape(resamples, n_items)
    out.flags.writeable = False
    return out


def board_salt(benchmark: str, task: str, protocol: str) -> str:
    """The draws' salt of a board: ``prt compare`` uses it too, so both draw the same resamples."""
    return f"{benchmark}/{task}/{protocol}"


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


def p_values(at_or_below: np.ndarray, at_or_above: np.ndarray, resamples) -> np.ndarray:
    """Two-sided bootstrap p-values from how many paired differences are <= 0 and >= 0 (of ``resamples``)."""
    low = np.minimum(np.asarray(at_or_below), np.asarray(at_or_above))
    return np.minimum(1.0, 2.0 * (1 + low) / (np.asarray(resamples) + 1))


def paired_difference(value: float, base: float, resampled: np.ndarray, base_resampled: np.ndarray) -> Difference:
    """``value - base`` with the interval and p-value of its paired resamples (the same draws for both)."""
    d = value - base
    ds = np.asarray(resampled, dtype=np.float64) - np.asarray(base_resampled, dtype=np.float64)
    ds = ds[np.isfinite(ds)]
    if not np.isfinite(d) or len(ds) == 0:
        return Difference(d, None, None)
    p = p_values(np.count_nonzero(ds <= 0), np.count_nonzero(ds >= 0), len(ds))
    return Difference(d, interval(ds), float(p))


@dataclass
class Pairwise:
    """Every pair (i, j) of k results: ``delta[i, j]`` = value i - value j, ``low``/``high`` the 95% paired
    interval of that difference and ``p`` its p-value (NaN where the pair has no finite resample)."""
    delta: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p: np.ndarray

    @property
    def tied(self) -> np.ndarray:
        """(k, k) bool: the paired interval of the difference holds 0 (the diagonal is False)."""
        t = (self.low <= 0) & (self.high >= 0)
        np.fill_diagonal(t, False)
        return t


def pairwise_differences(values: np.ndarray, resampled: np.ndarray, level: float = 0.95,
                         block: int = 4096) -> Pairwise:
    """All pairwise paired differences of k results at once: ``values`` (k,), ``resampled`` (k, R), every
    row resampled with the same draws. Pairs are computed in blocks of ``block`` (memory: block x R)."""
    v = np.asarray(values, dtype=np.float64)
    m = np.asarray(resampled, dtype=np.float64)
    k, R = m.shape
    delta = v[:, None] - v[None, :]
    low, high, p = (np.full((k, k), np.nan) for _ in range(3))
    np.fill_diagonal(low, 0.0), np.fill_diagonal(high, 0.0), np.fill_diagonal(p, 1.0)
    iu, ju = np.triu_indices(k, 1)
    finite = np.isfinite(m).all(axis=1)
    a = (1 - level) / 2 * 100
    for s in range(0, len(iu), block):
        i, j = iu[s:s + block], ju[s:s + block]
        ok = finite[i] & finite[j]
        if ok.any():
            d = m[i[ok]] - m[j[ok]]
            lo, hi = np.percentile(d, [a, 100 - a], axis=1)
            pv = p_values(np.count_nonzero(d <= 0, axis=1), np.count_nonzero(d >= 0, axis=1), R)
            low[i[ok], j[ok]], high[i[ok], j[ok]], p[i[ok], j[ok]] = lo, hi, pv
        for ii, jj in zip(i[~ok], j[~ok]):  # rows with NaN resamples: the finite pairs only
            diff = paired_difference(v[ii], v[jj], m[ii], m[jj])
            if diff.ci95 is not None:
                low[ii, jj], high[ii, jj], p[ii, jj] = diff.ci95[0], diff.ci95[1], diff.p_value
    # the lower triangle mirrors the upper one: j - i = -(i - j), its interval [-high, -low], the same p
    low[ju, iu], high[ju, iu], p[ju, iu] = -high[iu, ju], -low[iu, ju], p[iu, ju]
    return Pairwise(delta, low, high, p)


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
