"""What a benchmark maintainer does (``prt serve admin ...``): benchmarks, teams, tokens, reruns, reveal."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from ..errors import ConfigError, InputError
from .db import DONE, FAILED, QUEUED, RUNNING, STATES, Benchmark, Database, GtFile, Submission, Team, utcnow
from .splits import list_items, make_split

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
#: the default upload limit (MB)
MAX_UPLOAD_MB = 50.0


def check_name(name: str, what: str) -> str:
    """Team, benchmark and method names: letters, digits, '.', '_', '+', '-' (as ``--save`` names)."""
    if not isinstance(name, str) or not _NAME.match(name) or "__" in name:
        raise ConfigError(f"{what} name {name!r} is not allowed",
                          fix="use 1-64 letters, digits, '.', '_', '+' and '-' (no '__'), starting with a letter "
                              "or digit, e.g. my-net-v2")
    return name


def new_token() -> str:
    """A team's API token: 256 random bits."""
    return "prt_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database keeps of a token: its SHA-256 (a 256-bit random token needs no slow hash)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def team_for_token(db: Database, token: str | None) -> Team | None:
    """The team whose token this is (compared in constant time on the hashes), else None."""
    if not token or len(token) > 200:
        return None
    h = hash_token(token)
    with db.session() as s:
        team = s.execute(select(Team).where(Team.token_hash == h)).scalar_one_or_none()
    if team is None or not hmac.compare_digest(team.token_hash or "", h):
        return None
    return team


def _files(gt: Path) -> list[tuple[str, bytes]]:
    if gt.is_dir():
        return [(p.relative_to(gt).as_posix(), p.read_bytes()) for p in sorted(gt.rglob("*")) if p.is_file()]
    return [(gt.name, gt.read_bytes())]


