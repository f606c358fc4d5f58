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
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError, MismatchError
from ..formats.coco import (
    CocoAnnotations,
    CocoResults,
    GtLayout,
    coco_result_arrays,
    gt_protocol,
    image_stem,
    read_coco_annotations,
    result_records,
)
from ..io import load_json
from ..metrics import sigma_tables
from ..metrics.coco import (
    IOU_THRS,
    MAX_DETS,
    STAT_NAMES,
    CocoPeople,
    PooledDetections,
    accumulate,
    accumulate_weighted,
    evaluate_images,
    image_items,
    items_of,
    resample_stats,
    subset,
    summarize,
    xtcocotools_split_ap,
)
from ..metrics.oks import SIGMA_SETS
from ..protocols import CROWD_SPLITS, PROTOCOLS, CocoProtocol
from . import DEFAULT_PROTOCOL, Session, Task, register_task, same_value
from .payloads import CocoPayload

log = logging.getLogger("prt")


# ----------------------------------------------------------------------------- predictions
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
            stem = image_stem(name)
            if stem in self.by_stem and self.by_stem[stem] != img["id"]:
                ambiguous.add(stem)
            self.by_stem.setdefault(stem, img["id"])
        for s in ambiguous:
            del self.by_stem[s]

    def by_file(self, name: str):
        if name in self.by_name:
            return self.by_name[name]
        stem = image_stem(name)
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


