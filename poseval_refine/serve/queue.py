"""Evaluation of submissions on Huey, whose queue lives in the server's own database.

The queue engine is Huey with its SQL storage (``huey.contrib.sql_huey``, on peewee): the same tables in
the same database on SQLite and PostgreSQL, no broker (docs/serve.md argues the choice). Huey delivers a
message at most once (a worker deletes it when it takes it), so the submission row, not the message, is
the truth: a worker *claims* a submission with a conditional UPDATE (queued -> running, its id and a
heartbeat), renews the heartbeat while it evaluates and writes the numbers in the same conditional way.
A worker killed mid-evaluation stops its heartbeat; after ``lease`` seconds any worker's reaper puts the
submission back to queued and sends it again. Duplicate messages are harmless: the claim lets one through.
So a submission acknowledged with 202 is evaluated and its numbers written exactly once, whoever dies.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update

from ..errors import PrtError
from .archives import EXPANSION
from .db import DONE, FAILED, QUEUED, RUNNING, Benchmark, Database, GtFile, Submission, is_sqlite, utcnow

log = logging.getLogger("prt.serve")

#: seconds without a heartbeat after which a running submission's worker is taken for dead
DEFAULT_LEASE = 30.0
#: a queued submission whose message was sent this long ago is sent again (a message lost with a process
#: killed between the commit and the send)
RESEND_AFTER = timedelta(minutes=2)
QUEUE_NAME = "prt-serve"


def peewee_database(url: str):
    """Huey's storage connection to the same database (peewee speaks SQLite and PostgreSQL)."""
    from playhouse.db_url import connect

    if is_sqlite(url):
        from peewee import SqliteDatabase

        from .db import SQLITE_BUSY_MS

        path = url.split("///", 1)[1]
        return SqliteDatabase(path, timeout=SQLITE_BUSY_MS / 1000,
                              pragmas={"journal_mode": "wal", "busy_timeout": SQLITE_BUSY_MS})
    from .db import PG_DRIVERS

    scheme, rest = url.split("://", 1)  # postgresql+DRIVER:// (db.normalize_url) -> peewee's scheme of DRIVER
    return connect(PG_DRIVERS[scheme.split("+", 1)[1]] + "://" + rest)


class Queue:
    """The Huey instance on ``url`` with the evaluation task registered, and the database it evaluates from."""

    def __init__(self, db: Database, lease: float = DEFAULT_LEASE, eval_timeout: float | None = None):
        from huey.contrib.sql_huey import SqlHuey

        self.db = db
        self.lease = float(lease)
        #: seconds one evaluation may take (None: no limit; ``serve.timelimit``)
        self.eval_timeout = eval_timeout
        self.huey = SqlHuey(QUEUE_NAME, database=peewee_database(db.url), results=False, utc=True,
                            create_tables=False)
        self._create_tables()
        self.gt_cache = GtCache(db)
        queue = self

        @self.huey.task(name="evaluate_submission")
        def evaluate_submission(submission_id: int):
            run_submission(queue, submission_id)

        self.task = evaluate_submission

    def _create_tables(self) -> None:
        """Huey's tables (``CREATE TABLE IF NOT EXISTS``), one process at a time: two processes creating them
        at once on PostgreSQL collide in its catalog, so the creation holds an advisory lock there."""
        if self.db.engine.dialect.name != "postgresql":
            self.huey.storage.create_tables()
            return
        with self.db.engine.connect() as c:
            c.exec_driver_sql("SELECT pg_advisory_lock(2826029)")
            try:
                self.huey.storage.create_tables()
            finally:
                c.exec_driver_sql("SELECT pg_advisory_unlock(2826029)")
                c.commit()

    def send(self, submission_id: int) -> None:
        self.task(submission_id)

    def recover(self, *, everything: bool = False) -> list[int]:
        """Put submissions whose worker stopped heartbeating back in the queue, and send again those whose
        message may be lost (``everything``: every queued one, as at a worker's start). Returns their ids."""
        now = utcnow()
        stale = now - timedelta(seconds=self.lease)
        with self.db.session() as s:
            dead = _requeue_dead(s, stale, now)
            cond = [Submission.status == QUEUED]
            if not everything:
                cond.append(or_(Submission.enqueued_at.is_(None), Submission.enqueued_at < now - RESEND_AFTER))
            lost = s.execute(select(Submission.id).where(*cond)).scalars().all()
            if lost:
                s.execute(update(Submission).where(Submission.id.in_(lost)).values(enqueued_at=now))
        ids = sorted(set(dead) | set(lost))
        for sid in ids:
            self.send(sid)
        if dead:
            log.warning("submissions %s: their worker stopped (no heartbeat for %gs); queued again", dead, self.lease)
        return ids


