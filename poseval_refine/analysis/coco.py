"""COCO error diagnosis: Ronchi & Perona's taxonomy exactly as coco-analyze's ``COCOanalyze`` computes it.

coco-analyze (matteorr/coco-analyze @ 9eb8a0a) with its default parameters does, per area range
(its ``all`` is 32² to 1e5², then ``medium`` and ``large``):

1. **baseline**: COCOeval (maxDets 20) on the detections as given.
2. **keypoint errors**: each detection matched to a GT person at OKS 0.1 (pycocotools' greedy
   matching; ignored people included) is compared joint by joint with every GT person of its image
   and with their left/right-flipped copies, by the per-keypoint similarity
   ``ks = exp(-d² / (2σ)² / (area + eps) / 2)`` over each person's own area. The best candidate
   decides: its own joint with ks > 0.85 is ``good``, 0.5 ≤ ks < 0.85 ``jitter``; its own flipped
   person ≥ 0.5 ``inversion``; another person (either copy) ≥ 0.5 ``swap``; below 0.5 ``miss``.
   Each wrong joint gets a corrected position (on the GT joint, shifted along x by the distance of
   a reference similarity), and AP is re-measured after correcting, cumulatively, misses, swaps,
   inversions and jitter.
3. **score**: each detection's score becomes the highest OKS it reaches with a non-ignored GT
   person of the area range, then soft non-maximum suppression (Gaussian, σ² = 0.5, on the OKS
   between detections over their mean joint-extent area) rescales the scores per image.
4. **background false positives / false negatives**: after 2 and 3, the detections matched to no GT
   person at each OKS threshold are ignored, then the GT people matched by none are ignored
   (cumulatively over the thresholds, in increasing order).

prt redoes this on arrays with pycocotools' own float64 operations (``metrics/coco.py``'s matching,
``metrics/oks.py``'s OKS), so every number equals coco-analyze's (tests/test_analyze_coco.py holds its
recorded outputs). coco-analyze's quirks are reproduced by default and named in :data:`QUIRKS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics.coco import REC_THRS, CocoPeople, ImageOutcomes, evaluate_images
from ..metrics.oks import SIGMA_SETS, oks_pairs

#: coco-analyze's area ranges (``Params.areaRng``): its ``all`` leaves out people smaller than 32²
AREA_LABELS = ("all", "medium", "large")
AREA_RANGES = ((32 ** 2, 1e5 ** 2), (32 ** 2, 96 ** 2), (96 ** 2, 1e5 ** 2))
#: its OKS thresholds, written as literals (not pycocotools' linspace: the bits differ)
OKS_THRS = np.array([.5, .55, .6, .65, .7, .75, .8, .85, .9, .95])
OKS_KEYS = tuple(f"{t:.2f}" for t in OKS_THRS)
LOCALIZATION_OKS = .1
JITTER_KS = (.5, .85)
MAX_DETS = 20
#: the sigmas of its keypoint labelling and rescoring (``Params.sigmas``, literals); its COCOeval uses
#: pycocotools' ``[.26, ...] / 10``, which are not the same bits
LABEL_SIGMAS = np.array([.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107, .087, .087,
                         .089, .089])
EVAL_SIGMAS = SIGMA_SETS["coco"]
#: each COCO joint's left/right partner (``Params.inv_idx``)
FLIP = np.array([0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])
KINDS = ("good", "jitter", "inversion", "swap", "miss")
#: label codes; 0: a GT joint no rule labels (coco-analyze's gap at ks == 0.85 exactly) or not annotated
GOOD, JITTER, INVERSION, SWAP, MISS = 1, 2, 3, 4, 5
#: the corrections in coco-analyze's order, cumulative, then the score and background steps
ERROR_STEPS = ("miss", "swap", "inversion", "jitter")
STEPS = ("baseline", *ERROR_STEPS, "score", "bckgd_false_pos", "false_neg")

#: coco-analyze's behaviours that look like bugs, reproduced by default; each named fix is an option
QUIRKS = {
    "rescore_keypoints": (
        "coco-analyze rescores the detections of every area range (soft-NMS between them) with the "
        "keypoints corrected for its LAST area range ('large'), because the detections it reads are left "
        "in that state by the loop that finds the best OKS per area range; a detection of area 'all' or "
        "'medium' that is not matched in 'large' is rescored with its uncorrected joints. "
        "Fix (fix_rescore_keypoints=True): each area range uses its own corrected keypoints."),
    "false_neg_order": (
        "coco-analyze stores the precision and recall after removing false negatives in increasing OKS order "
        "while every other step is stored in decreasing order, and labels all of them in decreasing order: its "
        "'false_neg' value labelled OKS 0.95 is the one measured at 0.50, and so on. "
        "Fix (fix_false_neg_order=True): each value under its own threshold."),
    "jitter_gap": (
        "A joint whose best similarity is exactly 0.85 on its own GT joint is neither good (> 0.85) nor "
        "jitter (< 0.85): it gets no label, and its 'corrected' position is (0, 0). Kept as is (measure "
        "zero on real coordinates)."),
    "correction_distance": (
        "A corrected joint is placed at distance sqrt(-2 ln(ks) area σ²) from the GT joint, while the "
        "similarity uses (2σ)²: it lands at similarity ks^(1/4), not ks (e.g. 0.96 for jitter's 0.85). "
        "Kept as is: it is what the published numbers measure."),
}


@dataclass
class CocoInputs:
    """GT people and detections grouped by image (file order within an image), plus what the diagnosis needs
    beyond the matching: the GT's raw visibility flags ``v`` (N, 17), ``num_keypoints`` field, and each row's
    index in the files (``gt_row``, ``det_row``)."""

    image_ids: list
    g: CocoPeople
    v: np.ndarray
    num_keypoints: np.ndarray
    gt_row: np.ndarray
    d: CocoPeople
    det_row: np.ndarray

    @property
    def n_images(self) -> int:
        return len(self.image_ids)


def coco_inputs(gt, res) -> CocoInputs:
    """:class:`CocoInputs` from prt's COCO readers' arrays (``formats.coco.CocoAnnotations`` and ``CocoResults``)."""
    n_img = len(gt.image_ids)
    order = np.argsort(gt.image, kind="stable")
    kp = gt.keypoints[order]
    g = CocoPeople(start=np.searchsorted(gt.image[order], np.arange(n_img + 1)),
                   x=np.ascontiguousarray(kp[..., 0]), y=np.ascontiguousarray(kp[..., 1]), area=gt.area[order],
                   visible=kp[..., 2] > 0, ids=gt.ids[order], crowd=gt.crowd[order],
                   ignore=gt.crowd[order] | (gt.num_keypoints[order] == 0), box=gt.bbox[order])
    index = {v: i for i, v in enumerate(gt.image_ids)}
    img = np.array([index[v] for v in res.image_id], dtype=np.int64)
    dorder = np.argsort(img, kind="stable")
    dk = res.keypoints[dorder]
    x, y = dk[:, 0::3], dk[:, 1::3]
    if res.box_area is not None:
        area = res.box_area[dorder]
    else:  # pycocotools' loadRes: the extent of the joints, (0, 0) included
        area = (x.max(1) - x.min(1)) * (y.max(1) - y.min(1)) if len(dk) else np.zeros(0)
    d = CocoPeople(start=np.searchsorted(img[dorder], np.arange(n_img + 1)), x=np.ascontiguousarray(x),
                   y=np.ascontiguousarray(y), area=area, score=res.score[dorder])
    return CocoInputs(image_ids=list(gt.image_ids), g=g, v=np.ascontiguousarray(kp[..., 2]),
                      num_keypoints=gt.num_keypoints[order], gt_row=order, d=d, det_row=dorder)


def _with(d: CocoPeople, x=None, y=None, score=None) -> CocoPeople:
    return CocoPeople(start=d.start, x=d.x if x is None else x, y=d.y if y is None else y, area=d.area,
                      score=d.score if score is None else score)


# ----------------------------------------------------------------------------- COCOeval pieces
def _evaluate(inp: CocoInputs, d: CocoPeople, areas, thresholds=OKS_THRS, max_dets=MAX_DETS,
              with_matches=False) -> ImageOutcomes:
    return evaluate_images(inp.g, d, EVAL_SIGMAS, max_dets=max_dets, area_ranges=areas, thresholds=thresholds,
                           with_matches=with_matches)


def _rows_of(start: np.ndarray, imgs: np.ndarray) -> np.ndarray:
    counts = start[imgs + 1] - start[imgs]
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(start[imgs], counts) + within


def _reevaluate(inp: CocoInputs, prev: ImageOutcomes, d: CocoPeople, imgs: np.ndarray, areas) -> ImageOutcomes:
    """``prev`` with the images ``imgs`` (sorted indices) evaluated again on detections ``d``: per-image
    outcomes are independent, so only the images whose detections changed need the matching again."""
    if not len(imgs):
        return prev
    g = inp.g
    g_rows, d_rows = _rows_of(g.start, imgs), _rows_of(d.start, imgs)

    def starts(start):
        c = start[imgs + 1] - start[imgs]
        return np.concatenate([[0], np.cumsum(c)])

    sub_g = CocoPeople(start=starts(g.start), x=g.x[g_rows], y=g.y[g_rows], area=g.area[g_rows],
                       visible=g.visible[g_rows], ids=g.ids[g_rows], crowd=g.crowd[g_rows], ignore=g.ignore[g_rows],
                       box=g.box[g_rows])
    sub_d = CocoPeople(start=starts(d.start), x=d.x[d_rows], y=d.y[d_rows], area=d.area[d_rows],
                       score=d.score[d_rows])
    new = evaluate_images(sub_g, sub_d, EVAL_SIGMAS, max_dets=MAX_DETS, area_ranges=areas, thresholds=OKS_THRS)
    keep = ~np.isin(prev.image, imgs)
    image = np.concatenate([prev.image[keep], imgs[new.image]])
    order = np.argsort(image, kind="stable")
    gt = prev.gt.copy()
    gt[imgs] = new.gt
    return ImageOutcomes(gt=gt, image=image[order], score=np.concatenate([prev.score[keep], new.score])[order],
                         index=np.concatenate([prev.index[keep], d_rows[new.index]])[order],
                         codes=np.concatenate([prev.codes[keep], new.codes])[order])


def _accumulate(codes: np.ndarray, score: np.ndarray, npig: np.ndarray, rows=None, order=None):
    """pycocotools' ``accumulate`` for one area range: ``codes`` (n, T) in image-then-rank order, ``npig`` (T,)
    the non-ignored GT people per threshold (coco-analyze changes them per threshold). Precision (T, 101) and
    recall (T,), -1 where there is no GT person; only the threshold ``rows`` when given (others stay -1)."""
    n, T = codes.shape
    precision = -np.ones((T, 101))
    recall = -np.ones(T)
    if order is None:
        order = np.argsort(-score, kind="mergesort")
    eps = np.spacing(1)
    for t in range(T) if rows is None else rows:
        if npig[t] == 0:
            continue
        if n == 0:
            recall[t] = 0
            precision[t] = 0
            continue
        c = codes[order, t]
        tp = np.cumsum(c == 1).astype(float)
        fp = np.cumsum(c == 0).astype(float)
        rc = tp / npig[t]
        pr = tp / (fp + tp + eps)
        env = np.maximum.accumulate(pr[::-1])[::-1]
        recall[t] = rc[-1]
        idx = np.searchsorted(rc, REC_THRS, side="left")
        q = np.zeros(101)
        ok = idx < n
        q[ok] = env[idx[ok]]
        precision[t] = q
    return precision, recall


def _stat_row(precision: np.ndarray, recall: np.ndarray) -> tuple[dict, dict]:
    """coco-analyze's ``_summarize``: per threshold the mean precision over the recall points (``auc``) and
    the recall, -1 when undefined."""
    ap, rc = {}, {}
    for t, key in enumerate(OKS_KEYS):
        p = precision[t]
        ap[key] = -1.0 if not (p > -1).any() else float(np.mean(p[p > -1]))
        r = recall[t:t + 1]
        rc[key] = -1.0 if not (r > -1).any() else float(np.mean(r[r > -1]))
    return ap, rc


def _stats(out: ImageOutcomes, a: int = 0, npig=None):
    npig = out.gt[:, a].sum() * np.ones(out.codes.shape[2], dtype=np.int64) if npig is None else npig
    return _stat_row(*_accumulate(out.codes[:, a, :], out.score, npig))


# ----------------------------------------------------------------------------- keypoint labels
def keypoint_errors(inp: CocoInputs, det: np.ndarray, gt: np.ndarray):
    """Labels (P, 17) of the joints of detections ``det`` matched to GT people ``gt`` (rows of the grouped
    arrays), and their corrected coordinates (P, 17) x and y, as coco-analyze's ``_find_kpt_errors``."""
    g, d = inp.g, inp.d
    P = len(det)
    labels = np.zeros((P, 17), dtype=np.int8)
    cx = np.zeros((P, 17))
    cy = np.zeros((P, 17))
    img_of = np.searchsorted(g.start, gt, side="right") - 1
    start = g.start[img_of]
    n_of = g.start[img_of + 1] - start
    eps = np.spacing(1)
    var = (LABEL_SIGMAS * 2) ** 2
    sig2 = LABEL_SIGMAS ** 2
    low = -np.log(JITTER_KS[0]) * 2
    high = -np.log(JITTER_KS[1]) * 2
    for n in np.unique(n_of).tolist():
        sel = np.flatnonzero(n_of == n)
        own = gt[sel] - start[sel]
        # the image's people, the matched one first, the others in file order; then their flipped copies
        perm = np.argsort(np.arange(n)[None, :] != own[:, None], axis=1, kind="stable")
        rows = start[sel][:, None] + perm  # (p, n)
        X = np.concatenate([g.x[rows], g.x[rows][:, :, FLIP]], axis=1)  # (p, 2n, 17)
        Y = np.concatenate([g.y[rows], g.y[rows][:, :, FLIP]], axis=1)
        V = np.concatenate([inp.v[rows], inp.v[rows][:, :, FLIP]], axis=1)
        A = np.concatenate([g.area[rows], g.area[rows]], axis=1)
        dx_, dy_ = d.x[det[sel]], d.y[det[sel]]
        sq = (X - dx_[:, None, :]) ** 2 + (Y - dy_[:, None, :]) ** 2
        ks = np.exp(-sq / var / (A[:, :, None] + eps) / 2) * (V > 0) - 1 * (V == 0)
        best = ks.max(axis=1)
        arg = ks.argmax(axis=1)
        best[best < 0] = 0
        v0 = V[:, 0, :] != 0
        good = (best > JITTER_KS[1]) & (arg == 0) & v0
        jitt = (best >= JITTER_KS[0]) & (best < JITTER_KS[1]) & (arg == 0) & v0
        inv = (best >= JITTER_KS[0]) & (arg == n) & v0
        swap = (best >= JITTER_KS[0]) & (arg != 0) & (arg != n) & v0
        miss = (best < JITTER_KS[0]) & v0
        area = g.area[gt[sel]][:, None]
        d_low = np.sqrt(low * area * sig2)
        d_high = np.sqrt(high * area * sig2)
        rounded = best + eps * (best == 0) - eps * (best == 1)
        d_max = np.sqrt(-np.log(rounded) * 2 * area * sig2)
        gx, gy = X[:, 0, :], Y[:, 0, :]
        cx[sel] = np.select([good, jitt, miss, ~v0, inv, swap],
                            [dx_, gx + d_high, gx + d_low, dx_, gx + d_max, gx + d_max], 0.0)
        cy[sel] = np.select([good, jitt, miss, ~v0, inv, swap], [dy_, gy, gy, dy_, gy, gy], 0.0)
        labels[sel] = np.select([good, jitt, inv, swap, miss], [GOOD, JITTER, INVERSION, SWAP, MISS], 0)
    return labels, cx, cy


