"""prt serve as a real process: a maintainer hosts a benchmark, teams submit over HTTP and with `prt submit`,
the board's numbers equal `prt evaluate` on each part of the split, limits hold under concurrent submissions,
and nothing is lost when a worker or the server is killed with SIGKILL (issue 28, rules 1-3, 5)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from poseval_refine.evaluators import get_task

from .support.serve import (
    Server,
    add_team,
    as_json,
    db_rows,
    get,
    nan_free,
    need_serve_extra,
    post_submission,
    prt,
    prt_here,
    request,
    start_worker,
    stop_processes,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data(shared_data, tmp_path_factory):
    """synth24 (24 PoseTrack sequences) GT, its predictions, and two other teams' worse predictions."""
    need_serve_extra()
    src = shared_data / "posetrack_cases" / "synth24"
    out = tmp_path_factory.mktemp("serve-data")
    variants = {"good": src / "pred"}
    for name, keep in (("half", lambda i: i % 2 == 0), ("third", lambda i: i % 3 != 1)):
        d = out / name
        d.mkdir()
        for f in sorted((src / "pred").glob("*.json")):
            seq = json.loads(f.read_text())
            for fr in seq["annolist"]:
                fr["annorect"] = [r for i, r in enumerate(fr["annorect"]) if keep(i)]
            (d / f.name).write_text(json.dumps(seq))
        variants[name] = d
    return {"gt": src / "gt", "pred": variants, "dir": out}


@pytest.fixture(scope="module")
def server(tmp_path_factory, data, serve_db):
    """SQLite: one process with an in-process worker. PostgreSQL: `prt serve --workers 0` and two `prt worker
    --db URL` processes (issue 31's scaled-out form)."""
    root = tmp_path_factory.mktemp("serve-a") / "root"
    s = Server(root, workers=1, lease=2.0, db=serve_db, pg_workers=2).start()
    yield s
    s.stop()


def expected(task: str, gt: Path, pred: Path, items: list, where: Path) -> dict:
    """The headline numbers `prt evaluate --json` gives on the items alone (folders of just those sequences)."""
    where.mkdir(parents=True)
    (where / "gt").mkdir()
    (where / "pred").mkdir()
    for s in items:
        shutil.copyfile(gt / f"{s}.json", where / "gt" / f"{s}.json")
        shutil.copyfile(pred / f"{s}.json", where / "pred" / f"{s}.json")
    code, _ = prt_here("evaluate", "--gt", where / "gt", "--pred", where / "pred", "--task", task,
                       "--json", where / "out.json", "-q")
    assert code == 0
    return nan_free(get_task(task).headline(json.loads((where / "out.json").read_text())))


def add_benchmark(server: Server, name: str, gt: Path, *args, task: str = "tracking") -> dict:
    code, out = prt_here("serve", "admin", "add-benchmark", name, *server.db_args, "--task", task,
                         "--gt", gt, *args)
    assert code == 0, out
    code, out = prt_here("serve", "admin", "split", name, *server.db_args, "--json")
    return json.loads(out)


