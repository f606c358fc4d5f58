"""The method registry, loaded from the declarative files of ``baselines/`` (``poseval_refine.baselines``).

``resolve`` turns ``--method NAME --task T`` into GT and prediction paths under a data root
(``--data-root`` or ``PRT_DATA``), and says where to get what is missing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from .errors import ConfigError


@dataclass(frozen=True)
class Method:
    key: str
    name: str
    aliases: tuple[str, ...]
    citation: str
    native_format: str
    joint_set: str
    synthesizes: tuple[str, ...]
    sources: str
    tasks: dict = field(default_factory=dict)
    paper: tuple[dict, ...] = ()

    def available(self, task: str, data_root: Path | None) -> bool:
        spec = self.tasks.get(task)
        return bool(spec and data_root and (data_root / spec["gt"]).exists() and (data_root / spec["pred"]).exists())


#: how the paper's row variants are labelled, after the method's row label
VARIANT_LABELS = {
    "base": "", "refined": "+ Refinement", "refined_t1_only": "+ Refinement (T1 only)",
    "base_without_nose": "(without nose)", "base_with_nose": "(with nose)",
    "refined_without_nose": "+ Refinement (without nose)", "refined_with_nose": "+ Refinement (with nose)",
}


def base_variant(variant: str) -> str:
    """The variant a refined variant is compared with ("refined_with_nose" -> "base_with_nose")."""
    if variant.startswith("refined"):
        rest = variant[len("refined"):]
        return "base" + rest if rest in ("_without_nose", "_with_nose") else "base"
    return variant


def baselines_dir():
    """The declarative entries: the installed ``poseval_refine.baselines`` package, or, when running from a
    source checkout whose ``poseval_refine/`` shadows the installed package, the checkout's ``baselines/``."""
    try:
        return files("poseval_refine.baselines")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "baselines"


@lru_cache(maxsize=1)
def all_methods() -> dict[str, Method]:
    out = {}
    for f in sorted(baselines_dir().iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".json"):
            continue
        d = json.loads(f.read_text())
        out[d["key"]] = Method(key=d["key"], name=d["name"], aliases=tuple(d.get("aliases", ())),
                               citation=d["citation"], native_format=d["native_format"], joint_set=d["joint_set"],
                               synthesizes=tuple(d.get("synthesizes", ())), sources=d.get("sources", ""),
                               tasks=d.get("tasks", {}), paper=tuple(d.get("paper", ())))
    return out


def get_method(name: str) -> Method:
    wanted = name.strip().lower()
    for m in all_methods().values():
        if wanted == m.key or wanted in (a.lower() for a in m.aliases) or wanted == m.name.lower():
            return m
    raise ConfigError(f"unknown method {name!r}", fix="`prt methods` lists the methods and their aliases")


def data_root(value: str | Path | None = None) -> Path | None:
    v = value if value is not None else os.environ.get("PRT_DATA")
    return Path(v) if v else None


def resolve(name: str, task: str, root: str | Path | None = None) -> tuple[Method, Path, Path]:
    """(method, GT path, prediction path) for a task; a clear ConfigError says what is missing."""
    m = get_method(name)
    spec = m.tasks.get(task)
    if spec is None:
        have = ", ".join(sorted(m.tasks)) or "none"
        raise ConfigError(f"{m.name} has no --task {task} inputs registered (tasks with inputs: {have})",
                          fix=f"its predictions come from: {m.sources}; evaluate them with --gt/--pred, "
                              "or add the paths to its baselines/ entry")
    root = data_root(root)
    if root is None:
        raise ConfigError("no data root: --method needs to know where the benchmark files are",
                          fix=f"set PRT_DATA (or --data-root) to the folder holding {spec['gt']} and {spec['pred']}, "
                              "e.g. PRT_DATA=../shared/data")
    gt, pred = root / spec["gt"], root / spec["pred"]
    for p, what in ((gt, "ground truth"), (pred, "predictions")):
        if not p.exists():
            raise ConfigError(f"the {what} of {m.name} for --task {task} are missing", file=p,
                              fix=f"put the file there (source: {m.sources}), or point PRT_DATA/--data-root at "
                                  "the folder that holds it")
    return m, gt, pred
