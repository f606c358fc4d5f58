"""A hosted benchmark's boards, built by prt's own leaderboard (``results.board``: bootstrap intervals,
ranks, ties) from the numbers the workers stored.

The public board ranks each team's best public submission. The private board exists only after reveal:
each team's final choice (the submission it marked final, at submission with ``--final`` or later, else its
best public one) ranked on the private items. No private number leaves this module before reveal: the
server's warmer builds the private board ahead (so the reveal answers at once), but it is served only after.

Why it is fast with 1,000 submissions (docs/serve.md, "Scaling out", has the figures): a board is kept per
benchmark and part, keyed by the *state* of its done submissions — their count, the sums of their ids, of
their claims (``attempts``: a rerun or a re-evaluation raises it) and of their final choices, the newest
``finished_at`` — and by the benchmark's GT and reveal. That key is one aggregate over the covering index
``ix_prt_submissions_board`` (migration 0002), so a request whose key is unchanged costs one small query and
no result JSON. When the key changes, each team's submission is chosen from the same index (the public
primary metric is a column, ``public_primary``), and only the chosen submissions' result JSON is read —
each once per process (kept by id and claim). Their bootstrap resamples are not made here: the worker that
evaluated a submission made each part's board entry (``results.cache.build_entry``, the board's draws) and
stored what a row needs of it with the numbers (:func:`pack_entry`; migration 0003), so building a board is
reading 20 rows, ranking and pairing them — no request, and no rebuild, resamples. Submissions done before
0003 (or whose ``resamples_stamp`` is another prt's) are read through prt's results cache (``$PRT_CACHE``) as
before, until the background thread of the server (:class:`BoardWarmer`) has stored theirs (it does so for
the boards' picks, before building the boards, in each of its rounds). That thread also rebuilds a board
whose key changed — the public one, and before reveal the private one too — so the first reader after a new
result, or after the reveal, seldom pays even the rebuild. A board is never served stale: every request
compares the key first.
"""

from __future__ import annotations

import json
import logging
import math
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
from sqlalchemy import case, func, select, update

from ..evaluators import get_task
from ..results.board import Board, build_boards
from ..results.cache import ENTRY_VERSION, RowEntry, build_entry
from ..results.store import StoredResult
from ..version import __version__
from .db import DONE, Benchmark, Database, Submission, Team

log = logging.getLogger("prt.serve")

RESAMPLES = 1000
SEED = 0
#: seconds between the warmer's looks at the boards' keys
WARM_EVERY = 2.0
#: parsed result contents kept per process (two per chosen submission at most)
CONTENTS_KEPT = 512


def primary_value(data: dict | None, task: str) -> float | None:
    """The task's primary metric in a result content's headline; None when missing or not a finite number
    (such a submission ranks last). Stored as ``Submission.public_primary``."""
    if not data:
        return None
    v = (data.get("headline") or {}).get(get_task(task).primary)
    if v is None or isinstance(v, bool):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Pick:
    """A submission chosen for a board row, as the index holds it (no result JSON)."""
    team: str
    id: int
    method: str
    final: bool
    attempts: int
    public_primary: float | None


def _best(subs: list[Pick]) -> Pick | None:
    """The submission with the highest public primary metric (none last; the earlier id wins a tie)."""
    def key(x: Pick):
        v = x.public_primary
        return (0, -v, x.id) if v is not None else (1, 0.0, x.id)
    return min(subs, key=key) if subs else None


def state_key(db: Database, bench: Benchmark, part: str) -> tuple:
    """What a board of ``part`` depends on, from one aggregate over the covering index: any new, rerun,
    re-evaluated or re-chosen done submission, or a GT fix changes it (the reveal changes which part is shown,
    not a part's board)."""
    with db.session() as s:
        row = s.execute(select(func.count(), func.coalesce(func.sum(Submission.id), 0),
                               func.coalesce(func.sum(Submission.attempts), 0), func.max(Submission.finished_at),
                               func.coalesce(func.sum(case((Submission.final, Submission.id), else_=0)), 0))
                        .where(Submission.benchmark_id == bench.id, Submission.status == DONE)).one()
    return (bench.id, part, bench.gt_sha256, *(str(v) for v in row))


