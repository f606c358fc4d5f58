"""The server's database: tables (SQLAlchemy 2), engines for SQLite and PostgreSQL, and schema migrations.

Everything the server and its workers share lives here, so a worker on another machine needs only the
database URL: benchmarks with their hidden GT files and split, teams with hashed tokens, submissions with
their uploaded bytes, state and numbers. The schema is made and upgraded by the Alembic migrations shipped
in ``poseval_refine/serve/migrations`` (run by ``prt serve``, ``prt worker`` and every ``admin`` command).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from ..errors import ConfigError

#: the SQLite file ``--root DIR`` holds when no ``--db`` is given
DB_FILE = "prt-serve.sqlite"
#: how long a SQLite connection waits for another's write lock before giving up (ms)
SQLITE_BUSY_MS = 30000


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Server-wide values every process must agree on (the session-cookie signing key)."""

    __tablename__ = "prt_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Benchmark(Base):
    __tablename__ = "prt_benchmarks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    task: Mapped[str] = mapped_column(String(32))
    #: the task options every submission is evaluated with (``prt evaluate``'s flags, as keywords)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the GT's own name (a file name, or a folder's name): what the GT files below are relative to
    gt_name: Mapped[str] = mapped_column(String(255))
    gt_is_dir: Mapped[bool] = mapped_column(Boolean, default=False)
    gt_sha256: Mapped[str] = mapped_column(String(64))
    #: {"public": [items], "private": [items]}: the split, fixed when the benchmark is added
    split: Mapped[dict] = mapped_column(JSON)
    public_fraction: Mapped[float] = mapped_column(Float)
    split_seed: Mapped[int] = mapped_column(Integer)
    daily_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_upload_mb: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revealed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class GtFile(Base):
    """One file of a benchmark's hidden GT (a folder's files are relative paths). Never served."""

    __tablename__ = "prt_gt_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("prt_benchmarks.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(1000))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Team(Base):
    __tablename__ = "prt_teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: SHA-256 (hex) of the team's API token; the token itself is shown once and never stored
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


#: submission states; the limits count every state but ``failed``
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)


class Submission(Base):
    __tablename__ = "prt_submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("prt_benchmarks.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("prt_teams.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    upload: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    #: when a queue message was last sent for it (a queued submission without a message is sent again)
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: the claim of a running evaluation: which worker, and when it last said it is alive
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: the result content (``make_result``: numbers and per-item statistics) on the public / private items
    public: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    private: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: the GT these numbers are on (a rerun after a GT fix recomputes the others)
    gt_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the task's primary metric on the public part (None: not a number), written with the numbers: the boards
    #: choose each team's submission from it and the index below without reading any result JSON
    public_primary: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: what the boards need of each part's numbers, computed by the worker with them (serve.board.pack_entry:
    #: the bootstrap resamples of the primary metric as float64 bytes, the intervals, the note), so no board
    #: request and no board rebuild resamples; ``resamples_stamp`` names the code and draws they were computed
    #: with (another one: the server's board warmer computes them again). Migration 0003.
    public_resamples: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    private_resamples: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    resamples_stamp: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (UniqueConstraint("id", "team_id"),
                      # every column serve/board.py's choice and cache key read (migration 0002)
                      Index("ix_prt_submissions_board", "benchmark_id", "status", "team_id", "id", "public_primary",
                            "attempts", "final", "finished_at", "method"))


# ----------------------------------------------------------------------------- engines
def database_url(root: str | Path | None, db: str | None) -> str:
    """``--db URL``, else the SQLite file in ``--root DIR`` (made if missing)."""
    if db:
        return normalize_url(db)
    if root is None:
        raise ConfigError("give --root DIR (the server's folder; its SQLite file is the database) or --db URL")
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"--root {root} is a file, not a folder", fix="give a folder for the server's files")
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(root / DB_FILE).resolve()}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


#: PostgreSQL drivers, preferred first: SQLAlchemy's dialect name and peewee's URL scheme for each. psycopg2
#: (the serve extra's psycopg2-binary) is the one the suite runs on; psycopg 3 is used only when it is the
#: only one installed
PG_DRIVERS = {"psycopg2": "postgresql", "psycopg": "psycopg3"}


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` with the PostgreSQL driver that is installed named
    (``postgresql+psycopg://`` or ``postgresql+psycopg2://``), so SQLAlchemy and Huey's peewee use the same."""
    import importlib.util

    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"--db {url!r} is not a database URL",
                          fix="e.g. postgresql://user@host/prt, or sqlite:////abs/path/prt.sqlite")
    if scheme in ("postgres", "postgresql"):
        found = next((d for d in PG_DRIVERS if importlib.util.find_spec(d) is not None), None)
        if found is None:
            raise ConfigError("--db postgresql://... needs a PostgreSQL driver, and none is installed",
                              fix="pip install 'poseval-refine[serve]' (it brings psycopg2-binary)")
        return f"postgresql+{found}://{rest}"
    if scheme.startswith("postgresql+") and scheme.split("+", 1)[1] not in PG_DRIVERS:
        raise ConfigError(f"--db: the driver {scheme.split('+', 1)[1]!r} is not supported by the queue (peewee)",
                          fix="use postgresql+psycopg:// or postgresql+psycopg2://")
    if not (scheme == "sqlite" or scheme.startswith("postgresql+")):
        raise ConfigError(f"--db {scheme}://...: prt serve runs on SQLite and PostgreSQL",
                          fix="e.g. postgresql://user@host/prt")
    return url


def make_engine(url: str) -> Engine:
    """An engine whose transactions serialise the writes that must not race (the limits): on SQLite every
    transaction begins IMMEDIATE (takes the write lock first) and waits up to SQLITE_BUSY_MS for it; on
    PostgreSQL the submission path locks the team's row (``SELECT ... FOR UPDATE``)."""
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # pysqlite's own BEGIN handling off: ours below
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


_migrate_lock = threading.Lock()


def migrate(url: str) -> None:
    """Create or upgrade the schema to the newest migration shipped with prt (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with _migrate_lock:
        command.upgrade(cfg, "head")


class Database:
    """One engine and its session factory; ``session()`` is a transaction committed on success."""

    def __init__(self, url: str, *, upgrade: bool = True):
        from sqlalchemy.exc import SQLAlchemyError

        self.url = url
        try:
            if upgrade:
                migrate(url)
            self.engine = make_engine(url)
            with self.engine.connect():
                pass
        except (SQLAlchemyError, ModuleNotFoundError) as e:
            shown = url.split("@", 1)[-1] if "@" in url else url  # no password in the message
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ConfigError(f"cannot open the database {shown} ({first})",
                              fix="check --db/--root, that the database server runs and that you may use it") from None
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self):
        with self._factory() as s, s.begin():
            yield s

    def raw(self) -> Session:
        return self._factory()

    def setting(self, key: str, make) -> str:
        """The value of setting ``key``; the first process to ask stores ``make()`` (another process storing it at
        the same moment wins, and its value is read)."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.session() as s:
                row = s.get(Setting, key)
                if row is None:
                    row = Setting(key=key, value=make())
                    s.add(row)
                return row.value
        except IntegrityError:
            with self.session() as s:
                return s.get(Setting, key).value

    def close(self) -> None:
        self.engine.dispose()
