"""Tracker behaviour on synthetic trajectories: crossing, occlusion, direction of movement, bounded state."""

import numpy as np
import pytest

from relaytrack.config import TrackConfig
from relaytrack.records import PERSON, Detections
from relaytrack.track import Tracker, edges_and_heading

W, H, FPS = 640, 360, 10.0


def box(cx, cy, w=30, h=80):
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def run(tracker, frames):
    """frames: list of lists of (box, conf); returns {track_id: [(frame, cx)]} and finished tracklets."""
    for i, dets in enumerate(frames, 1):
        if dets:
            xyxy = np.array([d[0] for d in dets])
            conf = np.array([d[1] for d in dets])
        else:
            xyxy, conf = np.zeros((0, 4)), np.zeros(0)
        tracker.update(Detections(xyxy, conf, np.full(len(conf), PERSON)), i, (i - 1) / FPS)
    return tracker.flush()


def test_two_people_crossing_keep_their_ids():
    frames = []
    for i in range(60):
        a = (box(50 + i * 9, 200), 0.9)
        b = (box(590 - i * 9, 210), 0.85)
        frames.append([a, b])
    tls = run(Tracker(TrackConfig(), (W, H)), frames)
    assert len(tls) == 2
    for tl in tls:
        xs = [(b.xyxy[0] + b.xyxy[2]) / 2 for b in tl.boxes]
        # Each track moves monotonically: it never jumped to the other person at the crossing.
        diffs = np.diff(xs)
        assert (diffs > 0).all() or (diffs < 0).all()
        assert len(tl.boxes) >= 55


def test_occluded_person_keeps_id_after_gap():
    frames = []
    for i in range(50):
        dets = [(box(100 + i * 6, 200), 0.9)]
        if 20 <= i < 30:  # behind a pillar for a second
            dets = []
        frames.append(dets)
    tls = run(Tracker(TrackConfig(max_lost_s=2.0), (W, H)), frames)
    assert len(tls) == 1
    assert tls[0].boxes[0].frame == 1 and tls[0].boxes[-1].frame == 50


def test_partially_occluded_low_score_boxes_continue_the_track():
    frames = []
    for i in range(40):
        conf = 0.2 if 15 <= i < 25 else 0.9  # low scores while half hidden: second-stage association
        frames.append([(box(100 + i * 5, 200), conf)])
    tls = run(Tracker(TrackConfig(), (W, H)), frames)
    assert len(tls) == 1 and len(tls[0].boxes) == 40


def test_low_score_clutter_does_not_start_tracks():
    frames = [[(box(300, 200), 0.2)] for _ in range(30)]
    assert run(Tracker(TrackConfig(), (W, H)), frames) == []


def test_lost_track_finishes_after_max_lost():
    tracker = Tracker(TrackConfig(max_lost_s=1.0), (W, H))
    frames = [[(box(100 + i * 5, 200), 0.9)] for i in range(10)] + [[] for _ in range(15)]
    for i, dets in enumerate(frames, 1):
        xyxy = np.array([d[0] for d in dets]).reshape(-1, 4)
        conf = np.array([d[1] for d in dets])
        tracker.update(Detections(xyxy, conf, np.full(len(conf), PERSON)), i, (i - 1) / FPS)
    done = tracker.pop_finished()
    assert len(done) == 1 and tracker.live == 0


def test_direction_walking_left_to_right():
    frames = [[(box(10 + i * 12, 200), 0.9)] for i in range(53)]
    (tl,) = run(Tracker(TrackConfig(), (W, H)), frames)
    assert tl.entry_edge == "left" and tl.exit_edge == "right"
    assert tl.heading_deg is not None and (tl.heading_deg < 10 or tl.heading_deg > 350)
    assert tl.speed_px_s == pytest.approx(120, rel=0.15)


