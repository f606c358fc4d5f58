"""The hosted board's cache (poseval_refine.serve.board), without a server process: submissions stored by the
API's own insert (admin.create_submission) and evaluated by the worker's own code (queue.run_submission) on
a small COCO benchmark drawn by tests/support/cocobuild. The kept board must be the board built afresh from
every done submission's stored JSON, as the server built it before it kept any — ranks, values, intervals
and ``tied_with`` — after each change: a new done submission, a better one, a rerun, a GT fix, the reveal
and a final choice; and migration 0002 gives submissions stored before it their ``public_primary``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from .support.serve import need_serve_extra


@pytest.fixture()
def hosted(tmp_path, monkeypatch, fresh_serve_db, db_backend):
    """A server database (SQLite, then PostgreSQL: the suite's ``fresh_serve_db``) with a 24-image COCO
    benchmark, three teams and their prediction files."""
    need_serve_extra()
    monkeypatch.setenv("PRT_CACHE", str(tmp_path / "cache"))
    from poseval_refine.serve import admin, board
    from poseval_refine.serve.db import Database, normalize_url
    from poseval_refine.serve.queue import Queue

    from .support.cocobuild import make_benchmark

    gt, results = make_benchmark(seed=3, n_images=24)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    db = Database(normalize_url(fresh_serve_db) if fresh_serve_db else f"sqlite:///{tmp_path / 'srv.sqlite'}")
    admin.add_benchmark(db, "coco-b", task="coco", gt=tmp_path / "gt.json", options={}, public_fraction=0.5,
                        split_seed=1)
    teams = {}
    for name in ("red", "green", "blue"):
        admin.add_team(db, name)
        with db.session() as s:
            teams[name] = admin.get_team(s, name).id
    rng = np.random.default_rng(0)
    kp = np.array([r["keypoints"] for r in results])

    def predictions(noise: float, keep: float) -> bytes:
        noisy = np.where(kp == 0, 0, kp + np.where(np.arange(51) % 3 == 2, 0, rng.normal(0, noise, kp.shape)))
        mask = rng.random(len(results)) < keep
        return json.dumps([dict(r, keypoints=noisy[i].tolist()) for i, r in enumerate(results) if mask[i]]).encode()

    queue = Queue(db)
    board.forget()

    def submit(team: str, method: str, data: bytes, final: bool = False) -> int:
        sid = admin.create_submission(db, "coco-b", teams[team], method, "results.json", data, final)
        from poseval_refine.serve.queue import run_submission

        run_submission(queue, sid)
        return sid

    yield {"db": db, "submit": submit, "predictions": predictions, "queue": queue, "gt": gt, "tmp": tmp_path,
           "backend": db_backend}
    board.forget()
    db.close()


def _bench(db):
    from sqlalchemy import select

    from poseval_refine.serve.db import Benchmark

    with db.session() as s:
        return s.execute(select(Benchmark).where(Benchmark.name == "coco-b")).scalar_one()


def reference(db, part: str) -> list[tuple]:
    """The board built from every done submission's stored JSON, with nothing kept: each team's best public
    primary metric (the earlier submission on a tie; at reveal its final choice), ranked by prt's leaderboard."""
    from sqlalchemy import select

    from poseval_refine.evaluators import get_task
    from poseval_refine.results.board import build_boards
    from poseval_refine.results.store import StoredResult
    from poseval_refine.serve.db import DONE, Submission, Team

    bench = _bench(db)
    primary = get_task(bench.task).primary
    with db.session() as s:
        rows = s.execute(select(Submission, Team.name).join(Team, Team.id == Submission.team_id)
                         .where(Submission.benchmark_id == bench.id, Submission.status == DONE)).all()
    per_team: dict[str, list] = {}
    for sub, team in rows:
        per_team.setdefault(team, []).append(sub)

    def value(sub):
        v = sub.public["headline"].get(primary)
        return (0, -v, sub.id) if v is not None and math.isfinite(v) else (1, 0.0, sub.id)

    results = []
    for team, subs in per_team.items():
        finals = [x for x in subs if x.final] if part == "private" else []
        pick = max(finals, key=lambda x: x.id) if finals else min(subs, key=value)
        data = dict(getattr(pick, part), method=f"{team}: {pick.method}", benchmark=bench.name, source="user",
                    base=None)
        results.append(StoredResult(data, Path(f"ref-{pick.id}"), "user", in_memory=True))
    if not results:
        return []
    b = build_boards(results, benchmark=bench.name, quoted=False, resamples=1000, seed=0)[0]
    return [(r.method, r.rank, r.value, r.ci95, r.tied_with, r.tie_ranks, r.metrics) for r in b.rows]


def kept(db, part: str) -> list[tuple]:
    from poseval_refine.serve.board import board

    b, _ = board(db, _bench(db), part)
    return [] if b is None else [(r.method, r.rank, r.value, r.ci95, r.tied_with, r.tie_ranks, r.metrics)
                                 for r in b.rows]


def api_rows(db) -> list[dict]:
    from poseval_refine.serve.board import leaderboard_json

    return leaderboard_json(db, _bench(db))["rows"]


def test_the_kept_board_is_the_fresh_board_after_every_change(hosted):
    from poseval_refine.serve import admin, board

    db, submit, predictions = hosted["db"], hosted["submit"], hosted["predictions"]
    assert kept(db, "public") == [] and api_rows(db) == []
    good, fair = predictions(1.0, 0.95), predictions(6.0, 0.8)
    submit("red", "fair", fair)
    first = kept(db, "public")
    assert first == reference(db, "public") and [r[0] for r in first] == ["red: fair"]

    # a new done submission of another team: a second row, the kept board is replaced
    submit("green", "good", good)
    assert kept(db, "public") == reference(db, "public")
    assert {r[0] for r in kept(db, "public")} == {"red: fair", "green: good"}

    # a better submission of red replaces its row; the same predictions as green's: tied, same rank
    submit("red", "good-too", good)
    now = kept(db, "public")
    assert now == reference(db, "public")
    assert {r[0] for r in now} == {"red: good-too", "green: good"}
    assert now[0][1] == now[1][1] == 1 and now[0][4] == [now[1][0]] and now[1][4] == [now[0][0]]
    rows = api_rows(db)
    assert {r["team"] + "/" + r["method"] for r in rows} == {"red/good-too", "green/good"}
    assert all(r["tied_with"] for r in rows) and all(r["rank"] == 1 for r in rows)

    # a worse one does not move red's row, but a third team's row appears; the API rows follow the board
    submit("red", "worse", predictions(20.0, 0.5))
    submit("blue", "fair", fair)
    assert kept(db, "public") == reference(db, "public")
    assert [(r["team"], r["method"]) for r in api_rows(db)][-1] == ("blue", "fair")

    # what the cache kept equals what a process that kept nothing builds, row for row and in the API
    cached_api = api_rows(db)
    cached = kept(db, "public")
    board.forget()
    assert kept(db, "public") == cached and api_rows(db) == cached_api

    # a rerun (the same GT): while queued the board holds no row of theirs; re-evaluated, the same board
    ids = admin.rerun(db, "coco-b")
    assert kept(db, "public") == [] and api_rows(db) == []
    from poseval_refine.serve.queue import run_submission

    for sid in ids[:2]:
        run_submission(hosted["queue"], sid)
    assert kept(db, "public") == reference(db, "public") != []
    for sid in ids[2:]:
        run_submission(hosted["queue"], sid)
    assert kept(db, "public") == cached

    # re-evaluated to other numbers with the same ids, count and GT (as after an evaluator fix): not the old board
    from sqlalchemy import update

    from poseval_refine.serve.db import Submission

    with db.session() as s:
        s.execute(update(Submission).where(Submission.method == "good-too").values(upload=predictions(30.0, 0.4)))
    for sid in admin.rerun(db, "coco-b"):
        run_submission(hosted["queue"], sid)
    swapped = kept(db, "public")
    assert swapped == reference(db, "public") and swapped != cached
    assert "red: good-too" not in {r[0] for r in swapped}

    # a GT fix: other numbers, and the kept board follows them
    gt = hosted["gt"]
    fixed = dict(gt, annotations=[dict(a, keypoints=[round(c + 3.0, 2) if i % 3 < 2 and a["keypoints"][i - i % 3 + 2]
                                                      else c for i, c in enumerate(a["keypoints"])])
                                  for a in gt["annotations"]])
    (hosted["tmp"] / "gt-fixed.json").write_text(json.dumps(fixed))
    for sid in admin.rerun(db, "coco-b", hosted["tmp"] / "gt-fixed.json"):
        run_submission(hosted["queue"], sid)
    after = kept(db, "public")
    assert after == reference(db, "public")
    assert [r[2] for r in after] != [r[2] for r in swapped]  # the numbers moved with the GT

    # a final choice before reveal leaves the public board as it is; the reveal shows the final choices
    with db.session() as s:
        red = admin.get_team(s, "red").id
    from sqlalchemy import select

    with db.session() as s:
        worse = s.execute(select(Submission.id).where(Submission.method == "worse")).scalar_one()
    assert admin.mark_final(db, red, worse) is None
    assert kept(db, "public") == after
    with pytest.raises(PermissionError):
        kept(db, "private")
    assert api_rows(db) == board.leaderboard_json(db, _bench(db))["rows"]
    ahead = board.board_view(db, _bench(db), "private", ahead=True)  # the server's warmer, before reveal
    admin.reveal(db, "coco-b")
    assert board.board_view(db, _bench(db), "private") is ahead  # kept: the reveal answers at once
    private = kept(db, "private")
    assert private == reference(db, "private")
    assert "red: worse" in {r[0] for r in private}
    revealed = api_rows(db)
    assert {(r["team"], r["method"], r["final"]) for r in revealed} >= {("red", "worse", True)}
    assert all("private" in r for r in revealed)
    board.forget()
    assert api_rows(db) == revealed and kept(db, "private") == private


# SQLite's query plan only: PostgreSQL's planner chooses by its statistics, so there is no plan to pin there
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_the_board_reads_only_the_covering_index_to_choose_and_to_check_its_key(hosted):
    """SQLite walks a row's overflow pages (its upload) to reach the columns after it: the board's two queries
    must be answered by ix_prt_submissions_board alone."""
    assert hosted["backend"] == "sqlite"
    import sqlite3

    from sqlalchemy import event

    from poseval_refine.serve import board

    db = hosted["db"]
    hosted["submit"]("red", "fair", hosted["predictions"](6.0, 0.8))
    seen = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _log(conn, cursor, statement, parameters, context, executemany):
        if "prt_submissions" in statement and "GROUP" not in statement:
            seen.append((statement, parameters))

    board.forget()
    board.board(db, _bench(db), "public")
    event.remove(db.engine, "before_cursor_execute", _log)
    con = sqlite3.connect(db.url.split("///", 1)[1])
    plans = []
    for statement, parameters in dict(seen).items():
        if "sum(" in statement.lower() or "public_primary" in statement:
            plans.append(" ".join(r[-1] for r in con.execute("EXPLAIN QUERY PLAN " + statement, parameters)))
    con.close()
    assert len(plans) == 2, seen
    for plan in plans:
        assert "USING COVERING INDEX ix_prt_submissions_board" in plan, plan


def test_migration_0002_gives_earlier_submissions_their_public_primary(tmp_path):
    need_serve_extra()
    import sqlite3

    from alembic import command
    from alembic.config import Config

    from poseval_refine.serve import db as serve_db

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(serve_db.__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0001")
    con = sqlite3.connect(tmp_path / "old.sqlite")
    con.execute("INSERT INTO prt_benchmarks (id, name, task, options, gt_name, gt_is_dir, gt_sha256, split, "
                "public_fraction, split_seed, max_upload_mb, created_at) VALUES (1, 'b', 'coco', '{}', 'gt.json', 0, "
                "'x', '{}', 0.5, 0, 50, '2026-01-01')")
    con.execute("INSERT INTO prt_teams (id, name, created_at) VALUES (1, 't', '2026-01-01')")
    for sid, status, ap in ((1, "done", 41.25), (2, "done", float("nan")), (3, "failed", None)):
        public = json.dumps({"headline": {"AP": ap, "AR": 50.0}}) if status == "done" else None
        con.execute("INSERT INTO prt_submissions (id, benchmark_id, team_id, method, filename, upload, size, sha256, "
                    "final, status, created_at, attempts, public) VALUES (?, 1, 1, 'm', 'r.json', x'00', 1, 'x', 0, ?, "
                    "'2026-01-01', 1, ?)", (sid, status, public))
    con.commit()
    con.close()
    serve_db.Database(url).close()  # upgrades to head, as prt serve does at start
    con = sqlite3.connect(tmp_path / "old.sqlite")
    got = dict(con.execute("SELECT id, public_primary FROM prt_submissions").fetchall())
    later = con.execute("SELECT public_resamples, private_resamples, resamples_stamp FROM prt_submissions").fetchall()
    con.close()
    assert got == {1: 41.25, 2: None, 3: None}
    assert later == [(None, None, None)] * 3  # migration 0003: computed later by the server's board warmer


def test_the_warmer_builds_the_shown_board_and_the_private_one_only_when_no_submission_waits(hosted):
    import time

    from poseval_refine.serve import admin, board
    from poseval_refine.serve.queue import run_submission

    db = hosted["db"]
    hosted["submit"]("red", "fair", hosted["predictions"](6.0, 0.8))
    with db.session() as s:
        green = admin.get_team(s, "green").id
    waiting = admin.create_submission(db, "coco-b", green, "later", "results.json", hosted["predictions"](2.0, 0.9),
                                      False)
    bench = _bench(db)

    def warm_once() -> None:
        w = board.BoardWarmer(db, every=60.0)
        w.start()
        deadline = time.monotonic() + 120
        while board.kept_view(bench.id, "public") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        w.stop()
        w.join(120)

    board.forget()
    warm_once()
    assert board.kept_view(bench.id, "public").key == board.state_key(db, bench, "public")
    assert board.kept_view(bench.id, "private") is None  # a submission waits: no private board yet
    run_submission(hosted["queue"], waiting)
    board.forget()
    warm_once()
    ahead = board.kept_view(bench.id, "private")
    assert ahead.key == board.state_key(db, bench, "private")
    assert [(r.method, r.rank, r.value, r.ci95, r.tied_with, r.tie_ranks, r.metrics) for r in ahead.board.rows] == \
        reference(db, "private")


def afresh(db, part: str, cache: Path):
    """The board of ``part`` as the server built it before the workers stored resamples: every chosen
    submission's row entry computed from its stored JSON (prt's results cache emptied first), then ranked."""
    import os

    from sqlalchemy import select

    from poseval_refine.results.board import build_boards
    from poseval_refine.results.store import StoredResult
    from poseval_refine.serve.board import chosen
    from poseval_refine.serve.db import Submission

    bench = _bench(db)
    os.environ["PRT_CACHE"] = str(cache)  # a new empty folder (the fixture restores it): every bootstrap computed

    results = []
    for p in chosen(db, bench, part):
        with db.session() as s:
            content = s.execute(select(getattr(Submission, part)).where(Submission.id == p.id)).scalar_one()
        data = dict(content, method=f"{p.team}: {p.method}", benchmark=bench.name, source="user", base=None)
        results.append(StoredResult(data, Path(f"submission-{p.id}"), "user", in_memory=True))
    return build_boards(results, benchmark=bench.name, quoted=False, resamples=1000, seed=0)[0]


def _same_board(stored, fresh) -> None:
    """Bit for bit: the board's JSON (values, intervals, notes, ranks, tied_with), each row's resamples of the
    primary metric, and the page prt draws from it."""
    import orjson

    from poseval_refine.render.html import render_page

    assert orjson.dumps(stored.as_dict()) == orjson.dumps(fresh.as_dict())
    for a, b in zip(stored.rows, fresh.rows):
        assert a._resampled[stored.metric].tobytes() == b._resampled[fresh.metric].tobytes()
    assert render_page([stored]) == render_page([fresh])


def test_the_board_from_the_workers_resamples_is_the_board_resampled_afresh(hosted, monkeypatch):
    """The worker stores each part's resamples with its numbers; the board ranks from them without one
    bootstrap (the results cache's computation is made to fail), and equals the board computed the old way on
    both parts, before and after reveal. Submissions stored before migration 0003 (no resamples) are ranked
    through the cache, and the warmer stores for them exactly the bytes a worker stores."""
    from sqlalchemy import select, update

    from poseval_refine.results import board as results_board
    from poseval_refine.serve import admin, board
    from poseval_refine.serve.db import Submission

    db, submit, predictions, tmp = hosted["db"], hosted["submit"], hosted["predictions"], hosted["tmp"]
    good = predictions(1.0, 0.95)
    submit("red", "fair", predictions(6.0, 0.8))
    submit("red", "good", good)
    submit("green", "good", good)  # the same numbers as red's best: tied
    submit("green", "noisy", predictions(12.0, 0.7))
    submit("blue", "poor", predictions(25.0, 0.5))
    with db.session() as s:
        stored = dict(s.execute(select(Submission.id, Submission.public_resamples)).all())
        stamps = set(s.execute(select(Submission.resamples_stamp)).scalars())
        red = admin.get_team(s, "red").id
        fair = s.execute(select(Submission.id).where(Submission.method == "fair")).scalar_one()
    assert all(stored.values()) and stamps == {board.resamples_stamp()}
    assert admin.mark_final(db, red, fair) is None

    def no_bootstrap(*a, **k):
        raise AssertionError("a board request resampled")

    bench = _bench(db)
    with monkeypatch.context() as m:
        m.setattr(results_board, "row_entry", no_bootstrap)
        board.forget()
        public, _ = board.board(db, bench, "public")
        ahead = board.board_view(db, bench, "private", ahead=True).board
    _same_board(public, afresh(db, "public", tmp / "c1"))
    _same_board(ahead, afresh(db, "private", tmp / "c2"))
    assert [r.tied_with for r in public.rows][:2] == [["red: good"], ["green: good"]]
    admin.reveal(db, "coco-b")
    with monkeypatch.context() as m:
        m.setattr(results_board, "row_entry", no_bootstrap)
        board.forget()
        private, _ = board.board(db, _bench(db), "private")
        rows = board.leaderboard_json(db, _bench(db))["rows"]
    _same_board(private, afresh(db, "private", tmp / "c3"))
    assert "red: fair" in {r.method for r in private.rows} and len(rows) == 3

    # submissions done before migration 0003: no resamples; ranked through the cache, the same board
    with db.session() as s:
        s.execute(update(Submission).values(public_resamples=None, private_resamples=None, resamples_stamp=None))
    board.forget()
    _same_board(board.board(db, _bench(db), "private")[0], private)
    board.BoardWarmer(db).fill(_bench(db))  # what the server's warmer does first in each round
    with db.session() as s:
        again = dict(s.execute(select(Submission.id, Submission.public_resamples)
                               .where(Submission.public_resamples.is_not(None))).all())
    picks = {p.id for part in ("public", "private") for p in board.chosen(db, _bench(db), part)}
    assert set(again) == picks and all(again[i] == stored[i] for i in picks)
    with monkeypatch.context() as m:
        m.setattr(results_board, "row_entry", no_bootstrap)
        board.forget()
        _same_board(board.board(db, _bench(db), "private")[0], private)
