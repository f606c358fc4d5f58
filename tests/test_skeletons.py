"""Joint sets and the mappings between them (docs/protocol.md §1.1 gives the PoseTrack-2018 -> 2017 table)."""

from __future__ import annotations

import numpy as np

from poseval_refine.skeletons import COCO17, MPII16, POSETRACK15, POSETRACK18, head_size, joint_mapping, remap_keypoints


def test_posetrack18_to_17_is_the_official_table():
    # docs/protocol.md §1.1: 2018 index -> 2017 id (ears dropped)
    table = {0: 13, 1: 12, 2: 14, 5: 9, 6: 8, 7: 10, 8: 7, 9: 11, 10: 6, 11: 3, 12: 2, 13: 4, 14: 1, 15: 5, 16: 0}
    m = joint_mapping(POSETRACK18, POSETRACK15)  # for each 2017 id, its 2018 index
    assert {int(m[j]): j for j in range(15)} == table


def test_file_names_and_aliases():
    assert POSETRACK18.file_names[1] == "head_bottom" and POSETRACK18.index("head_bottom") == 1
    assert MPII16.index("upper_neck") == 8 and MPII16.file_names[8] == "upper_neck"
    assert POSETRACK15.index("neck") == 12


def test_flip_permutations_swap_left_and_right():
    for sk in (POSETRACK15, POSETRACK18, MPII16, COCO17):
        perm = sk.flip_permutation()
        assert sorted(perm) == list(range(len(sk)))
        for i, name in enumerate(sk.joints):
            other = sk.joints[perm[i]]
            if name.startswith("left_"):
                assert other == "right_" + name[5:]
            elif name.startswith("right_"):
                assert other == "left_" + name[6:]
            else:
                assert other == name
    assert len(POSETRACK15.symmetric_pairs) == 6 and len(MPII16.symmetric_pairs) == 6
    assert len(COCO17.symmetric_pairs) == 8


def test_remap_round_trip_and_missing_joints():
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(4, 15, 3))
    to18 = remap_keypoints(kp, POSETRACK15, POSETRACK18)
    assert np.isnan(to18[:, [3, 4]]).all()  # ears do not exist in PoseTrack-15
    np.testing.assert_array_equal(remap_keypoints(to18, POSETRACK18, POSETRACK15), kp)
    to_mpii = remap_keypoints(kp, POSETRACK15, MPII16)
    assert np.isnan(to_mpii[:, [6, 7]]).all()  # pelvis, thorax
    np.testing.assert_array_equal(to_mpii[:, 9], kp[:, 14])  # head top
    np.testing.assert_array_equal(to_mpii[:, 8], kp[:, 12])  # upper neck = PoseTrack neck


def test_head_size_is_sixty_percent_of_the_diagonal():
    np.testing.assert_allclose(head_size(np.array([[100, 70, 130, 110]])), [30.0])
