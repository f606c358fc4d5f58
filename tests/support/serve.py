"""Running ``prt serve`` / ``prt worker`` as real processes for tests/test_serve*.py: free loopback ports,
start and wait, kill -9, HTTP calls with the standard library, and a look into the database — the SQLite file
in ``--root DIR``, or a PostgreSQL database (``--db URL``, a fresh one per test module from the ``pg_cluster``
fixture of tests/conftest.py)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def need_serve_extra():
    """The serve extra's packages; missing: a local run skips, CI fails."""
    missing = []
    for m in ("sqlalchemy", "alembic", "starlette", "uvicorn", "huey", "peewee", "python_multipart"):
        try:
            __import__(m)
        except ImportError:
            missing.append(m)
    if missing:
        msg = f"prt serve needs {', '.join(missing)} (pip install -e '.[serve]')"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail("CI must install the serve extra: " + msg)
        pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e.pop("PRT_SERVE_EVAL_DELAY", None)
    e.update({k: str(v) for k, v in extra.items()})
    return e


def prt(*args, check=True, **extra_env) -> subprocess.CompletedProcess:
    """``prt ARGS`` as a process of its own (as a user runs it)."""
    r = subprocess.run([sys.executable, "-m", "poseval_refine.cli", *map(str, args)], capture_output=True,
                       text=True, env=env(**extra_env), timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f"prt {' '.join(map(str, args))} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def prt_here(*args, stderr: bool = False):
    """``prt ARGS`` in this process (no interpreter to start): its exit code (0 for None) and stdout (and
    stderr, with ``stderr=True``)."""
    from poseval_refine.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args]) or 0
    return (code, out.getvalue(), err.getvalue()) if stderr else (code, out.getvalue())


class Server:
    """``prt serve --root ROOT [--db URL]`` on a free port, killed at the end. With a PostgreSQL ``db`` and
    ``pg_workers`` (the scaled-out form of issue 31), the server runs with ``--workers 0`` and that many
    ``prt worker --db URL`` processes of their own evaluate."""

    def __init__(self, root: Path, workers: int = 1, lease: float = 2.0, db: str | None = None,
                 pg_workers: int = 0, **extra_env):
        self.root, self.workers, self.lease, self.extra_env = Path(root), workers, lease, extra_env
        self.db = db
        self.pg_workers = pg_workers if db else 0
        if self.pg_workers:
            self.workers = 0
        self.port = free_port()
        self.proc = None
        self.worker_procs: list[subprocess.Popen] = []

    @property
    def db_args(self) -> list[str]:
        """The database options of every ``prt serve`` / ``admin`` command for this server: ``--db URL`` alone on
        PostgreSQL (no folder: uploads and the hidden GT live in the database), else ``--root DIR``."""
        return ["--db", self.db] if self.db else ["--root", str(self.root)]

    @property
    def database(self) -> Path | str:
        """What ``db_rows`` reads: the PostgreSQL URL, else the server's folder (its SQLite file)."""
        return self.db or self.root

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra_env) -> Server:
        log = open(self.root.parent / f"server-{self.port}-{time.monotonic_ns()}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "poseval_refine.cli", "serve", *self.db_args, "--port", str(self.port),
             "--workers", str(self.workers), "--lease", str(self.lease)],
            stdout=log, stderr=subprocess.STDOUT, env=env(**{**self.extra_env, **extra_env}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"prt serve exited {self.proc.returncode}: {Path(log.name).read_text()}")
            try:
                if get(self.url + "/api/benchmarks")[0] == 200:
                    self.worker_procs = [p for p in self.worker_procs if p.poll() is None]
                    while len(self.worker_procs) < self.pg_workers:
                        self.worker_procs.append(start_worker(self.root, lease=self.lease, db=self.db,
                                                              **{**self.extra_env, **extra_env}))
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("prt serve did not answer within 60 s")

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        stop_processes([*self.worker_procs, *([self.proc] if self.proc is not None else [])])


def stop_processes(procs: list[subprocess.Popen]) -> None:
    """SIGTERM to all at once, then SIGKILL to those still running after 20 s."""
    live = [p for p in procs if p.poll() is None]
    for p in live:
        p.terminate()
    deadline = time.monotonic() + 20
    for p in live:
        try:
            p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(30)


