"""Check `prt compare` and the board's ties on MPII predictions prt never saw, against numpy written here.

    PRT_DATA=../shared/data python benchmarks/compare_check.py [--seed 101]

Makes four prediction files from the released PRM predictions (mpii_val/pyranet-prm.h5): ``net-a`` with
Gaussian noise of 1 px, ``net-near`` = net-a plus 0.05 px (a near-identical copy), ``net-same`` = net-a's
very file, ``net-weak`` with 4 px; saves them with `prt evaluate --save` into a temporary store; then, per
pair, prints what `prt compare --format json` says beside an independent check: the PCKh@0.5 difference
computed from the arrays, and the width of a paired bootstrap over people with numpy's own draws (and of
an unpaired one, for contrast). Last, the ties `prt leaderboard --format json` gives net-a.

``--exchangeable N`` (e.g. 90) then saves N results that differ only in their noise's seed (0.5 px each:
no real difference between them on the population of people) and prints the share of their pairs the board
does not call tied: the false-separation rate of pairwise, uncorrected ties (nominally 5%).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

TOTAL_JOINTS = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 8, 9]


def prt(*args: str) -> str:
    cmd = [sys.executable, "-c", "import sys; from poseval_refine.cli import main; sys.exit(main())", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def noisy(src: Path, out: Path, seed: int, sigma: float) -> Path:
    with h5py.File(src) as f:
        p = np.asarray(f["preds"], dtype=np.float64)
    with h5py.File(out, "w") as f:
        f["preds"] = p + np.random.default_rng(seed).normal(0, sigma, p.shape)
    return out


def hits(gt: Path, pred: Path):
    """Per person: hits at PCKh@0.5 and annotated joints over the Total's 14 joints."""
    with h5py.File(gt) as g:
        part, head = np.asarray(g["part"], np.float64), np.asarray(g["normalize"], np.float64)
    with h5py.File(pred) as f:
        p = np.asarray(f["preds"], np.float64)[..., :2]
    ann = ~(part == 0).all(-1)
    hit = ann & (np.linalg.norm(p - part, axis=-1) / head[:, None] <= 0.5)
    return hit[:, TOTAL_JOINTS].sum(1).astype(float), ann[:, TOTAL_JOINTS].sum(1).astype(float)


def exchangeable(root: Path, store: Path, n: int, seed: int) -> None:
    from poseval_refine.evaluators import get_task
    from poseval_refine.results.board import build_boards
    from poseval_refine.results.store import load_all, make_result, save_result

    task = get_task("single")
    (store / "preds").mkdir(parents=True)
    for i in range(n):
        p = noisy(root / "pyranet-prm.h5", store / "preds" / f"x{i:03d}.h5", seed * 1000 + i, 0.5)
        save_result(make_result(f"x{i:03d}", "single", task.run(root / "valid.h5", [p]), benchmark="mpii-val",
                                inputs={"gt": root / "valid.h5", "pred": p}, options={"flavour": "matlab"},
                                source="user"), store)
    board = build_boards(load_all(store), benchmark="mpii-val")[0]
    ours = [r for r in board.rows if r.method.startswith("x")]
    pairs = len(ours) * (len(ours) - 1) // 2
    apart = sum(sum(o.method not in r.tied_with for o in ours if o is not r) for r in ours) // 2
    values = [r.value for r in ours]
    widest = max(r.tie_ranks[1] - r.tie_ranks[0] + 1 if r.tie_ranks else 1 for r in ours)
    print(f"{n} results differing only in the noise seed (PCKh@0.5 {min(values):.2f} to {max(values):.2f}): "
          f"{apart} of {pairs} pairs not tied ({100 * apart / pairs:.1f}%); widest shared rank range {widest} ranks")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=101, help="seed of the noise (net-a; +1, +2 for the others)")
    ap.add_argument("--draws", type=int, default=10000, help="numpy's own bootstrap draws")
    ap.add_argument("--exchangeable", type=int, default=0, help="also N results differing only in the noise seed")
    args = ap.parse_args()
    root = Path(os.environ.get("PRT_DATA", "../shared/data")) / "mpii_val"
    gt = root / "valid.h5"
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        a = noisy(root / "pyranet-prm.h5", tmp / "a.h5", args.seed, 1.0)
        preds = {"net-a": a, "net-near": noisy(a, tmp / "near.h5", args.seed + 1, 0.05),
                 "net-same": Path(shutil.copyfile(a, tmp / "same.h5")),
                 "net-weak": noisy(root / "pyranet-prm.h5", tmp / "weak.h5", args.seed + 2, 4.0)}
        store = tmp / "store"
        for name, p in preds.items():
            prt("evaluate", "--gt", str(gt), "--pred", str(p), "--task", "single", "--save", name, "--results",
                str(store))
        stats = {n: hits(gt, p) for n, p in preds.items()}
        rng = np.random.default_rng(args.seed)
        idx = rng.integers(0, len(stats["net-a"][0]), size=(args.draws, len(stats["net-a"][0])))
        other = rng.permutation(idx)  # for the unpaired contrast: the second result drawn independently

        def pckh(h, n, i=None):
            return 100 * h.sum() / n.sum() if i is None else 100 * h[i].sum(1) / n[i].sum(1)

        print(f"{'pair':22s} {'prt delta':>10s} {'numpy delta':>12s} {'prt 95% CI':>18s} {'prt width':>9s} "
              f"{'numpy paired':>12s} {'unpaired':>8s} {'p':>6s}  tied  time")
        for b in ("net-same", "net-near", "net-weak"):
            t0 = time.perf_counter()
            c = json.loads(prt("compare", "net-a", b, "--results", str(store), "--format", "json"))
            took = time.perf_counter() - t0
            (ha, na), (hb, nb) = stats["net-a"], stats[b]
            direct = pckh(ha, na) - pckh(hb, nb)
            paired = np.percentile(pckh(ha, na, idx) - pckh(hb, nb, idx), [2.5, 97.5])
            unpaired = np.percentile(pckh(ha, na, idx) - pckh(hb, nb, other), [2.5, 97.5])
            lo, hi = c["ci95"]
            print(f"{'net-a - ' + b:22s} {c['delta']:+10.4f} {direct:+12.4f} [{lo:+7.3f}, {hi:+7.3f}] "
                  f"{hi - lo:9.3f} {paired[1] - paired[0]:12.3f} {unpaired[1] - unpaired[0]:8.3f} "
                  f"{c['p_value']:6.3f}  {str(c['tied']):5s} {took:.1f} s  (|prt - numpy delta| "
                  f"{abs(c['delta'] - direct):.1e})")
        board = json.loads(prt("leaderboard", "--results", str(store), "--benchmark", "mpii-val", "--format",
                               "json"))["boards"][0]
        for r in board["rows"]:
            if r["method"].startswith("net-"):
                print(f"board: #{r['rank']} {r['method']:9s} {r['value']:.2f} tied_with {r['tied_with']} "
                      f"tie_ranks {r['tie_ranks']}")
        if args.exchangeable:
            exchangeable(root, tmp / "exchangeable", args.exchangeable, args.seed)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
