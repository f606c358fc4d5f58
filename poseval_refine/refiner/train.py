"""Training loop: SGD with the paper's step schedule, a step or time budget, checkpoints, resume,
and DistributedDataParallel when started under ``torchrun`` (NCCL on GPUs, gloo on CPUs)."""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError
from ..version import __version__
from .device import pick_device
from .encode import EncodeConfig
from .model import PoseRefiner, load_pretrained
from .synth import SynthConfig

log = logging.getLogger("prt")

#: (fraction of the run at which it starts, learning rate): 0.005 -> 0.02 -> 0.002 -> 0.001 with the
#: boundaries of pose-tensorflow's 10k / 430k / 730k / 1030k iterations scaled to the run length
SCHEDULE = ((0.0, 0.005), (10 / 1030, 0.02), (430 / 1030, 0.002), (730 / 1030, 0.001))
LOCREF_WEIGHT = 0.05
#: Adam's learning rate is the schedule's times this (its peak 0.02 becomes 1e-3)
ADAM_FACTOR = 0.05
#: without a progress bar (stderr not a TTY), one log line (loss, learning rate) per this many steps
LOG_EVERY = 100
#: locref regression losses: pose-tensorflow's default is Huber (k = 1); the paper says MSE
LOCREF_LOSSES = {
    "huber": lambda pred, target: F.smooth_l1_loss(pred, target, reduction="none"),
    "mse": lambda pred, target: F.mse_loss(pred, target, reduction="none"),
}


def learning_rate(progress: float, base_scale: float = 1.0) -> float:
    lr = SCHEDULE[0][1]
    for start, value in SCHEDULE:
        if progress >= start:
            lr = value
    return lr * base_scale


#: training profiles: ``paper`` is the paper's network, geometry and optimiser, for GPUs; ``cpu`` learns
#: within minutes on two CPU cores (prt's configuration: a small network on 0.3 of the paper's pixel
#: scale, the input skip, Gaussian heatmap targets and Adam). ``auto`` takes ``paper`` on CUDA and
#: ``cpu`` everywhere else.
PROFILES = {
    "cpu": {"arch": "resnet18", "width": 24, "scale": 0.3, "canvas": 0.66, "input_skip": True, "lr_scale": 1.0,
            "batch_size": 4, "optimizer": "adam", "target_sigma": 6.0},
    "paper": {"arch": "resnet101", "width": 64, "scale": 1.0, "canvas": 1.0, "input_skip": False, "lr_scale": 1.0,
              "batch_size": 8, "optimizer": "sgd", "target_sigma": 0.0},
}
_CPU = PROFILES["cpu"]
#: settings that shape the network or its input: a resumed run must keep them
STRUCTURE = ("arch", "width", "input_skip", "scale", "canvas")


def choose_profile(name: str, device: torch.device) -> str:
    if name == "auto":
        return "paper" if device.type == "cuda" else "cpu"
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}", fix="use auto, cpu or paper")
    return name


