"""Wall time of the CLEAR-MOT accumulator on a synthetic PoseTrack-sized tracking workload.

    python benchmarks/mota_accumulator.py [--sequences 170] [--frames 40] [--joints 15] [--motmetrics N]

Builds, per sequence, 2-3 GT people per frame (people leave and new ones enter), predictions
with jittered distances, occasional identity swaps, false positives and missing joints, with
distances above 0.5 masked as NaN as poseval does. Then times ``accumulate_sequence`` over all
sequences one by one (as the evaluator calls it) and ``accumulate_sequences`` on all of them at
once, on one core, and prints the figures. With ``--motmetrics N`` it also times motmetrics
itself on the first N sequences and extrapolates.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def make_workload(sequences: int, frames: int, joints: int, seed: int = 0) -> list[list[tuple]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(sequences):
        people = list(range(rng.integers(2, 4)))
        next_id = len(people)
        hyp_of = {p: p + 100 for p in people}
        seq = []
        for _ in range(frames):
            if rng.random() < 0.05 and people:  # someone leaves
                people.pop(rng.integers(len(people)))
            if rng.random() < 0.05 or not people:  # someone enters
                people.append(next_id)
                hyp_of[next_id] = next_id + 100
                next_id += 1
            if len(people) >= 2 and rng.random() < 0.03:  # tracker swaps two identities
                a, b = rng.choice(len(people), 2, replace=False)
                hyp_of[people[a]], hyp_of[people[b]] = hyp_of[people[b]], hyp_of[people[a]]
            detected = [p for p in people if rng.random() < 0.9]
            hyp = [hyp_of[p] for p in detected]
            if rng.random() < 0.1:  # a false positive track
                hyp.append(1000 + int(rng.integers(50)))
            G, H = len(people), len(hyp)
            d = rng.random((joints, G, H)) * 2.0 + 0.3  # unrelated pairs: mostly out of reach
            for i, p in enumerate(people):
                if p in detected:
                    d[:, i, detected.index(p)] = rng.gamma(2.0, 0.08, joints)
            d[d > 0.5] = np.nan
            seq.append((np.asarray(people, np.int64), np.asarray(hyp, np.int64), d,
                        rng.random((joints, G)) < 0.85, rng.random((joints, H)) < 0.85))
        out.append(seq)
    return out


def time_motmetrics(workload, joints: int) -> float:
    import motmetrics as mm

    t0 = time.perf_counter()
    for seq in workload:
        for k in range(joints):
            acc = mm.MOTAccumulator(auto_id=True)
            for gt, hyp, d, gh, hh in seq:
                acc.update(gt[gh[k]], hyp[hh[k]], d[k][np.ix_(gh[k], hh[k])])
            acc.events["D"].sum()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=170)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--joints", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    ap.add_argument("--motmetrics", type=int, default=0, metavar="N",
                    help="also time motmetrics 1.4 on the first N sequences (slow) and extrapolate")
    args = ap.parse_args()

    from poseval_refine.metrics.mota import MotStats, accumulate_sequence, accumulate_sequences, finalize_mot

    work = make_workload(args.sequences, args.frames, args.joints, args.seed)
    n_updates = sum(len(s) for s in work) * args.joints
    best = np.inf
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        total = MotStats.zeros(args.joints)
        for seq in work:
            total = total.merge(accumulate_sequence(seq, args.joints))
        best = min(best, time.perf_counter() - t0)
    best_batch = np.inf
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        batched = MotStats.zeros(args.joints)
        for s in accumulate_sequences(work, args.joints):
            batched = batched.merge(s)
        best_batch = min(best_batch, time.perf_counter() - t0)
    same = all(np.array_equal(getattr(total, f), getattr(batched, f)) for f in
               ("num_objects", "num_matches", "num_switches", "num_misses", "num_false_positives"))
    m = finalize_mot(total)
    print(f"workload: {args.sequences} sequences x {args.frames} frames x {args.joints} joints "
          f"= {n_updates} per-(frame, joint) updates, {int(total.num_objects.sum())} objects")
    print(f"prt accumulate: {best:.3f} s (best of {args.repeat}), {1e6 * best / n_updates:.1f} us per update")
    print(f"prt accumulate_sequences (all sequences batched): {best_batch:.3f} s, same counts: {same}")
    print(f"switches {int(total.num_switches.sum())}, mean MOTA {np.nanmean(m['mota']):.2f}, "
          f"mean MOTP {np.nanmean(m['motp']):.2f}")
    if args.motmetrics:
        n = min(args.motmetrics, len(work))
        t = time_motmetrics(work[:n], args.joints)
        print(f"motmetrics 1.4: {t:.2f} s for {n} sequences -> ~{t * len(work) / n:.1f} s for all "
              f"({t * len(work) / n / best:.0f}x slower)")


if __name__ == "__main__":
    main()
