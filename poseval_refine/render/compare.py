"""``prt compare``'s text: the difference table and its verdict. Plain Python (no tabulate, no click): the
command is run in loops and CI checks, where its start is most of its time (results.quick)."""

from __future__ import annotations

import math


def signed(v) -> str:
    return "" if v is None or not math.isfinite(v) else f"{v:+.2f}"


def interval_text(ci) -> str:
    return f"[{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "none"


def p_text(p, resamples: int) -> str:
    """The p-value; at its floor 2 / (R + 1) (no resample on the other side of 0) it is an upper bound."""
    if p is None:
        return ""
    return f"<={p:.3f}" if p <= 2 / (resamples + 1) + 1e-12 else f"{p:.3f}"


def units(c) -> str:
    """What the comparison's items are, in the plural when there are several."""
    return c.unit if c.items == 1 else "people" if c.unit == "person" else f"{c.unit}s"


def simple_table(rows: list[list[str]], headers: list[str], colalign: tuple[str, ...]) -> str:
    """tabulate's "simple" table of ready-made cells, character for character (a column is as wide as its
    widest cell, or its header plus two; two spaces between columns; lines without trailing blanks), without
    importing tabulate: ``prt compare`` is a command people run in loops and CI, and tabulate's imports cost
    more than the comparison."""
    cols = list(zip(*([headers] + rows)))
    widths = [max(max((len(c) for c in col[1:]), default=0), len(col[0]) + 2) for col in cols]

    def line(cells) -> str:
        return "  ".join(c.ljust(w) if a == "left" else c.rjust(w) for c, w, a in zip(cells, widths, colalign)).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def render_text(c) -> str:
    """A :class:`~poseval_refine.results.compare.Comparison` as ``prt compare`` prints it."""
    head = (f"{c.a} - {c.b} on {c.benchmark} / {c.task}"
            + ("" if c.protocol == "official" else f" [{c.protocol}]")
            + f": paired bootstrap over {c.items} {units(c)} ({c.resamples} resamples, seed {c.seed})")
    rows = [[m.metric, f"{m.value_a:.2f}", f"{m.value_b:.2f}", signed(m.delta), interval_text(m.ci95),
             p_text(m.p_value, c.resamples), "tied" if m.tied else ""] for m in c.metrics.values()]
    table = simple_table(rows, ["", c.a, c.b, "A - B", "95% CI", "p", ""],
                         ("left", "right", "right", "right", "right", "right", "left"))
    if c.verdict == "no interval":
        verdict = f"{c.metric}: no interval (one {c.unit}, or --resamples 0)"
    elif c.verdict == "tied":
        verdict = (f"{c.metric}: {c.a} and {c.b} are statistically tied (the 95% interval of the difference "
                   "holds 0)")
    else:
        verdict = (f"{c.metric}: {c.a} is {c.verdict} than {c.b} (the 95% interval of the difference lies "
                   f"{'above' if c.verdict == 'better' else 'below'} 0)")
    return (f"{head}\n{table}\n{verdict}. Each row is its own test: with several metrics, one of them excluding 0 by "
            "chance is likely (docs/leaderboard.md).")


def render_json(c) -> str:
    import json

    return json.dumps(c.as_dict(), indent=1, allow_nan=False)


def worse_message(c) -> str:
    """What ``--fail-if-worse`` prints on stderr when A is significantly worse than B."""
    return (f"prt: {c.a} is significantly worse than {c.b} on {c.benchmark} ({c.metric} {signed(c.delta)}, "
            f"95% interval {interval_text(c.ci95)})")