def _sha(files: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, content in files:
        h.update(name.encode())
        h.update(hashlib.sha256(content).hexdigest().encode())
    return h.hexdigest()


def add_benchmark(db: Database, name: str, *, task: str, gt: Path, options: dict, public_fraction: float = 0.5,
                  split_seed: int = 0, daily_limit: int | None = None, total_limit: int | None = None,
                  max_upload_mb: float = MAX_UPLOAD_MB) -> dict:
    """Store the hidden GT and its split; returns the split."""
    check_name(name, "benchmark")
    gt = Path(gt)
    if not gt.exists():
        raise InputError("not found", file=gt, fix="check the --gt path")
    if max_upload_mb <= 0:
        raise ConfigError("--max-upload-mb must be positive")
    with db.session() as s:
        if s.execute(select(Benchmark).where(Benchmark.name == name)).scalar_one_or_none() is not None:
            raise ConfigError(f"benchmark {name!r} exists", fix="choose another name (or `admin rerun --gt` to fix "
                                                                 "its GT)")
    items = list_items(task, gt)
    split = make_split(items, public_fraction, split_seed)
    check_gt(task, gt, options)
    files = _files(gt)
    with db.session() as s:
        if s.execute(select(Benchmark).where(Benchmark.name == name)).scalar_one_or_none() is not None:
            raise ConfigError(f"benchmark {name!r} exists", fix="choose another name (or `admin rerun --gt` to fix "
                                                                 "its GT)")
        b = Benchmark(name=name, task=task, options=options, gt_name=gt.name, gt_is_dir=gt.is_dir(),
                      gt_sha256=_sha(files), split=split, public_fraction=public_fraction, split_seed=split_seed,
                      daily_limit=daily_limit, total_limit=total_limit, max_upload_mb=max_upload_mb)
        s.add(b)
        s.flush()
        s.add_all(GtFile(benchmark_id=b.id, path=p, content=c) for p, c in files)
    return split


def check_gt(task: str, gt: Path, options: dict) -> None:
    """Read and check the GT as every evaluation will (``poseval_refine.Evaluator``), so a GT prt cannot read
    is refused now, with prt's error, rather than failing every submission later."""
    from ..api import Evaluator

    Evaluator(gt, task=task, **options)


def get_benchmark(s, name: str) -> Benchmark:
    b = s.execute(select(Benchmark).where(Benchmark.name == name)).scalar_one_or_none()
    if b is None:
        names = s.execute(select(Benchmark.name)).scalars().all()
        raise ConfigError(f"no benchmark {name!r}", fix=f"benchmarks: {', '.join(sorted(names)) or 'none yet'}")
    return b


def get_team(s, name: str) -> Team:
    t = s.execute(select(Team).where(Team.name == name)).scalar_one_or_none()
    if t is None:
        raise ConfigError(f"no team {name!r}", fix="add it with `prt serve admin add-team`")
    return t


def add_team(db: Database, name: str) -> str:
    """The new team's token (shown once; only its hash is stored)."""
    check_name(name, "team")
    token = new_token()
    with db.session() as s:
        if s.execute(select(Team).where(Team.name == name)).scalar_one_or_none() is not None:
            raise ConfigError(f"team {name!r} exists", fix="use `admin rotate-token` for a new token")
        s.add(Team(name=name, token_hash=hash_token(token)))
    return token


def rotate_token(db: Database, name: str) -> str:
    token = new_token()
    with db.session() as s:
        get_team(s, name).token_hash = hash_token(token)
    return token


def revoke_token(db: Database, name: str) -> None:
    with db.session() as s:
        get_team(s, name).token_hash = None


def split_of(db: Database, name: str) -> dict:
    with db.session() as s:
        return dict(get_benchmark(s, name).split)


def status(db: Database) -> dict:
    """What the maintainer checks: per benchmark its task, parts, limits, reveal and submissions per state;
    per team its submissions and whether it has a token."""
    with db.session() as s:
        benches = s.execute(select(Benchmark).order_by(Benchmark.name)).scalars().all()
        counts = s.execute(select(Submission.benchmark_id, Submission.status, func.count())
                           .group_by(Submission.benchmark_id, Submission.status)).all()
        teams = s.execute(select(Team).order_by(Team.name)).scalars().all()
        per_team = dict(s.execute(select(Submission.team_id, func.count()).group_by(Submission.team_id)).all())
    states = {}
    for bid, st, n in counts:
        states.setdefault(bid, {})[st] = n
    return {"benchmarks": [{"name": b.name, "task": b.task, "public_items": len(b.split["public"]),
                            "private_items": len(b.split["private"]), "daily_limit": b.daily_limit,
                            "total_limit": b.total_limit, "max_upload_mb": b.max_upload_mb,
                            "revealed": b.revealed_at is not None,
                            "submissions": {st: states.get(b.id, {}).get(st, 0) for st in STATES}}
                           for b in benches],
            "teams": [{"name": t.name, "token": t.token_hash is not None, "submissions": per_team.get(t.id, 0)}
                      for t in teams]}


def reveal(db: Database, name: str) -> None:
    with db.session() as s:
        b = get_benchmark(s, name)
        if b.revealed_at is None:
            b.revealed_at = utcnow()


def rerun(db: Database, name: str, gt: Path | None = None) -> list[int]:
    """Evaluate every submission of a benchmark again (after a GT fix: ``gt`` replaces the stored GT, whose
    items must stay the same, so the split does). Returns the ids queued; the workers take them."""
    with db.session() as s:
        b = get_benchmark(s, name)
        if gt is not None:
            gt = Path(gt)
            if not gt.exists():
                raise InputError("not found", file=gt, fix="check the --gt path")
            items = list_items(b.task, gt)
            check_gt(b.task, gt, dict(b.options))
            if sorted(map(str, items)) != sorted(map(str, b.split["public"] + b.split["private"])):
                raise ConfigError("the new GT's items differ from the stored split's",
                                  fix="fix the annotations only; a different item set is a new benchmark")
            files = _files(gt)
            s.execute(GtFile.__table__.delete().where(GtFile.benchmark_id == b.id))
            s.add_all(GtFile(benchmark_id=b.id, path=p, content=c) for p, c in files)
            b.gt_sha256 = _sha(files)
            b.gt_name, b.gt_is_dir = gt.name, gt.is_dir()
        ids = s.execute(select(Submission.id).where(Submission.benchmark_id == b.id,
                                                    Submission.status.in_((DONE, FAILED)))).scalars().all()
        s.execute(update(Submission).where(Submission.id.in_(ids)).values(
            status=QUEUED, public=None, private=None, public_primary=None, error=None, enqueued_at=utcnow(),
            worker=None))
    return list(ids)


class LimitReached(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def create_submission(db: Database, bench_name: str, team_id: int, method: str, filename: str, data: bytes,
                      final: bool) -> int:
    """Store a submission if the team's limits allow it: the count and the insert in one transaction, the
    team's row locked (PostgreSQL) or the database's write lock held (SQLite), so concurrent submissions
    cannot both see the last free slot. Queued, running and done submissions count; failed ones do not."""
    now = utcnow()
    with db.session() as s:
        b = get_benchmark(s, bench_name)
        s.execute(select(Team.id).where(Team.id == team_id).with_for_update()).scalar_one()
        counted = [Submission.benchmark_id == b.id, Submission.team_id == team_id,
                   Submission.status.in_((QUEUED, RUNNING, DONE))]
        if b.total_limit is not None:
            n = s.execute(select(func.count()).select_from(Submission).where(*counted)).scalar_one()
            if n >= b.total_limit:
                raise LimitReached(f"total limit reached: {n} of {b.total_limit} submissions to {bench_name} "
                                   "(failed ones do not count)")
        if b.daily_limit is not None:
            n = s.execute(select(func.count()).select_from(Submission).where(
                *counted, Submission.created_at >= day_start(now))).scalar_one()
            if n >= b.daily_limit:
                nxt = day_start(now) + timedelta(days=1)
                raise LimitReached(f"daily limit reached: {n} of {b.daily_limit} submissions to {bench_name} today "
                                   f"(UTC; failed ones do not count); next at {nxt:%Y-%m-%d %H:%M} UTC")
        if final:  # one final choice per team and benchmark: the newest
            s.execute(update(Submission).where(Submission.benchmark_id == b.id, Submission.team_id == team_id)
                      .values(final=False))
        sub = Submission(benchmark_id=b.id, team_id=team_id, method=method, filename=filename, upload=data,
                         size=len(data), sha256=hashlib.sha256(data).hexdigest(), final=final, status=QUEUED,
                         created_at=now, enqueued_at=now, attempts=0)
        s.add(sub)
        s.flush()
        return sub.id


def mark_final(db: Database, team_id: int, submission_id: int) -> str | None:
    """Make a team's submission its final choice (the one ranked on the private part at reveal); None when
    done, else why not."""
    with db.session() as s:
        sub = s.get(Submission, submission_id)
        if sub is None or sub.team_id != team_id:
            return "no such submission of your team"
        b = s.get(Benchmark, sub.benchmark_id)
        if b.revealed_at is not None:
            return f"{b.name} is revealed: the final choices are fixed"
        if sub.status == FAILED:
            return "a failed submission cannot be the final choice"
        s.execute(update(Submission).where(Submission.benchmark_id == b.id, Submission.team_id == team_id)
                  .values(final=False))
        sub.final = True
    return None
