"""``prt train``: train the PoseRefiner (single process, or under torchrun with DDP)."""

from __future__ import annotations

import click

from ..log import setup_cli_logging
from ._paths import OutputFile


@click.command(help="Train a PoseRefiner with the paper's T1-T4 error synthesis and step schedule.\n\n"
                    "--profile auto (default) picks the configuration from the device: on a GPU the paper's "
                    "(ResNet-101, full scale, SGD), elsewhere the cpu profile, which learns within minutes on two "
                    "cores (ResNet-18 of width 24, scale 0.3, 176 px canvas, input skip, Gaussian targets, Adam). "
                    "Options given explicitly override the profile; the chosen configuration is printed and stored "
                    "in the checkpoint with what it was trained on. After training, a calibration step chooses "
                    "the keep rules (keep-below, min-move) on held-out synthetic scenes, or, with real data "
                    "(--dataset posetrack|coco|mpii), on the images --holdout kept out of training; they are stored "
                    "in the checkpoint, so `prt refine --checkpoint` needs no tuning flags.\n\n"
                    "Under `torchrun --nproc_per_node N -m poseval_refine.cli train ...` it trains with "
                    "DistributedDataParallel (NCCL on GPUs, gloo on CPUs).")
@click.option("--dataset", type=click.Choice(["synthetic", "posetrack", "coco", "mpii"]), default="synthetic",
              show_default=True)
@click.option("--annotations", type=click.Path(exists=True), help="posetrack: JSON file/folder; coco: keypoints "
              "JSON; mpii: mpii_human_pose_v1_u12_1.mat")
@click.option("--images", type=click.Path(exists=True, file_okay=False), help="Folder the image names are relative to.")
@click.option("--out", type=OutputFile(example="refiner.pt"), required=True, help="Checkpoint to write.")
@click.option("--steps", type=click.IntRange(1), default=None, help="Budget in steps (total, counting resumed ones).")
@click.option("--minutes", type=click.FloatRange(0, min_open=True), default=None,
              help="Budget in minutes of wall time (total, counting resumed ones), calibration included.")
@click.option("--profile", type=click.Choice(["auto", "cpu", "paper"]), default="auto", show_default=True,
              help="Configuration preset: auto = paper on CUDA, cpu otherwise.")
@click.option("--arch", type=click.Choice(["resnet18", "resnet34", "resnet50", "resnet101"]), default=None,
              help="Backbone (cpu resnet18, paper resnet101).")
@click.option("--width", type=click.IntRange(8), default=None, help="Channels of the first stage (cpu 24, paper 64).")
@click.option("--input-skip/--no-input-skip", default=None,
              help="prt's addition: input disks also feed the heatmap logits directly (cpu on, paper off).")
@click.option("--scale", type=click.FloatRange(0, min_open=True), default=None,
              help="Multiplies every pixel constant: person height 340 px, crop margin, disk radius, T1 lengths, "
                   "75 px neighbourhood (cpu 0.3, paper 1).")
@click.option("--canvas", type=click.FloatRange(0, min_open=True), default=None,
              help="Side of the input canvas as a fraction of (person height + 2 crop margins) (cpu 0.66, paper 1).")
@click.option("--transforms", default=None, help="Error synthesis to use, e.g. t1 (default t1,t2,t3,t4).")
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Samples per step (cpu 4, paper 8).")
@click.option("--lr-scale", type=click.FloatRange(0, min_open=True), default=None,
              help="Multiplies the paper's learning-rate schedule (both profiles 1).")
@click.option("--optimizer", type=click.Choice(["sgd", "adam"]), default=None,
              help="sgd: momentum 0.9, the paper's (paper profile); adam: the schedule x 0.05 (cpu profile).")
@click.option("--workers", type=click.IntRange(0), default=0, show_default=True, help="Processes drawing samples.")
@click.option("--checkpoint-every", type=click.IntRange(0), default=200, show_default=True)
@click.option("--calibration-scenes", type=click.IntRange(0), default=30, show_default=True,
              help="Held-out scenes (synthetic data) or at most this many held-out images (real data) for "
                   "calibrating the keep rules after training (0: none).")
@click.option("--holdout", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True,
              help="Real data: the share of its images (the last ones) held out of training; the keep rules are "
                   "calibrated on them.")
