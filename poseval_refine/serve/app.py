"""The web application (Starlette): the JSON API, the pages, sign-in, the upload form.

Security, route by route (docs/serve.md has the threat model): the API authenticates with a team's
bearer token (hashed in the database, compared in constant time); pages with a signed session cookie
(SameSite=Strict, HttpOnly) made by signing in with that token, and every form carries a CSRF token
bound to the session. Sign-in and submissions are rate limited (``ratelimit``: per client address, and
per team for submissions) and refused with 429 before they cost a transaction. A submission's body is read
with a cap and refused with 413 before anything is stored; archives are checked before the 202. No route
serves GT, another team's submissions, or any private number before reveal. Every page is escaped by
Jinja2 and sent with a Content-Security-Policy that allows only the page's own inline style and script, by
a per-response nonce.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
from contextlib import asynccontextmanager
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import ConfigError, InputError
from . import admin
from .archives import EXPANSION, check_archive, kind
from .board import BoardWarmer, board_html, leaderboard_json
from .db import Benchmark, Database, Submission, Team
from .queue import Queue
from .ratelimit import RateLimiter, too_many

log = logging.getLogger("prt.serve")
TEMPLATES = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                        autoescape=select_autoescape(default=True, default_for_string=True))
#: bytes a multipart body may carry besides the file (boundaries, headers, the method name)
MULTIPART_SLACK = 64 * 1024
_FILENAME = re.compile(r"[^A-Za-z0-9._+-]")


class TooLarge(Exception):
    pass


class SecurityHeaders:
    """Pure ASGI middleware: every response (Starlette's own 404/405 included) gets the security headers, and a
    strict CSP when the route set none (a page sets its own, with its nonce)."""

    DEFAULTS = ((b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
                (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                (b"x-frame-options", b"DENY"))

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in self.DEFAULTS
                                                                         if k not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csp(nonce: str) -> str:
    return (f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def secure(response: Response, nonce: str | None = None, *, cache: bool = False) -> Response:
    response.headers["Content-Security-Policy"] = csp(nonce or secrets.token_urlsafe(16))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not cache:
        response.headers["Cache-Control"] = "no-store"
    return response


def finite(x):
    """JSON has no NaN: a metric without a value is null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [finite(v) for v in x]
    return x


def api_error(status: int, message: str) -> Response:
    return secure(JSONResponse({"error": message}, status_code=status))


def safe_filename(name: str | None) -> str:
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    base = _FILENAME.sub("_", base).lstrip(".") or "upload"
    return base[:200]


async def read_capped(request: Request, cap: int) -> bytes:
    """The request body, refused (TooLarge) as soon as it passes ``cap`` bytes: by its Content-Length before
    reading anything, else while it streams in."""
    length = request.headers.get("content-length")
    if length is not None:
        try:
            if int(length) > cap:
                raise TooLarge
        except ValueError:
            raise TooLarge from None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise TooLarge
    return bytes(body)


async def drain(request: Request, cap: int) -> None:
    """Read and drop the request body (up to ``cap`` bytes), so that a refusal reaches a client that is still
    sending instead of meeting a reset connection; nothing is kept."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > cap):
        return
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > cap:
            return


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def parse_form(request: Request, body: bytes):
    """The multipart/urlencoded form of an already-read body (python-multipart, via Starlette)."""
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await Request(request.scope, receive).form(max_files=1, max_fields=10)


#: submissions a team may send per minute (a client address ten times as many: teams behind one address)
SUBMIT_RATE = 30
#: sign-in attempts per minute and client address
SIGNIN_RATE = 20


def create_app(db: Database, queue: Queue, *, workers: int = 0, https_cookies: bool = False,
               submit_rate: int = SUBMIT_RATE, signin_rate: int = SIGNIN_RATE) -> Starlette:
    """The application; ``submit_rate`` and ``signin_rate``: the per-minute limits (0: none)."""
    state: dict = {}
    limits = {"team": RateLimiter(submit_rate), "address": RateLimiter(10 * submit_rate),
              "signin": RateLimiter(signin_rate)}

    # ----------------------------------------------------------------- helpers
    def current_team(request: Request) -> Team | None:
        tid, tok = request.session.get("team"), request.session.get("tok")
        if tid is None:
            return None
        with db.session() as s:
            team = s.get(Team, tid)
        if team is None or not team.token_hash or not hmac.compare_digest(team.token_hash[:16], str(tok)):
            request.session.pop("team", None)  # revoked or rotated: signed out
            return None
        return team

    def csrf_token(request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = secrets.token_urlsafe(32)
        return request.session["csrf"]

    def csrf_ok(request: Request, form) -> bool:
        want = request.session.get("csrf")
        got = form.get("csrf") if form is not None else None
        return bool(want) and isinstance(got, str) and hmac.compare_digest(want, got)

    def page(request: Request, template: str, status: int = 200, **context) -> Response:
        nonce = secrets.token_urlsafe(16)
        team = context.pop("team", None) or current_team(request)
        message = context.pop("message", None) or request.session.pop("flash", None)
        html = TEMPLATES.get_template(template).render(nonce=nonce, team=team, csrf=csrf_token(request),
                                                       message=message, **context)
        return secure(HTMLResponse(html, status_code=status), nonce)

    def bearer_team(request: Request) -> Team | None:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return None
        return admin.team_for_token(db, auth[7:].strip())

    def find_benchmark(name: str) -> Benchmark | None:
        with db.session() as s:
            return s.execute(select(Benchmark).where(Benchmark.name == name)).scalar_one_or_none()

    async def rate_limited(request: Request, bench: Benchmark, team: Team | None) -> tuple[str, float] | None:
        """(message, seconds to wait) when the client address (``team`` None) or the team is over its
        submission rate; the body is then drained, never parsed or stored."""
        which, key = ("address", client_address(request)) if team is None else ("team", str(team.id))
        wait = limits[which].hit(key)
        if wait is None:
            return None
        log.warning("rate limit: %s %s over %d submission requests per minute", which, key, limits[which].limit)
        await drain(request, int(bench.max_upload_mb * 1e6) + MULTIPART_SLACK)
        what = "submission requests from one address" if team is None else "submissions of a team"
        return too_many(what, limits[which].limit, wait), wait

    def refused_rate(message: str, wait: float) -> Response:
        response = api_error(429, message)
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    async def take_submission(request: Request, bench: Benchmark, team: Team, *, form_csrf: bool):
        """(status, payload): 202 with the id, or the refusal. The body is capped before it is parsed."""
        max_bytes = int(bench.max_upload_mb * 1e6)
        try:
            body = await read_capped(request, max_bytes + MULTIPART_SLACK)
        except TooLarge:
            return 413, f"upload larger than this benchmark's limit of {bench.max_upload_mb:g} MB"
        try:
            form = await parse_form(request, body)
        except Exception as e:  # python-multipart's and Starlette's parse errors
            return 400, f"the body is not a multipart form ({type(e).__name__})"
        if form_csrf and not csrf_ok(request, form):
            return 403, "the form's CSRF token is missing or wrong; reload the page and submit again"
        # refusals that need no upload are answered after the body is read all the same: an answer sent before
        # may meet a client still sending, whose connection the server's close then resets
        if bench.revealed_at is not None:
            return 409, f"{bench.name} is revealed: submissions are closed"
        upload = form.get("file")
        method = form.get("method")
        if upload is None or isinstance(upload, str):
            return 400, "no file: send the predictions as the multipart field 'file'"
        if not isinstance(method, str):
            return 400, "no method: send a display name as the multipart field 'method'"
        try:
            admin.check_name(method, "method")
        except ConfigError as e:
            return 400, e.message
        data = await upload.read()
        if len(data) > max_bytes:
            return 413, f"upload larger than this benchmark's limit of {bench.max_upload_mb:g} MB"
        if not data:
            return 400, "the file is empty"
        filename = safe_filename(upload.filename)
        final = str(form.get("final", "")).lower() in ("1", "true", "yes", "on")
        if kind(data) is not None:
            try:
                await run_in_threadpool(check_archive, data, filename, max_bytes * EXPANSION)
            except InputError as e:
                return 400, e.message
        try:
            sid = await run_in_threadpool(admin.create_submission, db, bench.name, team.id, method, filename, data,
                                          final)
        except admin.LimitReached as e:
            return 429, e.message
        try:  # committed: from here the submission is safe; a lost message is sent again by the reaper
            await run_in_threadpool(queue.send, sid)
        except Exception:
            log.exception("sending submission %s to the queue (the reaper will send it again)", sid)
        return 202, sid

    # ----------------------------------------------------------------- API
    async def api_submit(request: Request) -> Response:
        bench = await run_in_threadpool(find_benchmark, request.path_params["name"])
        if bench is None:
            return api_error(404, f"no benchmark {request.path_params['name']!r}")
        if (over := await rate_limited(request, bench, None)) is not None:
            return refused_rate(*over)
        team = await run_in_threadpool(bearer_team, request)
        if team is None:
            return api_error(401, "missing or unknown token: send 'Authorization: Bearer TOKEN'")
        if (over := await rate_limited(request, bench, team)) is not None:
            return refused_rate(*over)
        status, payload = await take_submission(request, bench, team, form_csrf=False)
        if status != 202:
            return api_error(status, payload)
        return secure(JSONResponse({"id": payload, "status": "queued"}, status_code=202))

    def submission_json(sub: Submission, bench: Benchmark) -> dict:
        out = {"id": sub.id, "benchmark": bench.name, "method": sub.method, "status": sub.status,
               "final": bool(sub.final), "error": sub.error,
               "public": finite((sub.public or {}).get("headline")) if sub.public else None,
               "created_at": sub.created_at.isoformat() + "Z",
               "finished_at": sub.finished_at.isoformat() + "Z" if sub.finished_at else None}
        if bench.revealed_at is not None and sub.private:
            out["private"] = finite(sub.private.get("headline"))
        return out

    def api_submission(request: Request) -> Response:
        team = bearer_team(request)
        if team is None:
            return api_error(401, "missing or unknown token: send 'Authorization: Bearer TOKEN'")
        try:
            sid = int(request.path_params["id"])
        except ValueError:
            return api_error(404, "no such submission")
        with db.session() as s:
            sub = s.get(Submission, sid)
            bench = s.get(Benchmark, sub.benchmark_id) if sub is not None else None
        if sub is None or sub.team_id != team.id:  # another team's: as if it did not exist
            return api_error(404, "no such submission of your team")
        return secure(JSONResponse(submission_json(sub, bench)))

    async def api_final(request: Request) -> Response:
        team = await run_in_threadpool(bearer_team, request)
        if team is None:
            return api_error(401, "missing or unknown token: send 'Authorization: Bearer TOKEN'")
        try:
            sid = int(request.path_params["id"])
        except ValueError:
            return api_error(404, "no such submission of your team")
        why = await run_in_threadpool(admin.mark_final, db, team.id, sid)
        if why is not None:
            return api_error(404 if why.startswith("no such") else 409, why)
        return secure(JSONResponse({"id": sid, "final": True}))

    async def form_final(request: Request) -> Response:
        team = await run_in_threadpool(current_team, request)
        if team is None:
            return secure(RedirectResponse("/signin", status_code=303))
        try:
            form = await parse_form(request, await read_capped(request, 16 * 1024))
        except Exception:
            form = None
        if not csrf_ok(request, form):
            request.session["flash"] = "The form expired; try again."
        else:
            try:
                sid = int(request.path_params["id"])
            except ValueError:
                sid = -1
            why = await run_in_threadpool(admin.mark_final, db, team.id, sid)
            request.session["flash"] = why or f"Submission {sid} is your final choice."
        return secure(RedirectResponse("/team", status_code=303))

    def api_me(request: Request) -> Response:
        team = bearer_team(request)
        if team is None:
            return api_error(401, "missing or unknown token: send 'Authorization: Bearer TOKEN'")
        return secure(JSONResponse({"team": team.name}))

    def api_leaderboard(request: Request) -> Response:
        bench = find_benchmark(request.path_params["name"])
        if bench is None:
            return api_error(404, f"no benchmark {request.path_params['name']!r}")
        return secure(JSONResponse(finite(leaderboard_json(db, bench))))

    def api_benchmarks(request: Request) -> Response:
        with db.session() as s:
            benches = s.execute(select(Benchmark).order_by(Benchmark.name)).scalars().all()
        return secure(JSONResponse({"benchmarks": [
            {"name": b.name, "task": b.task, "public_items": len(b.split["public"]),
             "private_items": len(b.split["private"]), "max_upload_mb": b.max_upload_mb,
             "daily_limit": b.daily_limit, "total_limit": b.total_limit, "revealed": b.revealed_at is not None}
            for b in benches]}))

    # ----------------------------------------------------------------- pages
    def index(request: Request) -> Response:
        with db.session() as s:
            benches = s.execute(select(Benchmark).order_by(Benchmark.name)).scalars().all()
            counts = dict(s.execute(select(Submission.benchmark_id, func.count()).group_by(Submission.benchmark_id)
                                    ).all())
        return page(request, "index.html", title="Benchmarks", benchmarks=benches, counts=counts)

    def board_page(request: Request) -> Response:
        bench = find_benchmark(request.path_params["name"])
        if bench is None:
            return page(request, "error.html", 404, title="Not found", detail="No such benchmark.")
        html, part = board_html(db, bench)
        html = re.sub(r"(<p class=\"empty\">No results: [^<]*)\. Add one with <code>[^<]*</code>\.", r"\1.", html,
                      count=1)
        nonce = secrets.token_urlsafe(16)
        team = current_team(request)
        what = ("final ranking: each team's final choice on the private items (revealed)" if part == "private"
                else "public board: each team's best submission on the public items; the private items stay "
                     "hidden until reveal")
        from html import escape

        head = ('<p class="sub" id="serve-nav"><a href="/">All benchmarks</a> · '
                + (f'<a href="/benchmarks/{escape(bench.name)}/submit">Submit</a> · <a href="/team">Team '
                   f'{escape(team.name)}</a>' if team else '<a href="/signin">Sign in</a>')
                + f"</p><p class=\"sub\" id=\"board-kind\">{escape(bench.name)}: {escape(what)}.</p>")
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html, count=1)
        html = html.replace("<title>prt leaderboard</title>", f"<title>{escape(bench.name)} · prt serve</title>")
        html = html.replace("<h1>prt leaderboard</h1>", f"<h1>{escape(bench.name)}</h1>{head}", 1)
        html = html.replace("<style>", f'<style nonce="{nonce}">').replace("<script>", f'<script nonce="{nonce}">')
        return secure(HTMLResponse(html), nonce)

    def signin_page(request: Request) -> Response:
        return page(request, "signin.html", title="Sign in")

    async def signin(request: Request) -> Response:
        wait = limits["signin"].hit(client_address(request))
        if wait is not None:
            log.warning("rate limit: sign-in from %s", client_address(request))
            await drain(request, 16 * 1024)
            response = await run_in_threadpool(page, request, "signin.html", 429, title="Sign in",
                                               message=too_many("sign-in attempts", limits["signin"].limit, wait))
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        try:
            form = await parse_form(request, await read_capped(request, 16 * 1024))
        except (TooLarge, Exception):
            return await run_in_threadpool(page, request, "signin.html", 400, title="Sign in",
                                           message="Bad sign-in request.")
        if not csrf_ok(request, form):
            return await run_in_threadpool(page, request, "signin.html", 403, title="Sign in",
                                           message="The form expired; sign in again.")
        team = await run_in_threadpool(admin.team_for_token, db, str(form.get("token", "")).strip())
        if team is None:
            return await run_in_threadpool(page, request, "signin.html", 401, title="Sign in",
                                           message="Unknown or revoked token.")
        request.session.clear()
        request.session.update(team=team.id, tok=team.token_hash[:16], csrf=secrets.token_urlsafe(32),
                               flash=f"Signed in as team {team.name}.")
        return secure(RedirectResponse("/team", status_code=303))

    async def signout(request: Request) -> Response:
        try:
            form = await parse_form(request, await read_capped(request, 16 * 1024))
        except Exception:  # too large or not a form: nothing to sign out with
            form = None
        if csrf_ok(request, form):
            request.session.clear()
        return secure(RedirectResponse("/", status_code=303))

    def team_page(request: Request) -> Response:
        team = current_team(request)
        if team is None:
            return secure(RedirectResponse("/signin", status_code=303))
        with db.session() as s:
            subs = s.execute(select(Submission, Benchmark.name, Benchmark.task)
                             .join(Benchmark, Benchmark.id == Submission.benchmark_id)
                             .where(Submission.team_id == team.id).order_by(Submission.id.desc())).all()
            benches = s.execute(select(Benchmark).where(Benchmark.revealed_at.is_(None))
                                .order_by(Benchmark.name)).scalars().all()
        open_ids = {b.id for b in benches}
        return page(request, "team.html", title=f"Team {team.name}", team=team,
                    submissions=[tuple(r) for r in subs], benchmarks=benches, open_ids=open_ids)

    async def submit_page(request: Request) -> Response:
        team = await run_in_threadpool(current_team, request)
        if team is None:
            return secure(RedirectResponse("/signin", status_code=303))
        bench = await run_in_threadpool(find_benchmark, request.path_params["name"])
        if bench is None:
            return await run_in_threadpool(page, request, "error.html", 404, title="Not found",
                                           detail="No such benchmark.")
        if request.method == "GET":
            return await run_in_threadpool(page, request, "submit.html", title=f"Submit to {bench.name}",
                                           bench=bench, team=team)
        over = await rate_limited(request, bench, None) or await rate_limited(request, bench, team)
        if over is not None:
            response = await run_in_threadpool(page, request, "submit.html", 429, title=f"Submit to {bench.name}",
                                               bench=bench, team=team, message=over[0])
            response.headers["Retry-After"] = str(max(1, math.ceil(over[1])))
            return response
        status, payload = await take_submission(request, bench, team, form_csrf=True)
        if status == 202:
            request.session["flash"] = f"Submission {payload} to {bench.name} is queued."
            return secure(RedirectResponse("/team", status_code=303))
        return await run_in_threadpool(page, request, "submit.html", status, title=f"Submit to {bench.name}",
                                       bench=bench, team=team, message=payload)

    def not_found(request: Request, exc) -> Response:
        if request.url.path.startswith("/api/"):
            return api_error(404, "no such route")
        return page(request, "error.html", 404, title="Not found", detail="No such page.")

    @asynccontextmanager
    async def lifespan(app):
        consumer = None
        if workers > 0:
            from .queue import start_workers

            consumer = await run_in_threadpool(start_workers, queue, workers)
        state["consumer"] = consumer
        warmer = BoardWarmer(db)
        warmer.start()
        try:
            yield
        finally:
            warmer.stop()
            if consumer is not None:
                consumer.stop()

    routes = [
        Route("/", index),
        Route("/benchmarks/{name}", board_page),
        Route("/benchmarks/{name}/submit", submit_page, methods=["GET", "POST"]),
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/team", team_page),
        Route("/api/benchmarks", api_benchmarks),
        Route("/api/me", api_me),
        Route("/api/benchmarks/{name}/submissions", api_submit, methods=["POST"]),
        Route("/api/benchmarks/{name}/leaderboard", api_leaderboard),
        Route("/api/submissions/{id}", api_submission),
        Route("/api/submissions/{id}/final", api_final, methods=["POST"]),
        Route("/submissions/{id}/final", form_final, methods=["POST"]),
    ]
    secret = db.setting("session_key", lambda: secrets.token_hex(32))
    middleware = [Middleware(SecurityHeaders),
                  Middleware(SessionMiddleware, secret_key=secret, session_cookie="prt_session", same_site="strict",
                             https_only=https_cookies, max_age=14 * 24 * 3600)]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={404: not_found})
