"""Random PoseTrack-like benchmarks: GT tracks and corrupted predictions, in canonical form.

Used for the sample benchmark shipped with prt (``prt evaluate`` with no arguments), the speed
benchmark (``benchmarks/posetrack_eval.py``) and property tests. People walk across the frame
with a PoseTrack-15 template pose; GT has missing joints, unlabeled frames and ignore regions;
predictions add jitter, large displacements, left/right swaps, dropped joints and people,
false positives and identity switches, with continuous scores (no ties).
"""

from __future__ import annotations

import numpy as np

from .poses import PoseSequence, PoseSet
from .skeletons import POSETRACK15

#: joint offsets of a standing person from its anchor (the template of docs/protocol.md §6.2), PoseTrack-15 order
TEMPLATE = np.array([
    (0, 200), (0, 150), (0, 100), (20, 100), (20, 150), (20, 200), (-30, 90), (-25, 60),
    (-10, 30), (30, 30), (45, 60), (50, 90), (10, 20), (10, 5), (10, -15)], dtype=np.float64)


def _gt_sequence(rng: np.random.Generator, name: str, n_frames: int, people: tuple[int, int]) -> dict:
    n_tracks = int(rng.integers(people[0], people[1] + 1))
    K = len(POSETRACK15)
    tracks = []
    for t in range(n_tracks):
        start = int(rng.integers(0, max(1, n_frames // 4)))
        end = int(rng.integers(max(start + 2, 3 * n_frames // 4), n_frames + 1))
        scale = rng.uniform(0.7, 1.5)
        pos = np.array([rng.uniform(50, 1100), rng.uniform(50, 400)])
        vel = rng.normal(0, 4, size=2)
        anchors = pos + np.cumsum(np.tile(vel, (n_frames, 1)) + rng.normal(0, 1.5, (n_frames, 2)), axis=0)
        pose = TEMPLATE * scale + rng.normal(0, 4 * scale, (K, 2))
        tracks.append(dict(id=t, start=start, end=end, scale=scale, anchors=anchors, pose=pose))
    unlabeled = rng.random(n_frames) < 0.1
    unlabeled[0] = False
    return dict(name=name, tracks=tracks, unlabeled=unlabeled, n_frames=n_frames)


def make_benchmark(n_sequences: int = 24, n_frames: int = 40, seed: int = 0,
                   people: tuple[int, int] = (2, 5), score_decimals: int | None = None,
                   switch_rate: float = 0.01, region_rate: float = 0.05) -> tuple[PoseSet, PoseSet]:
    """A GT set and a prediction set of ``n_sequences`` sequences of ``n_frames`` frames.

    Scores keep full precision unless ``score_decimals`` is given: rounded scores tie, and
    poseval breaks ties by its (file-system) concatenation order. ``switch_rate``: the chance, per
    predicted person and frame, that its track takes a new id (an identity switch);
    ``region_rate``: the chance that a labeled frame has an ignore region."""
    rng = np.random.default_rng(seed)
    K = len(POSETRACK15)
    flip = POSETRACK15.flip_permutation()
    gts, preds = {}, {}
    for s in range(n_sequences):
        name = f"{s + 1:06d}_mpii_test"
        spec = _gt_sequence(rng, name, n_frames, people)
        g_frame, g_track, g_kp, g_head = [], [], [], []
        p_frame, p_track, p_kp = [], [], []
        regions = [[] for _ in range(n_frames)]
        id_map = {tr["id"]: 100 + tr["id"] for tr in spec["tracks"]}
        next_id = 200
        for f in range(n_frames):
            if rng.random() < region_rate and not spec["unlabeled"][f]:
                x0, y0 = rng.uniform(0, 1000), rng.uniform(0, 400)
                w, h = rng.uniform(80, 300), rng.uniform(80, 300)
                regions[f] = [np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]])]
            for tr in spec["tracks"]:
                if not tr["start"] <= f < tr["end"]:
                    continue
                a = tr["anchors"][f]
                xy = a + tr["pose"]
                head = np.array([a[0], a[1] - 30 * tr["scale"], a[0] + 30 * tr["scale"], a[1] + 10 * tr["scale"]])
                hs = 0.6 * 50 * tr["scale"]
                if not spec["unlabeled"][f]:
                    kp = np.column_stack([xy, np.ones(K)])
                    kp[rng.random(K) < 0.1, :] = np.nan
                    g_frame.append(f)
                    g_track.append(tr["id"])
                    g_kp.append(kp)
                    g_head.append(head)
                # the prediction of this person
                if rng.random() < 0.03:
                    continue
                if rng.random() < switch_rate:
                    id_map[tr["id"]] = next_id
                    next_id += 1
                pk = xy + rng.normal(0, 0.12 * hs, (K, 2))
                far = rng.random(K) < 0.05
                pk[far] += rng.normal(0, 1.5 * hs, (int(far.sum()), 2))
                if rng.random() < 0.03:
                    pk = pk[flip]
                score = rng.uniform(0.05, 1.0, K)
                kp = np.column_stack([pk, score])
                kp[rng.random(K) < 0.05] = np.nan
                p_frame.append(f)
                p_track.append(id_map[tr["id"]])
                p_kp.append(kp)
            if rng.random() < 0.15:  # a false positive person
                a = np.array([rng.uniform(50, 1100), rng.uniform(50, 400)])
                kp = np.column_stack([a + TEMPLATE * rng.uniform(0.7, 1.4), rng.uniform(0.01, 0.6, K)])
                p_frame.append(f)
                p_track.append(next_id)
                next_id += 1
                p_kp.append(kp)
        images = [f"images/val/{name}/{f:06d}.jpg" for f in range(n_frames)]
        gts[name] = PoseSequence(
            name=name, skeleton=POSETRACK15, image_names=images, person_frame=np.array(g_frame, np.int64),
            keypoints=np.array(g_kp).reshape(-1, K, 3), track_id=np.array(g_track, np.int64),
            head_box=np.array(g_head).reshape(-1, 4), ignore_regions=regions,
            is_labeled=~spec["unlabeled"])
        order = np.argsort(np.array(p_frame), kind="stable")
        preds[name] = PoseSequence(
            name=name, skeleton=POSETRACK15, image_names=images, person_frame=np.array(p_frame, np.int64)[order],
            keypoints=np.array(p_kp).reshape(-1, K, 3)[order], track_id=np.array(p_track, np.int64)[order])
    for seq in list(gts.values()) + list(preds.values()):  # compact files: 0.01 px
        seq.keypoints[..., :2] = np.round(seq.keypoints[..., :2], 2)
        if score_decimals is not None:
            seq.keypoints[..., 2] = np.round(seq.keypoints[..., 2], score_decimals)
        seq.head_box[:] = np.round(seq.head_box, 2)
        for polys in seq.ignore_regions:
            polys[:] = [np.round(p, 2) for p in polys]
    return PoseSet(gts, format="posetrack2017"), PoseSet(preds, format="posetrack2017")


def write_odd_benchmark(root, n_sequences: int = 12, n_frames: int = 30, seed: int = 0,
                        score_decimals: int | None = None, layout: str = "mixed",
                        repeated_gt_ids: bool = False) -> None:
    """A benchmark of inputs poseval accepts and reads its own way, written to ``root/gt`` and
    ``root/pred`` (used to check prt against the official poseval: docs/protocol.md §7).

    On top of :func:`make_benchmark`'s sequences: people naming a joint twice (the far-off copy
    before or after the real point), points whose id is no joint (15, -1, 3.5, null, "3"), scores
    that are null, NaN, missing or numeric strings, non-finite coordinates, people with an empty
    point list, and extra ignore regions over parts of people (so a deleted first point exposes
    its repeat). ``layout``: "2017", "2018" or "mixed" (every third sequence in 2018 layout, where
    repeats cannot be written). JSON is written with Python's ``json`` (NaN as ``NaN``).

    ``repeated_gt_ids`` adds poseval's dummy frames and the GT ids they make acceptable (see
    :func:`_dummies_and_repeated_ids`); ``root/gt`` must then hold no other files, since which id
    that is depends on where the file system lists each sequence.
    """
    import json
    from pathlib import Path

    from .formats.posetrack import FMT17, FMT18, to_2017, to_2018

    root = Path(root)
    gt_set, pred_set = make_benchmark(n_sequences, n_frames, seed=seed, score_decimals=score_decimals)
    rng = np.random.default_rng(seed + 7919)
    for d in ("gt", "pred"):
        (root / d).mkdir(parents=True, exist_ok=True)
    if repeated_gt_ids:
        from .formats.posetrack import sequence_files

        for name in gt_set.names():  # placeholders: where does the file system list each sequence?
            (root / "gt" / f"{name}.json").write_text("{}")
        listed = [f.stem for f in sequence_files(root / "gt", "filesystem")]
        rng_ids = np.random.default_rng(seed + 104729)
    for s, name in enumerate(gt_set.names()):
        fmt = FMT18 if layout == "2018" or (layout == "mixed" and s % 3 == 2) else FMT17
        gt, pred = gt_set[name], pred_set[name]
        if repeated_gt_ids:
            gt, pred = _dummies_and_repeated_ids(gt, pred, -10000 * listed.index(name), rng_ids)
        if fmt == FMT17:
            g, p = to_2017(gt), to_2017(pred)
            _odd_2017(g["annolist"], rng, gt=True)
            _odd_2017(p["annolist"], rng, gt=False)
            for fr_g in g["annolist"]:
                if fr_g["annorect"] and rng.random() < 0.15:
                    fr_g.setdefault("ignore_regions", []).append(_region_over(fr_g["annorect"], rng))
        else:
            g, p = to_2018(gt), to_2018(pred)
            _odd_2018(p, rng)
            for img, fr in zip(g["images"], to_2017(gt)["annolist"]):
                if fr["annorect"] and rng.random() < 0.15:
                    poly = _region_over(fr["annorect"], rng)["point"]
                    img.setdefault("ignore_regions_x", []).append([q["x"][0] for q in poly])
                    img.setdefault("ignore_regions_y", []).append([q["y"][0] for q in poly])
        (root / "gt" / f"{name}.json").write_text(json.dumps(g))
        (root / "pred" / f"{name}.json").write_text(json.dumps(p))


def _dummies_and_repeated_ids(gt: PoseSequence, pred: PoseSequence, dummy_id: int, rng) -> tuple:
    """Drop the predictions of a labeled frame in the first half (and maybe of one more), so poseval
    replaces them by its dummy (object 0, for every joint); in later frames, at times, give two GT
    people the id that dummy stands for (poseval adds i * 10000 to the ids of its i-th sequence,
    not to the dummy: 0 in the first sequence, -10000 in the second, ...). motmetrics has then seen
    the id and counts the repeat instead of crashing. Predicted ids are moved to start at 0."""
    labeled = np.unique(gt.person_frame)
    if len(labeled) < 4:
        return gt, pred
    first = int(labeled[int(rng.integers(0, len(labeled) // 2))])
    empty = [first] + ([int(rng.choice(labeled))] if rng.random() < 0.5 else [])
    pred = pred.select_persons(~np.isin(pred.person_frame, empty))
    pred.track_id = pred.track_id - 100  # make_benchmark's ids start at 100
    gt = gt.select_persons(np.ones(gt.num_persons, bool))
    for f in labeled[labeled > first]:
        people = np.flatnonzero(gt.person_frame == f)
        if len(people) >= 2 and rng.random() < 0.3:
            gt.track_id[rng.choice(people, 2, replace=False)] = dummy_id
    return gt, pred


def _region_over(rects: list, rng) -> dict:
    """A box over part of a random person (a few of its joints end up inside)."""
    pts = rects[int(rng.integers(len(rects)))]["annopoints"][0]["point"]
    xy = np.array([[q["x"][0], q["y"][0]] for q in pts if np.isfinite(q["x"][0])] or [[0.0, 0.0]])
    lo, hi = xy.min(0), xy.max(0)
    c = lo + rng.uniform(0.2, 0.8, 2) * (hi - lo)
    w, h = rng.uniform(10, 60, 2)
    box = [(c[0] - w, c[1] - h), (c[0] + w, c[1] - h), (c[0] + w, c[1] + h), (c[0] - w, c[1] + h)]
    return {"point": [{"x": [round(float(x), 2)], "y": [round(float(y), 2)]} for x, y in box]}


def _odd_2017(frames: list, rng, gt: bool) -> None:
    odd_ids = ([15], [-1], [3.5], [None], ["3"], None)
    for fr in frames:
        for rect in fr["annorect"]:
            pts = rect["annopoints"][0]["point"]
            if not gt and rng.random() < 0.01:
                rect["annopoints"][0]["point"] = []
                continue
            out = []
            for q in pts:
                q = dict(q)
                r = rng.random()
                if not gt:
                    if r < 0.03:
                        q["score"] = [None]
                    elif r < 0.06:
                        q["score"] = [float("nan")]
                    elif r < 0.08:
                        q.pop("score", None)
                    elif r < 0.10:
                        q["score"] = [str(q["score"][0])]
                if rng.random() < (0.005 if gt else 0.01):
                    q["x"] = [float("nan")]
                far = dict(q, x=[q["x"][0] + float(rng.uniform(60, 200))], y=[q["y"][0] - float(rng.uniform(60, 200))])
                r = rng.random()
                if r < 0.03:
                    out += [far, q]  # the far copy comes first: poseval reads it
                elif r < 0.06:
                    out += [q, far]
                elif r < 0.07:
                    near = dict(q, x=[q["x"][0] + 2.0])
                    out += [near, q]
                else:
                    out.append(q)
                if rng.random() < 0.01:
                    bad = dict(q, x=[q["x"][0] + 1.0])
                    bad_id = odd_ids[int(rng.integers(len(odd_ids)))]
                    if bad_id is None:
                        bad["id"] = [int(rng.integers(16, 30))]
                    else:
                        bad["id"] = bad_id
                    out.append(bad)
            rect["annopoints"][0]["point"] = out


def _odd_2018(data: dict, rng) -> None:
    for ann in data["annotations"]:
        kp = ann["keypoints"]
        sc = ann.get("scores") or []
        for j in range(len(kp) // 3):
            if kp[3 * j: 3 * j + 3] == [0, 0, 0]:
                continue
            r = rng.random()
            if sc and r < 0.03:
                sc[j] = None
            elif sc and r < 0.06:
                sc[j] = float("nan")
            elif sc and r < 0.08:
                sc[j] = str(sc[j])
            if rng.random() < 0.01:
                kp[3 * j] = float("nan")
        if rng.random() < 0.03:
            ann["scores"] = []