def test_two_teams_board_equals_prt_evaluate_on_each_part_and_reveal_ranks_final_choices(server, data, tmp_path):
    split = add_benchmark(server, "pt-main", data["gt"], "--public-fraction", "0.5", "--split-seed", "7")
    assert len(split["public"]) == 12 and len(split["private"]) == 12
    assert sorted(split["public"] + split["private"]) == sorted(p.stem for p in data["gt"].glob("*.json"))
    # the split is the seed's: the same command on another server gives the same parts
    alpha, beta = add_team(server, "alpha"), add_team(server, "beta")

    # alpha over `prt submit` (a folder, sent as one archive): the good predictions, then a worse one as final
    r = prt("submit", data["pred"]["third"], "--server", server.url, "--token", alpha, "--benchmark", "pt-main",
            "--method", "net-best", "--final", "--wait", "--json")
    best = json.loads(r.stdout)
    assert best["status"] == "done" and best["error"] is None
    assert get(f"{server.url}/api/submissions/{best['id']}", alpha)[1]["final"] is True
    code, out = prt_here("submit", data["pred"]["good"], "--server", server.url, "--token", alpha, "--benchmark",
                         "pt-main", "--method", "net-final", "--wait", "--json")
    final = json.loads(out)
    assert final["status"] == "done"
    # alpha changes its mind: the later submission becomes its one final choice
    status, _, reply = request(f"{server.url}/api/submissions/{final['id']}/final", data=b"", method="POST",
                               headers={"Authorization": f"Bearer {alpha}"})
    assert status == 200, reply
    assert get(f"{server.url}/api/submissions/{best['id']}", alpha)[1]["final"] is False
    # beta over the JSON API, a zip of its folder
    from poseval_refine.commands.submit import pack

    name, blob = pack(data["pred"]["half"])
    status, reply = post_submission(server.url, "pt-main", beta, name, blob, method="beta-net")
    assert status == 202, reply
    half = wait_for(server.url, reply["id"], beta)
    assert half["status"] == "done", half
    status, _, _ = request(f"{server.url}/api/submissions/{best['id']}/final", data=b"", method="POST",
                           headers={"Authorization": f"Bearer {beta}"})
    assert status == 404  # not beta's to choose

    want = {k: expected("tracking", data["gt"], data["pred"][k], split["public"], tmp_path / f"pub-{k}")
            for k in ("good", "third", "half")}
    assert nan_free(best["public"]) == want["third"]
    assert nan_free(final["public"]) == want["good"]
    assert want["third"]["MOTA"] > want["good"]["MOTA"]  # the final choice is not alpha's best public one
    assert nan_free(half["public"]) == want["half"]
    assert "private" not in half  # nothing private before reveal

    status, board = get(f"{server.url}/api/benchmarks/pt-main/leaderboard")
    assert status == 200 and board["revealed"] is False and board["ranked_on"] == "public"
    rows = {r["team"]: r for r in board["rows"]}
    assert set(rows) == {"alpha", "beta"}
    assert rows["alpha"]["method"] == "net-best"  # each team's best public submission
    assert nan_free(rows["alpha"]["public"]) == want["third"]
    assert nan_free(rows["beta"]["public"]) == want["half"]
    assert all("private" not in r for r in board["rows"])
    ranked = sorted(board["rows"], key=lambda r: r["rank"])
    assert ranked[0]["public"]["MOTA"] >= ranked[1]["public"]["MOTA"]
    lo, hi = rows["alpha"]["ci95"]
    assert lo <= rows["alpha"]["public"]["MOTA"] <= hi
    assert isinstance(rows["alpha"]["tied_with"], list)

    code, out = prt_here("serve", "admin", "reveal", "pt-main", *server.db_args)
    assert code == 0
    status, board = get(f"{server.url}/api/benchmarks/pt-main/leaderboard")
    assert board["revealed"] is True and board["ranked_on"] == "private"
    rows = {r["team"]: r for r in board["rows"]}
    assert rows["alpha"]["method"] == "net-final" and rows["alpha"]["final"] is True  # its final choice
    assert rows["beta"]["method"] == "beta-net"  # no final choice: its best public
    priv = {k: expected("tracking", data["gt"], data["pred"][k], split["private"], tmp_path / f"priv-{k}")
            for k in ("good", "half")}
    assert nan_free(rows["alpha"]["private"]) == priv["good"]
    assert nan_free(rows["beta"]["private"]) == priv["half"]
    assert priv["good"] != want["good"]  # the parts differ: the private numbers are not the public ones again
    ranked = sorted(board["rows"], key=lambda r: r["rank"])
    assert ranked[0]["private"]["MOTA"] >= ranked[1]["private"]["MOTA"]
    # submissions and final choices close at reveal
    status, reply = post_submission(server.url, "pt-main", beta, name, blob)
    assert status == 409
    status, _, _ = request(f"{server.url}/api/submissions/{best['id']}/final", data=b"", method="POST",
                           headers={"Authorization": f"Bearer {alpha}"})
    assert status == 409


