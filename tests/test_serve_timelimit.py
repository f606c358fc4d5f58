"""The time limit of one evaluation (`prt serve --eval-timeout`, serve/timelimit.py): the evaluation runs in a
child process that is killed when the limit passes; the submission fails with a message saying so, does not
count against the team's limits, and the same submissions evaluate normally under a sane limit."""

from __future__ import annotations

import json
import multiprocessing
import signal
import time

import pytest

from .support.serve import Server, db_rows, need_serve_extra, prt_here

pytestmark = pytest.mark.slow


def test_the_child_returns_the_parts_or_prts_error_or_is_stopped(shared_data, tmp_path):
    need_serve_extra()
    from poseval_refine.errors import PrtError
    from poseval_refine.serve.splits import list_items, make_split
    from poseval_refine.serve.timelimit import (
        GRACE,
        TimeLimitExceeded,
        evaluate_in_time,
        evaluate_upload,
        evaluation_child,
        fork_context,
    )

    case = shared_data / "posetrack_cases" / "synth24"
    split = make_split(list_items("pose", case / "gt"), 0.5, 1)
    args = ("pose", {}, case / "gt", case / "pred", split, "pred.zip")
    here = evaluate_upload(*args)
    assert evaluate_in_time(*args, seconds=600) == here  # the child's numbers are the thread's, bit for bit
    assert here["public"][0]["ap_groups"] != here["private"][0]["ap_groups"]
    bad = tmp_path / "pred"
    bad.mkdir()
    (bad / "zz.json").write_text("{}")
    with pytest.raises(PrtError, match="predictions for sequence 'zz', which the GT lacks"):
        evaluate_in_time("pose", {}, case / "gt", bad, split, "pred.zip", seconds=600)
    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded, match="longer than this server's limit of 0.02 s"):
        evaluate_in_time(*args, seconds=0.02)
    assert time.monotonic() - start < 5  # stopped, not waited for
    assert not [c for c in multiprocessing.active_children() if c.name == "prt-evaluation"]  # killed
    # a child whose worker dies (nobody to kill it) ends itself GRACE seconds after the limit: here the limit
    # is set so that its alarm rings 0.1 s in, in the middle of the evaluation
    ctx = fork_context()
    receive, send = ctx.Pipe(duplex=False)
    orphan = ctx.Process(target=evaluation_child, args=(send, args, 0.1 - GRACE), daemon=True)
    orphan.start()
    send.close()
    orphan.join(30)
    assert orphan.exitcode == -signal.SIGALRM
    with pytest.raises(EOFError):  # ended by the alarm, with nothing sent
        receive.recv()


def test_a_submission_over_the_time_limit_fails_and_does_not_count(shared_data, tmp_path, fresh_serve_db):
    need_serve_extra()
    root = tmp_path / "root"
    case = shared_data / "posetrack_cases" / "synth24"
    server = Server(root, workers=1, db=fresh_serve_db, pg_workers=2, PRT_SERVE_EVAL_TIMEOUT=0.02).start()
    try:
        code, out = prt_here("serve", "admin", "add-benchmark", "tl", *server.db_args, "--task", "tracking", "--gt",
                             case / "gt", "--total-limit", "1")
        assert code == 0, out
        code, token = prt_here("serve", "admin", "add-team", "slow", *server.db_args)
        runs = []
        for _ in range(2):  # the first failed: the second is accepted although the total limit is 1
            code, out = prt_here("submit", case / "pred", "--server", server.url, "--token", token.strip(),
                                 "--benchmark", "tl", "--method", "net", "--wait", "--json")
            runs.append(json.loads(out))
            assert code == 2 and runs[-1]["status"] == "failed", runs[-1]
            assert runs[-1]["error"].startswith("the evaluation took longer than this server's limit of 0.02 s")
        assert db_rows(server.database, "SELECT count(*) FROM prt_submissions WHERE status = 'failed'")[0][0] == 2
    finally:
        server.stop()
    # the same submissions under the default limit: evaluated
    server.start(PRT_SERVE_EVAL_TIMEOUT=1800)
    try:
        code, out = prt_here("serve", "admin", "rerun", "tl", *server.db_args)
        assert code == 0, out
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [r[0] for r in db_rows(server.database, "SELECT status FROM prt_submissions")]
            if states == ["done", "done"]:
                break
            time.sleep(0.2)
        assert states == ["done", "done"]
    finally:
        server.stop()