def read_predictions(pred, gt: CocoAnnotations, n_joints: int, fields=None, allow_empty: bool = False
                     ) -> tuple[CocoResults, str, list[str]]:
    """The detections (COCO results arrays) from any readable format, or the Python API's list of
    result dicts; its format's name; conversion notes.

    A JSON list is read as COCO results straight into arrays (``fields``: COCO-WholeBody's keypoint
    fields); other formats go through prt's adapters, their joints mapped to COCO's 17 by name.
    ``allow_empty``: no detections at all is a result (xtcocotools evaluates it; pycocotools cannot)."""
    where = Path("pred") if isinstance(pred, list) else pred
    data = pred if isinstance(pred, list) else None
    if data is None and pred.is_file() and pred.suffix.lower() == ".json":
        data = load_json(pred)
        if not isinstance(data, list):
            data = None
    if data is not None:
        if data == [] and not allow_empty:
            raise InputError("is an empty result list (pycocotools cannot evaluate no detections)", file=where,
                             fix="give at least one detection")
        res = coco_result_arrays(data, where, n_joints, fields)
        _check_results(res, gt, where)
        return res, "coco-results", []
    if n_joints != 17 or fields is not None:
        raise ConfigError(f"--sigmas with {n_joints} joints needs COCO results (a JSON list) as --pred"
                          if fields is None else "COCO-WholeBody needs its results as a JSON list (mmpose's "
                          "CocoWholeBodyMetric writes them)",
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


def protocol_sigmas(proto: CocoProtocol, spec: str | None) -> tuple[str, np.ndarray]:
    """The OKS sigmas of a run: ``--sigmas`` (a named set or a list) or the protocol's own table; float32 when
    the protocol reproduces mmpose (which reads its tables into float32 arrays, CocoProtocol.float32_sigmas)."""
    name, values = parse_sigmas(spec if spec is not None else proto.sigmas)
    if proto.sigmas == "crowdpose" and spec is None:
        values = sigma_tables.CROWDPOSE
    if proto.float32_sigmas:
        values = values.astype(np.float32)
    return name, values


def gt_layout(proto: CocoProtocol, n_joints: int) -> GtLayout:
    """What the protocol's GT must hold (formats.coco.GtLayout)."""
    xt = proto.kit == "xtcocotools"
    if proto.wholebody:
        if n_joints != sigma_tables.WHOLEBODY.size:
            raise ConfigError(f"--protocol wholebody has {sigma_tables.WHOLEBODY.size} joints; --sigmas gives "
                              f"{n_joints}", fix="give 133 sigmas (body 17, feet 6, face 68, hands 21 + 21)")
        fields = tuple((f, k) for _, f, k in sigma_tables.WHOLEBODY_FIELDS)
    else:
        fields = (("keypoints", n_joints),)
    return GtLayout(fields=fields, area=proto.use_area, num_keypoints=proto.ignore_by == "num_keypoints",
                    crowd_index=proto.summary == "crowdpose", xtcocotools=xt)


def resolve_protocol(name: str | None, data, gt_name: str) -> CocoProtocol:
    """``--protocol``: the one named, or (``official``/None) the one the GT's layout implies, said on stderr."""
    if name not in (None, "official"):
        proto = PROTOCOLS["coco"].get(name)
        if proto is None:
            raise ConfigError(f"--protocol {name} is not a COCO protocol",
                              fix=f"--task coco takes --protocol {', '.join(PROTOCOLS['coco'])}")
        return proto
    found = gt_protocol(data)
    if found != "coco":
        why = "the images of %s carry crowdIndex" if found == "crowdpose" else "the annotations of %s carry foot_kpts"
        log.info("no --protocol given: " + why + ", so --protocol %s", gt_name, found)
    return PROTOCOLS["coco"][found]


def protocol_parts(proto: CocoProtocol, n_joints: int) -> list[tuple[str, slice, str]]:
    """(part, joint slice, score key) of each evaluation the protocol runs: COCO-WholeBody's six (xtcocotools'
    keypoints_body ... keypoints_wholebody, body ranked by 'score'), else one over every joint."""
    if not proto.wholebody:
        return [("all", slice(0, n_joints), "score")]
    out, at = [], 0
    for part, _, k in sigma_tables.WHOLEBODY_FIELDS:
        out.append((part, slice(at, at + k), "score" if part == "body" else f"{part}_score"))
        at += k
    out.append(("wholebody", slice(0, at), "wholebody_score"))
    return out


def people_by_image(gt: CocoAnnotations, res: CocoResults, proto: CocoProtocol = PROTOCOLS["coco"]["coco"],
                    joints: slice | None = None, score_key: str = "score") -> tuple[CocoPeople, CocoPeople]:
    """GT and detections grouped by image (file order within an image), as the matching takes them: the
    ``joints`` of each person, ranked by ``score_key`` (a part score, 'score' where a result has none); under
    xtcocotools detections without a keypoint v > 0 among those joints are dropped."""
    n_img = len(gt.image_ids)
    order = np.argsort(gt.image, kind="stable")
    kp = gt.keypoints[order][:, joints if joints is not None else slice(None)]
    visible = kp[..., 2] > 0
    if proto.ignore_by == "num_keypoints":
        unlabeled = gt.num_keypoints[order] == 0
    else:  # xtcocotools' keypoints and parts: no keypoint with v > 0 among the evaluated joints
        unlabeled = ~visible.any(1)
    box = gt.bbox[order]
    # xtcocotools, use_area=False: bbox w * h * 0.53 as the OKS scale and for the area ranges
    area = gt.area[order] if proto.use_area else box[:, 2] * box[:, 3] * 0.53
    g = CocoPeople(start=np.searchsorted(gt.image[order], np.arange(n_img + 1)),
                   x=np.ascontiguousarray(kp[..., 0]), y=np.ascontiguousarray(kp[..., 1]), area=area,
                   visible=visible, ids=gt.ids[order], crowd=gt.crowd[order],
                   ignore=gt.crowd[order] | unlabeled, box=box)
    index = {v: i for i, v in enumerate(gt.image_ids)}
    img = np.array([index[v] for v in res.image_id], dtype=np.int64)
    score = res.score
    if res.part_scores and score_key in res.part_scores:
        own = res.part_scores[score_key]
        score = np.where(np.isnan(own), res.score, own)
    rows = np.arange(len(img))
    if proto.kit == "xtcocotools":  # results without a keypoint v > 0 are dropped (xtcocotools' _prepare)
        v = res.keypoints[:, 2::3][:, joints if joints is not None else slice(None)]
        rows = np.flatnonzero((v > 0).any(1)) if len(v) else rows
    order = rows[np.argsort(img[rows], kind="stable")]
    kp = res.keypoints[order]
    x, y = kp[:, 0::3], kp[:, 1::3]
    if res.box_area is not None:
        area = res.box_area[order]
    else:  # loadRes: the extent of the joints in 'keypoints' (COCO-WholeBody: the body's 17), (0, 0) included
        bx, by = (x, y) if res.body_joints is None else (x[:, :res.body_joints], y[:, :res.body_joints])
        area = (bx.max(1) - bx.min(1)) * (by.max(1) - by.min(1)) if len(kp) else np.zeros(0)
    if joints is not None:
        x, y = x[:, joints], y[:, joints]
    d = CocoPeople(start=np.searchsorted(img[order], np.arange(n_img + 1)), x=np.ascontiguousarray(x),
                   y=np.ascontiguousarray(y), area=area, score=score[order])
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
                               num_keypoints=a.num_keypoints[sel], keypoints=a.keypoints[sel], bbox=a.bbox[sel],
                               crowd_index=a.crowd_index[keep] if a.crowd_index is not None else None)


