"""Rate limits of prt serve, tested as an attacker would probe them: token guessing on the sign-in form and
submission floods (a bad token from one address; one team's token from many addresses) are refused with 429
and a Retry-After before anything is stored, while other clients go on (docs/serve.md, threat model)."""

from __future__ import annotations

import json
import re
import secrets
import urllib.parse
import urllib.request

import pytest

from .support.serve import Server, add_team, db_rows, multipart, need_serve_extra, prt_here, request

pytestmark = pytest.mark.slow


def test_the_sliding_window_counts_per_key_and_forgets_after_a_minute():
    need_serve_extra()
    from poseval_refine.serve.ratelimit import RateLimiter

    now = [100.0]
    lim = RateLimiter(3, window=60, max_keys=2, clock=lambda: now[0])
    assert [lim.hit("a") for _ in range(3)] == [None, None, None]
    now[0] += 10
    assert lim.hit("a") == pytest.approx(50.0)  # the first of the three leaves the window at 160
    assert lim.hit("b") is None  # another key has its own count
    now[0] += 50.5  # t = 160.5: the three hits of t = 100 have left; the refused one was never counted
    assert [lim.hit("a") for _ in range(3)] == [None, None, None]
    assert lim.hit("a") == pytest.approx(60.0)
    lim.hit("c")  # a third key: the least recently seen ("b") is dropped, memory stays bounded
    assert list(lim.events) == ["a", "c"]
    off = RateLimiter(0, clock=lambda: now[0])
    assert all(off.hit("x") is None for _ in range(1000)) and not off.events


class Client:
    """A browser-like client with its own cookie jar, appearing from address ``ip`` (X-Forwarded-For, which
    the server trusts from its loopback proxy address only)."""

    def __init__(self, url: str, ip: str):
        import http.cookiejar

        self.url, self.ip = url, ip
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def sign_in(self, token: str) -> tuple[int, dict]:
        _, _, page = request(self.url + "/signin", headers={"X-Forwarded-For": self.ip}, opener=self.opener)
        csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
        body = urllib.parse.urlencode({"csrf": csrf, "token": token}).encode()
        status, headers, _ = request(self.url + "/signin", data=body, opener=self.opener,
                                     headers={"X-Forwarded-For": self.ip,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        return status, headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_data, serve_db):
    need_serve_extra()
    root = tmp_path_factory.mktemp("serve-rate") / "root"
    s = Server(root, workers=0, db=serve_db, PRT_SERVE_SUBMIT_RATE=3, PRT_SERVE_SIGNIN_RATE=4,
               PRT_SERVE_FORWARDED_ALLOW_IPS="127.0.0.1").start()
    code, out = prt_here("serve", "admin", "add-benchmark", "rl", *s.db_args, "--task", "pose", "--gt",
                         shared_data / "posetrack_cases" / "synth24" / "gt")
    assert code == 0, out
    yield s
    s.stop()


def test_token_guessing_on_the_sign_in_form_is_stopped(server):
    token = add_team(server, "victim")
    attacker = Client(server.url, "203.0.113.7")
    codes = [attacker.sign_in("prt_" + secrets.token_urlsafe(32))[0] for _ in range(7)]
    assert codes[:4] == [401] * 4 and codes[4:] == [429] * 3
    status, headers = attacker.sign_in(token)  # even the right token: the address is blocked for now
    assert status == 429 and 1 <= int({k.lower(): v for k, v in headers.items()}["retry-after"]) <= 60
    # the team itself, from its own address, signs in
    assert Client(server.url, "198.51.100.20").sign_in(token)[0] == 303


def test_submission_floods_are_refused_before_anything_is_stored(server):
    token = add_team(server, "flood")
    before = db_rows(server.database, "SELECT count(*) FROM prt_submissions")[0][0]
    # a bad token from one address: 10 x the team rate get 401, then 429 (no database lookup any more)
    bad = []
    for _ in range(32):
        status, reply = _post(server, "198.51.100.66", "prt_" + secrets.token_urlsafe(32))
        bad.append(status)
    assert bad[:30] == [401] * 30 and bad[30:] == [429, 429]
    # one team's valid token from five addresses: three accepted, then 429 with Retry-After
    got = [_post(server, f"192.0.2.{i}", token) for i in range(5)]
    assert [s for s, _ in got] == [202, 202, 202, 429, 429], got
    assert "at most 3 submissions of a team per minute" in got[3][1]["error"]
    after = db_rows(server.database, "SELECT count(*) FROM prt_submissions")[0][0]
    assert after - before == 3  # the refused ones were never stored
    # the upload form of the same team (signed in from yet another address) is held back as well
    browser = Client(server.url, "192.0.2.50")
    assert browser.sign_in(token)[0] == 303
    _, _, page = request(server.url + "/benchmarks/rl/submit", headers={"X-Forwarded-For": browser.ip},
                         opener=browser.opener)
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
    ctype, body = multipart({"method": "m", "csrf": csrf}, "pred.json", b"{}")
    status, headers, page = request(server.url + "/benchmarks/rl/submit", data=body, opener=browser.opener,
                                    headers={"Content-Type": ctype, "X-Forwarded-For": browser.ip})
    assert status == 429 and b"at most 3 submissions of a team per minute" in page
    assert db_rows(server.database, "SELECT count(*) FROM prt_submissions")[0][0] == after
    # another team is not held back by the flood
    assert _post(server, "192.0.2.99", add_team(server, "bystander"))[0] == 202


def _post(server: Server, ip: str, token: str) -> tuple[int, dict]:
    ctype, body = multipart({"method": "m", "final": "0"}, "pred.json", b"{}")
    status, headers, reply = request(f"{server.url}/api/benchmarks/rl/submissions", data=body,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": ctype,
                                              "X-Forwarded-For": ip})
    out = json.loads(reply)
    if status == 429:
        assert 1 <= int({k.lower(): v for k, v in headers.items()}["retry-after"]) <= 60
    return status, out
