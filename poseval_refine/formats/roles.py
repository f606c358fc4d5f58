"""Is a file ground truth or predictions? Asked only after an evaluation failed, to tell a user who gave
``--gt`` and ``--pred`` the wrong way round so (the readers' own errors, "GT person has no head box" or "is
not a COCO annotation file", do not say it). Registers no format.

The signs are the ones the formats themselves define: COCO results are a JSON list, COCO annotations an
object with ``images`` and ``annotations``; PoseTrack predictions carry scores (``score`` in 2017
annorects, non-empty ``scores`` in 2018 annotations), PoseTrack GT does not; MPII prediction arrays are
told apart by their reader (``meta['kind']``), which already says "is a prediction file, not GT"."""

from __future__ import annotations

from pathlib import Path

from ..errors import PrtError

GT, PRED = "gt", "pred"


def role_of(path: str | Path) -> str | None:
    """``"gt"``, ``"pred"``, or None when the file (the first JSON of a folder) does not say."""
    from ..io import load_json

    p = Path(path)
    if p.is_dir():
        p = next(iter(sorted(p.glob("*.json"))), None)
        if p is None:
            return None
    if p.suffix.lower() != ".json" or not p.is_file():
        return None
    try:
        data = load_json(p)
    except PrtError:
        return None
    return role_of_data(data)


def role_of_data(data) -> str | None:
    if isinstance(data, list):  # COCO results: one record per detected person
        records = [d for d in data if isinstance(d, dict)]
        return PRED if records and all("keypoints" in d and "score" in d for d in records) else None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("annotations"), list):  # COCO annotations or PoseTrack 2018
        anns = [a for a in data["annotations"] if isinstance(a, dict)]
        if not anns:
            return None
        scored = any(a.get("score") is not None or (isinstance(a.get("scores"), list) and a["scores"]) for a in anns)
        return PRED if scored else GT
    annolist = data.get("annolist")
    if isinstance(annolist, list):  # PoseTrack 2017
        rects = [r for frame in annolist if isinstance(frame, dict) for r in _as_list(frame.get("annorect"))
                 if isinstance(r, dict)]
        if not rects:
            return None
        return PRED if any("score" in r for r in rects) else GT
    return None


def _as_list(v) -> list:
    return v if isinstance(v, list) else []


def with_swap_hint(error: PrtError, gt, preds) -> PrtError:
    """``error`` with its ``fix:`` line saying to swap --gt and --pred, when the --gt looks like predictions
    and a --pred looks like GT; else ``error`` unchanged."""
    if gt is None or not preds or role_of(gt) != PRED or not any(role_of(p) == GT for p in preds):
        return error
    pred = next(p for p in preds if role_of(p) == GT)
    hint = (f"--gt and --pred look swapped: {Path(gt).name} holds predictions (scores) and {Path(pred).name} "
            f"ground truth; give --gt {pred} --pred {gt}")
    swapped = type(error).__new__(type(error))
    swapped.__dict__.update(error.__dict__)
    swapped.fix = hint
    swapped.args = (swapped.message,)
    return swapped
