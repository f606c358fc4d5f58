"""Boards: every stored, shipped and quoted result of one (benchmark, task, protocol), ranked by the task's
primary metric, with bootstrap intervals and, for a refined method, the paired difference to its base.

Sources: ``quoted`` (the paper's numbers, from ``baselines/``; no interval), ``recomputed`` (prt ran a
registry method's released predictions: the shipped results and ``prt evaluate --method``), ``user``
(``prt evaluate --save NAME``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..evaluators import DEFAULT_PROTOCOL, get_task
from ..methods import VARIANT_LABELS, all_methods, base_variant
from . import benchmarks
from .store import StoredResult, damaged
from .uncertainty import RESAMPLES, SEED, draw_weights, interval, paired_difference, resample_result, shape_note

PAPER = "Fieraru et al., Learning to Refine Human Pose Estimation, CVPRW 2018"
#: metric keys of the paper's numbers (baselines/) -> headline metric names
PAPER_METRICS = {"pckh": "PCKh@0.5", "auc": "AUC", "map": "mAP", "mota": "MOTA"}
#: largest difference between a stored number and its per-item statistics' all-ones resample (bit for bit
#: when the file is as prt wrote it; prt verify's default tolerance)
CONSISTENCY_TOL = 1e-9


def _nan(v) -> float:
    return float("nan") if v is None else float(v)


@dataclass
class Row:
    method: str
    name: str
    source: str
    value: float
    metrics: dict[str, float]
    provenance: dict
    note: str
    ci95: list[float] | None = None
    #: why ci95 is wide or asymmetric, when its resamples are not one lump around the value (shape_note)
    ci95_note: str | None = None
    metrics_ci95: dict[str, list[float] | None] = field(default_factory=dict)
    base: str | None = None
    delta: dict | None = None
    joints: dict[str, float] | None = None
    curve: dict | None = None
    rank: int = 0
    # internal: the per-item statistics and the resampled headline metrics
    _result: dict | None = None
    _resampled: dict | None = None
    _path: Path | None = None  # the result file of a stored row

    def as_dict(self) -> dict:
        return {"rank": self.rank, "method": self.method, "name": self.name, "source": self.source,
                "value": _json_float(self.value), "ci95": self.ci95, "ci95_note": self.ci95_note,
                "metrics": {k: _json_float(v) for k, v in self.metrics.items()},
                "metrics_ci95": self.metrics_ci95, "delta": self.delta, "base": self.base,
                "note": self.note, "provenance": self.provenance, "joints": self.joints, "curve": self.curve}


def _json_float(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


@dataclass
class Board:
    benchmark: str
    task: str
    protocol: str
    metric: str
    title: str
    unit: str | None
    items: int | None
    metrics: list[str]
    rows: list[Row]
    resamples: int
    seed: int

    @property
    def joint_names(self) -> list[str]:
        names: list[str] = []
        for r in self.rows:
            for n in r.joints or {}:
                if n not in names:
                    names.append(n)
        return names

    def as_dict(self) -> dict:
        return {"benchmark": self.benchmark, "task": self.task, "protocol": self.protocol, "metric": self.metric,
                "title": self.title, "unit": self.unit, "items": self.items, "resamples": self.resamples,
                "seed": self.seed, "metrics": self.metrics, "joint_names": self.joint_names,
                "rows": [r.as_dict() for r in self.rows]}


def protocol_of(task: str, numbers: dict) -> str:
    """The evaluation conventions a board is about (the task says): results under other conventions get their
    own board."""
    return get_task(task).board_protocol(numbers)


def _display_name(method: str, source: str) -> str:
    if source == "user":
        return method
    key, refined = (method[: -len("+refined")], True) if method.endswith("+refined") else (method, False)
    m = all_methods().get(key)
    return (m.name if m else key) + (" + Refinement" if refined else "")


#: what a task's hooks raise on numbers or per-item statistics that are not what the evaluator wrote
_DAMAGE = (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError)


def _stored_row(sr: StoredResult) -> Row:
    try:
        return _read_row(sr)
    except _DAMAGE as e:
        raise damaged(sr.path, f"its numbers cannot be read ({type(e).__name__}: {e})") from None


def _read_row(sr: StoredResult) -> Row:
    d = sr.data
    task = get_task(d["task"])
    result = sr.task_result()
    metrics = {k: _nan(v) for k, v in task.headline(result).items()} if task.headline else {}
    where = "shipped with prt" if sr.store == "shipped" else f"store {sr.path.parent}"
    prov = {"store": sr.store, "file": sr.path.name if sr.store == "shipped" else str(sr.path),
            "inputs": d["inputs"], "options": d.get("options", {}), **d.get("provenance", {})}
    if d["source"] == "recomputed":
        preds = ", ".join(Path_name(v["path"]) for k, v in d["inputs"].items() if k.startswith("pred"))
        note = f"recomputed by prt from the method's released predictions ({preds}); {where}"
    else:
        note = f"user result; {where}"
    base = d.get("base") or (d["method"][: -len("+refined")] if d["method"].endswith("+refined") else None)
    return Row(method=d["method"], name=_display_name(d["method"], d["source"]), source=d["source"],
               value=metrics.get(task.primary, float("nan")), metrics=metrics, provenance=prov, note=note,
               base=base, joints=task.per_joint(result) if task.per_joint else None,
               curve=task.curve(result) if task.curve else None, _result=result, _path=sr.path)


def Path_name(p: str) -> str:
    return p.replace("\\", "/").rsplit("/", 1)[-1]


def quoted_rows() -> dict[tuple[str, str], list[Row]]:
    """The paper's numbers, per (benchmark, task), one row per method row of its tables."""
    groups: dict[tuple, dict] = {}
    for m in all_methods().values():
        for p in m.paper:
            key = (benchmarks.canonical(p["benchmark"]), p["task"], m.key, p["label"], p["variant"])
            g = groups.setdefault(key, {"method": m, "table": p["table"], "metrics": {}, "row": p.get("row", 0)})
            g["metrics"][PAPER_METRICS.get(p["metric"], p["metric"])] = p["value"]
    out: dict[tuple[str, str], list[Row]] = {}
    for (bench, task, _key, label, variant), g in sorted(groups.items(), key=lambda kv: kv[1]["row"]):
        m = g["method"]
        primary = get_task(task).primary
        name = f"{label} {VARIANT_LABELS.get(variant, variant)}".strip()
        prov = {"quoted_from": f"{PAPER}, Table {g['table']}", "citation": m.citation, "method_key": m.key,
                "variant": variant}
        row = Row(method=name, name=name, source="quoted", value=_nan(g["metrics"].get(primary)),
                  metrics=dict(g["metrics"]), provenance=prov, note=f"quoted from {PAPER}, Table {g['table']}")
        row._result = {"key": m.key, "label": label, "variant": variant}
        out.setdefault((bench, task), []).append(row)
    # quoted differences: a refined variant against its base (same method row label)
    for rows in out.values():
        index = {(r._result["key"], r._result["label"], r._result["variant"]): r for r in rows}
        for r in rows:
            v = r._result["variant"]
            if not v.startswith("refined"):
                continue
            k, lab = r._result["key"], r._result["label"]
            b = index.get((k, lab, base_variant(v))) or index.get((k, lab, "base"))
            if b is not None and math.isfinite(r.value) and math.isfinite(b.value):
                r.base = b.method
                # the paper's numbers have one or two decimals: their difference is written at that precision
                r.delta = {"base": b.method, "value": round(r.value - b.value, 6), "ci95": None, "p_value": None,
                           "quoted": True}
    return out


