"""The refiner on a real estimator's output: MediaPipe BlazePose on the 41 real frames of Iqbal et al.'s
test sequence 060470979, refined by `prt refine` and scored by `prt evaluate --task pckh`.

    python benchmarks/refiner_real.py --checkpoint c.pt [--shared ../shared] [--out runs/real]
                                      [--mp-python /work/ref/mpvenv/bin/python]

The estimator runs in an environment of its own — mediapipe is never a dependency of prt. Create it
once (mediapipe 0.10.21's wheel ships the BlazePose models, so it then runs offline):

    python3 -m venv /work/ref/mpvenv && /work/ref/mpvenv/bin/pip install mediapipe==0.10.21 "numpy<2"

Steps:
1. GT: ``shared/data/posetrack_cases/bonn_test/gt/060470979.json`` (Iqbal et al.'s annotations of the
   sequence, 4 tracks, 164 people) converted to PoseTrack 2018 with `prt convert`.
2. Estimator (this script run by ``--mp-python`` with ``estimate``): each GT person is cropped around
   its GT joints (the box of its annotated joints, enlarged by ``--margin`` on each side and made
   square, as MPII's single-person protocol gives the person's location) and BlazePose (static image
   mode, model complexity 1) returns its landmarks; the 12 body joints BlazePose has (shoulders,
   elbows, wrists, hips, knees, ankles) are written in PoseTrack 2018 with its visibility as score,
   one prediction per GT person in the GT's order (no joints where it found nobody).
3. prt: `prt evaluate --task pckh` against the GT without its head joints (BlazePose has no head top
   or neck: they are left out of the score); `prt refine` with no flags (the checkpoint's rules) and in
   the official mode (``--keep-below 0 --min-move 0``: every joint moves); then `prt refine
   --calibrate-on` the GT of the first 20 frames, scored on the other 21 (the frames calibration did
   not see), beside the input and the checkpoint's rules on the same 21 frames. It also writes
   ``OUT/train_frames_1_20.json`` (frames 1-20 with every joint) for fine-tuning on real frames.

Prints PCKh@0.5 per joint group before and after, and how many joints went from hit to miss and from
miss to hit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SEQUENCE = "060470979"
#: PoseTrack 2018 slot -> BlazePose landmark (the 12 body joints BlazePose shares with PoseTrack)
BLAZEPOSE = {5: 11, 6: 12, 7: 13, 8: 14, 9: 15, 10: 16, 11: 23, 12: 24, 13: 25, 14: 26, 15: 27, 16: 28}
HEAD_SLOTS = (0, 1, 2, 3, 4)  # nose, head bottom, head top, ears: not scored
GROUPS = {"Shoulder": (5, 6), "Elbow": (7, 8), "Wrist": (9, 10), "Hip": (11, 12), "Knee": (13, 14),
          "Ankle": (15, 16)}
FIRST_HALF = 20  # frames whose GT --calibrate-on sees; the other 21 are scored


# ---------------------------------------------------------------------------------- estimator
def estimate(gt_path: Path, images: Path, out: Path, margin: float) -> None:
    """Runs under the mediapipe environment: numpy, PIL and mediapipe only, never prt."""
    import mediapipe as mp
    from PIL import Image

    gt = json.loads(gt_path.read_text())
    names = {im["id"]: im["file_name"] for im in gt["images"]}
    anns, found = [], 0
    start = time.perf_counter()
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        cache: dict[str, np.ndarray] = {}
        for a in gt["annotations"]:
            name = names[a["image_id"]]
            if name not in cache:
                cache = {name: np.asarray(Image.open(images / name).convert("RGB"))}
            img = cache[name]
            kp = np.array(a["keypoints"], float).reshape(-1, 3)
            pts = kp[~((kp[:, 0] == 0) & (kp[:, 1] == 0) & (kp[:, 2] == 0)), :2]
            lo, hi = pts.min(0), pts.max(0)
            side = (hi - lo).max() * (1 + 2 * margin)
            x0, y0 = ((lo + hi) / 2 - side / 2).round().astype(int)
            s = int(round(side))
            crop = np.zeros((s, s, 3), np.uint8)  # outside the image: black
            ys, xs = slice(max(y0, 0), min(y0 + s, img.shape[0])), slice(max(x0, 0), min(x0 + s, img.shape[1]))
            crop[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0] = img[ys, xs]
            res = pose.process(crop)
            out_kp, scores = [0.0] * 51, [0.0] * 17
            if res.pose_landmarks is not None:
                found += 1
                lm = res.pose_landmarks.landmark
                for slot, i in BLAZEPOSE.items():
                    out_kp[3 * slot: 3 * slot + 3] = [x0 + lm[i].x * s, y0 + lm[i].y * s, 1]
                    scores[slot] = round(float(lm[i].visibility), 4)
            anns.append({"image_id": a["image_id"], "category_id": 1, "track_id": a["track_id"],
                         "keypoints": out_kp, "scores": scores})
    seconds = time.perf_counter() - start
    out.write_text(json.dumps({"images": gt["images"], "annotations": anns, "categories": gt["categories"]}))
    print(f"BlazePose found {found} of {len(anns)} people in {seconds:.1f} s ({len(anns) / seconds:.1f} people/s)")


# ---------------------------------------------------------------------------------- prt's steps
def run(args: list[str]) -> str:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{proc.stdout}{proc.stderr}")
    return proc.stdout + proc.stderr


def without(gt: dict, slots, frames=None) -> dict:
    """The GT with the given keypoint slots unannotated, and (if ``frames`` is given) people only in
    those frames (image ids)."""
    anns = []
    for a in gt["annotations"]:
        if frames is not None and a["image_id"] not in frames:
            continue
        kp = list(a["keypoints"])
        for j in slots:
            kp[3 * j: 3 * j + 3] = [0, 0, 0]
        anns.append(dict(a, keypoints=kp))
    images = [dict(im, is_labeled=frames is None or im["id"] in frames) for im in gt["images"]]
    return dict(gt, images=images, annotations=anns)


def pckh(gt: Path, pred: Path) -> float:
    out = pred.with_name(f"{pred.stem}.{gt.stem}.pckh.json")
    run(["prt", "evaluate", "--gt", gt, "--pred", pred, "--task", "pckh", "--json", out, "-q"])
    return json.loads(out.read_text())["pckh_total"]


def hits(gt: dict, pred: dict, errors: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(people, 17) hit and annotated masks of the GT's people, paired with the predictions by order
    within each image (as `prt evaluate --task pckh`); ``errors`` receives each person's (17,)
    distances in head sizes (NaN where not annotated or not predicted)."""
    by_image: dict[int, list] = {}
    for p in pred["annotations"]:
        by_image.setdefault(p["image_id"], []).append(p)
    seen: dict[int, int] = {}
    hit, ann = [], []
    for g in gt["annotations"]:
        k = seen.get(g["image_id"], 0)
        seen[g["image_id"]] = k + 1
        p = by_image[g["image_id"]][k]
        a, b = (np.array(x["keypoints"], float).reshape(-1, 3) for x in (g, p))
        annotated = ~((a[:, 0] == 0) & (a[:, 1] == 0) & (a[:, 2] == 0))
        has = ~((b[:, 0] == 0) & (b[:, 1] == 0) & (b[:, 2] == 0))
        hs = 0.6 * np.hypot(*g["bbox_head"][2:])
        d = np.hypot(*(a[:, :2] - b[:, :2]).T) / hs
        hit.append(annotated & has & (d <= 0.5))
        ann.append(annotated)
        if errors is not None:
            errors.append(np.where(annotated & has, d, np.nan))
    return np.array(hit), np.array(ann)