@dataclass
class TrainConfig:
    """One training run. The defaults are the ``cpu`` profile; :meth:`from_profile` builds others."""

    out: Path
    dataset: str = "synthetic"
    annotations: str | None = None
    images: str | None = None
    profile: str = "cpu"
    arch: str = _CPU["arch"]
    width: int = _CPU["width"]
    input_skip: bool = _CPU["input_skip"]
    steps: int | None = None
    minutes: float | None = None
    batch_size: int = _CPU["batch_size"]
    lr_scale: float = _CPU["lr_scale"]
    seed: int = 0
    workers: int = 0
    checkpoint_every: int = 200
    resume: bool = False
    pretrained: str | None = None
    device: str | None = None
    encode: EncodeConfig = field(default_factory=lambda: EncodeConfig(scale=_CPU["scale"], canvas_factor=_CPU["canvas"],
                                                                      target_sigma=_CPU["target_sigma"]))
    synth: SynthConfig = field(default_factory=lambda: SynthConfig(scale=_CPU["scale"]))
    save_all_ranks: bool = False  # tests: every rank writes its final weights
    locref_loss: str = "huber"
    #: initial weight of the input skip (its logit boost where the input disk covers a cell)
    skip_init: float = 8.0
    #: sgd (the paper's: momentum 0.9) or adam (the learning rates of the schedule times ADAM_FACTOR)
    optimizer: str = _CPU["optimizer"]
    #: held-out scenes (synthetic data) or images (real data) on which the keep rules are calibrated after
    #: training (0: none)
    calibration_scenes: int = 30
    #: real data: the share of its images (the last ones, in the reader's order) held out of training for the
    #: calibration step
    holdout: float = 0.1
    #: a refiner checkpoint whose weights training starts from (fine-tuning; a new schedule)
    init_from: str | None = None

    @classmethod
    def from_profile(cls, profile: str, out: Path, transforms: str = "t1,t2,t3,t4", **overrides) -> TrainConfig:
        """A configuration from a profile (``cpu``/``paper``); ``overrides`` that are not None win."""
        chosen = dict(PROFILES[profile], **{k: v for k, v in overrides.items() if v is not None})
        scale, canvas, sigma = chosen.pop("scale"), chosen.pop("canvas"), chosen.pop("target_sigma")
        try:
            synth = SynthConfig.only(transforms, scale=scale)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        return cls(out=Path(out), profile=profile, synth=synth,
                   encode=EncodeConfig(scale=scale, canvas_factor=canvas, target_sigma=sigma), **chosen)

    def structure(self) -> dict:
        return {"arch": self.arch, "width": self.width, "input_skip": self.input_skip, "scale": self.encode.scale,
                "canvas": self.encode.canvas_factor}

    def describe(self) -> str:
        budget = f"{self.steps} steps" if self.steps is not None else f"{self.minutes:g} minutes"
        return (f"profile {self.profile}: {self.arch}, width {self.width}, scale {self.encode.scale:g} "
                f"({self.encode.canvas} px canvas), input skip {'on' if self.input_skip else 'off'}, "
                f"{'Gaussian' if self.encode.target_sigma else 'disk'} targets, {self.optimizer} "
                f"lr x{self.lr_scale:g}, "
                f"batch {self.batch_size}, transforms "
                f"{','.join(t for t in ('t1', 't2', 't3', 't4') if getattr(self.synth, t))}, {budget}")


def loss_fn(heat, loc, batch, locref_loss: str = "huber"):
    w = batch["weight"]
    part = F.binary_cross_entropy_with_logits(heat, batch["heat"], weight=w, reduction="sum") / max(1.0, w.sum().item())
    pos = batch["heat"].unsqueeze(2)
    loc_loss = (LOCREF_LOSSES[locref_loss](loc, batch["loc"]) * pos).sum() / max(1.0, pos.sum().item())
    return part * 50.0 + LOCREF_WEIGHT * loc_loss * 50.0, part.detach(), loc_loss.detach()


def build_dataset(cfg: TrainConfig):
    """The training samples, and what the checkpoint records about the data (its training stage)."""
    from .checkpoint import image_key
    from .data import DATASETS, RecordDataset, SyntheticDataset, read_split

    if cfg.dataset == "synthetic":
        return SyntheticDataset(cfg.encode, cfg.synth, seed=cfg.seed), {"dataset": "synthetic"}
    if cfg.dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {cfg.dataset!r}", fix=f"use synthetic or one of {', '.join(DATASETS)}")
    if not cfg.annotations or not cfg.images:
        raise ConfigError(f"--dataset {cfg.dataset} needs --annotations FILE and --images DIR")
    used, held = read_split(cfg.dataset, cfg.annotations, cfg.images, cfg.holdout)
    info = {"dataset": cfg.dataset, "annotations": str(Path(cfg.annotations).resolve()),
            "images": str(Path(cfg.images).resolve()), "holdout": cfg.holdout, "images_used": len(used),
            "images_held_out": len(held), "trained_images": sorted({image_key(r.image) for r in used})}
    log.info("training on %d %s images; %d held out for calibration (the last %g of them)", len(used), cfg.dataset,
             len(held), cfg.holdout)
    return RecordDataset(used, cfg.encode, cfg.synth, seed=cfg.seed), info


