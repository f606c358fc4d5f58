"""CrowdPose, AI Challenger and COCO-WholeBody on prt's engine against xtcocotools itself, as mmpose calls it.

xtcocotools' wheels need numpy < 2, so it runs in its own virtual environment (``.ci/run`` makes it under
~/.cache/prt-ci; $PRT_XTCOCOTOOLS_PYTHON points elsewhere) on benchmarks this test writes
(tests/support/xtcocobuild.py), in one subprocess; prt evaluates the same files in-process, with no option
but the protocol (or none: the GT's layout picks it). Every number must be within 1e-9 of xtcocotools' and
every OKS within 1e-12 (measured on this machine: all equal to the bit). Without that environment a local
run skips, a CI run fails.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.evaluators.coco import CROWDPOSE_STATS, people_by_image, read_gt
from poseval_refine.metrics import sigma_tables
from poseval_refine.metrics.coco import STAT_NAMES, evaluate_images
from poseval_refine.protocols import PROTOCOLS

from .conftest import in_ci
from .support.xtcocobuild import benchmark, run_xtcocotools, xtcocotools_python

TABLES = {"crowdpose": sigma_tables.CROWDPOSE, "aic": sigma_tables.AIC, "wholebody": sigma_tables.WHOLEBODY}
#: seeds used by no other test; sizes keep xtcocotools' share of the suite to a few seconds
CASES = [("crowdpose", s, 24) for s in (101, 102, 106, 108)] + [("aic", s, 24) for s in (201, 202, 203)] + \
        [("wholebody", 301, 10), ("wholebody", 302, 10)]


@pytest.fixture(scope="module")
def xtcocotools():
    python = xtcocotools_python()
    if python is None:
        message = ("xtcocotools' virtual environment not found (python -m venv ~/.cache/prt-ci/xtcocotools && "
                   "~/.cache/prt-ci/xtcocotools/bin/pip install 'numpy<2' xtcocotools, as .ci/run does; or set "
                   "PRT_XTCOCOTOOLS_PYTHON)")
        if in_ci():
            pytest.fail(f"CI is set, so a missing reference is an error: {message}", pytrace=False)
        pytest.skip(message)
    return python


def _prt_oks(gt_file, res_file, layout: str) -> dict[str, list[float]]:
    """prt's OKS of every (kept detection, GT person) pair, per image id, sorted (as the reference gives them)."""
    from poseval_refine.evaluators.coco import protocol_parts, protocol_predictions, protocol_sigmas

    ann, proto = read_gt(gt_file, "prt", None, layout)
    sigma = protocol_sigmas(proto, None)[1]
    res = protocol_predictions(res_file, ann, proto, None)[0]
    part, joints, key = protocol_parts(proto, len(sigma))[-1]
    g, d = people_by_image(ann, res, proto, joints if proto.wholebody else None, key)
    _, (_, pair_gt, oks) = evaluate_images(g, d, sigma[joints], with_oks=True, negative_ids_unmatched=True)
    img = np.searchsorted(g.start, pair_gt, side="right") - 1
    out: dict[str, list[float]] = {}
    for i, v in zip(img.tolist(), oks.tolist()):
        out.setdefault(str(ann.image_ids[i]), []).append(v)
    return {k: sorted(v) for k, v in out.items()}


