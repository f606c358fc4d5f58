"""``prt verify``: do the stored numbers still come out of their inputs?

For every shipped and stored result: (1) its headline numbers must agree with its own per-item statistics
(an unweighted resample) and with its numbers. This needs no input file and catches a headline number
edited by hand (per-joint values and curves are not derived from the items here). (2) When its inputs are
present with the stored SHA-256, it is evaluated again and every number compared with the stored one
within ``tol``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from ..errors import PrtError
from ..evaluators import get_task
from ..io import dumps_json
from .cache import LEGACY_HEADLINE_NAMES
from .store import StoredResult, input_paths, recompute, sha256

MATCHED, DRIFTED, UNCHECKED = "matched", "drifted", "not checked"
#: what the per-item statistics alone can vouch for: the headline numbers (a board's columns), not the
#: per-joint values or curves, which only evaluating the inputs again checks
HEADLINE_AGREE = "its headline numbers agree with its per-item statistics; the other numbers need the inputs"




@dataclass
class Check:
    result: StoredResult
    status: str
    detail: str = ""
    drifts: list[tuple[str, object, object]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " / ".join(self.result.key)


def _close(a, b, tol: float) -> bool:
    if a is None or b is None:
        fa = float("nan") if a is None else a
        fb = float("nan") if b is None else b
        if isinstance(fa, float) and isinstance(fb, float) and math.isnan(fa) and math.isnan(fb):
            return True
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a == b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tol


def compare(stored, new, tol: float, where: str = "") -> list[tuple[str, object, object]]:
    """Differences between two JSON-like values: (path, stored, new)."""
    if isinstance(stored, dict) and isinstance(new, dict):
        out = []
        for k in stored:
            if k in ("gt", "pred", "plot", "name"):
                continue  # where the inputs are, not what they give
            out += compare(stored[k], new.get(k), tol, f"{where}.{k}" if where else k)
        return out
    if isinstance(stored, list) and isinstance(new, list):
        if len(stored) != len(new):
            return [(where, f"{len(stored)} values", f"{len(new)} values")]
        out = []
        for i, (a, b) in enumerate(zip(stored, new)):
            out += compare(a, b, tol, f"{where}[{i}]")
        return out
    return [] if _close(stored, new, tol) else [(where, stored, new)]


def _json_like(x):
    """What a value becomes in a result file (NaN -> null, numpy -> plain numbers)."""
    return orjson.loads(dumps_json(x))


def self_consistency(sr: StoredResult, tol: float) -> list[tuple[str, object, object]]:
    d = sr.data
    task = get_task(d["task"])
    result = sr.task_result()
    out = []
    if task.headline is None:
        return out
    head = _json_like(task.headline(result))
    if d.get("headline") is not None:
        stored = {LEGACY_HEADLINE_NAMES.get(k, k): v for k, v in d["headline"].items()}
        out += [(f"{k} (headline; from the stored numbers)", a, b) for k, a, b in compare(stored, head, tol)]
    if task.resample is not None and result.get("items"):
        n = len(result["items"])
        again = _json_like({k: float(v[0]) for k, v in task.resample(result, np.ones((1, n), dtype=np.int64)).items()})
        out += [(f"{k} (numbers; from the stored per-item statistics)", a, b) for k, a, b in compare(head, again, tol)]
    return out


def verify_one(sr: StoredResult, root: Path | None, tol: float) -> Check:
    if sr.problem is not None:
        return Check(sr, DRIFTED, f"cannot be read: {sr.problem.problem}", [("file", "a prt result", "unreadable")])
    try:
        return _verify_read(sr, root, tol)
    finally:
        sr.release()  # one parsed result at a time


def _verify_read(sr: StoredResult, root: Path | None, tol: float) -> Check:
    d = sr.data
    try:
        own = self_consistency(sr, tol)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        return Check(sr, DRIFTED, f"its numbers or per-item statistics are damaged ({type(e).__name__}: {e})",
                     [("items", "readable", str(e))])
    if own:
        return Check(sr, DRIFTED, "stored numbers disagree with the stored per-item statistics", own)
    if d.get("options", {}).get("refined"):
        return Check(sr, UNCHECKED, "made by refining the predictions with a checkpoint; prt verify does not re-run "
                                    "the refiner (" + HEADLINE_AGREE + ")")
    paths = input_paths(d, root)
    missing = [f"{k}: {d['inputs'][k]['path']}" for k, p in paths.items() if p is None or not p.exists()]
    if missing:
        hint = "" if root is not None else " (relative paths need --data-root or $PRT_DATA)"
        return Check(sr, UNCHECKED, f"inputs absent{hint}: {'; '.join(missing)} ({HEADLINE_AGREE})")
    for k, p in paths.items():
        now = sha256(p)
        if now != d["inputs"][k]["sha256"]:
            return Check(sr, UNCHECKED, f"input changed: {p} has SHA-256 {now[:12]}..., the result was made from "
                                        f"{d['inputs'][k]['sha256'][:12]}...")
    try:
        new = _json_like(recompute(d, root))
    except PrtError as e:
        return Check(sr, UNCHECKED, f"cannot be evaluated again: {e.message}")
    drifts = compare(d["numbers"], new, tol)
    drifts += [("items", "stored per-item statistics", "differ")] if not _items_equal(d.get("items"),
                                                                                     new.get("items")) else []
    if drifts:
        return Check(sr, DRIFTED, "evaluated again from its inputs, the numbers differ", drifts)
    return Check(sr, MATCHED, "evaluated again from its inputs")


def _items_equal(a, b) -> bool:
    return a == b or (a is None and b is None)


def verify(results: list[StoredResult], root: Path | None, tol: float = 1e-9) -> list[Check]:
    return [verify_one(r, root, tol) for r in results]
