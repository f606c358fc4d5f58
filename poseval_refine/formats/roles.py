"""Is a file ground truth or predictions? Asked before an evaluation, to tell a user who gave ``--gt`` and
``--pred`` the wrong way round so: otherwise a reader's own error ("GT person has no head box", "is not a
COCO annotation file") does not say it, and some swaps (PoseTrack predictions with head boxes) even give
numbers, which mean nothing. Registers no format.

The signs are the ones the formats themselves define: COCO results are a JSON list, COCO annotations an
object with ``images`` and ``annotations``; PoseTrack predictions carry scores (``score`` in 2017
annorects, non-empty ``scores`` in 2018 annotations), PoseTrack GT does not; MPII prediction arrays are
told apart by their reader (``meta['kind']``), which already says "is a prediction file, not GT"."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, PrtError

GT, PRED = "gt", "pred"


#: the largest file read to tell its role before an evaluation (a PoseTrack sequence file is well below; a
#: COCO annotation or result file may be far above, and is read only after its evaluation failed)
SNIFF_BYTES = 4 << 20


def role_of(path: str | Path, max_bytes: int | None = None) -> str | None:
    """``"gt"``, ``"pred"``, or None when the file (the first JSON of a folder) does not say or is larger
    than ``max_bytes``."""
    from ..io import load_json

    p = Path(path)
    if p.is_dir():
        p = next(iter(sorted(p.glob("*.json"))), None)
        if p is None:
            return None
    if p.suffix.lower() != ".json" or not p.is_file():
        return None
    if max_bytes is not None and p.stat().st_size > max_bytes:
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


def swap_hint(gt, preds, max_bytes: int | None = None) -> str | None:
    """What to say when the --gt looks like predictions and a --pred like GT (None: they do not)."""
    if gt is None or not preds or role_of(gt, max_bytes) != PRED:
        return None
    pred = next((p for p in preds if role_of(p, max_bytes) == GT), None)
    if pred is None:
        return None
    return (f"--gt and --pred look swapped: {Path(gt).name} holds predictions (scores) and {Path(pred).name} "
            f"ground truth; give --gt {pred} --pred {gt}")


def refuse_swapped(gt, preds) -> None:
    """Refuse --gt and --pred given the wrong way round. Some swaps evaluate without an error (PoseTrack
    predictions with head boxes, as GT) and give numbers that mean nothing: one error instead."""
    hint = swap_hint(gt, preds, SNIFF_BYTES)
    if hint is not None:
        raise InputError("holds predictions (per-joint or per-person scores), not ground truth", file=gt,
                         fix=hint)



def with_swap_hint(error: PrtError, gt, preds) -> PrtError:
    """``error`` (an evaluation that failed) with the swap as its ``fix:`` when the --gt looks like predictions
    and a --pred like GT, whatever their size; else ``error`` unchanged."""
    hint = swap_hint(gt, preds)
    if hint is None:
        return error
    swapped = type(error).__new__(type(error))
    swapped.__dict__.update(error.__dict__)
    swapped.fix = hint
    swapped.args = (swapped.message,)
    return swapped
