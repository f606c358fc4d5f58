"""The median 2D bone lengths (in head sizes) that ``poseval_refine.refiner.encode.BONES`` holds, measured on the
people of the MPII Human Pose validation split.

    python benchmarks/refiner_bone_lengths.py [--gt ../shared/data/mpii_val/valid.h5]

Prints, per bone, the value in ``BONES``, the median measured here (people with both joints annotated) and how
many people have the bone; exits 1 when a rounded median differs from ``BONES``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    default = Path(os.environ.get("PRT_DATA", "../shared/data")) / "mpii_val" / "valid.h5"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gt", type=Path, default=default, help="MPII validation GT (valid.h5)")
    args = ap.parse_args()

    from poseval_refine.formats.mpii import read_mpii_arrays
    from poseval_refine.refiner.encode import BONES
    from poseval_refine.skeletons import POSETRACK15

    seq = next(iter(read_mpii_arrays(args.gt))).to_skeleton(POSETRACK15)
    xy, head = seq.keypoints[..., :2], seq.head_sizes()
    print(f"{seq.num_persons} people of {args.gt}")
    print(f"{'bone':<32} {'BONES':>6} {'median':>7} {'people':>7}")
    differ = 0
    for a, b, ref in BONES:
        d = np.linalg.norm(xy[:, a] - xy[:, b], axis=1) / head
        d = d[np.isfinite(d)]
        median = round(float(np.median(d)), 3)
        differ += median != ref
        name = f"{POSETRACK15.joints[a]}-{POSETRACK15.joints[b]}"
        print(f"{name:<32} {ref:>6.3f} {median:>7.3f} {len(d):>7d}")
    print("all equal to BONES" if not differ else f"{differ} medians differ from BONES")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