def start_worker(root: Path, lease: float = 2.0, db: str | None = None, threads: int = 1,
                 **extra_env) -> subprocess.Popen:
    """``prt worker``: on ``--db URL`` alone when a database URL is given (what a worker on another machine
    has), else on the server's ``--root``. Its log is ``worker-*.log`` beside ``root``."""
    log = open(Path(root).parent / f"worker-{time.monotonic_ns()}.log", "w")
    where = ["--db", db] if db else ["--root", str(root)]
    proc = subprocess.Popen([sys.executable, "-m", "poseval_refine.cli", "worker", *where, "--lease", str(lease),
                             "--threads", str(threads)],
                            stdout=log, stderr=subprocess.STDOUT, env=env(**extra_env))
    proc.log_path = Path(log.name)
    return proc


def request(url: str, *, data: bytes | None = None, headers: dict | None = None, method: str | None = None,
            opener=None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with (opener.open(req, timeout=60) if opener else urllib.request.urlopen(req, timeout=60)) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get(url: str, token: str | None = None) -> tuple[int, dict]:
    status, _, body = request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"raw": body.decode("utf-8", "replace")}


def multipart(fields: dict, filename: str, data: bytes, boundary: str = "testboundary123") -> tuple[str, bytes]:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def post_submission(url: str, bench: str, token: str, filename: str, data: bytes, method: str = "m",
                    final: bool = False) -> tuple[int, dict]:
    ctype, body = multipart({"method": method, "final": "1" if final else "0"}, filename, data)
    status, _, reply = request(f"{url}/api/benchmarks/{bench}/submissions", data=body,
                               headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})
    return status, json.loads(reply)


def wait_for(url: str, sid: int, token: str, states=("done", "failed"), timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = get(f"{url}/api/submissions/{sid}", token)
        assert status == 200, body
        if body["status"] in states:
            return body
        time.sleep(0.2)
    raise AssertionError(f"submission {sid} still {body['status']} after {timeout} s")


def db_rows(database: Path | str, sql: str, *args) -> list[tuple]:
    """Rows of ``sql`` (``?`` placeholders) read straight from the server's database: ``Server.database``, a
    PostgreSQL URL or the folder of the SQLite file. Booleans come back as 0/1 on SQLite and False/True on
    PostgreSQL (equal in Python); JSON columns as text on SQLite, decoded on PostgreSQL (``as_json``)."""
    if isinstance(database, str) and database.startswith("postgres"):
        import psycopg2

        con = psycopg2.connect(database)
        try:
            with con.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), args)
                return cur.fetchall()
        finally:
            con.close()
    con = sqlite3.connect(Path(database) / "prt-serve.sqlite", timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def as_json(value):
    """A JSON column's value as ``db_rows`` gives it (text on SQLite, decoded on PostgreSQL), decoded."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def database_bytes(database: Path | str) -> bytes:
    """Everything stored: the SQLite file's bytes (and its WAL's), or a ``pg_dump`` of the PostgreSQL database."""
    if isinstance(database, str) and database.startswith("postgres"):
        from .pgcluster import pg_bin_dir

        r = subprocess.run([str(pg_bin_dir() / "pg_dump"), "--dbname", database], capture_output=True,
                           timeout=120, check=True)
        return r.stdout
    # the file and its write-ahead log (recent writes stay there until a checkpoint)
    files = [Path(database) / "prt-serve.sqlite", Path(database) / "prt-serve.sqlite-wal"]
    return b"".join(f.read_bytes() for f in files if f.exists())


def admin(server: Server, *args) -> str:
    """``prt serve admin ARGS`` against ``server``'s database, in this process; its output (exit 0 asserted)."""
    code, out = prt_here("serve", "admin", *args, *server.db_args)
    assert code == 0, out
    return out


def add_team(server: Server, name: str) -> str:
    """A new team's API token, as ``prt serve admin add-team`` prints it once."""
    token = admin(server, "add-team", name).strip()
    assert token.startswith("prt_") and len(token) > 40
    return token


def nan_free(d: dict) -> dict:
    """Headline numbers as the server's JSON gives them: NaN written as null."""
    return {k: None if v is None or (isinstance(v, float) and math.isnan(v)) else v for k, v in d.items()}
