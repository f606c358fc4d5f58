"""Batched refinement of any pose set: rewrites joint positions only.

Official semantics by default (human-pose-refiner): every joint is predicted, including joints the
input lacks; a joint the input had keeps its score, a recovered joint gets the input's score for
that slot (0 when the file has none); ``min_score`` drops joints whose refiner confidence is <= T
(the paper's tau = 0.7 for tracking). Track ids and every field prt does not own are written back
as read. prt's departures are named options (:class:`RefineOptions`, declared once in
``refine_options.py``): ``recover_missing=False``, ``recovered_score="refiner"``, ``keep_below`` and
``min_move`` (by default the values calibrated into the checkpoint) and ``scale_from="head-box"``.

The person's scale and canvas come from its input pose alone. A person whose joints lie partly
off the canvas is still refined: those joints are not shown to the network, and their refined
positions replace the input's. Only people without any joint pass through unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, InputError
from ..poses import PoseSequence, PoseSet
from ..refine_options import RefineOptions
from ..skeletons import POSETRACK15, joint_mapping
from .data import load_image
from .device import pick_device
from .encode import (
    EncodeConfig,
    crop_image,
    decode,
    disk_channels,
    in_canvas,
    make_crop,
    network_input,
    person_scale,
)
from .model import PoseRefiner
from .synth import FLIP

log = logging.getLogger("prt")


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[PoseRefiner, EncodeConfig, dict]:
    from .checkpoint import build_model, read_checkpoint

    ck = read_checkpoint(path, device)
    try:
        enc = EncodeConfig(**ck["encode"])
    except TypeError:
        raise ConfigError("has an unusable input configuration ('encode')", file=path,
                          fix="give a checkpoint written by `prt train` of this prt version") from None
    return build_model(ck, path).to(device).eval(), enc, ck


@dataclass
class RefineStats:
    """What a run did, for the one summary line on stderr."""

    refined: int = 0
    no_joints: int = 0
    moved: int = 0
    recovered: int = 0
    dropped: int = 0
    kept: int = 0
    off_canvas: int = 0
    no_head_box: int = 0
    sequences: int = 0
    extra: dict = field(default_factory=dict)

    def line(self, rules: KeepRules, min_score: float | None) -> str:
        keep_below, min_move = rules.keep_below, rules.min_move
        from ..render.words import counted

        parts = [f"refined {counted(self.refined, 'person')} in {counted(self.sequences, 'sequence')}: "
                 f"{counted(self.moved, 'joint')} moved"]
        parts.append(f"{self.recovered} recovered")
        if rules.move_nothing:
            parts.append(f"{self.kept} kept in place (rule: move nothing)")
        elif keep_below or min_move:
            rule = " or ".join(([f"confidence < {keep_below:g}"] if keep_below else [])
                               + ([f"moved < {min_move:g} head sizes"] if min_move else []))
            parts.append(f"{self.kept} kept in place ({rule})")
        if min_score is not None:
            parts.append(f"{self.dropped} dropped (confidence <= {min_score:g})")
        parts.append(f"{counted(self.off_canvas, 'far-off joint')} replaced")
        text = ", ".join(parts)
        text += f"; {counted(self.no_joints, 'person')} passed through unchanged (no joints)"
        if self.no_head_box:
            text += f"; {self.no_head_box} without a head box were scaled from their pose"
        return text


@dataclass
class PersonJob:
    seq: str
    person: int
    image: str | np.ndarray  # a path, or the pixels themselves
    xy: np.ndarray  # (15, 2) PoseTrack-15 input, image coordinates
    head_box: np.ndarray | None = None


class _Inputs(torch.utils.data.Dataset):
    """Network inputs per job. Errors travel back as data: a DataLoader worker cannot re-raise prt's
    errors itself."""

    def __init__(self, jobs: list[PersonJob], enc: EncodeConfig, scale_from: str):
        self.jobs, self.enc, self.scale_from = jobs, enc, scale_from
        self._cache: tuple[str, np.ndarray] | None = None

    def __len__(self):
        return len(self.jobs)

    def image(self, job: PersonJob) -> np.ndarray:
        if isinstance(job.image, np.ndarray):
            return job.image
        if self._cache is None or self._cache[0] != job.image:
            self._cache = (job.image, load_image(job.image))
        return self._cache[1]

    def __getitem__(self, i):
        job = self.jobs[i]
        try:
            image = self.image(job)
        except InputError as e:
            return {"error": (e.problem, e.file, e.fix)}
        s = person_scale(job.xy, self.enc, job.head_box, self.scale_from)
        crop = make_crop(job.xy, s, self.enc)
        xc = crop.to_canvas(job.xy)
        x = network_input(crop_image(image, crop), disk_channels(xc, self.enc.canvas, self.enc.radius))
        return {"input": torch.from_numpy(x), "crop": torch.tensor([*crop.origin, crop.scale], dtype=torch.float64),
                "seen": torch.from_numpy(in_canvas(xc, self.enc.canvas)), "index": i}


def _collate(items: list[dict]) -> dict:
    errors = [it["error"] for it in items if "error" in it]
    if errors:
        return {"error": errors[0]}
    return {"input": torch.stack([it["input"] for it in items]), "crop": torch.stack([it["crop"] for it in items]),
            "seen": torch.stack([it["seen"] for it in items]), "index": torch.tensor([it["index"] for it in items])}


class Refiner:
    def __init__(self, checkpoint: str | Path | None = None, device: str | None = None, batch_size: int = 16,
                 workers: int = 0, flip: bool = True, *, model: PoseRefiner | None = None,
                 enc: EncodeConfig | None = None):
        self.device = pick_device(device)
        if model is not None:
            self.model, self.enc, self.meta = model.to(self.device).eval(), enc, {}
        else:
            self.model, self.enc, self.meta = load_checkpoint(checkpoint, self.device)
        self.batch_size, self.workers, self.flip = batch_size, workers, flip

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> np.ndarray:
        """(B, 15, 3) canvas x, y, confidence. With flip averaging (as the official code) of the
        heatmaps, and (prt's addition) of the offsets, so a mirrored input gives exactly the mirrored
        output."""
        x = x.to(self.device)
        heat, loc = self.model(x)
        prob = torch.sigmoid(heat)
        if self.flip:
            perm = torch.as_tensor(FLIP, device=x.device)
            xf = torch.flip(x, dims=[3])
            xf[:, 3:] = xf[:, 3:][:, perm]
            hf, lf = self.model(xf)
            prob = (prob + torch.flip(torch.sigmoid(hf), dims=[3])[:, perm]) / 2
            lf = torch.flip(lf, dims=[4])[:, perm]
            lf[:, :, 0] = -lf[:, :, 0]
            loc = (loc + lf) / 2
        return decode(prob.cpu().numpy(), loc.cpu().numpy())

    def batches(self, jobs: list[PersonJob]) -> list[list[int]]:
        """Batches that never span two sequences and are padded (by repeating their last person) to the
        full batch size: a sequence's batches are then the same whether it is refined alone, in a
        folder or in a shard, so the numbers are identical."""
        out, start = [], 0
        while start < len(jobs):
            end = start
            while end < len(jobs) and jobs[end].seq == jobs[start].seq and end - start < self.batch_size:
                end += 1
            idx = list(range(start, end))
            out.append(idx + [idx[-1]] * (self.batch_size - len(idx)))
            start = end
        return out

    def run(self, jobs: list[PersonJob], scale_from: str = "pose") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N, 15, 3) image x, y and refiner confidence for each job, (N, 15) whether each input joint
        lay on the network's canvas, and (N,) the head size (px) the person was normalised with."""
        out = np.zeros((len(jobs), 15, 3))
        seen = np.zeros((len(jobs), 15), bool)
        head = np.zeros(len(jobs))
        if not jobs:
            return out, seen, head
        loader = torch.utils.data.DataLoader(_Inputs(jobs, self.enc, scale_from), batch_sampler=self.batches(jobs),
                                             num_workers=self.workers, collate_fn=_collate)
        from tqdm import tqdm

        for batch in tqdm(loader, desc="refine", unit="batch", disable=None, leave=False):
            if "error" in batch:
                problem, file, fix = batch["error"]
                raise InputError(problem, file=file, fix=fix)
            pred = self.predict(batch["input"])
            crop, idx = batch["crop"], batch["index"].numpy()
            origin, scale = crop[:, :2].numpy(), crop[:, 2].numpy()
            out[idx, :, :2] = pred[..., :2] / scale[:, None, None] + origin[:, None, :]
            out[idx, :, 2] = pred[..., 2]
            seen[idx] = batch["seen"].numpy()
            head[idx] = self.enc.person_height / (8.0 * scale)
        return out, seen, head

    # ----------------------------------------------------------------------------- pose sets
    def rules(self, options: RefineOptions) -> KeepRules:
        """The keep rules a run applies: the options' where given, else the checkpoint's."""
        stored = self.meta.get("refine") or {}
        given = options.keep_below is not None or options.min_move is not None
        return KeepRules(keep_below=options.keep_below if options.keep_below is not None else stored.get("keep_below"),
                         min_move=options.min_move if options.min_move is not None else stored.get("min_move"),
                         move_nothing=bool(stored.get("move_nothing")) and not given,
                         source="options" if given else "checkpoint")

    def refine_people(self, poses: PoseSet, images: str | Path, options: RefineOptions | None = None, *,
                      shard: tuple[int, int] = (0, 1)) -> RefinedPeople:
        """Run the network on every person with a joint (of the shard's sequences); nothing is written
        back yet: :meth:`write_back` does that with the keep rules chosen."""
        opts = options or RefineOptions()
        names = shard_names(poses.names(), *shard)
        no_joints = no_head_box = 0
        jobs = []
        for n in names:
            s15 = poses[n].to_skeleton(POSETRACK15)
            present = np.isfinite(s15.keypoints[..., :2]).all(-1)
            for p in range(s15.num_persons):
                if not present[p].any():
                    no_joints += 1
                    continue
                box = s15.head_box[p] if opts.scale_from == "head-box" else None
                if box is not None and not np.isfinite(box).all():
                    no_head_box += 1
                img = str(Path(images) / s15.image_names[s15.person_frame[p]])
                jobs.append(PersonJob(n, p, img, s15.keypoints[p, :, :2], box))
        for img in sorted({j.image for j in jobs}):
            if not Path(img).is_file():
                raise InputError("image not found", file=img, fix="give --images, the folder the image names are "
                                 "relative to")
        refined, seen, head = self.run(jobs, opts.scale_from)
        return RefinedPeople(names, jobs, refined, seen, head, no_joints, no_head_box)

    def write_back(self, poses: PoseSet, people: RefinedPeople, rules: KeepRules,
                   options: RefineOptions | None = None) -> PoseSet:
        """The refined pose set: refined positions where the rules let joints move, everything else as read."""
        opts = options or RefineOptions()
        stats = RefineStats(sequences=len(people.names), refined=len(people.jobs), no_joints=people.no_joints,
                            no_head_box=people.no_head_box)
        by_seq: dict[str, list[int]] = {}
        for i, j in enumerate(people.jobs):
            by_seq.setdefault(j.seq, []).append(i)
        out = {}
        for n in people.names:
            ids = by_seq.get(n, [])
            out[n] = apply_refined(poses[n], [people.jobs[i].person for i in ids], people.refined[ids],
                                   people.seen[ids], people.head[ids], opts, rules.keep_below, rules.min_move, stats,
                                   move_nothing=rules.move_nothing)
        meta = dict(poses.meta, refined_passthrough=stats.no_joints, refine_summary=stats.line(rules, opts.min_score))
        return PoseSet(out, format=poses.format, root=poses.root, meta=meta)

    def refine_set(self, poses: PoseSet, images: str | Path, options: RefineOptions | None = None, *,
                   shard: tuple[int, int] = (0, 1)) -> PoseSet:
        """Refine every person and write the set back with the options' (else the checkpoint's) rules."""
        opts = options or RefineOptions()
        return self.write_back(poses, self.refine_people(poses, images, opts, shard=shard), self.rules(opts), opts)


@dataclass
class KeepRules:
    """Which input joints keep their position (see :func:`keeps_input`); ``move_nothing`` keeps every
    joint the input has (refinement then only recovers missing joints, if asked to)."""

    keep_below: float | None = None
    min_move: float | None = None
    move_nothing: bool = False
    #: where they come from: "checkpoint", "options" or "calibrate-on"
    source: str = "checkpoint"

    def describe(self) -> str:
        if self.move_nothing:
            return "move nothing"
        return f"keep-below {self.keep_below or 0:g}, min-move {self.min_move or 0:g} head sizes"

    def as_dict(self) -> dict:
        return {"keep_below": self.keep_below, "min_move": self.min_move, "move_nothing": self.move_nothing,
                "source": self.source}


@dataclass
class RefinedPeople:
    """The network's output for every person refined, before the keep rules apply."""

    names: list[str]  # the sequences refined
    jobs: list[PersonJob]
    refined: np.ndarray  # (N, 15, 3) image x, y, refiner confidence
    seen: np.ndarray  # (N, 15) input joint on the canvas
    head: np.ndarray  # (N,) head size (px) the person was normalised with
    no_joints: int = 0
    no_head_box: int = 0


def shard_names(names: list[str], index: int, count: int) -> list[str]:
    """A deterministic share of whole sequences: the i-th of every n in sorted order."""
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard {index}/{count} is not valid", fix="use --shard i/n with 0 <= i < n")
    return [n for k, n in enumerate(sorted(names)) if k % count == index]


def _absent_slot_score(seq: PoseSequence, p: int, slot: int) -> float:
    """The input's score for a slot whose joint is absent: a PoseTrack-2018 file lists one score per
    slot (the official refiner copies it); every other layout has none, so 0."""
    raw = seq.person_extras[p].get("scores") if isinstance(seq.person_extras[p], dict) else None
    if isinstance(raw, list) and len(raw) == len(seq.skeleton):
        v = raw[slot]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v):
            return float(v)
    return 0.0


