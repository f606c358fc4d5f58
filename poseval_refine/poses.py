"""The canonical form every adapter produces and every metric and the refiner consume.

A :class:`PoseSequence` holds one video (or one image set) as flat per-person arrays plus a
``person_frame`` index into the frame list, so metrics vectorize over people without Python
loops over joints. Fields prt does not own are kept in ``meta``/``frame_extras``/
``person_extras`` so a writer can give back exactly what was read.

Contract (version 1):

=================  ===============  =========================================================
field              shape / dtype    meaning
=================  ===============  =========================================================
image_names        F list[str]      image file per frame ('' when the format has none)
ignore_regions     F list           per frame, list of (n, 2) float64 polygons
is_labeled         (F,) bool        the file's own labeled flag (evaluators may ignore it)
person_frame       (P,) int64       frame of each person, non-decreasing
track_id           (P,) int64       track id, ``NO_TRACK`` when absent
keypoints          (P, K, 3) f8     x, y, score; x = y = NaN when the joint is absent;
                                    score NaN when the file gives none (or gives null/NaN,
                                    see ``score_null``); x = y = +inf: the file gives the joint
                                    with a non-finite coordinate (present, never within any
                                    distance; only evaluation reads keep such joints)
score_null         (P, K) bool      the file gives the joint's score as null or NaN (poseval
                                    ranks such scores first; a missing score ranks last)
visibility         (P, K) f8        the file's visibility flag, NaN when not given
head_box           (P, 4) f8        x1, y1, x2, y2; NaN when absent
head_size          (P,) f8          head size given directly by the file (MPII ``normalize``);
                                    NaN: 0.6 x the head-box diagonal (see ``head_sizes()``)
person_score       (P,) f8          the person's own score; NaN when absent
has_pose           (P,) bool        the person carries a pose record (possibly empty)
=================  ===============  =========================================================
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .skeletons import Skeleton, remap_keypoints

NO_TRACK = np.iinfo(np.int64).min
_EMPTY: dict = {}  # shared placeholder for "no source record" (never mutated)


@dataclass(repr=False)
class PoseSequence:
    name: str
    skeleton: Skeleton
    image_names: list[str]
    person_frame: np.ndarray
    keypoints: np.ndarray
    track_id: np.ndarray | None = None
    visibility: np.ndarray | None = None
    head_box: np.ndarray | None = None
    head_size: np.ndarray | None = None
    person_score: np.ndarray | None = None
    has_pose: np.ndarray | None = None
    score_null: np.ndarray | None = None
    is_labeled: np.ndarray | None = None
    ignore_regions: list[list[np.ndarray]] | None = None
    #: file-level fields prt does not own, plus ``source`` (path, format) and ``conversions``
    meta: dict = field(default_factory=dict)
    frame_extras: list[dict] | None = None
    person_extras: list[dict] | None = None

    def __repr__(self) -> str:
        """A summary, not the arrays (a benchmark holds millions of numbers)."""
        tracks = np.unique(self.track_id[self.track_id != NO_TRACK]).size if self.track_id is not None else 0
        return (f"PoseSequence({self.name!r}, skeleton={self.skeleton.name!r}, frames={len(self.image_names)}, "
                f"people={len(self.person_frame)}, tracks={tracks})")

    def __post_init__(self):
        F = len(self.image_names)
        P = len(self.person_frame)
        K = len(self.skeleton)
        self.person_frame = np.asarray(self.person_frame, dtype=np.int64).reshape(P)
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64).reshape(P, K, 3)
        if self.track_id is None:
            self.track_id = np.full(P, NO_TRACK, dtype=np.int64)
        self.track_id = np.asarray(self.track_id, dtype=np.int64).reshape(P)
        if self.visibility is None:
            self.visibility = np.full((P, K), np.nan)
        self.visibility = np.asarray(self.visibility, dtype=np.float64).reshape(P, K)
        if self.head_box is None:
            self.head_box = np.full((P, 4), np.nan)
        self.head_box = np.asarray(self.head_box, dtype=np.float64).reshape(P, 4)
        if self.head_size is None:
            self.head_size = np.full(P, np.nan)
        self.head_size = np.asarray(self.head_size, dtype=np.float64).reshape(P)
        if self.person_score is None:
            self.person_score = np.full(P, np.nan)
        self.person_score = np.asarray(self.person_score, dtype=np.float64).reshape(P)
        if self.has_pose is None:
            self.has_pose = np.ones(P, dtype=bool)
        self.has_pose = np.asarray(self.has_pose, dtype=bool).reshape(P)
        if self.score_null is None:
            self.score_null = np.zeros((P, K), dtype=bool)
        self.score_null = np.asarray(self.score_null, dtype=bool).reshape(P, K)
        if self.is_labeled is None:
            self.is_labeled = np.ones(F, dtype=bool)
        self.is_labeled = np.asarray(self.is_labeled, dtype=bool).reshape(F)
        if self.ignore_regions is None:
            self.ignore_regions = [[] for _ in range(F)]
        if self.frame_extras is None:
            self.frame_extras = [_EMPTY] * F
        if self.person_extras is None:
            self.person_extras = [_EMPTY] * P

    # ------------------------------------------------------------------ shape helpers
    @property
    def num_frames(self) -> int:
        return len(self.image_names)

    @property
    def num_persons(self) -> int:
        return len(self.person_frame)

    @property
    def source(self) -> str:
        return str(self.meta.get("source", {}).get("path", self.name))

    def frame_bounds(self) -> np.ndarray:
        """``(F + 1,)`` offsets: people of frame f are ``bounds[f]:bounds[f + 1]``."""
        return np.searchsorted(self.person_frame, np.arange(self.num_frames + 1), side="left")

    def head_sizes(self) -> np.ndarray:
        """Per-person head size: the file's own value, else 0.6 x the head-box diagonal (NaN if neither)."""
        from .skeletons import head_size

        return np.where(np.isnan(self.head_size), head_size(self.head_box), self.head_size)

    # ------------------------------------------------------------------ transforms
    def select_persons(self, keep: np.ndarray) -> PoseSequence:
        """A copy with only the people where ``keep`` is true (frames unchanged)."""
        return self.take(np.flatnonzero(np.asarray(keep, dtype=bool)))

    def take(self, idx: np.ndarray) -> PoseSequence:
        """A copy with the people ``idx`` in that order (``person_frame`` must stay non-decreasing)."""
        idx = np.asarray(idx, dtype=np.intp)
        out = copy.copy(self)
        out.person_frame = self.person_frame[idx]
        out.keypoints = self.keypoints[idx]
        out.track_id = self.track_id[idx]
        out.visibility = self.visibility[idx]
        out.head_box = self.head_box[idx]
        out.head_size = self.head_size[idx]
        out.person_score = self.person_score[idx]
        out.has_pose = self.has_pose[idx]
        out.score_null = self.score_null[idx]
        out.person_extras = [self.person_extras[i] for i in idx]
        return out

    def with_keypoints(self, keypoints: np.ndarray) -> PoseSequence:
        out = copy.copy(self)
        out.keypoints = np.asarray(keypoints, dtype=np.float64).reshape(self.keypoints.shape)
        return out

    def to_skeleton(self, skeleton: Skeleton) -> PoseSequence:
        """The same people in another joint set; joints the target lacks are dropped, extra ones absent."""
        if skeleton.name == self.skeleton.name:
            return self
        out = copy.copy(self)
        out.skeleton = skeleton
        out.keypoints = remap_keypoints(self.keypoints, self.skeleton, skeleton)
        out.visibility = remap_keypoints(self.visibility[..., None], self.skeleton, skeleton)[..., 0]
        out.score_null = remap_keypoints(self.score_null[..., None], self.skeleton, skeleton, fill=False)[..., 0]
        return out

    # ------------------------------------------------------------------ validation
    def validate(self) -> PoseSequence:
        """Check the contract; raise :class:`InputError` naming the file, frame and person."""
        src = self.source
        F, P, K = self.num_frames, self.num_persons, len(self.skeleton)
        if P and (self.person_frame.min() < 0 or self.person_frame.max() >= F):
            bad = int(np.flatnonzero((self.person_frame < 0) | (self.person_frame >= F))[0])
            raise InputError(f"person refers to frame {self.person_frame[bad]} but there are {F} frames",
                             file=src, person=bad, fix="check the image ids of the annotations")
        if P > 1 and np.any(np.diff(self.person_frame) < 0):
            raise InputError("people are not ordered by frame", file=src,
                             fix="this is a bug in the adapter that produced the sequence")
        if self.keypoints.shape != (P, K, 3):
            raise InputError(f"keypoints have shape {self.keypoints.shape}, expected {(P, K, 3)}", file=src)
        xy = self.keypoints[..., :2]
        unmatchable = np.isposinf(xy).all(-1)  # present, never within any distance (evaluation reads)
        bad_xy = (np.isinf(xy).any(-1) & ~unmatchable) | (np.isnan(xy[..., 0]) != np.isnan(xy[..., 1]))
        if bad_xy.any():
            p, k = (int(v[0]) for v in np.nonzero(bad_xy))
            raise InputError(f"joint {self.skeleton.joints[k]} has a non-finite coordinate {xy[p, k].tolist()}",
                             file=src, frame=int(self.person_frame[p]), person=p,
                             fix="give finite numbers for x and y, or leave the joint out")
        if len(self.ignore_regions) != F or len(self.frame_extras) != F:
            raise InputError("per-frame lists do not match the number of frames", file=src)
        if len(self.person_extras) != P:
            raise InputError("per-person list does not match the number of people", file=src)
        return self


@dataclass(repr=False)
class PoseSet:
    """Sequences of one benchmark or one method, keyed by sequence name (file stem)."""

    sequences: dict[str, PoseSequence]
    format: str = ""
    root: str = ""
    meta: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.sequences.values())

    def __repr__(self) -> str:
        """A summary: format, sequence names (the first few), people; ``print(s.sequences[name])`` for one."""
        names = ", ".join(map(repr, list(self.sequences)[:3])) + (", ..." if len(self.sequences) > 3 else "")
        return (f"PoseSet(format={self.format!r}, sequences={len(self.sequences)} [{names}], "
                f"people={self.num_persons})")

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, name: str) -> PoseSequence:
        return self.sequences[name]

    def names(self) -> list[str]:
        return list(self.sequences)

    @property
    def num_persons(self) -> int:
        return sum(s.num_persons for s in self.sequences.values())

