"""Joint sets as data.

Every joint set speaks one vocabulary of canonical joint names, so a mapping between two
sets is a lookup by name, never a hand-written index table. Each set also keeps the names
its file format spells (PoseTrack-2018 says ``head_bottom`` where MPII says ``upper_neck``;
both are the canonical ``neck``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Ratio between head size and head-box diagonal used by MPII and PoseTrack (SC_BIAS = 0.8 * 0.75).
HEAD_SIZE_FACTOR = 0.6


@dataclass(frozen=True)
class Skeleton:
    """An ordered joint set: canonical names, names as files spell them, symmetric pairs."""

    name: str
    joints: tuple[str, ...]
    symmetric_pairs: tuple[tuple[int, int], ...]
    file_names: tuple[str, ...] = ()
    head_size_rule: str = "0.6 x diagonal of the annotated head box"
    #: joints that exist as slots in the format but are never annotated nor evaluated
    unused: tuple[str, ...] = ()
    description: str = ""
    _index: dict = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self):
        if not self.file_names:
            object.__setattr__(self, "file_names", self.joints)
        if len(self.file_names) != len(self.joints):
            raise ValueError(f"skeleton {self.name}: file_names and joints differ in length")
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(self.joints)})

    def __len__(self) -> int:
        return len(self.joints)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Position of a joint given its canonical or file name (or a known alias)."""
        joint = ALIASES.get(joint, joint)
        if joint in self._index:
            return self._index[joint]
        if joint in self.file_names:
            return self.file_names.index(joint)
        raise KeyError(f"joint {joint!r} is not in skeleton {self.name!r} ({', '.join(self.joints)})")

    def __contains__(self, joint: str) -> bool:
        return ALIASES.get(joint, joint) in self._index

    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps left and right joints (for mirrored images)."""
        perm = np.arange(len(self.joints))
        for a, b in self.symmetric_pairs:
            perm[a], perm[b] = b, a
        return perm


def symmetric_pairs_of(joints: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Symmetric pairs found by the left_/right_ naming convention."""
    pairs = []
    for i, n in enumerate(joints):
        if n.startswith("left_"):
            other = "right_" + n[len("left_"):]
            if other in joints:
                pairs.append((joints.index(other), i))
    return tuple(sorted(pairs))


#: Names that files use for canonical joints.
ALIASES = {
    "head_bottom": "neck",
    "upper_neck": "neck",
    "chin": "neck",
    "forehead": "head_top",
    "head": "head_top",
}

_PT15 = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "nose", "head_top",
)
POSETRACK15 = Skeleton(
    name="posetrack15",
    joints=_PT15,
    symmetric_pairs=symmetric_pairs_of(_PT15),
    description="PoseTrack 2017 (annolist) joint ids 0-14; the joint set poseval evaluates",
)

_PT18 = (
    "nose", "neck", "head_top", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
POSETRACK18 = Skeleton(
    name="posetrack18",
    joints=_PT18,
    file_names=("nose", "head_bottom", "head_top") + _PT18[3:],
    symmetric_pairs=symmetric_pairs_of(_PT18),
    unused=("left_ear", "right_ear"),
    description="PoseTrack 2018 COCO-like 17 slots; ears are never annotated nor evaluated",
)

_MPII16 = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "pelvis", "thorax", "neck", "head_top",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
)
MPII16 = Skeleton(
    name="mpii16",
    joints=_MPII16,
    file_names=_MPII16[:8] + ("upper_neck",) + _MPII16[9:],
    symmetric_pairs=symmetric_pairs_of(_MPII16),
    description="MPII Human Pose ids 0-15 (pelvis 6, thorax 7, upper neck 8, head top 9)",
)

_COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
COCO17 = Skeleton(
    name="coco17",
    joints=_COCO17,
    symmetric_pairs=symmetric_pairs_of(_COCO17),
    description="COCO keypoints, 17 joints",
)

_OP18 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
OPENPOSE18 = Skeleton(
    name="openpose-coco18", joints=_OP18, symmetric_pairs=symmetric_pairs_of(_OP18),
    description="OpenPose COCO-18 (its 'neck' is the shoulder midpoint, used as PoseTrack's neck)",
)
_BODY25 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe", "left_heel",
    "right_big_toe", "right_small_toe", "right_heel",
)
BODY25 = Skeleton(name="openpose-body25", joints=_BODY25, symmetric_pairs=symmetric_pairs_of(_BODY25),
                  description="OpenPose BODY_25")

def joint_mapping(src: Skeleton, dst: Skeleton) -> np.ndarray:
    """For every joint of ``dst``, its index in ``src`` or -1 when ``src`` lacks it."""
    return np.array([src._index.get(n, -1) for n in dst.joints], dtype=np.intp)


def missing_joints(src: Skeleton, dst: Skeleton) -> tuple[str, ...]:
    """Joints of ``dst`` that ``src`` does not have (they become absent when remapping)."""
    return tuple(n for n, i in zip(dst.joints, joint_mapping(src, dst)) if i < 0)


def remap_keypoints(keypoints: np.ndarray, src: Skeleton, dst: Skeleton, fill: float = np.nan) -> np.ndarray:
    """Re-order ``(..., len(src), C)`` keypoints into ``dst``'s order; absent joints get ``fill``."""
    mapping = joint_mapping(src, dst)
    out = np.full(keypoints.shape[:-2] + (len(dst), keypoints.shape[-1]), fill, dtype=keypoints.dtype)
    have = mapping >= 0
    out[..., have, :] = keypoints[..., mapping[have], :]
    return out


def head_size(head_box: np.ndarray) -> np.ndarray:
    """Head size from ``(..., 4)`` boxes x1, y1, x2, y2: 0.6 x the diagonal (MPII/PoseTrack rule)."""
    head_box = np.asarray(head_box, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # an infinite box gives inf/NaN; callers reject it
        dx = head_box[..., 2] - head_box[..., 0]
        dy = head_box[..., 3] - head_box[..., 1]
        # sqrt of the sum of squares (as numpy.linalg.norm), not hypot: keeps the official kits' last bit
        return HEAD_SIZE_FACTOR * np.sqrt(dx * dx + dy * dy)
