"""Tasks ``single`` (MPII PCKh@0.5 and AUC) and ``multi`` (MPII multi-person mAP)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError, MismatchError
from ..formats import read_poses
from ..formats.mpii import mpii_arrays, read_annolist, read_mpii_arrays
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
from ..poses import PoseSequence, PoseSet
from ..skeletons import MPII16
from . import DEFAULT_PROTOCOL, Task, breakdown_rows, joint_values, register_task


def _single(src, what: str) -> PoseSequence:
    """The people of an MPII single-person GT or prediction: a file, or (the Python API) an N x 16 x 2|3
    array of predictions or a mapping of arrays as a .h5 file holds them (named ``what`` in messages)."""
    if isinstance(src, PoseSet):  # the canonical form (a format's reader made it)
        ps = src
    elif isinstance(src, (np.ndarray, list, tuple)):
        ps = mpii_arrays({"preds": src}, Path(what))
    elif isinstance(src, dict):
        ps = mpii_arrays(src, Path(what))
    else:
        path = Path(src)
        if path.suffix.lower() in (".mat", ".h5", ".hdf5"):
            ps = read_mpii_arrays(path)
        elif path.suffix.lower() == ".json":
            ps = read_poses(path)
        else:
            raise InputError(f"is neither a .mat nor an .h5 file (MPII {what})", file=path,
                             fix="give MPII arrays as .h5/.mat (e.g. 'preds' N x 16 x 2)")
        if len(ps) != 1:
            raise InputError(f"holds {len(ps)} sequences; an MPII single-person {what} file holds one set",
                             file=path)
    return next(iter(ps)).to_skeleton(MPII16)


def _label(src, what: str) -> str:
    return str(src) if isinstance(src, (str, Path)) else what


def single_gt(gt) -> PoseSequence:
    """The GT people, checked (a GT, every annotated person with a usable head size)."""
    g = _single(gt, "gt")
    where = _label(gt, "gt")
    if g.meta.get("kind") == "pred":
        raise InputError("is a prediction file, not GT", file=where, fix="give the annotations (e.g. valid.h5) as --gt")
    hs = g.head_sizes()
    bad = ~(np.isfinite(hs) & (hs > 0)) & (~np.isnan(g.keypoints[..., 0])).any(1)
    if bad.any():
        raise InputError("GT person has no usable head size", file=where, person=int(np.flatnonzero(bad)[0]),
                         fix="give 'normalize' (valid.h5) or head boxes")
    return g


def single_entry(g: PoseSequence, gt_name: str, pr: PoseSequence, where: str, name: str, fl) -> dict:
    """One prediction set's numbers, and its items (one per person: the first threshold index at which each
    joint is a hit, metrics.pckh.hit_levels)."""
    if pr.num_persons != g.num_persons:
        raise MismatchError(f"has {pr.num_persons} people but the GT {gt_name} has {g.num_persons}", file=where,
                            fix="predict every GT person, in the GT's order")
    d = normalized_distances(pr.keypoints[..., :2], g.keypoints[..., :2], g.head_sizes(), fl.float32)
    levels = hit_levels(d, fl)
    res = finalize_pckh(stats_from_levels(levels, fl), fl)
    return {"pred": where, "name": name, **res, "items": levels.tolist()}


def single_result(gt_where: str, g: PoseSequence, entries: list[dict], fl, plot) -> dict:
    out = {"task": "single", "flavour": fl.name, "flavour_description": fl.description, "gt": gt_where,
           "people": g.num_persons, "entries": entries}
    if len(entries) == 1:
        out.update({k: entries[0][k] for k in ("pckh", "auc", "pckh_joint", "curve")})
        out["items"] = entries[0].pop("items")
    if plot is not None:
        from ..render.plots import plot_pckh_curves

        plot_pckh_curves(entries, plot)
        out["plot"] = str(plot)
    return out


def evaluate_single(gt: Path, preds: list[Path], flavour: str = "matlab", plot: Path | None = None) -> dict:
    fl = get_flavour(flavour)
    g = single_gt(gt)
    gt_name = Path(gt).name
    entries = [single_entry(g, gt_name, _single(p, "prediction"), str(p), Path(p).name, fl) for p in preds]
    return single_result(str(gt), g, entries, fl, plot)


class SingleSession:
    """MPII single-person evaluation with the GT read once and predictions given in slices of people:
    ``update((indices, array))``, ``update(array)`` (people 0..n-1) or ``update(path)`` (every person)."""

    def __init__(self, gt, flavour: str = "matlab", plot: Path | None = None):
        self.fl, self.plot = get_flavour(flavour), plot
        self.g = single_gt(gt)
        self.gt_where = _label(gt, "gt")
        self.reset()

    def reset(self) -> None:
        self.kp = np.full(self.g.keypoints.shape, np.nan)
        self.given = np.zeros(self.g.num_persons, bool)
        self.parts: list = []

    def update(self, part) -> None:
        if isinstance(part, tuple) and len(part) == 2 and not isinstance(part[0], (int, float)):
            index, arr = part
            index = np.asarray(index)
            if index.ndim != 1 or index.dtype.kind not in "iu":
                raise InputError(f"the people indices are {index.dtype} of shape {index.shape}, not a list of "
                                 "integers", file="pred", fix="update((indices, array)) with one GT index per row")
        else:
            index, arr = None, part
        pr = _single(arr, "pred")
        n = self.g.num_persons
        if index is None:
            index = np.arange(pr.num_persons)
        if len(index) != pr.num_persons:
            raise MismatchError(f"{len(index)} indices for {pr.num_persons} predicted people", file="pred",
                                fix="give one GT index per predicted person")
        if len(index) and (index.min() < 0 or index.max() >= n):
            bad = int(index[(index < 0) | (index >= n)][0])
            raise MismatchError(f"person index {bad} is outside the GT's {n} people", file="pred", person=bad,
                                fix=f"index people 0..{n - 1}, in the GT's order")
        again = index[self.given[index]] if len(index) else index
        if len(again) or len(np.unique(index)) != len(index):
            p = int(again[0]) if len(again) else int(index[np.flatnonzero(np.diff(np.sort(index)) == 0)[0]])
            raise MismatchError("person is given twice", file="pred", person=p,
                                fix="give every person once (reset() to start over)")
        self.kp[index] = pr.keypoints
        self.given[index] = True
        self.parts.append(part)

    def predictions(self):
        return self.kp

    def result(self) -> dict:
        if not self.given.all():
            missing = np.flatnonzero(~self.given)
            raise MismatchError(f"{len(missing)} of the GT's {self.g.num_persons} people have no prediction (first: "
                                f"person {int(missing[0])})", file="pred", person=int(missing[0]),
                                fix="predict every GT person (update with the missing indices)")
        pr = _single(self.kp, "pred")
        entry = single_entry(self.g, Path(self.gt_where).name, pr, "pred", "pred", self.fl)
        return single_result(self.gt_where, self.g, [entry], self.fl, self.plot)


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
SINGLE_METRICS = ("PCKh@0.5", "AUC", "Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "UBody")


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


def board_protocol_single(result: dict) -> str:
    """Results of a Python port's PCKh conventions rank on a board of their own."""
    flavour = result.get("flavour", "matlab")
    return DEFAULT_PROTOCOL if flavour == "matlab" else f"flavour {flavour}"


