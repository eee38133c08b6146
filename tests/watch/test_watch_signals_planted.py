"""Posture evidence that needs the feet to stay put, a lean-and-reach to a spot at hand height, and the replay
of recorded model outputs, on synthetic sequences (no models)."""

from __future__ import annotations

import numpy as np
import pytest

from relaytrack.watch.config import load_watch_config
from relaytrack.watch.pose import Posture
from relaytrack.watch.replay import FrameRecord, Recording, replay
from relaytrack.watch.signals import CameraWatch
from relaytrack.watch.zones import make_zone

DAY = 1_795_000_000.0  # 2026-11-18 ~17:00 Seoul: not night
FPS = 5.0
POT = make_zone(
    {"id": "Z5", "kind": "flower_pot", "polygon": [[500, 230], [540, 230], [540, 262], [500, 262]]}, "t"
)
METER = make_zone(
    {"id": "Z7", "kind": "gas_meter", "polygon": [[330, 170], [360, 170], [360, 200], [330, 200]]}, "t"
)


def box(x: float, foot: float, h: float) -> tuple[float, float, float, float]:
    return (x - 0.2 * h, foot - h, x + 0.2 * h, foot)


def _lerp(seg: dict, a: str, b: str, f: float) -> float:
    v0 = seg.get(a, 0.0)
    return v0 + (seg.get(b, v0) - v0) * f


def frames(plan: list[dict]):
    """plan segments {"s", "x0", "x1", "foot0", "foot1", "h0", "h1", "pose"}: linear in each segment."""
    t, k = 0.0, 0
    for seg in plan:
        n = int(seg["s"] * FPS)
        for i in range(n):
            f = i / max(n - 1, 1)
            b = box(_lerp(seg, "x0", "x1", f), _lerp(seg, "foot0", "foot1", f), _lerp(seg, "h0", "h1", f))
            yield k, t, b, seg.get("pose")
            t += 1.0 / FPS
            k += 1


def run(watch: CameraWatch, plan: list[dict]):
    out = []
    for k, t, b, pose in frames(plan):
        out += watch.step(k, t, DAY + t, [(1, b)], None, (lambda _t, _b, p=pose: p) if pose else None)
    return out


@pytest.fixture
def cfg():
    return load_watch_config()


WALK_IN = {"s": 3, "x0": 300, "x1": 520, "foot0": 260, "h0": 100}


def test_box_shrinking_with_planted_feet_is_a_crouch(cfg):
    res = run(
        CameraWatch("C1", [POT], cfg), [WALK_IN, {"s": 6, "x0": 520, "foot0": 260, "h0": 100, "h1": 60}]
    )
    assert res[-1].strengths["crouch"] == 1.0


def test_box_shrinking_while_the_feet_drift_away_is_perspective_not_a_crouch(cfg):
    # Slowly (0.08 heights/s, under the stop speed) moving up the image: the box shrinks as it would for a
    # person walking away from the camera; the bottom leaves the place where the stop began.
    drift = {"s": 6, "x0": 520, "foot0": 260, "foot1": 215, "h0": 100, "h1": 60}
    res = run(CameraWatch("C1", [POT], cfg), [WALK_IN, drift])
    assert res, "still a stop at the zone"
    assert res[-1].strengths["crouch"] == 0.0
    # With the check off (planted_h large) the same sequence counts as crouched: the check is what stops it.
    loose = load_watch_config(None, {"signals.planted_h": 2.0})
    assert run(CameraWatch("C1", [POT], loose), [WALK_IN, drift])[-1].strengths["crouch"] == 1.0


def lean(torso: float, wrist: tuple[float, float]) -> Posture:
    return Posture(170.0, torso, (wrist,), (345.0, 215.0), False)


METER_IN = {"s": 3, "x0": 120, "x1": 345, "foot0": 270, "h0": 100}


@pytest.mark.parametrize(
    ("torso", "wrist", "reach"),
    [
        (28.0, (345.0, 185.0), 1.0),  # leaning towards the meter, hand on it
        (5.0, (345.0, 185.0), 0.0),  # upright: a hand near the spot while standing is not a reach
        (28.0, (345.0, 240.0), 0.0),  # leaning, hand away from the meter
    ],
)
def test_a_lean_with_the_hand_at_the_spot_is_a_reach_even_if_the_box_does_not_shrink(
    cfg, torso, wrist, reach
):
    # Bending to a spot at hand height can make the box taller, not shorter.
    plan = [METER_IN, {"s": 5, "x0": 345, "foot0": 270, "h0": 104, "pose": lean(torso, wrist)}]
    res = run(CameraWatch("C1", [METER], cfg), plan)
    assert res[-1].strengths["reach"] == reach
    assert res[-1].strengths["crouch"] == 0.0  # the box did not get lower


def test_replay_of_a_recording_raises_the_same_alert_as_the_live_logic(cfg):
    plan = [
        WALK_IN,
        {"s": 6, "x0": 520, "foot0": 260, "h0": 100, "h1": 60,
         "pose": Posture(80.0, 40.0, ((520.0, 240.0),), (520.0, 235.0), False)},
        # stands up and photographs the spot (a phone held up after the hand): what makes it a drop
        {"s": 4, "x0": 520, "foot0": 260, "h0": 100,
         "pose": Posture(175.0, 3.0, ((515.0, 185.0),), (520.0, 210.0), True)},
    ]  # fmt: skip
    recs = [
        FrameRecord(k, t, DAY + t, {1: b}, np.zeros((0, 4), np.float32), {1: pose} if pose else {}, {1: None})
        for k, t, b, pose in frames(plan)
    ]
    alerts = replay(Recording("C1", "synthetic", [POT], recs, 0.2), cfg)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.zone == "Z5" and a.score >= cfg.alert.threshold
    live = [x for x in run(CameraWatch("C1", [POT], cfg), plan) if x.score >= cfg.alert.threshold]
    # Decided on departure: the person never leaves in this recording, so the end of it decides, after the
    # score crossed the threshold and no later than the last frame.
    assert live[0].stop.key.get("crouch", (0, live[0].stop.start))[1] <= a.decided <= recs[-1].t + 1e-6
    assert a.start == pytest.approx(live[0].stop.start)
