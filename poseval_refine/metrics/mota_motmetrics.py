"""CLEAR-MOT counts computed by motmetrics itself: ``prt evaluate --task tracking --mot-backend motmetrics``.

poseval computes its tracking numbers with one ``motmetrics.MOTAccumulator(auto_id=True)`` per
sequence and joint, fed once per frame, then ``mh.compute`` for the counts and ``acc.events['D']``
for MOTP's distance sum (docs/protocol.md §1.7). This module does the same with the very updates that prt's
own accumulator (``metrics.mota``, the fast default) receives, poseval's dummy frames included,
and returns the same additive ``MotStats``, so finalize, ``--workers``, the leaderboard bootstrap
and ``--save`` work unchanged. It lets a leaderboard say its numbers come from the reference
library; tests check that both backends agree.

motmetrics solves each frame's assignment with the first installed of lapsolver, lap, scipy, ...,
and the solvers break equal-cost ties differently (docs/protocol.md §1.7, point 4). This path pins motmetrics'
scipy solver, which is what poseval runs with when only its declared requirements are installed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .mota import MotStats, RepeatedIdError, check_frame, repeated_id_message

#: what ``mh.compute`` reports (poseval asks for num_detections = num_matches + num_switches instead of matches)
COUNT_METRICS = ("num_objects", "num_matches", "num_switches", "num_misses", "num_false_positives")
#: event types whose distance each MotStats sum holds (their total is poseval's ``events['D'].sum()``)
DISTANCE_EVENTS = {"sum_d_matched": ("MATCH", "SWITCH"), "sum_d_raw": ("RAW",),
                   "sum_d_extra": ("ASCEND", "TRANSFER", "MIGRATE")}


def version() -> str:
    """The motmetrics version that computes (recorded in results)."""
    import motmetrics

    return motmetrics.__version__


def accumulate_sequence(frames: Sequence, num_joints: int, labels: Sequence[str] | None = None) -> MotStats:
    """CLEAR-MOT counts of one sequence from motmetrics, one ``MOTAccumulator`` per joint.

    ``frames`` are what ``metrics.mota.accumulate_sequence`` takes, (gt_ids, hyp_ids, dist (K, G, H),
    gt_has (K, G), hyp_has (K, H)) per frame in order; ``labels[t]`` names frame t in errors
    (default ``sequence 0, frame t``, as ``metrics.mota`` names it).
    """
    import motmetrics as mm

    K = num_joints
    updates = []  # per frame and joint: (object ids, hypothesis ids, distances), as poseval passes them
    frames = list(frames)
    labels = [f"sequence 0, frame {t}" for t in range(len(frames))] if labels is None else list(labels)
    if len(labels) != len(frames):
        raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
    for f, where in zip(frames, labels):
        gt, hyp, dist, gt_has, hyp_has = check_frame(f, K, where)
        updates.append([(gt[gt_has[k]], hyp[hyp_has[k]], dist[k][np.ix_(gt_has[k], hyp_has[k])]) for k in range(K)])

    host = mm.metrics.create()
    out = MotStats.zeros(K)
    with mm.lap.set_default_solver("scipy"):
        for k in range(K):
            acc = mm.MOTAccumulator(auto_id=True)
            for where, per_joint in zip(labels, updates):
                try:
                    acc.update(*per_joint[k])
                except KeyError:  # a repeated object id paired twice in its first frame
                    raise RepeatedIdError(None, repeated_id_message(f"{where}, joint {k}")) from None
            counts = host.compute(acc, metrics=list(COUNT_METRICS), return_dataframe=False, name="acc")
            for name in COUNT_METRICS:
                getattr(out, name)[k] = counts[name]
            events = acc.events
            kind = events["Type"].astype(str).to_numpy()
            d = events["D"].to_numpy(np.float64)
            for name, kinds in DISTANCE_EVENTS.items():
                getattr(out, name)[k] = np.nansum(d[np.isin(kind, kinds)])
    return out
