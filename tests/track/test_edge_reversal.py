"""One person leaving at the picture's top edge where another, dressed alike, enters: the tracker splits the
track where the cut box shrank and grew back (colour cannot tell them apart), and never splits a person who
merely stands cut by the edge or a single odd box."""

import numpy as np

from relaytrack.config import TrackConfig
from relaytrack.describe.tracklet import CropBank
from relaytrack.records import PERSON, Detections, Tracks
from relaytrack.track import Tracker

W, H, FPS = 640, 360, 5.0


def _track(boxes: list[list[float] | None], **cfg) -> tuple[list[list[int]], list[tuple[int, int, int]]]:
    """Feed one box (or none) a frame; returns each stored tracklet's frames and the splits reported."""
    tracker = Tracker(TrackConfig(look_gate=0.0, **cfg), (W, H), classes=("person",))
    splits = []
    for k, b in enumerate(boxes, 1):
        dets = (
            Detections.empty()
            if b is None
            else Detections(np.array([b], float), np.full(1, 0.9), np.full(1, PERSON))
        )
        tracker.update(dets, k, (k - 1) / FPS)
        splits += tracker.pop_splits()
    return [[bx.frame for bx in t.boxes] for t in tracker.flush()], splits


def _leave_then_enter() -> list[list[float]]:
    """A walks up and out at the top edge (its box cut to a shrinking visible part); B walks in at once."""
    out = []
    for i in range(12):  # A, whole, walking up
        y2 = 190 - 8 * i
        out.append([300, y2 - 80, 330, y2])
    for y2 in (82, 76, 70, 64, 58):  # A cut by the top edge, shrinking
        out.append([300, 0, 330, y2])
    for y2 in (63, 69, 75, 81, 88, 96, 104):  # B entering at the same spot, growing, then whole
        out.append([302, max(0, y2 - 80), 332, y2])
    return out


def test_a_look_alike_entering_where_one_left_is_a_new_track():
    frames, splits = _track(_leave_then_enter())
    assert len(frames) == 2
    assert max(frames[0]) == 17 and min(frames[1]) == 18  # split at the smallest box, A's last
    assert len(splits) == 1 and splits[0][2] == 18


def test_without_the_rule_the_two_are_one_track():
    frames, splits = _track(_leave_then_enter(), edge_reversal=0.0)
    assert len(frames) == 1 and not splits


def test_a_person_standing_cut_by_the_edge_or_one_odd_box_is_not_split():
    rng = np.random.default_rng(3)
    standing = [[300, 0, 330, 60 * (1 + 0.06 * rng.standard_normal())] for _ in range(30)]
    assert len(_track(standing)[0]) == 1
    odd = [[300, 0, 330, 60.0]] * 10 + [[300, 0, 330, 44.0]] + [[300, 0, 330, 60.0]] * 10
    assert len(_track(odd)[0]) == 1
    # The same shrinking and growing away from the edge (someone bending down and up) is no reversal either.
    inside = [[300, 200 - h, 330, 200] for h in (80, 80, 72, 66, 60, 56, 60, 66, 72, 80, 80)]
    assert len(_track(inside)[0]) == 1


def test_the_crop_bank_gives_the_new_track_the_crops_from_the_split_on():
    bank = CropBank(keep=5)
    img = np.full((H, W, 3), 120, np.uint8)
    for f in range(1, 9):  # a box growing frame by frame: every crop better than the one before
        tracks = Tracks(np.array([7]), np.array([PERSON]), np.array([[300.0, 100, 330, 100 + 10 * f]]),
                        np.array([0.9]), np.array([0]))  # fmt: skip
        bank.add_frame(img, f, tracks, Detections.empty())
    assert sorted(c[1] for c in bank.banks[7].crops) == [4, 5, 6, 7, 8]
    bank.split(7, 8, first_frame=6)
    assert sorted(c[1] for c in bank.banks[7].crops) == [4, 5]
    assert sorted(c[1] for c in bank.banks[8].crops) == [6, 7, 8]
    bank.split(99, 100, 1)  # an unknown track: nothing to move
    assert 100 not in bank.banks