register_task(Task("single", "MPII single-person PCKh@0.5 and AUC (the MATLAB kit)", run=evaluate_single,
                   render=render_single, options=("flavour", "plot"), primary="PCKh@0.5",
                   headline=headline_single, unit="person", resample=resample_single,
                   per_joint=lambda r: joint_values(MPII16.joints, r["pckh_joint"]),
                   protocol=board_protocol_single, curve=lambda r: r.get("curve"), session=SingleSession,
                   reads=("mpii", "pose-tensorflow"),
                   breakdown=lambda r: breakdown_rows(MPII16.joints, {"PCKh@0.5": r["pckh_joint"]}, COLUMNS,
                                                      {"PCKh@0.5": [r["pckh"][c] for c in COLUMNS]})))
register_task(Task("multi", "MPII multi-person mAP (the MATLAB kit's evaluateAP)", run=evaluate_multi,
                   render=render_multi, options=(), primary="mAP", headline=headline_multi, unit="image",
                   resample=resample_multi, per_joint=lambda r: joint_values(MPII16.joints, r["ap_joint"]),
                   reads=("mpii-annolist",),
                   breakdown=lambda r: breakdown_rows(MPII16.joints, {"AP": r["ap_joint"]}, list(r["ap"]),
                                                      {"AP": list(r["ap"].values())})))