# ----------------------------------------------------------------------------- rescoring
def _pair_power2(v: np.ndarray) -> np.ndarray:
    """``v ** 2`` as Python/numpy scalars compute it (C ``pow``), which differs from ``v * v`` in the last bit
    for about 1 value in 1000; an exponent array keeps numpy off its squaring shortcut."""
    return np.power(v, np.full_like(v, 2.0))


def rescoring_factors(inp: CocoInputs, x: np.ndarray, y: np.ndarray) -> dict:
    """Per image size D: the images and ``exp(-oks² / 0.5)`` (b, D, D) between their detections, OKS over the
    17 joints and the mean of both joint-extent areas (coco-analyze's ``_soft_nms``; symmetric, bit for bit)."""
    d = inp.d
    counts = np.diff(d.start)
    var = (LABEL_SIGMAS * 2) ** 2
    ext = (x.max(1) - x.min(1)) * (y.max(1) - y.min(1))
    eps = np.spacing(1)
    busy = np.flatnonzero(counts > 1)
    out = {}
    for D in np.unique(counts[busy]).tolist():
        imgs = busy[counts[busy] == D]
        rows = d.start[imgs][:, None] + np.arange(D)  # (b, D)
        xs, ys, ar = x[rows], y[rows], ext[rows]
        dx = xs[:, :, None, :] - xs[:, None, :, :]
        dy = ys[:, :, None, :] - ys[:, None, :, :]
        e = (dx ** 2 + dy ** 2) / var / ((.5 * (ar[:, :, None] + ar[:, None, :])) + eps)[..., None] / 2
        oks = np.sum(np.exp(-e), axis=-1) / 17  # (b, D, D)
        out[D] = (rows, np.exp(-(_pair_power2(oks) / .5)))
    return out