def chosen(db: Database, bench: Benchmark, part: str) -> list[Pick]:
    """Per team (by name), the submission on the board of ``part``, read from the covering index."""
    with db.session() as s:
        rows = s.execute(select(Team.name, Submission.id, Submission.method, Submission.final, Submission.attempts,
                                Submission.public_primary).join(Team, Team.id == Submission.team_id)
                         .where(Submission.benchmark_id == bench.id, Submission.status == DONE)).all()
    per_team: dict[str, list[Pick]] = {}
    for r in rows:
        per_team.setdefault(r[0], []).append(Pick(r[0], r[1], r[2], bool(r[3]), r[4], r[5]))
    out = []
    for _team, subs in sorted(per_team.items()):
        pick = None
        if part == "private":
            finals = [x for x in subs if x.final]  # at most one (admin.mark_final); the newest if several
            pick = max(finals, key=lambda x: x.id) if finals else None
        out.append(pick or _best(subs))
    return out


def row_name(team: str, method: str) -> str:
    return f"{team}: {method}"


def board_content(data: dict, team: str, method: str, bench_name: str) -> dict:
    """A part's stored result content as the board ranks it: named by team and method, a user row."""
    out = dict(data)
    out.update(method=row_name(team, method), benchmark=bench_name, source="user", base=None)
    return out


# ----------------------------------------------------------------------------- resamples stored by the workers
_PACKED = b"PRTSUB1\n"
#: the format of pack_entry's bytes (raise it when they change)
PACK_VERSION = 1


def resamples_stamp() -> str:
    """What stored resamples were computed by: prt's and numpy's versions, the results cache's entry version,
    this packing's, the seed and the number of resamples. Another stamp: computed again (by the warmer).
    (A development checkout whose evaluators changed without a version change keeps its stamp: rerun.)"""
    return f"{__version__}|{np.__version__}|{ENTRY_VERSION}|{PACK_VERSION}|{SEED}|{RESAMPLES}"


def compute_entry(data: dict, team: str, method: str, bench_name: str) -> RowEntry:
    """A part's board entry (``results.cache.build_entry``: numbers, check, the bootstrap resamples with the
    board's draws), computed from the content the board ranks."""
    content = board_content(data, team, method, bench_name)
    return build_entry(StoredResult(content, Path("submission"), "user", in_memory=True), SEED, RESAMPLES)


def pack_entry(entry: RowEntry) -> bytes:
    """What a board row needs of an entry, compact: its fields but the head (the board takes it from the
    content) as JSON, and the primary metric's resamples (all that ties and the paired difference read; the
    other metrics' intervals are in ``metrics_ci95``) as little-endian float64, with their CRC-32."""
    name = entry.primary if entry.resampled and entry.primary in entry.resampled else None
    values = np.ascontiguousarray(entry.resampled[name], dtype="<f8") if name else np.zeros(0, dtype="<f8")
    raw = values.tobytes()
    header = orjson.dumps({
        "protocol": entry.protocol, "metrics": entry.metrics, "joints": entry.joints, "curve": entry.curve,
        "n_items": entry.n_items, "item_ids": entry.item_ids, "ci95_note": entry.ci95_note,
        "problem": entry.problem, "primary": entry.primary, "unit": entry.unit,
        "resamples_items": entry.resamples_items, "metrics_ci95": entry.metrics_ci95,
        "published_command": entry.published_command, "resampled": name,
        "one": entry.ones.get(name) if name and entry.ones else None, "n": len(values), "crc32": zlib.crc32(raw)},
        option=orjson.OPT_SERIALIZE_NUMPY, default=str)
    return _PACKED + struct.pack("<Q", len(header)) + header + raw


def unpack_entry(raw: bytes, content: dict) -> RowEntry | None:
    """The entry ``pack_entry`` wrote, its head taken from ``content`` (the board's); None when the bytes are
    not such an entry or fail their CRC-32 (then the board reads the result through the cache)."""
    try:
        raw = bytes(raw)
        if not raw.startswith(_PACKED):
            return None
        (n,) = struct.unpack_from("<Q", raw, len(_PACKED))
        start = len(_PACKED) + 8
        h = orjson.loads(raw[start:start + n])
        body = raw[start + n:]
        if zlib.crc32(body) != h["crc32"] or len(body) != 8 * h["n"]:
            return None
        metrics = {k: float("nan") if v is None else float(v) for k, v in h["metrics"].items()}
        name = h["resampled"]
        resampled = ones = None
        if name is not None:
            resampled = {name: np.frombuffer(body, dtype="<f8")}
            ones = {name: float("nan") if h["one"] is None else float(h["one"])}
    except (ValueError, KeyError, TypeError, struct.error, orjson.JSONDecodeError):
        return None
    head = {k: v for k, v in content.items() if k not in ("items", "numbers", "headline")}
    return RowEntry(head=head, protocol=h["protocol"], metrics=metrics, joints=h["joints"], curve=h["curve"],
                    n_items=h["n_items"], item_ids=h["item_ids"], ci95_note=h["ci95_note"], resampled=resampled,
                    problem=h["problem"], ones=ones, published_command=h["published_command"],
                    metrics_ci95=h["metrics_ci95"], primary=h["primary"], unit=h["unit"],
                    resamples_items=h["resamples_items"])


