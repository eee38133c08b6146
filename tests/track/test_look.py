"""Colour looks of boxes and the tracker's look veto: one person leaving where another enters must not be
stored as one sighting."""

import numpy as np

from relaytrack.config import TrackConfig
from relaytrack.records import CLASS_ID, PERSON, Detections
from relaytrack.track import Tracker
from relaytrack.track.look import CUT, DIM, HALVES, MIN_HEIGHT, WHOLE, box_looks, distance, person_looks

W, H, FPS = 640, 360, 5.0
GATE = TrackConfig().look_gate
RED, NAVY, WHITE, BLACK, KHAKI = (40, 35, 195), (90, 40, 20), (235, 235, 235), (30, 30, 30), (120, 170, 190)


def scene(people: list[tuple[list[float], tuple, tuple]], gain: float = 1.0) -> np.ndarray:
    """A grey pavement with people drawn as (xyxy, upper colour, lower colour) boxes."""
    img = np.full((H, W, 3), 110, np.uint8)
    for (x1, y1, x2, y2), upper, lower in people:
        mid = int(y1 + 0.5 * (y2 - y1))
        img[max(0, int(y1)) : mid, max(0, int(x1)) : int(x2)] = upper
        img[mid : int(y2), max(0, int(x1)) : int(x2)] = lower
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def test_two_people_in_different_clothes_are_far_apart_and_one_person_stays_close():
    a, b = [100, 100, 130, 180], [300, 100, 330, 180]
    img = scene([(a, RED, NAVY), (b, WHITE, BLACK)])
    looks = box_looks(img, np.array([a, b], float))
    assert looks.shape == (2, DIM)
    assert np.allclose(np.linalg.norm(looks[:, HALVES], axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(looks[:, WHOLE], axis=1), 1.0, atol=1e-5)
    assert not looks[:, CUT].any()
    assert distance(looks[0], looks[1:])[0] > GATE
    # The same person a little later: shifted, 20 % darker (a cloud, the camera's gain).
    later = scene([([104, 101, 134, 181], RED, NAVY)], gain=0.8)
    again = box_looks(later, np.array([[104, 101, 134, 181]], float))
    assert distance(looks[0], again)[0] < GATE / 2


def test_a_box_too_small_or_outside_the_frame_has_no_look_and_vetoes_nothing():
    img = scene([([100, 100, 110, 100 + MIN_HEIGHT - 1], RED, NAVY)])
    looks = box_looks(img, np.array([[100, 100, 110, 100 + MIN_HEIGHT - 1], [700, 10, 730, 90]], float))
    assert not looks.any()
    assert distance(np.eye(DIM)[0], looks).tolist() == [0.0, 0.0]


def test_only_person_boxes_get_a_look():
    img = scene([([100, 100, 130, 180], RED, NAVY)])
    dets = Detections(np.array([[100, 100, 130, 180]] * 2, float), np.full(2, 0.9),
                      np.array([PERSON, CLASS_ID["car"]]))  # fmt: skip
    looks = person_looks(img, dets)
    assert looks[0].any() and not looks[1].any()


def _leave_and_enter(gate: float, second=(WHITE, BLACK)) -> list[list[int]]:
    """Person A walks up and out of the top edge; person B walks in at the same spot right after (a pavement
    leaving the picture). Returns the frames of each stored tracklet."""
    tracker = Tracker(TrackConfig(look_gate=gate), (W, H), classes=("person",))
    frames = []
    for i in range(1, 21):  # A: bottom of the box rising from y=200 to the top edge, leaving
        y2 = 200 - 9 * i
        frames.append(([300, y2 - 80, 330, y2], RED, NAVY))
    for i in range(1, 21):  # B: entering where A left, walking down
        y2 = 30 + 9 * i
        frames.append(([300, y2 - 80, 330, y2], *second))
    for k, (b, up, lo) in enumerate(frames, 1):
        vis = [max(b[1], 0), b[3]]
        if vis[1] - vis[0] < 8:
            tracker.update(Detections.empty(), k, (k - 1) / FPS, looks=np.zeros((0, DIM), np.float32))
            continue
        xyxy = np.array([[b[0], vis[0], b[2], vis[1]]], float)
        img = scene([(b, up, lo)])
        dets = Detections(xyxy, np.full(1, 0.9), np.full(1, PERSON))
        tracker.update(dets, k, (k - 1) / FPS, looks=person_looks(img, dets))
    return [[bx.frame for bx in t.boxes] for t in tracker.flush()]


def test_look_veto_splits_one_person_leaving_from_another_entering_at_the_same_spot():
    off = _leave_and_enter(0.0)
    assert len(off) == 1  # overlap alone: A's track takes B, one sighting of two people
    on = _leave_and_enter(GATE)
    assert len(on) == 2
    # Each tracklet is one person, but for B's first box: it shows B's legs only, which tell nobody apart.
    assert sum(f > 20 for f in on[0]) <= 1 and min(on[1]) > 20


def test_look_veto_keeps_one_person_whose_look_barely_changes():
    # Someone in the same clothes entering right after is the same look: the veto has no say (overlap decides).
    assert len(_leave_and_enter(GATE, second=(RED, NAVY))) == 1


def test_the_veto_holds_between_close_frames_only():
    """Between frames `low_rate_s` or more apart a look changes more than the gate was measured for: there the
    track takes the box as it would without looks."""
    red = person_looks(scene([([300, 100, 330, 180], RED, NAVY)]), _one([300, 100, 330, 180]))
    white = person_looks(scene([([300, 100, 330, 180], WHITE, BLACK)]), _one([300, 100, 330, 180]))

    def ids(dt: float) -> tuple[set[int], set[int]]:
        tracker = Tracker(TrackConfig(), (W, H), classes=("person",))
        seen = set()
        for k in range(1, 6):
            out = tracker.update(_one([300, 100, 330, 180]), k, (k - 1) * dt, looks=red)
            seen |= set(out.track_id.tolist())
        out = tracker.update(_one([300, 100, 330, 180]), 6, 5 * dt, looks=white)
        return seen, set(out.track_id.tolist())

    before, after = ids(0.2)
    assert not (after & before)  # 5 fps: the white-clad box is not the red-clad track's
    before, after = ids(1.0)
    assert after <= before and after  # 1 fps: overlap and distance decide, as without looks


def _one(box: list[float]) -> Detections:
    return Detections(np.array([box], float), np.full(1, 0.9), np.full(1, PERSON))