def found_people(gt_path: Path, runs: dict[str, Path]) -> None:
    """The people the estimator found (at least one joint within half a head size; the others are
    another person or nothing): PCKh@0.5 and the median joint error before and after refinement."""
    gt = json.loads(gt_path.read_text())
    first = None
    for label, path in runs.items():
        err: list = []
        h, a = hits(gt, json.loads(path.read_text()), err)
        if first is None:
            first = h.any(1)
            print(f"  on the {int(first.sum())} of {len(h)} people the estimator found:")
        e = np.array(err)[first]
        print(f"    {label:36s} PCKh@0.5 {100 * h[first].sum() / a[first].sum():5.1f}, median joint error "
              f"{np.nanmedian(e):.2f} head sizes")


def table(gt_path: Path, runs: dict[str, Path]) -> None:
    gt = json.loads(gt_path.read_text())
    before = None
    cols = list(GROUPS) + ["Total"]
    print(f"  {'':38s} " + " ".join(f"{c:>8s}" for c in cols) + f" {'hit->miss':>9s} {'miss->hit':>9s}")
    for label, path in runs.items():
        h, a = hits(gt, json.loads(path.read_text()))
        vals = [100 * h[:, s].sum() / max(a[:, s].sum(), 1) for s in GROUPS.values()] + [100 * h.sum() / a.sum()]
        total = pckh(gt_path, path)
        assert abs(total - vals[-1]) < 1e-9, (total, vals[-1])  # this script's hit test is prt's
        change = ["", ""] if before is None else [str(int((before & ~h).sum())), str(int((~before & h).sum()))]
        print(f"  {label:38s} " + " ".join(f"{v:8.1f}" for v in vals) + f" {change[0]:>9s} {change[1]:>9s}")
        before = h if before is None else before


