"""``prt submit``: send predictions to a ``prt serve`` benchmark (standard library only: no extra needed)."""

from __future__ import annotations

import io
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import click

from ..errors import ConfigError, InputError
from ..results.store import check_name


def pack(pred: Path) -> tuple[str, bytes]:
    """A file as it is; a folder as one zip of its regular files (relative paths; links left out)."""
    if pred.is_file():
        return pred.name, pred.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(pred.rglob("*")):
            if p.is_file() and not p.is_symlink():
                zf.write(p, p.relative_to(pred).as_posix())
    return pred.name + ".zip", buf.getvalue()


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[str, bytes]:
    boundary = "prt-" + secrets.token_hex(16)
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
              "Content-Type: application/octet-stream\r\n\r\n".encode())
    out.write(data)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", out.getvalue()


def call(url: str, token: str, *, data: bytes | None = None, content_type: str | None = None,
         timeout: float = 300) -> tuple[int, dict]:
    """(HTTP status, JSON body); an unreachable server is a ConfigError."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            body = json.loads(e.read() or b"{}")
        except ValueError:
            body = {"error": e.reason}
        return e.code, body
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        if data is not None and isinstance(reason, (ConnectionResetError, BrokenPipeError)):
            raise ConfigError(f"the server {url} closed the connection while the upload was sent ({reason})",
                              fix="check the token, the benchmark and the upload limit; then submit again") from None
        raise ConfigError(f"cannot reach the server {url} ({reason})",
                          fix="check --server (e.g. http://127.0.0.1:8000) and that `prt serve` runs") from None


@click.command(help="Send predictions (a file, or a folder sent as one archive) to a `prt serve` benchmark.")
@click.argument("pred", type=click.Path(path_type=Path))
@click.option("--server", required=True, envvar="PRT_SERVER", help="The server's URL, e.g. http://127.0.0.1:8000.")
@click.option("--token", required=True, envvar="PRT_TOKEN", help="Your team's API token (or $PRT_TOKEN).")
@click.option("--benchmark", required=True, help="The benchmark's name.")
@click.option("--method", required=True, help="A display name for this submission (as --save names).")
@click.option("--final", is_flag=True, help="Make this the submission ranked on the private split at reveal.")
@click.option("--wait", is_flag=True, help="Wait until it is evaluated; exit 2 if it fails.")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, help="With --wait: give up after S seconds.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id", "status", "public", "error"} as JSON.')
def command(pred, server, token, benchmark, method, final, wait, timeout, as_json):
    if not pred.exists():
        raise InputError("not found", file=pred, fix="give the prediction file or folder")
    check_name(method)
    base = server.rstrip("/")
    filename, data = pack(pred)
    # what the server would refuse before reading the upload is asked first: a server that answers before it
    # has read a request's body may close the connection under a client still sending it
    refusal = preflight(base, token, benchmark, len(data))
    if refusal is not None:
        return _end(as_json, {"id": None, "status": "refused", "public": None, "error": refusal}, 2)
    ctype, body = multipart({"method": method, "final": "1" if final else "0"}, filename, data)
    url = f"{base}/api/benchmarks/{urllib.parse.quote(benchmark, safe='')}/submissions"
    status, reply = call(url, token, data=body, content_type=ctype)
    if status != 202:
        return _end(as_json, {"id": None, "status": "refused", "public": None,
                              "error": f"HTTP {status}: {reply.get('error', reply)}"}, 2)
    sid = reply["id"]
    out = {"id": sid, "status": reply.get("status", "queued"), "public": None, "error": None}
    if not wait:
        return _end(as_json, out, 0)
    start = time.monotonic()
    delay = 0.2
    while True:
        status, reply = call(f"{base}/api/submissions/{sid}", token)
        if status != 200:
            return _end(as_json, dict(out, error=f"HTTP {status}: {reply.get('error', reply)}"), 2)
        out = {"id": sid, "status": reply["status"], "public": reply.get("public"), "error": reply.get("error")}
        if out["status"] in ("done", "failed"):
            return _end(as_json, out, 0 if out["status"] == "done" else 2)
        if timeout is not None and time.monotonic() - start > timeout:
            return _end(as_json, dict(out, error=f"still {out['status']} after {timeout:g} s"), 2)
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


def preflight(base: str, token: str, benchmark: str, size: int) -> str | None:
    """Why the server would refuse this upload unread (token, benchmark, reveal, size), else None."""
    status, reply = call(f"{base}/api/me", token)
    if status != 200:
        return f"HTTP {status}: {reply.get('error', reply)}"
    status, reply = call(f"{base}/api/benchmarks", token)
    if status != 200:
        return f"HTTP {status}: {reply.get('error', reply)}"
    bench = next((b for b in reply.get("benchmarks", []) if b.get("name") == benchmark), None)
    if bench is None:
        names = ", ".join(b.get("name", "?") for b in reply.get("benchmarks", []))
        return f"HTTP 404: no benchmark {benchmark!r} (benchmarks: {names or 'none'})"
    if bench.get("revealed"):
        return f"HTTP 409: {benchmark} is revealed: submissions are closed"
    limit = bench.get("max_upload_mb")
    if limit is not None and size > limit * 1e6:
        return f"HTTP 413: the upload is {size / 1e6:.1f} MB, larger than this benchmark's limit of {limit:g} MB"
    return None


def _end(as_json: bool, out: dict, code: int) -> int:
    if as_json:
        click.echo(json.dumps(out))
    elif out["status"] == "refused":
        click.echo(f"prt: error: the server refused the submission: {out['error']}", err=True)
    elif out["status"] == "failed":
        click.echo(f"prt: error: submission {out['id']} failed:\n{out['error']}", err=True)
    else:
        numbers = ", ".join(f"{k} {v:.2f}" for k, v in (out["public"] or {}).items() if v is not None)
        click.echo(f"submission {out['id']}: {out['status']}" + (f" (public: {numbers})" if numbers else ""))
        if out.get("error"):
            click.echo(f"prt: error: {out['error']}", err=True)
    return code
