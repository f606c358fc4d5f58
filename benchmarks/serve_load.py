"""`prt serve` under load: 20 teams send 200 submissions at once to a server on PostgreSQL with 1, then 2,
`prt worker` processes; then the board with 1,000 stored submissions.

    python benchmarks/serve_load.py [--db postgresql|sqlite] [--workers 1 2] [--images 400] [--board 1000]

1. Starts a throwaway PostgreSQL cluster (``tests/support/pgcluster.py``: initdb + pg_ctl, fsync off), or
   with ``--db sqlite`` a SQLite file. For each worker count: a fresh database, a COCO benchmark drawn by
   the suite's own generator (``tests/support/cocobuild.make_benchmark``: ``--images`` images, people of every
   size, crowds, false positives; one evaluation takes about 0.4 s at 400 images), 20 teams
   (``prt serve admin add-team``), ``prt serve --workers 0`` and N ``prt worker`` processes, all on the
   database URL only.
2. 20 threads, one per team, each POST their 10 submissions back to back, all teams at once, over HTTP as
   ``prt submit`` does (its own multipart and client functions); every submission is a different noisy copy
   of the generator's detections. Waits until all are done, then prints, from the database's timestamps:
   submissions per minute per worker (all submissions over the time from the first submission to the last
   evaluation, divided by the workers), queue wait (created -> evaluation start: median, p95), evaluation
   time, total time; checks that every 202 is in the database, done, claimed once (``attempts``) and logged
   as evaluated once by exactly one worker; and that a sample's public and private numbers equal
   ``prt evaluate`` on GT and predictions cut to that part's images (whole processes, files written here).
3. The board at scale (on the last run's database): filled to ``--board`` done submissions by inserting
   through ``admin.create_submission`` (the API's own insert, limits and all) and recording, as the worker's
   final UPDATE does, the numbers the workers computed for the same upload (an evaluation of the same bytes
   gives the same numbers; the method name differs) — evaluating 800 more would only repeat step 2. Then
   GET ``/benchmarks/NAME`` (the page) and ``/api/benchmarks/NAME/leaderboard``: the first request after a
   server start with an empty prt cache (every row's bootstrap computed), the first after each of
   ``--restarts`` - 1 restarts (the cache kept), warm (median of 10), after a new done submission and after a
   team's new best (3 each: asked at once, and asked 5 s later, when the server's board warmer has had its
   turn), after ``admin reveal`` (60 s after the last change: the warmer builds the private board ahead;
   first request, then warm).

Prints the machine's load average: figures taken while other work runs are upper bounds.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BENCH = "coco-load"
SUBMISSIONS_PER_TEAM = 10
#: seconds left to the server's board warmer (it looks every 2 s) before asking, and before the reveal
WARMER_GRACE = 5.0
REVEAL_GRACE = 60.0


def env(cache: Path) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e["PRT_CACHE"] = str(cache)
    e.pop("PRT_SERVE_EVAL_DELAY", None)
    return e


def prt(args: list, e: dict) -> str:
    r = subprocess.run([sys.executable, "-m", "poseval_refine.cli", *map(str, args)], capture_output=True,
                       text=True, env=e, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"prt {' '.join(map(str, args))} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.status, r.read()


def timed_get(url: str) -> float:
    t = time.perf_counter()
    status, _ = get(url)
    assert status == 200, (url, status)
    return time.perf_counter() - t


def make_data(images: int, n: int, where: Path) -> tuple[Path, list[bytes]]:
    """The GT file and ``n`` different prediction files (noisy, thinned copies of the generator's
    detections, coordinates rounded to 0.01 px as a method writes them)."""
    from tests.support.cocobuild import make_benchmark

    gt, results = make_benchmark(seed=2026, n_images=images)
    gt_path = where / "gt.json"
    gt_path.write_text(json.dumps(gt))
    kp = np.array([r["keypoints"] for r in results])  # (D, 51)
    rng = np.random.default_rng(7)
    uploads = []
    for _ in range(n):
        keep = rng.random(len(results)) >= rng.uniform(0.0, 0.3)
        noise = rng.normal(0, rng.uniform(0.0, 4.0), kp.shape)
        noise[:, 2::3] = 0
        noisy = np.where(kp == 0, 0, kp + noise).round(2)
        scores = rng.uniform(0.8, 1.2, len(results))
        out = [dict(r, keypoints=noisy[i].tolist(), score=round(r["score"] * scores[i], 4))
               for i, r in enumerate(results) if keep[i]]
        uploads.append(json.dumps(out).encode())
    return gt_path, uploads


class Stack:
    """``prt serve --workers 0`` and N ``prt worker`` processes on one database URL."""

    def __init__(self, url: str, e: dict, logs: Path):
        self.url, self.e, self.logs = url, e, logs
        self.server = None
        self.workers: list[tuple[subprocess.Popen, Path]] = []
        self.port = None

    def start_server(self) -> str:
        self.port = free_port()
        log = self.logs / f"server-{self.port}.log"
        self.server = subprocess.Popen([sys.executable, "-m", "poseval_refine.cli", "serve", "--db", self.url,
                                        "--workers", "0", "--port", str(self.port)],
                                       stdout=open(log, "w"), stderr=subprocess.STDOUT, env=self.e)
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(f"prt serve exited: {log.read_text()[-2000:]}")
            try:
                if get(base + "/api/benchmarks")[0] == 200:
                    return base
            except OSError:
                time.sleep(0.2)
        raise SystemExit("prt serve did not answer within 120 s")

    def start_workers(self, n: int) -> None:
        for i in range(n):
            log = self.logs / f"worker-{len(self.workers)}-{i}.log"
            p = subprocess.Popen([sys.executable, "-m", "poseval_refine.cli", "worker", "--db", self.url],
                                 stdout=open(log, "w"), stderr=subprocess.STDOUT, env=self.e)
            self.workers.append((p, log))
        deadline = time.monotonic() + 120
        for p, log in self.workers:  # ready: its consumer has said so
            while "prt worker:" not in log.read_text():
                if p.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"prt worker did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        time.sleep(1.0)  # the consumer's first poll

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(60)
            self.server = None

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) each process has used so far, from /proc (Linux)."""
        tick = os.sysconf("SC_CLK_TCK")
        out = {}
        for name, p in [("server", self.server)] + [(f"worker {i + 1}", w) for i, (w, _) in enumerate(self.workers)]:
            try:
                fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[name] = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, AttributeError, IndexError, ValueError):
                pass
        return out

    def stop(self) -> None:
        self.stop_server()
        for p, _ in self.workers:
            p.terminate()
        for p, _ in self.workers:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()


