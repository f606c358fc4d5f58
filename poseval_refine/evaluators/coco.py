"""Task ``coco``: COCO keypoint AP/AR as pycocotools' ``COCOeval`` computes them, for any readable format.

prt checks the GT and the predictions first, so that what pycocotools would assert on, crash on
or silently get wrong becomes one message naming the file and the item. COCO results are read
straight into arrays; other formats go through prt's adapters, their joints mapped to COCO's 17
by name (joints a format lacks are absent, written (0, 0, 0)) and their frames paired with the
GT's image ids.

Two engines give the same numbers, bit for bit (tests/test_coco_engine.py): ``prt`` (default),
pycocotools' evaluate/accumulate/summarize redone on arrays for all images at once
(metrics/coco.py, metrics/oks.py), and ``pycocotools``, its ``COCOeval`` itself with its printing
silenced (imported only then). ``--sigmas`` sets the OKS sigmas (a named set or one per joint),
as overwriting pycocotools' ``params.kpt_oks_sigmas``.

Pairing frames with GT images: COCO results carry image ids; a PoseTrack 2018 file carries
``images[].id``; other formats (OpenPose writes ``<image>_keypoints.json``) are paired by the
image's file name (exact, then its stem when unique in the GT, then a numeric stem as the id).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import math
import warnings
from pathlib import Path, PurePath

import numpy as np

from ..errors import ConfigError, InputError, MismatchError
from ..formats.coco import CocoAnnotations, CocoResults, coco_result_arrays, read_coco_annotations, result_records
from ..io import load_json
from ..metrics.coco import (
    IOU_THRS,
    MAX_DETS,
    STAT_NAMES,
    CocoPeople,
    accumulate,
    evaluate_images,
    image_items,
    items_of,
    resample_stats,
    summarize,
)
from ..metrics.oks import SIGMA_SETS
from . import Session, Task, register_task, same_value

log = logging.getLogger("prt")


# ----------------------------------------------------------------------------- predictions
def _stem(name: str) -> str:
    base = PurePath(str(name)).name
    for suffix in ("_keypoints.json", ".json"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return PurePath(base).stem


class _ImageIndex:
    """GT image ids, and the ids by file name / stem (for formats that only name the image)."""

    def __init__(self, images: list[dict]):
        self.ids = {img["id"] for img in images}
        self.by_name: dict[str, object] = {}
        self.by_stem: dict[str, object] = {}
        ambiguous = set()
        for img in images:
            name = img.get("file_name")
            if not isinstance(name, str):
                continue
            self.by_name.setdefault(name, img["id"])
            stem = _stem(name)
            if stem in self.by_stem and self.by_stem[stem] != img["id"]:
                ambiguous.add(stem)
            self.by_stem.setdefault(stem, img["id"])
        for s in ambiguous:
            del self.by_stem[s]

    def by_file(self, name: str):
        if name in self.by_name:
            return self.by_name[name]
        stem = _stem(name)
        if stem in self.by_stem:
            return self.by_stem[stem]
        if stem.isdigit() and int(stem) in self.ids:
            return int(stem)
        return None


def _frame_image_ids(seq, index: _ImageIndex, pred: Path) -> list:
    """The GT image id of every frame of ``seq`` that has detections (None for frames without)."""
    fmt = seq.meta.get("source", {}).get("format")
    has_people = np.diff(seq.frame_bounds()) > 0
    ids: list = [None] * seq.num_frames
    for f in np.flatnonzero(has_people):
        f = int(f)
        if fmt == "coco-results":
            img = seq.meta["image_ids"][f]
            if img not in index.ids:
                p = int(seq.frame_bounds()[f])
                entry = seq.meta.get("entry_index", list(range(seq.num_persons)))[p]
                hint = ""
                if isinstance(img, str) and img.isdigit() and int(img) in index.ids:
                    hint = " (the GT's ids are numbers; this one is a string)"
                raise MismatchError(f"results[{entry}] is a detection for image id {img!r}, which the GT lacks{hint}",
                                    file=pred, field="image_id",
                                    fix="evaluate against the GT these detections were made for, or drop the "
                                        "detections of images the GT does not have")
            ids[f] = img
            continue
        extra = seq.frame_extras[f] if seq.frame_extras else {}
        if isinstance(extra, dict) and "id" in extra and fmt == "posetrack2018":
            img = extra["id"]
            if img not in index.ids:
                raise MismatchError(f"image id {img!r} has detections but is not in the GT", file=seq.source,
                                    frame=f, field="images.id",
                                    fix="evaluate against the COCO-format GT of these images (same image ids)")
            ids[f] = img
            continue
        img = index.by_file(seq.image_names[f])
        if img is None:
            raise MismatchError(f"image {seq.image_names[f]!r} has detections but matches no GT image (by file "
                                "name, file-name stem or numeric id)", file=seq.source, frame=f,
                                fix="name prediction files after the GT images (OpenPose: <image stem>_keypoints"
                                    ".json), or convert them to COCO results with image ids")
        ids[f] = img
    return ids


def read_predictions(pred, gt: CocoAnnotations, n_joints: int) -> tuple[CocoResults, str, list[str]]:
    """The detections (COCO results arrays) from any readable format, or the Python API's list of
    result dicts; its format's name; conversion notes.

    A JSON list is read as COCO results straight into arrays; other formats go through prt's
    adapters, their joints mapped to COCO's 17 by name."""
    if isinstance(pred, list):
        if not pred:
            raise InputError("is an empty result list (pycocotools cannot evaluate no detections)", file="pred",
                             fix="give at least one detection")
        res = coco_result_arrays(pred, Path("pred"), n_joints)
        _check_results(res, gt, Path("pred"))
        return res, "coco-results", []
    if pred.is_file() and pred.suffix.lower() == ".json":
        data = load_json(pred)
        if data == []:
            raise InputError("is an empty result list (pycocotools cannot evaluate no detections)", file=pred,
                             fix="give at least one detection")
        if isinstance(data, list):
            res = coco_result_arrays(data, pred, n_joints)
            _check_results(res, gt, pred)
            return res, "coco-results", []
    if n_joints != 17:
        raise ConfigError(f"--sigmas with {n_joints} joints needs COCO results (a JSON list) as --pred",
                          fix="convert the predictions to COCO results with the GT's joints first")
    records, fmt, notes = _adapter_records(pred, gt)
    res = coco_result_arrays(records, pred, n_joints)
    return res, fmt, notes


