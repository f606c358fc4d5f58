"""Tasks ``single`` (MPII PCKh@0.5 and AUC) and ``multi`` (MPII multi-person mAP)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError, MismatchError
from ..formats import read_poses
from ..formats.mpii import read_annolist, read_mpii_arrays
from ..metrics.ap import ap_item, pool, resample_ap
from ..metrics.mpii_multi import finalize_multi, image_stats, multi_table
from ..metrics.pckh import (
    COLUMNS,
    EVAL_JOINTS,
    finalize_pckh,
    get_flavour,
    hit_levels,
    normalized_distances,
    resample_pckh,
    stats_from_levels,
)
from ..poses import PoseSequence
from ..skeletons import MPII16
from . import Task, joint_values, register_task


def _single(path: Path, what: str) -> PoseSequence:
    if path.suffix.lower() in (".mat", ".h5", ".hdf5"):
        ps = read_mpii_arrays(path)
    elif path.suffix.lower() == ".json":
        ps = read_poses(path)
    else:
        raise InputError(f"is neither a .mat nor an .h5 file (MPII {what})", file=path,
                         fix="give MPII arrays as .h5/.mat (e.g. 'preds' N x 16 x 2)")
    if len(ps) != 1:
        raise InputError(f"holds {len(ps)} sequences; an MPII single-person {what} file holds one set", file=path)
    return next(iter(ps)).to_skeleton(MPII16)


def evaluate_single(gt: Path, preds: list[Path], flavour: str = "matlab", plot: Path | None = None) -> dict:
    fl = get_flavour(flavour)
    g = _single(gt, "GT")
    if g.meta.get("kind") == "pred":
        raise InputError("is a prediction file, not GT", file=gt, fix="give the annotations (e.g. valid.h5) as --gt")
    hs = g.head_sizes()
    bad = ~(np.isfinite(hs) & (hs > 0)) & (~np.isnan(g.keypoints[..., 0])).any(1)
    if bad.any():
        raise InputError("GT person has no usable head size", file=gt, person=int(np.flatnonzero(bad)[0]),
                         fix="give 'normalize' (valid.h5) or head boxes")
    entries = []
    for p in preds:
        pr = _single(p, "prediction")
        if pr.num_persons != g.num_persons:
            raise MismatchError(f"has {pr.num_persons} people but the GT {gt.name} has {g.num_persons}", file=p,
                                fix="predict every GT person, in the GT's order")
        d = normalized_distances(pr.keypoints[..., :2], g.keypoints[..., :2], hs, fl.float32)
        levels = hit_levels(d, fl)
        res = finalize_pckh(stats_from_levels(levels, fl), fl)
        # items, one per person: the first threshold index at which each joint is a hit (metrics.pckh.hit_levels)
        entries.append({"pred": str(p), "name": p.name, **res, "items": levels.tolist()})
    out = {"task": "single", "flavour": fl.name, "flavour_description": fl.description, "gt": str(gt),
           "people": g.num_persons, "entries": entries}
    if len(entries) == 1:
        out.update({k: entries[0][k] for k in ("pckh", "auc", "pckh_joint", "curve")})
        out["items"] = entries[0].pop("items")
    if plot is not None:
        from ..render.plots import plot_pckh_curves

        plot_pckh_curves(entries, plot)
        out["plot"] = str(plot)
    return out


def render_single(result: dict) -> str:
    from tabulate import tabulate

    rows = [[e["name"], *(e["pckh"][c] for c in COLUMNS), e["auc"]] for e in result["entries"]]
    title = f"PCKh@0.5 ({result['flavour']}), {result['people']} people"
    return title + "\n" + tabulate(rows, headers=["", *COLUMNS, "AUC"], floatfmt=".1f", tablefmt="simple")


def evaluate_multi(gt: Path, preds: list[Path]) -> dict:
    if len(preds) != 1:
        raise ConfigError("--task multi takes exactly one --pred annolist")
    g = next(iter(read_annolist(gt)))
    if g.num_persons == 0:
        raise InputError(f"has no annotated people in its {g.num_frames} entries, so there is nothing to evaluate",
                         file=gt, fix="give the MPII multi-person GT annolist (annolist(i).annorect(j) with "
                                      "annopoints and head boxes); PoseTrack-style sequence files go to --task pose")
    p = next(iter(read_annolist(preds[0], require_scores=True)))
    if g.num_frames != p.num_frames:
        raise MismatchError(f"has {p.num_frames} entries but the GT {gt.name} has {g.num_frames}", file=preds[0],
                            fix="give one prediction entry per GT entry (group), in the GT's order")
    missing = np.isnan(g.head_sizes()) & (~np.isnan(g.keypoints[..., 0])).any(1)
    if missing.any():
        q = int(np.flatnonzero(missing)[0])
        raise InputError("GT person has no head box", file=gt, frame=int(g.person_frame[q]), person=q,
                         field="x1/y1/x2/y2", fix="give every annotated GT person its head rectangle")
    images = image_stats(g, p)
    return {"task": "multi", "gt": str(gt), "pred": str(preds[0]), **finalize_multi(pool(images, len(EVAL_JOINTS))),
            "items": [ap_item(s) for s in images]}


def render_multi(result: dict) -> str:
    from tabulate import tabulate

    cols = list(result["ap"])
    return "MPII multi-person AP\n" + tabulate([[*(result["ap"][c] for c in cols)]], headers=cols, floatfmt=".1f")


# ----------------------------------------------------------------------------- leaderboard hooks
def headline_single(result: dict) -> dict[str, float]:
    return {"PCKh@0.5": result["pckh"]["Total"], "AUC": result["auc"],
            **{c: result["pckh"][c] for c in COLUMNS if c != "Total"}}


def resample_single(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    levels = np.asarray(result["items"], dtype=np.int64).reshape(-1, 16)
    a = resample_pckh(levels, weights, get_flavour(result["flavour"]))
    return {"PCKh@0.5": a["Total"], "AUC": a["AUC"], **{c: a[c] for c in COLUMNS if c != "Total"}}


MULTI_METRICS = ("mAP", "Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle")


def headline_multi(result: dict) -> dict[str, float]:
    return {"mAP": result["ap"]["Total"], **{c: result["ap"][c] for c in MULTI_METRICS[1:]}}


def resample_multi(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    t = multi_table(resample_ap(result["items"], weights, stable=True))
    return {"mAP": t["Total"], **{c: t[c] for c in MULTI_METRICS[1:]}}


register_task(Task("single", "MPII single-person PCKh@0.5 and AUC (the MATLAB kit)", run=evaluate_single,
                   render=render_single, options=("flavour", "plot"), primary="PCKh@0.5",
                   headline=headline_single, unit="person", resample=resample_single,
                   per_joint=lambda r: joint_values(MPII16.joints, r["pckh_joint"])))
register_task(Task("multi", "MPII multi-person mAP (the MATLAB kit's evaluateAP)", run=evaluate_multi,
                   render=render_multi, options=(), primary="mAP", headline=headline_multi, unit="image",
                   resample=resample_multi, per_joint=lambda r: joint_values(MPII16.joints, r["ap_joint"])))
