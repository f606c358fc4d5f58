#!/usr/bin/env bash
# The README's CPU demonstration of the PoseRefiner, with default settings only: train 8 minutes on
# synthetic scenes, then refine held-out scenes (a seed never used in training) whose input poses
# are corrupted like a weak method's output (no head boxes), and compare PCKh@0.5.
#   bash benchmarks/refiner_demo.sh [OUT_DIR]
set -euo pipefail
OUT=${1:-runs/demo}
mkdir -p "$OUT"
[ -f "$OUT/demo.ckpt" ] || prt train --dataset synthetic --minutes 8 --out "$OUT/demo.ckpt"
for level in heavy light; do
  rm -rf "$OUT/heldout_$level"
  prt synth --out "$OUT/heldout_$level" --n 60 --seed 7 --predictions "$level" > /dev/null
  prt refine --pred "$OUT/heldout_$level/predictions.json" --images "$OUT/heldout_$level" \
      --checkpoint "$OUT/demo.ckpt" --out "$OUT/heldout_$level/refined.json"
  for f in predictions refined; do
    printf '%-6s %-12s ' "$level" "$f"
    prt evaluate --gt "$OUT/heldout_$level/annotations.json" --pred "$OUT/heldout_$level/$f.json" \
        --task pckh --json "$OUT/heldout_$level/$f.pckh.json" -q | tail -1
  done
done
