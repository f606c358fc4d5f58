"""One refinement run as ``prt refine`` does it (and the Python API): the checkpoint's provenance
checked, every person refined, the keep rules taken from the options, the checkpoint or the user's
labeled frames (``calibrate_on``), and the refined set recording what was done."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import ConfigError
from ..poses import PoseSet
from .infer import RefineOptions, Refiner

log = logging.getLogger("prt")

#: the measured figure a synthetic-only checkpoint's warning points to (docs/refiner.md)
REAL_IMAGE_FIGURE = ("on a real estimator's output (BlazePose on 41 real frames, docs/refiner.md \"A real estimator\") "
                     "moving every joint lowered PCKh@0.5 from 60.6 to 46.6, and the synthetic calibration is no "
                     "guarantee")


def refine_poses(poses: PoseSet, images: str | Path, checkpoint: str | Path, options: RefineOptions | None = None, *,
                 calibrate_on: PoseSet | None = None, calibrate_name: str = "GT", shard: tuple[int, int] = (0, 1),
                 device: str | None = None, batch_size: int = 16, workers: int = 0, flip: bool = True) -> PoseSet:
    """The refined set. With ``calibrate_on`` (GT of some of the frames), the keep rules are chosen on the
    predicted people it labels (refiner/labeled.py) and the report is in ``meta["prt_refine"]``."""
    opts = options or RefineOptions()
    if calibrate_on is not None and (opts.keep_below is not None or opts.min_move is not None):
        raise ConfigError("--calibrate-on chooses the keep rules itself; it does not go with --keep-below or "
                          "--min-move", fix="drop --keep-below/--min-move, or --calibrate-on")
    refiner = Refiner(checkpoint, device=device, batch_size=batch_size, workers=workers, flip=flip)
    warning = provenance_warning(refiner.meta, images)
    if warning:
        log.warning("%s", warning)
    people = refiner.refine_people(poses, images, opts, shard=shard)
    rules, report = refiner.rules(opts), None
    if calibrate_on is not None:
        from .checkpoint import trained_images
        from .labeled import choose_on_labeled, pair_labeled, report_line

        labeled = pair_labeled(poses, people, calibrate_on, trained_images(refiner.meta))
        rules, report = choose_on_labeled(people, labeled, opts, rules)
        report = dict(report, gt=calibrate_name, chosen=rules.describe())
        log.info("%s", report_line(report, Path(calibrate_name).name))
    result = refiner.write_back(poses, people, rules, opts)
    record_provenance(result, checkpoint, refiner.meta, rules, opts, report)
    if calibrate_on is not None:
        added = joints_added_without_gt(poses, result, calibrate_on)
        if added:
            log.warning("%s", added_joints_warning(added, Path(calibrate_name).name))
    return result


def joints_with_points(poses: PoseSet) -> set[str]:
    """Names of the joints that have a point in at least one person of the set."""
    import numpy as np

    out: set[str] = set()
    for seq in poses:
        if seq.num_persons:
            has = ~np.isnan(seq.keypoints[..., 0]).all(axis=0)
            out |= {seq.skeleton.joints[j] for j in np.flatnonzero(has)}
    return out


def joints_added_without_gt(poses: PoseSet, refined: PoseSet, gt: PoseSet) -> list[str]:
    """Joints the refined set has and its input had nowhere (the refiner recovered them) that the GT never
    annotates, in the refined joint order."""
    added = joints_with_points(refined) - joints_with_points(poses) - joints_with_points(gt)
    order = next(iter(refined)).skeleton.joints if len(refined) else ()
    return [j for j in order if j in added]


def added_joints_warning(joints: list[str], gt_name: str) -> str:
    """One line: why adding a joint the GT never annotates moves poseval's official Total (docs/posetrack.md)."""
    names = ", ".join(joints)
    return (f"refinement added {names}, which the --calibrate-on GT {gt_name} never annotates: poseval's official "
            f"Total counts such a joint as AP 0 when nothing predicts it and leaves it out when something does, so "
            f"the refined Total rises with no joint better; compare by the Total over the GT's joints that `prt "
            f"evaluate` prints, or refine with --input-joints-only (docs/posetrack.md)")


def provenance_warning(meta: dict, images) -> str | None:
    """One line when a checkpoint trained on synthetic scenes only refines images prt synth did not draw."""
    from .checkpoint import describe_training, synthetic_only
    from .scenes import synthetic_images

    if not meta or not synthetic_only(meta) or synthetic_images(images):
        return None
    return (f"this checkpoint was trained on synthetic scenes only ({describe_training(meta)}) and these are real "
            f"images: {REAL_IMAGE_FIGURE}; give --calibrate-on GT (labels of some of these frames) to choose "
            "the rules on your data")


def record_provenance(result: PoseSet, checkpoint, meta: dict, rules, options: RefineOptions,
                      report: dict | None) -> None:
    """The refined files name the checkpoint, what it was trained on and the rules applied
    (a top-level ``prt_refine`` field of each written PoseTrack file)."""
    from .checkpoint import training_stages

    record = {"checkpoint": str(checkpoint), "trained_on": training_stages(meta) if meta else None,
              "rules": rules.as_dict(), "options": {k: v for k, v in vars(options).items()
                                                    if k not in ("keep_below", "min_move")},
              "calibrated_on": report}
    result.meta["prt_refine"] = record
    for seq in result:
        fields = dict(seq.meta.get("file_fields", {}))
        fields["prt_refine"] = record
        seq.meta = dict(seq.meta, file_fields=fields)
