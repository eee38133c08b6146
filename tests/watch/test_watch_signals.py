"""Behaviour signals and the courier score on synthetic box / keypoint sequences (no models)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from relaytrack.watch.config import load_watch_config
from relaytrack.watch.pose import Keypoints, Posture, posture
from relaytrack.watch.signals import CameraWatch, RouteMemory, explain, is_night
from relaytrack.watch.zones import make_zone

DAY = datetime.fromisoformat("2026-11-25T14:00:00+09:00").timestamp()
NIGHT = datetime.fromisoformat("2026-11-25T23:30:00+09:00").timestamp()
FPS = 5.0
MAILBOX = make_zone(
    {"id": "Z2", "kind": "mailbox", "polygon": [[300, 150], [340, 150], [340, 190], [300, 190]]}, "t"
)
POT = make_zone(
    {"id": "Z5", "kind": "flower_pot", "polygon": [[500, 230], [540, 230], [540, 262], [500, 262]]}, "t"
)
BENCH = make_zone(
    {"id": "B1", "kind": "bench", "polygon": [[100, 220], [200, 220], [200, 250], [100, 250]]}, "t"
)


def person_box(x: float, foot: float = 260.0, h: float = 100.0) -> tuple[float, float, float, float]:
    return (x - 0.2 * h, foot - h, x + 0.2 * h, foot)


def run(watch: CameraWatch, plan: list[dict], wall0: float = DAY, tid: int = 1, t0: float = 0.0):
    """plan: segments {"s": seconds, "x0", "x1", "h" (height), "pose": Posture|None, "phone": bool}."""
    out, t, k = [], t0, int(t0 * FPS)
    for seg in plan:
        n = int(seg["s"] * FPS)
        for i in range(n):
            x = seg["x0"] + (seg["x1"] - seg["x0"]) * i / max(n - 1, 1)
            box = person_box(x, seg.get("foot", 260.0), seg.get("h", 100.0))
            phones = np.array([[x - 5, box[1] + 10, x + 5, box[1] + 25]]) if seg.get("phone") else None
            pose = seg.get("pose")
            out.extend(
                watch.step(
                    k, t, wall0 + t, [(tid, box)], phones, (lambda _t, _b, p=pose: p) if pose else None
                )
            )
            t += 1.0 / FPS
            k += 1
    return out


def standing(x: float) -> Posture:
    return Posture(175.0, 3.0, ((x - 15, 210.0), (x + 15, 210.0)), (x, 210.0), False)


def crouch_reach(x: float) -> Posture:
    return Posture(80.0, 40.0, ((320.0, 175.0),), (x, 235.0), False)


@pytest.fixture
def cfg():
    return load_watch_config()


def test_walking_past_a_zone_scores_nothing(cfg):
    w = CameraWatch("C1", [MAILBOX, POT], cfg)
    res = run(w, [{"s": 8, "x0": 50, "x1": 600}])  # ~70 px/s = 0.7 heights/s: walking
    assert res == []


def test_standing_near_a_zone_is_dwell_only_and_below_threshold(cfg):
    w = CameraWatch("C1", [MAILBOX], cfg)
    res = run(w, [{"s": 3, "x0": 100, "x1": 320}, {"s": 20, "x0": 320, "x1": 320, "pose": standing(320)}])
    assert res, "a stop at a zone must be assessed"
    last = res[-1]
    # The stop starts once the 1 s foot speed drops: up to one speed window after the feet stop.
    assert 19.8 - cfg.signals.speed_window_s <= last.signals["dwell_s"] <= 19.8
    assert last.strengths["dwell"] == 1.0 and last.strengths["crouch"] == 0 and last.strengths["reach"] == 0
    assert last.score == pytest.approx(cfg.weights.dwell)
    assert max(a.score for a in res) < cfg.alert.threshold


def test_crouch_and_reach_into_the_mailbox_alerts_with_explanation(cfg):
    w = CameraWatch("C1", [MAILBOX], cfg)
    plan = [
        {"s": 3, "x0": 100, "x1": 320},
        {"s": 1, "x0": 320, "x1": 320, "pose": standing(320)},
        {"s": 4, "x0": 320, "x1": 320, "h": 65, "pose": crouch_reach(320)},
        {"s": 3, "x0": 320, "x1": 320, "pose": standing(320)},
        {"s": 3, "x0": 320, "x1": 320, "phone": True, "pose": standing(320)},
    ]
    res = run(w, plan)
    crossed = [a for a in res if a.score >= cfg.alert.threshold]
    assert crossed, f"max score {max(a.score for a in res)}"
    first = crossed[0]
    # The hand alone stays under the threshold; the photo of the spot after it (from 11 s on) crosses it.
    assert first.strengths["photo"] > 0 and first.strengths["reach"] == 1.0
    before = [a for a in res if not a.strengths["photo"]]
    assert before and max(a.score for a in before) < cfg.alert.threshold
    final = res[-1]
    assert final.strengths["phone"] == 1.0 and final.signals["photo_frames"] >= cfg.signals.phone_frames
    # A photo held for its full number of frames is the full signal; the first frames of it give their share.
    assert final.strengths["photo"] == 1.0 and first.strengths["photo"] < 1.0
    assert final.signals["knee_min_deg"] == 80.0 and final.signals["box_ratio_min"] < 0.78
    assert final.reasons[0].startswith("stopped") and "mailbox Z2" in final.reasons[0]
    assert any(r.startswith("crouched") or r.startswith("bent over") for r in final.reasons)
    assert any("hand into the mailbox" in r for r in final.reasons)
    assert any("photo of the spot after the hand" in r for r in final.reasons)
    assert "then photographed the spot" in final.explanation


def test_the_hand_without_a_photo_after_it_stays_under_the_threshold(cfg):
    """A resident at the mailbox or someone tying a shoe by it: crouch and reach, no photo. A phone seen only
    while still crouched (hands in front of the chest) is not the photo of the spot."""
    w = CameraWatch("C1", [MAILBOX], cfg)
    low_phone = Posture(80.0, 40.0, ((320.0, 175.0),), (320.0, 235.0), True)
    plan = [
        {"s": 3, "x0": 100, "x1": 320},
        {"s": 1, "x0": 320, "x1": 320, "pose": standing(320)},
        {"s": 4, "x0": 320, "x1": 320, "h": 65, "pose": crouch_reach(320)},
        {"s": 3, "x0": 320, "x1": 320, "h": 65, "pose": low_phone},
        {"s": 3, "x0": 320, "x1": 320, "pose": standing(320)},
    ]
    res = run(w, plan)
    assert res and max(a.score for a in res) < cfg.alert.threshold
    last = res[-1]
    assert last.strengths["reach"] == 1.0 and last.strengths["crouch"] == 1.0
    assert last.signals["phone_frames"] >= cfg.signals.phone_frames and last.strengths["photo"] == 0.0


def test_box_only_crouch_counts_against_the_tracks_own_standing_height(cfg):
    w = CameraWatch("C1", [POT], cfg)
    res = run(w, [{"s": 3, "x0": 300, "x1": 520}, {"s": 6, "x0": 520, "x1": 520, "h": 60}])
    assert res[-1].strengths["crouch"] == 1.0
    assert res[-1].signals["box_ratio_min"] == pytest.approx(0.6, abs=0.01)
    # A tall person far from the camera who is simply smaller is not crouching: no standing height change.
    w2 = CameraWatch("C1", [POT], cfg)
    res2 = run(w2, [{"s": 3, "x0": 300, "x1": 520, "h": 60}, {"s": 6, "x0": 520, "x1": 520, "h": 60}])
    assert res2[-1].strengths["crouch"] == 0.0


def test_sitting_on_a_bench_is_not_a_drop(cfg):
    w = CameraWatch("C1", [BENCH], cfg)
    sit = Posture(95.0, 5.0, ((140.0, 235.0), (160.0, 235.0)), (150.0, 235.0), False)
    res = run(w, [{"s": 3, "x0": 20, "x1": 150}, {"s": 30, "x0": 150, "x1": 150, "h": 70, "pose": sit}])
    assert res[-1].signals["sitting"] is True
    assert res[-1].strengths["crouch"] == 0 and res[-1].strengths["reach"] == 0
    assert max(a.score for a in res) < cfg.alert.threshold


def test_several_stops_along_one_route_are_counted(cfg):
    route = RouteMemory(cfg.signals.route_window_s)
    w = CameraWatch("C1", [MAILBOX, POT, BENCH], cfg, route)
    plan = [
        {"s": 2, "x0": 60, "x1": 150, "foot": 265},
        {"s": 6, "x0": 150, "x1": 150, "foot": 265},  # stop 1 at the bench
        {"s": 2, "x0": 150, "x1": 320},
        {"s": 6, "x0": 320, "x1": 320},  # stop 2 at the mailbox
        {"s": 2.4, "x0": 320, "x1": 520},
        {"s": 6, "x0": 520, "x1": 520},  # stop 3 at the flower pot
    ]
    res = run(w, plan)
    last = res[-1]
    assert last.zone.id == "Z5"
    assert last.signals["stops_in_window"] == 3
    assert last.strengths["stops"] == 1.0
    assert "3rd stop in 1 min" in last.reasons


def test_stops_link_across_cameras_by_appearance_only_when_similar(cfg):
    route = RouteMemory(cfg.signals.route_window_s)
    a = CameraWatch("C1", [MAILBOX], cfg, route)
    b = CameraWatch("C2", [POT], cfg, route)
    red = np.zeros(10, np.float32)
    red[0] = 1.0
    blue = np.zeros(10, np.float32)
    blue[5] = 1.0

    def go(w, x, hist, t0, tid):
        out = []
        for i in range(int(10 * FPS)):
            t = t0 + i / FPS
            xi = x - 100 + 10 * i if i < 10 else x  # walks in for 2 s, then stays
            out += w.step(i, t, DAY + t, [(tid, person_box(xi))], None, None, lambda _b, h=hist: h)
        return out

    go(a, 320, red, 0.0, 1)
    a.end_track(1, DAY + 8.0)
    same = go(b, 520, red, 30.0, 7)
    assert same[-1].signals["stops_in_window"] == 2
    b2 = CameraWatch("C3", [POT], cfg, route)
    other = go(b2, 520, blue, 30.0, 9)
    assert other[-1].signals["stops_in_window"] == 1


def test_coming_back_to_the_same_spot(cfg):
    w = CameraWatch("C1", [MAILBOX], cfg)
    plan = [
        {"s": 2, "x0": 200, "x1": 320},
        {"s": 5, "x0": 320, "x1": 320},
        {"s": 5, "x0": 320, "x1": 700},  # leaves
        {"s": 20, "x0": 700, "x1": 700},  # waits away from every zone
        {"s": 5, "x0": 700, "x1": 320},
        {"s": 5, "x0": 320, "x1": 320},
    ]
    res = run(w, plan)
    assert res[-1].strengths["revisit"] == 1.0
    assert res[-1].signals["revisit_gap_s"] >= cfg.signals.revisit_gap_s
    assert any(r.startswith("back at the same spot") for r in res[-1].reasons)


def test_night_hours_in_seoul_time(cfg):
    s = cfg.signals
    assert is_night(NIGHT, s.night_start_hour, s.night_end_hour, s.timezone)
    assert not is_night(DAY, s.night_start_hour, s.night_end_hour, s.timezone)
    w = CameraWatch("C1", [MAILBOX], cfg)
    res = run(w, [{"s": 2, "x0": 250, "x1": 320}, {"s": 6, "x0": 320, "x1": 320}], wall0=NIGHT)
    assert res[-1].strengths["night"] == 1.0 and any(r.startswith("at night (23:3") for r in res[-1].reasons)


def test_weights_are_configurable_and_change_the_score():
    cfg = load_watch_config(None, {"weights.dwell": 0.5, "weights.night": 0.0})
    w = CameraWatch("C1", [MAILBOX], cfg)
    res = run(w, [{"s": 2, "x0": 250, "x1": 320}, {"s": 20, "x0": 320, "x1": 320}], wall0=NIGHT)
    assert res[-1].score == pytest.approx(0.5)
    with pytest.raises(Exception, match="weights.bogus"):
        load_watch_config(None, {"weights.bogus": 1.0})


def test_pose_runs_only_near_a_zone_after_slowing_down(cfg):
    w = CameraWatch("C1", [MAILBOX], cfg)
    calls = []

    def pose_fn(tid, box):
        calls.append(box)
        return standing(box[0])

    for i in range(40):  # walking across, far below the zone
        t = i / FPS
        w.step(i, t, DAY + t, [(1, person_box(50 + 14 * i, foot=450))], None, pose_fn)
    assert calls == []
    for i in range(40, 60):  # standing at the mailbox
        t = i / FPS
        w.step(i, t, DAY + t, [(1, person_box(320))], None, pose_fn)
    assert len(calls) >= 15


def test_posture_measures_from_keypoints():
    # Upright: shoulders above hips, straight legs, hands down.
    xy = np.zeros((17, 2), np.float32)
    pts = {0: (50, 10), 5: (40, 30), 6: (60, 30), 7: (38, 50), 8: (62, 50), 9: (37, 70), 10: (63, 70),
           11: (43, 70), 12: (57, 70), 13: (43, 100), 14: (57, 100), 15: (43, 130), 16: (57, 130)}  # fmt: skip
    for k, v in pts.items():
        xy[k] = v
    up = posture(Keypoints(xy, np.ones(17, np.float32), 0.9))
    assert up.knee_deg == pytest.approx(180, abs=1) and up.torso_deg == pytest.approx(0, abs=1)
    assert not up.phone_pose
    # Phone: right wrist raised to the face in front of the body, elbow bent.
    xy2 = xy.copy()
    xy2[8] = (62, 45)
    xy2[10] = (52, 20)
    assert posture(Keypoints(xy2, np.ones(17, np.float32), 0.9)).phone_pose
    # Crouch: knees forward and up, the hip-knee-ankle angle closes.
    xy3 = xy.copy()
    xy3[13], xy3[14] = (70, 85), (80, 85)
    xy3[11], xy3[12] = (43, 95), (57, 95)
    p3 = posture(Keypoints(xy3, np.ones(17, np.float32), 0.9))
    assert p3.knee_deg < 100
    # Weak keypoints say nothing.
    p4 = posture(Keypoints(xy, np.full(17, 0.05, np.float32), 0.9))
    assert p4.knee_deg is None and p4.torso_deg is None and p4.wrists == ()


def test_explain_ordinal_and_bent_over():
    from relaytrack.watch.signals import Stop

    s = Stop(MAILBOX, 0.0, 18.0, 1, torso_max=60.0, knee_min=170.0)
    signals = {"dwell_s": 18.0, "stops_in_window": 3, "route_span_s": 310.0, "revisit_gap_s": None,
               "local_hour": 23.5}  # fmt: skip
    strengths = {"crouch": 1.0, "reach": 0.0, "phone": 1.0, "revisit": 0.0, "night": 0.0}
    reasons, text = explain(s, signals, strengths)
    assert text == "stopped 18 s at mailbox Z2, bent over, then phone raised; 3rd stop in 6 min"
    assert reasons[1].startswith("bent over (knee 170°, torso 60°")


def test_a_track_that_never_moved_is_not_a_stop(cfg):
    # A static false detection next to a spot (e.g. the spot itself taken for a person) never walked there.
    w = CameraWatch("C1", [MAILBOX], cfg)
    assert run(w, [{"s": 30, "x0": 320, "x1": 320, "h": 60}]) == []


def test_adjacent_spots_stay_one_stop_while_the_person_stands_still(cfg):
    # Two spots side by side: the box shrinks while crouching, so the nearest spot may switch; still one stop.
    left = make_zone(
        {"id": "A", "kind": "flower_pot", "polygon": [[290, 240], [318, 240], [318, 262], [290, 262]]}, "t"
    )
    right = make_zone(
        {"id": "B", "kind": "ac_unit", "polygon": [[322, 150], [352, 150], [352, 175], [322, 175]]}, "t"
    )
    w = CameraWatch("C1", [left, right], cfg)
    res = run(w, [{"s": 2, "x0": 200, "x1": 320}, {"s": 3, "x0": 320, "x1": 320, "h": 60},
                  {"s": 4, "x0": 320, "x1": 322, "h": 100}])  # fmt: skip
    assert {a.zone.id for a in res} == {"A"}
    assert res[-1].signals["dwell_s"] >= 6.0


def _feed(w: CameraWatch, frames: list[list[tuple]], pose=None, t0: float = 0.0, wall0: float = DAY):
    """frames: per analysed frame, [(track id, box)]; pose: Posture (or None: no body found) for every pose
    run, or the string "off" for no pose model at all."""
    out = []
    pose_fn = None if pose == "off" else (lambda _t, _b, p=pose: p)
    for k, tracks in enumerate(frames):
        t = t0 + k / FPS
        out.extend(w.step(k, t, wall0 + t, tracks, None, pose_fn))
    return out


def test_appearing_at_a_place_seen_empty_counts_as_arriving(cfg):
    # At night or behind others a person may be found only once standing still at the spot: a place
    # watched and empty for empty_before_s before, then occupied, is an arrival (no walk needed).
    w = CameraWatch("C1", [MAILBOX], cfg)
    empty = [[] for _ in range(int((cfg.signals.empty_before_s + 1) * FPS))]
    there = [[(1, person_box(320))] for _ in range(int(8 * FPS))]
    res = _feed(w, empty + there, pose="off")
    assert res and res[-1].signals["dwell_s"] >= 6.0
    # The same still track from the first frame on (a place never seen empty) is no stop.
    w2 = CameraWatch("C1", [MAILBOX], cfg)
    assert _feed(w2, there + there, pose="off") == []


def test_a_track_broken_at_the_spot_inherits_the_arrival(cfg):
    w = CameraWatch("C1", [MAILBOX], cfg)
    walk = [[(1, person_box(200 + 12 * i))] for i in range(10)]  # walks to x=308..320
    stand = [[(1, person_box(320))] for _ in range(10)]
    gap = [[] for _ in range(5)]  # lost for a second (crouched in the dark)
    again = [[(2, person_box(321))] for _ in range(int(6 * FPS))]
    res = _feed(w, walk + stand + gap + again, pose="off")
    assert any(a.track_id == 2 and a.signals["dwell_s"] >= 4.0 for a in res)
    # A static false detection that flickers at a spot never arrived, and its fragments do not either.
    w2 = CameraWatch("C1", [MAILBOX], cfg)
    flicker = ([[(1, person_box(320))]] * 10 + [[]] * 5 + [[(2, person_box(320))]] * 10) * 3
    assert _feed(w2, flicker, pose="off") == []


def test_lower_box_without_a_body_is_no_crouch(cfg):
    # The box of someone behind a sign post gets shorter, and the pose model finds no body in it.
    w = CameraWatch("C1", [POT], cfg)
    frames = [[(1, person_box(300 + 20 * i))] for i in range(12)] + [[(1, person_box(520, h=60))]] * 30
    res = _feed(w, frames, pose=None)
    assert res and res[-1].strengths["crouch"] == 0.0 and res[-1].signals["crouch_frames"] == 0
    # Without any pose model, the lower box is all there is and still counts.
    w2 = CameraWatch("C1", [POT], cfg)
    assert _feed(w2, frames, pose="off")[-1].strengths["crouch"] == 1.0


def test_keypoint_crouch_scores_more_than_a_lower_box_alone(cfg):
    frames = [[(1, person_box(300 + 20 * i))] for i in range(12)] + [[(1, person_box(520, h=60))]] * 30
    box_only = _feed(CameraWatch("C1", [POT], cfg), frames, pose="off")[-1]
    crouched = Posture(80.0, 40.0, (), (520.0, 235.0), False)
    both = _feed(CameraWatch("C1", [POT], cfg), frames, pose=crouched)[-1]
    assert box_only.strengths["crouch"] == both.strengths["crouch"] == 1.0
    assert box_only.strengths["crouch_pose"] == 0.0 and both.strengths["crouch_pose"] == 1.0
    assert both.score == pytest.approx(box_only.score + cfg.weights.crouch_pose)
    assert both.signals["crouch_pose_frames"] >= cfg.signals.pose_frames


def test_crouch_seen_in_keypoints_when_the_frame_top_cuts_the_head(cfg):
    # A person at the top edge: the box is as tall crouched as standing (the head is cut off), the knees say.
    def cut(x: float) -> tuple:
        return (x - 15, 0.0, x + 15, 60.0)

    spot = make_zone(
        {"id": "T", "kind": "flower_pot", "polygon": [[330, 40], [360, 40], [360, 62], [330, 62]]}, "t"
    )
    frames = [[(1, cut(x))] for x in range(200, 320, 12)] + [[(1, cut(320))]] * 30
    knees = Posture(70.0, 30.0, (), (320.0, 40.0), False)
    res = _feed(CameraWatch("C1", [spot], cfg), frames, pose=knees)
    assert res[-1].strengths["crouch"] == 1.0 and res[-1].strengths["crouch_pose"] == 1.0


def test_bending_to_a_spot_at_hand_height_counts_without_a_lower_box(cfg):
    frames = [[(1, person_box(300 + 20 * i))] for i in range(12)] + [[(1, person_box(520))]] * 30
    bent = Posture(170.0, 45.0, (), (520.0, 210.0), False)
    upright = Posture(172.0, 8.0, (), (520.0, 210.0), False)
    assert _feed(CameraWatch("C1", [POT], cfg), frames, pose=bent)[-1].strengths["crouch"] == 1.0
    assert _feed(CameraWatch("C1", [POT], cfg), frames, pose=upright)[-1].strengths["crouch"] == 0.0