@click.option("--init", "init_from", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Start from the weights of a refiner checkpoint (fine-tuning, e.g. a synthetic checkpoint on "
                   "real frames): its network and input geometry, a new learning-rate schedule. The new checkpoint "
                   "records both training stages.")
@click.option("--resume", is_flag=True, help="Continue from --out: its weights, optimizer, learning-rate schedule "
              "position and configuration.")
@click.option("--pretrained", type=click.Path(exists=True), help="Local torchvision ResNet state dict.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default=None, help="cuda, mps or cpu (default: the first available).")
@click.option("--locref-loss", type=click.Choice(["huber", "mse"]), default="huber", show_default=True,
              help="Offset regression loss (pose-tensorflow's default is Huber; the paper says MSE).")
@click.option("--save-all-ranks", is_flag=True, hidden=True)
def command(dataset, annotations, images, out, steps, minutes, profile, arch, width, input_skip, scale, canvas,
            transforms, batch_size, lr_scale, optimizer, workers, checkpoint_every, calibration_scenes, holdout,
            init_from, resume, pretrained, seed, device, locref_loss, save_all_ranks):
    setup_cli_logging()
    from ..log import LOGGER
    from ..refiner.device import pick_device
    from ..refiner.train import TrainConfig, choose_profile, train

    given = {"arch": arch, "width": width, "input_skip": input_skip, "scale": scale, "canvas": canvas,
             "batch_size": batch_size, "lr_scale": lr_scale, "optimizer": optimizer}
    if resume and init_from:
        from ..errors import ConfigError

        raise ConfigError("--resume continues --out; --init starts a new run from another checkpoint",
                          fix="give one of them")
    base_ck = out if resume and out.exists() else init_from
    if base_ck:  # the network, geometry and (unless given) training settings of the checkpoint continued
        from ..refiner.checkpoint import read_checkpoint

        ck = read_checkpoint(base_ck)
        stored = dict(ck.get("train") or {})
        stored.update({"arch": ck["model_config"]["arch"], "width": ck["model_config"]["width"],
                       "input_skip": ck["model_config"].get("input_skip", False), "scale": ck["encode"]["scale"],
                       "canvas": ck["encode"]["canvas_factor"]})
        profile = stored.get("profile", "cpu") if profile == "auto" else profile
        base = {k: stored[k] for k in given if k in stored}
        if transforms is None:
            syn = ck.get("synth") or {}
            transforms = ",".join(t for t in ("t1", "t2", "t3", "t4") if syn.get(t, True))
        given = {k: (v if v is not None else base.get(k)) for k, v in given.items()}
    else:
        profile = choose_profile(profile, pick_device(device))
    cfg = TrainConfig.from_profile(profile, out, transforms or "t1,t2,t3,t4", **given, dataset=dataset,
                                   annotations=annotations, images=images, steps=steps, minutes=minutes, seed=seed,
                                   workers=workers, checkpoint_every=checkpoint_every, resume=resume,
                                   pretrained=pretrained, device=device, save_all_ranks=save_all_ranks,
                                   locref_loss=locref_loss, calibration_scenes=calibration_scenes, holdout=holdout,
                                   init_from=init_from)
    if cfg.steps is None and cfg.minutes is None:
        from ..errors import ConfigError

        raise ConfigError("give a budget: --steps N or --minutes M")
    LOGGER.info("training %s", cfg.describe())
    res = train(cfg)
    cal = None
    if res["rank"] == 0 and cfg.calibration_scenes > 0:  # the calibration step: keep rules into the checkpoint
        from ..refiner.calibrate import calibrate_checkpoint

        cal = calibrate_checkpoint(out, scenes=cfg.calibration_scenes, seconds=res["calibration_seconds"],
                                   device=device)
    extra = (f"; keep-below {cal['keep_below']:g}, min-move {cal['min_move']:g} calibrated on {cal['people']} "
             f"{'held-out synthetic people' if cal['on'] == 'synthetic' else 'people of held-out real images'}"
             ) if cal else ""
    click.echo(f"trained {res['steps']} steps in {res['train_seconds']:.0f} s{extra}; checkpoint {res['checkpoint']}")