def test_five_concurrent_submissions_against_a_limit_of_three_and_failed_ones_do_not_count(server, data):
    add_benchmark(server, "pt-limits", data["gt"], "--total-limit", "3")
    add_benchmark(server, "pt-daily", data["gt"], "--daily-limit", "2")
    token = add_team(server, "gamma")
    from poseval_refine.commands.submit import pack

    name, blob = pack(data["pred"]["half"])
    results = []
    barrier = threading.Barrier(5)

    def send(i):
        barrier.wait()
        results.append(post_submission(server.url, "pt-limits", token, name, blob, method=f"c{i}"))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(s for s, _ in results)
    assert codes == [202, 202, 202, 429, 429], results
    assert all("total limit" in r["error"] for s, r in results if s == 429)
    stored = db_rows(server.database, "SELECT COUNT(*) FROM prt_submissions s JOIN prt_benchmarks b ON "
                                  "b.id = s.benchmark_id JOIN prt_teams t ON t.id = s.team_id "
                                  "WHERE b.name = 'pt-limits' AND t.name = 'gamma'")
    assert stored == [(3,)]

    # a failed submission (unreadable predictions) does not count against the daily limit of 2
    bad = b'{"annolist": [ this is not json'
    status, reply = post_submission(server.url, "pt-daily", token, "broken.json", bad)
    assert status == 202
    failed = wait_for(server.url, reply["id"], token)
    assert failed["status"] == "failed"
    assert "fix:" in failed["error"] and "broken.json" in failed["error"]
    assert "/tmp" not in failed["error"]  # no server path in the message
    assert [post_submission(server.url, "pt-daily", token, name, blob)[0] for _ in range(3)] == [202, 202, 429]


def test_prt_submit_reports_refusals_and_failures_with_exit_2(server, data, tmp_path):
    add_benchmark(server, "pt-cli", data["gt"])
    token = add_team(server, "delta")
    r = prt("submit", data["pred"]["good"], "--server", server.url, "--token", "prt_wrong", "--benchmark",
            "pt-cli", "--method", "x", check=False)
    assert r.returncode == 2 and "401" in r.stderr and "Traceback" not in r.stderr
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(next(data["pred"]["good"].glob("*.json")), partial)
    code, out = prt_here("submit", partial, "--server", server.url, "--token", token, "--benchmark", "pt-cli",
                         "--method", "x", "--wait", "--json")
    out = json.loads(out)
    assert code == 2 and out["status"] == "failed"
    assert "has no prediction" in out["error"] and "(nor 22 more)" in out["error"]
    code, out, err = prt_here("submit", partial, "--server", server.url, "--token", token, "--benchmark", "pt-cli",
                              "--method", "bad/name", stderr=True)
    assert code == 2 and "prt: error:" in err and "bad/name" in err
    code, out, err = prt_here("submit", partial, "--server", "http://127.0.0.1:9", "--token", token, "--benchmark",
                              "pt-cli", "--method", "x", stderr=True)
    assert code == 2 and "cannot reach the server" in err


def _h5_rows(src: Path, dst: Path, rows: list[int]) -> Path:
    import h5py

    with h5py.File(src, "r") as f, h5py.File(dst, "w") as g:
        for k in f:
            g.create_dataset(k, data=f[k][()][rows])
    return dst


def test_mpii_single_is_split_by_person_and_equals_prt_evaluate_on_those_people(server, shared_data, tmp_path):
    mpii = shared_data / "mpii_val"
    split = add_benchmark(server, "mpii-val", mpii / "valid.h5", "--public-fraction", "0.3", task="single")
    assert len(split["public"]) == round(0.3 * 2958) and sorted(split["public"] + split["private"]) == \
        list(range(2958))
    token = add_team(server, "zeta")
    code, out = prt_here("submit", mpii / "newell.h5", "--server", server.url, "--token", token, "--benchmark",
                         "mpii-val", "--method", "hourglass", "--wait", "--json")
    sub = json.loads(out)
    assert sub["status"] == "done", sub
    gt = _h5_rows(mpii / "valid.h5", tmp_path / "gt.h5", split["public"])
    pred = _h5_rows(mpii / "newell.h5", tmp_path / "pred.h5", split["public"])
    code, _ = prt_here("evaluate", "--gt", gt, "--pred", pred, "--task", "single", "--json", tmp_path / "o.json", "-q")
    want = get_task("single").headline(json.loads((tmp_path / "o.json").read_text()))
    assert sub["public"] == nan_free(want)


def _status(database, sid: int) -> tuple:
    return db_rows(database, "SELECT status, attempts FROM prt_submissions WHERE id = ?", sid)[0]


