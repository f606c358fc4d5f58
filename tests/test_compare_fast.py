"""`prt compare`'s quick path (results.quick, commands._quick): from the stores' indexes and the two results'
cached entries, in plain Python without numpy or click. Its output must be the full path's, character for
character (so its numbers bit for bit), on pairs of several tasks (MPII PCKh, PoseTrack MOTA, COCO AP on one
image: no interval), ties, identical results, other seeds and resample counts, text and JSON, --fail-if-worse;
whatever it cannot answer (a cold cache, a file changed behind the index's back, a damaged result) goes to the
full path, which refuses as before."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from poseval_refine import cli
from poseval_refine.results import paired, quick, uncertainty
from poseval_refine.results.compare import compare
from poseval_refine.results.store import save_result, shipped_dir

from .support.mpiibuild import perturbed_predictions


@pytest.fixture(scope="module")
def store(shared_data, tmp_path_factory):
    """A user store beside the 6 shipped MPII results: an MPII result prt never saw and a copy of a shipped one
    under another name (identical numbers), PoseTrack tracking results (the sample, the same again, and with a
    score threshold), COCO results on one image (the sample detections, and moved by noise)."""
    tmp = tmp_path_factory.mktemp("quick")
    s = tmp / "store"
    mpii = shared_data / "mpii_val"
    noisy = perturbed_predictions(mpii / "pyranet-prm.h5", tmp / "a.h5", seed=31, sigma=1.0)
    runs = [["--gt", mpii / "valid.h5", "--pred", noisy, "--task", "single", "--save", "net-a"],
            ["--task", "tracking", "--save", "track-a"], ["--task", "tracking", "--save", "track-b"],
            ["--task", "tracking", "--min-score", "0.5", "--save", "track-c"]]
    coco = shared_data / "coco_sample"
    dets = json.loads((coco / "dt_dataset.json").read_text())
    rng = np.random.default_rng(5)
    for d in dets:
        d["keypoints"] = [v + (rng.normal(0, 3.0) if i % 3 != 2 else 0.0) for i, v in enumerate(d["keypoints"])]
    (tmp / "moved.json").write_text(json.dumps(dets))
    runs += [["--gt", coco / "gt_dataset.json", "--pred", coco / "dt_dataset.json", "--task", "coco", "--save",
              "coco-a"],
             ["--gt", coco / "gt_dataset.json", "--pred", tmp / "moved.json", "--task", "coco", "--save", "coco-b"]]
    for args in runs:
        assert cli.main(["evaluate", *map(str, args), "--results", str(s), "-q"]) == 0, args
    newell = json.loads(next(shipped_dir().glob("newell__mpii-val__single.json")).read_text())
    newell["method"], newell["source"] = "newell-copy", "user"
    save_result(newell, s)
    return s


#: (A, B, more options): MPII pairs (a clear difference, identical numbers, a tie), PoseTrack (identical; a
#: threshold), COCO on one image (no interval), other draws, JSON, --fail-if-worse both ways
PAIRS = [("net-a", "newell", []), ("newell", "newell-copy", []), ("newell", "newell-ours", []),
         ("bearpaw-hg-s1", "ief", ["--format", "json"]), ("track-a", "track-b", []),
         ("track-a", "track-c", ["--format", "json"]), ("track-c", "track-a", []), ("coco-a", "coco-b", []),
         ("coco-b", "coco-a", ["--format", "json"]), ("net-a", "prm", ["--seed", "7", "--resamples", "300"]),
         ("prm", "net-a", ["--resamples", "0"]), ("ief", "newell", ["--fail-if-worse"]),
         ("newell", "ief", ["--fail-if-worse", "--format=json"]), ("newell", "bearpaw-hg-s2", ["--task", "single"])]


def _run(capsys, args, quick_path: bool):
    capsys.readouterr()
    if quick_path:
        code = cli.main(args)
    else:
        saved = cli.QUICK_COMMANDS
        cli.QUICK_COMMANDS = ()
        try:
            code = cli.main(args)
        finally:
            cli.QUICK_COMMANDS = saved
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def answered(monkeypatch):
    """The comparisons the quick path answered itself (None: it handed over to the full path)."""
    seen = []
    real = quick.quick_compare
    monkeypatch.setattr(quick, "quick_compare", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    return seen


@pytest.mark.parametrize("a,b,more", PAIRS, ids=[" ".join([a, b, *m]) for a, b, m in PAIRS])
def test_the_quick_path_prints_what_the_full_path_prints(store, capsys, answered, a, b, more):
    args = ["compare", a, b, "--results", str(store), *more]
    full = _run(capsys, args, quick_path=False)  # computes and keeps both entries for these draws
    assert full[0] in (0, 1) and full[1], full
    quick_run = _run(capsys, args, quick_path=True)
    assert answered and answered[-1] is not None  # answered from the cache, not handed over
    assert quick_run == full


def test_the_comparison_is_the_full_paths_to_the_bit(store):
    for a, b in [("net-a", "newell"), ("track-a", "track-c"), ("newell", "newell-copy")]:
        full = compare(a, b, results=store, seed=3, resamples=400)
        fast = quick.quick_compare(a, b, results=str(store), seed=3, resamples=400)
        assert fast is not None and json.dumps(fast.as_dict()) == json.dumps(full.as_dict())  # floats' repr: bits
        for m in full.metrics.values():
            assert type(m.delta) is float and (m.ci95 is None or all(type(v) is float for v in m.ci95))


def test_a_cold_cache_takes_the_full_path_and_fills_the_cache(store, capsys, answered):
    args = ["compare", "net-a", "ief", "--results", str(store), "--seed", "11"]
    first = _run(capsys, args, quick_path=True)
    assert answered == [None]  # nothing cached for seed 11: handed over, and the full path keeps the entries
    second = _run(capsys, args, quick_path=True)
    assert answered[-1] is not None and second == first and first[0] == 0


def test_a_result_changed_behind_the_index_is_refused_as_before(store, tmp_path, capsys, answered):
    import shutil

    s = tmp_path / "store"
    shutil.copytree(store, s)  # the index too: its signatures are the originals'
    args = ["compare", "track-a", "track-c", "--results", str(s)]
    assert _run(capsys, args, quick_path=True)[0] == 0
    path = s / "track-a__prt-sample__tracking.json"
    data = json.loads(path.read_text())
    data["headline"]["MOTA"] = 91.0  # edited in place: same name, so the index's names still agree
    path.write_text(json.dumps(data))
    answered.clear()
    code, out, err = _run(capsys, args, quick_path=True)
    assert answered == [None] and code == 2 and out == ""
    assert err.startswith("prt: error: ") and path.name in err and "headline MOTA 91.0" in err, err
    assert _run(capsys, args, quick_path=False) == (code, out, err)


def test_names_the_quick_path_cannot_resolve_get_the_full_paths_error(store, capsys, answered):
    for args in (["compare", "newel", "ief"], ["compare", "newell", "coco-a"], ["compare", "newell", "ief", "-h"],
                 ["compare", "newell", "ief", "--resamples", "-3"], ["compare", "newell"]):
        full = _run(capsys, [*args, "--results", str(store)], quick_path=False)
        assert full[0] != 0 or args[-1] == "-h"
        assert _run(capsys, [*args, "--results", str(store)], quick_path=True) == full
    assert all(a is None for a in answered)


def test_the_quick_path_imports_neither_numpy_nor_click(store):
    assert cli.main(["compare", "newell", "prm", "--results", str(store)]) == 0  # the entries cached
    code = ("import sys\nfrom poseval_refine.cli import main\nrc = main(sys.argv[1:])\n"
            "print(sorted(m for m in ('numpy', 'click', 'orjson', 'tabulate') if m in sys.modules), file=sys.stderr)\n"
            "sys.exit(rc)")
    p = subprocess.run([sys.executable, "-c", code, "compare", "newell", "prm", "--results", str(store)],
                       capture_output=True, text=True, env={**os.environ})
    assert p.returncode == 0 and "PCKh@0.5: newell" in p.stdout, p.stderr
    assert p.stderr.strip().splitlines()[-1] == "[]", p.stderr


# ----------------------------------------------------------------------------- plain Python against numpy
def _draws(rng, kind: str, n: int) -> np.ndarray:
    if kind == "normal":
        return rng.normal(80, 2, n)
    if kind == "ties":  # few distinct values: many equal differences, many at exactly 0
        return rng.integers(0, 4, n).astype(np.float64) / 3
    if kind == "nonfinite":
        v = rng.normal(0, 1, n)
        v[rng.random(n) < 0.1] = np.nan
        v[rng.random(n) < 0.05] = np.inf
        return v
    return np.full(n, 55.5)  # constant


@pytest.mark.parametrize("kind", ["normal", "ties", "nonfinite", "constant"])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 40, 1000])
def test_paired_difference_in_plain_python_is_numpys_to_the_bit(kind, n):
    rng = np.random.default_rng(n * 31 + len(kind))
    for _ in range(5):
        a, b = _draws(rng, kind, n), _draws(rng, kind, n)
        va, vb = float(rng.normal(80, 2)), float(rng.normal(80, 2))
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, left out by both
            ref = uncertainty.paired_difference(va, vb, a, b)
        got = paired.paired_difference(va, vb, a.tolist(), b.tolist())
        assert got[0] == ref.value and got[1] == ref.ci95 and got[2] == ref.p_value, (got, ref)
        assert paired.interval(a.tolist()) == uncertainty.interval(a)
        for q in (0, 2.5, 25, 50, 97.5, 100, 100 / 3):
            finite = a[np.isfinite(a)]
            if len(finite):
                assert paired.percentiles(finite.tolist(), [q]) == [float(np.percentile(finite, q))]


def test_a_nonfinite_difference_has_no_interval_in_both():
    ref = uncertainty.paired_difference(math.nan, 1.0, np.ones(5), np.zeros(5))
    assert paired.paired_difference(math.nan, 1.0, [1.0] * 5, [0.0] * 5)[1:] == (ref.ci95, ref.p_value) == (None, None)
