"""PoseTrack per-frame mAP and tracking MOTA/MOTP/precision/recall, as poseval computes them.

``sequence_stats`` turns one GT and one prediction sequence (canonical arrays, PoseTrack-15
joints) into additive statistics; ``finalize`` pools any number of them. Nothing here opens a
file: the evaluator in ``poseval_refine.evaluators.posetrack`` does the reading and checking.

Cleaning follows poseval (spec §1.3): frames whose GT has no person are dropped (``is_labeled``
is ignored), people without a pose record are dropped, points strictly inside an ignore
region are deleted from GT and predictions and people left without points are deleted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..poses import PoseSequence
from ..protocols import POSETRACK_GROUPS, PoseTrackProtocol
from ..skeletons import head_size
from .ap import MIN_SCORE, APStats, assign_poses, finalize_ap, normalized_distances
from .mota import MotStats, accumulate_sequence, finalize_mot

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
class CleanFrames:
    """Frames kept for evaluation, with the indices of the GT and predicted people kept in each."""

    gt: list[np.ndarray]
    pred: list[np.ndarray]
    gt_kp: np.ndarray  # keypoints after ignore-region removal
    pred_kp: np.ndarray


class RegionError(ValueError):
    """An ignore region that is no polygon (poseval fails on it); ``frame`` is the file's frame index."""

    def __init__(self, message: str, frame: int):
        super().__init__(message)
        self.frame = frame


def _polygons(regions: list[np.ndarray], frame: int) -> list:
    import shapely

    out = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for r, poly in enumerate(regions):
            try:
                out.append(shapely.Polygon(poly))
            except (ValueError, shapely.errors.ShapelyError) as e:
                raise RegionError(f"ignore region {r} is no polygon ({e})", frame) from None
    return out


def _inside_any(polys: list, xy: np.ndarray, frame: int) -> np.ndarray:
    """Points strictly inside any polygon, as poseval tests them (shapely ``Polygon.contains(Point)``,
    not the prepared ``contains_xy``: they differ on self-intersecting polygons). Boundary = outside."""
    import shapely

    xy = xy.reshape(-1, 2)
    ok = ~np.isnan(xy[:, 0])
    out = np.zeros(len(xy), dtype=bool)
    if ok.any() and polys:
        pts = shapely.points(xy[ok])
        hit = np.zeros(len(pts), dtype=bool)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for r, poly in enumerate(polys):
                try:
                    hit |= shapely.contains(poly, pts)
                except shapely.errors.ShapelyError as e:
                    raise RegionError(f"ignore region {r} cannot be tested ({e})", frame) from None
        out[ok] = hit
    return out


def _remove_ignored(kp: np.ndarray, idx: np.ndarray, polys: list, extra: dict | None, frame: int) -> np.ndarray:
    """Delete the points of people ``idx`` inside the polygons (in place in ``kp``); return who keeps a point.

    As poseval: every point of a person is tested, and the person's joint is then the first of its
    surviving points with that id, so a repeated joint whose first point was deleted takes the
    next surviving one; a person survives if any point survives, a point with no joint id included.
    """
    if not len(idx):
        return np.zeros(0, bool)
    inside = _inside_any(polys, kp[idx, :, :2], frame).reshape(len(idx), -1)
    sub = kp[idx]
    sub[inside] = np.nan
    kp[idx] = sub
    alive = ~np.isnan(sub[..., 0]).all(axis=1)
    if extra is not None:
        e = np.flatnonzero(np.isin(extra["person"], idx))
        if len(e):
            xy = np.column_stack([extra["x"][e], extra["y"][e]])
            keep = e[~_inside_any(polys, xy, frame)]
            alive |= np.isin(idx, extra["person"][keep])
            for i in keep:  # file order: the first surviving repeat fills a deleted joint
                p, j = extra["person"][i], extra["joint"][i]
                if j >= 0 and np.isnan(kp[p, j, 0]):
                    kp[p, j] = (extra["x"][i], extra["y"][i], extra["score"][i])
    return alive


def clean_frames(gt: PoseSequence, pred: PoseSequence) -> CleanFrames:
    gb, pb = gt.frame_bounds(), pred.frame_bounds()
    gt_kp = gt.keypoints.copy()
    pred_kp = pred.keypoints.copy()
    gt_extra, pred_extra = gt.meta.get("extra_points"), pred.meta.get("extra_points")
    gt_frames, pred_frames = [], []
    for f in range(gt.num_frames):
        if gb[f + 1] == gb[f]:
            continue  # unlabeled frame: no GT person (poseval ignores is_labeled)
        g = np.arange(gb[f], gb[f + 1])
        p = np.arange(pb[f], pb[f + 1])
        g = g[gt.has_pose[g]]
        p = p[pred.has_pose[p]]
        regions = gt.ignore_regions[f]
        if regions:
            polys = _polygons(regions, f)
            p = p[_remove_ignored(pred_kp, p, polys, pred_extra, f)]
            g = g[_remove_ignored(gt_kp, g, polys, gt_extra, f)]
        gt_frames.append(g)
        pred_frames.append(p)
    return CleanFrames(gt_frames, pred_frames, gt_kp, pred_kp)


