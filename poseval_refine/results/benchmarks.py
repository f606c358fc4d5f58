"""Which ground truth is which benchmark.

A result belongs to one benchmark: a known split recognised by its GT file's SHA-256 (``mpii-val``), a
split whose GT prt cannot hash (test sets, PoseTrack val) that the user names with ``--benchmark`` and
whose size is checked, or the user's own GT, named by the user or ``gt-<hash>``. Numbers quoted from the
paper carry the benchmark of their table, so they never share a board with numbers computed on other GT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Benchmark:
    id: str
    title: str
    tasks: tuple[str, ...]
    #: SHA-256 of the GT files (or folders) that are this benchmark
    gt_sha256: tuple[str, ...] = ()
    #: number of bootstrap items (people, images, sequences) of its GT, checked when a user names it
    items: int | None = None
    #: the ids that baselines/ (the paper's numbers) use for it
    aliases: tuple[str, ...] = ()
    note: str = ""


BUILTIN: tuple[Benchmark, ...] = (
    Benchmark("mpii-val", "MPII Human Pose, validation split of Tompson et al. (2958 people, valid.h5)",
              ("single",), gt_sha256=("6c9e29d1472945abf370339d8a75e0da4117be52dcc3f589cb9f4a77cac2b760",),
              items=2958, aliases=("mpii_val",)),
    Benchmark("mpii-test", "MPII Human Pose, single-person test set", ("single",), aliases=("mpii_single_test",),
              note="GT not public: numbers are quoted from papers"),
    Benchmark("mpii-multi-test", "MPII Human Pose, multi-person test set", ("multi",), aliases=("mpii_multi_test",),
              note="GT not public: numbers are quoted from papers"),
    Benchmark("posetrack17-val", "PoseTrack 2017, validation set (50 sequences)", ("pose", "tracking"), items=50,
              aliases=("posetrack17_val",)),
    Benchmark("bonn-multiperson-test", "Iqbal et al. CVPR'17 multi-person pose tracking, test set (30 sequences)",
              ("pose", "tracking"),
              gt_sha256=("4a92351b21e48ac762b2a6aa6b87ddae53af9ee0cda768857f5e16ed3c1b2067",), items=30),
    Benchmark("coco-val2017", "COCO 2017 keypoints, val split (person_keypoints_val2017.json, 5000 images)",
              ("coco",), items=5000, note="name it with --benchmark coco-val2017; its size is checked"),
    Benchmark("posetrack21-val", "PoseTrack21, validation set (170 sequences)", ("hota", "pose"), items=170,
              aliases=("posetrack21_val",), note="name it with --benchmark posetrack21-val; its size is checked"),
    Benchmark("prt-sample", "prt's shipped sample benchmark (3 synthetic sequences)", ("pose", "tracking"),
              gt_sha256=("f0d30253c22a028a4a4ca63816d1fbab12929f2927a75ee79e68833edabce250",), items=3),
)
BENCHMARKS = {b.id: b for b in BUILTIN}
_ALIASES = {a: b.id for b in BUILTIN for a in b.aliases}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def canonical(benchmark_id: str) -> str:
    """The benchmark id of an id or alias (``mpii_val`` -> ``mpii-val``)."""
    return _ALIASES.get(benchmark_id, benchmark_id)


def normalize(name: str) -> str:
    """A benchmark name as the user typed it, as stored (ids are lower case; aliases resolved)."""
    return canonical(name.strip().lower())


def close_to(name: str, candidates) -> str | None:
    """The known benchmark a name is probably a typo of, if any."""
    import difflib

    match = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.8)
    return match[0] if match and match[0] != name else None


def title(benchmark_id: str) -> str:
    b = BENCHMARKS.get(benchmark_id)
    return b.title if b else f"user benchmark {benchmark_id}"


def order(benchmark_id: str) -> tuple[int, str]:
    ids = [b.id for b in BUILTIN]
    return (ids.index(benchmark_id), "") if benchmark_id in ids else (len(ids), benchmark_id)


def identify(gt_sha256: str, task: str, n_items: int | None, declared: str | None = None,
             known: dict[str, set[str]] | None = None) -> str:
    """The benchmark of a GT, from its hash; ``declared`` is the user's ``--benchmark``; ``known`` maps the
    benchmark ids already in the store to the GT hashes seen with them (a user's name is pinned to its GT)."""
    known = known or {}
    by_hash = next((b for b in BUILTIN if gt_sha256 in b.gt_sha256), None)
    if by_hash is not None:
        if declared is not None and canonical(declared) != by_hash.id:
            raise ConfigError(f"this GT is the benchmark {by_hash.id}, not {declared!r}",
                              fix=f"drop --benchmark, or pass --benchmark {by_hash.id}")
        _check_task(by_hash, task)
        return by_hash.id
    if declared is None:
        for bid, hashes in sorted(known.items()):
            if gt_sha256 in hashes:
                return bid
        return f"gt-{gt_sha256[:12]}"
    bid = normalize(declared)
    if not _NAME.match(bid):
        raise ConfigError(f"benchmark name {declared!r} is not usable",
                          fix="use lower-case letters, digits, '.', '_' and '-', e.g. --benchmark my-split-v1")
    b = BENCHMARKS.get(bid)
    if b is not None:
        if b.gt_sha256:
            raise ConfigError(f"this GT is not {b.id}'s (its SHA-256 {gt_sha256[:12]}... is not {b.id}'s)",
                              fix=f"evaluate against {b.id}'s own GT file, or name your split another way")
        _check_task(b, task)
        if b.items is not None and n_items is not None and n_items != b.items:
            raise ConfigError(f"this GT has {n_items} items but {b.id} has {b.items}",
                              fix=f"evaluate against the full {b.id} GT, or name your split another way")
    hashes = known.get(bid, set())
    if hashes and gt_sha256 not in hashes:
        raise ConfigError(f"the store already holds results on {bid} computed with other GT "
                          f"(SHA-256 {sorted(hashes)[0][:12]}...; this one {gt_sha256[:12]}...)",
                          fix="one benchmark name means one GT: name this split another way")
    return bid


def _check_task(b: Benchmark, task: str) -> None:
    if task not in b.tasks:
        raise ConfigError(f"benchmark {b.id} has no --task {task} (it has: {', '.join(b.tasks)})")
