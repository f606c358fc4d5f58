"""The small sample benchmark shipped inside the package (``prt evaluate`` with no arguments).

Three PoseTrack-2017 sequences of GT and predictions made by :mod:`poseval_refine.synthetic`;
``python -m poseval_refine.sample`` regenerates them (deterministic).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SEED = 2018
N_SEQUENCES = 3
N_FRAMES = 12
#: the task ``prt evaluate`` runs on the sample when no --task is given
SAMPLE_TASK = "tracking"


def sample_root() -> Path:
    return Path(str(files("poseval_refine") / "data" / "sample"))


def sample_paths(posetrack21: bool = False) -> tuple[Path, Path]:
    """(GT folder, prediction folder) of the shipped sample benchmark; ``posetrack21``: the PoseTrack21
    sample (three sequences in its layout, written by ``python -m tests.support.pt21build --sample``)."""
    root = sample_root()
    if posetrack21:
        root = root.parent / "sample_posetrack21"
    return root / "gt", root / "pred"


def regenerate(root: Path | None = None) -> Path:
    from .formats.posetrack import write_posetrack
    from .synthetic import make_benchmark

    root = Path(root) if root else sample_root()
    gt, pred = make_benchmark(N_SEQUENCES, N_FRAMES, seed=SEED, people=(2, 3), score_decimals=6)
    write_posetrack(gt, root / "gt", "posetrack2017", overwrite=True)
    write_posetrack(pred, root / "pred", "posetrack2017", overwrite=True)
    return root


if __name__ == "__main__":
    print(regenerate())
