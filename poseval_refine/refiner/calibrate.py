"""Calibration after training, so that the refiner cannot make good input much worse.

The trained network refines held-out people twice: once from inputs with the paper's T1-T4 errors
and once from near-perfect inputs (small T1 shifts only). The people are synthetic scenes from a
seed range that neither training nor ``prt synth`` uses, or, for a checkpoint trained on real data,
the people of the images its training held out (``prt train --holdout``). Two rules decide which
input joints keep their position: keep-below C (the refiner's confidence is below C) and min-move R
(the refiner moves the joint by less than R head sizes, head size estimated from the input pose: a
short training run's small moves are mostly noise, its large ones corrections). (C, R) is chosen on
a grid to give the best PCKh@0.5 on inputs with errors among the pairs that cost near-perfect inputs
at most TOLERANCE points. ``prt train`` runs :func:`calibrate_checkpoint` after training and
``prt refine`` applies the rules by default. Both kinds of input are synthesized: on a real
estimator's output the rules can still harm (docs/refiner.md), which ``prt refine --calibrate-on``
(refiner/labeled.py) addresses with the user's own labeled frames.
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


def validation_people(enc: EncodeConfig, scenes: range, seed: int = VAL_SEED_BASE, records: list | None = None):
    """Images, true poses, head sizes, and a heavy and a near-perfect input pose per person: of the
    synthetic scenes ``scenes`` of ``seed``, or (``records``) of those held-out real images, whose
    people with at least 4 joints count (head size from the head box, else from the true pose)."""
    from .data import load_image
    from .encode import pose_head_size
    from .scenes import make_scene

    heavy = SynthConfig(scale=enc.scale)
    light = SynthConfig(t2=False, t3=False, t4=False, scale=enc.scale, near_prob=1.0, near=4.0)
    images, gts, hss, inputs = [], [], [], {"heavy": [], "light": []}
    for i in scenes:
        rng = np.random.default_rng([seed, i, 5])
        if records is None:
            sc = make_scene(seed, i)
            image, people, boxes = sc.image, sc.keypoints, sc.head_boxes
        else:
            rec = records[i]
            image = rec.image if isinstance(rec.image, np.ndarray) else load_image(rec.image)
            people, boxes = rec.keypoints, rec.head_boxes
        for p in range(len(people)):
            gt = people[p]
            hs = float(head_size(boxes[p])) if np.isfinite(boxes[p]).all() else pose_head_size(gt)
            if np.isfinite(gt).all(-1).sum() < 4 or not np.isfinite(hs) or hs <= 0:
                continue
            s = person_scale(gt, enc, boxes[p], scale_from="head-box")
            others = np.delete(people, p, axis=0)
            images.append(image)
            gts.append(gt)
            hss.append(hs)
            inputs["heavy"].append(synthesize(gt * s, others * s, rng, heavy) / s)
            inputs["light"].append(synthesize(gt * s, others * s, rng, light) / s)
    return images, np.array(gts).reshape(-1, 15, 2), np.array(hss), {k: np.array(v).reshape(-1, 15, 2)
                                                                     for k, v in inputs.items()}


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
              seconds: float | None = None, records: list | None = None) -> dict:
    """Refine held-out people round by round (all ``scenes``, or as many rounds as ``seconds`` allow,
    at least one) and choose the keep rules on them: synthetic scenes, or the held-out real images
    ``records`` (at most ``scenes`` of them)."""
    from .infer import PersonJob, Refiner

    start = time.monotonic()
    if records is not None:
        scenes = min(scenes, len(records))
    ref = Refiner(model=model, enc=enc, device=str(device))
    gts, hss, inputs = [], [], {}
    refined, seen, head = {}, {}, {}
    done = 0
    while done < scenes and (seconds is None or done == 0 or time.monotonic() - start < seconds):
        chunk = range(done, min(done + ROUND, scenes))
        images, gt, hs, inp = validation_people(enc, chunk, seed, records)
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
    if not len(gt):
        from ..errors import InputError

        raise InputError("the held-out images have no person with 4 joints or more to calibrate on",
                         fix="hold out more images (--holdout) or give --calibration-scenes 0")
    inputs, refined, seen, head = ({k: np.concatenate(v) for k, v in d.items()} for d in (inputs, refined, seen, head))
    keep_below, min_move, table = choose(refined, seen, head, inputs, gt, hs)
    a, b = GRID.index(keep_below), MIN_MOVES.index(min_move)
    people = "held-out synthetic people" if records is None else "people of held-out real images"
    result = {"keep_below": keep_below, "min_move": min_move, "people": len(gt), "scenes": done, "seed": seed,
              "on": "synthetic" if records is None else "held-out real images",
              "grid": list(GRID), "min_moves": list(MIN_MOVES), "tolerance": TOLERANCE,
              "pckh": {k: v.tolist() for k, v in table.items()},
              "input_pckh": {k: pckh(v, gt, hs) for k, v in inputs.items()},
              "seconds": time.monotonic() - start}
    log.info("calibrated on %d %s (%.0f s): keep-below %g, min-move %g head sizes; PCKh@0.5 "
             "with T1-T4 errors %.1f -> %.1f, near-perfect %.1f -> %.1f (moving every joint: %.1f, %.1f)", len(gt),
             people, result["seconds"], keep_below, min_move, result["input_pckh"]["heavy"], table["heavy"][a, b],
             result["input_pckh"]["light"], table["light"][a, b], table["heavy"][0, 0], table["light"][0, 0])
    return result


def calibrate_checkpoint(path, scenes: int = 30, seconds: float | None = None, device: str | None = None) -> dict:
    """The calibration step ``prt train`` runs after training: choose the keep rules for the checkpoint
    at ``path`` and store them in it (``refine``), where ``prt refine`` finds them. A checkpoint whose
    last training stage read real data is calibrated on the images that stage held out; otherwise on
    held-out synthetic scenes."""
    from .checkpoint import training_stages, update_checkpoint
    from .device import pick_device
    from .infer import load_checkpoint

    dev = pick_device(device)
    model, enc, ck = load_checkpoint(path, dev)
    stage = training_stages(ck)[-1]
    records = None
    if stage.get("dataset") != "synthetic" and stage.get("annotations"):
        from .data import read_split

        _, records = read_split(stage["dataset"], stage["annotations"], stage["images"], stage.get("holdout", 0.1))
        if not records:
            raise_no_holdout(path)
    result = calibrate(model, enc, dev, scenes=scenes, seconds=seconds, records=records)
    update_checkpoint(path, refine={"keep_below": result["keep_below"], "min_move": result["min_move"],
                                    "move_nothing": False, "scale_from": "pose", "calibration": result})
    return result


def raise_no_holdout(path) -> None:
    from ..errors import ConfigError

    raise ConfigError("was trained on real data with no images held out, so there is nothing to calibrate on",
                      file=path, fix="train with --holdout > 0 (default 0.1) and two images or more, or give "
                                     "--calibration-scenes 0")