def soft_nms(factors: dict, start_scores: np.ndarray) -> np.ndarray:
    """coco-analyze's ``_soft_nms`` on every image at once: repeatedly take the detection with the highest
    current score (ties: its place in the previous stable sort, as Python's ``list.sort``), multiply every
    remaining one's score by its factor with it (:func:`rescoring_factors`)."""
    out = start_scores.astype(np.float64).copy()
    for D, (rows, factor) in factors.items():
        s = out[rows]
        b = len(rows)
        alive = np.ones((b, D), dtype=bool)
        pos = np.tile(np.arange(D), (b, 1))
        ar_b = np.arange(b)
        for _ in range(D):
            order = np.lexsort((pos, -s, ~alive), axis=1)
            pos[ar_b[:, None], order] = np.arange(D)
            m = order[:, 0]
            alive[ar_b, m] = False
            s = np.where(alive, s * factor[ar_b, m], s)
        out[rows] = s
    return out


def best_oks(inp: CocoInputs, x: np.ndarray, y: np.ndarray, area_range) -> np.ndarray:
    """Each detection's highest OKS with a GT person of its image not ignored in ``area_range`` (0 if none):
    coco-analyze's optimal score (``dtIousMax``)."""
    g, d = inp.g, inp.d
    lo, hi = area_range
    ok = ~(g.ignore | (g.area < lo) | (g.area > hi))
    n_img = inp.n_images
    g_img = np.repeat(np.arange(n_img), np.diff(g.start))
    d_count = np.diff(d.start)
    # (detection, non-ignored GT person of its image) pairs
    keep_g = np.flatnonzero(ok)
    per_img = np.bincount(g_img[keep_g], minlength=n_img)
    first = np.concatenate([[0], np.cumsum(per_img)])
    d_img = np.repeat(np.arange(n_img), d_count)
    pc = per_img[d_img]
    pair_det = np.repeat(np.arange(len(d_img)), pc)
    within = np.arange(int(pc.sum())) - np.repeat(np.cumsum(pc) - pc, pc)
    pair_gt = keep_g[np.repeat(first[d_img], pc) + within]
    oks = oks_pairs(x, y, g.x, g.y, g.visible, g.area, g.box, pair_det, pair_gt, EVAL_SIGMAS)
    best = np.zeros(len(d_img))
    np.maximum.at(best, pair_det, oks)
    return best


