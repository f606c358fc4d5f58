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
from .cache import RowEntry, row_entry
from .provenance import Path_name, command_with_file_names, file_names  # noqa: F401
from .store import StoredResult
from .ties import board_ties
from .uncertainty import RESAMPLES, SEED, paired_difference

PAPER = "Fieraru et al., Learning to Refine Human Pose Estimation, CVPRW 2018"
#: metric keys of the paper's numbers (baselines/) -> headline metric names
PAPER_METRICS = {"pckh": "PCKh@0.5", "auc": "AUC", "map": "mAP", "mota": "MOTA"}
#: what a row's ``tied_with`` means (the board's JSON carries it; docs/leaderboard.md explains it)
TIES = ("tied_with: the methods whose paired bootstrap 95% interval of the difference with the row holds 0; "
        "pairwise, not corrected for multiple comparisons")


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
    #: the methods statistically tied with this row (paired 95% interval of the difference holds 0;
    #: results.ties), None when the row has no resamples to pair (quoted, one-item benchmark)
    tied_with: list[str] | None = None
    #: [lowest, highest] rank of this row and the rows it is tied with, None when tied with none
    tie_ranks: list[int] | None = None
    # internal: a quoted row's method key, label and variant; the resampled headline metrics
    _result: dict | None = None
    _resampled: dict | None = None
    _n_items: int | None = None  # how many per-item statistics a stored row has
    _path: Path | None = None  # the result file of a stored row
    _tied_rows: set = field(default_factory=set)  # indices (in the ranked board) of the rows tied with it

    def as_dict(self) -> dict:
        return {"rank": self.rank, "method": self.method, "name": self.name, "source": self.source,
                "value": _json_float(self.value), "ci95": self.ci95, "ci95_note": self.ci95_note,
                "metrics": {k: _json_float(v) for k, v in self.metrics.items()},
                "metrics_ci95": self.metrics_ci95, "delta": self.delta, "base": self.base,
                "note": self.note, "provenance": self.provenance, "joints": self.joints, "curve": self.curve,
                "tied_with": self.tied_with, "tie_ranks": self.tie_ranks}


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
    #: the pairwise paired differences behind the ties (results.ties.TieGroup), for the page's hover
    tie_groups: list = field(default_factory=list)

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
                "seed": self.seed, "metrics": self.metrics, "joint_names": self.joint_names, "ties": TIES,
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


def _stored_row(sr: StoredResult, entry: RowEntry) -> Row:
    """A stored result's row, from its entry (:mod:`.cache`: numbers, resamples and note computed once)."""
    d = entry.head
    task = get_task(d["task"])
    metrics = dict(entry.metrics)
    where = "shipped with prt" if sr.store == "shipped" else "results store"
    prov = published_provenance(sr, d, entry.published_command)
    if d["source"] == "recomputed":
        preds = ", ".join(Path_name(v["path"]) for k, v in d["inputs"].items() if k.startswith("pred"))
        note = f"recomputed by prt from the method's released predictions ({preds}); {where}"
    else:
        note = f"user result; {where}"
    base = d.get("base") or (d["method"][: -len("+refined")] if d["method"].endswith("+refined") else None)
    row = Row(method=d["method"], name=_display_name(d["method"], d["source"]), source=d["source"],
              value=metrics.get(task.primary, float("nan")), metrics=metrics, provenance=prov, note=note,
              base=base, joints=entry.joints, curve=entry.curve, _path=sr.path, _n_items=entry.n_items)
    if entry.resampled is not None:
        row._resampled = entry.resampled
        row.ci95_note = entry.ci95_note
        row.metrics_ci95 = dict(entry.metrics_ci95)
        row.ci95 = row.metrics_ci95.get(task.primary)
    return row