def submit_all(base: str, tokens: dict[str, str], uploads: list[bytes]) -> tuple[list[int], float]:
    """Every team sends its submissions back to back, all teams at once; the ids of the 202s and the time."""
    from poseval_refine.commands.submit import call, multipart

    url = f"{base}/api/benchmarks/{BENCH}/submissions"
    teams = sorted(tokens)

    def team_run(k: int) -> list[int]:
        ids = []
        for j in range(SUBMISSIONS_PER_TEAM):
            data = uploads[k * SUBMISSIONS_PER_TEAM + j]
            ctype, body = multipart({"method": f"net-{j}", "final": "0"}, "results.json", data)
            status, reply = call(url, tokens[teams[k]], data=body, content_type=ctype)
            if status != 202:
                raise SystemExit(f"submission refused: {status} {reply}")
            ids.append(reply["id"])
        return ids

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(teams)) as pool:
        ids = [i for part in pool.map(team_run, range(len(teams))) for i in part]
    return ids, time.perf_counter() - t0


def wait_done(db, ids: list[int], timeout: float) -> list:
    from sqlalchemy import select

    from poseval_refine.serve.db import DONE, FAILED, Submission

    deadline = time.monotonic() + timeout
    while True:
        with db.session() as s:
            rows = s.execute(select(Submission.id, Submission.status, Submission.created_at, Submission.started_at,
                                    Submission.finished_at, Submission.attempts, Submission.error)
                             .where(Submission.id.in_(ids))).all()
        if len(rows) == len(ids) and all(r.status in (DONE, FAILED) for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise SystemExit(f"not all evaluated within {timeout} s")
        time.sleep(1.0)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def evaluated_lines(logs: list[Path]) -> dict[int, int]:
    """submission id -> how many times a worker's log says it evaluated it."""
    import re

    count: dict[int, int] = {}
    for log in logs:
        for m in re.finditer(r"submission (\d+) \(team \d+\) evaluated", log.read_text()):
            count[int(m.group(1))] = count.get(int(m.group(1)), 0) + 1
    return count


def check_numbers(db, ids: list[int], gt_path: Path, uploads_by_id: dict[int, bytes], e: dict, where: Path) -> int:
    """Each sampled submission's stored public and private headline equals `prt evaluate` on that part alone."""
    from sqlalchemy import select

    from poseval_refine.evaluators import get_task
    from poseval_refine.serve.db import Benchmark, Submission

    gt = json.loads(gt_path.read_text())
    with db.session() as s:
        split = s.execute(select(Benchmark.split).where(Benchmark.name == BENCH)).scalar_one()
        subs = {x.id: x for x in s.execute(select(Submission).where(Submission.id.in_(ids))).scalars()}
    task = get_task("coco")
    for sid in ids:
        preds = json.loads(uploads_by_id[sid])
        for part in ("public", "private"):
            keep = set(split[part])
            d = where / f"{sid}-{part}"
            d.mkdir(parents=True)
            g = dict(gt, images=[im for im in gt["images"] if im["id"] in keep],
                     annotations=[a for a in gt["annotations"] if a["image_id"] in keep])
            (d / "gt.json").write_text(json.dumps(g))
            (d / "pred.json").write_text(json.dumps([p for p in preds if p["image_id"] in keep]))
            prt(["evaluate", "--task", "coco", "--gt", d / "gt.json", "--pred", d / "pred.json",
                 "--json", d / "out.json", "-q"], e)
            want = task.headline(json.loads((d / "out.json").read_text()))
            have = getattr(subs[sid], part)["headline"]
            if not want or want.keys() != have.keys():
                raise SystemExit(f"submission {sid} {part}: metrics {sorted(have)} != prt evaluate's {sorted(want)}")
            if any(not (want[k] == have[k] or (want[k] != want[k] and have[k] is None)) for k in want):
                raise SystemExit(f"submission {sid} {part}: stored {have} != prt evaluate {want}")
    return len(ids)


def load_run(url: str, workers: int, gt_path: Path, uploads: list[bytes], tmp: Path, teams: int) -> dict:
    from poseval_refine.serve.db import DONE, Database, normalize_url

    e = env(tmp / f"cache-w{workers}")
    prt(["serve", "admin", "add-benchmark", BENCH, "--db", url, "--task", "coco", "--gt", gt_path,
         "--public-fraction", "0.5", "--split-seed", "0"], e)
    tokens = {}
    for k in range(teams):
        name = f"team{k + 1:02d}"
        tokens[name] = prt(["serve", "admin", "add-team", name, "--db", url], e).strip()
    logs = tmp / f"logs-w{workers}"
    logs.mkdir()
    stack = Stack(url, e, logs)
    try:
        base = stack.start_server()
        stack.start_workers(workers)
        load = os.getloadavg()
        ids, send_s = submit_all(base, tokens, uploads)
        db = Database(normalize_url(url), upgrade=False)
        rows = wait_done(db, ids, timeout=3600)
        cpu = stack.cpu_seconds()
    finally:
        stack.stop()
    failed = [r for r in rows if r.status != DONE]
    if failed:
        raise SystemExit(f"{len(failed)} submissions failed: {failed[0].error}")
    if len(set(ids)) != len(uploads):
        raise SystemExit("a 202 id was given twice")
    twice = [r.id for r in rows if r.attempts != 1]
    lines = evaluated_lines([log for _, log in stack.workers])
    logged = sorted(sid for sid in ids if lines.get(sid) != 1)
    t0 = min(r.created_at for r in rows)
    t1 = max(r.finished_at for r in rows)
    waits = [(r.started_at - r.created_at).total_seconds() for r in rows]
    evals = [(r.finished_at - r.started_at).total_seconds() for r in rows]
    total = (t1 - t0).total_seconds()
    uploads_by_id = dict(zip(ids, uploads))
    sample = [ids[0], ids[len(ids) // 2], ids[-1]]
    checked = check_numbers(db, sample, gt_path, uploads_by_id, e, tmp / f"check-w{workers}")
    return {"workers": workers, "submissions": len(ids), "send_s": send_s, "total_s": total,
            "per_min_per_worker": len(ids) / total * 60 / workers, "wait_median": pct(waits, 50),
            "wait_p95": pct(waits, 95), "eval_median": pct(evals, 50), "claimed_twice": twice,
            "not_logged_once": logged, "checked": checked, "load": load, "db": db, "e": e, "ids": ids,
            "uploads_by_id": uploads_by_id, "logs": logs, "cpu": cpu}


def add_done(db, src_id: int, team_id: int, method: str, upload: bytes) -> int:
    """One more done submission: stored by admin.create_submission (the API's insert, limits and all), its
    numbers recorded as the worker's final UPDATE records them, taken from the evaluation of the same upload."""
    from sqlalchemy import update

    from poseval_refine.serve import admin
    from poseval_refine.serve.board import primary_value
    from poseval_refine.serve.db import DONE, Submission, utcnow

    with db.session() as s:
        src = s.get(Submission, src_id)
        public, private, gt_sha = copy.deepcopy(src.public), copy.deepcopy(src.private), src.gt_sha256
    public["method"] = private["method"] = method
    sid = admin.create_submission(db, BENCH, team_id, method, "results.json", upload, False)
    now = utcnow()
    with db.session() as s:
        s.execute(update(Submission).where(Submission.id == sid).values(
            status=DONE, error=None, public=public, private=private, public_primary=primary_value(public, "coco"),
            gt_sha256=gt_sha, started_at=now, finished_at=now, attempts=1, worker=None))
    return sid


def fill(db, run: dict, target: int) -> None:
    """Done submissions up to ``target``, spread over the teams, each a copy of an evaluated one (add_done)."""
    from sqlalchemy import select

    from poseval_refine.serve.db import Team

    with db.session() as s:
        teams = s.execute(select(Team.id).order_by(Team.id)).scalars().all()
    for k in range(_done_count(db), target):
        src_id = run["ids"][k % len(run["ids"])]
        add_done(db, src_id, teams[k % len(teams)], f"fill-{k}", run["uploads_by_id"][src_id])


def new_best(db, run: dict, k: int) -> None:
    """The last-ranked team submits a copy of the best submission: its row changes (a new board entry)."""
    from sqlalchemy import func, select

    from poseval_refine.serve.db import DONE, Submission

    with db.session() as s:
        top = s.execute(select(Submission.id).where(Submission.status == DONE)
                        .order_by(Submission.public_primary.desc(), Submission.id)).scalars().first()
        last_team = s.execute(select(Submission.team_id).where(Submission.status == DONE)
                              .group_by(Submission.team_id).order_by(func.max(Submission.public_primary))
                              ).scalars().first()
    add_done(db, top, last_team, f"best-copy-{k}", run["uploads_by_id"].get(top, b"[]"))


def _done_count(db) -> int:
    from sqlalchemy import func, select

    from poseval_refine.serve.db import DONE, Submission

    with db.session() as s:
        return s.execute(select(func.count()).select_from(Submission).where(Submission.status == DONE)).scalar_one()


def board_times(url: str, db, run: dict, tmp: Path, restarts: int) -> dict:
    """Seconds per request, by case. Start 0 has an empty prt cache; the later starts keep what it computed
    (a restart of a running server)."""
    page, api = f"/benchmarks/{BENCH}", f"/api/benchmarks/{BENCH}/leaderboard"
    out: dict[str, list[float]] = {}
    logs = tmp / "logs-board"
    logs.mkdir()
    e = env(tmp / "cache-board")
    for i in range(restarts):
        stack = Stack(url, e, logs)
        base = stack.start_server()
        case = "first after start, empty prt cache" if i == 0 else "first after a restart"
        try:
            for what, path in (("page", page), ("api", api)) if i % 2 == 0 else (("api", api), ("page", page)):
                out.setdefault(f"{case}: {what}", []).append(timed_get(base + path))
            if i == restarts - 1:
                for what, path in (("page", page), ("api", api)):
                    out[f"warm: {what}"] = [timed_get(base + path) for _ in range(10)]
                for _ in range(3):
                    fill(db, run, _done_count(db) + 1)
                    out.setdefault("after a new done submission: api", []).append(timed_get(base + api))
                    out.setdefault("after a new done submission: page", []).append(timed_get(base + page))
                for k in range(3):
                    new_best(db, run, k)
                    out.setdefault("after a team's new best, at once: api", []).append(timed_get(base + api))
                    out.setdefault("after a team's new best, at once: page", []).append(timed_get(base + page))
                for k in range(3, 6):  # the server's warmer looks every 2 s
                    new_best(db, run, k)
                    time.sleep(WARMER_GRACE)
                    out.setdefault(f"after a team's new best, {WARMER_GRACE:g} s later: api", []).append(
                        timed_get(base + api))
                    out.setdefault(f"after a team's new best, {WARMER_GRACE:g} s later: page", []).append(
                        timed_get(base + page))
                time.sleep(REVEAL_GRACE)  # the warmer builds the private board ahead, now that nothing is queued
                prt(["serve", "admin", "reveal", BENCH, "--db", url], e)
                out["after reveal, first: api"] = [timed_get(base + api)]
                out["after reveal, first: page"] = [timed_get(base + page)]
                out["after reveal, warm: api"] = [timed_get(base + api) for _ in range(10)]
                out["after reveal, warm: page"] = [timed_get(base + page) for _ in range(10)]
                status, body = get(base + api)
                out["_rows"] = len(json.loads(body)["rows"])
        finally:
            stack.stop()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--teams", type=int, default=20)
    ap.add_argument("--images", type=int, default=400, help="GT images (one evaluation: ~0.4 s at 400)")
    ap.add_argument("--board", type=int, default=1000, help="done submissions on the board (0: no board step)")
    ap.add_argument("--restarts", type=int, default=4, help="server starts for the first-request board figures")
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="prt-serve-load-") as tmp:
        tmp = Path(tmp)
        n = args.teams * SUBMISSIONS_PER_TEAM
        gt_path, uploads = make_data(args.images, n, tmp)
        print(f"benchmark: COCO, {args.images} images (tests/support/cocobuild), {n} different prediction files "
              f"of {statistics.median(len(u) for u in uploads) / 1e6:.2f} MB (median)", flush=True)
        cluster = None
        if args.db == "postgresql":
            from tests.support.pgcluster import PgCluster

            cluster = PgCluster.start()  # its own folder: the postgres user must reach it
        try:
            run = None
            for w in args.workers:
                url = cluster.create_database(f"load_w{w}") if cluster else f"sqlite:///{tmp}/load-w{w}.sqlite"
                run = load_run(url, w, gt_path, uploads, tmp, args.teams)
                print(f"\n{args.db}, server --workers 0 + {w} prt worker process(es); load average "
                      f"{run['load'][0]:.2f} at the start of the run")
                print(f"  {run['submissions']} submissions from {args.teams} teams sent in {run['send_s']:.1f} s "
                      f"(all 202)")
                print(f"  total (first submission -> last evaluation): {run['total_s']:.1f} s")
                print(f"  submissions per minute per worker: {run['per_min_per_worker']:.1f}")
                print(f"  queue wait (created -> evaluation start): median {run['wait_median']:.1f} s, "
                      f"p95 {run['wait_p95']:.1f} s; evaluation: median {run['eval_median']:.2f} s")
                print("  CPU seconds used: " + ", ".join(f"{k} {v:.0f}" for k, v in run["cpu"].items()))
                print(f"  lost: 0 (every 202 done); claimed more than once: {len(run['claimed_twice'])}; "
                      f"not logged as evaluated exactly once: {len(run['not_logged_once'])}")
                print(f"  numbers equal to prt evaluate on each part: {run['checked']} sampled submissions, "
                      "public and private, every headline metric", flush=True)
                if run["claimed_twice"] or run["not_logged_once"]:
                    raise SystemExit("a submission was evaluated more (or less) than once")
            if args.board and run is not None:
                db = run["db"]
                t = time.perf_counter()
                fill(db, run, args.board)
                print(f"\nboard: filled to {_done_count(db)} done submissions in {time.perf_counter() - t:.0f} s",
                      flush=True)
                times = board_times(url, db, run, tmp, args.restarts)
                rows = times.pop("_rows")
                print(f"board response times ({rows} rows, one per team; seconds, median of n):")
                for what, v in times.items():
                    print(f"  {what:36s} {statistics.median(v):7.3f}  (n={len(v)}, max {max(v):.3f})")
                db.close()
        finally:
            if run is not None and run["db"] is not None:
                run["db"].close()
            if cluster is not None:
                cluster.stop()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