def _collate(samples):
    return {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}


def train_record(cfg: TrainConfig) -> dict:
    return {"profile": cfg.profile, **cfg.structure(), "batch_size": cfg.batch_size, "lr_scale": cfg.lr_scale,
            "optimizer": cfg.optimizer, "target_sigma": cfg.encode.target_sigma,
            "seed": cfg.seed, "dataset": cfg.dataset, "locref_loss": cfg.locref_loss, "steps": cfg.steps,
            "minutes": cfg.minutes}


def save_checkpoint(path: Path, model, optimizer, step: int, progress: float, cfg: TrainConfig, seconds: float = 0.0,
                    refine: dict | None = None, stages: list | None = None) -> None:
    """``stages``: what the weights were trained on, oldest first (see checkpoint.training_stages)."""
    from ..io import atomic_path

    raw = model.module if hasattr(model, "module") else model
    record = dict(train_record(cfg), stages=stages if stages is not None else [{"dataset": cfg.dataset, "steps": step,
                                                                              "profile": cfg.profile}])
    state = {"model": raw.state_dict(), "model_config": raw.config(), "skeleton": "posetrack15",
             "encode": cfg.encode.as_dict(), "synth": cfg.synth.as_dict(), "step": step, "progress": progress,
             "seconds": float(seconds), "optimizer": optimizer.state_dict(), "prt_version": __version__,
             "dataset": cfg.dataset, "locref_loss": cfg.locref_loss, "train": record,
             "refine": refine if refine is not None else {"keep_below": None, "min_move": None, "scale_from": "pose"}}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def check_resume(ck: dict, cfg: TrainConfig, path: Path, verb: str = "resume") -> None:
    """A resumed (or fine-tuning) run must build the same network on the same input geometry."""
    stored = dict(ck.get("train") or {})
    stored.setdefault("arch", ck["model_config"].get("arch"))
    stored.setdefault("width", ck["model_config"].get("width"))
    stored.setdefault("input_skip", ck["model_config"].get("input_skip", False))
    stored.setdefault("scale", ck["encode"].get("scale"))
    stored.setdefault("canvas", ck["encode"].get("canvas_factor"))
    mine = cfg.structure()
    diff = [k for k in STRUCTURE if stored.get(k) != mine[k]]
    if diff:
        said = ", ".join(f"--{k.replace('_', '-')} {_show(mine[k])} (checkpoint: {_show(stored.get(k))})" for k in diff)
        raise ConfigError(f"cannot {verb} with {said}", file=path,
                          fix="leave these options out to continue with the checkpoint's settings, or train a new "
                              "model into another --out")


def _show(v) -> str:
    return ("on" if v else "off") if isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)


#: share of a ``--minutes`` budget kept for the calibration after training (at most CALIBRATION_MAX_S)
CALIBRATION_SHARE = 0.08
CALIBRATION_MAX_S = 45.0


def calibration_reserve(cfg: TrainConfig) -> float | None:
    """Seconds of a ``--minutes`` budget left for the calibration step after training (None: a step
    budget, calibration takes what it needs; 0: no calibration)."""
    if cfg.minutes is None:
        return None
    return min(CALIBRATION_SHARE * cfg.minutes * 60, CALIBRATION_MAX_S) if cfg.calibration_scenes > 0 else 0.0