def read_gt(gt, engine: str, sigmas: str | None, protocol: str | None) -> tuple[CocoAnnotations, CocoProtocol]:
    """The GT (a path or its parsed dict) read and checked for its protocol (given, or the one its layout
    implies)."""
    data = gt if isinstance(gt, dict) else load_json(Path(gt))
    name = "gt" if isinstance(gt, dict) else str(gt)
    proto = resolve_protocol(protocol, data, Path(name).name if not isinstance(gt, dict) else "the GT")
    if engine == "pycocotools" and proto.kit != "pycocotools":
        raise ConfigError(f"--engine pycocotools cannot compute --protocol {proto.name}: it is xtcocotools' "
                          "COCOeval (as mmpose calls it), which prt's engine reproduces",
                          fix="drop --engine pycocotools (prt's engine is tested against xtcocotools itself)")
    sigma = protocol_sigmas(proto, sigmas)[1]
    annotations = read_coco_annotations(data, keep_dataset=engine != "prt", layout=gt_layout(proto, len(sigma)),
                                        name=name)
    return annotations, proto


def protocol_predictions(pred, annotations: CocoAnnotations, proto: CocoProtocol, sigmas: str | None
                         ) -> tuple[CocoResults, str, list[str]]:
    """``read_predictions`` as the protocol reads them: COCO-WholeBody's part fields; no detections allowed
    under xtcocotools (which evaluates them), not under pycocotools (which cannot)."""
    n = len(protocol_sigmas(proto, sigmas)[1])
    fields = gt_layout(proto, n).fields if proto.wholebody else None
    return read_predictions(pred, annotations, n, fields=fields, allow_empty=proto.kit == "xtcocotools")


def coco_result(annotations: CocoAnnotations, pred, gt: str, engine: str = "prt", sigmas: str | None = None,
                protocol: CocoProtocol | None = None) -> dict:
    """The result of predictions (a path, or the Python API's list of result dicts) against a read GT
    (``gt`` names it)."""
    proto = protocol or PROTOCOLS["coco"]["coco"]
    sigma_name, sigma = protocol_sigmas(proto, sigmas)
    xt = proto.kit == "xtcocotools"
    res, fmt, notes = protocol_predictions(pred, annotations, proto, sigmas)
    pred = "pred" if isinstance(pred, list) else pred
    n_dets = len(res.score)
    if engine != "pycocotools":
        res.records = []  # checked and in arrays: the parsed objects are freed before the evaluation
    extra: dict = {}
    if engine == "pycocotools":
        try:
            ev = run_cocoeval(annotations.dataset, res.records, annotations.category_id, sigma)
        except Exception as e:  # a case the checks above do not foresee: still one clear message
            raise InputError(f"pycocotools could not evaluate these files ({type(e).__name__}: {e})", file=pred,
                             fix=f"check the predictions against the GT {gt}") from None
        stats = dict(zip(STAT_NAMES, [float(v) for v in ev.stats]))
        items = image_items(ev.evalImgs, list(ev.params.imgIds), len(ev.params.areaRng), len(ev.params.iouThrs))
        evaluator = f"pycocotools {_version('pycocotools')} COCOeval (keypoints)"
    else:
        # values near the float range overflow to inf (OKS 0), as in pycocotools and xtcocotools: no warning
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            stats, extra, items = _engine(annotations, res, proto, sigma, notes)
        if xt:
            evaluator = (f"prt's COCOeval engine ({proto.name}: xtcocotools' COCOeval as mmpose calls it, to "
                         "1e-9 in the tests)")
        else:
            evaluator = ("prt's COCOeval engine (keypoints; pycocotools' evaluate, accumulate and summarize to "
                         "the bit)")
    evaluated = sum(len(it["scores"]) for it in items)
    counts = {
        "images": len(annotations.image_ids),
        "gt_people": len(annotations.ids),
        "gt_people_evaluated": int(sum(it["gt"][0] for it in items)),
        "gt_crowd_regions": int(annotations.crowd.sum()),
        "detections": n_dets,
        "detections_evaluated": evaluated,
    }
    if proto.summary == "crowdpose":  # the precision array's categories (AP_easy/medium/hard average them)
        cats = annotations.category_ids or [annotations.category_id]
        counts["categories"] = len(cats)
        counts["person_category_index"] = cats.index(annotations.category_id)
    kept = n_dets
    if xt:
        # the last part is every joint (COCO-WholeBody: the 133), so a detection it drops is dropped by all
        kept = int((res.keypoints[:, 2::3] > 0).any(1).sum()) if n_dets else 0
        counts["detections_without_visible_keypoints"] = n_dets - kept
        if n_dets > kept:
            log.info("%d detections have no keypoint with v > 0: xtcocotools drops them, so does prt",
                     n_dets - kept)
    if evaluated < kept:
        log.info("%d detections beyond the %d best of their image are not evaluated (as in %s)",
                 kept - evaluated, MAX_DETS, proto.kit)
    for n in notes:
        log.info(n)
    return {"task": "coco", "gt": gt, "pred": str(pred), "format": fmt, **stats, **extra,
            "counts": counts, "conversions": notes, "engine": engine, "sigmas": sigma_name,
            "protocol": proto.name, "evaluator": evaluator, "items": items}


