"""Property: any mutation of a valid file of any readable format gives a result or one clear error.

A bounded, deterministic budget runs in the test suite (``PRT_FUZZ_EXAMPLES`` per reader, default
25); ``benchmarks/fuzz_readers.py`` runs the long, random campaign and counts the outcomes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support.fuzzing import OUTPUT_KINDS, READERS, Draw, describe, mutate_tree, run_case

EXAMPLES = int(os.environ.get("PRT_FUZZ_EXAMPLES", "25"))


@pytest.mark.parametrize("name", sorted(READERS))
def test_mutated_files_give_a_result_or_one_clear_error(name):
    reader = READERS[name]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def case(data):
        outcome = run_case(reader, Draw(data=data))
        assert not outcome.unexpected, describe(outcome)

    case()


@pytest.mark.parametrize("name", sorted(READERS))
def test_unmutated_seeds_evaluate_or_convert(name, tmp_path):
    """The harness starts from valid files: unchanged, every reader's command succeeds."""
    from .support.fuzzing import ENCODERS, Outcome, judge

    reader = READERS[name]
    for rel, (kind, tree) in reader.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(ENCODERS[kind](tree))
    argv = [a.format(root=tmp_path, out=tmp_path / f"out{reader.out_suffix}") for a in reader.argv]
    if "--gt-alt" in argv:
        i = argv.index("--gt-alt")
        del argv[i: i + 2]
    import contextlib
    import io

    from poseval_refine.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    assert code == 0 and not judge(Outcome(name, code, "", err.getvalue())), err.getvalue()


def test_a_harness_that_misses_nothing_would_flag_an_exception(monkeypatch):
    """Break a reader on purpose: the property must catch the stray exception (the test can fail)."""
    import poseval_refine.formats.coco as coco

    def broken(path):
        raise KeyError("image_id")

    monkeypatch.setattr(coco, "read_coco_results", broken)
    outcome = run_case(READERS["coco-results"], Draw(rng=np.random.default_rng(0)))
    assert outcome.unexpected and "KeyError" in describe(outcome)


def test_mutations_change_the_tree():
    rng = np.random.default_rng(3)
    tree = READERS["posetrack2017"].files["pred/seq.json"][1]
    changed = sum(mutate_tree(tree, Draw(rng=rng), "json") != tree for _ in range(50))
    assert changed >= 40


#: one reader per kind of output: --json of evaluate (COCO, PoseTrack21), --json or --plot (MPII single),
#: OUT of convert as a folder (OpenPose -> PoseTrack 2018) and as a file (PoseTrack -> MPII .h5)
OUTPUT_READERS = ["coco-keypoints", "posetrack21", "mpii", "openpose", "posetrack-to-mpii"]


@pytest.mark.parametrize("kind", OUTPUT_KINDS)
@pytest.mark.parametrize("name", OUTPUT_READERS)
def test_every_kind_of_output_path_gives_a_result_or_one_clear_error(name, kind):
    """A folder, a trailing separator, a missing folder, a file as a folder, a file as the results store:
    refused with one error, nothing written, no folder made; a new file in an existing folder works."""
    for seed in range(3):
        outcome = run_case(READERS[name], Draw(rng=np.random.default_rng(seed)), output=kind)
        assert not outcome.unexpected, describe(outcome)


def test_the_harness_would_flag_a_missing_output_folder_made_or_a_traceback(monkeypatch):
    """Without the output checks, the harness sees the failure (the test can fail)."""
    import poseval_refine.commands._paths as paths
    import poseval_refine.io as prt_io

    for module in (paths, prt_io):
        for check in ("check_output_file", "check_output_folder", "check_output_parent"):
            monkeypatch.setattr(module, check, lambda path, *a, **k: Path(path))
    for name in ("coco-keypoints", "openpose"):
        outcome = run_case(READERS[name], Draw(rng=np.random.default_rng(0)), output="missing folder", mutate=False)
        assert outcome.unexpected, describe(outcome)
