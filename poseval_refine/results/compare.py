"""Is A really better than B? The difference of two results on one benchmark, with a paired bootstrap.

Both results are resampled with the same draws of the benchmark's items (people, images, sequences) from
their stored per-item statistics, so the interval is that of the difference on the same items, not of two
independent numbers. The draws are the board's (same seed, same salt), so ``prt compare A B`` gives the
interval the leaderboard's page shows for the pair. Interval and p-value: results.uncertainty;
what a tie means and what it does not: docs/leaderboard.md.

Two results are comparable only on the same GT (benchmark and GT SHA-256), task and protocol, with per-item
statistics of the same items in the same order; anything else is refused with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, InputError
from . import benchmarks
from .paired import RESAMPLES, SEED


@dataclass
class MetricDifference:
    """One metric of A and B and their difference A - B, with its paired 95% interval and p-value."""
    metric: str
    value_a: float
    value_b: float
    delta: float
    ci95: list[float] | None
    p_value: float | None

    @property
    def tied(self) -> bool | None:
        """The interval holds 0 (None without an interval)."""
        return None if self.ci95 is None else bool(self.ci95[0] <= 0 <= self.ci95[1])

    def as_dict(self) -> dict:
        return {"metric": self.metric, "value_a": _json(self.value_a), "value_b": _json(self.value_b),
                "delta": _json(self.delta), "ci95": self.ci95, "p_value": self.p_value, "tied": self.tied}


@dataclass
class Comparison:
    """``a`` minus ``b`` on one benchmark: the primary metric's difference at the top level, every headline
    metric's in ``metrics``."""
    a: str
    b: str
    benchmark: str
    task: str
    protocol: str
    metric: str
    unit: str
    items: int
    resamples: int
    seed: int
    value_a: float
    value_b: float
    delta: float
    ci95: list[float] | None
    p_value: float | None
    metrics: dict[str, MetricDifference] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def tied(self) -> bool | None:
        return None if self.ci95 is None else bool(self.ci95[0] <= 0 <= self.ci95[1])

    @property
    def verdict(self) -> str:
        """"better" (A's interval lies above 0), "worse" (below), "tied" (it holds 0) or "no interval"."""
        if self.ci95 is None:
            return "no interval"
        return "tied" if self.tied else ("better" if self.ci95[0] > 0 else "worse")

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "benchmark": self.benchmark, "task": self.task, "protocol": self.protocol,
                "metric": self.metric, "unit": self.unit, "items": self.items, "resamples": self.resamples,
                "seed": self.seed, "value_a": _json(self.value_a), "value_b": _json(self.value_b),
                "delta": _json(self.delta), "ci95": self.ci95, "p_value": self.p_value, "tied": self.tied,
                "verdict": self.verdict, "files": self.files,
                "metrics": {k: m.as_dict() for k, m in self.metrics.items()},
                "level": 0.95,
                "statistic": "paired percentile bootstrap over the benchmark's items; two-sided p-value "
                             "min(1, 2 (1 + min(#{d* <= 0}, #{d* >= 0})) / (R + 1)); see docs/leaderboard.md"}


