"""The Python API's in-memory path against the command line and the official tools.

    python benchmarks/api_inmemory.py [--sequences 170] [--frames 40] [--coco-images 5000]
                                      [--repeat 5] [--keep DIR] [--skip-coco] [--skip-posetrack]

PoseTrack: generates an N-sequence x 40-frame benchmark (``poseval_refine.synthetic.make_benchmark``,
seed 0, PoseTrack 2017 files; 170 sequences are 33 MB of JSON, as ``benchmarks/posetrack_eval.py``
makes them) and times, for ``--task tracking`` (mAP and MOTA):

- ``prt evaluate`` as a whole process (interpreter start-up, imports, reading and evaluating);
- ``poseval_refine.evaluate(gt_dir, pred_dir)`` in a running interpreter (the files read each call);
- ``poseval_refine.Evaluator(gt_dir)``: the one-off reading and checking of the GT, then per call
  ``reset(); update(predictions as parsed dicts); compute()`` -- what a training loop pays per epoch.

COCO: a synthetic benchmark of ``--coco-images`` images (``tests/cocobuild.py``; 5000 images give
about 27k result dicts), timing pycocotools as its README runs it (on the files) and on the objects
(``COCO()`` with the dict, ``loadRes`` with the list), ``prt evaluate --task coco`` as a process, and
an ``Evaluator`` with the GT loaded fed the result dicts.

Every path's numbers are checked to be the same (bit for bit between prt's paths, 1e-12 against
pycocotools). Times are the best of ``--repeat`` runs (the in-process paths run in turns, so that they
see the same load); the load average is printed, since a loaded machine slows every path.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def best_of(repeat: int, fn):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def interleaved(repeat: int, *fns) -> list[tuple[float, object]]:
    """Best time and last result of each function, run in turns (a, b, a, b, ...) so that both see the same
    machine load."""
    best = [float("inf")] * len(fns)
    out: list = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            out[i] = fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return list(zip(best, out))


def process(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "poseval_refine.cli", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def load_folder(folder: Path) -> dict:
    """{file name: parsed JSON}, in the order the file system lists the folder (poseval's)."""
    from poseval_refine.io import no_gc

    with no_gc():
        return {os.path.basename(f): orjson.loads(Path(f).read_bytes())
                for f in glob.glob(os.path.join(glob.escape(str(folder)), "*.json"))}


def posetrack(root: Path, sequences: int, frames: int, repeat: int) -> None:
    import poseval_refine as prt

    if len(list((root / "gt").glob("*.json"))) != sequences:
        from poseval_refine.formats.posetrack import write_posetrack
        from poseval_refine.synthetic import make_benchmark

        gt, pred = make_benchmark(sequences, frames, seed=0)
        write_posetrack(gt, root / "gt", "posetrack2017", overwrite=True)
        write_posetrack(pred, root / "pred", "posetrack2017", overwrite=True)
    size = sum(f.stat().st_size for f in root.rglob("*.json")) / 1e6
    print(f"PoseTrack: {sequences} sequences x {frames} frames ({size:.0f} MB of JSON), --task tracking")
    t_parse, pred = best_of(1, lambda: load_folder(root / "pred"))
    cli = min(process(["evaluate", "--task", "tracking", "--gt", str(root / "gt"), "--pred", str(root / "pred"),
                       "-q"]) for _ in range(repeat))
    t_setup, ev = best_of(1, lambda: prt.Evaluator(root / "gt", task="tracking"))

    def epoch():
        ev.reset()
        ev.update(pred)
        return ev.compute()

    (t_files, by_files), (t_epoch, streamed) = interleaved(
        repeat, lambda: prt.evaluate(root / "gt", root / "pred", task="tracking"), epoch)
    same = streamed.to_dict() == by_files.to_dict()
    print(f"  prt evaluate (whole process)                      {cli:7.2f} s")
    print(f"  poseval_refine.evaluate(gt_dir, pred_dir)         {t_files:7.2f} s")
    print(f"  Evaluator(gt_dir): reading and checking the GT    {t_setup:7.2f} s (once)")
    print(f"  Evaluator: update(parsed predictions) + compute   {t_epoch:7.2f} s per call   "
          f"({cli / t_epoch:.1f}x faster than the process)")
    print(f"  (parsing the prediction files with orjson, not timed above: {t_parse:.2f} s)")
    print(f"  same numbers as the files, bit for bit: {same}; MOTA {streamed['MOTA']:.4f}, mAP {streamed['mAP']:.4f}")
    if not same:
        raise SystemExit("the in-memory numbers differ from the files'")


def coco(images: int, repeat: int, keep: Path | None) -> None:
    import poseval_refine as prt
    from tests import cocobuild

    gt, results = cocobuild.make_benchmark(seed=0, n_images=images)
    tmp = keep or Path(tempfile.mkdtemp(prefix="prt-api-coco-"))
    tmp.mkdir(parents=True, exist_ok=True)
    gt_file, res_file = cocobuild.write_json(tmp / "gt.json", gt), cocobuild.write_json(tmp / "res.json", results)
    print(f"COCO: {images} images, {len(gt['annotations'])} GT annotations, {len(results)} result dicts")
    t_official_files, official = best_of(repeat, lambda: cocobuild.pycocotools_stats(gt_file, res_file))

    def pycocotools_objects():
        import copy

        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        with contextlib.redirect_stdout(io.StringIO()):
            g = COCO()
            g.dataset = copy.deepcopy(gt)  # COCOeval writes into the GT annotations
            g.createIndex()
            ev = COCOeval(g, g.loadRes([dict(r) for r in results]), "keypoints")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        return ev.stats

    t_official_objects, _ = best_of(repeat, pycocotools_objects)
    cli = min(process(["evaluate", "--task", "coco", "--gt", str(gt_file), "--pred", str(res_file), "-q"])
              for _ in range(repeat))
    t_setup, ev = best_of(1, lambda: prt.Evaluator(gt, task="coco"))

    def epoch():
        ev.reset()
        ev.update(results)
        return ev.compute()

    (t_files, by_files), (t_epoch, streamed) = interleaved(
        repeat, lambda: prt.evaluate(gt_file, res_file, task="coco"), epoch)
    got = streamed.to_dict()
    worst = max(abs(got[k] - v) for k, v in official.items())
    same = {k: v for k, v in got.items() if k not in ("gt", "pred")} == \
        {k: v for k, v in by_files.to_dict().items() if k not in ("gt", "pred")}
    print(f"  pycocotools on the files (COCO, loadRes, evaluate, accumulate)   {t_official_files:7.2f} s")
    print(f"  pycocotools on the objects (dict and list)                       {t_official_objects:7.2f} s")
    print(f"  prt evaluate --task coco (whole process)                         {cli:7.2f} s")
    print(f"  poseval_refine.evaluate(gt_file, res_file)                       {t_files:7.2f} s")
    print(f"  Evaluator(gt dict): reading and checking the GT                  {t_setup:7.2f} s (once)")
    print(f"  Evaluator: update(result dicts) + compute                        {t_epoch:7.2f} s per call")
    print(f"  largest difference to pycocotools: {worst:.1e}; same numbers as the files: {same}; "
          f"AP {got['AP']:.4f}")
    if worst > 1e-12 or not same:
        raise SystemExit("the numbers differ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=170)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--coco-images", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the generated benchmarks here")
    ap.add_argument("--skip-coco", action="store_true")
    ap.add_argument("--skip-posetrack", action="store_true")
    a = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); python {sys.version.split()[0]}")
    if not a.skip_posetrack:
        with tempfile.TemporaryDirectory(prefix="prt-api-pt-") as tmp:
            posetrack(a.keep / "posetrack" if a.keep else Path(tmp), a.sequences, a.frames, a.repeat)
    if not a.skip_coco:
        coco(a.coco_images, a.repeat, a.keep / "coco" if a.keep else None)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
