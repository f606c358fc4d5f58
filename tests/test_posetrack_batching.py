"""The fast paths give the same numbers, bit for bit: batched evaluation, the padded accumulator,
and a start-up that imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from poseval_refine.evaluators.posetrack import evaluate_posetrack
from poseval_refine.metrics import posetrack as metrics
from poseval_refine.metrics.mota import accumulate_frames, accumulate_sequence
from poseval_refine.synthetic import write_odd_benchmark


def _as_json(result: dict) -> str:
    return json.dumps({k: v for k, v in result.items() if k != "protocol"}, sort_keys=True)


@pytest.mark.parametrize("protocol", ["official", "corrected"])
def test_batch_size_does_not_change_a_bit(tmp_path, monkeypatch, protocol):
    write_odd_benchmark(tmp_path, n_sequences=6, n_frames=12, seed=5)
    whole = evaluate_posetrack(tmp_path / "gt", [tmp_path / "pred"], tracking=True, protocol=protocol)
    monkeypatch.setattr(metrics, "BATCH_CELLS", 1)  # one sequence per batch
    single = evaluate_posetrack(tmp_path / "gt", [tmp_path / "pred"], tracking=True, protocol=protocol)
    assert _as_json(single) == _as_json(whole)


def _random_sequences(rng, S, K):
    seqs = []
    for _ in range(S):
        frames = []
        for _ in range(int(rng.integers(1, 8))):
            G, H = int(rng.integers(0, 6)), int(rng.integers(0, 7))
            gt = rng.choice(8, G, replace=False)
            if G > 1 and rng.random() < 0.15:
                gt[1] = gt[0]  # a repeated GT id: the sequential path
            d = rng.random((K, G, H)) * 0.7
            d[rng.random((K, G, H)) < 0.2] = np.inf
            frames.append((gt, rng.choice(10, H, replace=False), d, rng.random((K, G)) < 0.8,
                           rng.random((K, H)) < 0.8))
        seqs.append(frames)
    return seqs


def _padded(seqs, K):
    """The evaluator's layout: all frames of all sequences in (F, H, G, K) arrays, ids local per sequence."""
    rows = [f for frames in seqs for f in frames]
    F = len(rows)
    G = max((len(f[0]) for f in rows), default=0)
    H = max((len(f[1]) for f in rows), default=0)
    dist = np.full((F, H, G, K), np.inf)
    g_ids, p_ids = np.zeros((F, G), np.int64), np.zeros((F, H), np.int64)
    gv, pv = np.zeros((F, G), bool), np.zeros((F, H), bool)
    gh, ph = np.zeros((F, G, K), bool), np.zeros((F, H, K), bool)
    frames, r = [], 0
    for s_frames in seqs:
        g_all = np.unique(np.concatenate([f[0] for f in s_frames]))
        h_all = np.unique(np.concatenate([f[1] for f in s_frames]))
        for gt, hyp, d, g_has, h_has in s_frames:
            g, h = len(gt), len(hyp)
            dist[r, :h, :g] = d.transpose(2, 1, 0)
            g_ids[r, :g], p_ids[r, :h] = np.searchsorted(g_all, gt), np.searchsorted(h_all, hyp)
            gv[r, :g], pv[r, :h] = True, True
            gh[r, :g], ph[r, :h] = g_has.T, h_has.T
            r += 1
        frames.append(np.arange(r - len(s_frames), r))
    return frames, dist, g_ids, gv, gh, p_ids, pv, ph


@pytest.mark.parametrize("seed", range(8))
def test_padded_accumulator_equals_the_per_sequence_one_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    K = 3
    seqs = _random_sequences(rng, 7, K)
    try:
        fast = accumulate_frames(*_padded(seqs, K), threshold=0.5)
    except ValueError:  # a repeated id motmetrics crashes on: the per-sequence path must refuse too
        with pytest.raises(ValueError):
            for frames in seqs:
                accumulate_sequence([(g, h, np.where(d <= 0.5, d, np.nan), gh, hh) for g, h, d, gh, hh in frames], K)
        return
    for frames, got in zip(seqs, fast):
        want = accumulate_sequence([(g, h, np.where(d <= 0.5, d, np.nan), gh, hh) for g, h, d, gh, hh in frames], K)
        for field in ("num_objects", "num_matches", "num_switches", "num_misses", "num_false_positives",
                      "sum_d_matched", "sum_d_raw", "sum_d_extra"):
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)


def test_evaluate_tracking_imports_nothing_heavy(shared_data):
    """`prt evaluate --task tracking` (with ignore regions, all rectangles here: no shapely) loads no torch,
    matplotlib, pandas or scipy, and no progress-bar or process-pool machinery when stderr is not a terminal."""
    root = shared_data / "posetrack_cases" / "case3"
    code = ("import sys; from poseval_refine.cli import main; "
            f"rc = main(['evaluate', '--gt', {str(root / 'gt')!r}, '--pred', {str(root / 'pred')!r}, "
            "'--task', 'tracking', '-q']); "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules}))); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('poseval_refine.')))); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split("\n")[-3].split())
    ours = set(out.stdout.split("\n")[-2].split())
    assert "poseval_refine.evaluators.posetrack" in ours
    assert not {m for m in ours if m.startswith(("poseval_refine.refiner", "poseval_refine.evaluators.mpii",
                                                   "poseval_refine.evaluators.coco"))}, ours
    assert {"numpy", "orjson", "click"} <= loaded  # what the evaluation needs
    for heavy in ("torch", "matplotlib", "pandas", "scipy", "tqdm", "motmetrics", "h5py", "pycocotools", "shapely"):
        assert heavy not in loaded, heavy
    assert "concurrent" not in loaded  # the process pool only for --workers > 1


def test_task_modules_lists_every_task():
    """``prt evaluate --task NAME`` imports only TASK_MODULES[NAME]: the table must name every task's module."""
    from poseval_refine import evaluators

    tasks = evaluators.all_tasks()
    assert set(tasks) == set(evaluators.TASK_MODULES)
    for name, task in tasks.items():
        module = sys.modules[type(task).__module__]
        assert module is not None and module.__name__.endswith("." + evaluators.TASK_MODULES[name]), name
