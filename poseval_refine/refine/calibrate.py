"""Calibration after training, so that the refiner cannot make good input much worse.

The trained network refines held-out synthetic people twice: once from inputs with the paper's
T1-T4 errors and once from near-perfect inputs (small T1 shifts only). Two rules decide which input
joints keep their position: keep-below C (the refiner's confidence is below C) and min-move R (the
refiner moves the joint by less than R head sizes, head size estimated from the input pose: a short
training run's small moves are mostly noise, its large ones corrections). (C, R) is chosen on a grid
to give the best PCKh@0.5 on inputs with errors among the pairs that cost near-perfect inputs at
most TOLERANCE points. ``prt refine`` applies both by default. The scenes come from a seed range
that neither training nor ``prt synth`` uses.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..metrics.distance import normalized_distance
from ..skeletons import head_size
from .encode import EncodeConfig, person_scale
from .synth import SynthConfig, synthesize

log = logging.getLogger("prt")

VAL_SEED_BASE = 2_000_003
GRID = tuple(round(0.05 * i, 2) for i in range(20))  # keep-below thresholds
MIN_MOVES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)  # head sizes
#: points of PCKh on near-perfect input the calibration may give up for gains on input with errors
TOLERANCE = 0.2


def pckh(pred: np.ndarray, gt: np.ndarray, hs: np.ndarray) -> float:
    """PCKh@0.5 in percent over the GT joints present; a missing prediction is a miss."""
    ann = np.isfinite(gt).all(-1)
    d = normalized_distance(pred, gt, hs[:, None])
    hit = ann & (np.nan_to_num(d, nan=np.inf) <= 0.5)
    return float(100.0 * hit.sum() / max(ann.sum(), 1))


def validation_people(enc: EncodeConfig, scenes: range, seed: int = VAL_SEED_BASE):
    """Images, true poses, head sizes, and a heavy and a near-perfect input pose per person."""
    from .scenes import make_scene

    heavy = SynthConfig(scale=enc.scale)
    light = SynthConfig(t2=False, t3=False, t4=False, scale=enc.scale, near_prob=1.0, near=4.0)
    images, gts, hss, inputs = [], [], [], {"heavy": [], "light": []}
    for i in scenes:
        rng = np.random.default_rng([seed, i, 5])
        sc = make_scene(seed, i)
        for p in range(len(sc.keypoints)):
            gt = sc.keypoints[p]
            s = person_scale(gt, enc, sc.head_boxes[p], scale_from="head-box")
            others = np.delete(sc.keypoints, p, axis=0)
            images.append(sc.image)
            gts.append(gt)
            hss.append(float(head_size(sc.head_boxes[p])))
            inputs["heavy"].append(synthesize(gt * s, others * s, rng, heavy) / s)
            inputs["light"].append(synthesize(gt * s, others * s, rng, light) / s)
    return images, np.array(gts), np.array(hss), {k: np.array(v) for k, v in inputs.items()}


def choose(refined: dict, seen: dict, head: dict, inputs: dict, gt: np.ndarray, hs: np.ndarray):
    """PCKh for every (keep-below, min-move) pair on each input kind, and the chosen pair: the best
    PCKh on inputs with errors among the pairs that lose at most TOLERANCE points on near-perfect
    inputs (else the pair that loses least); ties go to the smaller values."""
    from .infer import keeps_input

    table = {kind: np.zeros((len(GRID), len(MIN_MOVES))) for kind in inputs}
    for kind, inp in inputs.items():
        for a, c in enumerate(GRID):
            for b, r in enumerate(MIN_MOVES):
                keep = keeps_input(inp, refined[kind], seen[kind], head[kind], c, r)
                table[kind][a, b] = pckh(np.where(keep[..., None], inp, refined[kind][..., :2]), gt, hs)
    light, heavy = table["light"], table["heavy"]
    ok = light >= pckh(inputs["light"], gt, hs) - TOLERANCE
    if ok.any():
        score = np.where(ok, heavy, -np.inf)
    else:
        score = light * 1000 + heavy
    a, b = (int(v[0]) for v in np.nonzero(score >= score.max() - 1e-9))
    return GRID[a], MIN_MOVES[b], table


#: scenes refined per round; calibration with a time budget stops after the round that exhausts it
ROUND = 5


def calibrate(model, enc: EncodeConfig, device, scenes: int = 30, seed: int = VAL_SEED_BASE,
              seconds: float | None = None) -> dict:
    """Refine held-out people round by round (all ``scenes``, or as many rounds as ``seconds`` allow,
    at least one) and choose the keep-below threshold on them."""
    from .infer import PersonJob, Refiner

    start = time.monotonic()
    ref = Refiner(model=model, enc=enc, device=str(device))
    gts, hss, inputs = [], [], {}
    refined, seen, head = {}, {}, {}
    done = 0
    while done < scenes and (seconds is None or done == 0 or time.monotonic() - start < seconds):
        chunk = range(done, min(done + ROUND, scenes))
        images, gt, hs, inp = validation_people(enc, chunk, seed)
        gts.append(gt)
        hss.append(hs)
        for kind, poses in inp.items():
            inputs.setdefault(kind, []).append(poses)
            r, sn, hd = ref.run([PersonJob("val", i, images[i], poses[i]) for i in range(len(poses))])
            refined.setdefault(kind, []).append(r)
            seen.setdefault(kind, []).append(sn)
            head.setdefault(kind, []).append(hd)
        done = chunk.stop
    gt, hs = np.concatenate(gts), np.concatenate(hss)
    inputs, refined, seen, head = ({k: np.concatenate(v) for k, v in d.items()} for d in (inputs, refined, seen, head))
    keep_below, min_move, table = choose(refined, seen, head, inputs, gt, hs)
    a, b = GRID.index(keep_below), MIN_MOVES.index(min_move)
    result = {"keep_below": keep_below, "min_move": min_move, "people": len(gt), "scenes": done, "seed": seed,
              "grid": list(GRID), "min_moves": list(MIN_MOVES), "tolerance": TOLERANCE,
              "pckh": {k: v.tolist() for k, v in table.items()},
              "input_pckh": {k: pckh(v, gt, hs) for k, v in inputs.items()},
              "seconds": time.monotonic() - start}
    log.info("calibrated on %d held-out synthetic people (%.0f s): keep-below %g, min-move %g head sizes; PCKh@0.5 "
             "with T1-T4 errors %.1f -> %.1f, near-perfect %.1f -> %.1f (moving every joint: %.1f, %.1f)", len(gt),
             result["seconds"], keep_below, min_move, result["input_pckh"]["heavy"], table["heavy"][a, b],
             result["input_pckh"]["light"], table["light"][a, b], table["heavy"][0, 0], table["light"][0, 0])
    return result