def _engine(annotations: CocoAnnotations, res: CocoResults, proto: CocoProtocol, sigma: np.ndarray,
            notes: list[str]) -> tuple[dict, dict, list[dict]]:
    """prt's engine under a protocol: (the summary numbers, COCO-WholeBody's parts, the per-image items)."""
    xt = proto.kit == "xtcocotools"
    extra: dict = {}
    parts = {}
    for part, joints, key in protocol_parts(proto, len(sigma)):
        g, d = people_by_image(annotations, res, proto, joints if proto.wholebody else None, key)
        parts[part] = evaluate_images(g, d, sigma[joints], negative_ids_unmatched=xt)
    if proto.wholebody:
        fallback = [k for _, _, k in protocol_parts(proto, len(sigma))
                    if k != "score" and not (res.part_scores and k in res.part_scores and
                                             not np.isnan(res.part_scores[k]).any())]
        if fallback and len(res.score):
            notes.append(f"results without {', '.join(fallback)}: 'score' ranks them in those parts (as "
                         "xtcocotools)")
    main = "wholebody" if proto.wholebody else "all"
    outcome = parts[main]
    stats = {k: float(v[0]) for k, v in summarize(*accumulate(outcome)).items()}
    if proto.wholebody:
        for part, out in parts.items():
            extra[part] = {k: float(v[0]) for k, v in summarize(*accumulate(out)).items()}
        extra["part_items"] = {part: items_of(out, annotations.image_ids) for part, out in parts.items()
                               if part != main}
    items = items_of(outcome, annotations.image_ids)
    if proto.summary == "crowdpose":
        stats = {k: stats[k] for k in CROWDPOSE_STATS[:6]}
        split = crowd_splits(annotations.crowd_index)
        for i, label in enumerate(items):
            label["crowd"] = split[i]
        for name in ("easy", "medium", "hard"):
            stats[f"AP_{name}"] = _split_ap(outcome, split == name, proto, annotations)
    return stats, extra, items


#: CrowdPose's nine numbers (xtcocotools' _summarizeKps_crowd, mmpose's AP, AP .5, AP .75, AR, AR .5, AR .75,
#: AP(E), AP(M), AP(H))
CROWDPOSE_STATS = ("AP", "AP50", "AP75", "AR", "AR50", "AR75", "AP_easy", "AP_medium", "AP_hard")


def crowd_splits(crowd_index: np.ndarray) -> np.ndarray:
    """Each image's CrowdPose split by its crowdIndex: easy < 0.2 <= medium < 0.8 <= hard."""
    out = np.full(len(crowd_index), "hard", dtype=object)
    for name, upper in reversed(CROWD_SPLITS):
        out[crowd_index < upper] = name
    return out