def _check(tmp_path, python, cases, auto_protocol: bool = False):
    """Each case (layout, seed, n_images) or (layout, GT path, results path) evaluated by prt's CLI and by
    xtcocotools."""
    from poseval_refine.cli import main

    jobs, ours = [], []
    for layout, seed, n_images in cases:
        if isinstance(seed, Path):
            g, r = seed, n_images
        else:
            gt, res = benchmark(layout, seed, n_images)
            g, r = tmp_path / f"{layout}-{seed}-gt.json", tmp_path / f"{layout}-{seed}-res.json"
            g.write_text(json.dumps(gt))
            r.write_text(json.dumps(res))
        seed = seed if not isinstance(seed, Path) else seed.parent.name
        jobs.append({"gt": str(g), "res": str(r), "protocol": layout, "sigmas": TABLES[layout].tolist()})
        out = tmp_path / f"{layout}-{seed}.json"
        argv = ["evaluate", "--gt", str(g), "--pred", str(r), "--task", "coco", "--json", str(out), "-q"]
        if not auto_protocol or layout == "aic":  # AI Challenger's GT has no mark of its own
            argv += ["--protocol", layout]
        assert main(argv) == 0
        ours.append((layout, seed, json.loads(out.read_text()), _prt_oks(g, r, layout)))
    ref = run_xtcocotools(python, jobs)
    for (layout, seed, got, oks), want in zip(ours, ref):
        if layout == "wholebody":
            pairs = [(part, got[part], want[part], STAT_NAMES)
                     for part in ("body", "foot", "face", "lefthand", "righthand", "wholebody")]
            assert [got[k] for k in STAT_NAMES] == [got["wholebody"][k] for k in STAT_NAMES]  # the headline
            ious = want["ious_wholebody"]
        else:
            pairs = [("all", got, want["all"], CROWDPOSE_STATS if layout == "crowdpose" else STAT_NAMES)]
            ious = want["ious"]
        for part, numbers, stats, names in pairs:
            assert len(stats) == len(names)
            for name, v in zip(names, stats):
                assert abs(numbers[name] - v) <= 1e-9, (layout, seed, part, name, numbers[name], v)
        # every OKS: equal to the bit on this machine; xtcocotools runs numpy 1.x, prt numpy 2, whose exp may
        # differ in the last bit on other CPUs, so 1e-12 (float32 sigmas squared in float64 differ by ~1e-8)
        assert oks.keys() == ious.keys(), (layout, seed)
        for img, values in oks.items():
            assert len(values) == len(ious[img]) and np.allclose(values, ious[img], rtol=0, atol=1e-12), (layout,
                                                                                                         seed, img)
    return ours


def test_equal_xtcocotools_on_random_benchmarks(tmp_path, xtcocotools):
    ours = _check(tmp_path, xtcocotools, CASES)
    # the benchmarks reach the cases that make xtcocotools differ (so the equality above means something)
    crowd = [got for layout, _, got, _ in ours if layout == "crowdpose"]
    assert any(g["counts"]["categories"] == 2 for g in crowd)  # -1 entries averaged into AP_easy/medium/hard
    assert all(g["counts"]["detections_without_visible_keypoints"] > 0 for _, _, g, _ in ours)


def test_equal_xtcocotools_on_fresh_benchmarks_protocol_from_the_gt(tmp_path, xtcocotools):
    """Benchmarks no run saw before (a fresh seed, printed), the protocol picked from the GT's layout."""
    seed = secrets.randbelow(2 ** 31)
    print(f"fresh seed {seed}")
    _check(tmp_path, xtcocotools, [("crowdpose", seed, 24), ("aic", seed, 24), ("wholebody", seed, 8)],
           auto_protocol=True)


def test_docs_examples_equal_xtcocotools(tmp_path, xtcocotools):
    """The worked examples of docs/crowdpose.md (tests/test_docs_lint.py checks the page shows prt's output)."""
    examples = Path(__file__).resolve().parent.parent / "docs" / "examples"
    _check(tmp_path, xtcocotools, [(name, examples / name / "gt.json", examples / name / "pred.json")
                                   for name in ("crowdpose", "wholebody")], auto_protocol=True)


def test_sigma_tables_are_mmpose_s():
    """The shipped tables, against the values mmpose's dataset configs write (independent literals here)."""
    assert sigma_tables.CROWDPOSE.tolist()[:2] == [0.079, 0.079] and sigma_tables.CROWDPOSE.size == 14
    assert sigma_tables.AIC[6] == 0.03909642 and sigma_tables.AIC.size == 14
    assert sigma_tables.WHOLEBODY.size == 133 and sigma_tables.WHOLEBODY[17] == 0.068
    assert np.allclose(sigma_tables.WHOLEBODY[:17], sigma_tables.COCO, rtol=0, atol=1e-15)  # body = COCO
    assert set(PROTOCOLS["coco"]) == {"coco", "crowdpose", "crowdpose-corrected", "aic", "wholebody"}