def _padded(frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(F, N) person indices padded with 0, and the (F, N) validity mask."""
    n = max((len(x) for x in frames), default=0)
    idx = np.zeros((len(frames), n), dtype=np.intp)
    valid = np.zeros((len(frames), n), dtype=bool)
    for f, x in enumerate(frames):
        idx[f, : len(x)] = x
        valid[f, : len(x)] = True
    return idx, valid


MOT_BACKENDS = ("prt", "motmetrics")


def dummy_update(K: int) -> tuple:
    """poseval's stand-in for a frame without GT or without predictions (quirk 8): for every joint,
    object 0 and hypothesis 0 that may not be paired (one object, one miss, one false positive).
    Fed to the accumulator as poseval feeds it, so id 0 counts as seen there, as in motmetrics."""
    return (np.zeros(1, np.int64), np.zeros(1, np.int64), np.full((K, 1, 1), np.nan), np.ones((K, 1), bool),
            np.ones((K, 1), bool))


def sequence_stats(gt: PoseSequence, pred: PoseSequence, protocol: PoseTrackProtocol,
                   tracking: bool = True, mot_backend: str = "prt") -> SequenceStats:
    """Additive AP (and, with ``tracking``, CLEAR-MOT) statistics of one sequence pair.

    Both sequences must be in the PoseTrack-15 joint set with the same number of frames, and
    predicted scores must already be filled (missing ones set to ``MIN_SCORE``). ``mot_backend``
    says who accumulates the CLEAR-MOT counts: prt's vectorized accumulator (``metrics.mota``) or
    motmetrics itself (``metrics.mota_motmetrics``); both get the same per-frame updates.
    """
    if mot_backend not in MOT_BACKENDS:
        raise ValueError(f"unknown MOT backend {mot_backend!r}; use one of {', '.join(MOT_BACKENDS)}")
    K = NUM_JOINTS
    c = clean_frames(gt, pred)
    F = len(c.gt)
    gi, gv = _padded(c.gt)
    pi, pv = _padded(c.pred)
    g_xy = np.where(gv[..., None, None], c.gt_kp[gi][..., :2], np.nan)  # (F, G, K, 2)
    p_kp = np.where(pv[..., None, None], c.pred_kp[pi], np.nan)  # (F, H, K, 3)
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite head box: no hit (NaN) or all hits (inf)
        hs = np.where(gv, head_size(gt.head_box[gi]), np.nan) if gi.size else np.zeros(gi.shape)
    g_present = ~np.isnan(g_xy[..., 0])
    p_present = ~np.isnan(p_kp[..., 0])
    dist = normalized_distances(p_kp[..., :2], g_xy, hs)  # (F, H, G, K), inf when absent

    # ---- AP: pose assignment per frame, labels per predicted joint
    ap = APStats(K)
    if F:
        _, hit = assign_poses(dist, g_present, pv, protocol.threshold)
        ap.add(p_kp[..., 2].reshape(-1, K), hit.reshape(-1, K), p_present.reshape(-1, K))
        ap.add_gt(g_present.sum(axis=(0, 1)))
    counts = {"frames_pose": F, "sequences": 1}

    if not tracking:
        return SequenceStats(ap, None, counts)

    # ---- tracking: one CLEAR-MOT accumulator per joint over the labeled frames
    frames = range(F - 1) if protocol.drop_last_labeled_frame else range(F)
    updates = []
    dummy = 0
    for f in frames:
        ng, np_ = int(gv[f].sum()), int(pv[f].sum())
        if protocol.dummy_empty_frames and (ng == 0 or np_ == 0):
            dummy += 1
            updates.append(dummy_update(K))
            continue
        d = dist[f, :np_, :ng, :]  # (H, G, K)
        d = np.where(d <= protocol.threshold, d, np.nan).transpose(2, 1, 0)  # (K, G, H)
        updates.append((gt.track_id[gi[f, :ng]], pred.track_id[pi[f, :np_]], d,
                        g_present[f, :ng].T, p_present[f, :np_].T))
    if not updates:
        mot = MotStats.zeros(K)
    elif mot_backend == "motmetrics":
        from .mota_motmetrics import accumulate_sequence as motmetrics_accumulate

        mot = motmetrics_accumulate(updates, K)
    else:
        mot = accumulate_sequence(updates, K)
    counts.update(frames_tracking=len(frames), dummy_frames=dummy)
    return SequenceStats(ap, mot, counts)


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


__all__ = ["MIN_SCORE", "SequenceStats", "sequence_stats", "combine", "finalize", "clean_frames"]