def summary(text: str) -> str:
    lines = [ln.removeprefix("prt: ") for ln in text.splitlines() if "refined" in ln and "people" in ln]
    return lines[-1] if lines else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="step")
    est = sub.add_parser("estimate", help="the estimator step (run by the mediapipe environment's python)")
    est.add_argument("--gt", type=Path, required=True)
    est.add_argument("--images", type=Path, required=True)
    est.add_argument("--out", type=Path, required=True)
    est.add_argument("--margin", type=float, default=0.2)
    ap.add_argument("--checkpoint")
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"),
                    help="the shared folder holding data/ (default: beside the checkout)")
    ap.add_argument("--out", default="runs/real")
    ap.add_argument("--mp-python", default="/work/ref/mpvenv/bin/python",
                    help="python of the environment that has mediapipe 0.10.21 (see above)")
    ap.add_argument("--margin", type=float, default=0.2, help="crop margin on each side, share of the joints' box")
    args = ap.parse_args()
    if args.step == "estimate":
        estimate(args.gt, args.images, args.out, args.margin)
        return
    if not args.checkpoint:
        ap.error("--checkpoint is required")
    data = Path(args.shared) / "data"
    images = data / "bonn_posetrack" / "videos"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load}; checkpoint {args.checkpoint}")
    gt_path = out / "gt_full.json"
    if not gt_path.exists():
        run(["prt", "convert", "--to", "posetrack2018", data / "posetrack_cases" / "bonn_test" / "gt" /
             f"{SEQUENCE}.json", gt_path])
    gt = json.loads(gt_path.read_text())
    ids = sorted(im["id"] for im in gt["images"])
    first, second = set(ids[:FIRST_HALF]), set(ids[FIRST_HALF:])
    scored = {"all": out / "gt.json", "first": out / "gt_first.json", "second": out / "gt_second.json"}
    scored["all"].write_text(json.dumps(without(gt, HEAD_SLOTS)))
    scored["first"].write_text(json.dumps(without(gt, HEAD_SLOTS, first)))
    scored["second"].write_text(json.dumps(without(gt, HEAD_SLOTS, second)))
    # frames 1-20 with every joint, for fine-tuning with `prt train --dataset posetrack` (docs/refiner.md)
    (out / "train_frames_1_20.json").write_text(json.dumps(dict(
        gt, images=[im for im in gt["images"] if im["id"] in first],
        annotations=[a for a in gt["annotations"] if a["image_id"] in first])))
    pred = out / "blazepose.json"
    if not pred.exists():
        print(run([args.mp_python, Path(__file__).resolve(), "estimate", "--gt", gt_path, "--images", images,
                   "--out", pred, "--margin", args.margin]).strip().splitlines()[-1])
    refined = {}
    for label, flags in (("defaults", []), ("official", ["--keep-below", "0", "--min-move", "0"]),
                         ("calibrated", ["--calibrate-on", scored["first"]])):
        path = out / f"refined_{label}.json"
        start = time.perf_counter()
        text = run(["prt", "refine", "--pred", pred, "--images", images, "--checkpoint", args.checkpoint,
                    "--out", path, "--overwrite", *flags])
        refined[label] = path
        print(f"prt refine {' '.join(map(str, flags)) or '(no flags)'}: {time.perf_counter() - start:.0f} s; "
              f"{summary(text)}")
        for line in text.splitlines():
            if "calibrated on" in line or "trained on synthetic" in line:
                print("   ", line.removeprefix("prt: "))
    n = len(gt["annotations"])
    print(f"\nAll 41 frames ({n} people; 12 joints, head joints not scored), PCKh@0.5:")
    runs = {"BlazePose": pred, "refined, defaults": refined["defaults"],
            "refined, official (move every joint)": refined["official"]}
    table(scored["all"], runs)
    found_people(scored["all"], runs)
    print(f"\nFrames {FIRST_HALF + 1}-41, not seen by --calibrate-on (which saw the GT of frames 1-{FIRST_HALF}):")
    runs = {"BlazePose": pred, "refined, defaults": refined["defaults"],
            "refined, official (move every joint)": refined["official"],
            "refined, --calibrate-on frames 1-20": refined["calibrated"]}
    table(scored["second"], runs)
    found_people(scored["second"], runs)


if __name__ == "__main__":
    main()