def build_boards(results: list[StoredResult], *, task: str | None = None, benchmark: str | None = None,
                 resamples: int = RESAMPLES, seed: int = SEED, quoted: bool = True) -> list[Board]:
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for sr in results:
        d = sr.data
        groups.setdefault((d["benchmark"], d["task"], protocol_of(d["task"], d["numbers"])), []).append(_stored_row(sr))
    if quoted:
        for (bench, t), rows in quoted_rows().items():
            groups.setdefault((bench, t, DEFAULT_PROTOCOL), []).extend(rows)
    if benchmark is not None:
        wanted = benchmarks.normalize(benchmark)
        have = {b for b, _, _ in groups}
        if wanted not in have:
            guess = benchmarks.close_to(wanted, have)
            hint = f"did you mean {guess}? " if guess else ""
            raise ConfigError(f"no results on benchmark {benchmark!r}",
                              fix=f"{hint}benchmarks with results: {', '.join(sorted(have))}")
        groups = {k: v for k, v in groups.items() if k[0] == wanted}
    if task is not None:
        groups = {k: v for k, v in groups.items() if k[1] == task}
    boards = []
    for (bench, t, proto), rows in sorted(groups.items(), key=lambda kv: (benchmarks.order(kv[0][0]), kv[0][1:])):
        boards.append(_board(bench, t, proto, rows, resamples, seed))
    return boards


