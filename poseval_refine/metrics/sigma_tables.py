"""The official OKS sigma tables of the keypoint benchmarks evaluated with COCO's OKS, as their kits write them.

COCO's own table is pycocotools' ``Params.setKpParams`` (tenths, divided by 10, as it writes them). The
CrowdPose, AI Challenger and COCO-WholeBody tables are the ones mmpose's dataset configs give xtcocotools
(``configs/_base_/datasets/{crowdpose,aic,coco_wholebody}.py``), written with the same decimals; mmpose reads
them into a float32 array (``parse_pose_metainfo``), so the protocols that reproduce mmpose's numbers cast
them to float32 before the OKS (``CocoProtocol.float32_sigmas``), which changes OKS in its last digits.
"""

from __future__ import annotations

import numpy as np

#: pycocotools: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles
COCO = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0

#: CrowdPose (mmpose crowdpose.py): shoulders, elbows, wrists, hips, knees, ankles (left, right), head, neck
CROWDPOSE = np.array([0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
                      0.079, 0.079])

#: AI Challenger (mmpose aic.py): right/left shoulder, elbow, wrist, right/left hip, knee, ankle, head top, neck
AIC = np.array([0.01388152, 0.01515228, 0.01057665, 0.01417709, 0.01497891, 0.01402144, 0.03909642, 0.03686941,
                0.01981803, 0.03843971, 0.03412318, 0.02415081, 0.01291456, 0.01236173])

#: COCO-WholeBody (mmpose coco_wholebody.py): body 17, feet 6, face 68, left hand 21, right hand 21
WHOLEBODY = np.array([
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087,
    0.089, 0.089,
    0.068, 0.066, 0.066, 0.092, 0.094, 0.094,
    0.042, 0.043, 0.044, 0.043, 0.040, 0.035, 0.031, 0.025, 0.020, 0.023, 0.029, 0.032, 0.037, 0.038, 0.043,
    0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011, 0.011, 0.013, 0.015, 0.009, 0.007, 0.007,
    0.007, 0.012, 0.009, 0.008, 0.016, 0.010, 0.017, 0.011, 0.009, 0.011, 0.009, 0.007, 0.013, 0.008, 0.011,
    0.012, 0.010, 0.034, 0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.010, 0.008, 0.009, 0.009, 0.009, 0.007,
    0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.01, 0.008,
    0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024, 0.022, 0.026, 0.017, 0.021,
    0.021, 0.032, 0.02, 0.019, 0.022, 0.031,
    0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024, 0.022, 0.026, 0.017, 0.021,
    0.021, 0.032, 0.02, 0.019, 0.022, 0.031])

#: COCO-WholeBody's parts: (part, annotation/result field, joint count), in the order of the 133 joints
WHOLEBODY_FIELDS = (("body", "keypoints", 17), ("foot", "foot_kpts", 6), ("face", "face_kpts", 68),
                    ("lefthand", "lefthand_kpts", 21), ("righthand", "righthand_kpts", 21))

assert len(WHOLEBODY) == sum(n for _, _, n in WHOLEBODY_FIELDS) == 133
