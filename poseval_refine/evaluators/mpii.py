"""Tasks ``single`` (MPII PCKh@0.5 and AUC) and ``multi`` (MPII multi-person mAP)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError, MismatchError
from ..formats import read_poses
from ..formats.mpii import mpii_arrays, read_annolist, read_mpii_arrays
from ..metrics.ap import ap_item, pool, resample_ap
from ..metrics.mpii_multi import finalize_multi, image_stats, multi_table
from ..metrics.pckh import (
    COLUMNS,
    EVAL_JOINTS,
    finalize_pckh,
    hit_levels,
    normalized_distances,
    resample_pckh,
    stats_from_levels,
)
from ..poses import PoseSequence, PoseSet
from ..protocols import pckh_protocol
from ..skeletons import MPII16
from . import DEFAULT_PROTOCOL, Session, Task, breakdown_rows, joint_values, register_task


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


def people_entry(gt_kp: np.ndarray, head_sizes: np.ndarray, pred_kp: np.ndarray, where: str, name: str, fl) -> dict:
    """The numbers of predicted people against their GT people (rows paired)."""
    d = normalized_distances(pred_kp[..., :2], gt_kp[..., :2], head_sizes, fl.float32)
    levels = hit_levels(d, fl)
    res = finalize_pckh(stats_from_levels(levels, fl), fl)
    return {"pred": where, "name": name, **res, "items": levels.tolist()}


def single_result(gt_where: str, people: int, entries: list[dict], fl, plot) -> dict:
    out = {"task": "single", "flavour": fl.name, "flavour_description": fl.description, "gt": gt_where,
           "people": people, "entries": entries}
    if len(entries) == 1:
        out.update({k: entries[0][k] for k in ("pckh", "auc", "pckh_joint", "curve")})
        out["items"] = entries[0].pop("items")
    if plot is not None:
        from ..render.plots import plot_pckh_curves

        plot_pckh_curves(entries, plot)
        out["plot"] = str(plot)
    return out


def evaluate_single(gt, preds, **options) -> dict:
    """``prt evaluate --task single`` (the task's ``run``; several prediction files compare)."""
    from . import get_task

    return get_task("single").run(gt, list(preds), **options)


class SingleSession(Session):
    """MPII single-person evaluation with the GT read once and predictions given in slices of people (the
    item): ``update((indices, array))``, ``update(array)`` (people 0..n-1) or ``update(path)`` (every person)."""

    def read_gt(self, gt) -> None:
        self.fl, self.plot = pckh_protocol(self.options.get("flavour", "matlab")), self.options.get("plot")
        self.g = single_gt(gt)
        self.head_sizes = self.g.head_sizes()
        self.gt_where = _label(gt, "gt")
        self.keys = list(range(self.g.num_persons))
        self.combining = False

    def reset(self) -> None:
        super().reset()
        self.label = ("pred", "pred")

    def describe(self, key) -> str:
        return f"person {key}"

    def evaluate(self, part) -> list:
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
        if isinstance(arr, (str, Path)):  # a file holds every person, in the GT's order
            if pr.num_persons != n:
                raise MismatchError(f"has {pr.num_persons} people but the GT {Path(self.gt_where).name} has {n}",
                                    file=str(arr), fix="predict every GT person, in the GT's order")
            self.label = (str(arr), Path(arr).name)
        if index is None:
            index = np.arange(pr.num_persons)
        if len(index) != pr.num_persons:
            raise MismatchError(f"{len(index)} indices for {pr.num_persons} predicted people", file="pred",
                                fix="give one GT index per predicted person")
        if len(index) and (index.min() < 0 or index.max() >= n):
            bad = int(index[(index < 0) | (index >= n)][0])
            raise MismatchError(f"person index {bad} is outside the GT's {n} people", file="pred", person=bad,
                                fix=f"index people 0..{n - 1}, in the GT's order")
        return [(int(i), row, None) for i, row in zip(index.tolist(), pr.keypoints)]

    def missing(self, keys: list) -> None:
        raise MismatchError(f"{len(keys)} of the GT's {self.g.num_persons} people have no prediction (first: "
                            f"person {int(keys[0])})", file="pred", person=int(keys[0]),
                            fix="predict every GT person (update with the missing indices)")

    def predictions(self):
        kp = np.full(self.g.keypoints.shape, np.nan)
        for i, row in self.items.items():
            kp[i] = row
        return kp

    def finalize(self, keys: list) -> dict:
        idx = np.asarray(keys, dtype=np.int64)
        pred = np.stack([self.items[k] for k in keys]) if keys else self.g.keypoints[:0]
        entry = people_entry(self.g.keypoints[idx], self.head_sizes[idx], pred, *self.label, self.fl)
        return single_result(self.gt_where, len(keys), [entry], self.fl, None if self.combining else self.plot)


def render_single(result: dict) -> str:
    from tabulate import tabulate

    rows = [[e["name"], *(e["pckh"][c] for c in COLUMNS), e["auc"]] for e in result["entries"]]
    title = f"PCKh@0.5 ({result['flavour']}), {result['people']} people"
    return title + "\n" + tabulate(rows, headers=["", *COLUMNS, "AUC"], floatfmt=".1f", tablefmt="simple")


def evaluate_multi(gt, preds, **options) -> dict:
    """``prt evaluate --task multi`` (the task's ``run``)."""
    from . import get_task

    return get_task("multi").run(gt, list(preds), **options)


class MultiSession(Session):
    """MPII multi-person evaluation: the GT annolist read and checked once; predictions an annolist file with
    an entry per GT entry (the item: an image)."""

    def read_gt(self, gt) -> None:
        self.gt_path = Path(gt)
        g = next(iter(read_annolist(self.gt_path)))
        if g.num_persons == 0:
            raise InputError(f"has no annotated people in its {g.num_frames} entries, so there is nothing to "
                             "evaluate", file=gt, fix="give the MPII multi-person GT annolist (annolist(i).annorect"
                             "(j) with annopoints and head boxes); PoseTrack-style sequence files go to --task pose")
        missing = np.isnan(g.head_sizes()) & (~np.isnan(g.keypoints[..., 0])).any(1)
        if missing.any():
            q = int(np.flatnonzero(missing)[0])
            raise InputError("GT person has no head box", file=gt, frame=int(g.person_frame[q]), person=q,
                             field="x1/y1/x2/y2", fix="give every annotated GT person its head rectangle")
        self.g = g
        self.keys = list(range(g.num_frames))
        self.pred_where = "pred"

    def describe(self, key) -> str:
        return f"image {key}"

    def evaluate(self, part) -> list:
        pred = Path(part)
        p = next(iter(read_annolist(pred, require_scores=True)))
        if self.g.num_frames != p.num_frames:
            raise MismatchError(f"has {p.num_frames} entries but the GT {self.gt_path.name} has {self.g.num_frames}",
                                file=pred, fix="give one prediction entry per GT entry (group), in the GT's order")
        self.pred_where = str(pred)
        return [(i, s, None) for i, s in enumerate(image_stats(self.g, p))]

    def finalize(self, keys: list) -> dict:
        images = [self.items[k] for k in keys]
        return {"task": "multi", "gt": str(self.gt_path), "pred": self.pred_where,
                **finalize_multi(pool(images, len(EVAL_JOINTS))), "items": [ap_item(s) for s in images]}


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
    a = resample_pckh(levels, weights, pckh_protocol(result["flavour"]))
    return {"PCKh@0.5": a["Total"], "AUC": a["AUC"], **{c: a[c] for c in COLUMNS if c != "Total"}}


MULTI_METRICS = ("mAP", "Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle")


def headline_multi(result: dict) -> dict[str, float]:
    return {"mAP": result["ap"]["Total"], **{c: result["ap"][c] for c in MULTI_METRICS[1:]}}


def resample_multi(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    t = multi_table(resample_ap(result["items"], weights, stable=True))
    return {"mAP": t["Total"], **{c: t[c] for c in MULTI_METRICS[1:]}}


def board_protocol_single(result: dict) -> str:
    """Results under a Python port's PCKh protocol rank on a board of their own."""
    flavour = result.get("flavour", "matlab")
    return DEFAULT_PROTOCOL if flavour == "matlab" else f"protocol {flavour}"


class SingleTask(Task):
    name = "single"
    description = "MPII single-person PCKh@0.5 and AUC (the MATLAB kit)"
    options = ("flavour", "plot")
    item = "person"
    primary, unit, reads = "PCKh@0.5", "person", ("mpii", "pose-tensorflow")
    session_class = SingleSession
    several_preds = True

    def combine(self, results: list[dict], options: dict) -> dict:
        """Several prediction files of one GT: one table, a row (entry) each."""
        first = results[0]
        fl = pckh_protocol(first["flavour"])
        entries = [e for r in results for e in r["entries"]]
        for r, e in zip(results, entries):
            if "items" in r:
                e["items"] = r["items"]
        return single_result(first["gt"], first["people"], entries, fl, options.get("plot"))

    def render(self, result: dict) -> str:
        return render_single(result)

    def headline(self, result: dict) -> dict[str, float]:
        return headline_single(result)

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return resample_single(result, weights)

    def per_joint(self, result: dict) -> dict[str, float]:
        return joint_values(MPII16.joints, result["pckh_joint"])

    def protocol(self, result: dict) -> str:
        return board_protocol_single(result)

    def curve(self, result: dict):
        return result.get("curve")

    def breakdown(self, result: dict) -> list[dict]:
        return breakdown_rows(MPII16.joints, {"PCKh@0.5": result["pckh_joint"]}, COLUMNS,
                              {"PCKh@0.5": [result["pckh"][c] for c in COLUMNS]})


class MultiTask(Task):
    name = "multi"
    description = "MPII multi-person mAP (the MATLAB kit's evaluateAP)"
    item = "image"
    primary, unit, reads = "mAP", "image", ("mpii-annolist",)
    session_class = MultiSession

    def render(self, result: dict) -> str:
        return render_multi(result)

    def headline(self, result: dict) -> dict[str, float]:
        return headline_multi(result)

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return resample_multi(result, weights)

    def per_joint(self, result: dict) -> dict[str, float]:
        return joint_values(MPII16.joints, result["ap_joint"])

    def breakdown(self, result: dict) -> list[dict]:
        return breakdown_rows(MPII16.joints, {"AP": result["ap_joint"]}, list(result["ap"]),
                              {"AP": list(result["ap"].values())})


register_task(SingleTask)
register_task(MultiTask)
