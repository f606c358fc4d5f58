"""``prt serve``: host a pose benchmark with a hidden test set (pages, JSON API, evaluation workers), and
``prt serve admin ...``, what its maintainer does. Needs the ``serve`` extra. See docs/serve.md."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from ..errors import ConfigError
from ..evaluators import task_names
from ..log import setup_cli_logging
from ..optional import require
from ._options import task_option
from .evaluate import task_option_flags

ROOT = click.option("--root", type=click.Path(path_type=Path), default=None,
                    help="The server's folder; its SQLite file is the database unless --db is given.")
DB = click.option("--db", "db_url", default=None, metavar="URL", envvar="PRT_SERVE_DB",
                  help="Database URL (sqlalchemy form, e.g. postgresql://user@host/prt); default: SQLite in --root.")
LEASE = click.option("--lease", type=click.FloatRange(min=0.5), default=30.0, show_default=True,
                     help="Seconds without a heartbeat after which a running evaluation's worker is taken for dead "
                          "and the submission is evaluated again.")
EVAL_TIMEOUT = click.option("--eval-timeout", type=click.FloatRange(min=0), default=1800.0, show_default=True,
                            envvar="PRT_SERVE_EVAL_TIMEOUT",
                            help="Seconds one evaluation may take; a longer one is stopped and the submission fails "
                                 "(not counted against the team's limits). 0: no limit (evaluated in the worker's "
                                 "thread).")


def open_database(root, db_url):
    for module in ("sqlalchemy", "alembic", "starlette", "huey", "peewee", "uvicorn", "python_multipart"):
        require(module, "prt serve")
    from ..serve.db import Database, database_url

    return Database(database_url(root, db_url))


@click.group(invoke_without_command=True, help="Host a benchmark with a hidden test set: pages, the JSON API and "
             "evaluation workers. `prt serve admin --help` for the maintainer's commands; docs/serve.md.")
@ROOT
@DB
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=0), default=1, show_default=True,
              help="Evaluation workers (threads) in this process; 0 serves only (run `prt worker` elsewhere).")
@LEASE
@EVAL_TIMEOUT
@click.option("--https-cookies", is_flag=True, help="Mark the session cookie Secure (behind an HTTPS proxy).")
@click.option("--submit-rate", type=click.IntRange(min=0), default=30, show_default=True,
              envvar="PRT_SERVE_SUBMIT_RATE",
              help="Submission requests a team may send per minute (a client address 10x as many); more get 429. "
                   "0: no limit.")
@click.option("--signin-rate", type=click.IntRange(min=0), default=20, show_default=True,
              envvar="PRT_SERVE_SIGNIN_RATE",
              help="Sign-in attempts per minute and client address; more get 429. 0: no limit.")
@click.option("--forwarded-allow-ips", default=None, metavar="IPS", envvar="PRT_SERVE_FORWARDED_ALLOW_IPS",
              help="Behind a reverse proxy: its addresses (comma list), whose X-Forwarded-For then names the client "
                   "(for the per-address rate limits). Default: the connecting address is the client.")
@click.pass_context
def command(ctx, root, db_url, host, port, workers, lease, eval_timeout, https_cookies, submit_rate, signin_rate,
            forwarded_allow_ips):
    if ctx.invoked_subcommand is not None:
        return
    setup_cli_logging(False)
    db = open_database(root, db_url)
    import uvicorn

    from ..serve.app import create_app
    from ..serve.queue import Queue

    app = create_app(db, Queue(db, lease=lease, eval_timeout=eval_timeout or None), workers=workers,
                     https_cookies=https_cookies, submit_rate=submit_rate, signin_rate=signin_rate)
    logging.getLogger("prt").info("prt serve: http://%s:%d/ (database %s, %d worker(s))", host, port,
                                  db.engine.url.render_as_string(hide_password=True), workers)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False,
                proxy_headers=forwarded_allow_ips is not None, forwarded_allow_ips=forwarded_allow_ips)


@command.group(help="The maintainer's commands: benchmarks, teams, tokens, split, reruns, reveal.")
def admin():
    pass


@admin.command("add-benchmark", help="Store a benchmark's hidden GT and split its items into public and private.")
@click.argument("name")
@ROOT
@DB
@task_option(task_names(), required=True, help="The task submissions are evaluated on.")
@click.option("--gt", type=click.Path(path_type=Path), required=True, help="The hidden GT file or folder.")
@task_option_flags
@click.option("--public-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.5,
              show_default=True, help="Share of the items on the public board.")
@click.option("--split-seed", type=int, default=0, show_default=True, help="Seed of the split.")
@click.option("--daily-limit", type=click.IntRange(min=1), default=None, help="Submissions per team per UTC day.")
@click.option("--total-limit", type=click.IntRange(min=1), default=None, help="Submissions per team in all.")
@click.option("--max-upload-mb", type=click.FloatRange(min=0, min_open=True), default=50.0, show_default=True,
              help="Largest upload accepted (413 above it).")
def add_benchmark(name, root, db_url, task, gt, public_fraction, split_seed, daily_limit, total_limit,
                  max_upload_mb, **options):
    from ..evaluators import OPTIONS, get_task
    from ..serve import admin as ops

    given = {k: v for k, v in options.items() if v != OPTIONS[k].default}
    if "plot" in given:
        raise ConfigError("--plot does not apply to a hosted benchmark")
    if "workers" in given:
        raise ConfigError("--workers (sequences in parallel) does not apply to a hosted benchmark",
                          fix="run more evaluation workers instead: prt serve --workers N, or prt worker")
    get_task(task).take_options(given)
    db = open_database(root, db_url)
    split = ops.add_benchmark(db, name, task=task, gt=gt, options=given, public_fraction=public_fraction,
                              split_seed=split_seed, daily_limit=daily_limit, total_limit=total_limit,
                              max_upload_mb=max_upload_mb)
    click.echo(f"benchmark {name}: task {task}, {len(split['public'])} public and {len(split['private'])} private "
               f"items (seed {split_seed})")


@admin.command("add-team", help="Add a team; prints its API token once (only its hash is stored).")
@click.argument("team")
@ROOT
@DB
def add_team(team, root, db_url):
    from ..serve import admin as ops

    click.echo(ops.add_team(open_database(root, db_url), team))


@admin.command("rotate-token", help="Give a team a new token (the old one stops working); prints it once.")
@click.argument("team")
@ROOT
@DB
def rotate_token(team, root, db_url):
    from ..serve import admin as ops

    click.echo(ops.rotate_token(open_database(root, db_url), team))


@admin.command("revoke-token", help="Revoke a team's token (API and signed-in pages refuse it).")
@click.argument("team")
@ROOT
@DB
def revoke_token(team, root, db_url):
    from ..serve import admin as ops

    ops.revoke_token(open_database(root, db_url), team)
    click.echo(f"team {team}: token revoked")


@admin.command("split", help="The benchmark's public and private items (admin only).")
@click.argument("name")
@ROOT
@DB
@click.option("--json", "as_json", is_flag=True, help='Print {"public": [items], "private": [items]}.')
def split(name, root, db_url, as_json):
    from ..serve import admin as ops

    parts = ops.split_of(open_database(root, db_url), name)
    if as_json:
        click.echo(json.dumps({"public": parts["public"], "private": parts["private"]}))
    else:
        for part in ("public", "private"):
            click.echo(f"{part} ({len(parts[part])}): {' '.join(map(str, parts[part]))}")


@admin.command("status", help="Benchmarks (parts, limits, submissions per state) and teams.")
@ROOT
@DB
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def status(root, db_url, as_json):
    from ..serve import admin as ops

    st = ops.status(open_database(root, db_url))
    if as_json:
        click.echo(json.dumps(st))
        return
    for b in st["benchmarks"]:
        subs = ", ".join(f"{n} {k}" for k, n in b["submissions"].items())
        click.echo(f"{b['name']}: task {b['task']}, {b['public_items']} public / {b['private_items']} private items, "
                   f"{'revealed' if b['revealed'] else 'open'}; submissions: {subs}")
    for t in st["teams"]:
        click.echo(f"team {t['name']}: {t['submissions']} submission(s){'' if t['token'] else ', token revoked'}")


@admin.command("reveal", help="Make the private board public: the final ranking (submissions close).")
@click.argument("name")
@ROOT
@DB
def reveal(name, root, db_url):
    from ..serve import admin as ops

    ops.reveal(open_database(root, db_url), name)
    click.echo(f"benchmark {name}: revealed")


@admin.command("rerun", help="Evaluate every submission of a benchmark again (e.g. after a GT fix with --gt).")
@click.argument("name")
@ROOT
@DB
@click.option("--gt", type=click.Path(path_type=Path), default=None, help="The fixed GT (the same items).")
def rerun(name, root, db_url, gt):
    from ..serve import admin as ops
    from ..serve.queue import Queue

    db = open_database(root, db_url)
    ids = ops.rerun(db, name, gt)
    queue = Queue(db)
    for sid in ids:
        queue.send(sid)
    click.echo(f"benchmark {name}: {len(ids)} submission(s) queued again")
