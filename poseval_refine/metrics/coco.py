"""COCO keypoint AP/AR: pycocotools' per-image matching and its accumulation, for any weighting of the images.

:func:`evaluate_images` does the per-image work of pycocotools' ``COCOeval.evaluate`` (OKS,
greedy matching, crowd regions, ignore flags, area ranges, maxDets) for all images at once,
with the same outcome for every detection; ``accumulate`` then pools the detections of all
images, sorts them by score and reads precision at 101 recall thresholds. This module keeps the
per-image outcome as JSON-able items and redoes ``accumulate`` + ``summarize`` for many image
weightings at once (bootstrap resamples: image i drawn ``w[i]`` times), without running
``evaluate`` again. A weight vector of ones gives ``COCOeval.stats`` bit for bit.

Why only the true positives are needed: with the images' detections pooled and sorted, the
precision envelope (max to the right) at a true positive is never raised by a false positive
after it, a false positive is never the first point reaching a recall threshold, and the copies
of a detection drawn k times are adjacent with precision increasing along them. So precision
sampled at the recall thresholds depends only on the cumulative weighted TP and FP counts at
each true positive. Copies of one image keep the position of the original in the sort, i.e.
ties in score across images are broken as in the original evaluation.

Item layout (one per GT image, in pycocotools' image order): ``image_id``; ``gt`` the number of
non-ignored GT people per area range (all, medium, large); ``scores`` the image's detections
in pycocotools' per-image order (score-sorted, at most maxDets=20); ``match`` one string per
detection of ``A x T`` characters, area-major over the 10 OKS thresholds: ``1`` true positive,
``0`` false positive, ``.`` ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .oks import oks_pairs

#: pycocotools ``Params.setKpParams`` values (the test compares them with pycocotools' own)
IOU_THRS = np.linspace(0.5, 0.95, 10)
REC_THRS = np.linspace(0.0, 1.0, 101)
AREA_LABELS = ("all", "medium", "large")
AREA_RANGES = ((0 ** 2, 1e5 ** 2), (32 ** 2, 96 ** 2), (96 ** 2, 1e5 ** 2))
MAX_DETS = 20
#: the ten numbers of ``COCOeval.summarize`` for keypoints, in ``stats`` order
STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
_CODE = {b"1"[0]: 1, b"0"[0]: 0, b"."[0]: 2}


@dataclass
class CocoPeople:
    """People of many images as arrays, grouped by image (``start[i]:start[i+1]`` are image i's, in file
    order). ``x``/``y`` (N, K) joint coordinates. GT only: ``visible`` (v > 0), ``ids``, ``crowd``,
    ``ignore`` (crowd or no annotated keypoints), ``box`` (x, y, w, h). Detections only: ``score``.
    Both: ``area`` (GT: its own; detections: from their box or their joints' extent, as pycocotools'
    loadRes)."""

    start: np.ndarray
    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    visible: np.ndarray | None = None
    ids: np.ndarray | None = None
    crowd: np.ndarray | None = None
    ignore: np.ndarray | None = None
    box: np.ndarray | None = None
    score: np.ndarray | None = None


@dataclass
class ImageOutcomes:
    """What pycocotools' ``evaluateImg`` finds, for all images: ``gt`` (n_images, A) the non-ignored GT
    people per area range; the evaluated detections (each image's best ``MAX_DETS`` by score, stable)
    in image order then rank: ``image``, ``score``, ``index`` (row in the detections given) and
    ``codes`` (n, A, T): 1 true positive, 0 false positive, 2 ignored; with ``with_matches``,
    ``matched`` (n, A, T) the row of the GT person each detection matched (ignored ones included), -1
    for none (the error diagnosis needs who matched whom, not only whether)."""

    gt: np.ndarray
    image: np.ndarray
    score: np.ndarray
    index: np.ndarray
    codes: np.ndarray
    matched: np.ndarray | None = None


def _ragged_arange(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each count c, concatenated."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total) - np.repeat(ends - counts, counts)


def evaluate_images(gt: CocoPeople, det: CocoPeople, sigmas: np.ndarray, *, max_dets: int = MAX_DETS,
                    area_ranges=AREA_RANGES, thresholds: np.ndarray = IOU_THRS, with_oks: bool = False,
                    negative_ids_unmatched: bool = False, with_matches: bool = False):
    """pycocotools' ``evaluate`` for keypoints on all images at once (see :class:`ImageOutcomes`).

    Per image: detections sorted by score (stable), the first ``max_dets`` kept; per area range
    and OKS threshold, each detection in turn takes the available GT person with the highest
    OKS >= threshold (ties: the later one), non-ignored people first, ignored ones (crowds, people
    without keypoints, people outside the area range) only when no non-ignored one qualifies; a
    crowd stays available after a match. An unmatched detection outside the area range is
    ignored. With ``with_oks``, also (pair detection row, pair GT row, OKS); with ``with_matches``,
    the outcome's ``matched``.

    ``negative_ids_unmatched``: xtcocotools stores a match as the GT's id in arrays that start at -1 and
    counts ``id >= 0`` as matched, so a detection matching a non-ignored GT person of negative id takes
    that person but counts as unmatched (a false positive, or ignored outside the area range); id 0
    counts as matched (pycocotools, whose arrays start at 0, cannot match it: prt refuses id 0 there)."""
    n_img = len(gt.start) - 1
    A, T = len(area_ranges), len(thresholds)
    g_count = np.diff(gt.start)
    d_count = np.diff(det.start)
    # detections by image, then score descending; ties keep the given order (mergesort)
    d_img = np.repeat(np.arange(n_img), d_count)
    order = np.lexsort((-det.score, d_img))
    rank = _ragged_arange(d_count)
    keep = order[rank < max_dets]
    k_count = np.minimum(d_count, max_dets)
    k_img = d_img[keep]
    n_keep = len(keep)

    lo = np.array([a[0] for a in area_ranges], dtype=np.float64)
    hi = np.array([a[1] for a in area_ranges], dtype=np.float64)
    g_ig = gt.ignore[:, None] | (gt.area[:, None] < lo) | (gt.area[:, None] > hi)  # (G, A)
    gt_counts = np.zeros((n_img, A), dtype=np.int64)
    g_img = np.repeat(np.arange(n_img), g_count)
    np.add.at(gt_counts, g_img, ~g_ig)
    d_out = (det.area[keep, None] < lo) | (det.area[keep, None] > hi)  # (n_keep, A)

    # every (kept detection, GT of its image) pair, detection-major
    pg_count = g_count[k_img]
    pair_det = np.repeat(np.arange(n_keep), pg_count)
    pair_gt = np.repeat(gt.start[k_img], pg_count) + _ragged_arange(pg_count)
    oks = oks_pairs(det.x[keep], det.y[keep], gt.x, gt.y, gt.visible, gt.area, gt.box, pair_det, pair_gt, sigmas)

    codes = np.where(d_out[:, :, None], 2, 0).astype(np.uint8).repeat(T, axis=2)  # unmatched: FP or ignored
    matched = np.full((n_keep, A, T), -1, dtype=np.int64) if with_matches else None
    k_start = np.concatenate([[0], np.cumsum(k_count)])
    pair_start = np.concatenate([[0], np.cumsum(pg_count)])
    thr = np.asarray(thresholds, dtype=np.float64)[:, None]  # (T, 1)
    # A GT person's matching key: its OKS's bits (monotonic for floats >= 0, below 2**62) with bit 62 set
    # for a non-ignored person, so that the largest key is pycocotools' choice: non-ignored first, then
    # the highest OKS; -1 marks a person that is no candidate.
    bits = oks.view(np.int64)
    prefer = np.int64(1) << np.int64(62)
    # images with GT and detections, in buckets of similar GT counts (padded with never-candidates):
    # per detection rank, all images of a bucket at once
    busy = np.flatnonzero((g_count > 0) & (k_count > 0))
    width = np.maximum(1, 1 << np.ceil(np.log2(np.maximum(g_count[busy], 1))).astype(np.int64))
    for G in sorted(set(width.tolist())):
        imgs = busy[width == G]
        imgs = imgs[np.argsort(-k_count[imgs], kind="stable")]  # most detections first: prefixes per rank
        n_b = len(imgs)
        nd, ng = k_count[imgs], g_count[imgs]
        Dmax = int(nd[0])
        # o: (n_b, Dmax, G) OKS of each detection with each GT person of its image (-1: none)
        o = np.full((n_b, Dmax, G), -1.0)
        rows = np.repeat(np.arange(n_b), nd * ng)
        within = _ragged_arange(nd * ng)
        det_r, gt_c = within // np.repeat(ng, nd * ng), within % np.repeat(ng, nd * ng)
        src = np.repeat(pair_start[k_start[imgs]], nd * ng) + within
        o[rows, det_r, gt_c] = oks[src]
        b = np.full((n_b, Dmax, G), -1, dtype=np.int64)
        b[rows, det_r, gt_c] = bits[src]
        g_rows = np.minimum(gt.start[imgs][:, None] + np.arange(G), len(gt.area) - 1)  # padding: any row
        real = np.arange(G) < ng[:, None]  # (n_b, G)
        ok = (~g_ig[g_rows]).transpose(0, 2, 1) & real[:, None, :]  # (n_b, A, G) non-ignored
        boost = np.where(ok, prefer, np.int64(0))[:, :, None, :]  # (n_b, A, 1, G)
        keeps = (gt.crowd[g_rows] | ~real)[:, None, None, :]  # stays available after a match
        void = (gt.ids[g_rows] < 0) & real if negative_ids_unmatched else None  # (n_b, G)
        avail = np.ones((n_b, A, T, G), dtype=bool)
        hits = np.zeros((n_b, Dmax, A, T), dtype=np.uint8)  # 0 unmatched, 1 TP, 2 matched an ignored GT
        whom = np.full((n_b, Dmax, A, T), -1, dtype=np.int64) if with_matches else None
        n_active = np.searchsorted(-nd, -np.arange(Dmax), side="left")  # images with > r detections
        for r in range(Dmax):
            n = int(n_active[r])
            cand = (o[:n, r][:, None, None, :] >= thr) & avail[:n]  # (n, A, T, G)
            key = np.where(cand, b[:n, r][:, None, None, :] | boost[:n], -1)
            m = (G - 1) - np.argmax(key[..., ::-1], axis=-1)  # the last of the largest keys
            best = np.take_along_axis(key, m[..., None], -1)[..., 0]
            hit = best >= 0
            hits[:n, r] = np.where(hit, np.where(best >= prefer, 1, 2), 0)
            ii, aa, tt = np.nonzero(hit)
            mm = m[ii, aa, tt]
            avail[ii, aa, tt, mm] = keeps[ii, 0, 0, mm]
            if void is not None:
                v = void[ii, mm] & (best[ii, aa, tt] >= prefer)
                hits[ii[v], r, aa[v], tt[v]] = 0
            if whom is not None:
                whom[ii, r, aa, tt] = gt.start[imgs][ii] + mm
        rows = np.repeat(np.arange(n_b), nd)
        rank_b = _ragged_arange(nd)
        h = hits[rows, rank_b]
        dest = k_start[imgs][rows] + rank_b
        codes[dest] = np.where(h > 0, h, codes[dest])
        if whom is not None:
            matched[dest] = whom[rows, rank_b]
    out = ImageOutcomes(gt=gt_counts, image=k_img, score=det.score[keep], index=keep, codes=codes, matched=matched)
    if with_oks:
        return out, (keep[pair_det], pair_gt, oks)
    return out


def accumulate(out: ImageOutcomes) -> tuple[np.ndarray, np.ndarray]:
    """``COCOeval.accumulate``: ``precision`` (1, A, T, 101) and ``recall`` (1, A, T), -1 where undefined,
    with pycocotools' own arithmetic on the pooled detections (ignored ones included)."""
    n, A, T = out.codes.shape
    Q = len(REC_THRS)
    precision = -np.ones((1, A, T, Q))
    recall = -np.ones((1, A, T))
    order = np.argsort(-out.score, kind="mergesort")
    codes = out.codes[order]
    npig = out.gt.sum(0)
    eps = np.spacing(1)
    for a in range(A):
        if npig[a] == 0:
            continue
        c = codes[:, a, :].T  # (T, n)
        tp = np.cumsum(c == 1, axis=1).astype(float)
        fp = np.cumsum(c == 0, axis=1).astype(float)
        if n == 0:
            recall[0, a] = 0
            precision[0, a] = 0
            continue
        rc = tp / npig[a]
        pr = tp / (fp + tp + eps)
        env = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
        recall[0, a] = rc[:, -1]
        for t in range(T):
            idx = np.searchsorted(rc[t], REC_THRS, side="left")
            q = np.zeros(Q)
            ok = idx < n
            q[ok] = env[t, idx[ok]]
            precision[0, a, t] = q
    return precision, recall


def items_of(out: ImageOutcomes, image_ids: list) -> list[dict]:
    """The JSON-able per-image items (see the module docstring) of :func:`evaluate_images`' outcome."""
    n, A, T = out.codes.shape
    chars = np.frombuffer(b"01.", dtype=np.uint8)[out.codes.reshape(n, A * T)]
    text = chars.tobytes().decode("ascii")
    w = A * T
    match = [text[i:i + w] for i in range(0, n * w, w)]
    scores = out.score.tolist()
    bounds = np.searchsorted(out.image, np.arange(len(image_ids) + 1)).tolist()
    gt = out.gt.tolist()
    return [{"image_id": img, "gt": gt[i], "scores": scores[bounds[i]:bounds[i + 1]],
             "match": match[bounds[i]:bounds[i + 1]]} for i, img in enumerate(image_ids)]


def image_items(eval_imgs: list, img_ids: list, n_areas: int = 3, n_thrs: int = 10) -> list[dict]:
    """Per-image items from ``COCOeval.evalImgs`` of one category (``evaluate`` order: area-major,
    then image); ``img_ids`` is ``params.imgIds``."""
    n = len(img_ids)
    if len(eval_imgs) != n_areas * n:
        raise ValueError(f"expected {n_areas} x {n} per-image evaluations, got {len(eval_imgs)}")
    chars = np.array([ord("0"), ord("1"), ord(".")], dtype=np.uint8)
    items = []
    for i, img in enumerate(img_ids):
        img = img.item() if isinstance(img, np.generic) else img  # evaluate() turns ids into numpy scalars
        per_area = [eval_imgs[a * n + i] for a in range(n_areas)]
        if per_area[0] is None:
            items.append({"image_id": img, "gt": [0] * n_areas, "scores": [], "match": []})
            continue
        gt = [int(np.count_nonzero(np.asarray(e["gtIgnore"]) == 0)) for e in per_area]
        D = len(per_area[0]["dtScores"])
        codes = np.empty((D, n_areas, n_thrs), dtype=np.intp)
        for a, e in enumerate(per_area):
            if list(e["dtIds"]) != list(per_area[0]["dtIds"]):
                raise ValueError(f"image {img}: detection order differs between area ranges")
            m = np.asarray(e["dtMatches"]).reshape(n_thrs, D) > 0
            ig = np.asarray(e["dtIgnore"]).reshape(n_thrs, D).astype(bool)
            codes[:, a, :] = np.where(ig, 2, m.astype(np.intp)).T
        text = chars[codes].reshape(D, n_areas * n_thrs)
        items.append({"image_id": img, "gt": gt, "scores": [float(s) for s in per_area[0]["dtScores"]],
                      "match": [row.tobytes().decode("ascii") for row in text]})
    return items


class PooledDetections:
    """The detections of all items, sorted once as ``accumulate`` sorts them."""

    def __init__(self, items: list[dict], n_areas: int = 3, n_thrs: int = 10):
        self.n_items = len(items)
        self.n_areas, self.n_thrs = n_areas, n_thrs
        self.gt = np.array([it["gt"] for it in items], dtype=np.int64).reshape(self.n_items, n_areas)
        counts = [len(it["scores"]) for it in items]
        scores = np.fromiter((s for it in items for s in it["scores"]), dtype=np.float64, count=sum(counts))
        image = np.repeat(np.arange(self.n_items), counts)
        text = "".join(m for it in items for m in it["match"]).encode("ascii")
        raw = np.frombuffer(text, dtype=np.uint8)
        if len(raw) != len(scores) * n_areas * n_thrs:
            raise ValueError("items: 'match' strings do not fit 'scores'")
        lut = np.full(256, -1, dtype=np.int8)
        for k, v in _CODE.items():
            lut[k] = v
        codes = lut[raw].reshape(len(scores), n_areas, n_thrs)
        if (codes < 0).any():
            raise ValueError("items: 'match' holds characters other than 1, 0 and .")
        order = np.argsort(-scores, kind="mergesort")
        self.image = image[order]
        self.codes = codes[order]

    def lanes(self):
        """Per (area, threshold): the runs of consecutive true positives in rank order, as sparse
        (run x item) counts of the run's TPs and of the false positives ranked just before it.

        A run collapses to one point without changing any sampled precision: along a run of TPs
        precision only grows, so the envelope inside a run equals the envelope at its end."""
        from scipy import sparse

        for a in range(self.n_areas):
            for t in range(self.n_thrs):
                c = self.codes[:, a, t]
                tp = c == 1
                fp = c == 0
                # run of a TP = how many FPs precede it; renumbered 0..n_runs-1
                fp_before = np.cumsum(fp)
                run_key = fp_before[tp]
                keys, run = np.unique(run_key, return_inverse=True)
                n_runs = len(keys)
                tp_mat = sparse.csr_matrix((np.ones(len(run), dtype=np.int64), (run, self.image[tp])),
                                           shape=(n_runs, self.n_items))
                # an FP precedes the first run whose key (FPs before it) is >= its own rank + 1
                fp_run = np.searchsorted(keys, fp_before[fp], side="left")
                keep = fp_run < n_runs  # FPs after the last TP never reach a sampled point
                fp_mat = sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.int64),
                                            (fp_run[keep], self.image[fp][keep])), shape=(n_runs, self.n_items))
                yield a, t, tp_mat, fp_mat


