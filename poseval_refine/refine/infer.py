"""Batched refinement of any pose set: rewrites joint positions only.

Each joint keeps its input score and each person its track id; every field prt does not own is
written back as read (the writers keep the source records). Joints the input lacks stay absent
unless ``recover_missing`` (then their score is the refiner's confidence, since the input has
none). ``min_score`` drops refined joints whose refiner confidence is <= T (the paper's tau =
0.7 for tracking). People without joints, or whose pose does not fit the canvas, pass through
unchanged with a warning; nobody is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, InputError
from ..poses import PoseSequence, PoseSet
from ..skeletons import POSETRACK15, joint_mapping
from .data import load_image
from .encode import EncodeConfig, crop_image, disk_channels, make_crop, network_input, person_scale
from .model import PoseRefiner
from .synth import FLIP

log = logging.getLogger("prt")


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[PoseRefiner, EncodeConfig, dict]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError("checkpoint not found", file=path, fix="train one with `prt train ... --out CKPT`")
    try:
        ck = torch.load(path, map_location=device, weights_only=False)
    except Exception as e:
        raise ConfigError(f"is not a prt checkpoint ({type(e).__name__})", file=path) from None
    if not isinstance(ck, dict) or "model" not in ck or "model_config" not in ck:
        raise ConfigError("is not a prt refiner checkpoint (no model / model_config)", file=path,
                          fix="give a checkpoint written by `prt train`")
    if ck.get("skeleton") != "posetrack15" or ck["model_config"].get("num_joints") != len(POSETRACK15):
        raise ConfigError(f"was trained for the joint set {ck.get('skeleton')!r} "
                          f"({ck['model_config'].get('num_joints')} joints); this refiner works in posetrack15",
                          file=path, fix="use a checkpoint trained by this version of prt")
    cfg = ck["model_config"]
    model = PoseRefiner(cfg["num_joints"], cfg["arch"], cfg["width"], cfg.get("input_skip", False))
    try:
        model.load_state_dict(ck["model"])
    except RuntimeError as e:
        raise ConfigError(f"weights do not fit a {cfg['arch']} refiner ({str(e).splitlines()[0]})", file=path) from None
    return model.to(device).eval(), EncodeConfig(**ck["encode"]), ck


@dataclass
class PersonJob:
    seq: str
    person: int
    image: str
    xy: np.ndarray  # (15, 2) PoseTrack-15 input, image coordinates
    head_box: np.ndarray


class _Inputs(torch.utils.data.Dataset):
    def __init__(self, jobs: list[PersonJob], enc: EncodeConfig):
        self.jobs, self.enc = jobs, enc
        self._cache: tuple[str, np.ndarray] | None = None

    def __len__(self):
        return len(self.jobs)

    def __getitem__(self, i):
        job = self.jobs[i]
        if self._cache is None or self._cache[0] != job.image:
            self._cache = (job.image, load_image(job.image))
        s = person_scale(job.xy, job.head_box, self.enc)
        crop = make_crop(job.xy, s, self.enc)
        x = network_input(crop_image(self._cache[1], crop), disk_channels(crop.to_canvas(job.xy), self.enc.canvas,
                                                                            self.enc.radius))
        return torch.from_numpy(x), torch.tensor([*crop.origin, crop.scale], dtype=torch.float64), i


class Refiner:
    def __init__(self, checkpoint: str | Path, device: str | None = None, batch_size: int = 16, workers: int = 0,
                 flip: bool = True):
        from .train import pick_device

        self.device = pick_device(device)
        self.model, self.enc, self.meta = load_checkpoint(checkpoint, self.device)
        self.batch_size, self.workers, self.flip = batch_size, workers, flip

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> np.ndarray:
        """(B, 15, 3) canvas x, y, confidence; with flip averaging of the heatmaps."""
        from .encode import decode

        x = x.to(self.device)
        heat, loc = self.model(x)
        prob = torch.sigmoid(heat)
        if self.flip:
            xf = torch.flip(x, dims=[3])
            xf[:, 3:] = xf[:, 3:][:, torch.as_tensor(FLIP)]
            hf, _ = self.model(xf)
            prob = (prob + torch.flip(torch.sigmoid(hf), dims=[3])[:, torch.as_tensor(FLIP)]) / 2
        return decode(prob.cpu().numpy(), loc.cpu().numpy())

    def fits(self, job: PersonJob) -> bool:
        s = person_scale(job.xy, job.head_box, self.enc)
        crop = make_crop(job.xy, s, self.enc)
        c = crop.to_canvas(job.xy[np.isfinite(job.xy).all(1)])
        return bool(((c >= 0) & (c < self.enc.canvas)).all())

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

    def run(self, jobs: list[PersonJob]) -> np.ndarray:
        """(N, 15, 3) image x, y and refiner confidence for each job."""
        out = np.zeros((len(jobs), 15, 3))
        if not jobs:
            return out
        loader = torch.utils.data.DataLoader(_Inputs(jobs, self.enc), batch_sampler=self.batches(jobs),
                                             num_workers=self.workers)
        from tqdm import tqdm

        for x, crop, idx in tqdm(loader, desc="refine", unit="batch", disable=None, leave=False):
            pred = self.predict(x)
            origin, scale = crop[:, :2].numpy(), crop[:, 2].numpy()
            out[idx.numpy(), :, :2] = pred[..., :2] / scale[:, None, None] + origin[:, None, :]
            out[idx.numpy(), :, 2] = pred[..., 2]
        return out

    # ----------------------------------------------------------------------------- pose sets
    def refine_set(self, poses: PoseSet, images: str | Path, *, min_score: float | None = None,
                   recover_missing: bool = False, shard: tuple[int, int] = (0, 1),
                   keep_below: float | None = None) -> PoseSet:
        names = shard_names(poses.names(), *shard)
        jobs, passthrough = [], 0
        views = {n: poses[n].to_skeleton(POSETRACK15) for n in names}
        for n in names:
            s15 = views[n]
            present = np.isfinite(s15.keypoints[..., :2]).all(-1)
            for p in range(s15.num_persons):
                if not present[p].any():
                    continue
                img = str(Path(images) / s15.image_names[s15.person_frame[p]])
                job = PersonJob(n, p, img, s15.keypoints[p, :, :2], s15.head_box[p])
                if not self.fits(job):
                    passthrough += 1
                    log.warning("%s, frame %d, person %d: the pose does not fit the refiner's canvas; kept unchanged",
                                poses[n].source, int(s15.person_frame[p]), p)
                    continue
                jobs.append(job)
        for img in sorted({j.image for j in jobs}):
            if not Path(img).is_file():
                raise InputError("image not found", file=img, fix="give --images, the folder the image names are "
                                 "relative to")
        refined = self.run(jobs)
        out = {}
        by_seq: dict[str, list[int]] = {}
        for i, j in enumerate(jobs):
            by_seq.setdefault(j.seq, []).append(i)
        for n in names:
            seq = poses[n]
            ids = by_seq.get(n, [])
            out[n] = apply_refined(seq, [jobs[i].person for i in ids], refined[ids], min_score, recover_missing,
                                   keep_below)
        meta = dict(poses.meta, refined_passthrough=passthrough)
        return PoseSet(out, format=poses.format, root=poses.root, meta=meta)


def shard_names(names: list[str], index: int, count: int) -> list[str]:
    """A deterministic share of whole sequences: the i-th of every n in sorted order."""
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard {index}/{count} is not valid", fix="use --shard i/n with 0 <= i < n")
    return [n for k, n in enumerate(sorted(names)) if k % count == index]


def apply_refined(seq: PoseSequence, persons: list[int], refined: np.ndarray, min_score: float | None,
                  recover_missing: bool, keep_below: float | None = None) -> PoseSequence:
    """The sequence with refined positions; scores and everything else as in the input.

    ``keep_below``: a joint whose refiner confidence is below it keeps its input position."""
    kp = seq.keypoints.copy()
    m = joint_mapping(POSETRACK15, seq.skeleton)  # for each slot of the file's skeleton, its PT-15 joint
    slots = np.flatnonzero(m >= 0)
    for row, p in zip(refined, persons):
        for slot in slots:
            j = m[slot]
            had = np.isfinite(kp[p, slot, :2]).all()
            if not had and not recover_missing:
                continue
            if min_score is not None and row[j, 2] <= min_score:
                kp[p, slot] = np.nan
                continue
            if had and keep_below is not None and row[j, 2] < keep_below:
                continue
            kp[p, slot, :2] = row[j, :2]
            if not had:
                kp[p, slot, 2] = row[j, 2]
    return seq.with_keypoints(kp)
