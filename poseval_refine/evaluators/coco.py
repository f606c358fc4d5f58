"""Task ``coco``: COCO keypoint AP/AR computed by pycocotools' ``COCOeval``, for any readable format.

prt checks the GT and the predictions first, so that what pycocotools would assert on, crash on
or silently get wrong becomes one message naming the file and the item; it then reads the
predictions through prt's adapters, maps their joints to COCO's 17 by name (joints a format
lacks are absent, written (0, 0, 0)), pairs their frames with the GT's image ids, and hands
the COCO result records to pycocotools with its printing silenced. pycocotools is imported
here only, when the task runs.

Pairing frames with GT images: COCO results carry image ids; a PoseTrack 2018 file carries
``images[].id``; other formats (OpenPose writes ``<image>_keypoints.json``) are paired by the
image's file name (exact, then its stem when unique in the GT, then a numeric stem as the id).
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from pathlib import Path, PurePath

import numpy as np

from ..errors import ConfigError, InputError, MismatchError
from ..formats.coco import coco_results, result_records
from ..io import load_json
from ..metrics.coco import IOU_THRS, MAX_DETS, STAT_NAMES, image_items, resample_stats
from . import Task, register_task

log = logging.getLogger("prt")

_GT_FIX = ("give a COCO keypoint annotation file (person_keypoints_*.json): images, annotations with "
           "id, image_id, category_id, keypoints (17 x 3), num_keypoints, area, bbox, iscrowd, and the "
           "'person' category")


# ----------------------------------------------------------------------------- ground truth
def load_gt(path) -> tuple[dict, int]:
    """The GT as pycocotools' ``COCO.dataset`` (only the person category kept) and that category's id;
    ``path`` is a file or (the Python API) the parsed dict, named ``gt`` in messages."""
    data, path = (path, "gt") if isinstance(path, dict) else (load_json(path), path)
    if not isinstance(data, dict):
        raise InputError("is not a COCO annotation file (a JSON object)", file=path, fix=_GT_FIX)
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            what = "has no" if key not in data else "has a non-list"
            raise InputError(f"{what} '{key}'", file=path, field=key, fix=_GT_FIX)
    cats = [c for c in data["categories"] if isinstance(c, dict) and c.get("name") == "person"]
    if not cats:
        names = [c.get("name") for c in data["categories"] if isinstance(c, dict)]
        raise InputError(f"has no 'person' category (categories: {names})", file=path, field="categories",
                         fix="COCO keypoint evaluation scores the 'person' category; give its entry "
                             "{id: 1, name: 'person', keypoints: [17 names]}")
    person = cats[0]
    pid = person.get("id")
    if not _is_id(pid):
        raise InputError(f"the person category has id {pid!r}, not an integer", file=path, field="categories.id",
                         fix=_GT_FIX)
    names = person.get("keypoints")
    if names is not None and (not isinstance(names, list) or len(names) != 17):
        raise InputError(f"the person category names {len(names) if isinstance(names, list) else 'no list of'} "
                         "keypoints; COCO's OKS sigmas are for 17", file=path, field="categories.keypoints",
                         fix="give the 17 COCO keypoints (nose ... right_ankle)")
    image_ids = set()
    for i, img in enumerate(data["images"]):
        if not isinstance(img, dict) or "id" not in img:
            raise InputError(f"images[{i}] has no 'id'", file=path, field="images", fix=_GT_FIX)
        if not _is_id(img["id"]):
            raise InputError(f"images[{i}] has id {img['id']!r}, not an integer (or string)", file=path,
                             field="images.id", fix=_GT_FIX)
        if img["id"] in image_ids:
            raise InputError(f"image id {img['id']!r} appears twice in 'images' (images[{i}])", file=path,
                             field="images", fix="give every image its own id")
        image_ids.add(img["id"])
    anns, seen = [], set()
    for a, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            raise InputError(f"annotations[{a}] is not a JSON object", file=path, field="annotations", fix=_GT_FIX)
        for key in ("id", "image_id", "category_id"):  # every annotation, as pycocotools indexes them all
            if not _is_id(ann.get(key)):
                what = f"has no '{key}'" if key not in ann else f"has {key} {ann[key]!r}, not an integer"
                raise InputError(f"annotations[{a}] {what}", file=path, field=key, fix=_GT_FIX)
        if ann["category_id"] != pid:
            continue
        _check_gt_annotation(ann, a, path, image_ids, seen)
        anns.append(ann)
    dataset = dict(data, categories=[person], annotations=anns)
    return dataset, pid


def _check_gt_annotation(ann: dict, a: int, path: Path, image_ids: set, seen: set) -> None:
    aid = ann.get("id")
    who = f"annotations[{a}]" + (f" (id {aid})" if aid is not None else "")

    def bad(problem, field, fix=_GT_FIX):
        raise InputError(f"{who} {problem}", file=path, field=field, fix=fix)

    if not _is_int(aid):
        bad("has no integer 'id'", "id")
    if aid == 0:
        bad("has id 0, which pycocotools cannot count as matched (a match is stored as the GT id, 0 meaning "
            "none)", "id", fix="number the annotations from 1")
    if aid in seen:
        bad("repeats an annotation id (pycocotools would keep only one of them)", "id",
            fix="give every annotation its own id")
    seen.add(aid)
    if not _is_id(ann.get("image_id")):
        bad(f"has image_id {ann.get('image_id')!r}, not an integer (or string) id of 'images'", "image_id")
    if ann["image_id"] not in image_ids:
        bad(f"refers to image id {ann.get('image_id')!r}, which is not in 'images'", "image_id")
    if "area" not in ann:
        bad("has no 'area', which sets the OKS scale and the area range", "area",
            fix="give every person annotation its segment area (COCO's 'area'), as in person_keypoints_*.json")
    if not _is_number(ann["area"]) or not math.isfinite(ann["area"]) or ann["area"] < 0:
        bad(f"has 'area' {ann['area']!r}, not a finite number >= 0", "area")
    if "iscrowd" not in ann:
        bad("has no 'iscrowd'", "iscrowd", fix="give iscrowd 0 for people, 1 for crowd regions")
    if ann["iscrowd"] not in (0, 1, True, False):
        bad(f"has 'iscrowd' {ann['iscrowd']!r}, not 0 or 1", "iscrowd")
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and _all_numbers(bbox)):
        bad(f"has 'bbox' {bbox!r}, not [x, y, width, height]", "bbox")
    kp = ann.get("keypoints")
    if not (isinstance(kp, list) and len(kp) == 51 and _all_numbers(kp)):
        n = len(kp) if isinstance(kp, list) else "no"
        bad(f"has {n} keypoint values, expected 51 numbers (17 x [x, y, v])", "keypoints")
    if "num_keypoints" not in ann or not _is_int(ann["num_keypoints"]):
        bad("has no integer 'num_keypoints' (0 makes the person ignored)", "num_keypoints")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_NUMBER_TYPES = {int, float}


def _all_numbers(values: list) -> bool:
    """Every value a JSON number (bool excluded); the set of types is built at C speed."""
    return set(map(type, values)) <= _NUMBER_TYPES


def _is_id(v) -> bool:
    return isinstance(v, (int, str)) and not isinstance(v, bool)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


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


def _check_coco_records(seq, records: list[dict], pid, pred: Path) -> None:
    """What pycocotools would crash on or silently drop, in records read from COCO results."""
    entries = seq.meta.get("entry_index", list(range(len(records))))
    for p, d in enumerate(records):
        if d.get("category_id") != pid:
            what = "has no 'category_id'" if "category_id" not in d else f"has category_id {d['category_id']!r}"
            raise InputError(f"results[{entries[p]}] {what}; the GT's person category is {pid!r} (pycocotools "
                             "would crash or drop it silently)", file=pred, field="category_id",
                             fix=f"give every result category_id {pid!r}")
        if not math.isfinite(seq.person_score[p]):  # the file's own score (pycocotools: KeyError or NaN rank)
            raw = seq.person_extras[p]
            what = "has no 'score'" if "score" not in raw else f"has score {raw['score']!r}"
            raise InputError(f"results[{entries[p]}] {what}; it ranks the detections", file=pred, field="score",
                             fix="give every result its instance score as a finite number")
    raw = np.array([seq.person_extras[p]["keypoints"] for p in range(len(records))], dtype=np.float64)
    bad = ~np.isfinite(raw).all(1) if raw.size else np.zeros(0, bool)
    if bad.any():
        p = int(np.flatnonzero(bad)[0])
        raise InputError(f"results[{entries[p]}] has a keypoint value that is not a finite number (pycocotools "
                         "would give it OKS NaN)", file=pred, field="keypoints",
                         fix="write absent joints as 0, 0, 0")


def _check_bbox_branch(records: list[dict], pred: Path, entries: list[int]) -> None:
    """pycocotools takes detection areas from 'bbox' when the first result has one, for all results."""
    first = records[0].get("bbox")
    if first is None or first == []:
        return
    for p, d in enumerate(records):
        b = d.get("bbox")
        if not (isinstance(b, list) and len(b) == 4 and _all_numbers(b)):
            raise InputError(f"results[{entries[p]}] has 'bbox' {b!r}; the first result has a box, so pycocotools "
                             "takes every result's area from its box", file=pred, field="bbox",
                             fix="give every result a [x, y, width, height] bbox, or none of them")


def read_predictions(pred: Path, pid, index: _ImageIndex) -> tuple[list[dict], str, list[str]]:
    """COCO result records (pycocotools' input) from any readable format; its name; conversion notes."""
    from ..formats import Format, detect_format, get_format
    from ..skeletons import COCO17, missing_joints

    if isinstance(pred, list):  # the Python API's result dicts
        if not pred:
            raise InputError("is an empty result list (pycocotools cannot evaluate no detections)", file="pred",
                             fix="give at least one detection")
        fmt: Format = get_format("coco-results")
        poses = coco_results(pred, Path("pred"))
        pred = Path("pred")
    else:
        try:
            fmt = detect_format(pred)
        except InputError:
            if pred.is_file() and pred.suffix.lower() == ".json" and load_json(pred) == []:
                raise InputError("is an empty result list (pycocotools cannot evaluate no detections)", file=pred,
                                 fix="give at least one detection") from None
            raise
        poses = fmt.read(pred)
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
        recs = result_records(seq, ids, category_id=pid)
        if fmt.name == "coco-results":
            _check_coco_records(seq, recs, pid, pred)
            # pycocotools numbers results in file order: keep it
            entry = seq.meta.get("entry_index", list(range(len(recs))))
            recs = [recs[p] for p in np.argsort(entry, kind="stable")]
            _check_bbox_branch(recs, pred, sorted(entry))
        else:
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


def run_cocoeval(dataset: dict, records: list[dict], pid):
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
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def evaluate_coco(gt: Path, preds: list[Path]) -> dict:
    if len(preds) != 1:
        raise ConfigError("--task coco takes exactly one --pred (COCO results, an OpenPose folder, a PoseTrack "
                          "2018 file, ...)")
    pred = Path(preds[0])
    if not pred.exists():
        raise InputError("not found", file=pred, fix="check the --pred path")
    dataset, pid = load_gt(Path(gt))
    return coco_result(dataset, pid, _ImageIndex(dataset["images"]), pred, str(gt))


def coco_result(dataset: dict, pid, index: _ImageIndex, pred, gt) -> dict:
    """The result of predictions (a path or a list of result dicts) against a loaded GT (``gt`` names it)."""
    records, fmt, notes = read_predictions(pred, pid, index)
    pred = "pred" if isinstance(pred, list) else pred
    try:
        ev = run_cocoeval(dataset, records, pid)
    except Exception as e:  # a case the checks above do not foresee: still one clear message
        raise InputError(f"pycocotools could not evaluate these files ({type(e).__name__}: {e})", file=pred,
                         fix=f"check the predictions against the GT {gt}") from None
    stats = [float(v) for v in ev.stats]
    items = image_items(ev.evalImgs, list(ev.params.imgIds), len(ev.params.areaRng), len(ev.params.iouThrs))
    anns = dataset["annotations"]
    evaluated = sum(len(it["scores"]) for it in items)
    counts = {
        "images": len(ev.params.imgIds),
        "gt_people": len(anns),
        "gt_people_evaluated": int(sum(it["gt"][0] for it in items)),
        "gt_crowd_regions": sum(1 for a in anns if a["iscrowd"]),
        "detections": len(records),
        "detections_evaluated": evaluated,
    }
    if evaluated < len(records):
        log.info("%d detections beyond the %d best of their image are not evaluated (as in pycocotools)",
                 len(records) - evaluated, MAX_DETS)
    for n in notes:
        log.info(n)
    out = {"task": "coco", "gt": str(gt), "pred": str(pred), "format": fmt,
           **dict(zip(STAT_NAMES, stats)),
           "counts": counts, "conversions": notes,
           "evaluator": f"pycocotools {_version('pycocotools')} COCOeval (keypoints)",
           "items": items}
    return out


def render_coco(result: dict) -> str:
    """pycocotools' ``summarize`` lines, from the numbers of the result."""
    c = result["counts"]
    head = (f"COCO keypoints (pycocotools COCOeval): {c['images']} images, {c['gt_people_evaluated']} GT people "
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


class CocoSession:
    """COCO evaluation with the GT read and checked once; result dicts given in batches (``update(list)``,
    or a path). ``result()`` evaluates their concatenation, in the order given (pycocotools numbers
    results in that order), as ``evaluate_coco`` evaluates one file."""

    def __init__(self, gt):
        self.gt = gt if isinstance(gt, dict) else str(gt)
        self.dataset, self.pid = load_gt(gt if isinstance(gt, dict) else Path(gt))
        self.index = _ImageIndex(self.dataset["images"])
        self.reset()

    def reset(self) -> None:
        self.records: list = []
        self.path: Path | None = None

    def update(self, part) -> None:
        if isinstance(part, (str, Path)):  # a file of any readable format: alone, as evaluate_coco takes it
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
        self.records += part

    def predictions(self):
        return self.path if self.path is not None else self.records

    def result(self) -> dict:
        where = "gt" if isinstance(self.gt, dict) else self.gt
        return coco_result(self.dataset, self.pid, self.index, self.predictions(), where)


register_task(Task(
    name="coco", description="COCO keypoint AP/AR (pycocotools COCOeval, OKS) for any readable prediction format",
    run=evaluate_coco, render=render_coco, options=(),
    primary="AP", headline=headline, unit="image", resample=resample, session=CocoSession,
    breakdown=lambda r: [{"name": k, "kind": "total" if k == "AP" else "group", "value": v}
                         for k, v in headline(r).items()],
))
