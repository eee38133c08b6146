"""Humanoid pose geometry: limbs keep their lengths, feet stay on the ground, poses do what they say."""

import math

import numpy as np
import pytest

from relaytrack.town.actors import random_look
from relaytrack.town.humanoid import SHIN, THIGH, pose_joints, to_world


@pytest.fixture
def look():
    return random_look(np.random.default_rng(1), female=False)[0]


@pytest.mark.parametrize("phase", np.linspace(0, 2 * math.pi, 9))
def test_walk_keeps_limb_lengths_and_a_foot_down(look, phase):
    j = pose_joints(look, "walk", phase)
    H = look.height
    for s in ("l", "r"):
        assert np.linalg.norm(j[f"knee_{s}"] - j[f"hip_{s}"]) == pytest.approx(THIGH * H, rel=1e-3)
        assert np.linalg.norm(j[f"ankle_{s}"] - j[f"knee_{s}"]) == pytest.approx(SHIN * H, rel=0.02)
    # At least one ankle is at ankle height (stance foot), the head is near the top of the body.
    assert min(j["ankle_l"][2], j["ankle_r"][2]) == pytest.approx(0.04 * H, abs=0.03 * H)
    assert 0.85 * H < j["head"][2] + 0.066 * H < 1.05 * H


def test_walk_cycle_moves_legs_in_opposition(look):
    a = pose_joints(look, "walk", math.pi / 2)
    assert a["ankle_l"][1] > 0.1 * look.height > -a["ankle_r"][1] * 0 - 0.1 * look.height
    assert a["ankle_r"][1] < 0
    # Arms swing opposite to the legs on the same side.
    assert a["wrist_l"][1] < a["wrist_r"][1]


def test_crouch_lowers_hips_and_reaches_the_spot(look):
    stand = pose_joints(look, "stand")
    crouch = pose_joints(look, "crouch", reach=(0.5, 0.35))
    assert crouch["pelvis"][2] < 0.7 * stand["pelvis"][2]
    assert crouch["head"][2] < stand["head"][2] - 0.2 * look.height
    assert np.linalg.norm(crouch["wrist_r"] - np.array([0.04 * look.height, 0.5, 0.35])) < 0.12


def test_phone_raise_brings_hand_to_face(look):
    j = pose_joints(look, "phone")
    assert np.linalg.norm(j["wrist_r"] - j["head"]) < 0.3 * look.height
    assert j["wrist_r"][2] > j["chest"][2]
    assert j["wrist_l"][2] < j["pelvis"][2] + 0.1 * look.height


def test_unknown_pose_is_refused(look):
    with pytest.raises(ValueError, match="unknown pose"):
        pose_joints(look, "cartwheel")


def test_to_world_faces_the_heading(look):
    j = to_world(pose_joints(look, "stand"), 10.0, 5.0, 90.0)  # facing east
    assert j["toe_l"][0] > j["ankle_l"][0]  # toes point east
    assert j["shoulder_r"][1] < j["shoulder_l"][1]  # right hand side is south when facing east
