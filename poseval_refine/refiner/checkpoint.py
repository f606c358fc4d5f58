"""Refiner checkpoints: everything refinement needs travels with the weights.

A checkpoint holds the weights, the network and input configuration, the training configuration
(profile, budget, progress, elapsed time: what ``--resume`` continues) and the refinement settings
calibrated after training (``refine``), so ``prt refine --checkpoint CKPT`` needs no tuning flags.
It holds plain data only and is read with ``torch.load(weights_only=True)``: a foreign pickle is
refused, never executed.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..skeletons import POSETRACK15

_REQUIRED = ("model", "model_config", "encode", "skeleton")
_HOW = "give a checkpoint written by `prt train --out CKPT` (of this prt version)"


def read_checkpoint(path: str | Path, device="cpu") -> dict:
    """The checkpoint's contents, or one :class:`ConfigError` naming the file and what is wrong."""
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.exists():
        raise ConfigError("checkpoint not found", file=path, fix="train one with `prt train ... --out CKPT`")
    if path.is_dir():
        raise ConfigError("is a folder, expected a checkpoint file", file=path, fix=_HOW)
    import warnings

    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of foreign files: the error says it
            warnings.simplefilter("ignore")
            ck = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if "weights only" in str(e).lower() or "weights_only" in str(e):
            raise ConfigError("holds Python objects other than tensors and plain data, so it is not a prt "
                              "checkpoint (prt does not execute foreign pickles)", file=path, fix=_HOW) from None
        raise ConfigError(f"is not a torch checkpoint ({first[:120]})", file=path, fix=_HOW) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError, AttributeError,
            KeyError, IndexError, TypeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"is not a readable torch checkpoint ({first[:120]})", file=path, fix=_HOW) from None
    if not isinstance(ck, dict):
        raise ConfigError(f"holds a {type(ck).__name__}, not a prt refiner checkpoint", file=path, fix=_HOW)
    missing = [k for k in _REQUIRED if k not in ck]
    if missing:
        raise ConfigError(f"is not a prt refiner checkpoint (no {', '.join(missing)})", file=path, fix=_HOW)
    cfg = ck["model_config"]
    if not isinstance(cfg, dict) or not {"arch", "num_joints", "width"} <= set(cfg):
        raise ConfigError("has no usable model_config (arch, num_joints, width)", file=path, fix=_HOW)
    if ck.get("skeleton") != "posetrack15" or cfg.get("num_joints") != len(POSETRACK15):
        raise ConfigError(f"was trained for the joint set {ck.get('skeleton')!r} ({cfg.get('num_joints')} joints); "
                          "this refiner works in posetrack15", file=path,
                          fix="use a checkpoint trained by this version of prt")
    from .model import ARCHS

    if cfg["arch"] not in ARCHS:
        raise ConfigError(f"names an unknown architecture {cfg['arch']!r}", file=path, fix=_HOW)
    return ck


def build_model(ck: dict, path: str | Path):
    """The network of a checkpoint read by :func:`read_checkpoint`, with its weights."""
    from .model import PoseRefiner

    cfg = ck["model_config"]
    model = PoseRefiner(cfg["num_joints"], cfg["arch"], cfg["width"], cfg.get("input_skip", False))
    try:
        model.load_state_dict(ck["model"])
    except (RuntimeError, TypeError, AttributeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"weights do not fit a {cfg['arch']} refiner of width {cfg['width']} ({first[:160]})",
                          file=path, fix=_HOW) from None
    return model


def update_checkpoint(path: str | Path, **fields) -> None:
    """Set top-level fields of a checkpoint (e.g. the calibrated ``refine`` rules), atomically."""
    import torch

    from ..io import atomic_path

    ck = read_checkpoint(path)
    ck.update(fields)
    with atomic_path(path) as tmp:
        torch.save(ck, tmp)


def training_stages(ck: dict) -> list[dict]:
    """What a checkpoint was trained on, oldest stage first: each ``{"dataset", "steps", "profile"}``
    plus, for real data, the annotation and image paths it read. A fine-tuned checkpoint lists the
    stages of the checkpoint it started from before its own."""
    train = ck.get("train") or {}
    stages = train.get("stages")
    if isinstance(stages, list) and stages:
        return stages
    return [{"dataset": train.get("dataset", ck.get("dataset", "synthetic")), "steps": ck.get("step"),
             "profile": train.get("profile")}]


def synthetic_only(ck: dict) -> bool:
    return all(s.get("dataset") == "synthetic" for s in training_stages(ck))


def describe_training(ck: dict) -> str:
    """e.g. 'synthetic scenes (3316 steps, cpu profile), then posetrack frames of a.json (400 steps, ...)'."""
    parts = []
    for s in training_stages(ck):
        what = "synthetic scenes" if s.get("dataset") == "synthetic" else f"{s.get('dataset')} data"
        if s.get("annotations"):
            what += f" ({Path(str(s['annotations'])).name}"
            what += f", {s['images_used']} images)" if s.get("images_used") is not None else ")"
        parts.append(f"{what}, {s.get('steps')} steps, {s.get('profile')} profile")
    return "; then ".join(parts)


def image_key(name: str | Path) -> str:
    """How a training image and a labeled frame are recognised as the same image: the last two parts of
    its path (a PoseTrack sequence folder and frame; the file name alone for flat datasets), wherever
    the image folder was."""
    return "/".join(Path(str(name)).parts[-2:])


def trained_images(ck: dict) -> set[str]:
    """The :func:`image_key` of every real image the checkpoint was trained on (any stage)."""
    return {k for s in training_stages(ck) for k in s.get("trained_images") or ()}