def accumulate_weighted(pool: PooledDetections, weights: np.ndarray, chunk: int = 256):
    """``precision`` (R, A, T, 101) and ``recall`` (R, A, T) as ``COCOeval.accumulate`` would give on
    the image set drawn by each row of ``weights`` (R x n ints); -1 where undefined."""
    w = np.asarray(weights)
    if w.ndim != 2 or w.shape[1] != pool.n_items:
        raise ValueError(f"weights must be R x {pool.n_items}, got shape {w.shape}")
    if not np.issubdtype(w.dtype, np.integer):
        if not np.all(w == np.round(w)):
            raise ValueError("weights must be whole numbers (times each image is drawn)")
    w = w.astype(np.int64)
    if (w < 0).any():
        raise ValueError("weights must be >= 0")
    R, A, T, Q = len(w), pool.n_areas, pool.n_thrs, len(REC_THRS)
    npig = w @ pool.gt  # (R, A): non-ignored GT people per area
    precision = -np.ones((R, A, T, Q))
    recall = -np.ones((R, A, T))
    eps = np.spacing(1)
    lanes = list(pool.lanes())
    for lo in range(0, R, chunk):
        hi = min(R, lo + chunk)
        wc = np.ascontiguousarray(w[lo:hi].T)  # (n, r), contiguous for the sparse products
        for a, t, tp_mat, fp_mat in lanes:
            K = tp_mat.shape[0]
            n = npig[lo:hi, a]
            defined = n > 0
            if K == 0:
                precision[lo:hi, a, t] = np.where(defined[:, None], 0.0, -1.0)
                recall[lo:hi, a, t] = np.where(defined, 0.0, -1.0)
                continue
            # weighted TPs of each run and FPs before it, cumulated along contiguous rows (r, K);
            # integer counts summed in float64 are exact (< 2**53), as pycocotools' cumsum(...).astype(float)
            tps = np.cumsum(np.ascontiguousarray((tp_mat @ wc).T), axis=1, dtype=np.float64)
            fps = np.cumsum(np.ascontiguousarray((fp_mat @ wc).T), axis=1, dtype=np.float64)
            pr = tps / (fps + tps + eps)
            env = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
            with np.errstate(divide="ignore", invalid="ignore"):
                rc = tps / n[:, None]
            q = np.zeros((hi - lo, Q))
            for r in np.flatnonzero(defined):
                idx = np.searchsorted(rc[r], REC_THRS, side="left")
                ok = idx < K
                q[r, ok] = env[r, idx[ok]]
            precision[lo:hi, a, t] = np.where(defined[:, None], q, -1.0)
            recall[lo:hi, a, t] = np.where(defined, rc[:, -1], -1.0)
    return precision, recall


