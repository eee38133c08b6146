"""Crouch evidence of people who settle at a spot a step after their stop began, and of people the detector
finds only once they are already crouched (no standing height yet), on synthetic sequences (no models)."""

from __future__ import annotations

import pytest

from relaytrack.watch.config import load_watch_config
from relaytrack.watch.pose import Posture
from relaytrack.watch.signals import CameraWatch
from relaytrack.watch.zones import make_zone

DAY = 1_795_000_000.0  # 2026-11-18 ~17:00 Seoul: not night
FPS = 5.0
POT = make_zone(
    {"id": "Z5", "kind": "flower_pot", "polygon": [[500, 230], [540, 230], [540, 262], [500, 262]]}, "t"
)
CROUCHED = Posture(40.0, 10.0, ((520.0, 250.0),), (520.0, 250.0), False)
UPRIGHT = Posture(175.0, 3.0, ((510.0, 230.0),), (520.0, 235.0), False)


def box(x: float, foot: float, h: float) -> tuple[float, float, float, float]:
    return (x - 0.2 * h, foot - h, x + 0.2 * h, foot)


def run(watch: CameraWatch, plan: list[dict], t0: float = 0.0):
    """plan segments {"s", "x0", "x1", "foot0", "foot1", "h0", "h1", "pose"} (linear in each; "empty": no
    one in view). Returns every assessment with the time it was made."""
    out, t, k = [], t0, 0
    for seg in plan:
        n = int(seg["s"] * FPS)
        for i in range(n):
            f = i / max(n - 1, 1)

            def lerp(a: str, b: str, f: float = f, seg: dict = seg) -> float:
                v0 = seg.get(a, 0.0)
                return v0 + (seg.get(b, v0) - v0) * f

            tracks = (
                []
                if seg.get("empty")
                else [(1, box(lerp("x0", "x1"), lerp("foot0", "foot1"), lerp("h0", "h1")))]
            )
            pose = seg.get("pose")
            fn = (lambda _t, _b, p=pose: p) if pose else None
            out += [(t, a) for a in watch.step(k, t, DAY + t, tracks, None, fn)]
            t += 1.0 / FPS
            k += 1
    return out


@pytest.fixture
def cfg():
    return load_watch_config()


WALK_IN = {"s": 3, "x0": 300, "x1": 520, "foot0": 275, "h0": 100}
# Slowly (0.1 heights/s, under the stop speed) stepping closer at full height after the stop began, then
# crouching there with the feet planted.
STEP_IN = {"s": 4, "x0": 520, "foot0": 275, "foot1": 300, "h0": 100}
CROUCH = {"s": 6, "x0": 520, "foot0": 300, "h0": 100, "h1": 60, "pose": CROUCHED}


def test_a_crouch_after_stepping_into_place_counts(cfg):
    res = run(CameraWatch("C1", [POT], cfg), [WALK_IN, STEP_IN, CROUCH])
    assert res[-1][1].strengths["crouch"] == 1.0
    # Where the feet stood when the stop began is 25 px (a quarter height) away: without following the
    # upright person, the crouch was taken for a box shrinking as its feet drift (perspective).
    fixed = load_watch_config(None, {"signals.replant_ratio": 1.5})
    assert run(CameraWatch("C1", [POT], fixed), [WALK_IN, STEP_IN, CROUCH])[-1][1].strengths["crouch"] == 0.0


def test_a_box_shrinking_while_drifting_away_is_still_perspective(cfg):
    # The feet follow the person only while upright at full height: a slow drift up the image while the box
    # shrinks (walking away) leaves the planted place, as before.
    drift = {"s": 6, "x0": 520, "foot0": 275, "foot1": 230, "h0": 100, "h1": 60}
    res = run(CameraWatch("C1", [POT], cfg), [WALK_IN, drift])
    assert res and res[-1][1].strengths["crouch"] == 0.0


# Found only once crouched at the spot (the dark): the place was seen empty before, so the track arrived.
EMPTY = {"s": 6, "empty": True}
FOUND_LOW = {"s": 5, "x0": 520, "foot0": 280, "h0": 62, "pose": CROUCHED}
STANDS_UP = {"s": 4, "x0": 520, "foot0": 280, "h0": 80, "pose": UPRIGHT}