def _check_results(res: CocoResults, gt: CocoAnnotations, pred: Path) -> None:
    """What pycocotools would crash on or silently get wrong, in COCO results."""
    index = gt.image_ids_set
    ids = res.image_id
    if not set(ids) <= index:
        i = next(i for i, v in enumerate(ids) if v not in index)
        img = ids[i]
        hint = ""
        if isinstance(img, str) and img.isdigit() and int(img) in index:
            hint = " (the GT's ids are numbers; this one is a string)"
        raise MismatchError(f"results[{i}] is a detection for image id {img!r}, which the GT lacks{hint}",
                            file=pred, field="image_id",
                            fix="evaluate against the GT these detections were made for, or drop the "
                                "detections of images the GT does not have")
    pid = gt.category_id
    cats = res.category_id
    if not (set(map(type, cats)) <= {int, str} and set(cats) == {pid}):
        for i, c in enumerate(cats):
            if c != pid:
                what = "has no 'category_id'" if "category_id" not in res.records[i] else f"has category_id {c!r}"
                raise InputError(f"results[{i}] {what}; the GT's person category is {pid!r} (pycocotools "
                                 "would crash or drop it silently)", file=pred, field="category_id",
                                 fix=f"give every result category_id {pid!r}")
    bad = ~np.isfinite(res.score)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raw = res.records[i]
        what = "has no 'score'" if "score" not in raw else f"has score {raw['score']!r}"
        raise InputError(f"results[{i}] {what}; it ranks the detections", file=pred, field="score",
                         fix="give every result its instance score as a finite number")
    bad = ~np.isfinite(res.keypoints).all(1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"results[{i}] has a keypoint value that is not a finite number (pycocotools "
                         "would give it OKS NaN)", file=pred, field="keypoints",
                         fix="write absent joints as 0, 0, 0")