def _wait_status(database, sid: int, want: str, timeout: float = 60) -> tuple:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _status(database, sid)
        if row[0] == want:
            return row
        time.sleep(0.1)
    raise AssertionError(f"submission {sid} not {want} after {timeout} s: {_status(database, sid)}")


def test_kill_9_of_a_worker_and_of_the_server_loses_nothing(tmp_path, data, fresh_serve_db):
    need_serve_extra()
    root, db = tmp_path / "root", fresh_serve_db
    server = Server(root, workers=0, lease=3.0, db=db).start()
    where = server.database
    workers = []
    try:
        add_benchmark(server, "pt-kill", data["gt"])
        token = add_team(server, "eps")
        from poseval_refine.commands.submit import pack

        name, blob = pack(data["pred"]["good"])
        # 1. a worker killed mid-evaluation while another runs: after the lease the other one evaluates the
        # submission, once (workers given only --db URL on PostgreSQL, as on another machine)
        workers.append(start_worker(root, lease=3.0, db=db, PRT_SERVE_EVAL_DELAY=30))
        status, reply = post_submission(server.url, "pt-kill", token, name, blob, method="k1")
        assert status == 202
        sid1 = reply["id"]
        _wait_status(where, sid1, "running")
        workers.append(start_worker(root, lease=3.0, db=db))
        workers[0].kill()  # SIGKILL
        workers[0].wait(30)
        done = wait_for(server.url, sid1, token)
        assert done["status"] == "done"
        assert _status(where, sid1) == ("done", 2)  # claimed twice, finished once

        # 2. the server killed right after its 202, before any worker ran: the submission is in the database
        workers[1].kill()
        workers[1].wait(30)
        status, reply = post_submission(server.url, "pt-kill", token, name, blob, method="k2")
        assert status == 202
        sid2 = reply["id"]
        server.kill9()
        assert _status(where, sid2) == ("queued", 0)

        # 3. the server (with its in-process worker) killed mid-evaluation, then started again
        server.workers = 1
        server.start(PRT_SERVE_EVAL_DELAY=30)
        _wait_status(where, sid2, "running")
        server.kill9()
        server.start()
        done2 = wait_for(server.url, sid2, token)
        assert done2["status"] == "done" and _status(where, sid2) == ("done", 2)
        assert done2["public"] == done["public"]  # the same predictions: the same numbers
        # nothing lost, nothing doubled: two submissions, both on the board's team row, the board alive
        assert db_rows(where, "SELECT COUNT(*) FROM prt_submissions") == [(2,)]
        status, board = get(f"{server.url}/api/benchmarks/pt-kill/leaderboard")
        assert status == 200 and [r["team"] for r in board["rows"]] == ["eps"]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        server.stop()