def test_a_crouch_seen_before_the_standing_height_counts_once_the_person_stands_up(cfg):
    res = run(CameraWatch("C1", [POT], cfg), [EMPTY, FOUND_LOW, STANDS_UP])
    crouched_until = 6 + 5 - 1e-6
    during = [a for t, a in res if t < crouched_until]
    assert during and all(a.strengths["crouch"] == 0.0 for a in during), "no standing height yet: unsure"
    last = res[-1][1]
    assert last.strengths["crouch"] == 1.0 and last.strengths["crouch_pose"] == 1.0
    assert last.strengths["reach"] == 1.0  # the wrist was at the pot while crouched
    # The hand's moment is when the crouch was seen, not when it was confirmed (a photo after it counts).
    assert last.stop.key["crouch"][1] < crouched_until


def test_low_keypoints_never_confirmed_by_a_taller_box_stay_unsure(cfg):
    # The same person never seen taller: the keypoints alone (small people are noisy) do not make a crouch.
    res = run(CameraWatch("C1", [POT], cfg), [EMPTY, {**FOUND_LOW, "s": 9}])
    assert res and res[-1][1].strengths["crouch"] == 0.0


# The hand at the pot, then upright at the spot (the photo of it out of the camera's sight), then on.
HAND = {"s": 4, "x0": 520, "foot0": 275, "h0": 100, "h1": 62, "pose": CROUCHED}
UP = {"s": 1, "x0": 520, "foot0": 275, "h0": 100, "pose": UPRIGHT}
WALK_ON = {"s": 3, "x0": 520, "x1": 640, "foot0": 275, "h0": 100}


def _final(res):
    return res[-1][1]


@pytest.mark.parametrize(("stay_s", "fires"), [(7, True), (1, False)])
def test_staying_at_the_spot_after_the_hand_is_its_own_signal(cfg, stay_s, fires):
    plan = [WALK_IN, HAND, {**UP, "s": stay_s}, WALK_ON]
    last = _final(run(CameraWatch("C1", [POT], cfg), plan))
    assert last.strengths["crouch"] == 1.0 and last.strengths["photo"] == 0.0
    assert last.strengths["stay"] == (1.0 if fires else 0.0)
    assert stay_s <= last.signals["after_hand_s"] <= stay_s + 1.0  # and the first steps away
    said = [r for r in last.reasons if r.startswith("stayed at the spot")]
    assert bool(said) == fires


def test_staying_without_a_hand_is_no_stay_after_it(cfg):
    # Standing at the spot as long, hands never there (a smoker, someone waiting): no hand, no stay after it.
    plan = [WALK_IN, {**UP, "s": 11}, WALK_ON]
    last = _final(run(CameraWatch("C1", [POT], cfg), plan))
    assert last.strengths["stay"] == 0.0 and last.signals["after_hand_s"] is None


def test_the_reason_names_the_whole_kind_of_spot(cfg):
    meter = make_zone(
        {"id": "Z7", "kind": "gas_meter", "polygon": [[500, 230], [540, 230], [540, 262], [500, 262]]}, "t"
    )
    last = _final(run(CameraWatch("C1", [meter], cfg), [WALK_IN, HAND, UP, WALK_ON]))
    assert any(r.startswith("hand into the gas meter (") for r in last.reasons), last.reasons


def test_a_stay_handed_over_to_the_track_that_goes_on_keeps_the_hand(cfg):
    from relaytrack.watch.stop import Stop

    lost, goes_on = Stop(POT, 10.0, 14.0, 50, hand_t=13.0), Stop(POT, 12.0, 20.0, 60)
    lost.hand_over(goes_on)
    assert goes_on.hand_t == 13.0 and goes_on.start == 10.0
    later = Stop(POT, 12.0, 20.0, 60, hand_t=15.0)
    lost.hand_over(later)
    assert later.hand_t == 15.0  # the latest moment of the hand, whichever track saw it