def _adapter_records(pred: Path, gt: CocoAnnotations) -> tuple[list[dict], str, list[str]]:
    """COCO result records from a format other than COCO results (OpenPose, PoseTrack, ...)."""
    from ..formats import detect_format
    from ..skeletons import COCO17, missing_joints

    fmt = detect_format(pred)
    poses = fmt.read(pred)
    index = _ImageIndex(gt.dataset["images"])
    records: list[dict] = []
    notes: list[str] = []
    no_score = 0
    for seq in poses:
        lacking = missing_joints(seq.skeleton, COCO17)
        if lacking and seq.num_persons:
            note = (f"{seq.skeleton.name} has no {', '.join(lacking)}: written as absent (0, 0, 0), so they count "
                    "as misses in OKS")
            if note not in notes:
                notes.append(note)
        ids = _frame_image_ids(seq, index, pred)
        recs = result_records(seq, ids, category_id=gt.category_id)
        if any(np.isnan(seq.person_score[p]) and math.isfinite(d["score"]) for p, d in enumerate(recs)):
            note = "people without an instance score are ranked by the mean score of their present COCO joints"
            if note not in notes:
                notes.append(note)
        for d in recs:
            if not math.isfinite(d["score"]):
                d["score"] = 0.0
                no_score += 1
        records += recs
    if no_score:
        log.warning("%s: %d detections have neither an instance score nor joint scores; they get score 0 and "
                    "rank last (ties keep the file order)", pred, no_score)
    if not records:
        raise InputError("holds no detections (pycocotools cannot evaluate no detections)", file=pred,
                         fix="give at least one detected person")
    return records, fmt.name, notes


# ----------------------------------------------------------------------------- the task
def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:  # pragma: no cover - imported from a source tree
        return "(version unknown)"


@contextlib.contextmanager
def _quiet():
    """pycocotools prints progress to stdout and numpy may warn: neither reaches the user."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def run_cocoeval(dataset: dict, records: list[dict], pid, sigmas: np.ndarray):
    """pycocotools' COCOeval (keypoints) on a GT dataset dict and result records, silently."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with _quiet():
        gt = COCO()
        # COCOeval writes flags into the GT annotations, loadRes fields into the results: copies
        gt.dataset = dict(dataset, annotations=[dict(a) for a in dataset["annotations"]])
        gt.createIndex()
        dt = gt.loadRes([dict(r) for r in records])
        ev = COCOeval(gt, dt, "keypoints")
        ev.params.catIds = [pid]
        ev.params.kpt_oks_sigmas = sigmas.copy()
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def parse_sigmas(spec: str) -> tuple[str, np.ndarray]:
    """``--sigmas``: a named set (``coco``, ``crowdpose``) or a comma list of per-joint OKS sigmas."""
    if spec in SIGMA_SETS:
        return spec, SIGMA_SETS[spec]
    try:
        values = np.array([float(v) for v in spec.split(",")])
    except ValueError:
        raise ConfigError(f"--sigmas {spec!r} is neither a named set ({', '.join(SIGMA_SETS)}) nor a comma list "
                          "of numbers", fix="e.g. --sigmas crowdpose, or --sigmas 0.026,0.025,... (one per joint)"
                          ) from None
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise ConfigError(f"--sigmas {spec!r}: every sigma must be a finite number > 0",
                          fix="give one positive sigma per joint, as pycocotools' kpt_oks_sigmas (0.026 for the nose)")
    return ",".join(repr(float(v)) for v in values), values


