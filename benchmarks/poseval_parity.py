"""prt against the official poseval on random benchmarks of odd inputs, field by field.

    python benchmarks/poseval_parity.py --poseval DIR [--seeds 0-9] [--sequences 12] [--frames 30]
                                        [--score-decimals 2] [--layout mixed] [--repeated-gt-ids]
                                        [--mot-backend both] [--keep DIR]

``DIR`` is a checkout of leonid-pishchulin/poseval (run as its README says, with the Python that
runs this script; it needs motmetrics, shapely and click). For every seed, ``write_odd_benchmark``
writes GT and predictions with repeated joint ids, null/NaN/missing/string scores, points whose
id is no joint, non-finite coordinates, empty point lists and ignore regions over people
(2017 and 2018 layouts); ``--repeated-gt-ids`` adds frames without predictions (poseval's dummy)
followed by GT track ids shared by two people of a frame, and predicted ids from 0. Both tools
evaluate the same folder (prt with its default, official protocol, once per ``--mot-backend``) and
the script prints, per seed and backend, the largest |difference| over every number poseval
reports (15 per-joint AP/pre/rec, groups, per-joint and total MOTA/MOTP/Prec/Rec) and NaN patterns
that differ, then the largest |difference| per metric over all seeds. When poseval crashes on a
benchmark, prt must refuse it (and vice versa). Exit status 1 if any difference exceeds --tol.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

GROUPS = [(14, 12, 13), (8, 9), (7, 10), (6, 11), (2, 3), (1, 4), (0, 5)]
KEYS = ["ap_joint", "ap_pre", "ap_rec", "ap_groups", "mota_joint", "motp_joint", "pre_joint", "rec_joint",
        "mota_groups", "mota_total", "motp_total", "pre_total", "rec_total"]


def seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def run_poseval(poseval: Path, gt: Path, pred: Path) -> dict:
    """poseval's numbers, read from the JSON files it writes, in prt's result layout."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "poseval.evaluate", "--groundTruth", f"{gt}/", "--predictions", f"{pred}/",
               "--evalPoseEstimation", "--evalPoseTracking", "--outputDir", out]
        proc = subprocess.run(cmd, cwd=poseval, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"poseval failed:\n{proc.stderr[-3000:]}")
        ap = json.loads(Path(out, "total_AP_metrics.json").read_text())
        mot = json.loads(Path(out, "total_MOT_metrics.json").read_text())

    def groups(vals):
        v = np.asarray(vals, float)
        return [float(v[list(g)].mean()) for g in GROUPS] + [float(v[15])]

    res = {"ap_joint": ap["ap"][:15], "ap_pre": ap["pre"][:15], "ap_rec": ap["rec"][:15], "ap_groups": groups(ap["ap"])}
    for k in ("mota", "motp", "pre", "rec"):
        res[f"{k}_joint"] = mot[k][:15]
        res[f"{k}_total"] = mot[k][15]
    res["mota_groups"] = groups(mot["mota"])
    return res


def as_array(v) -> np.ndarray:
    v = v if isinstance(v, list) else [v]
    return np.array([math.nan if x is None else x for x in v], dtype=np.float64)


def compare(got: dict, expected: dict) -> tuple[float, list[str], dict[str, float]]:
    """(largest |difference|, keys whose NaN pattern differs, largest |difference| per key)."""
    per_key, nan_diff = {}, []
    for k in KEYS:
        a, b = as_array(got[k]), as_array(expected[k])
        if a.shape != b.shape or (np.isnan(a) != np.isnan(b)).any():
            nan_diff.append(k)
            continue
        d = np.abs(a - b)[~np.isnan(a)]
        per_key[k] = float(d.max()) if d.size else 0.0
    return max(per_key.values(), default=0.0), nan_diff, per_key


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--poseval", type=Path, required=True, help="checkout of the official poseval")
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--sequences", type=int, default=12)
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--score-decimals", type=int, default=None, help="round scores (ties across sequences)")
    ap.add_argument("--layout", choices=["2017", "2018", "mixed"], default="mixed")
    ap.add_argument("--repeated-gt-ids", action="store_true",
                    help="dummy frames, then GT ids shared within a frame (the ones poseval accepts)")
    ap.add_argument("--mot-backend", choices=["prt", "motmetrics", "both"], default="both")
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--keep", type=Path, help="keep the benchmarks under this folder")
    args = ap.parse_args()

    import logging

    logging.getLogger("prt").setLevel(logging.ERROR)  # the odd inputs are noted per file; not needed here
    from poseval_refine.errors import PrtError
    from poseval_refine.evaluators.posetrack import evaluate_posetrack
    from poseval_refine.synthetic import write_odd_benchmark

    backends = ["prt", "motmetrics"] if args.mot_backend == "both" else [args.mot_backend]
    failed = False
    per_key = {b: dict.fromkeys(KEYS, 0.0) for b in backends}
    for seed in seeds(args.seeds):
        with tempfile.TemporaryDirectory() as tmp:
            root = (args.keep / f"seed{seed}") if args.keep else Path(tmp)
            write_odd_benchmark(root, args.sequences, args.frames, seed=seed, score_decimals=args.score_decimals,
                                layout=args.layout, repeated_gt_ids=args.repeated_gt_ids)
            try:
                expected = run_poseval(args.poseval, root / "gt", root / "pred")
            except RuntimeError as e:
                expected = str(e).strip().splitlines()[-1]
            for backend in backends:
                try:
                    got = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True, mot_backend=backend)
                except PrtError as e:
                    got = str(e).splitlines()[0]
                if isinstance(got, str) or isinstance(expected, str):
                    bad = not (isinstance(got, str) and isinstance(expected, str))
                    failed |= bad
                    theirs = f"failed: {expected}" if isinstance(expected, str) else "ok"
                    ours = f"refused: {got}" if isinstance(got, str) else "gave numbers"
                    note = "  MISMATCH" if bad else ""
                    print(f"seed {seed} {backend}: poseval {theirs}; prt {ours}{note}", flush=True)
                    continue
                worst, nan_diff, keys = compare(got, expected)
                for k, v in keys.items():
                    per_key[backend][k] = max(per_key[backend][k], v)
                bad = worst > args.tol or nan_diff
                failed |= bool(bad)
                c = got["counts"]
                switches = sum(sum(it["mot"]["num_switches"]) for it in got["items"])
                print(f"seed {seed} {backend}: max |prt - poseval| = {worst:.3g}"
                      + (f"; NaN differs in {nan_diff}" if nan_diff else "")
                      + f"  (mAP {got['ap_groups'][-1]:.4f}, MOTA {got['mota_total']:.4f}, "
                        f"{c['dummy_frames']} dummy frames, {switches} switches)", flush=True)
    for backend in backends:
        print(f"max |prt - poseval| per metric, --mot-backend {backend}:")
        for k in KEYS:
            print(f"  {k:<12} {per_key[backend][k]:.3g}")
    overall = max(max(v.values()) for v in per_key.values())
    print(f"all seeds: max |prt - poseval| = {overall:.3g} ({'FAIL' if failed else 'ok'} at tol {args.tol:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
