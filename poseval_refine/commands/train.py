"""``prt train``: train the PoseRefiner (single process, or under torchrun with DDP)."""

from __future__ import annotations

from pathlib import Path

import click

from ..log import setup_cli_logging


@click.command(help="Train a PoseRefiner with the paper's T1-T4 error synthesis and SGD step schedule.\n\n"
                    "Under `torchrun --nproc_per_node N -m poseval_refine.cli train ...` it trains with "
                    "DistributedDataParallel (NCCL on GPUs, gloo on CPUs).")
@click.option("--dataset", type=click.Choice(["synthetic", "posetrack", "coco", "mpii"]), default="synthetic",
              show_default=True)
@click.option("--annotations", type=click.Path(exists=True), help="posetrack: JSON file/folder; coco: keypoints "
              "JSON; mpii: mpii_human_pose_v1_u12_1.mat")
@click.option("--images", type=click.Path(exists=True, file_okay=False), help="Folder the image names are relative to.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Checkpoint to write.")
@click.option("--steps", type=click.IntRange(1), default=None, help="Budget in steps.")
@click.option("--minutes", type=float, default=None, help="Budget in minutes of wall time.")
@click.option("--arch", type=click.Choice(["resnet18", "resnet34", "resnet50", "resnet101"]), default="resnet18",
              show_default=True, help="Backbone (the paper uses resnet101).")
@click.option("--width", type=click.IntRange(8), default=64, show_default=True, help="Channels of the first stage.")
@click.option("--input-skip/--no-input-skip", default=False, show_default=True,
              help="prt's addition: input disks also feed the heatmap logits directly (faster short trainings).")
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="Multiplies every pixel constant (person height 340 px, crop margin, disk radius, T1 lengths, "
                   "75 px neighbourhood).")
@click.option("--canvas", type=float, default=1.0, show_default=True,
              help="Side of the input canvas as a fraction of (person height + 2 crop margins).")
@click.option("--transforms", default="t1,t2,t3,t4", show_default=True, help="Error synthesis to use, e.g. t1.")
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True)
@click.option("--lr-scale", type=float, default=1.0, show_default=True, help="Multiplies the paper's schedule.")
@click.option("--workers", type=click.IntRange(0), default=0, show_default=True, help="Processes drawing samples.")
@click.option("--checkpoint-every", type=click.IntRange(0), default=200, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from --out.")
@click.option("--pretrained", type=click.Path(exists=True), help="Local torchvision ResNet state dict.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default=None, help="cuda, mps or cpu (default: the first available).")
@click.option("--locref-loss", type=click.Choice(["huber", "mse"]), default="huber", show_default=True,
              help="Offset regression loss (pose-tensorflow's default is Huber; the paper says MSE).")
@click.option("--save-all-ranks", is_flag=True, hidden=True)
def command(dataset, annotations, images, out, steps, minutes, arch, width, input_skip, scale, canvas, transforms,
            batch_size, lr_scale, workers, checkpoint_every, resume, pretrained, seed, device, locref_loss,
            save_all_ranks):
    setup_cli_logging()
    from ..errors import ConfigError
    from ..refine.encode import EncodeConfig
    from ..refine.synth import SynthConfig
    from ..refine.train import TrainConfig, train

    try:
        synth = SynthConfig.only(transforms, scale=scale)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    res = train(TrainConfig(out=out, dataset=dataset, annotations=annotations, images=images, arch=arch, width=width,
                            input_skip=input_skip,
                            steps=steps, minutes=minutes, batch_size=batch_size, lr_scale=lr_scale, seed=seed,
                            workers=workers, checkpoint_every=checkpoint_every, resume=resume, pretrained=pretrained,
                            device=device, encode=EncodeConfig(scale=scale, canvas_factor=canvas), synth=synth,
                            save_all_ranks=save_all_ranks, locref_loss=locref_loss))
    click.echo(f"trained {res['steps']} steps in {res['seconds']:.0f} s; checkpoint {res['checkpoint']}")