@pytest.mark.parametrize(
    "path,entry,exit_",
    [
        ([(320, 150), (320, 250), (320, 340)], "top", "bottom"),  # came from the far end, out at the bottom
        ([(600, 200), (400, 200), (200, 200)], "right", "left"),  # moved far: edges from heading
        ([(300, 200), (302, 201), (301, 200)], "inside", "inside"),  # stands still
    ],
)
def test_edges_and_heading(path, entry, exit_):
    boxes = [tuple(box(x, y, 20, 40)) for x, y in path]
    e, x, heading, speed = edges_and_heading(boxes, [0.0, 1.0, 2.0], W, H)
    assert (e, x) == (entry, exit_)


def test_state_stays_bounded_over_many_frames():
    rng = np.random.default_rng(0)
    tracker = Tracker(TrackConfig(), (W, H))
    finished = 0
    for i in range(1, 3001):
        n = rng.integers(0, 5)
        xyxy = np.array([box(*rng.uniform([20, 50], [620, 300])) for _ in range(n)]).reshape(-1, 4)
        tracker.update(Detections(xyxy, rng.uniform(0.3, 1, n), np.full(n, PERSON)), i, i / FPS)
        finished += len(tracker.pop_finished())
    assert tracker.live < 60
    assert finished > 0


def test_update_returns_named_tracks_with_their_state():
    from relaytrack.records import NEW, RECOVERED, TRACKED, Tracks

    tracker = Tracker(TrackConfig(min_hits=2, max_lost_s=2.0), (W, H))
    seen = []
    for i in range(1, 21):
        hidden = 8 <= i < 12  # behind a pillar: lost, then found again
        xyxy = np.array([box(100 + i * 5, 200)]) if not hidden else np.zeros((0, 4))
        conf = np.full(len(xyxy), 0.9)
        out = tracker.update(Detections(xyxy, conf, np.full(len(conf), PERSON)), i, (i - 1) / FPS)
        assert isinstance(out, Tracks)
        seen.append(out)
    assert len(seen[0]) == 0  # tentative until min_hits
    assert seen[1].state.tolist() == [NEW] and seen[2].state.tolist() == [TRACKED]
    assert seen[11].state.tolist() == [RECOVERED] and seen[12].state.tolist() == [TRACKED]
    t = seen[5]
    assert t.track_id.tolist() == [1] and t.class_id.tolist() == [PERSON]
    assert t.xyxy.shape == (1, 4) and t.xyxy[0, 0] == pytest.approx(box(130, 200)[0])
    assert t.confidence.tolist() == pytest.approx([0.9])
    assert t.boxes_by_id() == {1: tuple(float(v) for v in t.xyxy[0])}


def test_tracks_are_validated_when_built():
    from relaytrack.records import Tracks

    with pytest.raises(ValueError, match=r"Tracks.confidence has 1 rows, expected 2"):
        Tracks([1, 2], [0, 0], np.zeros((2, 4)), [0.9], [0, 0])
    with pytest.raises(ValueError, match=r"Tracks.xyxy has shape \(2, 3\), expected \(N, 4\)"):
        Tracks([1, 2], [0, 0], np.zeros((2, 3)), [0.9, 0.8], [0, 0])
    with pytest.raises(ValueError, match=r"Tracks.state has 7"):
        Tracks([1], [0], np.zeros((1, 4)), [0.9], [7])
    assert len(Tracks.empty()) == 0 and Tracks.empty().xyxy.shape == (0, 4)


