"""protocols.py: every task's conventions in one registry, the official kit's first, each quirk a named field."""

from __future__ import annotations

import dataclasses

import pytest

from poseval_refine.errors import ConfigError
from poseval_refine.protocols import PROTOCOLS, get_protocol, pckh_protocol, posetrack_protocol, protocol_names


def test_the_official_protocol_is_each_familys_default():
    assert protocol_names("posetrack")[0] == posetrack_protocol().name == "official"
    assert protocol_names("mpii-single")[0] == pckh_protocol().name == "matlab"
    assert set(PROTOCOLS) == {"posetrack", "mpii-single", "hota", "coco"}
    assert protocol_names("hota")[0] == "official"
    assert protocol_names("coco")[0] == "coco"  # pycocotools; the GT's layout picks another (docs/crowdpose.md)


def test_protocols_are_frozen_and_named_by_their_key():
    for family, protocols in PROTOCOLS.items():
        for name, proto in protocols.items():
            assert proto.name == name and get_protocol(family, name) is proto
            with pytest.raises(dataclasses.FrozenInstanceError):
                proto.name = "changed"


@pytest.mark.parametrize(("lookup", "known"), [(lambda: pckh_protocol("matlab2"), "matlab, hrnet, mmpose, bearpaw"),
                                               (lambda: posetrack_protocol("corected"), "official, corrected")])
def test_an_unknown_name_is_one_error_listing_the_choices(lookup, known):
    with pytest.raises(ConfigError, match="unknown protocol") as e:
        lookup()
    assert known in str(e.value)


def test_a_result_ranks_on_the_board_of_its_protocol():
    from poseval_refine.results.board import protocol_of

    assert protocol_of("single", {"flavour": "matlab"}) == protocol_of("tracking", {}) == "official"
    assert protocol_of("single", {"flavour": "hrnet"}) == "protocol hrnet"
    assert protocol_of("pose", {"protocol": {"name": "corrected", "motp": "clear"}}) == "protocol corrected"