def _split_ap(outcome, images: np.ndarray, proto: CocoProtocol, annotations: CocoAnnotations) -> float:
    prec, rec = accumulate(subset(outcome, images))
    if proto.split_mean_with_minus_one:
        cats = annotations.category_ids or [annotations.category_id]
        return xtcocotools_split_ap(prec, len(cats), cats.index(annotations.category_id))
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(summarize(prec, rec)["AP"][0])


def render_coco(result: dict) -> str:
    """pycocotools' (xtcocotools') ``summarize`` lines, from the numbers of the result."""
    c = result["counts"]
    proto = result.get("protocol", "coco")
    engine = "pycocotools COCOeval" if result.get("engine", "pycocotools") == "pycocotools" else "COCOeval, prt engine"
    if proto != "coco":
        engine = f"protocol {proto}: xtcocotools COCOeval as mmpose calls it, prt engine"
    sig = result.get("sigmas", "coco")
    engine += "" if sig in ("coco", PROTOCOLS["coco"].get(proto, PROTOCOLS["coco"]["coco"]).sigmas) \
        else f", OKS sigmas {sig}"
    head = (f"COCO keypoints ({engine}): {c['images']} images, {c['gt_people_evaluated']} GT people "
            f"evaluated ({c['gt_people']} annotations, {c['gt_crowd_regions']} crowd), {c['detections']} detections")
    lines = [head]
    if proto in ("crowdpose", "crowdpose-corrected"):
        rows6 = [(1, None), (1, 0.5), (1, 0.75), (0, None), (0, 0.5), (0, 0.75)]
        for name, (ap, thr) in zip(CROWDPOSE_STATS, rows6):
            lines.append(_summary_line(ap, thr, "all", result[name]))
        iou = f"{IOU_THRS[0]:0.2f}:{IOU_THRS[-1]:0.2f}"
        for name in ("easy", "medium", "hard"):
            lines.append(f" {'Average Precision':<18} (AP) @[ IoU={iou:<9} | type={name:>6s} | "
                         f"maxDets={MAX_DETS:>3d} ] = {result['AP_' + name]:0.3f}")
        return "\n".join(lines)
    if "wholebody" in result:  # one row per part: COCO's ten numbers, as mmpose prints them one part after another
        lines.append(f"{'part':<10}" + "".join(f"{name:>7}" for name in STAT_NAMES))
        for part in WHOLEBODY_PARTS:
            lines.append(f"{part:<10}" + "".join(f"{result[part][name]:7.3f}" for name in STAT_NAMES))
        return "\n".join(lines)
    lines += [_summary_line(ap, thr, area, result[name]) for name, (ap, thr, area) in zip(STAT_NAMES, _ROWS)]
    return "\n".join(lines)


WHOLEBODY_PARTS = ("body", "foot", "face", "lefthand", "righthand", "wholebody")


_ROWS = [(1, None, "all"), (1, 0.5, "all"), (1, 0.75, "all"), (1, None, "medium"), (1, None, "large"),
         (0, None, "all"), (0, 0.5, "all"), (0, 0.75, "all"), (0, None, "medium"), (0, None, "large")]


def _summary_line(ap: int, thr, area: str, value: float) -> str:
    title = "Average Precision" if ap else "Average Recall"
    kind = "(AP)" if ap else "(AR)"
    iou = f"{IOU_THRS[0]:0.2f}:{IOU_THRS[-1]:0.2f}" if thr is None else f"{thr:0.2f}"
    return f" {title:<18} {kind} @[ IoU={iou:<9} | area={area:>6s} | maxDets={MAX_DETS:>3d} ] = {value:0.3f}"


def _pct(v: float) -> float:
    return math.nan if v == -1 else 100.0 * float(v)


def headline(result: dict) -> dict[str, float]:
    """The numbers of a leaderboard row, in percent as papers report them (AP 50.5 for ``stats`` 0.505);
    pycocotools' -1 (undefined, e.g. no medium-sized GT person) becomes NaN. CrowdPose: its nine numbers;
    COCO-WholeBody: the whole body's ten, then each part's AP ("body AP", ...)."""
    proto = result.get("protocol", "coco")
    if proto in ("crowdpose", "crowdpose-corrected"):
        return {k: _pct(result[k]) for k in CROWDPOSE_STATS}
    out = {k: _pct(result[k]) for k in STAT_NAMES}
    if "wholebody" in result:
        out.update({f"{part} AP": _pct(result[part]["AP"]) for part in WHOLEBODY_PARTS[:-1]})
    return out


