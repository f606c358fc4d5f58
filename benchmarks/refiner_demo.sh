#!/usr/bin/env bash
# The README's CPU demonstration of the PoseRefiner, with default settings only:
#   1. `prt train --dataset synthetic --minutes 8` (the profile `auto` picks: cpu on a CPU);
#   2. benchmarks/refiner_heldout.py: held-out scenes (prt synth --seed 7, never used in training)
#      whose GT this script corrupts with its own code (no head boxes in the predictions), refined
#      by `prt refine` with no tuning flags, scored with `prt evaluate --task pckh`; it also checks
#      that scores and track ids are kept and that GT head boxes in the file change nothing.
#   bash benchmarks/refiner_demo.sh [OUT_DIR]      (an existing OUT_DIR/demo.ckpt is reused)
set -euo pipefail
OUT=${1:-runs/demo}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$OUT/demo.ckpt" ]; then
  start=$(date +%s)
  prt train --dataset synthetic --minutes 8 --out "$OUT/demo.ckpt"
  echo "prt train: $(( $(date +%s) - start )) s wall, start-up and calibration included"
fi
python "$HERE/refiner_heldout.py" --checkpoint "$OUT/demo.ckpt" --out "$OUT/heldout"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