def _people(gt: CocoAnnotations, res: CocoResults) -> tuple[CocoPeople, CocoPeople]:
    """GT and detections grouped by image (file order within an image), as the matching takes them."""
    n_img = len(gt.image_ids)
    order = np.argsort(gt.image, kind="stable")
    kp = gt.keypoints[order]
    g = CocoPeople(start=np.searchsorted(gt.image[order], np.arange(n_img + 1)),
                   x=np.ascontiguousarray(kp[..., 0]), y=np.ascontiguousarray(kp[..., 1]), area=gt.area[order],
                   visible=kp[..., 2] > 0, ids=gt.ids[order], crowd=gt.crowd[order],
                   ignore=gt.crowd[order] | (gt.num_keypoints[order] == 0), box=gt.bbox[order])
    index = {v: i for i, v in enumerate(gt.image_ids)}
    img = np.array([index[v] for v in res.image_id], dtype=np.int64)
    order = np.argsort(img, kind="stable")
    kp = res.keypoints[order]
    x, y = kp[:, 0::3], kp[:, 1::3]
    if res.box_area is not None:
        area = res.box_area[order]
    else:  # pycocotools' loadRes: the extent of the joints, (0, 0) included
        area = (x.max(1) - x.min(1)) * (y.max(1) - y.min(1)) if len(kp) else np.zeros(0)
    d = CocoPeople(start=np.searchsorted(img[order], np.arange(n_img + 1)), x=np.ascontiguousarray(x),
                   y=np.ascontiguousarray(y), area=area, score=res.score[order])
    return g, d


def evaluate_coco(gt, preds, **options) -> dict:
    """``prt evaluate --task coco`` (the task's ``run``)."""
    from . import get_task

    return get_task("coco").run(gt, list(preds), **options)


def annotations_subset(a: CocoAnnotations, image_ids) -> CocoAnnotations:
    """The annotations of some images only, as the file holding only them would read (ids ascending, the
    annotations in file order)."""
    chosen = set(image_ids)
    keep = np.array([i in chosen for i in a.image_ids], dtype=bool)
    remap = np.full(len(a.image_ids), -1, dtype=np.int64)
    remap[keep] = np.arange(int(keep.sum()))
    sel = remap[a.image] >= 0 if len(a.image) else np.zeros(0, dtype=bool)
    dataset = dict(a.dataset)
    if isinstance(dataset.get("images"), list):
        dataset["images"] = [img for img in dataset["images"] if img.get("id") in chosen]
    if isinstance(dataset.get("annotations"), list):
        dataset["annotations"] = [x for x in dataset["annotations"] if x.get("image_id") in chosen]
    return dataclasses.replace(a, dataset=dataset, image_ids=[i for i in a.image_ids if i in chosen],
                               image=remap[a.image[sel]], ids=a.ids[sel], area=a.area[sel], crowd=a.crowd[sel],
                               num_keypoints=a.num_keypoints[sel], keypoints=a.keypoints[sel], bbox=a.bbox[sel])


def coco_result(annotations: CocoAnnotations, pred, gt: str, engine: str = "prt", sigmas: str = "coco") -> dict:
    """The result of predictions (a path, or the Python API's list of result dicts) against a read GT
    (``gt`` names it)."""
    sigma_name, sigma = parse_sigmas(sigmas)
    res, fmt, notes = read_predictions(pred, annotations, len(sigma))
    pred = "pred" if isinstance(pred, list) else pred
    n_dets = len(res.score)
    if engine != "pycocotools":
        res.records = []  # checked and in arrays: the parsed objects are freed before the evaluation
    if engine == "pycocotools":
        try:
            ev = run_cocoeval(annotations.dataset, res.records, annotations.category_id, sigma)
        except Exception as e:  # a case the checks above do not foresee: still one clear message
            raise InputError(f"pycocotools could not evaluate these files ({type(e).__name__}: {e})", file=pred,
                             fix=f"check the predictions against the GT {gt}") from None
        stats = [float(v) for v in ev.stats]
        items = image_items(ev.evalImgs, list(ev.params.imgIds), len(ev.params.areaRng), len(ev.params.iouThrs))
        evaluator = f"pycocotools {_version('pycocotools')} COCOeval (keypoints)"
    else:
        g, d = _people(annotations, res)
        outcome = evaluate_images(g, d, sigma)
        with np.errstate(invalid="ignore", divide="ignore"):
            stats = [float(v[0]) for v in summarize(*accumulate(outcome)).values()]
        items = items_of(outcome, annotations.image_ids)
        evaluator = "prt's COCOeval engine (keypoints; pycocotools' evaluate, accumulate and summarize to the bit)"
    evaluated = sum(len(it["scores"]) for it in items)
    counts = {
        "images": len(annotations.image_ids),
        "gt_people": len(annotations.ids),
        "gt_people_evaluated": int(sum(it["gt"][0] for it in items)),
        "gt_crowd_regions": int(annotations.crowd.sum()),
        "detections": n_dets,
        "detections_evaluated": evaluated,
    }
    if evaluated < n_dets:
        log.info("%d detections beyond the %d best of their image are not evaluated (as in pycocotools)",
                 n_dets - evaluated, MAX_DETS)
    for n in notes:
        log.info(n)
    return {"task": "coco", "gt": gt, "pred": str(pred), "format": fmt,
            **dict(zip(STAT_NAMES, stats)),
            "counts": counts, "conversions": notes, "engine": engine, "sigmas": sigma_name,
            "evaluator": evaluator, "items": items}