def resample(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    """``headline`` with image i drawn ``weights[r, i]`` times: pycocotools' accumulate and summarize
    redone over the stored per-image evaluations (an all-ones row gives ``headline`` bit for bit)."""
    proto = result.get("protocol", "coco")

    def pct(v):
        return np.where(v == -1, np.nan, 100.0 * v)

    if proto in ("crowdpose", "crowdpose-corrected"):
        pool = PooledDetections(result["items"])
        prec, rec = accumulate_weighted(pool, weights)
        ten = summarize(prec, rec)
        out = {k: pct(ten[k]) for k in CROWDPOSE_STATS[:6]}
        crowd = np.array([it.get("crowd") for it in result["items"]], dtype=object)
        quirk = PROTOCOLS["coco"][proto].split_mean_with_minus_one
        n_cat, person = result["counts"].get("categories", 1), result["counts"].get("person_category_index", 0)
        for name in ("easy", "medium", "hard"):
            w = np.asarray(weights) * (crowd == name)
            p, r = accumulate_weighted(pool, w)
            if quirk:
                vals = np.array([xtcocotools_split_ap(p[i:i + 1], n_cat, person) for i in range(len(w))])
            else:
                vals = summarize(p, r)["AP"]
            out[f"AP_{name}"] = pct(vals)
        return out
    out = resample_stats(result["items"], weights)
    res = {k: pct(v) for k, v in out.items()}
    for part, items in (result.get("part_items") or {}).items():
        res[f"{part} AP"] = pct(resample_stats(items, weights)["AP"])
    return res


def board_protocol(result: dict) -> str:
    """Results under CrowdPose's, AI Challenger's or COCO-WholeBody's protocol (or other sigmas than the
    protocol's) rank on boards of their own."""
    proto = result.get("protocol", "coco")
    label = DEFAULT_PROTOCOL if proto == "coco" else f"protocol {proto}"
    own = PROTOCOLS["coco"].get(proto, PROTOCOLS["coco"]["coco"]).sigmas
    sig = result.get("sigmas", own)
    return label if sig == own else f"{label}, sigmas {sig}"


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
        self.engine, self.sigmas = self.options.get("engine", "prt"), self.options.get("sigmas")
        self.annotations, self.protocol = read_gt(gt if isinstance(gt, dict) else Path(gt), self.engine,
                                                  self.sigmas, self.options.get("protocol"))
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
        res = protocol_predictions(self.path, self.annotations, self.protocol, self.sigmas)[0]
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
            return coco_result(self.annotations, self.predictions(), self.gt_label, self.engine, self.sigmas,
                               self.protocol)
        if self.path is not None:
            self.update_from_path()
        keys = set(self.ordered_keys(only))
        records = [r for r in self.records if _image_key(r) in keys]
        return coco_result(annotations_subset(self.annotations, keys), records, self.gt_label, self.engine,
                           self.sigmas, self.protocol)


class CocoTask(Task):
    name = "coco"
    description = ("COCO keypoint AP/AR (pycocotools' COCOeval, OKS; CrowdPose, AI Challenger and COCO-WholeBody "
                   "as xtcocotools) for any readable prediction format")
    options = ("engine", "sigmas", "protocol")
    #: official: the protocol the GT's layout implies (docs/crowdpose.md)
    protocols = ("official", *PROTOCOLS["coco"])
    item = "image"
    primary, unit = "AP", "image"
    session_class = CocoSession
    payload_class = CocoPayload

    def render(self, result: dict) -> str:
        return render_coco(result)

    def headline(self, result: dict) -> dict[str, float]:
        return headline(result)

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return resample(result, weights)

    def protocol(self, result: dict) -> str:
        return board_protocol(result)

    def breakdown(self, result: dict) -> list[dict]:
        return [{"name": k, "kind": "total" if k == "AP" else "group", "value": v}
                for k, v in headline(result).items()]


register_task(CocoTask)