def _requeue_dead(s, stale, now) -> list[int]:
    ids = s.execute(select(Submission.id).where(Submission.status == RUNNING, Submission.heartbeat_at < stale)
                    ).scalars().all()
    if ids:
        s.execute(update(Submission).where(Submission.id.in_(ids)).values(status=QUEUED, worker=None,
                                                                          enqueued_at=now))
    return ids


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def _claim(db: Database, sid: int, me: str, lease: float) -> bool:
    now = utcnow()
    stale = now - timedelta(seconds=lease)
    with db.session() as s:
        n = s.execute(update(Submission).where(
            Submission.id == sid,
            or_(Submission.status == QUEUED, (Submission.status == RUNNING) & (Submission.heartbeat_at < stale)))
            .values(status=RUNNING, worker=me, heartbeat_at=now, started_at=now,
                    attempts=Submission.attempts + 1)).rowcount
    return n == 1


class _Heartbeat(threading.Thread):
    def __init__(self, db: Database, sid: int, me: str, every: float):
        super().__init__(daemon=True, name=f"prt-heartbeat-{sid}")
        self.db, self.sid, self.me, self.every = db, sid, me, every
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(self.every):
            try:
                with self.db.session() as s:
                    s.execute(update(Submission).where(Submission.id == self.sid, Submission.worker == self.me)
                              .values(heartbeat_at=utcnow()))
            except Exception:  # a busy database: the next beat tries again
                log.exception("heartbeat of submission %s", self.sid)


def run_submission(queue: Queue, sid: int) -> None:
    """Claim, evaluate and record one submission (nothing when another worker has it or it is done)."""
    db = queue.db
    me = worker_id()
    if not _claim(db, sid, me, queue.lease):
        return
    beat = _Heartbeat(db, sid, me, max(queue.lease / 4, 0.2))
    beat.start()
    try:
        outcome = evaluate_submission(queue, sid)
    except Exception as e:  # not the submitter's fault: keep the worker alive, say so
        log.exception("submission %s", sid)
        outcome = {"status": FAILED, "error": f"internal error while evaluating ({type(e).__name__}); "
                                              "the server's log has the details"}
    finally:
        beat.stop.set()
    with db.session() as s:
        n = s.execute(update(Submission).where(Submission.id == sid, Submission.worker == me,
                                               Submission.status == RUNNING)
                      .values(worker=None, finished_at=utcnow(), heartbeat_at=None, **outcome)).rowcount
    if n != 1:
        log.warning("submission %s was taken over by another worker; this result is dropped", sid)


def evaluate_submission(queue: Queue, sid: int) -> dict:
    """The evaluation itself: the upload unpacked, checked, evaluated on the public and the private items."""
    from ..results.store import make_result
    from .archives import extract, kind
    from .board import primary_value
    from .splits import prediction_root
    from .timelimit import evaluate_in_time

    db = queue.db
    with db.session() as s:
        sub = s.get(Submission, sid)
        bench = s.get(Benchmark, sub.benchmark_id)
        upload, filename, method, team = sub.upload, sub.filename, sub.method, sub.team_id
        bench_id, task, options, split, name = bench.id, bench.task, dict(bench.options), bench.split, bench.name
        max_bytes = int(bench.max_upload_mb * 1e6 * EXPANSION)
    gt, gt_sha = queue.gt_cache.path(bench_id)
    delay = float(os.environ.get("PRT_SERVE_EVAL_DELAY") or 0)
    if delay > 0:  # a testing aid: makes "kill -9 mid-evaluation" hit (docs/serve.md)
        time.sleep(delay)
    with tempfile.TemporaryDirectory(prefix="prt-sub-") as tmp:
        root = Path(tmp) / "upload"
        root.mkdir()
        try:
            if kind(upload) is not None:
                extract(upload, filename, root, max_bytes)
                pred = prediction_root(root)
            else:
                pred = root / filename
                pred.write_bytes(upload)
            results = evaluate_in_time(task, options, gt, pred, split, filename, queue.eval_timeout)
            parts = {p: make_result(method, task, data, benchmark=name, inputs={}, options=used, source="user",
                                    command=["prt", "serve"]) for p, (data, used) in results.items()}
        except PrtError as e:
            return {"status": FAILED, "error": scrub(e.message, filename)}
    log.info("submission %s (team %s) evaluated", sid, team)
    return {"status": DONE, "error": None, "public": parts["public"], "private": parts["private"],
            "public_primary": primary_value(parts["public"], task), "gt_sha256": gt_sha}