def test_appearance_vetoes_a_box_that_looks_like_someone_else():
    """With appearance on, a track does not take a box whose look (centred on the camera's mean) is another
    person's, even where the box overlaps its prediction; with it off, overlap alone decides."""
    look_a, look_b = np.zeros(8), np.zeros(8)
    look_a[0], look_b[1] = 1.0, 1.0

    def go(appearance: bool) -> set[int]:
        tr = Tracker(TrackConfig(appearance=appearance, appearance_gate=0.5), (W, H), classes=("person",))
        last = set()
        for i in range(1, 13):
            boxes = np.array([box(100 + 5 * i, 100), box(100 + 5 * i, 300)])
            feats = np.stack([look_a, look_b] if i < 12 else [look_b, look_a])  # frame 12: looks swapped
            out = tr.update(
                Detections(boxes, np.full(2, 0.9), np.full(2, PERSON)), i, (i - 1) / FPS, feats=feats
            )
            if i == 11:
                last = set(out.track_id.tolist())
        return last & set(out.track_id.tolist())

    assert len(go(False)) == 2  # the same two ids carry on
    assert len(go(True)) == 0  # neither track takes the other person's box


def _at_rate(tracker, frames, fps):
    for i, dets in enumerate(frames, 1):
        xyxy = np.array([d[0] for d in dets]).reshape(-1, 4)
        conf = np.array([d[1] for d in dets])
        tracker.update(Detections(xyxy, conf, np.full(len(conf), PERSON)), i, (i - 1) / fps)
    return tracker.flush()


def test_one_fps_walkers_are_followed_one_tracklet_each():
    # Two people 80 px tall walking 60 px/s (0.75 heights/s) in opposite directions, seen once a second: a
    # box never overlaps the previous one, so IoU alone starts a new track every frame and stores nobody.
    frames = [[(box(60 + 60 * i, 150), 0.9), (box(580 - 60 * i, 250), 0.9)] for i in range(9)]
    tls = _at_rate(Tracker(TrackConfig(), (W, H)), frames, 1.0)
    assert len(tls) == 2
    for tl in tls:
        assert len(tl.boxes) == 9
        ys = {round((b.xyxy[1] + b.xyxy[3]) / 2) for b in tl.boxes}
        assert len(ys) == 1  # never swapped to the other walker
    off = _at_rate(Tracker(TrackConfig(low_rate_s=100.0), (W, H)), frames, 1.0)
    assert off == []  # the same frames without distance matching: nobody stored


def test_one_fps_never_joins_a_box_too_far_or_of_another_size():
    # A box 3 heights away one second later, and one of half the height next to it: neither is the same person.
    frames = [
        [(box(100, 150), 0.9)],
        [(box(100, 150), 0.9)],
        [(box(340, 150), 0.9), (box(130, 150, 15, 40), 0.9)],
    ]
    tls = _at_rate(Tracker(TrackConfig(min_hits=1), (W, H)), frames, 1.0)
    # The walker's two boxes stand (two suffice at a low rate); each of the others is a one-box track.
    assert [len(t.boxes) for t in tls] == [2]
    assert {round(b.xyxy[0]) for b in tls[0].boxes} == {85}


def test_full_rate_tracking_does_not_use_distance_matching(monkeypatch):
    called = []
    orig = Tracker._reach
    monkeypatch.setattr(Tracker, "_reach", lambda self, *a: called.append(1) or orig(self, *a))
    frames = [[(box(60 + 12 * i, 150), 0.9)] for i in range(20)]
    tls = _at_rate(Tracker(TrackConfig(), (W, H)), frames, 5.0)
    assert len(tls) == 1 and not called


def test_a_track_lost_too_long_is_not_matched_after_skipped_frames():
    # Motion gating skipped 9 s of an empty scene: the next person where the last one left is someone else.
    cfg = TrackConfig()
    tr = Tracker(cfg, (W, H))
    for i in range(5):
        tr.update(Detections(np.array([box(100 + 10 * i, 150)]), np.array([0.9]), np.array([PERSON])), i + 1, i)
    tr.update(Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int)), 6, 5.0)
    for k, t in enumerate((14.0, 15.0, 16.0)):
        tr.update(Detections(np.array([box(150 + 10 * k, 150)]), np.array([0.9]), np.array([PERSON])), 7 + k, t)
    tls = tr.flush()
    assert sorted(len(t.boxes) for t in tls) == [3, 5]
