"""The issue-22 cues on small synthetic inputs with known answers: the before/after comparison of a spot
(watch/spot.py), a long stay without a reach (innocent.linger), looking around (head turns from keypoints),
and their reasons in Korean and English. No models."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from relaytrack import i18n
from relaytrack.watch.config import load_watch_config
from relaytrack.watch.innocent import stay_at_spot
from relaytrack.watch.pose import Keypoints, Posture, head_direction
from relaytrack.watch.route import StopRecord
from relaytrack.watch.signals import CameraWatch
from relaytrack.watch.spot import SpotConfig, SpotMemory, compare, covered, zone_crop
from relaytrack.watch.zones import make_zone

DAY = datetime.fromisoformat("2026-11-25T14:00:00+09:00").timestamp()
FPS = 5.0
ZONE = make_zone(
    {"id": "Z2", "kind": "ac_unit", "polygon": [[300, 150], [340, 150], [340, 190], [300, 190]]}, "t"
)
BG = np.random.default_rng(7).integers(40, 200, (360, 640, 3)).astype(np.float32)


def frame(rng: np.random.Generator, gain: float = 1.0, obj: bool = False, noise: float = 5.0) -> np.ndarray:
    """The background (a fixed texture) under a lighting gain, sensor noise, and optionally a dark packet
    (12 x 10 px) left in the zone."""
    img = BG * gain + rng.normal(0, noise, BG.shape)
    if obj:
        img[172:182, 312:324] = 15.0
    return np.clip(img, 0, 255).astype(np.uint8)


def views(rng, n: int, **kw) -> list[np.ndarray]:
    return [zone_crop(frame(rng, **kw), ZONE) for _ in range(n)]


# ------------------------------------------------------------------ before/after comparison


def test_same_spot_under_noise_and_a_lighting_change_is_unchanged():
    rng, cfg = np.random.default_rng(1), SpotConfig()
    before = views(rng, 3)
    same = compare(before, views(rng, 3), cfg)
    dimmer = compare(before, views(rng, 3, gain=0.6), cfg)
    assert same.why == "compared" and same.share < cfg.change_share / 3
    assert dimmer.known and dimmer.share < cfg.change_share / 3  # a global gain change cancels


def test_a_packet_left_at_the_spot_is_a_change():
    rng, cfg = np.random.default_rng(2), SpotConfig()
    ch = compare(views(rng, 3), views(rng, 3, gain=0.8, obj=True), cfg)
    assert ch.known and ch.share >= cfg.change_share
    # The packet is 120 px of a 48 x 46 crop: the changed share is about that, not the whole spot.
    assert ch.share < 0.2


def test_someone_unseen_in_a_few_before_views_does_not_make_a_change():
    # The before side is a median over views spread in time: 2 of 9 holding a dark shape (a person the
    # detector missed) do not move it; the after side is the empty spot again.
    rng, cfg = np.random.default_rng(5), SpotConfig()
    before = views(rng, 7) + views(rng, 2, obj=True)
    assert compare(before, views(rng, 3), cfg).share < cfg.change_share / 3
    # ...while the same shape in every after view is a change.
    assert compare(before, views(rng, 3, obj=True), cfg).share >= cfg.change_share


def test_after_views_that_disagree_are_unknown_not_a_change():
    rng, cfg = np.random.default_rng(3), SpotConfig()
    after = views(rng, 2) + views(rng, 1, obj=True)  # something passing through the last view
    ch = compare(views(rng, 3), after, cfg)
    assert not ch.known and ch.why == "unsteady after"
    assert compare([], after, cfg).why == "no before" and compare(after, [], cfg).why == "no after"


def test_a_spot_is_covered_by_a_person_box_next_to_it_but_not_by_one_far_away():
    assert covered(ZONE, [(335.0, 160.0, 375.0, 260.0)], 0.15, 0.15)
    assert not covered(ZONE, [(500.0, 160.0, 540.0, 260.0)], 0.15, 0.15)


def test_spot_memory_takes_before_views_before_the_stop_and_after_views_after_it():
    rng, cfg = np.random.default_rng(4), SpotConfig(sample_s=0.2, ref_every_s=0.2, ref_views=4)
    mem = SpotMemory([ZONE], cfg)
    t = 0.0
    for _ in range(5):  # clear
        img = frame(rng)
        mem.observe(t, [], lambda z, im=img: zone_crop(im, z))
        t += 0.2
    w = mem.begin("Z2", t)
    assert len(w.before) == 4
    person = [(300.0, 160.0, 340.0, 260.0)]
    for _ in range(10):  # covered while the packet is left: no views taken
        assert mem.observe(t, person, lambda z: pytest.fail("no crop of a covered zone")) == []
        t += 0.2
    end = t - 0.2  # the last frame the person was there
    assert not mem.follow(w, end, t) and w.change is None
    for _ in range(cfg.views):
        img = frame(rng, obj=True)
        mem.observe(t, [], lambda z, im=img: zone_crop(im, z))
        t += 0.2
    assert mem.follow(w, end, t) and w.change.share >= cfg.change_share


# ------------------------------------------------------------------ the cues in the watch


def box(x: float, h: float = 100.0) -> tuple[float, float, float, float]:
    return (x - 0.2 * h, 260 - h, x + 0.2 * h, 260)


def drive(cfg, plan, obj_from: float | None = None, gain_after: float = 1.0, wall0: float = DAY):
    """plan: (seconds, x from, x to, pose, phone) segments of track 1 (x None: not in view); a bystander
    (track 2) stands far from the spot throughout. The frame shows a packet at the spot from `obj_from` s."""
    watch = CameraWatch("C1", [ZONE], cfg)
    rng = np.random.default_rng(11)
    out, t, k = [], 0.0, 0
    for secs, x0, x1, pose, phone in plan:
        n = int(secs * FPS)
        for i in range(n):
            tracks = [(2, box(600.0))]
            if x0 is not None:
                tracks.append((1, box(x0 + (x1 - x0) * i / max(n - 1, 1))))
            img = frame(rng, gain=gain_after if t > 8 else 1.0, obj=obj_from is not None and t >= obj_from)
            phones = None
            if phone and x0 is not None:
                b = tracks[-1][1]
                phones = np.array([[b[0] + 10, b[1] + 10, b[0] + 20, b[1] + 25]])
            fn = (lambda _t, _b, p=pose: p) if pose is not None else None
            out += watch.step(k, t, wall0 + t, tracks, phones, fn, None, lambda z, im=img: zone_crop(im, z))
            t, k = t + 1 / FPS, k + 1
    return watch, [a for a in out if a.track_id == 1]


def crouch_reach(x: float) -> Posture:
    return Posture(80.0, 40.0, ((320.0, 175.0),), (x, 235.0), False)


@pytest.fixture
def cfg():
    return load_watch_config(None, {"alert.clips": False})


@pytest.mark.parametrize("left_packet", [True, False])
def test_a_stop_that_leaves_a_packet_raises_the_score_with_its_reason(cfg, left_packet):
    plan = [(4, -100, 320, None, False), (2, 320, 320, None, False), (4, 320, 320, crouch_reach(320), False),
            (3, 320, 320, None, False), (3, 320, 560, None, False), (4, 560, 560, None, False)]  # fmt: skip
    _, out = drive(cfg, plan, obj_from=8.0 if left_packet else None, gain_after=0.7)
    last = out[-1]
    assert last.stop.closed and last.signals["spot_compare"] == "compared"
    if left_packet:
        assert last.strengths["spot_change"] == 1.0
        assert any("looks different" in r for r in last.reasons)
        before = [a for a in out if a.stop is last.stop and a.signals["spot_change_share"] is None][-1]
        assert last.score == pytest.approx(before.score + cfg.spot.w_change, abs=0.02)
    else:
        assert last.strengths["spot_change"] == 0.0 and last.signals["spot_change_share"] < 0.02
        assert not any("looks different" in r for r in last.reasons)


def test_the_spot_verdict_comes_even_when_the_track_is_gone(cfg):
    plan = [(4, -100, 320, None, False), (12, 320, 320, crouch_reach(320), False)]
    watch, _ = drive(cfg, plan, obj_from=6.0)
    a = watch.end_track(1, DAY + 16.0)  # the tracker ended it at the spot: the person went in
    assert a is not None and a.final and a.signals["spot_change_share"] is None
    rng = np.random.default_rng(5)
    got = []
    for k in range(10):  # the spot seen clear again, the bystander still there
        img = frame(rng, obj=True)
        t = 16.2 + k / FPS
        got += watch.step(
            80 + k, t, DAY + t, [(2, box(600.0))], None, None, None, lambda z, im=img: zone_crop(im, z)
        )
    mine = [x for x in got if x.track_id == 1]
    assert len(mine) == 1 and mine[0].strengths["spot_change"] == 1.0


def test_a_long_stay_without_a_reach_is_lowered_as_lingering(cfg):
    smoker = [(4, -100, 320, None, False), (20, 320, 320, None, False), (5, 320, 320, None, True),
              (15, 320, 320, None, False), (4, 320, 700, None, False)]  # fmt: skip
    _, out = drive(cfg, smoker)
    last = [a for a in out if a.final][-1]
    assert last.strengths["linger"] == -1.0 and last.signals["stay_s"] >= cfg.innocent.linger_s
    assert any("lingering" in r for r in last.reasons)
    early = [a for a in out if a.signals["dwell_s"] < cfg.innocent.linger_s - 1][-1]
    assert early.strengths["linger"] == 0.0  # not before linger_s
    # The same stay with a hand into the spot is not lingering.
    courier = [(4, -100, 320, None, False), (20, 320, 320, None, False), (5, 320, 320, crouch_reach(320), False),
               (15, 320, 320, None, False), (4, 320, 700, None, False)]  # fmt: skip
    _, out = drive(cfg, courier)
    assert all(a.strengths["linger"] == 0.0 for a in out)


def test_a_stay_broken_into_stops_counts_as_one():
    rec = [
        StopRecord("C1", "Z2", ("C1", 1), 100.0, 115.0, None),
        StopRecord("C1", "Z2", ("C1", 3), 40.0, 60.0, None),
    ]
    # This stop began at 120 (5 s after the first record ended): 10 + 15; the record 60 s before is another visit.
    assert stay_at_spot(10.0, 120.0, rec, gap_s=10.0) == pytest.approx(25.0)
    assert stay_at_spot(10.0, 120.0, rec, gap_s=2.0) == pytest.approx(10.0)
    assert (
        stay_at_spot(10.0, 120.0, [*rec, StopRecord("C1", "Z2", ("C1", 4), 119.0, 130.0, None)], 10.0) == 25.0
    )


# ------------------------------------------------------------------ looking around


def kp(nose_x: float | None, shoulders: tuple[float, float] = (90.0, 110.0)) -> Keypoints:
    xy = np.zeros((17, 2), np.float32)
    score = np.zeros(17, np.float32)
    xy[5], xy[6] = (shoulders[0], 60.0), (shoulders[1], 60.0)
    score[5] = score[6] = 0.9
    if nose_x is not None:
        xy[0], score[0] = (nose_x, 40.0), 0.9
    return Keypoints(xy, score, 0.9)


def test_head_direction_from_nose_and_shoulders():
    assert head_direction(kp(100.0)) == "ahead"
    assert head_direction(kp(92.0)) == "left" and head_direction(kp(108.0)) == "right"
    assert head_direction(kp(None)) == "away"
    no_shoulders = kp(100.0)
    no_shoulders.score[5] = 0.0
    assert head_direction(no_shoulders) is None


def head(d: str | None) -> Posture:
    return Posture(175.0, 3.0, (), (320.0, 210.0), False, d)


def test_head_turns_count_held_directions_not_single_frame_flicker(cfg):
    watch = CameraWatch("C1", [ZONE], load_watch_config(None, {"weights.look": 0.2}))
    seqs = {
        "looks around": ["ahead"] * 3 + ["left"] * 3 + ["right"] * 3 + ["away"] * 3 + ["ahead"] * 3,
        "flicker": ["ahead"] * 3 + ["left"] + ["ahead"] * 3 + ["right"] + ["ahead"] * 3 + [None] * 4,
    }
    turns = {}
    for name, seq in seqs.items():
        out, t = [], 0.0
        for k in range(20):  # walk in
            out += watch.step(k, t, DAY + t, [(1, box(-100 + 21 * k))])
            t += 1 / FPS
        for k, d in enumerate([None] * 10 + seq * 2):  # stopped first (the stop begins), then the head
            out += watch.step(20 + k, t, DAY + t, [(1, box(320.0))], None, lambda _t, _b, p=head(d): p)
            t += 1 / FPS
        turns[name] = out[-1]
        watch = CameraWatch("C1", [ZONE], load_watch_config(None, {"weights.look": 0.2}))
    a, b = turns["looks around"], turns["flicker"]
    # ahead > left > right > away > ahead, twice: 8 turns.
    assert a.signals["head_turns"] == 8 and a.strengths["look"] == 1.0
    assert any("looked around (8 head turns)" in r for r in a.reasons)
    assert b.signals["head_turns"] == 0 and b.strengths["look"] == 0.0


# ------------------------------------------------------------------ reasons in both languages


@pytest.mark.parametrize(
    "en",
    [
        "stayed 45 s without a hand into the spot (lingering, lowered)",
        "looked around (4 head turns)",
        "the spot looks different after they left (12 % of it changed)",
        "went in at a door right after (lowered)",
        "round of 4 short stops, median 4 s (postman pattern, lowered)",
        "brief stop, no photo (lowered)",
    ],
)
def test_new_reasons_read_in_korean(en):
    ko = i18n.ko(en)
    assert ko != en and any("\uac00" <= ch <= "\ud7a3" for ch in ko)
    assert all(d in ko for d in "".join(c for c in en if c.isdigit()))


# ------------------------------------------------------------------ gone in at a door, or walked on


def test_a_track_lost_while_walking_on_and_picked_up_further_along_did_not_go_in():
    from relaytrack.watch.innocent import InnocentConfig, went_in

    cfg = InnocentConfig()
    # Ended 0.6 h from its stop; a new track appears 0.6 s later 49 px further along (box height 80).
    later = [(0.6, 310.0, 267.0, 77.0), (1.0, 325.0, 263.0, 76.0)]
    assert went_in((261.0, 276.0), (230.0, 226.0), 79.0, later, cfg, 0.6, speed_px_s=0.0)  # standing: door
    assert not went_in((261.0, 276.0), (230.0, 226.0), 79.0, later, cfg, 0.6, speed_px_s=38.0)  # walking on
    assert went_in((261.0, 276.0), (230.0, 226.0), 79.0, [], cfg, 0.6, speed_px_s=38.0)  # nobody: went in


def test_brief_needs_the_person_seen_leaving_and_counts_the_stay_in_pieces():
    from relaytrack.watch.innocent import InnocentConfig, cues

    cfg = InnocentConfig()
    walked = cues(cfg, 4.0, True, "walked", False, [], 1000.0)
    lost = cues(cfg, 4.0, True, "lost", False, [], 1000.0)
    phone = cues(cfg, 4.0, True, "walked", True, [], 1000.0)
    assert walked.brief == 1.0 and lost.brief == 0.0 and phone.brief == 0.0
    piece = StopRecord("C1", "Z2", ("C1", 1), 990.0, 995.0, None)  # 5 s just before this 4 s stop (from 996)
    assert cues(cfg, 4.0, True, "walked", False, [], 1000.0, same_spot=[piece]).brief == 0.0


def _two_at_the_spot(cfg, both_leave: bool):
    """Tracks 1 and 2 side by side at the spot (one person doubled, or a pair); track 1 ends at 14 s, track 2
    stays (both_leave False) or ends with it; a bystander far off keeps the scene going."""
    watch = CameraWatch("C1", [ZONE], cfg)
    out, t = [], 0.0
    for k in range(100):
        tracks = [(9, box(600.0))]
        if t < 4:
            x = -100 + 105 * t
            tracks += [(1, box(x)), (2, box(x + 12))]
        elif t < 14 or (not both_leave and t < 18):
            tracks += [(1, box(320.0))] if t < 14 else []
            tracks += [(2, box(332.0))]
        fn = (lambda _t, _b, p=crouch_reach(320): p) if 4 <= t < 14 else None
        out += watch.step(k, t, DAY + t, tracks, None, fn)
        t += 1 / FPS
    return watch, out


def test_a_track_lost_while_another_stays_at_the_spot_hands_its_stay_over(cfg):
    watch, out = _two_at_the_spot(cfg, both_leave=False)
    first = [a for a in out if a.track_id == 1 and a.final]
    assert first and first[-1].superseded and first[-1].stop.continued_by == 2
    second = [a for a in out if a.track_id == 2]
    assert second[-1].signals["reach_frames"] >= first[-1].signals["reach_frames"]
    # The alert book takes no decision on a superseded stay.
    from relaytrack.watch.alerts import AlertBook

    book = AlertBook("C1", cfg.alert, None)
    a = first[-1]
    a.score = 5.0
    assert book.on_frame(0, 20.0, np.zeros((8, 8, 3), np.uint8), [a], {}, 0.0) == []
    assert book.decide_pending([1], [a]) == []


def test_two_who_went_in_together_both_went_in(cfg):
    # Neither track was picked up again: the other one was there all along, it is no re-detection.
    watch, out = _two_at_the_spot(cfg, both_leave=True)
    gone = {a.track_id: a.signals["left"] for a in out if a.final and a.track_id in (1, 2)}
    assert gone == {1: "door", 2: "door"}