def stored_resamples(parts: dict[str, dict], team: str, method: str, bench_name: str) -> dict:
    """The worker's column values for a submission's parts ({"public": content, "private": content}); none
    when they cannot be computed (logged: the board then reads the result through the cache, as before)."""
    try:
        # the content as the board will read it back from the JSON column (json, as SQLAlchemy stores it:
        # tuples become lists, integer keys strings), so the entry is computed on the same numbers
        read_back = {part: json.loads(json.dumps(parts[part])) for part in ("public", "private")}
        return {"public_resamples": pack_entry(compute_entry(read_back["public"], team, method, bench_name)),
                "private_resamples": pack_entry(compute_entry(read_back["private"], team, method, bench_name)),
                "resamples_stamp": resamples_stamp()}
    except Exception:
        log.exception("board resamples of %s: %s", team, method)
        return {"public_resamples": None, "private_resamples": None, "resamples_stamp": None}


def fill_resamples(db: Database, bench: Benchmark, ids: list[int]) -> int:
    """Compute and store the resamples of those done submissions (of ``bench``) that have none or another
    stamp: submissions done before migration 0003, or by another prt. The warmer calls it for the boards'
    picks; a submission rerun meanwhile is left to its worker. Returns how many were stored."""
    stamp = resamples_stamp()
    with db.session() as s:
        rows = s.execute(select(Submission.id, Submission.attempts, Submission.resamples_stamp, Team.name,
                                Submission.method).join(Team, Team.id == Submission.team_id)
                         .where(Submission.id.in_(ids), Submission.benchmark_id == bench.id,
                                Submission.status == DONE)).all()
    stored = 0
    for sid, attempts, have, team, method in rows:
        if have == stamp:
            continue
        with db.session() as s:
            public, private = s.execute(select(Submission.public, Submission.private)
                                        .where(Submission.id == sid)).one()
        if public is None or private is None:
            continue
        values = stored_resamples({"public": public, "private": private}, team, method, bench.name)
        with db.session() as s:
            stored += s.execute(update(Submission).where(Submission.id == sid, Submission.attempts == attempts,
                                                         Submission.status == DONE).values(**values)).rowcount
    return stored


class _Contents:
    """Result contents of chosen submissions, parsed once per process: (id, claim, part) -> (content as the
    board ranks it, its SHA-256, its stored entry or None). A claim's numbers are written once, so the key
    names one content; one without a stored entry is read again next time (the warmer may have stored it)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.kept: OrderedDict = OrderedDict()

    def get(self, db: Database, bench: Benchmark, picks: list[Pick], parts: tuple[str, ...]) -> dict | None:
        """{(id, part): (data, sha, entry)} for every pick and part; None when a pick changed meanwhile."""
        from ..results.store import content_sha256

        want = [(p, part) for p in picks for part in parts]
        with self.lock:
            missing = [(p, part) for p, part in want if (p.id, p.attempts, part) not in self.kept]
        if missing:
            columns = {"public": Submission.public, "private": Submission.private}
            packed = {"public": Submission.public_resamples, "private": Submission.private_resamples}
            ids = sorted({p.id for p, _ in missing})
            need = sorted({part for _, part in missing})
            with db.session() as s:
                got = {r[0]: r for r in s.execute(select(Submission.id, Submission.attempts, Submission.status,
                                                         Submission.resamples_stamp,
                                                         *(columns[x] for x in need), *(packed[x] for x in need))
                                                  .where(Submission.id.in_(ids))).all()}
            fresh = {}
            stamp = resamples_stamp()
            for p, part in missing:
                r = got.get(p.id)
                if r is None or r[1] != p.attempts or r[2] != DONE or r[4 + need.index(part)] is None:
                    return None
                data = board_content(r[4 + need.index(part)], p.team, p.method, bench.name)
                raw = r[4 + len(need) + need.index(part)]
                entry = unpack_entry(raw, data) if raw is not None and r[3] == stamp else None
                fresh[(p.id, p.attempts, part)] = (data, content_sha256(data), entry)
            with self.lock:
                self.kept.update(fresh)
        with self.lock:
            out = {}
            for p, part in want:
                k = (p.id, p.attempts, part)
                self.kept.move_to_end(k)
                out[(p.id, part)] = self.kept[k]
                if self.kept[k][2] is None:
                    del self.kept[k]
            while len(self.kept) > CONTENTS_KEPT:
                self.kept.popitem(last=False)
            return out


@dataclass
class BoardView:
    """One built board and what its readers need beside it: the rows' picks and headline numbers."""
    key: tuple
    board: Board | None
    by_name: dict[str, Pick]
    #: row name -> {"public": headline, "private": headline (after reveal)}
    headlines: dict[str, dict]
    extras: dict = field(default_factory=dict)  # made once per view: the API's rows, the page's HTML