@dataclass
class Run:
    """The state of a training run between its phases."""

    model: torch.nn.Module
    opt: torch.optim.Optimizer
    device: torch.device
    world: int = 1
    rank: int = 0
    lr_factor: float = 1.0
    step: int = 0
    progress: float = 0.0
    prior_s: float = 0.0  # seconds trained before this process (``--resume``)
    history: list = field(default_factory=list)
    start_progress: float | None = None
    seconds: float = 0.0  # seconds trained by this process
    prior_stages: list = field(default_factory=list)  # what the starting weights were trained on
    data: dict = field(default_factory=dict)  # this run's training stage, as build_dataset describes it

    def stages(self, cfg: TrainConfig) -> list:
        return [*self.prior_stages, dict(self.data, steps=self.step, profile=cfg.profile)]


def setup(cfg: TrainConfig) -> Run:
    """Device (and the process group under torchrun), network and optimizer."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = pick_device(cfg.device)
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.manual_seed(cfg.seed)
    model = PoseRefiner(15, cfg.arch, cfg.width, cfg.input_skip, cfg.skip_init).to(device)
    if cfg.pretrained:
        missing = load_pretrained(model, cfg.pretrained)
        log.info("loaded %s; %d tensors start fresh (heads, extra inputs)", cfg.pretrained, len(missing))
    lr_factor = ADAM_FACTOR if cfg.optimizer == "adam" else 1.0
    if cfg.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=learning_rate(0, cfg.lr_scale) * lr_factor)
    elif cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=learning_rate(0, cfg.lr_scale), momentum=0.9, weight_decay=1e-4)
    else:
        raise ConfigError(f"unknown optimizer {cfg.optimizer!r}", fix="use sgd or adam")
    run = Run(model=model, opt=opt, device=device, world=world, rank=rank, lr_factor=lr_factor)
    if cfg.init_from:
        from .checkpoint import build_model, read_checkpoint, training_stages

        ck = read_checkpoint(cfg.init_from, device)
        check_resume(ck, cfg, Path(cfg.init_from), verb="start from")
        model.load_state_dict(build_model(ck, cfg.init_from).state_dict())
        run.prior_stages = [dict(s, checkpoint=str(cfg.init_from)) if i == len(training_stages(ck)) - 1 else s
                            for i, s in enumerate(training_stages(ck))]
        log.info("starting from the weights of %s", cfg.init_from)
    return run


def resume(run: Run, cfg: TrainConfig) -> None:
    """With ``--resume``, continue from ``--out``: weights, optimizer, step and schedule position."""
    if not cfg.resume:
        return
    if not Path(cfg.out).exists():
        log.info("no checkpoint at %s yet: starting a new run", cfg.out)
        return
    from .checkpoint import build_model, read_checkpoint

    ck = read_checkpoint(cfg.out, run.device)
    check_resume(ck, cfg, Path(cfg.out))
    run.model.load_state_dict(build_model(ck, cfg.out).state_dict())
    if "optimizer" in ck:
        try:
            run.opt.load_state_dict(ck["optimizer"])
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"optimizer state does not fit the model ({e})", file=cfg.out) from None
    run.step, run.progress = int(ck.get("step", 0)), float(ck.get("progress", 0.0))
    from .checkpoint import training_stages

    run.prior_stages = training_stages(ck)[:-1]  # the last stage is the one this run continues
    run.prior_s = float(ck.get("seconds", 0.0))
    log.info("resumed from %s at step %d (%.0f %% of the learning-rate schedule)", cfg.out, run.step,
             100 * run.progress)


def loop(run: Run, cfg: TrainConfig, dataset, train_s: float | None) -> None:
    """Steps until the budget is spent: ``cfg.steps`` in all, or ``train_s`` seconds in all (both
    counting what a resumed checkpoint had done), with periodic checkpoints."""
    from tqdm import tqdm

    model = run.model
    if run.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(model, device_ids=[run.device.index] if run.device.type == "cuda" else None)
    bar = tqdm(total=cfg.steps, initial=run.step, desc="train", unit="step",
               disable=None if run.rank == 0 else True, file=sys.stderr)
    pool = None
    if cfg.workers > 0:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(cfg.workers)
    model.train()
    start = time.monotonic()
    while True:
        # the schedule position continues across --resume: steps count from the checkpoint's step, time
        # from the seconds the checkpoint had already trained
        if cfg.steps is not None:
            run.progress = run.step / cfg.steps
            done = run.step >= cfg.steps
        else:
            run.progress = min(1.0, (run.prior_s + time.monotonic() - start) / train_s)
            done = run.progress >= 1.0
        if run.world > 1:  # rank 0 decides when a time budget is over
            import torch.distributed as dist

            flag = torch.tensor([float(done)], device=run.device)
            dist.broadcast(flag, 0)
            done = bool(flag.item())
        if run.start_progress is None:
            run.start_progress = run.progress
        if done:
            break
        idx = [(run.step * run.world + run.rank) * cfg.batch_size + i for i in range(cfg.batch_size)]
        samples = list(pool.map(dataset.__getitem__, idx)) if pool else [dataset[i] for i in idx]
        batch = {k: v.to(run.device) for k, v in _collate(samples).items()}
        # the rate the optimizer runs at, as the bar and the log show it: Adam's is the schedule's x ADAM_FACTOR
        lr = learning_rate(run.progress, cfg.lr_scale) * run.lr_factor
        for g in run.opt.param_groups:
            g["lr"] = lr
        heat, loc = model(batch["input"])
        loss, _, _ = loss_fn(heat, loc, batch, cfg.locref_loss)
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        run.opt.step()
        run.step += 1
        run.history.append(float(loss.item()))
        bar.update(1)
        if run.step % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(run.history[-20:]):.3f}", lr=f"{lr:g}")
        if run.rank == 0 and run.step % LOG_EVERY == 0 and bar.disable:
            log.info("step %d  loss %.4f  lr %g  %.0f s", run.step, np.mean(run.history[-100:]), lr,
                     time.monotonic() - start)
        if run.rank == 0 and cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0:
            save_checkpoint(Path(cfg.out), run.model, run.opt, run.step, run.progress, cfg,
                            run.prior_s + time.monotonic() - start, stages=run.stages(cfg))
    bar.close()
    if pool:
        pool.shutdown()
    run.seconds = time.monotonic() - start


def finish(run: Run, cfg: TrainConfig) -> None:
    """The final checkpoint (rank 0), every rank's weights when asked (tests), and the process group's end."""
    if run.rank == 0:
        save_checkpoint(Path(cfg.out), run.model, run.opt, run.step, run.progress, cfg, run.prior_s + run.seconds,
                        stages=run.stages(cfg))
    if cfg.save_all_ranks:
        torch.save(run.model.state_dict(), f"{cfg.out}.rank{run.rank}")
    if run.world > 1:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()


def train(cfg: TrainConfig) -> dict:
    """Train and write the checkpoint ``cfg.out``. The keep rules are chosen afterwards, by the
    calibration step (:func:`poseval_refine.refiner.calibrate.calibrate_checkpoint`), which ``prt train``
    runs on rank 0 with the time :func:`calibration_reserve` leaves it."""
    if cfg.steps is None and cfg.minutes is None:
        raise ConfigError("give a budget: --steps N or --minutes M")
    run = setup(cfg)
    resume(run, cfg)
    dataset, run.data = build_dataset(cfg)
    reserve = calibration_reserve(cfg)
    train_s = None if cfg.minutes is None else max(cfg.minutes * 60 - reserve, 1e-9)
    loop(run, cfg, dataset, train_s)
    finish(run, cfg)
    return {"steps": run.step, "seconds": run.seconds, "train_seconds": run.seconds,
            "start_progress": run.start_progress,
            "final_loss": float(np.mean(run.history[-20:])) if run.history else None, "checkpoint": str(cfg.out),
            "rank": run.rank, "calibration_seconds": reserve}
