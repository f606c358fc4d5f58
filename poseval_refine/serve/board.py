"""A hosted benchmark's boards, built by prt's own leaderboard (``results.board``: bootstrap intervals,
ranks, ties) from the numbers the workers stored.

The public board ranks each team's best public submission. The private board exists only after reveal:
each team's final choice (the submission it marked final, at submission with ``--final`` or later, else its
best public one) ranked on the
private items. Nothing here reads private numbers before reveal.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from pathlib import Path

from sqlalchemy import select

from ..evaluators import get_task
from ..results.board import Board, build_boards
from ..results.store import StoredResult
from .db import DONE, Benchmark, Database, Submission, Team

RESAMPLES = 1000
SEED = 0

_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def _primary(data: dict | None, task: str) -> float:
    if not data:
        return float("nan")
    v = (data.get("headline") or {}).get(get_task(task).primary)
    return float("nan") if v is None else float(v)


def _best(subs: list, task: str):
    """The submission with the highest public primary metric (NaN last; earlier wins a tie)."""
    def key(x):
        v = _primary(x.public, task)
        return (0, -v, x.id) if math.isfinite(v) else (1, 0.0, x.id)
    return min(subs, key=key) if subs else None


def chosen(db: Database, bench: Benchmark, part: str) -> list[tuple[str, Submission]]:
    """(team name, submission) per team on the board of ``part``."""
    with db.session() as s:
        rows = s.execute(select(Submission, Team.name).join(Team, Team.id == Submission.team_id).where(
            Submission.benchmark_id == bench.id, Submission.status == DONE)).all()
    per_team: dict[str, list] = {}
    for sub, team in rows:
        per_team.setdefault(team, []).append(sub)
    out = []
    for team, subs in sorted(per_team.items()):
        pick = None
        if part == "private":
            finals = [x for x in subs if x.final]  # at most one (admin.mark_final); the newest if several
            pick = max(finals, key=lambda x: x.id) if finals else None
        out.append((team, pick or _best(subs, bench.task)))
    return out


def row_name(team: str, method: str) -> str:
    return f"{team}: {method}"


def board(db: Database, bench: Benchmark, part: str) -> tuple[Board | None, dict[str, tuple[str, Submission]]]:
    """The Board of ``part`` ("public", or "private" after reveal) and its rows' (team, submission)."""
    if part == "private" and bench.revealed_at is None:
        raise PermissionError("the private board is shown after reveal")
    picks = chosen(db, bench, part)
    by_name = {row_name(t, sub.method): (t, sub) for t, sub in picks}
    key = (bench.id, part, bench.gt_sha256, tuple(sorted((sub.id, str(sub.finished_at)) for _, sub in picks)))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key], by_name
    results = []
    for name, (_team, sub) in by_name.items():
        data = dict(getattr(sub, part))
        data.update(method=name, benchmark=bench.name, source="user", base=None)
        results.append(StoredResult(data, Path(f"submission-{sub.id}"), "user", in_memory=True))
    boards = build_boards(results, benchmark=bench.name, quoted=False, resamples=RESAMPLES, seed=SEED) \
        if results else []
    b = boards[0] if boards else None
    with _cache_lock:
        _cache[key] = b
        while len(_cache) > 64:
            _cache.popitem(last=False)
    return b, by_name


def _num(v):
    return None if v is None or not math.isfinite(v) else float(v)


def leaderboard_json(db: Database, bench: Benchmark) -> dict:
    """``GET /api/benchmarks/NAME/leaderboard``: the public ranking, or after reveal the final (private) one
    with each row's public numbers beside."""
    revealed = bench.revealed_at is not None
    part = "private" if revealed else "public"
    b, by_name = board(db, bench, part)
    rows = []
    for r in (b.rows if b else []):
        team, sub = by_name[r.method]
        row = {"rank": r.rank, "team": team, "method": sub.method,
               "public": {k: _num(v) for k, v in (sub.public.get("headline") or {}).items()},
               "ci95": r.ci95, "tied_with": [by_name[m][0] + "/" + by_name[m][1].method for m in r.tied_with or []]}
        if revealed:
            row["private"] = {k: _num(v) for k, v in (sub.private.get("headline") or {}).items()}
            row["final"] = bool(sub.final)
        rows.append(row)
    return {"benchmark": bench.name, "task": bench.task, "metric": get_task(bench.task).primary,
            "revealed": revealed, "ranked_on": part, "rows": rows}
