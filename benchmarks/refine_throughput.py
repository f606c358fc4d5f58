"""Refinement throughput (poses/s) of the PoseRefiner network, batched vs one pose at a time.

    python benchmarks/refine_throughput.py [--archs resnet18,resnet50,resnet101] [--seconds 5]

For each backbone, at the geometry of `prt train`'s cpu profile and at the paper's (1.0, 840 px
canvas, width 64), times the network forward pass with flip averaging (what `prt refine` runs per
person) on the CPU, and on CUDA when present. Figures are poses per second of the network alone;
`benchmarks/refiner_heldout.py` times `prt refine` end to end.
"""

from __future__ import annotations

import argparse
import time

import torch

from poseval_refine.refiner.encode import EncodeConfig
from poseval_refine.refiner.model import PoseRefiner
from poseval_refine.refiner.train import PROFILES

CONFIGS = {name: (EncodeConfig(scale=p["scale"], canvas_factor=p["canvas"]), p["width"])
           for name, p in PROFILES.items()}


def rate(model, size: int, batch: int, device, seconds: float) -> float:
    x = torch.randn(batch, 18, size, size, device=device)
    with torch.no_grad():
        model(x)  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds or n == 0:
            model(x)
            model(torch.flip(x, dims=[3]))  # flip averaging doubles the work
            n += batch
        if device.type == "cuda":
            torch.cuda.synchronize()
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", default="resnet18,resnet50,resnet101")
    ap.add_argument("--configs", default="cpu,paper")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"{'device':6s} {'config':6s} {'arch':10s} {'canvas':>7s} {'batched':>10s} {'one-by-one':>11s}  (poses/s)")
    for device in devices:
        for cname in args.configs.split(","):
            enc, width = CONFIGS[cname]
            for arch in args.archs.split(","):
                model = PoseRefiner(15, arch, width).to(device).eval()
                batched = rate(model, enc.canvas, args.batch, device, args.seconds)
                single = rate(model, enc.canvas, 1, device, args.seconds)
                print(f"{device.type:6s} {cname:6s} {arch:10s} {enc.canvas:>5d}px {batched:10.2f} {single:11.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
