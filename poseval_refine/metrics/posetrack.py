"""PoseTrack per-frame mAP and tracking MOTA/MOTP/precision/recall, as poseval computes them.

``sequence_stats`` turns one GT and one prediction sequence (canonical arrays, PoseTrack-15
joints) into additive statistics; ``finalize`` pools any number of them. Nothing here opens a
file: the evaluator in ``poseval_refine.evaluators.posetrack`` does the reading and checking.

Cleaning follows poseval (docs/protocol.md §1.3): frames whose GT has no person are dropped (``is_labeled``
is ignored), people without a pose record are dropped, points strictly inside an ignore
region are deleted from GT and predictions and people left without points are deleted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..poses import PoseSequence
from ..protocols import POSETRACK_GROUPS, PoseTrackProtocol
from ..skeletons import head_size
from .ap import MIN_SCORE, APStats, assign_poses, finalize_ap
from .distance import normalized_distance
from .mota import MotStats, RepeatedIdError, accumulate_frames, finalize_mot

NUM_JOINTS = 15


@dataclass
class SequenceStats:
    """Additive statistics of one sequence (or, after ``merge``, of several)."""

    ap: APStats
    mot: MotStats | None
    counts: dict = field(default_factory=dict)

    def merge(self, other: SequenceStats) -> SequenceStats:
        mot = None
        if self.mot is not None and other.mot is not None:
            mot = self.mot.merge(other.mot)
        counts = dict(self.counts)
        for k, v in other.counts.items():
            counts[k] = counts.get(k, 0) + v
        return SequenceStats(self.ap.merge(other.ap), mot, counts)


@dataclass
class CleanSequence:
    """One sequence pair after poseval's cleaning: the labeled frames, and the GT and predicted
    people kept in each (indices into the sequences' arrays, ordered by frame, then as in the file)."""

    gt: PoseSequence
    pred: PoseSequence
    num_frames: int
    gt_person: np.ndarray
    gt_frame: np.ndarray  # labeled-frame index (0..num_frames-1) of each kept GT person
    pred_person: np.ndarray
    pred_frame: np.ndarray
    gt_kp: np.ndarray  # keypoints after ignore-region removal
    pred_kp: np.ndarray


class RegionError(ValueError):
    """An ignore region that is no polygon (poseval fails on it); ``frame`` is the file's frame index."""

    def __init__(self, message: str, frame: int):
        super().__init__(message)
        self.frame = frame


def _polygons(regions: list[np.ndarray], frame: int) -> list:
    """shapely polygons of a frame's ignore regions (call under ``np.errstate(all="ignore")``: shapely
    reports NaN corners as numpy floating-point warnings)."""
    import shapely

    out = []
    for r, poly in enumerate(regions):
        try:
            out.append(shapely.Polygon(poly))
        except (ValueError, shapely.errors.ShapelyError) as e:
            raise RegionError(f"ignore region {r} is no polygon ({e})", frame) from None
    return out


def _all_polygons(regions: list, frames: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The polygons of the ignore regions of ``frames`` (object array) and their frames, built in one
    shapely call (the same geometries as one ``Polygon`` each; any odd region: one by one, to name it)."""
    import shapely

    rings = [r for f in frames for r in regions[f]]
    poly_frame = np.repeat(np.asarray(frames, np.int64), [len(regions[f]) for f in frames])
    sizes = np.array([len(r) for r in rings], np.int64)
    if len(rings) and (sizes >= 3).all():
        try:
            coords = np.concatenate(rings)
            out = shapely.polygons(shapely.linearrings(coords, indices=np.repeat(np.arange(len(rings)), sizes)))
            return np.asarray(out, dtype=object), poly_frame
        except (ValueError, shapely.errors.ShapelyError):
            pass
    polys = [p for f in frames for p in _polygons(regions[f], f)]
    out = np.empty(len(polys), dtype=object)
    out[:] = polys
    return out, poly_frame


def _contains(polys: np.ndarray, poly_frame: np.ndarray, xy: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Points strictly inside any polygon of their own frame, as poseval tests them (shapely
    ``Polygon.contains(Point)``, not the prepared ``contains_xy``: they differ on self-intersecting
    polygons; the boundary is outside). One shapely call for every (point, polygon) pair whose point
    lies in the polygon's bounding box (GEOS answers False outside it without looking further)."""
    import shapely

    inside = np.zeros(len(xy), bool)
    ok = np.flatnonzero(~np.isnan(xy[:, 0]))
    if not len(ok) or not len(polys):
        return inside
    pair_point, pair_poly = _same_frame_pairs(poly_frame, ok, frame[ok])
    x0, y0, x1, y1 = shapely.bounds(polys).T
    px, py, q = xy[pair_point, 0], xy[pair_point, 1], pair_poly
    near = ~((px < x0[q]) | (px > x1[q]) | (py < y0[q]) | (py > y1[q]))  # NaN bounds: kept
    pair_point, pair_poly = pair_point[near], pair_poly[near]
    if not len(pair_point):
        return inside
    try:
        hit = shapely.contains(polys[pair_poly], shapely.points(xy[pair_point]))
    except shapely.errors.ShapelyError as e:
        for poly, f in zip(polys, poly_frame):  # name the frame of the region GEOS cannot test
            try:
                shapely.contains(poly, shapely.points(xy[ok][:1]))
            except shapely.errors.ShapelyError:
                raise RegionError(f"an ignore region cannot be tested ({e})", int(f)) from None
        raise
    inside[pair_point[hit]] = True
    return inside


def _same_frame_pairs(region_frame: np.ndarray, points: np.ndarray, frame: np.ndarray):
    """(point, region) index pairs of ``points`` (frames ``frame``) with every region of their frame
    (``region_frame`` sorted)."""
    lo = np.searchsorted(region_frame, frame, side="left")
    n = np.searchsorted(region_frame, frame, side="right") - lo
    pair_point = np.repeat(points, n)
    pair_region = np.repeat(lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n) + np.arange(int(n.sum()))
    return pair_point, pair_region


def region_rectangle(ring) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) when a region is an axis-parallel rectangle: 4 distinct finite corners in order
    around it (5 with the first repeated at the end), else None. Strictly inside such a rectangle is
    x0 < x < x1 and y0 < y < y1, exactly GEOS's answer (its edges are axis-parallel)."""
    pts = ring.tolist() if isinstance(ring, np.ndarray) else ring
    if len(pts) == 5 and pts[4] == pts[0]:
        pts = pts[:4]
    if len(pts) != 4 or any(len(p) != 2 for p in pts):
        return None
    xs, ys = {p[0] for p in pts}, {p[1] for p in pts}
    if len(xs) != 2 or len(ys) != 2 or not all(math.isfinite(v) for v in (*xs, *ys)):
        return None
    for (ax, ay), (bx, by) in zip(pts, pts[1:] + pts[:1]):  # each edge moves along exactly one axis
        if (ax != bx) == (ay != by):
            return None
    return min(xs), min(ys), max(xs), max(ys)


def in_ignore_regions(regions: list, frames: list[int], xy: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Points strictly inside any ignore region of their frame: rectangles compared directly, other
    polygons through shapely (:func:`_contains`)."""
    rects, rect_frame, others = [], [], [[] for _ in regions]
    for f in frames:
        for ring in regions[f]:
            box = region_rectangle(ring)
            if box is None:
                others[f].append(ring)
            else:
                rects.append(box)
                rect_frame.append(f)
    inside = np.zeros(len(xy), bool)
    if rects:
        ok = np.flatnonzero(~np.isnan(xy[:, 0]))
        pp, pr = _same_frame_pairs(np.asarray(rect_frame, np.int64), ok, frame[ok])
        b = np.asarray(rects)[pr]
        px, py = xy[pp, 0], xy[pp, 1]
        inside[pp[(b[:, 0] < px) & (px < b[:, 2]) & (b[:, 1] < py) & (py < b[:, 3])]] = True
    other_frames = [f for f in frames if others[f]]
    if other_frames:
        polys, poly_frame = _all_polygons(others, other_frames)
        inside |= _contains(polys, poly_frame, xy, frame)
    return inside


def _apply_regions(kp: np.ndarray, idx: np.ndarray, inside: np.ndarray, extra: dict | None,
                   e: np.ndarray, e_inside: np.ndarray) -> np.ndarray:
    """Delete the points of people ``idx`` found inside (in place in ``kp``); return who keeps a point.

    As poseval: every point of a person is tested, and the person's joint is then the first of its
    surviving points with that id, so a repeated joint whose first point was deleted takes the
    next surviving one; a person survives if any point survives, a point with no joint id included.
    """
    if not len(idx):
        return np.zeros(0, bool)
    sub = kp[idx]
    sub[inside.reshape(len(idx), -1)] = np.nan
    kp[idx] = sub
    alive = ~np.isnan(sub[..., 0]).all(axis=1)
    if len(e):
        keep = e[~e_inside]
        alive |= np.isin(idx, extra["person"][keep])
        for i in keep:  # file order: the first surviving repeat fills a deleted joint
            p, j = extra["person"][i], extra["joint"][i]
            if j >= 0 and np.isnan(kp[p, j, 0]):
                kp[p, j] = (extra["x"][i], extra["y"][i], extra["score"][i])
    return alive


def _ignore_regions(gt: PoseSequence, pred: PoseSequence, g: np.ndarray, p: np.ndarray, gt_kp: np.ndarray,
                    pred_kp: np.ndarray, frames: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """poseval's ``removeIgnoredPoints`` over the GT's region frames, all at once: deletes the points
    inside (in place in the keypoint copies) and says which kept people (``g``, ``p``) keep a point."""
    with np.errstate(all="ignore"):  # shapely reports NaN corners as floating-point warnings
        in_region = np.zeros(max(gt.num_frames, pred.num_frames), bool)
        in_region[frames] = True
        g_in = np.flatnonzero(in_region[gt.person_frame[g]])
        p_in = np.flatnonzero(in_region[pred.person_frame[p]])
        gi, pi = g[g_in], p[p_in]
        K = gt_kp.shape[1]
        parts = [(gt_kp[gi, :, :2].reshape(-1, 2), np.repeat(gt.person_frame[gi], K)),
                 (pred_kp[pi, :, :2].reshape(-1, 2), np.repeat(pred.person_frame[pi], K))]
        extras = []
        for seq, idx in ((gt, gi), (pred, pi)):
            extra = seq.meta.get("extra_points")
            e = np.flatnonzero(np.isin(extra["person"], idx)) if extra is not None and len(idx) else np.zeros(0, int)
            extras.append((extra, e))
            if len(e):
                parts.append((np.column_stack([extra["x"][e], extra["y"][e]]), seq.person_frame[extra["person"][e]]))
        inside = in_ignore_regions(gt.ignore_regions, frames, np.concatenate([x for x, _ in parts]),
                                   np.concatenate([f for _, f in parts]))
    bounds = np.cumsum([0] + [len(x) for x, _ in parts])
    (g_extra, ge), (p_extra, pe) = extras
    ige = inside[bounds[2]:bounds[2] + len(ge)]
    ipe = inside[bounds[2] + len(ge):bounds[2] + len(ge) + len(pe)]
    g_keep = np.ones(len(g), bool)
    p_keep = np.ones(len(p), bool)
    g_keep[g_in] = _apply_regions(gt_kp, gi, inside[bounds[0]:bounds[1]], g_extra, ge, ige)
    p_keep[p_in] = _apply_regions(pred_kp, pi, inside[bounds[1]:bounds[2]], p_extra, pe, ipe)
    return g_keep, p_keep


def clean_sequence(gt: PoseSequence, pred: PoseSequence) -> CleanSequence:
    """poseval's cleaning (docs/protocol.md §1.3): keep the frames whose GT has a person, the people with a pose
    record, and apply the GT's ignore regions to both. Raises :class:`RegionError` for a region
    that is no polygon."""
    F = gt.num_frames
    g_count = np.bincount(gt.person_frame, minlength=F)[:F] if gt.num_persons else np.zeros(F, np.int64)
    labeled = np.flatnonzero(g_count > 0)  # unlabeled frame: no GT person (poseval ignores is_labeled)
    new_index = np.full(F, -1, np.int64)
    new_index[labeled] = np.arange(len(labeled))
    g = np.flatnonzero(gt.has_pose & (new_index[gt.person_frame] >= 0))
    p = np.flatnonzero(pred.has_pose & (new_index[pred.person_frame] >= 0))
    gt_kp, pred_kp = gt.keypoints, pred.keypoints
    region_frames = [f for f in labeled.tolist() if gt.ignore_regions[f]]
    if region_frames:
        gt_kp, pred_kp = gt_kp.copy(), pred_kp.copy()
        g_keep, p_keep = _ignore_regions(gt, pred, g, p, gt_kp, pred_kp, region_frames)
        g, p = g[g_keep], p[p_keep]
    return CleanSequence(gt, pred, len(labeled), g, new_index[gt.person_frame[g]], p,
                         new_index[pred.person_frame[p]], gt_kp, pred_kp)


def _slots(frame: np.ndarray) -> np.ndarray:
    """Position of every person within its frame (``frame`` sorted)."""
    return np.arange(len(frame)) - np.searchsorted(frame, frame, side="left")


def _sorted_ids(track: np.ndarray) -> np.ndarray:
    """``np.unique(track)`` (which imports numpy.ma, 20 ms, to check for a masked array)."""
    ids = np.sort(track)
    return ids[np.concatenate([[True], ids[1:] != ids[:-1]])] if len(ids) else ids


def _local_ids(track: np.ndarray) -> np.ndarray:
    """Track ids as 0..n-1 (ids are only compared for equality)."""
    return np.unique(track, return_inverse=True)[1].reshape(-1) if len(track) else np.zeros(0, np.int64)


#: largest padded (frames x predictions x GT x joints) array of one batch (a few of them live at once)
BATCH_CELLS = 3_000_000


MOT_BACKENDS = ("prt", "motmetrics")


def sequences_stats(cleaned: list[CleanSequence], protocol: PoseTrackProtocol,
                    tracking: bool = True, mot_backend: str = "prt",
                    position: int | list[int] = 0) -> list[SequenceStats]:
    """Additive AP (and, with ``tracking``, CLEAR-MOT) statistics of every cleaned sequence pair.

    ``mot_backend`` says who accumulates the CLEAR-MOT counts: prt's vectorized accumulator
    (``metrics.mota``) or motmetrics itself (``metrics.mota_motmetrics``), fed the same frames.

    Sequences are evaluated in batches on padded per-frame arrays (frames x people x joints), as
    many per batch as ``BATCH_CELLS`` allows; every number of a sequence is the same, bit for bit,
    whichever sequences it is batched with. Sequences must be in the PoseTrack-15 joint set, with
    predicted scores filled (missing ones set to ``MIN_SCORE``).

    ``position`` is poseval's index of ``cleaned[0]`` in its listing of the GT folder (the others
    follow in order), or the index of every sequence (a streaming evaluation's part). poseval adds
    ``i * max_track_id`` to the track ids of its i-th sequence but not to its dummy's object 0
    (quirk 8), so that dummy is GT track ``-i * max_track_id`` there: track 0 of the first sequence
    only. It matters for a GT id repeated within a frame (see
    ``metrics.mota.accumulate_frames``).
    """
    if mot_backend not in MOT_BACKENDS:
        raise ValueError(f"unknown MOT backend {mot_backend!r}; use one of {', '.join(MOT_BACKENDS)}")
    positions = np.arange(len(cleaned)) + position if np.isscalar(position) else np.asarray(position, np.int64)
    out: list[SequenceStats] = []
    start = 0
    while start < len(cleaned):
        end, frames, g_max, p_max = start, 0, 0, 0
        while end < len(cleaned):
            c = cleaned[end]
            g = int(np.bincount(c.gt_frame).max()) if len(c.gt_frame) else 0
            p = int(np.bincount(c.pred_frame).max()) if len(c.pred_frame) else 0
            cells = (frames + c.num_frames) * max(g_max, g, 1) * max(p_max, p, 1) * NUM_JOINTS
            if end > start and cells > BATCH_CELLS:
                break
            end, frames, g_max, p_max = end + 1, frames + c.num_frames, max(g_max, g), max(p_max, p)
        out += _batch_stats(cleaned[start:end], protocol, tracking, first=start, mot_backend=mot_backend,
                            positions=positions[start:end])
        start = end
    return out


def _batch_stats(cleaned: list[CleanSequence], protocol: PoseTrackProtocol, tracking: bool,
                 first: int = 0, mot_backend: str = "prt", positions: np.ndarray | None = None
                 ) -> list[SequenceStats]:
    K = NUM_JOINTS
    S = len(cleaned)
    n_frames = np.array([c.num_frames for c in cleaned], np.int64)
    start = np.concatenate([[0], np.cumsum(n_frames)]).astype(np.int64)
    F = int(start[-1])
    g_frame = np.concatenate([c.gt_frame + start[s] for s, c in enumerate(cleaned)]) if S else np.zeros(0, np.int64)
    p_frame = np.concatenate([c.pred_frame + start[s] for s, c in enumerate(cleaned)]) if S else np.zeros(0, np.int64)
    g_slot, p_slot = _slots(g_frame), _slots(p_frame)
    G = int(g_slot.max()) + 1 if len(g_slot) else 0
    H = int(p_slot.max()) + 1 if len(p_slot) else 0

    g_xy = np.full((F, G, K, 2), np.nan)
    g_xy[g_frame, g_slot] = _cat([c.gt_kp[c.gt_person, :, :2] for c in cleaned], (0, K, 2))
    p_kp = np.full((F, H, K, 3), np.nan)
    p_kp[p_frame, p_slot] = _cat([c.pred_kp[c.pred_person] for c in cleaned], (0, K, 3))
    hs = np.full((F, G), np.nan)
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite head box: no hit (NaN) or all hits (inf)
        hs[g_frame, g_slot] = head_size(_cat([c.gt.head_box[c.gt_person] for c in cleaned], (0, 4)))
    gv = np.zeros((F, G), bool)
    gv[g_frame, g_slot] = True
    pv = np.zeros((F, H), bool)
    pv[p_frame, p_slot] = True
    g_present = ~np.isnan(g_xy[..., 0])
    p_present = ~np.isnan(p_kp[..., 0])
    dist = _frame_distances(p_kp, g_xy, hs, pv.sum(1), gv.sum(1))  # (F, H, G, K), inf when absent

    # ---- AP: pose assignment per frame, labels per predicted joint, pooled per sequence
    _, hit = assign_poses(dist, g_present, pv, protocol.threshold)
    aps = [APStats(K) for _ in range(S)]
    for k in range(K):
        m = p_present[..., k]
        per_seq = np.concatenate([[0], np.cumsum(m.sum(1))])[start].tolist()
        scores, labels = p_kp[..., k, 2][m], hit[..., k][m]
        for s in range(S):
            aps[s].scores[k].append(scores[per_seq[s]:per_seq[s + 1]])
            aps[s].labels[k].append(labels[per_seq[s]:per_seq[s + 1]])
    n_gt = np.concatenate([np.zeros((1, K), np.int64), np.cumsum(g_present.sum(1), axis=0)])[start]
    for s in range(S):
        aps[s].add_gt(n_gt[s + 1] - n_gt[s])
    counts = [{"frames_pose": int(n_frames[s]), "sequences": 1} for s in range(S)]
    if not tracking:
        return [SequenceStats(aps[s], None, counts[s]) for s in range(S)]

    # ---- tracking: one CLEAR-MOT accumulator per (sequence, joint) over the labeled frames
    g_ids = np.zeros((F, G), np.int64)
    g_ids[g_frame, g_slot] = _cat([_local_ids(c.gt.track_id[c.gt_person]) for c in cleaned], (0,))
    p_ids = np.zeros((F, H), np.int64)
    p_ids[p_frame, p_slot] = _cat([_local_ids(c.pred.track_id[c.pred_person]) for c in cleaned], (0,))
    ng, npr = gv.sum(1), pv.sum(1)
    frames, dummies, used = [], [], []
    positions = np.arange(S) if positions is None else positions
    dummy_id = -positions * protocol.max_track_id  # the GT track poseval's dummy object is
    seen_from = np.full((S, 2), -1, np.int64)  # (frame of the first dummy, local id of that track)
    for s in range(S):
        rows = np.arange(start[s], start[s + 1] - (1 if protocol.drop_last_labeled_frame else 0))
        used.append(len(rows))
        empty = (ng[rows] == 0) | (npr[rows] == 0) if protocol.dummy_empty_frames else np.zeros(len(rows), bool)
        dummies.append(int(empty.sum()))
        frames.append(rows[~empty])
        ids = _sorted_ids(cleaned[s].gt.track_id[cleaned[s].gt_person]) if empty.any() else ()
        if dummy_id[s] in ids:
            seen_from[s] = int(np.argmax(empty)), int(np.searchsorted(ids, dummy_id[s]))
    if mot_backend == "motmetrics":  # poseval's updates: the real track ids, its dummy for the empty frames
        from .mota_motmetrics import accumulate_sequence as motmetrics_accumulate

        g_tid, p_tid = np.zeros((F, G), np.int64), np.zeros((F, H), np.int64)
        g_tid[g_frame, g_slot] = _cat([c.gt.track_id[c.gt_person] for c in cleaned], (0,))
        p_tid[p_frame, p_slot] = _cat([c.pred.track_id[c.pred_person] for c in cleaned], (0,))
        mots = []
        for s in range(S):
            real = set(frames[s].tolist())
            updates, labels, t = [], [], 0  # t: the frame index accumulate_frames names in its errors
            for f in range(start[s], start[s] + used[s]):
                if f not in real:
                    updates.append(dummy_update(K, int(dummy_id[s])))
                    labels.append("dummy frame")  # never in an error: motmetrics cannot fail on it
                    continue
                d = np.where(dist[f] <= protocol.threshold, dist[f], np.nan)[:npr[f], :ng[f]].transpose(2, 1, 0)
                updates.append((g_tid[f, :ng[f]], p_tid[f, :npr[f]], d, g_present[f, :ng[f]].T,
                                p_present[f, :npr[f]].T))
                labels.append(f"labeled frame {t} (counted from 0)")  # the sequence: the error's item
                t += 1
            try:
                mots.append(motmetrics_accumulate(updates, K, labels))
            except RepeatedIdError as e:
                raise RepeatedIdError(first + s, str(e)) from None
        dummies_done = True
    else:
        try:
            mots = accumulate_frames(frames, dist, g_ids, gv, g_present, p_ids, pv, p_present, protocol.threshold,
                                     seen_from)
        except RepeatedIdError as e:  # name the sequence within all of them
            raise RepeatedIdError(None if e.item is None else first + e.item, str(e)) from None
        dummies_done = False
    out = []
    for s in range(S):
        mot = MotStats.zeros(K).merge(mots[s])
        if dummies[s] and not dummies_done:
            mot.add_counts(objects=dummies[s], misses=dummies[s], false_positives=dummies[s])
        counts[s].update(frames_tracking=used[s], dummy_frames=dummies[s])
        out.append(SequenceStats(aps[s], mot, counts[s]))
    return out


def _frame_distances(p_kp: np.ndarray, g_xy: np.ndarray, hs: np.ndarray, n_pred: np.ndarray,
                     n_gt: np.ndarray) -> np.ndarray:
    """(F, H, G, K) normalized distances, computed for the real (prediction, GT) pairs of every
    frame only (the padding is most of the array), inf elsewhere: the frames grouped by their
    (predictions, GT) counts, each group in one broadcast (``metrics.ap.pair_distances``' arithmetic)."""
    F, H, G, K = p_kp.shape[0], p_kp.shape[1], g_xy.shape[1], g_xy.shape[2]
    dist = np.full((F, H, G, K), np.inf)
    if F == 0:
        return dist
    key = n_pred * (G + 1) + n_gt
    order = np.argsort(key, kind="stable")
    for fs in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
        a, b = int(n_pred[fs[0]]), int(n_gt[fs[0]])
        if a and b:
            d = normalized_distance(p_kp[fs, :a, None, :, :2], g_xy[fs, None, :b], hs[fs, None, :b, None])
            dist[fs, :a, :b] = np.where(np.isnan(d), np.inf, d)
    return dist


def dummy_update(K: int, track: int = 0) -> tuple:
    """poseval's stand-in for a frame without GT or without predictions (quirk 8): for every joint,
    object 0 and hypothesis 0 that may not be paired (one object, one miss, one false positive).
    ``track``: the id they are in the sequence's own ids (see ``sequences_stats``' position)."""
    ids = np.full(1, track, np.int64)
    return ids, ids.copy(), np.full((K, 1, 1), np.nan), np.ones((K, 1), bool), np.ones((K, 1), bool)


def _cat(arrays: list[np.ndarray], empty_shape: tuple) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(empty_shape)


def sequence_stats(gt: PoseSequence, pred: PoseSequence, protocol: PoseTrackProtocol,
                   tracking: bool = True, mot_backend: str = "prt") -> SequenceStats:
    """Additive AP (and, with ``tracking``, CLEAR-MOT) statistics of one sequence pair."""
    return sequences_stats([clean_sequence(gt, pred)], protocol, tracking, mot_backend)[0]


def combine(stats: list[SequenceStats]) -> SequenceStats:
    out = stats[0]
    for s in stats[1:]:
        out = out.merge(s)
    return out


def group_means(values: np.ndarray) -> list[float]:
    """The 7 group values (plain means; NaN if a member is NaN) and the Total (mean skipping NaN)."""
    out = [float(np.mean(values[list(ids)])) for _, ids in POSETRACK_GROUPS]
    finite = values[~np.isnan(values)]
    out.append(float(np.mean(finite)) if len(finite) else float("nan"))
    return out


def group_means_rows(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`group_means` of every row of ``values`` (R x K) at once: (R, 8). Rows that weigh every item
    once go through ``group_means`` itself, so they give the evaluated numbers bit for bit."""
    v = np.asarray(values, dtype=np.float64)
    out = np.empty((len(v), len(POSETRACK_GROUPS) + 1))
    for i, (_, ids) in enumerate(POSETRACK_GROUPS):
        out[:, i] = v[:, list(ids)].mean(axis=1)
    present = ~np.isnan(v)
    count = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, -1] = np.where(count > 0, np.where(present, v, 0.0).sum(axis=1) / count, np.nan)
    for r in np.flatnonzero((np.asarray(weights) == 1).all(axis=1)):
        out[r] = group_means(v[r])
    return out


def _total(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(np.mean(finite)) if len(finite) else float("nan")


GROUP_NAMES = [name for name, _ in POSETRACK_GROUPS] + ["Total"]


def finalize(stats: SequenceStats, protocol: PoseTrackProtocol) -> dict:
    """The result dict, keys named and ordered as poseval's numbers in ``expected_poseval.json``."""
    res = finalize_ap(stats.ap, no_prediction_ap=0.0 if protocol.ap_zero_without_predictions else np.nan,
                      stable=not protocol.numpy_tie_order)
    out = {
        "ap_joint": res.ap.tolist(),
        "ap_pre": res.precision.tolist(),
        "ap_rec": res.recall.tolist(),
        "ap_groups": group_means(res.ap),
    }
    if stats.mot is not None:
        m = finalize_mot(stats.mot, protocol.motp)
        out.update({
            "mota_joint": np.asarray(m["mota"]).tolist(),
            "mota_total": _total(np.asarray(m["mota"])),
            "motp_joint": np.asarray(m["motp"]).tolist(),
            "motp_total": _total(np.asarray(m["motp"])),
            "pre_joint": np.asarray(m["precision"]).tolist(),
            "pre_total": _total(np.asarray(m["precision"])),
            "rec_joint": np.asarray(m["recall"]).tolist(),
            "rec_total": _total(np.asarray(m["recall"])),
            "mota_groups": group_means(np.asarray(m["mota"])),
        })
    out["group_names"] = GROUP_NAMES
    return out


__all__ = ["MIN_SCORE", "SequenceStats", "sequence_stats", "sequences_stats", "clean_sequence", "combine",
           "finalize"]
