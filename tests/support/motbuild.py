"""Random CLEAR-MOT frames (ids that recur, vanish and come back; distances with gaps) for the
accumulator tests."""

from __future__ import annotations

import numpy as np

NAN = np.nan


def random_sequence(rng, K, T, max_people=5, repeat_ids=False, p_inf=0.0):
    frames = []
    pool_g, pool_h = max_people + 2, max_people + 4  # small pools: ids recur, vanish and come back
    dense = rng.random() < 0.3  # mostly-finite matrices make the solver do real work
    for _ in range(T):
        G, H = rng.integers(0, max_people + 1, 2)
        gt = rng.choice(pool_g, G, replace=repeat_ids)
        hyp = rng.choice(pool_h, H, replace=False)
        d = rng.random((K, G, H)) * (0.55 if dense else 1.0)
        d[d > 0.5] = NAN
        d[rng.random(d.shape) < p_inf] = np.inf
        frames.append((gt, hyp, d, rng.random((K, G)) < 0.85, rng.random((K, H)) < 0.85))
    return frames