def _board(bench: str, task_name: str, proto: str, rows: list[Row], resamples: int, seed: int) -> Board:
    task = get_task(task_name)
    _disambiguate(rows)
    n_items = None
    if task.resample is not None:
        for r in rows:
            if r.source != "quoted" and not r._result.get("items"):
                raise damaged(r._path, "it has no per-item statistics ('items'), which its task stores", "items")
        sizes = sorted({len(r._result["items"]) for r in rows if r.source != "quoted"})
        for n in sizes:
            # row 0 weighs every item once: it must give the stored numbers (a consistency check of the file)
            weights = np.vstack([np.ones((1, n), dtype=np.int64),
                                 draw_weights(n, resamples, seed, salt=f"{bench}/{task_name}/{proto}")])
            for r in rows:
                if r.source != "quoted" and len(r._result["items"]) == n:
                    resampled = _resample_checked(task, r, weights)
                    if resamples > 0 and n > 1:  # one item drawn again and again has no spread: no interval
                        r._resampled = {k: v[1:] for k, v in resampled.items()}
                        r.metrics_ci95 = {k: interval(v) for k, v in r._resampled.items()}
                        r.ci95 = r.metrics_ci95.get(task.primary)
                        r.ci95_note = _shape_note(task, r, weights[1:])
        n_items = sizes[0] if len(sizes) == 1 else None
    by_method = {r.method: r for r in rows if r.source != "quoted"}
    for r in rows:
        if r.source == "quoted" or r.base is None:
            continue
        b = by_method.get(r.base)
        if b is None:
            continue
        if r._resampled is not None and b._resampled is not None and \
                len(r._result["items"]) == len(b._result["items"]):
            diff = paired_difference(r.value, b.value, r._resampled[task.primary], b._resampled[task.primary])
            r.delta = {"base": b.method, "value": diff.value, "ci95": diff.ci95, "p_value": diff.p_value,
                       "quoted": False}
        else:
            r.delta = {"base": b.method, "value": r.value - b.value, "ci95": None, "p_value": None, "quoted": False}
    rows.sort(key=lambda r: (0, -r.value, r.name) if math.isfinite(r.value) else (1, 0.0, r.name))
    for i, r in enumerate(rows):  # standard competition ranking: equal values share a rank (1, 2, 2, 4)
        prev = rows[i - 1] if i else None
        tied = prev is not None and (prev.value == r.value or not (math.isfinite(prev.value) or
                                                                   math.isfinite(r.value)))
        r.rank = prev.rank if tied else i + 1
    metrics: list[str] = [task.primary] if task.primary else []
    for r in rows:
        metrics += [k for k in r.metrics if k not in metrics]
    return Board(benchmark=bench, task=task_name, protocol=proto, metric=task.primary or "", unit=task.unit,
                 title=f"{benchmarks.title(bench)} - {task.description}", items=n_items, metrics=metrics,
                 rows=rows, resamples=resamples, seed=seed)


def _shape_note(task, r: Row, weights: np.ndarray) -> str | None:
    """Why the row's interval is wide or lopsided, when its resamples are not one lump around its value."""
    values = r._resampled.get(task.primary)
    if values is None:
        return None
    try:
        missing = task.missing_joints(r._result, weights) if task.missing_joints else None
    except _DAMAGE as e:
        raise damaged(r._path, f"its per-item statistics cannot be read ({type(e).__name__}: {e})",
                      "items") from None
    return shape_note(task.primary, r.value, values, task.unit or "item",
                      {j.replace("_", " "): m for j, m in (missing or {}).items()},
                      {j.replace("_", " "): v for j, v in (r.joints or {}).items()})


def _resample_checked(task, r: Row, weights: np.ndarray) -> dict[str, np.ndarray]:
    """The row's resampled headline metrics; weights[0] (all ones) must give its stored numbers."""
    try:
        resampled = resample_result(task, r._result, weights)
    except _DAMAGE as e:
        raise damaged(r._path, f"its per-item statistics cannot be read ({type(e).__name__}: {e})",
                      "items") from None
    for k, v in resampled.items():
        stored, again = r.metrics.get(k, float("nan")), float(v[0])
        same = (math.isnan(stored) and math.isnan(again)) or abs(stored - again) <= CONSISTENCY_TOL
        if not same:
            raise damaged(r._path, f"its {k} {stored!r} is not what its per-item statistics give ({again!r})")
    return resampled


def _disambiguate(rows: list[Row]) -> None:
    """Two results of the same name (a user store beside the shipped one) stay apart on the board."""
    seen: dict[str, int] = {}
    for r in rows:  # names that differ only in case are the same name to a reader
        seen[r.method.lower()] = seen.get(r.method.lower(), 0) + 1
    for r in rows:
        if seen[r.method.lower()] > 1 and r.provenance.get("store") == "user":
            r.name += " (user store)"


def resampled_values(row: Row) -> dict[str, np.ndarray] | None:
    return row._resampled
