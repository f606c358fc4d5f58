"""Calibration on the user's own labeled frames: ``prt refine --calibrate-on GT``.

The keep rules a checkpoint carries were chosen on synthetic people; on a good real estimator's
output they can do harm (docs/refiner.md, "A real estimator"). Given GT for some of the frames it
refines, ``prt refine`` pairs each labeled GT person with a predicted person of the same image (the
closest by the centre of the joints both have, at most ``PAIR_DISTANCE`` head sizes away: where the
person is, not how right its joints are, so that the people a refiner could help are not left
out), refines everything once,
and scores every candidate on those people with PCKh@0.5: "move nothing" (every joint the input has
keeps its position) and each pair (keep-below C, min-move R) of the calibration grid. The candidate
with the most hits wins, ties going to "move nothing", then to smaller values; a rule that moves
joints is taken only when its gain over "move nothing" has a 95 % paired bootstrap interval (people
resampled) above 0, so that noise on a few labeled people does not license moving joints.

The figures on the labeled frames are not held-out: the rules were chosen on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..metrics.assignment import solve
from ..metrics.distance import normalized_distance
from ..poses import PoseSet
from ..skeletons import POSETRACK15
from .calibrate import GRID, MIN_MOVES
from .infer import KeepRules, RefinedPeople, RefineOptions, keeps_input

#: bootstrap resamples of the paired interval, its level, and the fixed seed that makes it reproducible
RESAMPLES = 2000
LEVEL = 0.95
SEED = 0
THRESHOLD = 0.5
#: a predicted person pairs with a GT person whose centre is at most this many head sizes from its own
PAIR_DISTANCE = 2.0


@dataclass
class LabeledPeople:
    """Predicted people paired with GT people: indices into a :class:`RefinedPeople`'s jobs."""

    jobs: np.ndarray  # (N,) job index
    gt: np.ndarray  # (N, 15, 2) PoseTrack-15 GT, NaN = not annotated
    head_size: np.ndarray  # (N,) GT head size (px)
    frames: list[str] = field(default_factory=list)  # image names of the labeled frames used
    gt_people: int = 0  # labeled GT people in those frames (paired or not)
    trained_frames: list[str] = field(default_factory=list)  # labeled frames left out: the checkpoint trained on them