def summarize(precision: np.ndarray, recall: np.ndarray) -> dict[str, np.ndarray]:
    """``COCOeval.summarize`` for keypoints over R weightings: the ten numbers, -1 where undefined.
    Means are taken over the same values in the same order as pycocotools (bitwise equal)."""
    t50 = int(np.flatnonzero(IOU_THRS == 0.5)[0])
    t75 = int(np.flatnonzero(IOU_THRS == 0.75)[0])
    R = len(precision)

    def mean(s: np.ndarray) -> np.ndarray:
        # pycocotools: np.mean of the entries > -1. Within one area range a resample's entries are all
        # defined or all -1, so the row mean of a contiguous row is that very sum (the test checks bits).
        s = np.ascontiguousarray(s.reshape(R, -1))
        full = (s > -1).all(1)
        out = np.full(R, -1.0)
        out[full] = np.mean(s[full], axis=1)
        for r in np.flatnonzero(~full & (s > -1).any(1)):  # not reached by pycocotools' arrays
            out[r] = np.mean(s[r][s[r] > -1])
        return out

    a_all, a_med, a_large = (AREA_LABELS.index(x) for x in ("all", "medium", "large"))
    vals = (
        mean(precision[:, a_all]), mean(precision[:, a_all, t50]), mean(precision[:, a_all, t75]),
        mean(precision[:, a_med]), mean(precision[:, a_large]),
        mean(recall[:, a_all]), mean(recall[:, a_all, t50]), mean(recall[:, a_all, t75]),
        mean(recall[:, a_med]), mean(recall[:, a_large]),
    )
    return dict(zip(STAT_NAMES, vals))


