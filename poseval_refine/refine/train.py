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

from .. import __version__
from ..errors import ConfigError
from .encode import EncodeConfig
from .model import PoseRefiner, load_pretrained
from .synth import SynthConfig

log = logging.getLogger("prt")

#: (fraction of the run at which it starts, learning rate): 0.005 -> 0.02 -> 0.002 -> 0.001 with the
#: boundaries of pose-tensorflow's 10k / 430k / 730k / 1030k iterations scaled to the run length
SCHEDULE = ((0.0, 0.005), (10 / 1030, 0.02), (430 / 1030, 0.002), (730 / 1030, 0.001))
LOCREF_WEIGHT = 0.05
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


def pick_device(name: str | None = None) -> torch.device:
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class TrainConfig:
    out: Path
    dataset: str = "synthetic"
    annotations: str | None = None
    images: str | None = None
    arch: str = "resnet18"
    width: int = 64
    input_skip: bool = False
    steps: int | None = None
    minutes: float | None = None
    batch_size: int = 8
    lr_scale: float = 1.0
    seed: int = 0
    workers: int = 0
    checkpoint_every: int = 200
    resume: bool = False
    pretrained: str | None = None
    device: str | None = None
    encode: EncodeConfig = field(default_factory=EncodeConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    save_all_ranks: bool = False  # tests: every rank writes its final weights
    locref_loss: str = "huber"


def loss_fn(heat, loc, batch, locref_loss: str = "huber"):
    w = batch["weight"]
    part = F.binary_cross_entropy_with_logits(heat, batch["heat"], weight=w, reduction="sum") / max(1.0, w.sum().item())
    pos = batch["heat"].unsqueeze(2)
    loc_loss = (LOCREF_LOSSES[locref_loss](loc, batch["loc"]) * pos).sum() / max(1.0, pos.sum().item())
    return part * 50.0 + LOCREF_WEIGHT * loc_loss * 50.0, part.detach(), loc_loss.detach()


def build_dataset(cfg: TrainConfig):
    from .data import DATASETS, RecordDataset, SyntheticDataset

    if cfg.dataset == "synthetic":
        return SyntheticDataset(cfg.encode, cfg.synth, seed=cfg.seed)
    if cfg.dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {cfg.dataset!r}", fix=f"use synthetic or one of {', '.join(DATASETS)}")
    if not cfg.annotations or not cfg.images:
        raise ConfigError(f"--dataset {cfg.dataset} needs --annotations FILE and --images DIR")
    return RecordDataset(DATASETS[cfg.dataset](cfg.annotations, cfg.images), cfg.encode, cfg.synth, seed=cfg.seed)


def _collate(samples):
    return {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}


def save_checkpoint(path: Path, model, optimizer, step: int, progress: float, cfg: TrainConfig) -> None:
    from ..io import atomic_path

    raw = model.module if hasattr(model, "module") else model
    state = {"model": raw.state_dict(), "model_config": raw.config(), "skeleton": "posetrack15",
             "encode": cfg.encode.as_dict(), "synth": cfg.synth.as_dict(), "step": step, "progress": progress,
             "optimizer": optimizer.state_dict(), "prt_version": __version__, "dataset": cfg.dataset,
             "locref_loss": cfg.locref_loss}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def train(cfg: TrainConfig) -> dict:
    if cfg.steps is None and cfg.minutes is None:
        raise ConfigError("give a budget: --steps N or --minutes M")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = pick_device(cfg.device)
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.manual_seed(cfg.seed)
    model = PoseRefiner(15, cfg.arch, cfg.width, cfg.input_skip).to(device)
    if cfg.pretrained:
        missing = load_pretrained(model, cfg.pretrained)
        log.info("loaded %s; %d tensors start fresh (heads, extra inputs)", cfg.pretrained, len(missing))
    opt = torch.optim.SGD(model.parameters(), lr=learning_rate(0, cfg.lr_scale), momentum=0.9, weight_decay=1e-4)
    step, progress = 0, 0.0
    if cfg.resume and Path(cfg.out).exists():
        ck = torch.load(cfg.out, map_location=device, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, progress = int(ck["step"]), float(ck.get("progress", 0.0))
        log.info("resumed from %s at step %d", cfg.out, step)
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    dataset = build_dataset(cfg)
    start = time.monotonic()
    budget_s = cfg.minutes * 60 if cfg.minutes is not None else None
    from tqdm import tqdm

    bar = tqdm(total=cfg.steps, initial=step, desc="train", unit="step", disable=None if rank == 0 else True,
               file=sys.stderr)
    pool = None
    if cfg.workers > 0:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(cfg.workers)
    model.train()
    history = []
    while True:
        if cfg.steps is not None:
            progress = step / cfg.steps
            done = step >= cfg.steps
        else:
            progress = min(1.0, (time.monotonic() - start) / budget_s)
            done = progress >= 1.0
        if world > 1:  # rank 0 decides when a time budget is over
            import torch.distributed as dist

            flag = torch.tensor([float(done)], device=device)
            dist.broadcast(flag, 0)
            done = bool(flag.item())
        if done:
            break
        idx = [(step * world + rank) * cfg.batch_size + i for i in range(cfg.batch_size)]
        samples = list(pool.map(dataset.__getitem__, idx)) if pool else [dataset[i] for i in idx]
        batch = {k: v.to(device) for k, v in _collate(samples).items()}
        for g in opt.param_groups:
            g["lr"] = learning_rate(progress, cfg.lr_scale)
        heat, loc = model(batch["input"])
        loss, part, locl = loss_fn(heat, loc, batch, cfg.locref_loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        history.append(float(loss.item()))
        bar.update(1)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(history[-20:]):.3f}", lr=f"{learning_rate(progress, cfg.lr_scale):g}")
        if rank == 0 and step % 100 == 0 and bar.disable:
            log.info("step %d  loss %.4f  lr %g  %.0f s", step, np.mean(history[-100:]),
                     learning_rate(progress, cfg.lr_scale), time.monotonic() - start)
        if rank == 0 and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
            save_checkpoint(Path(cfg.out), model, opt, step, progress, cfg)
    bar.close()
    if pool:
        pool.shutdown()
    if rank == 0:
        save_checkpoint(Path(cfg.out), model, opt, step, progress, cfg)
    if cfg.save_all_ranks:
        raw = model.module if hasattr(model, "module") else model
        torch.save(raw.state_dict(), f"{cfg.out}.rank{rank}")
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    return {"steps": step, "seconds": time.monotonic() - start, "final_loss": float(np.mean(history[-20:]))
            if history else None, "checkpoint": str(cfg.out)}
