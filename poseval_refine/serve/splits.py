"""The public/private split of a benchmark and the evaluation of a submission on one part.

Items are what ``Result.subset`` chooses (``Result.items``): sequences for the PoseTrack and PoseTrack21
tasks, images for COCO and MPII multi (annolist entries), people for MPII single (rows) and pckh
(``sequence/frame/person``). A part's numbers are ``prt evaluate`` on that part's items alone.
:func:`evaluate_parts` evaluates the whole prediction once and takes each part with ``Result.subset(items)``,
which prt guarantees equal, bit for bit, to evaluating a GT and predictions that hold only those items;
:func:`evaluate_part` is that evaluation itself (the GT and predictions restricted to the items, written as
files of the task's format by filtering the raw files, and evaluated by ``poseval_refine.evaluate``), kept
as the independent construction the tests compare with.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError, MismatchError

#: tasks whose GT and predictions are MPII annotation lists (.mat or JSON), split by entry (image)
ANNOLIST_TASKS = ("multi",)
#: tasks whose GT and predictions are PoseTrack sequence files, split by person (``sequence/frame/person``)
PAIRED_PEOPLE_TASKS = ("pckh",)
#: task -> what one split item is
SEQUENCE_TASKS = ("pose", "tracking", "hota", "pose21")
IMAGE_TASKS = ("coco", *ANNOLIST_TASKS)
PERSON_TASKS = ("single", *PAIRED_PEOPLE_TASKS)
SPLIT_TASKS = (*SEQUENCE_TASKS, *IMAGE_TASKS, *PERSON_TASKS)
#: tasks whose GT and predictions are folders of PoseTrack sequence files (one JSON per sequence)
FOLDER_TASKS = (*SEQUENCE_TASKS, *PAIRED_PEOPLE_TASKS)
#: tasks whose items the task's own session lists (``Result.items`` of an evaluation of that GT)
SESSION_LISTED = (*ANNOLIST_TASKS, *PAIRED_PEOPLE_TASKS)


def _stem(name: str) -> str:
    return name[:-5] if name.lower().endswith(".json") else name


def _check_task(task: str) -> None:
    if task not in SPLIT_TASKS:
        raise ConfigError(f"--task {task} cannot be hosted by prt serve yet (its items cannot be split)",
                          fix=f"use one of: {', '.join(SPLIT_TASKS)}")


def sequence_names(gt: Path) -> list[str]:
    """The sequences of a GT folder (file stems, sorted)."""
    if not gt.is_dir():
        raise InputError("is one file; a hosted PoseTrack benchmark is a folder of sequences (one JSON each)",
                         file=gt, fix="give the GT folder")
    names = sorted(_stem(p.name) for p in gt.glob("*.json"))
    if not names:
        raise InputError("holds no .json files", file=gt, fix="give a folder with one PoseTrack JSON per sequence")
    return names


def list_items(task: str, gt: Path) -> list:
    """The items of a GT, in a fixed order: sequence names (file stems), COCO image ids, MPII multi entry
    indices, MPII single person indices, pckh people (``sequence/frame/person``, GT order)."""
    _check_task(task)
    gt = Path(gt)
    if task in FOLDER_TASKS:
        names = sequence_names(gt)
        if task in SEQUENCE_TASKS:
            return names
    if task in SESSION_LISTED:
        from ..evaluators import get_task

        return get_task(task).open(gt).subset_keys()
    if task in IMAGE_TASKS:
        from ..io import load_json

        data = load_json(gt)
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise InputError("is not COCO keypoint annotations (no 'images' list)", file=gt, field="images",
                             fix="give the COCO annotations file (person_keypoints_*.json)")
        ids = []
        for i, im in enumerate(data["images"]):
            if not isinstance(im, dict) or isinstance(im.get("id"), bool) or not isinstance(im.get("id"), int):
                raise InputError(f"image {i} has no integer 'id'", file=gt, field="images", fix="give image ids")
            ids.append(im["id"])
        return sorted(set(ids))
    arrays = _mpii_gt_arrays(gt)
    return list(range(len(arrays["part"])))


def make_split(items: list, fraction: float, seed: int) -> dict[str, list]:
    """``{"public": [...], "private": [...]}``: a seeded permutation of the items, the first
    ``round(fraction * n)`` of it public (at least one item in each part); each part in the items' order."""
    n = len(items)
    if n < 2:
        raise ConfigError(f"the GT has {n} item(s); a public/private split needs at least 2")
    if not 0 < fraction < 1:
        raise ConfigError(f"--public-fraction {fraction} is not between 0 and 1")
    n_public = min(max(int(round(fraction * n)), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    public = set(order[:n_public].tolist())
    return {"public": [x for i, x in enumerate(items) if i in public],
            "private": [x for i, x in enumerate(items) if i not in public]}


# ----------------------------------------------------------------------------- predictions
def prediction_root(path: Path) -> Path:
    """An extracted upload's content: a lone top folder (``pred/...`` in the archive) is descended into."""
    path = Path(path)
    while path.is_dir():
        entries = [p for p in path.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
        if len(entries) == 1 and entries[0].is_dir():
            path = entries[0]
        else:
            break
    return path


def check_prediction(task: str, gt: Path, pred: Path, items: list, name: str) -> None:
    """The errors of the whole prediction, found before it is split, so that they name the submitter's own
    file, result or person (not a place in a part) and say nothing of which item is in which part: a
    sequence or image the GT lacks, a sequence without predictions, unreadable results, a wrong count."""
    if task in FOLDER_TASKS:
        if not pred.is_dir():
            raise InputError("is one file; this benchmark takes a folder (an archive) of sequence files, one JSON "
                             "per GT sequence", file=name, fix="submit the folder: prt submit FOLDER ...")
        known = set(items) if task in SEQUENCE_TASKS else set(sequence_names(gt))
        files = sorted(pred.glob("*.json"))
        if not files:
            raise InputError("holds no .json files", file=name,
                             fix="submit a folder (archive) with one PoseTrack JSON per sequence")
        given = set()
        for f in files:
            if _stem(f.name) not in known:
                raise MismatchError(f"predictions for sequence {_stem(f.name)!r}, which the GT lacks", file=f.name,
                                    fix="name every prediction sequence as its GT file (e.g. 000342_mpii_test.json)")
            given.add(_stem(f.name))
        missing = sorted(known - given)
        if missing:
            raise MismatchError(f"GT sequence {missing[0]} has no prediction"
                                + (f" (nor {len(missing) - 1} more)" if len(missing) > 1 else ""), file=name,
                                fix="give predictions for every GT sequence, named as the GT file")
        return
    if pred.is_dir():
        raise InputError("is a folder; this benchmark takes one file", file=name, fix="submit the file itself")
    if task in ANNOLIST_TASKS:
        if pred.suffix.lower() not in (".mat", ".json"):
            raise InputError(f"has the extension {pred.suffix!r}; MPII multi-person predictions are an annolist "
                             "(.mat or .json)", file=name,
                             fix="submit the .mat (variable 'annolist' or 'pred') or the JSON {'annolist': [...]} "
                                 "file, one entry per GT image")
        return  # the evaluation of the whole file reads and checks it (entries, points, scores)
    if task in IMAGE_TASKS:
        from ..formats.coco import coco_result_arrays
        from ..io import parse_json

        data = parse_json(pred.read_bytes(), name)
        if not isinstance(data, list) or not data:
            raise InputError("is not a COCO results list (a non-empty JSON list of {image_id, category_id, "
                             "keypoints, score})", file=name, fix="submit COCO keypoint results")
        res = coco_result_arrays(data, Path(name), len(load_gt_joints(gt)))
        known = set(items)
        for i, img in enumerate(res.image_id):
            if img not in known:
                raise MismatchError(f"results[{i}] is a detection for image id {img!r}, which the GT lacks",
                                    file=name, field="image_id", fix="give detections of the benchmark's images only")
        return
    from ..formats.mpii import load_arrays

    try:
        arrays = load_arrays(pred)
    except InputError as e:
        raise InputError(e.problem, file=name, field=e.field, fix=e.fix) from None
    n = len(items)
    if not any(np.asarray(v).ndim >= 2 and n in (np.asarray(v).shape[0], np.asarray(v).shape[-1])
               for v in arrays.values()):
        raise InputError(f"has no array with one row per GT person ({n})", file=name,
                         fix="give the predictions of every GT person, in the GT's order (preds: N x 16 x 2)")


def load_gt_joints(gt: Path) -> list:
    """The joint names of a COCO GT's person category (their count is what a result's keypoints hold)."""
    from ..io import load_json

    data = load_json(gt)
    for c in data.get("categories") or []:
        if isinstance(c, dict) and c.get("keypoints"):
            return list(c["keypoints"])
    return [None] * 17


def _mpii_gt_arrays(gt: Path) -> dict:
    from ..formats.mpii import load_arrays

    arrays = load_arrays(gt)
    if "part" not in arrays:
        raise InputError("has no 'part' array; a hosted MPII single benchmark is the .h5 layout (part, normalize, "
                         "... with one row per person)", file=gt, field="part", fix="give valid.h5-style GT")
    return arrays


def _write_h5(path: Path, arrays: dict, rows: list[int], n: int) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            v = np.asarray(v)
            if v.ndim >= 1 and v.shape[0] == n:
                v = v[rows]
            elif v.ndim >= 2 and v.shape[-1] == n:
                v = v[..., rows]
            f.create_dataset(k, data=v)


def _write_part(task: str, gt: Path, pred: Path, items: list, out: Path) -> tuple[Path, Path]:
    """GT and predictions restricted to ``items``, written under ``out`` in the task's formats."""
    from ..io import load_json, write_json_atomic

    if task in PAIRED_PEOPLE_TASKS:
        return (posetrack_people(gt, out / "gt", items), posetrack_people(pred, out / "pred", items))
    if task in ANNOLIST_TASKS:
        return (annolist_entries(gt, out / f"gt{gt.suffix.lower()}", items),
                annolist_entries(pred, out / f"pred{pred.suffix.lower()}", items))
    if task in SEQUENCE_TASKS:
        (out / "gt").mkdir()
        (out / "pred").mkdir()
        wanted = set(items)
        for f in sorted(gt.glob("*.json")):
            if _stem(f.name) in wanted:
                shutil.copyfile(f, out / "gt" / f.name)
        for f in sorted(pred.glob("*.json")):
            if _stem(f.name) in wanted:
                shutil.copyfile(f, out / "pred" / f.name)
        return out / "gt", out / "pred"
    if task in IMAGE_TASKS:
        wanted = set(items)
        data = load_json(gt)
        part = dict(data)
        part["images"] = [im for im in data["images"] if im.get("id") in wanted]
        part["annotations"] = [a for a in data.get("annotations", []) if isinstance(a, dict)
                               and a.get("image_id") in wanted]
        results = load_json(pred)
        if isinstance(results, list):
            results = [r for r in results if not isinstance(r, dict) or r.get("image_id") in wanted]
        write_json_atomic(out / "gt.json", part)
        write_json_atomic(out / "pred.json", results)
        return out / "gt.json", out / "pred.json"
    from ..formats.mpii import load_arrays

    g = _mpii_gt_arrays(gt)
    n = len(g["part"])
    p = load_arrays(pred)
    rows = sorted(items)
    _write_h5(out / "gt.h5", g, rows, n)
    _write_h5(out / "pred.h5", p, rows, n)
    return out / "gt.h5", out / "pred.h5"


def posetrack_people(src: Path, dst: Path, people) -> Path:
    """Copies of the PoseTrack sequence files of folder ``src`` in ``dst`` holding only ``people``
    (``sequence/frame/person``: the person's place among its frame's people in the file), filtered on the raw
    JSON (2017 ``annolist`` or 2018 ``images``/``annotations`` layout); every frame stays, a sequence without
    a chosen person is left out."""
    import orjson

    dst.mkdir(parents=True)
    chosen: dict[str, set[tuple[int, int]]] = {}
    for key in people:
        seq, f, r = str(key).rsplit("/", 2)
        chosen.setdefault(seq, set()).add((int(f), int(r)))
    for f in sorted(src.glob("*.json")):
        keep = chosen.get(_stem(f.name))
        if not keep:
            continue
        data = orjson.loads(f.read_bytes())
        if "annolist" in data:
            for i, frame in enumerate(data["annolist"]):
                frame["annorect"] = [r for j, r in enumerate(frame.get("annorect") or []) if (i, j) in keep]
        else:  # 2018: a frame is an image, its people the annotations naming it, in file order
            frame_of: dict = {}
            for i, im in enumerate(data["images"]):
                frame_of.setdefault(im["id"], i)
            rank: dict = {}
            kept = []
            for a in data["annotations"]:
                j = rank[a["image_id"]] = rank.get(a["image_id"], -1) + 1
                if (frame_of.get(a["image_id"]), j) in keep:
                    kept.append(a)
            data["annotations"] = kept
        (dst / f.name).write_bytes(orjson.dumps(data))
    return dst


def annolist_entries(src: Path, dst: Path, entries) -> Path:
    """An MPII annolist (``.json``, or ``.mat`` with variable ``annolist`` or ``pred``) holding only the
    ``entries`` (0-based indices, kept in the file's order)."""
    keep = sorted({int(i) for i in entries})
    if src.suffix.lower() == ".json":
        import orjson

        data = orjson.loads(src.read_bytes())
        if isinstance(data, dict):
            data = dict(data, annolist=[data["annolist"][i] for i in keep])
        else:
            data = [data[i] for i in keep]
        dst.write_bytes(orjson.dumps(data))
        return dst
    import scipy.io

    v = scipy.io.loadmat(src, squeeze_me=False, struct_as_record=True)
    name = next(k for k in ("annolist", "pred", "annolist_test", "annolist_val") if k in v)
    scipy.io.savemat(dst, {name: v[name].reshape(-1)[keep].reshape(1, -1)})
    return dst


def evaluate_parts(task: str, options: dict[str, Any], gt: Path, pred: Path, parts: dict[str, list]) -> dict:
    """``{part: Result}``: one evaluation of the whole prediction, each part its ``Result.subset``."""
    from ..api import evaluate

    whole = evaluate(Path(gt), [Path(pred)], task, **options)
    return {name: whole.subset(items) for name, items in parts.items()}


def evaluate_part(task: str, options: dict[str, Any], gt: Path, pred: Path, items: list):
    """The :class:`poseval_refine.Result` of the predictions on ``items`` alone: ``prt evaluate`` on the GT
    and predictions restricted to those items (see the module docstring)."""
    from ..api import evaluate

    with tempfile.TemporaryDirectory(prefix="prt-part-") as tmp:
        gt_part, pred_part = _write_part(task, Path(gt), Path(pred), items, Path(tmp))
        return evaluate(gt_part, [pred_part], task, **options)
