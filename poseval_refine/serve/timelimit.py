"""One submission's evaluation under a time limit (``prt serve --eval-timeout``, ``prt worker --eval-timeout``).

Workers are threads, and a thread cannot be stopped; so with a limit the evaluation runs in a child process
that is killed when the limit passes. Children come from a fork server (``multiprocessing``'s
``forkserver``: a clean process started once, with prt's evaluators imported, that forks each child), so
they inherit no database connection, lock or thread of the worker and start in milliseconds. The child
sends back plain data (each part's result JSON and options) or prt's error message; the worker keeps
renewing its heartbeat meanwhile, so a long evaluation is not taken for a dead worker's.

A submission over the limit fails with a message saying so; a failed submission does not count against the
team's limits (``admin.create_submission``).
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from pathlib import Path
from typing import Any

from ..errors import PrtError

#: what the child evaluates: {part: (result JSON data, the options the task ran with)}
Parts = dict[str, tuple[dict, dict]]

#: seconds past the limit after which a child whose worker died ends itself
GRACE = 5.0

_context_lock = threading.Lock()
_context = None


class TimeLimitExceeded(PrtError):
    """The evaluation of a submission took longer than the server allows."""


def evaluate_upload(task: str, options: dict[str, Any], gt: Path, pred: Path, split: dict, filename: str) -> Parts:
    """Check the whole prediction, evaluate it once and take the public and private parts (``splits``)."""
    from .splits import check_prediction, evaluate_parts

    check_prediction(task, gt, pred, split["public"] + split["private"], filename)
    results = evaluate_parts(task, options, gt, pred, {p: split[p] for p in ("public", "private")})
    return {p: (r.to_dict(), r.options) for p, r in results.items()}


def evaluation_child(conn, args: tuple, seconds: float) -> None:
    if hasattr(signal, "setitimer"):  # the child ends itself a little after the limit, should its worker be
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # killed meanwhile (kill -9) and no one stop it
        signal.setitimer(signal.ITIMER_REAL, seconds + GRACE)
    try:
        outcome = ("done", evaluate_upload(*args))
    except PrtError as e:
        outcome = ("error", e.message)
    except BaseException as e:  # noqa: BLE001 - reported to the worker, which logs it as an internal error
        outcome = ("crash", f"{type(e).__name__}: {e}")
    try:
        conn.send(outcome)
    except OSError:  # the worker is gone: nobody to tell
        pass
    finally:
        conn.close()


def fork_context():
    """The fork server's context (``spawn`` where there is none), its server preloading the evaluators."""
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if ctx.get_start_method() == "forkserver":
                ctx.set_forkserver_preload(["poseval_refine.serve.timelimit", "poseval_refine.api",
                                            "poseval_refine.evaluators"])
            _context = ctx
        return _context


def evaluate_in_time(task: str, options: dict[str, Any], gt: Path, pred: Path, split: dict, filename: str,
                     seconds: float | None) -> Parts:
    """:func:`evaluate_upload`, in a child process killed after ``seconds`` (None or 0: in this thread, no
    limit). Raises prt's error of the evaluation, or :class:`TimeLimitExceeded`."""
    args = (task, options, Path(gt), Path(pred), split, filename)
    if not seconds:
        return evaluate_upload(*args)
    ctx = fork_context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=evaluation_child, args=(send, args, seconds), daemon=True, name="prt-evaluation")
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise TimeLimitExceeded(
                f"the evaluation took longer than this server's limit of {seconds:g} s and was stopped; a failed "
                "submission does not count against your limits",
                fix="submit predictions of the benchmark's size (a file with far more people than the GT "
                    "evaluates slowly), or ask the benchmark's maintainer")
        try:
            kind, value = receive.recv()
        except EOFError:  # the child died without a word: killed (out of memory?) or crashed
            child.join(5)
            raise RuntimeError(f"the evaluation process ended with exit code {child.exitcode}") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if kind == "error":
        raise PrtError(value)
    if kind == "crash":
        raise RuntimeError(f"the evaluation process failed: {value}")
    return value
