"""Running ``prt serve`` / ``prt worker`` as real processes for tests/test_serve*.py: free loopback ports,
start and wait, kill -9, HTTP calls with the standard library, and a look into the SQLite database."""

from __future__ import annotations

import contextlib
import io
import json
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
    """``prt serve --root ROOT`` on a free port (or a ``prt worker``), killed at the end."""

    def __init__(self, root: Path, workers: int = 1, lease: float = 2.0, **extra_env):
        self.root, self.workers, self.lease, self.extra_env = Path(root), workers, lease, extra_env
        self.port = free_port()
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra_env) -> Server:
        log = open(self.root.parent / f"server-{self.port}-{time.monotonic_ns()}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "poseval_refine.cli", "serve", "--root", str(self.root), "--port", str(self.port),
             "--workers", str(self.workers), "--lease", str(self.lease)],
            stdout=log, stderr=subprocess.STDOUT, env=env(**{**self.extra_env, **extra_env}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"prt serve exited {self.proc.returncode}: {Path(log.name).read_text()}")
            try:
                if get(self.url + "/api/benchmarks")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("prt serve did not answer within 60 s")

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()


def start_worker(root: Path, lease: float = 2.0, **extra_env) -> subprocess.Popen:
    log = open(Path(root).parent / f"worker-{time.monotonic_ns()}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "poseval_refine.cli", "worker", "--root", str(root), "--lease",
                             str(lease)], stdout=log, stderr=subprocess.STDOUT, env=env(**extra_env))


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


def db_rows(root: Path, sql: str, *args) -> list[tuple]:
    con = sqlite3.connect(Path(root) / "prt-serve.sqlite", timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()