# ----------------------------------------------------------------------------- the diagnosis
@dataclass
class AreaDiagnosis:
    """One area range's results: label counts, AP/recall per step, FP/FN counts per threshold, and the arrays
    behind them (per detection labels, per image counts) for drill-down and pictures."""

    keypoints: dict
    ap: dict
    recall: dict
    false_pos: dict
    false_neg: dict
    labels: np.ndarray  # (n_det, 17) per grouped detection, 0 where unlabeled / not analysed
    matched_gt: np.ndarray  # (n_det,) localization match (grouped GT row), -1 none
    pr: dict  # step -> (T, 101) precision curves
    fp_at_50: np.ndarray  # (n_det,) bool background false positive at OKS .5
    fn_at_50: np.ndarray  # (n_gt,) bool false negative at OKS .5

    def as_dict(self) -> dict:
        return {"keypoints": self.keypoints, "ap": self.ap, "recall": self.recall,
                "false_pos": self.false_pos, "false_neg": self.false_neg}


def diagnose(inp: CocoInputs, *, fix_rescore_keypoints: bool = False, fix_false_neg_order: bool = False,
             progress=None) -> dict[str, AreaDiagnosis]:
    """coco-analyze's ``analyze()`` + ``summarize()`` with its default parameters, per area range.
    ``progress(1)`` is called after each evaluation (20 in all)."""
    tick = progress or (lambda n: None)
    g, d = inp.g, inp.d
    n_det, n_gt = len(d.score), len(g.area)
    A = len(AREA_RANGES)
    base = _evaluate(inp, d, AREA_RANGES)
    tick(1)
    loc = _evaluate(inp, d, AREA_RANGES, thresholds=np.array([LOCALIZATION_OKS]), with_matches=True)
    tick(1)
    # label every (detection, GT) localization pair once: a pair's labels do not depend on the area range
    m = loc.matched[:, :, 0]  # (n_keep, A)
    pairs = np.unique(np.concatenate([np.column_stack([loc.index[m[:, a] >= 0], m[m[:, a] >= 0, a]])
                                      for a in range(A)]), axis=0) if len(m) else np.zeros((0, 2), np.int64)
    pairs = pairs[inp.num_keypoints[pairs[:, 1]] != 0] if len(pairs) else pairs
    labels, cx, cy = keypoint_errors(inp, pairs[:, 0], pairs[:, 1])
    pair_of = {(int(a), int(b)): i for i, (a, b) in enumerate(pairs.tolist())}

    per_area = []
    for a in range(A):
        sel = m[:, a] >= 0
        dets, gts = loc.index[sel], m[sel, a]
        idx = np.array([pair_of.get((int(u), int(w)), -1) for u, w in zip(dets, gts)], dtype=np.int64)
        keepp = idx >= 0
        per_area.append((dets[keepp], idx[keepp], dets, gts))

    def corrected(a, kinds):
        dets, idx, _, _ = per_area[a]
        x, y = d.x.copy(), d.y.copy()
        lab = labels[idx]
        mask = np.isin(lab, kinds)
        xs, ys = x[dets], y[dets]
        xs[mask], ys[mask] = cx[idx][mask], cy[idx][mask]
        x[dets], y[dets] = xs, ys
        return x, y

    codes_all = (MISS, SWAP, INVERSION, JITTER)
    full = [corrected(a, codes_all) for a in range(A)]
    det_img = np.repeat(np.arange(inp.n_images), np.diff(d.start))
    factors = {}
    out = {}
    for a, label in enumerate(AREA_LABELS):
        rng = [AREA_RANGES[a]]
        ap, rc, pr = {}, {}, {}
        o = ImageOutcomes(gt=base.gt[:, a:a + 1], image=base.image, score=base.score, index=base.index,
                          codes=base.codes[:, a:a + 1])
        ap["baseline"], rc["baseline"] = _stats(o)
        pr["baseline"] = _accumulate(o.codes[:, 0, :], o.score, o.gt[:, 0].sum() * np.ones(10, int))[0]
        dets, idx = per_area[a][:2]
        for k, step in enumerate(ERROR_STEPS):
            x, y = corrected(a, codes_all[:k + 1])
            changed = np.unique(det_img[dets[(labels[idx] == codes_all[k]).any(1)]])
            o = _reevaluate(inp, o, _with(d, x, y), changed, rng)
            tick(1)
            ap[step], rc[step] = _stats(o)
            pr[step] = _accumulate(o.codes[:, 0, :], o.score, o.gt[:, 0].sum() * np.ones(10, int))[0]
        x, y = full[a]
        which = a if fix_rescore_keypoints else A - 1
        if which not in factors:
            factors[which] = rescoring_factors(inp, *full[which])
        scores = soft_nms(factors[which], best_oks(inp, x, y, AREA_RANGES[a]))
        o = _evaluate(inp, _with(d, x, y, scores), rng, with_matches=True)
        tick(2)
        ap["score"], rc["score"] = _stats(o)
        pr["score"] = _accumulate(o.codes[:, 0, :], o.score, o.gt[:, 0].sum() * np.ones(10, int))[0]
        # background false positives: detections matched to nobody at each threshold (all detections count,
        # also those beyond the 20 best of an image); false negatives: GT people matched by nobody
        matched = o.matched[:, 0, :]  # (n_keep, T)
        codes = o.codes[:, 0, :].copy()
        codes[(matched < 0) & (codes == 0)] = 2
        npig = np.full(len(OKS_THRS), o.gt[:, 0].sum())
        order = np.argsort(-o.score, kind="mergesort")
        p_fp, r_fp = _accumulate(codes, o.score, npig, order=order)
        ap["bckgd_false_pos"], rc["bckgd_false_pos"] = _stat_row(p_fp, r_fp)
        pr["bckgd_false_pos"] = p_fp
        lo, hi = AREA_RANGES[a]
        counted = ~(g.ignore | (g.area < lo) | (g.area > hi))
        fp, fn = {}, {}
        gone = np.zeros(n_gt, dtype=bool)
        prec_fn, rec_fn = -np.ones((len(OKS_THRS), 101)), -np.ones(len(OKS_THRS))
        fn_at_50 = fp_at_50 = None
        for t, key in enumerate(OKS_KEYS):
            hit_gt = np.zeros(n_gt, dtype=bool)
            hit_gt[matched[matched[:, t] >= 0, t]] = True
            hit_det = np.zeros(n_det, dtype=bool)
            hit_det[o.index[matched[:, t] >= 0]] = True
            fp[key] = int(n_det - hit_det.sum())
            fn[key] = int(n_gt - hit_gt.sum())
            if t == 0:
                fp_at_50, fn_at_50 = ~hit_det, ~hit_gt
            gone |= ~hit_gt
            n_t = np.full(len(OKS_THRS), int((counted & ~gone).sum()))
            p_t, r_t = _accumulate(codes, o.score, n_t, rows=[t], order=order)
            prec_fn[t], rec_fn[t] = p_t[t], r_t[t]
        if not fix_false_neg_order:  # coco-analyze stores these rows unreversed (quirk 'false_neg_order')
            prec_fn, rec_fn = prec_fn[::-1], rec_fn[::-1]
        ap["false_neg"], rc["false_neg"] = _stat_row(prec_fn, rec_fn)
        pr["false_neg"] = prec_fn
        dets, idx, all_dets, all_gts = per_area[a]
        lab = np.zeros((n_det, 17), dtype=np.int8)
        lab[dets] = labels[idx]
        mg = np.full(n_det, -1, dtype=np.int64)
        mg[all_dets] = all_gts
        counts = {k: int((labels[idx] == code).sum()) for k, code in zip(KINDS, (GOOD, JITTER, INVERSION, SWAP, MISS))}
        out[label] = AreaDiagnosis(keypoints=counts, ap={s: ap[s] for s in STEPS}, recall={s: rc[s] for s in STEPS},
                                   false_pos=fp, false_neg=fn, labels=lab, matched_gt=mg, pr=pr,
                                   fp_at_50=fp_at_50, fn_at_50=fn_at_50)
    return out