_contents = _Contents()
_views: dict[tuple[int, str], BoardView] = {}
_views_lock = threading.Lock()
_build_locks: dict[tuple[int, str], threading.Lock] = {}


def _build_lock(bench_id: int, part: str) -> threading.Lock:
    with _views_lock:
        return _build_locks.setdefault((bench_id, part), threading.Lock())


def board_view(db: Database, bench: Benchmark, part: str, *, ahead: bool = False) -> BoardView:
    """The board of ``part`` ("public", or "private" after reveal): the kept one when its key is the current
    state's, else built (one builder per benchmark and part; others wait for it and read its result).
    ``ahead``: the warmer's build of the private board before reveal, kept and not shown."""
    if part == "private" and bench.revealed_at is None and not ahead:
        raise PermissionError("the private board is shown after reveal")
    slot = (bench.id, part)
    key = state_key(db, bench, part)
    with _views_lock:
        view = _views.get(slot)
    if view is not None and view.key == key:
        return view
    with _build_lock(*slot):
        key = state_key(db, bench, part)  # another thread may have built it meanwhile
        with _views_lock:
            view = _views.get(slot)
        if view is not None and view.key == key:
            return view
        view = _build(db, bench, part, key)
        with _views_lock:
            _views[slot] = view
        return view


def _build(db: Database, bench: Benchmark, part: str, key: tuple) -> BoardView:
    parts = ("public", "private") if part == "private" else ("public",)
    for _attempt in range(5):  # a submission rerun between the choice and the read: choose again
        picks = chosen(db, bench, part)
        contents = _contents.get(db, bench, picks, parts)
        if contents is not None:
            break
        key = state_key(db, bench, part)
    else:
        raise RuntimeError(f"the submissions of {bench.name} kept changing while its board was built")
    by_name = {row_name(p.team, p.method): p for p in picks}
    results, entries = [], {}
    for name, p in by_name.items():
        data, sha, stored = contents[(p.id, part)]
        entry = {"sha256": sha, "method": name, "benchmark": bench.name, "task": bench.task}
        results.append(StoredResult(data, Path(f"submission-{p.id}"), "user", in_memory=True, entry=entry))
        if stored is not None:  # the worker's resamples; a submission without them is read through the cache
            entries[sha] = stored
    boards = build_boards(results, benchmark=bench.name, quoted=False, resamples=RESAMPLES, seed=SEED,
                          entries=entries) if results else []
    headlines = {name: {x: contents[(p.id, x)][0].get("headline") or {} for x in parts}
                 for name, p in by_name.items()}
    return BoardView(key=key, board=boards[0] if boards else None, by_name=by_name, headlines=headlines)


def board(db: Database, bench: Benchmark, part: str) -> tuple[Board | None, dict[str, Pick]]:
    """The Board of ``part`` ("public", or "private" after reveal) and its rows' picks by row name."""
    view = board_view(db, bench, part)
    return view.board, view.by_name


def _num(v):
    return None if v is None or not math.isfinite(v) else float(v)


