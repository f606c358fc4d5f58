"""What a board publishes of a result's provenance: file names, never the folders of the machine that saved
it (the result file keeps the full paths, which ``prt verify`` needs)."""

from __future__ import annotations


def Path_name(p: str) -> str:
    return p.replace("\\", "/").rsplit("/", 1)[-1]


def file_names(x):
    """Option values with every path cut to its file name (a checkpoint's folder is not published)."""
    if isinstance(x, dict):
        return {k: file_names(v) for k, v in x.items()}
    if isinstance(x, list):
        return [file_names(v) for v in x]
    return Path_name(x.rstrip("/\\")) if isinstance(x, str) and ("/" in x or "\\" in x) else x


def command_with_file_names(command: str) -> str:
    """A stored command line with every path argument cut to its file name (``--gt /home/me/valid.h5``
    -> ``--gt valid.h5``)."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        return Path_name(command)

    def short(w: str) -> str:
        if w.startswith("-") and "=" in w:
            opt, val = w.split("=", 1)
            return f"{opt}={short(val)}"
        return Path_name(w.rstrip("/\\")) if ("/" in w or "\\" in w) else w

    return shlex.join(short(w) for w in words)
