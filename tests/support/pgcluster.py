"""A throwaway PostgreSQL cluster for tests and benchmarks: ``initdb`` into a temporary folder, ``pg_ctl``
start on a free loopback port (trust authentication, durability off: the data dies with the cluster), a
fresh database per caller, ``pg_ctl stop -m immediate`` and the folder removed at the end.

Used by tests/conftest.py (the ``pg_cluster`` fixture, one cluster per test session) and importable by
benchmarks (``from tests.support.pgcluster import PgCluster``)::

    with PgCluster.start() as cluster:
        url = cluster.create_database()      # postgresql://postgres@127.0.0.1:PORT/prt_1
        ...                                   # prt serve --db URL / prt worker --db URL

Run as root (as CI containers do), the server runs as the ``postgres`` user (PostgreSQL refuses root);
otherwise as the calling user. The binaries are looked for on PATH, then in /usr/lib/postgresql/*/bin
(Debian's ``postgresql`` package puts them there).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: settings for a cluster whose data need not survive a crash: faster commits, enough connections for
#: several servers and workers, each with its pool
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
    "listen_addresses": "'127.0.0.1'",
}


class PgUnavailable(RuntimeError):
    """PostgreSQL's server binaries (initdb, pg_ctl) are not installed, or the cluster would not start."""


def pg_bin_dir(path: str | None = None, debian: Path = Path("/usr/lib/postgresql")) -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH (or ``path``) first, then Debian's newest version
    under ``debian``; None when neither has them."""
    found = shutil.which("initdb", path=path)
    if found and shutil.which("pg_ctl", path=path):
        return Path(os.path.realpath(found)).parent
    versions = sorted((p.parent for p in debian.glob("*/bin/initdb") if (p.parent / "pg_ctl").exists()),
                      key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0)
    return versions[-1] if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """A running throwaway cluster; ``url(db)`` for a database in it, ``create_database()`` for a fresh one."""

    def __init__(self, base: Path, bindir: Path, port: int, run_as: str | None):
        self.base, self.bindir, self.port, self.run_as = base, bindir, port, run_as
        self.datadir = base / "data"
        self._names = itertools.count(1)
        self._running = False

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def start(cls, base: str | Path | None = None) -> PgCluster:
        """initdb + pg_ctl start in a new temporary folder (inside ``base`` when given); raises PgUnavailable
        with the reason when PostgreSQL is missing or does not start."""
        bindir = pg_bin_dir()
        if bindir is None:
            raise PgUnavailable("PostgreSQL's initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin "
                                "(apt-get install postgresql)")
        run_as = None
        if os.geteuid() == 0:  # postgres refuses to run as root
            run_as = "postgres"
            try:
                import pwd

                pw = pwd.getpwnam(run_as)
            except KeyError:
                raise PgUnavailable("running as root, and there is no 'postgres' user to run PostgreSQL as") from None
        top = Path(tempfile.mkdtemp(prefix="prt-pg-", dir=base))
        if run_as:
            os.chown(top, pw.pw_uid, pw.pw_gid)
        cluster = cls(top, bindir, _free_port(), run_as)
        try:
            cluster._initdb()
            cluster._pg_ctl_start()
        except BaseException:
            cluster.stop()
            raise
        atexit.register(cluster.stop)
        return cluster

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.base,
                           env={**os.environ, "LC_ALL": "C.UTF-8"})
        if r.returncode != 0:
            raise PgUnavailable(f"{' '.join(cmd)} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def _initdb(self) -> None:
        self._run(self.bindir / "initdb", "-D", self.datadir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        with open(self.datadir / "postgresql.conf", "a") as f:
            for k, v in {**FAST_SETTINGS, "port": str(self.port), "unix_socket_directories": f"'{self.base}'"}.items():
                f.write(f"{k} = {v}\n")

    def _pg_ctl_start(self) -> None:
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            try:
                self._run(self.bindir / "pg_ctl", "-D", self.datadir, "-l", self.base / "server.log", "-w",
                          "-t", "60", "start")
                self._running = True
                return
            except PgUnavailable:
                if attempt == 2:
                    log = self.base / "server.log"
                    raise PgUnavailable("PostgreSQL did not start: " +
                                        (log.read_text()[-2000:] if log.exists() else "no log")) from None
                self.port = _free_port()
                with open(self.datadir / "postgresql.conf", "a") as f:
                    f.write(f"port = {self.port}\n")
                time.sleep(0.5)

    def stop(self) -> None:
        """Stop the server at once (its data is thrown away) and remove the folder."""
        if self._running:
            self._running = False
            try:
                self._run(self.bindir / "pg_ctl", "-D", self.datadir, "-m", "immediate", "-w", "stop", timeout=60)
            except (PgUnavailable, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ databases
    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL (no driver named: prt picks the installed one) for ``database``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(sql)
        finally:
            con.close()

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (named ``prt_N`` unless given); returns its URL."""
        name = name or f"prt_{os.getpid()}_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever still holds connections to it."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
