"""What a prt result file is: its schema, the shape every reader checks (one error naming the file, never a
traceback later), and the hash of its predictions. Shared by the store (:mod:`.store`), its index
(:mod:`.index`) and the boards' cache (:mod:`.cache`)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

SCHEMA = 2
SOURCES = ("quoted", "recomputed", "user")


def pred_sha(data: dict) -> str | None:
    """The SHA-256 of a result's predictions (comma-joined when there are several)."""
    preds = [v["sha256"] for k, v in sorted(data.get("inputs", {}).items()) if k.startswith("pred")]
    return ",".join(preds) if preds else None


_REQUIRED = ("method", "benchmark", "task", "numbers", "inputs")


def read_result(path: Path) -> dict:
    """A result file's content, its shape checked (:class:`InputError` naming the file)."""
    from ..io import read_bytes

    return check_content(read_bytes(path), path)


def check_content(raw: bytes, path: Path) -> dict:
    """A result file's content from its bytes, its shape checked (:class:`InputError` naming the file)."""
    from ..io import no_gc, parse_json

    with no_gc():
        d = parse_json(raw, path)
    if not isinstance(d, dict) or any(k not in d for k in _REQUIRED) or d.get("schema") != SCHEMA:
        raise InputError("is not a prt result file (schema 2: method, benchmark, task, numbers, inputs, items)",
                         file=path, fix="remove it from the results folder, or save it again with "
                                        "`prt evaluate ... --save NAME`")
    check_fields(d, path)
    return d


DAMAGED_FIX = ("save the result again (`prt evaluate ... --save NAME --overwrite`) or remove the file; "
               "`prt verify` shows what differs")


def damaged(path: Path, problem: str, field: str | None = None) -> InputError:
    """The error for a result file whose content cannot be what prt wrote."""
    return InputError(f"is a damaged prt result file: {problem}", file=path, field=field, fix=DAMAGED_FIX)


def check_fields(d: dict, path: Path) -> None:
    """The shape of a result file, so that a damaged one is one error naming it, never a traceback later."""
    from ..evaluators import TASK_MODULES

    for key in ("method", "benchmark", "task"):
        if not isinstance(d[key], str) or not d[key]:
            raise damaged(path, f"{key!r} is {d[key]!r}, not a name", key)
    if d["task"] not in TASK_MODULES:
        raise damaged(path, f"it names task {d['task']!r}, which prt does not know "
                            f"(tasks: {', '.join(sorted(TASK_MODULES))})", "task")
    for key in ("numbers", "inputs"):
        if not isinstance(d[key], dict):
            raise damaged(path, f"{key!r} is not a JSON object", key)
    for key, v in d["inputs"].items():
        if not (isinstance(v, dict) and isinstance(v.get("path"), str) and isinstance(v.get("sha256"), str)):
            raise damaged(path, f"input {key!r} has no 'path' and 'sha256'", f"inputs.{key}")
    for key in ("options", "provenance", "headline"):
        if d.get(key) is not None and not isinstance(d[key], dict):
            raise damaged(path, f"{key!r} is not a JSON object", key)
    if d.get("items") is not None and not isinstance(d["items"], list):
        raise damaged(path, "'items' is not a list", "items")
    if d.get("source") not in SOURCES:
        raise damaged(path, f"'source' is {d.get('source')!r}, not one of {', '.join(SOURCES)}", "source")
    if d.get("base") is not None and not isinstance(d["base"], str):
        raise damaged(path, f"'base' is {d['base']!r}, not a method name", "base")