def published_provenance(sr: StoredResult, d: dict | None = None, published_command: str | None = None) -> dict:
    """A row's provenance as a board publishes it: file names and SHA-256s, never the folders of the machine
    that saved the result (the result file keeps the paths, for ``prt verify``). ``d``: the result's content
    (its items not needed; default: the file's); ``published_command``: its command already cut to file names
    (the board entry keeps it)."""
    d = sr.data if d is None else d
    prov = {"store": sr.store, "file": sr.path.name,
            "inputs": {k: {"file": Path_name(v["path"]), "sha256": v["sha256"]} for k, v in d["inputs"].items()},
            "options": file_names(d.get("options", {})),
            **d.get("provenance", {})}
    if published_command is not None:
        prov["command"] = published_command
    elif isinstance(prov.get("command"), str):
        prov["command"] = command_with_file_names(prov["command"])
    return prov


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
                 resamples: int = RESAMPLES, seed: int = SEED, quoted: bool = True, skipped: list | None = None,
                 entries: dict[str, RowEntry] | None = None) -> list[Board]:
    """The boards of the stored results (and the paper's quoted numbers). Each result is read through its
    cached entry (:mod:`.cache`), one at a time, so only rows are held. A result that fails its per-file check
    (damaged, or a headline that is not what its numbers give) raises its error, or, when ``skipped`` is a
    list, is left out and appended to it as ``(StoredResult, PrtError)``. ``entries``: entries computed
    elsewhere for these ``seed`` and ``resamples``, by result SHA-256 (the server's workers store them with
    each submission); the other results are read through the cache."""
    groups: dict[tuple[str, str, str], list[Row]] = {}
    wanted = benchmarks.normalize(benchmark) if benchmark is not None else None
    seen_benchmarks: set[str] = set()
    for sr in results:
        _method, bench, t = sr.key  # from the store's index (a damaged file: from its name)
        seen_benchmarks.add(bench)
        if (wanted is not None and bench != wanted) or (task is not None and t != task):
            continue
        error = sr.problem
        entry = None
        if error is None:
            entry = entries.get(sr.sha256) if entries else None
            if entry is None:
                entry = row_entry(sr, seed, resamples)
            if entry.problem is not None:
                error = entry.error(sr.path)
        if error is not None:
            if skipped is None:
                raise error
            skipped.append((sr, error))
            continue
        d = entry.head
        groups.setdefault((d["benchmark"], d["task"], entry.protocol), []).append(_stored_row(sr, entry))
    if quoted:
        for (bench, t), rows in quoted_rows().items():
            seen_benchmarks.add(bench)
            if (wanted is not None and bench != wanted) or (task is not None and t != task):
                continue
            groups.setdefault((bench, t, DEFAULT_PROTOCOL), []).extend(rows)
    if wanted is not None and wanted not in seen_benchmarks:
        guess = benchmarks.close_to(wanted, seen_benchmarks)
        hint = f"did you mean {guess}? " if guess else ""
        raise ConfigError(f"no results on benchmark {benchmark!r}",
                          fix=f"{hint}benchmarks with results: {', '.join(sorted(seen_benchmarks))}")
    boards = []
    for (bench, t, proto), rows in sorted(groups.items(), key=lambda kv: (benchmarks.order(kv[0][0]), kv[0][1:])):
        boards.append(_board(bench, t, proto, rows, resamples, seed))
    return boards


def _board(bench: str, task_name: str, proto: str, rows: list[Row], resamples: int, seed: int) -> Board:
    task = get_task(task_name)
    _disambiguate(rows)
    n_items = None
    if task.resample is not None:
        sizes = sorted({r._n_items for r in rows if r.source != "quoted"})
        n_items = sizes[0] if len(sizes) == 1 else None
    by_method = {r.method: r for r in rows if r.source != "quoted"}
    for r in rows:
        if r.source == "quoted" or r.base is None:
            continue
        b = by_method.get(r.base)
        if b is None:
            continue
        if r._resampled is not None and b._resampled is not None and r._n_items == b._n_items:
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
                 rows=rows, resamples=resamples, seed=seed, tie_groups=board_ties(rows, task.primary))


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