def scrub(message: str, filename: str) -> str:
    """An error message as the submitter may read it: the worker's temporary paths become the submitter's own
    names (the upload's file, its archive's files) and ``GT``; nothing says which part an item is in."""
    tmp = re.escape(tempfile.gettempdir().rstrip(os.sep))
    rules = [
        (rf"{tmp}/prt-part-\w+/pred/", ""),
        (rf"{tmp}/prt-part-\w+/pred\.(json|h5|mat)", filename.replace("\\", "/")),
        (rf"{tmp}/prt-part-\w+/gt/", "GT "),
        (rf"{tmp}/prt-part-\w+/gt\.(json|h5|mat)", "GT"),
        (rf"{tmp}/prt-sub-\w+/upload/", ""),
        (rf"{tmp}/prt-serve-gt-[\w-]+/[^/\s]+/", "GT "),
    ]
    for pattern, repl in rules:
        message = re.sub(pattern, lambda _m, r=repl: r, message)
    return message


def _remove_stale_caches() -> None:
    """GT copies left by processes that were killed (``kill -9`` runs no atexit): removed when their process
    is gone."""
    for d in Path(tempfile.gettempdir()).glob("prt-serve-gt-*-*"):
        try:
            pid = int(d.name.split("-")[3])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (ValueError, IndexError, PermissionError, OSError):
            continue


class GtCache:
    """Each benchmark's hidden GT, written from the database to a private temporary folder once per process
    (and again after a GT fix: keyed by its SHA-256)."""

    def __init__(self, db: Database):
        self.db = db
        self.lock = threading.Lock()
        self.paths: dict[int, tuple[str, Path]] = {}
        _remove_stale_caches()
        self.dir = Path(tempfile.mkdtemp(prefix=f"prt-serve-gt-{os.getpid()}-"))  # mode 0700: the owner's only
        atexit.register(shutil.rmtree, self.dir, True)

    def path(self, bench_id: int) -> tuple[Path, str]:
        with self.lock:
            with self.db.session() as s:
                b = s.get(Benchmark, bench_id)
                sha, gt_name, is_dir = b.gt_sha256, b.gt_name, b.gt_is_dir
            have = self.paths.get(bench_id)
            if have is not None and have[0] == sha:
                return have[1], sha
            where = self.dir / f"{bench_id}-{sha[:16]}"
            if where.exists():
                shutil.rmtree(where)
            where.mkdir()
            with self.db.session() as s:
                for f in s.execute(select(GtFile).where(GtFile.benchmark_id == bench_id)).scalars():
                    target = where / gt_name / f.path if is_dir else where / gt_name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(f.content)
            self.paths[bench_id] = (sha, where / gt_name)
            return where / gt_name, sha


# ----------------------------------------------------------------------------- running workers
class _InProcessConsumer:
    """Huey's consumer in threads of the calling process, with the process's own signal handling
    (uvicorn's, in ``prt serve``), plus the reaper that re-sends submissions of dead workers."""

    def __init__(self, queue: Queue, workers: int, install_signals: bool):
        from huey.consumer import Consumer

        class _Consumer(Consumer):
            def _set_signal_handlers(self):
                if install_signals:
                    super()._set_signal_handlers()

        self.queue = queue
        self.consumer = _Consumer(queue.huey, workers=workers, worker_type="thread", periodic=False,
                                  initial_delay=0.05, backoff=1.3, max_delay=0.5, check_worker_health=True)
        self.stop_flag = threading.Event()
        self.reaper = threading.Thread(target=self._reap, daemon=True, name="prt-reaper")

    def _reap(self):
        while not self.stop_flag.wait(max(self.queue.lease / 2, 0.2)):
            try:
                self.queue.recover()
            except Exception:
                log.exception("reaper")

    def start(self):
        self.queue.recover(everything=True)
        self.consumer.start()
        self.reaper.start()

    def stop(self):
        self.stop_flag.set()
        self.consumer.stop(graceful=False)


def start_workers(queue: Queue, workers: int) -> _InProcessConsumer:
    """``prt serve --workers N``: N evaluation threads in the server process (no signal handlers of Huey's)."""
    c = _InProcessConsumer(queue, workers, install_signals=False)
    c.start()
    return c


def run_worker(queue: Queue, threads: int = 1) -> None:
    """``prt worker``: Huey's consumer in the foreground until SIGINT/SIGTERM."""
    c = _InProcessConsumer(queue, threads, install_signals=True)
    c.queue.recover(everything=True)
    c.reaper.start()
    try:
        c.consumer.run()
    finally:
        c.stop_flag.set()