def _gt_frames(gt: PoseSet) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """image name -> (GT poses (P, 15, 2), head sizes (P,)) of every labeled frame with annotated people."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for seq in gt:
        s15 = seq.to_skeleton(POSETRACK15)
        b = s15.frame_bounds()
        with np.errstate(invalid="ignore", over="ignore"):
            hs = s15.head_sizes()
        for f in range(s15.num_frames):
            kp = s15.keypoints[b[f]:b[f + 1], :, :2]
            has = np.isfinite(kp).all(-1).any(-1)
            if not s15.is_labeled[f] or not has.any():
                continue
            ok = has & np.isfinite(hs[b[f]:b[f + 1]]) & (hs[b[f]:b[f + 1]] > 0)
            if not ok.all():
                p = int(np.flatnonzero(has & ~ok)[0])
                raise InputError("a labeled person has no head box, which PCKh needs for its head size",
                                 file=seq.source, frame=f, person=p,
                                 fix="give GT with head boxes (x1, y1, x2, y2 / bbox_head) for --calibrate-on")
            out[s15.image_names[f]] = (kp[has], hs[b[f]:b[f + 1]][has])
    return out


def pair_labeled(poses: PoseSet, people: RefinedPeople, gt: PoseSet, trained: set[str] = frozenset()
                 ) -> LabeledPeople:
    """Pair the refined people with the GT people of the same image by their input poses. Labeled frames
    the checkpoint was trained on (``trained``, keys of checkpoint.image_key)
    are left out: on them the refiner looks better than on frames it has not seen."""
    from .checkpoint import image_key

    frames = _gt_frames(gt)
    seen_in_training = sorted(name for name in frames if image_key(name) in trained)
    frames = {name: v for name, v in frames.items() if image_key(name) not in trained}
    if seen_in_training and not frames:
        raise InputError(f"labels only frames the checkpoint was trained on ({len(seen_in_training)}), where "
                         "the refiner looks better than it is", file=_source(gt),
                         fix="give GT of frames the checkpoint did not train on")
    by_image: dict[str, list[int]] = {}
    for i, job in enumerate(people.jobs):
        seq = poses[job.seq]
        by_image.setdefault(seq.image_names[seq.person_frame[job.person]], []).append(i)
    jobs, gts, hss, used, total = [], [], [], [], 0
    for image, (g, hs) in frames.items():
        cand = by_image.get(image)
        if cand is None:
            continue
        used.append(image)
        total += len(g)
        inp = np.array([people.jobs[i].xy for i in cand])  # (P, 15, 2)
        dist = centre_distances(g, inp) / hs[:, None]
        rows, cols = solve(np.where(np.isfinite(dist), dist, 1e9))
        for r, c in zip(rows, cols):
            if dist[r, c] <= PAIR_DISTANCE:
                jobs.append(cand[c])
                gts.append(g[r])
                hss.append(hs[r])
    if not used:
        raise InputError("labels none of the predicted images (image names compared)", file=_source(gt),
                         fix="give GT for some of the frames being refined, with the same image names")
    if not jobs:
        raise InputError(f"labels {len(used)} of the predicted images, but no GT person there has a predicted "
                         f"person within {PAIR_DISTANCE:g} head sizes", file=_source(gt),
                         fix="check that the GT and the predictions describe the same images")
    return LabeledPeople(np.array(jobs), np.array(gts), np.array(hss), sorted(used), total, seen_in_training)


def centre_distances(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(G, P) distance (px) between the centres of a GT and a predicted pose: the medians of the joints
    both have (inf if none), so a pose with swapped or displaced joints still pairs with its person."""
    both = np.isfinite(gt).all(-1)[:, None] & np.isfinite(pred).all(-1)[None]  # (G, P, 15)
    out = np.full(both.shape[:2], np.inf)
    for r, c in zip(*np.nonzero(both.any(-1))):
        m = both[r, c]
        out[r, c] = np.hypot(*(np.median(gt[r, m], 0) - np.median(pred[c, m], 0)))
    return out


def _source(gt: PoseSet) -> str:
    return gt.root or next(iter(gt)).source


def written_positions(inp: np.ndarray, refined: np.ndarray, seen: np.ndarray, head: np.ndarray, rules: KeepRules,
                      options: RefineOptions) -> np.ndarray:
    """(N, 15, 2) positions ``apply_refined`` writes for these people under ``rules`` (NaN = absent)."""
    had = np.isfinite(inp).all(-1)
    if rules.move_nothing:
        keep = had
    else:
        keep = keeps_input(inp, refined, seen, head, rules.keep_below, rules.min_move)
    out = np.where(keep[..., None], inp, refined[..., :2])
    if not options.recover_missing:
        out[~had] = np.nan
    if options.min_score is not None:
        out[refined[..., 2] <= options.min_score] = np.nan
    return out


def person_hits(pos: np.ndarray, gt: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """(N,) joints of each person within half its head size of an annotated GT joint."""
    d = normalized_distance(pos, gt, hs[:, None])
    return (np.isfinite(gt).all(-1) & (np.nan_to_num(d, nan=np.inf) <= THRESHOLD)).sum(-1)


def paired_interval(after: np.ndarray, before: np.ndarray, annotated: np.ndarray) -> tuple[float, float]:
    """95 % percentile interval of the PCKh gain (points) with people resampled, both sides paired."""
    n = len(annotated)
    w = np.random.default_rng(SEED).multinomial(n, np.full(n, 1.0 / n), size=RESAMPLES).astype(np.float64)
    gain = 100.0 * (w @ (after - before)) / np.maximum(w @ annotated, 1)
    lo, hi = np.percentile(gain, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2])
    return float(lo), float(hi)