def test_two_worker_processes_evaluate_concurrent_submissions_each_exactly_once(tmp_path, data, fresh_serve_db):
    """Issue 31: `prt serve --workers 0` and two separate `prt worker` processes (on PostgreSQL given only --db
    URL). Six submissions of three teams arrive at once while no worker runs; then both workers start together,
    and each sends every queued submission again at its start (as after a crash), so every submission has three
    queue messages and two workers race for them. Each submission must be evaluated once (one claim in the
    database, one "evaluated" line in the two workers' logs together), both workers must have worked, and the
    numbers must be `prt evaluate`'s on each part of the split. Each worker runs three evaluation threads, and
    every evaluation first waits two seconds (PRT_SERVE_EVAL_DELAY), so the duplicate messages meet their
    submission still running: without the claim's condition, it would be evaluated again."""
    need_serve_extra()
    from poseval_refine.commands.submit import pack

    root, db = tmp_path / "root", fresh_serve_db
    server = Server(root, workers=0, lease=5.0, db=db).start()
    where = server.database
    workers = []
    try:
        split = add_benchmark(server, "pt-two", data["gt"], "--split-seed", "3")
        tokens = {t: add_team(server, t) for t in ("w1", "w2", "w3")}
        blobs = {k: pack(data["pred"][k]) for k in ("good", "half", "third")}
        plan = [(team, kind) for i, team in enumerate(tokens) for kind in list(blobs)[i:] + list(blobs)[:i]][:6]
        replies = {}
        barrier = threading.Barrier(len(plan))

        def send(team, kind):
            barrier.wait()
            name, blob = blobs[kind]
            replies[team, kind] = post_submission(server.url, "pt-two", tokens[team], name, blob, method=kind)

        threads = [threading.Thread(target=send, args=p) for p in plan]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(s for s, _ in replies.values()) == [202] * 6, replies
        sids = {key: r["id"] for key, (_, r) in replies.items()}
        assert db_rows(where, "SELECT COUNT(*) FROM prt_submissions WHERE status = 'queued'") == [(6,)]

        workers = [start_worker(root, lease=5.0, db=db, threads=3, PRT_SERVE_EVAL_DELAY=2) for _ in range(2)]
        deadline = time.monotonic() + 240
        while db_rows(where, "SELECT COUNT(*) FROM prt_submissions WHERE status IN ('queued', 'running')")[0][0]:
            assert time.monotonic() < deadline, db_rows(where, "SELECT id, status, attempts FROM prt_submissions")
            assert all(w.poll() is None for w in workers), "a worker exited"
            time.sleep(0.2)
        time.sleep(1.0)  # the three messages of the last submission consumed too
        rows = db_rows(where, "SELECT id, status, attempts FROM prt_submissions ORDER BY id")
        assert rows == [(sid, "done", 1) for sid in sorted(sids.values())]  # one claim each
        stop_processes(workers)
        assert db is None or not root.exists()  # on PostgreSQL no process needed a folder: all is in the database
        evaluated = [re.findall(r"submission (\d+) \(team \d+\) evaluated", w.log_path.read_text()) for w in workers]
        assert sorted(int(s) for log in evaluated for s in log) == sorted(sids.values())  # each once, in all
        assert all(evaluated), evaluated  # both workers evaluated some

        want = {(part, k): expected("tracking", data["gt"], data["pred"][k], split[part], tmp_path / f"{part}-{k}")
                for part in ("public", "private") for k in blobs}
        for (team, kind), sid in sids.items():
            got = get(f"{server.url}/api/submissions/{sid}", tokens[team])[1]
            assert got["status"] == "done" and nan_free(got["public"]) == want["public", kind], (team, kind)
            private = as_json(db_rows(where, "SELECT private FROM prt_submissions WHERE id = ?", sid)[0][0])
            assert nan_free(private["headline"]) == want["private", kind], (team, kind)
    finally:
        stop_processes(workers)
        server.stop()


def test_a_server_and_two_workers_started_at_once_on_an_empty_postgresql_database_make_one_schema(
        tmp_path, data, pg_cluster):
    """Alembic's migrations and Huey's tables made by three processes starting together on an empty PostgreSQL
    database (serialised by advisory locks; two processes creating tables at once collide in PostgreSQL's
    catalog): all three come up, the schema is at the newest migration shipped, and a submission goes through.
    (On SQLite the file's write lock serialises them; every SQLite test starts a server on an empty folder.)"""
    need_serve_extra()
    from alembic.script import ScriptDirectory

    import poseval_refine.serve.db as serve_db

    root, db = tmp_path / "root", pg_cluster.create_database()
    server = Server(root, workers=0, lease=2.0, db=db)
    workers = [start_worker(root, lease=2.0, db=db) for _ in range(2)]
    try:
        server.start()
        deadline = time.monotonic() + 60
        while not all("prt worker: 1 thread(s) on" in w.log_path.read_text() for w in workers):
            assert all(w.poll() is None for w in workers), [w.log_path.read_text() for w in workers]
            assert time.monotonic() < deadline, [w.log_path.read_text() for w in workers]
            time.sleep(0.2)
        head = ScriptDirectory(str(Path(serve_db.__file__).parent / "migrations")).get_current_head()
        assert db_rows(server.database, "SELECT version_num FROM alembic_version") == [(head,)]
        add_benchmark(server, "pt-start", data["gt"])
        token = add_team(server, "theta")
        from poseval_refine.commands.submit import pack

        name, blob = pack(data["pred"]["half"])
        status, reply = post_submission(server.url, "pt-start", token, name, blob)
        assert status == 202 and wait_for(server.url, reply["id"], token)["status"] == "done"
        assert all(w.poll() is None for w in workers)
    finally:
        stop_processes(workers)
        server.stop()