def render_coco(result: dict) -> str:
    """pycocotools' ``summarize`` lines, from the numbers of the result."""
    c = result["counts"]
    engine = "pycocotools COCOeval" if result.get("engine", "pycocotools") == "pycocotools" else "COCOeval, prt engine"
    sig = result.get("sigmas", "coco")
    engine += "" if sig == "coco" else f", OKS sigmas {sig}"
    head = (f"COCO keypoints ({engine}): {c['images']} images, {c['gt_people_evaluated']} GT people "
            f"evaluated ({c['gt_people']} annotations, {c['gt_crowd_regions']} crowd), {c['detections']} detections")
    lines = [head]
    rows = [(1, None, "all"), (1, 0.5, "all"), (1, 0.75, "all"), (1, None, "medium"), (1, None, "large"),
            (0, None, "all"), (0, 0.5, "all"), (0, 0.75, "all"), (0, None, "medium"), (0, None, "large")]
    for name, (ap, thr, area) in zip(STAT_NAMES, rows):
        title = "Average Precision" if ap else "Average Recall"
        kind = "(AP)" if ap else "(AR)"
        iou = f"{IOU_THRS[0]:0.2f}:{IOU_THRS[-1]:0.2f}" if thr is None else f"{thr:0.2f}"
        lines.append(f" {title:<18} {kind} @[ IoU={iou:<9} | area={area:>6s} | maxDets={MAX_DETS:>3d} ] = "
                     f"{result[name]:0.3f}")
    return "\n".join(lines)


def headline(result: dict) -> dict[str, float]:
    """The ten numbers of a leaderboard row, in percent as COCO papers report them (AP 50.5 for
    ``stats`` 0.505); pycocotools' -1 (undefined, e.g. no medium-sized GT person) becomes NaN."""
    return {k: (math.nan if result[k] == -1 else 100.0 * float(result[k])) for k in STAT_NAMES}


