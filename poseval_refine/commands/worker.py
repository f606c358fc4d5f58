"""``prt worker``: one more evaluation worker for ``prt serve``, on this machine or another; it needs only the
database (``--root DIR`` of a local server, or ``--db URL``)."""

from __future__ import annotations

import logging

import click

from ..log import setup_cli_logging
from .serve import DB, EVAL_TIMEOUT, LEASE, ROOT, open_database


@click.command(help="Evaluate queued submissions of a `prt serve` database until interrupted (SIGINT/SIGTERM).")
@ROOT
@DB
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Evaluations at once in this process.")
@LEASE
@EVAL_TIMEOUT
def command(root, db_url, threads, lease, eval_timeout):
    setup_cli_logging(False)
    db = open_database(root, db_url)
    from ..serve.queue import Queue, run_worker

    logging.getLogger("prt").info("prt worker: %d thread(s) on %s", threads,
                                  db.engine.url.render_as_string(hide_password=True))
    run_worker(Queue(db, lease=lease, eval_timeout=eval_timeout or None), threads)