def keeps_input(inp: np.ndarray, refined: np.ndarray, seen: np.ndarray, head: np.ndarray,
                keep_below: float | None, min_move: float | None) -> np.ndarray:
    """(N, 15) bool: input joints that keep their position: on the canvas, and the refiner is unsure
    (confidence < keep_below) or moves them by less than min_move head sizes."""
    had = np.isfinite(inp).all(-1) & seen
    keep = np.zeros(had.shape, bool)
    if keep_below:
        keep |= refined[..., 2] < keep_below
    if min_move:
        with np.errstate(invalid="ignore"):
            keep |= np.hypot(*(refined[..., :2] - inp).transpose(2, 0, 1)) < min_move * head[:, None]
    return keep & had


def apply_refined(seq: PoseSequence, persons: list[int], refined: np.ndarray, seen: np.ndarray | None,
                  head: np.ndarray | None, options: RefineOptions, keep_below: float | None = None,
                  min_move: float | None = None, stats: RefineStats | None = None, *,
                  move_nothing: bool = False) -> PoseSequence:
    """The sequence with refined positions; scores and everything else as in the input. With
    ``move_nothing`` every joint the input has keeps its position (off the canvas too)."""
    stats = stats if stats is not None else RefineStats()
    kp = seq.keypoints.copy()
    m = joint_mapping(POSETRACK15, seq.skeleton)  # for each slot of the file's skeleton, its PoseTrack-15 joint
    slots = np.flatnonzero(m >= 0)
    n = len(persons)
    seen = np.ones((n, 15), bool) if seen is None else seen
    head = np.ones(n) if head is None else head
    inp15 = np.full((n, 15, 2), np.nan)
    for k, p in enumerate(persons):
        inp15[k, m[slots]] = kp[p, slots, :2]
    keep = keeps_input(inp15, refined, seen, head, keep_below, min_move)
    if move_nothing:
        keep = np.isfinite(inp15).all(-1)
    for k, (row, p) in enumerate(zip(refined, persons)):
        for slot in slots:
            j = m[slot]
            had = np.isfinite(kp[p, slot, :2]).all()
            if not had and not options.recover_missing:
                continue
            if options.min_score is not None and row[j, 2] <= options.min_score:
                if had:
                    stats.dropped += 1
                kp[p, slot] = np.nan
                continue
            if not had:
                kp[p, slot, :2] = row[j, :2]
                kp[p, slot, 2] = row[j, 2] if options.recovered_score == "refiner" else _absent_slot_score(seq, p, slot)
                stats.recovered += 1
                continue
            if keep[k, j] and (seen[k, j] or move_nothing):
                stats.kept += 1
                continue
            if not seen[k, j]:
                stats.off_canvas += 1
            if (kp[p, slot, :2] != row[j, :2]).any():
                stats.moved += 1
            kp[p, slot, :2] = row[j, :2]
    return seq.with_keypoints(kp)
