"""``prt analyze``: why the number is what it is — Ronchi & Perona's error taxonomy (docs/analyze.md)."""

from __future__ import annotations

from pathlib import Path

import click

from ..analysis.run import TASKS as ANALYZED_TASKS
from ._options import task_option

FIXES = {"rescore-keypoints": "fix_rescore_keypoints", "false-neg-order": "fix_false_neg_order"}


@click.command(help="Error diagnosis: how many predicted joints are good, jitter, inversions (left/right), swaps "
                    "(taken from a neighbour) or misses, and what fixing each would give. COCO: coco-analyze's "
                    "numbers exactly (its default parameters; area 'all' = 32² to 1e5²). PoseTrack (--task pose, the "
                    "default for PoseTrack GT): the same taxonomy on head-size distances; --task tracking: MOTA per "
                    "joint split into misses, false positives and identity switches; MPII single/multi and PoseTrack21 "
                    "(--task pose21, the kit's mAP matching) the head-size taxonomy too. See docs/analyze.md.")
@click.option("--gt", type=click.Path(path_type=Path), required=True, help="GT file or folder.")
@click.option("--pred", type=click.Path(path_type=Path), required=True, help="Predictions (file or folder).")
@task_option(ANALYZED_TASKS, default=None,
             help="Default: from the GT (COCO annotations -> coco, PoseTrack -> pose, MPII arrays -> single, MPII "
                  "annolist -> multi). pose21: the PoseTrack21 kit's mAP matching.")
@click.option("--compare", "compare", type=click.Path(path_type=Path), default=None, metavar="REFINED",
              help="A second prediction (e.g. refined) analysed the same way, with how each GT joint's kind moved.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None, help="Write the numbers here.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Write one self-contained page (curves, bars per joint, worst items first).")
@click.option("--images", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Image folder (COCO file_name / PoseTrack frame / MPII image names relative to it): overlays "
                   "of the worst cases on the --html page.")
@click.option("--fix", "fixes", multiple=True, type=click.Choice(tuple(FIXES)),
              help="COCO: fix one of coco-analyze's quirks instead of reproducing it (docs/analyze.md).")
@click.option("--protocol", default="official", show_default=True,
              help="PoseTrack protocol (as prt evaluate: official or corrected).")
@click.option("--flavour", default="matlab", show_default=True, help="MPII single: the PCKh flavour (as prt evaluate).")
@click.option("-q", "--quiet", is_flag=True, help="No notes or progress bar on stderr.")
def command(gt, pred, task, compare, json_path, html_path, images, fixes, protocol, flavour, quiet):
    from ..log import setup_cli_logging

    setup_cli_logging(quiet)
    from ..analysis import analyze
    from ..errors import ConfigError, InputError
    from ..io import write_bytes_atomic, write_json_atomic

    for what, p in (("--gt", gt), ("--pred", pred), ("--compare", compare)):
        if p is not None and not p.exists():
            raise InputError("not found", file=p, fix=f"check the {what} path")
    if images is not None and not images.is_dir():
        raise InputError("is not a folder", file=images, fix="give --images the folder holding the images")
    if images is not None and html_path is None:
        raise ConfigError("--images draws the worst cases on the --html page", fix="give --html OUT too")
    options = {FIXES[f]: True for f in fixes}
    if protocol != "official":
        options["protocol"] = protocol
    if flavour != "matlab":
        options["flavour"] = flavour
    a = analyze(gt, pred, task=task, compare=compare, **options)
    click.echo(a.render())
    if json_path is not None:
        write_json_atomic(json_path, a.to_dict(), indent=True)
    if html_path is not None:
        write_bytes_atomic(html_path, a.html(images).encode("utf-8"))
    return 0