def leaderboard_json(db: Database, bench: Benchmark) -> dict:
    """``GET /api/benchmarks/NAME/leaderboard``: the public ranking, or after reveal the final (private) one
    with each row's public numbers beside."""
    revealed = bench.revealed_at is not None
    part = "private" if revealed else "public"
    view = board_view(db, bench, part)
    rows = view.extras.get("rows")
    if rows is None:
        rows = []
        by_name = view.by_name
        for r in (view.board.rows if view.board else []):
            p = by_name[r.method]
            row = {"rank": r.rank, "team": p.team, "method": p.method,
                   "public": {k: _num(v) for k, v in view.headlines[r.method]["public"].items()},
                   "ci95": r.ci95,
                   "tied_with": [by_name[m].team + "/" + by_name[m].method for m in r.tied_with or []]}
            if revealed:
                row["private"] = {k: _num(v) for k, v in view.headlines[r.method]["private"].items()}
                row["final"] = bool(p.final)
            rows.append(row)
        view.extras["rows"] = rows
    return {"benchmark": bench.name, "task": bench.task, "metric": get_task(bench.task).primary,
            "revealed": revealed, "ranked_on": part, "rows": rows}


def board_html(db: Database, bench: Benchmark) -> tuple[str, str]:
    """(the board page as ``prt leaderboard --format html`` draws it, its part), rendered once per board."""
    from ..render.html import render_page

    part = "private" if bench.revealed_at is not None else "public"
    view = board_view(db, bench, part)
    html = view.extras.get("html")
    if html is None:
        html = render_page([view.board] if view.board else [], empty="no evaluated submission yet")
        view.extras["html"] = html
    return html, part


def kept_view(bench_id: int, part: str) -> BoardView | None:
    """The board of ``part`` this process keeps for a benchmark, whatever its key (None: none yet)."""
    with _views_lock:
        return _views.get((bench_id, part))


def forget() -> None:
    """Drop every kept board and content (tests compare a kept board with a fresh one)."""
    with _views_lock:
        _views.clear()
    with _contents.lock:
        _contents.kept.clear()


class BoardWarmer(threading.Thread):
    """In the server: at start and then every ``every`` seconds, rebuild each benchmark's shown board whose
    key changed (a new result, a rerun, a GT fix), and before reveal, when no submission of it waits or
    runs, its private board, so that the next reader, and the first after the reveal, find it built."""

    def __init__(self, db: Database, every: float = WARM_EVERY):
        super().__init__(daemon=True, name="prt-board-warmer")
        self.db, self.every = db, every
        self.stop_flag = threading.Event()
        self.filled: dict[int, tuple] = {}  # benchmark id -> the keys its picks' resamples were checked at

    def run(self):
        while True:  # a first round at once: a restarted server has its boards built before it is asked
            try:
                with self.db.session() as s:
                    benches = s.execute(select(Benchmark)).scalars().all()
                for b in benches:
                    if self.stop_flag.is_set():
                        return
                    self.fill(b)
                    board_html(self.db, b)
                    leaderboard_json(self.db, b)
                    if b.revealed_at is None and not self.busy(b):
                        board_view(self.db, b, "private", ahead=True)
            except Exception:  # a busy database or a damaged result: the next round (or a reader) tries again
                log.exception("board warmer")
            if self.stop_flag.wait(self.every):
                return

    def fill(self, bench: Benchmark) -> None:
        """The boards' picks without stored resamples (done before migration 0003) get them, before the
        boards are built, so neither a request nor a rebuild resamples them again."""
        keys = (state_key(self.db, bench, "public"), resamples_stamp())
        if self.filled.get(bench.id) == keys:  # no pick changed since the last look
            return
        picks = {p.id for part in ("public", "private") for p in chosen(self.db, bench, part)}
        if picks and fill_resamples(self.db, bench, sorted(picks)):
            log.info("stored the board resamples of earlier submissions of %s", bench.name)
        self.filled[bench.id] = keys

    def busy(self, bench: Benchmark) -> bool:
        """Submissions of ``bench`` queued or running: the private board, needed only at reveal, waits for a
        quiet moment rather than take CPU from evaluations on the same machine."""
        from .db import QUEUED, RUNNING

        with self.db.session() as s:
            return s.execute(select(Submission.id).where(Submission.benchmark_id == bench.id,
                                                         Submission.status.in_((QUEUED, RUNNING))).limit(1)
                             ).first() is not None

    def stop(self):
        self.stop_flag.set()