def _json(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def compare(a, b, *, benchmark: str | None = None, task: str | None = None, results: str | Path | None = None,
            resamples: int = RESAMPLES, seed: int = SEED) -> Comparison:
    """A - B with a paired bootstrap 95% interval and two-sided p-value, for the primary metric and every
    headline metric.

    ``a`` and ``b``: a method name in the shipped results or the results store (``results``, else
    ``$PRT_RESULTS``, else ``./prt-results``), a result file's path, a :class:`~.store.StoredResult`, or a
    result file's content (dict). ``benchmark`` and ``task`` pick among a name's results on several boards.
    Raises :class:`~poseval_refine.errors.PrtError` when the two cannot be paired (other benchmark, GT,
    task or protocol; quoted numbers without per-item statistics) or one of them fails its per-file check
    (damaged, or a headline that is not what its numbers give)."""
    from .store import load_all

    stored = None
    if not all(_is_result(x) for x in (a, b)):
        stored = load_all(Path(results) if results is not None else None)
    ra, rb = resolve_pair(a, b, stored, benchmark, task, lambda r: _entry(r, seed, resamples))
    return compare_results(ra, rb, resamples=resamples, seed=seed)


def _entry(r, seed: int, resamples: int):
    """A result's cached entry (:mod:`.cache`), its per-file check passed, else its error."""
    from .cache import row_entry

    if r.problem is not None:
        raise r.problem
    entry = row_entry(r, seed, resamples)
    if entry.problem is not None:
        raise entry.error(r.path)
    return entry


def compare_results(ra, rb, *, resamples: int = RESAMPLES, seed: int = SEED) -> Comparison:
    """:func:`compare` of two :class:`~.store.StoredResult`: from their cached resamples (:mod:`.cache`),
    which are the board's draws."""
    from .uncertainty import paired_difference

    def difference(va, vb, res_a, res_b):
        d = paired_difference(va, vb, res_a, res_b)
        return d.value, d.ci95, d.p_value

    ea, eb = _entry(ra, seed, resamples), _entry(rb, seed, resamples)
    check_comparable(ra, rb, ea, eb)
    return comparison_of(ra, rb, ea, eb, resamples, seed, difference)


def comparison_of(ra, rb, ea, eb, resamples: int, seed: int, difference) -> Comparison:
    """The comparison of two results that passed :func:`check_comparable`, from their entries (:mod:`.cache`):
    ``difference(value_a, value_b, resampled_a, resampled_b)`` gives (A - B, 95% interval, p-value), numpy's
    (:func:`.uncertainty.paired_difference`) or the same in plain Python (:func:`.paired.paired_difference`,
    ``prt compare``'s quick path)."""
    bench, task_name = ea.head["benchmark"], ea.head["task"]
    primary = ea.primary
    n = ea.n_items
    metrics = {}
    for m in [primary, *(k for k in ea.metrics if k != primary)]:
        if m not in eb.metrics:
            continue
        va, vb = ea.metrics.get(m, float("nan")), eb.metrics.get(m, float("nan"))
        res_a, res_b = ea.resampled or {}, eb.resampled or {}
        if resamples > 0 and n > 1 and m in res_a and m in res_b:
            metrics[m] = MetricDifference(m, va, vb, *difference(va, vb, res_a[m], res_b[m]))
        else:  # no resample, or one item drawn again and again: no spread, no interval
            metrics[m] = MetricDifference(m, va, vb, va - vb, None, None)
    top = metrics[primary]
    return Comparison(a=ea.head["method"], b=eb.head["method"], benchmark=bench, task=task_name,
                      protocol=ea.protocol, metric=primary, unit=ea.unit or "item", items=n, resamples=resamples,
                      seed=seed, value_a=top.value_a, value_b=top.value_b, delta=top.delta, ci95=top.ci95,
                      p_value=top.p_value, metrics=metrics, files={"a": ra.path.name, "b": rb.path.name})


def check_comparable(ra, rb, ea=None, eb=None) -> None:
    """Refuse, with the reason, two results that cannot be paired item by item (``ea``, ``eb``: their
    entries, computed when not given)."""
    ea = ea if ea is not None else _entry(ra, SEED, RESAMPLES)
    eb = eb if eb is not None else _entry(rb, SEED, RESAMPLES)
    da, db = ea.head, eb.head
    name = f"{da['method']!r} ({ra.path.name}) and {db['method']!r} ({rb.path.name})"
    if da["benchmark"] != db["benchmark"]:
        raise ConfigError(f"{name} are on different benchmarks ({da['benchmark']} and {db['benchmark']}): "
                          "a difference needs the same people, images or sequences",
                          fix="compare results evaluated against the same GT (pick with --benchmark)")
    if da["task"] != db["task"]:
        raise ConfigError(f"{name} are results of different tasks ({da['task']} and {db['task']})",
                          fix="compare results of one task (pick with --task)")
    ga, gb = (d["inputs"].get("gt", {}).get("sha256") for d in (da, db))
    if ga != gb:
        raise ConfigError(f"{name} were evaluated against different GT files (SHA-256 {str(ga)[:12]}... and "
                          f"{str(gb)[:12]}...), though both are called {da['benchmark']}",
                          fix="evaluate both against the same GT file")
    pa, pb = ea.protocol, eb.protocol
    if pa != pb:
        raise ConfigError(f"{name} follow different evaluation conventions ({pa} and {pb})",
                          fix="evaluate both with the same --flavour / --protocol")
    if not ea.resamples_items:
        raise ConfigError(f"task {da['task']} has no per-item statistics to resample, so no paired interval")
    for r, e in ((ra, ea), (rb, eb)):
        if not e.n_items:
            raise InputError("has no per-item statistics ('items'), so no paired interval", file=r.path,
                             field="items", fix="save the result again with `prt evaluate ... --save NAME`")
    if ea.n_items != eb.n_items:
        raise ConfigError(f"{name} have per-item statistics of {ea.n_items} and {eb.n_items} items",
                          fix="evaluate both against the same GT file")
    if ea.item_ids != eb.item_ids:
        from .cache import item_ids

        ids_a, ids_b = item_ids(ra.data["items"]), item_ids(rb.data["items"])
        k = next((i for i, (x, y) in enumerate(zip(ids_a, ids_b)) if x != y), 0)
        raise ConfigError(f"{name} list their items in another order or other items (item {k}: {ids_a[k]!r} "
                          f"and {ids_b[k]!r})", fix="evaluate both against the same GT file")


# ----------------------------------------------------------------------------- finding A and B
def _is_result(x) -> bool:
    from .store import StoredResult

    return isinstance(x, (StoredResult, dict)) or (isinstance(x, (str, Path)) and _is_file(x))


def _is_file(x) -> bool:
    p = Path(x)
    return p.suffix.lower() == ".json" and p.is_file()


def _as_result(x):
    from .files import check_content, read_result
    from .store import StoredResult

    if isinstance(x, StoredResult):
        return x
    if isinstance(x, dict):
        from ..io import dumps_json

        path = Path(f"{x.get('method', 'result')}.json")
        check_content(dumps_json(x), path)
        return StoredResult(x, path, "user", in_memory=True)
    read_result(Path(x))  # a file that is not a result file is refused here, naming it
    return StoredResult(None, Path(x), "user")


def resolve_pair(a, b, stored, benchmark: str | None, task: str | None, entry, not_found=None):
    """The two results, by file or by name; a name with results on several boards takes the board the
    other one is on (or --benchmark / --task). ``entry``: a result's entry (its protocol decides its board);
    ``not_found(name, stored)``: raises for a name that is in no store (default: the error naming it, or
    saying why a quoted row cannot be compared)."""
    not_found = not_found or _not_found
    bench = benchmarks.normalize(benchmark) if benchmark else None
    cands = []
    for x in (a, b):
        if _is_result(x):
            cands.append([_as_result(x)])
            continue
        name = str(x)
        found = [r for r in stored if r.key[0] == name]
        if not found:
            found = [r for r in stored if r.key[0].lower() == name.lower()]
        if not found:
            not_found(name, stored)
        sel = [r for r in found if (bench is None or r.key[1] == bench) and (task is None or r.key[2] == task)]
        if not sel:
            where = ", ".join(sorted({f"{r.key[1]} / {r.key[2]}" for r in found}))
            raise ConfigError(f"{name!r} has no result on {bench or 'that benchmark'}"
                              f"{' / ' + task if task else ''}", fix=f"its results: {where}")
        cands.append(sel)

    def board(r):
        return (*r.key[1:], entry(r).protocol)

    if len(cands[0]) == 1 and len(cands[1]) == 1:
        return cands[0][0], cands[1][0]
    common = sorted({board(r) for r in cands[0]} & {board(r) for r in cands[1]})
    if len(common) != 1:
        where = "; ".join(f"{bb} / {t} ({p})" for bb, t, p in common) or "none"
        raise ConfigError(f"{a!s} and {b!s} have results on {'several boards' if common else 'no common board'}"
                          f" (shared: {where})", fix="pick one with --benchmark and --task")
    pick = [next(r for r in c if board(r) == common[0]) for c in cands]
    return pick[0], pick[1]


def _not_found(name: str, stored) -> None:
    import difflib

    from ..methods import all_methods
    from .board import quoted_rows

    wanted = name.strip().lower()
    for m in all_methods().values():
        if wanted in {m.key.lower(), m.name.lower(), *(x.lower() for x in m.aliases)} and m.paper:
            raise ConfigError(f"{name!r} has only numbers quoted from the paper: they come without per-item "
                              "statistics, so no paired interval can be computed",
                              fix=(f"evaluate its released predictions (`prt evaluate --method {m.key} --save "
                                   f"{m.key}`), then compare the saved result" if m.tasks else
                                   "evaluate its predictions, if you have them, with `prt evaluate --gt GT --pred "
                                   "PRED --save NAME`, then compare the saved result"))
    for rows in quoted_rows().values():
        for r in rows:
            if r.name.lower() == wanted:
                raise ConfigError(f"{name!r} is a row quoted from the paper: it has no per-item statistics, so no "
                                  "paired interval can be computed",
                                  fix="compare results evaluated by prt (shipped, or saved with `prt evaluate "
                                      "--save NAME`)")
    names = sorted({r.key[0] for r in stored})
    guess = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {guess[0]}? " if guess else ""
    raise ConfigError(f"no result named {name!r} in the shipped results or the results store",
                      fix=f"{hint}give a stored method name (`prt leaderboard` lists them) or a result file's path"
                          f"{'; stored: ' + ', '.join(names[:20]) if names else ''}")