def resample_stats(items: list[dict], weights: np.ndarray) -> dict[str, np.ndarray]:
    """The ten numbers for every row of ``weights`` (R x len(items), times each image is drawn)."""
    pool = PooledDetections(items)
    return summarize(*accumulate_weighted(pool, weights))


def subset(out: ImageOutcomes, images: np.ndarray) -> ImageOutcomes:
    """The outcome restricted to the images where ``images`` (bool, n_images) is True: what ``evaluate`` gives
    with ``params.imgIds`` set to them, since each image is evaluated on its own (xtcocotools' CrowdPose
    easy/medium/hard passes)."""
    keep = images[out.image]
    return ImageOutcomes(gt=out.gt[images], image=np.cumsum(images)[out.image[keep]] - 1, score=out.score[keep],
                         index=out.index[keep], codes=out.codes[keep])


def xtcocotools_split_ap(precision: np.ndarray, n_categories: int, person: int) -> float:
    """xtcocotools' CrowdPose AP_easy/medium/hard of one split (``get_type_result``): ``round(np.mean(
    precision[:, :, :, 0, :]), 4)`` over its (T, R, K, M) array, whose categories other than the person
    (no GT, no detections) hold -1 and are averaged in; ``precision`` is :func:`accumulate`'s (1, A, T, 101)
    of the split, area range "all" first."""
    T, Q = precision.shape[2], precision.shape[3]
    full = -np.ones((T, Q, n_categories, 1))
    full[:, :, person, 0] = precision[0, 0]
    return float(round(np.mean(full), 4))