def resample(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    """``headline`` with image i drawn ``weights[r, i]`` times: pycocotools' accumulate and summarize
    redone over the stored per-image evaluations (an all-ones row gives ``headline`` bit for bit)."""
    out = resample_stats(result["items"], weights)
    return {k: np.where(v == -1, np.nan, 100.0 * v) for k, v in out.items()}


def _image_key(record):
    """The image id a result dict names (None when it names none usable: the evaluation's checks say why)."""
    if not isinstance(record, dict):
        return None
    img = record.get("image_id")
    return img if isinstance(img, (int, str)) and not isinstance(img, bool) else None


class CocoSession(Session):
    """COCO evaluation with the GT read and checked once; result dicts given in batches (``update(list)``), or
    one prediction file of any readable format (``update(path)``, evaluated alone). The item is an image: an
    image's detections may come over several batches (they add up, in the order given: pycocotools ranks
    ties in that order), but a batch that repeats exactly the detections held for an image counts once (a
    DDP sampler's padding). ``merge`` joins states of disjoint images; an image in two states must hold the
    same detections in both."""

    needs_every_item = False

    def read_gt(self, gt) -> None:
        self.gt_label = "gt" if isinstance(gt, dict) else str(gt)
        self.engine, self.sigmas = self.options.get("engine", "prt"), self.options.get("sigmas", "coco")
        self.annotations = read_coco_annotations(gt if isinstance(gt, dict) else Path(gt),
                                                 n_joints=len(parse_sigmas(self.sigmas)[1]),
                                                 keep_dataset=self.engine != "prt")
        self.keys = list(self.annotations.image_ids)

    def reset(self) -> None:
        super().reset()
        self.records: list = []
        self.path: Path | None = None

    def describe(self, key) -> str:
        return f"image {key!r}"

    def update(self, part) -> None:
        if isinstance(part, (str, Path)):  # a file of any readable format: alone, as ``run`` takes it
            if not Path(part).exists():
                raise InputError("not found", file=Path(part), fix="check the --pred path")
            if self.records or self.path is not None:
                raise ConfigError("a prediction file is evaluated alone", fix="reset() first, or give result dicts")
            self.path = Path(part)
            return
        if self.path is not None:
            raise ConfigError("a prediction file was given: it is evaluated alone", fix="reset() first")
        if not isinstance(part, list):
            raise InputError(f"is {type(part).__name__}, not a list of COCO result dicts", file="pred",
                             fix="give [{'image_id': 139, 'category_id': 1, 'keypoints': [...51 values], "
                                 "'score': 0.9}, ...]")
        by_image: dict = {}
        for r in part:
            by_image.setdefault(_image_key(r), []).append(r)
        repeated = {k for k, recs in by_image.items() if k is not None and k in self.items
                    and same_value(self.items[k], recs)}
        for r in part:
            k = _image_key(r)
            if k not in repeated:
                self.items.setdefault(k, []).append(r)
                self.records.append(r)

    def merge(self, states) -> None:
        for st in states:
            self.check_state(st)
            for key, recs in st["items"].items():
                if key in self.items:
                    if same_value(self.items[key], recs):
                        continue
                    raise MismatchError(f"{self.describe(key)} is given twice, with different detections",
                                        file="pred", fix="give every image's detections on one rank (or once)")
                self.items[key] = list(recs)
                self.records += recs

    def state(self) -> dict:
        if self.path is not None:
            self.update_from_path()
        return super().state()

    def update_from_path(self) -> None:
        """The prediction file's detections as result dicts (for ``state``, ``subset``)."""
        res, _, _ = read_predictions(self.path, self.annotations, len(parse_sigmas(self.sigmas)[1]))
        self.path = None
        self.update(list(res.records))

    def predictions(self):
        return self.path if self.path is not None else self.records

    def snapshot(self) -> CocoSession:
        new = super().snapshot()
        new.items = {k: list(v) for k, v in self.items.items()}
        new.records = list(self.records)
        return new

    def compute(self, only=None) -> dict:
        if only is None:
            return coco_result(self.annotations, self.predictions(), self.gt_label, self.engine, self.sigmas)
        if self.path is not None:
            self.update_from_path()
        keys = set(self.ordered_keys(only))
        records = [r for r in self.records if _image_key(r) in keys]
        return coco_result(annotations_subset(self.annotations, keys), records, self.gt_label, self.engine,
                           self.sigmas)


class CocoTask(Task):
    name = "coco"
    description = "COCO keypoint AP/AR (pycocotools' COCOeval, OKS) for any readable prediction format"
    options = ("engine", "sigmas")
    item = "image"
    primary, unit = "AP", "image"
    session_class = CocoSession

    def render(self, result: dict) -> str:
        return render_coco(result)

    def headline(self, result: dict) -> dict[str, float]:
        return headline(result)

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return resample(result, weights)

    def breakdown(self, result: dict) -> list[dict]:
        return [{"name": k, "kind": "total" if k == "AP" else "group", "value": v}
                for k, v in headline(result).items()]


register_task(CocoTask)