def choose_on_labeled(people: RefinedPeople, labeled: LabeledPeople, options: RefineOptions,
                      stored: KeepRules) -> tuple[KeepRules, dict]:
    """The rules chosen on the labeled people, and a report of what each candidate scored."""
    idx = labeled.jobs
    inp = np.array([people.jobs[i].xy for i in idx])
    ref, seen, head = people.refined[idx], people.seen[idx], people.head[idx]
    gt, hs = labeled.gt, labeled.head_size
    annotated = np.isfinite(gt).all(-1).sum(-1).astype(np.float64)
    total = max(annotated.sum(), 1.0)

    def hits(rules: KeepRules) -> np.ndarray:
        return person_hits(written_positions(inp, ref, seen, head, rules, options), gt, hs).astype(np.float64)

    given = person_hits(inp, gt, hs).astype(np.float64)
    nothing = KeepRules(move_nothing=True, source="calibrate-on")
    base = hits(nothing)
    best, best_hits = None, None
    for c in GRID:
        for r in MIN_MOVES:
            rules = KeepRules(keep_below=c, min_move=r, source="calibrate-on")
            h = hits(rules)
            if best_hits is None or h.sum() > best_hits.sum() + 1e-9:
                best, best_hits = rules, h
    interval = paired_interval(best_hits, base, annotated)
    better = best_hits.sum() > base.sum() + 1e-9
    moved_by_noise = better and interval[0] <= 0
    chosen, chosen_hits = (best, best_hits) if better and not moved_by_noise else (nothing, base)
    official = hits(KeepRules(keep_below=0.0, min_move=0.0))
    report = {
        "gt_frames": labeled.frames, "people": int(len(idx)), "gt_people": labeled.gt_people,
        "left_out_trained_frames": labeled.trained_frames,
        "joints": int(annotated.sum()), "held_out": False,
        "pckh_input": float(100 * given.sum() / total), "pckh_chosen": float(100 * chosen_hits.sum() / total),
        "interval_vs_input": list(paired_interval(chosen_hits, given, annotated)),
        "pckh_best_moving": float(100 * best_hits.sum() / total), "best_moving_rules": best.as_dict(),
        "best_interval_vs_move_nothing": list(interval), "rejected_as_noise": bool(moved_by_noise),
        "pckh_checkpoint_rules": float(100 * hits(stored).sum() / total),
        "pckh_move_every_joint": float(100 * official.sum() / total),
        "resamples": RESAMPLES, "level": LEVEL,
    }
    return chosen, report


def report_line(report: dict, gt_name: str) -> str:
    lo, hi = report["interval_vs_input"]
    chosen = report["chosen"]
    skipped = report.get("left_out_trained_frames") or []
    left = f" ({len(skipped)} labeled frames the checkpoint was trained on left out)" if skipped else ""
    line = (f"calibrated on {report['people']} people of {len(report['gt_frames'])} frames labeled by {gt_name}{left}: "
            f"PCKh@0.5 {report['pckh_input']:.1f} as given -> {report['pckh_chosen']:.1f} with the rules chosen "
            f"({chosen}), {report['pckh_chosen'] - report['pckh_input']:+.1f} [{100 * LEVEL:.0f} % paired bootstrap "
            f"over people {lo:+.1f}, {hi:+.1f}]; the checkpoint's rules {report['pckh_checkpoint_rules']:.1f}, "
            f"every joint moved {report['pckh_move_every_joint']:.1f}")
    if report["rejected_as_noise"]:
        b = report["best_interval_vs_move_nothing"]
        line += (f"; the best moving rules ({report['pckh_best_moving']:.1f}) were not taken: their gain over moving "
                 f"nothing is not above noise [{b[0]:+.1f}, {b[1]:+.1f}]")
    return line + ". These figures are on the frames the rules were chosen on, not held-out: judge on other frames."
