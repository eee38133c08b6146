"""The pursuit's prediction tails, the prediction's weight in a hand-off, and the budget's 'not yet' rule."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from relaytrack.pursue.handoff import HandoffConfig, Reidentifier
from relaytrack.pursue.predict import Hypothesis, PredictConfig, Predictor
from relaytrack.records import Link, Sighting

T0 = 1_700_000_000.0


def sighting(cam: str, t0: float, t1: float, *, sid: int = 1, exit_="right", upper="red") -> Sighting:
    return Sighting(id=sid, camera=cam, source_id=None, track_id=sid, kind="person", class_name="person",
                    start=t0, end=t1, first_frame=1, last_frame=2, wall_start=T0 + t0, wall_end=T0 + t1,
                    box=(0.0, 0.0, 10.0, 20.0), entry_edge="left", exit_edge=exit_, upper_color=upper,
                    upper_conf=0.9, lower_color="black", lower_conf=0.8, embedding=None)  # fmt: skip


def test_heavy_tail_keeps_a_passed_window_alive():
    link = Link("A", "B", None, None, 10.0, 2.0)
    gauss = Hypothesis("B", ("B",), 1.0, 10.0, 2.0, -100.0, link)
    heavy = replace(gauss, heavy_tail=True)
    assert gauss.cdf(10.0) == heavy.cdf(10.0) == 0.5
    # Three standard deviations late: the Gaussian has given up, the Student-t has not.
    assert 1 - gauss.cdf(16.0) < 0.002 < 0.02 < 1 - heavy.cdf(16.0)
    lo, hi = heavy.window()
    assert lo < gauss.window()[0] and hi > gauss.window()[1]


def test_jitter_widens_every_path():
    links = {"A": [Link("A", "B", "right", "left", 10.0, 1.0, 0.0)]}
    anchor = sighting("A", 0.0, 5.0)
    plain = Predictor(anchor, lambda c: links.get(c, []), PredictConfig(jitter_s=0.0)).hypotheses[0]
    wide = Predictor(anchor, lambda c: links.get(c, []), PredictConfig(jitter_s=2.5)).hypotheses[0]
    assert plain.std_s == 1.5  # min_std_s
    assert math.isclose(wide.std_s, math.hypot(1.5, 2.5))


def test_camera_reached_by_many_paths_has_a_window():
    # Twelve cameras between A and Z, each a path A -> Xk -> Z: Z's mass is spread over twelve paths,
    # none with a tenth of it.
    mids = [f"X{k}" for k in range(12)]
    links = {"A": [Link("A", m, "right", "left", 5.0, 1.0, 0.0) for m in mids]}
    for m in mids:
        links[m] = [Link(m, "Z", "right", "left", 5.0 + 0.1 * int(m[1:]), 1.0, 0.0)]
    fc = Predictor(sighting("A", 0.0, 5.0), lambda c: links.get(c, [])).forecast(T0 + 5.0)
    z = next(f for f in fc if f.camera == "Z")
    assert z.eta_from <= z.eta_to


def _twin_at_b(seed: int):
    """An origin on A and a candidate on B 20 s later with the same embedding, and the A -> B hypotheses."""
    emb = np.random.default_rng(seed).normal(size=8)
    origin = replace(sighting("A", 0.0, 5.0), embedding=emb)
    cand = replace(sighting("B", 25.0, 30.0, sid=2), embedding=emb)
    hyp = Predictor(
        origin, lambda c: [Link("A", "B", "right", "left", 20.0, 3.0, 0.0)] if c == "A" else []
    ).hypotheses
    return origin, cand, hyp


def test_prediction_weighs_in_the_handoff():
    origin, cand, hyp = _twin_at_b(0)
    off = Reidentifier(origin, (0.0, 0.3), HandoffConfig(w_prior=0.0))
    on = Reidentifier(origin, (0.0, 0.3), HandoffConfig(w_prior=1.0, prior_ref=0.2, prior_cap=math.inf))
    base = off.score(origin, cand, hyp, p_camera=0.05)
    likely, unlikely = on.score(origin, cand, hyp, p_camera=0.8), on.score(origin, cand, hyp, p_camera=0.02)
    assert base.logit == off.score(origin, cand, hyp).logit  # weight 0: p ignored
    assert math.isclose(likely.logit - base.logit, math.log(0.8 / 0.2))
    assert math.isclose(unlikely.logit - base.logit, math.log(0.02 / 0.2))
    assert any("predicted next at p 0.02" in r for r in unlikely.reasons)


def test_budget_spends_little_on_cameras_not_reachable_yet():
    from relaytrack.pursue.budget import BudgetConfig
    from relaytrack.pursue.events import EventLog
    from relaytrack.pursue.run import Pursuit, PursuitConfig

    # B is 10 s away, C 60 s away; both equally likely.
    links = {
        "A": [
            Link("A", "B", "right", "left", 10.0, 2.0, 0.0),
            Link("A", "C", "right", "left", 60.0, 5.0, 30.0),
        ]
    }
    origin = sighting("A", 0.0, 5.0)
    reid = Reidentifier(origin, None)

    def fps(budget: BudgetConfig) -> dict[str, float]:
        cfg = PursuitConfig(budget=budget)
        p = Pursuit(origin, ["A", "B", "C"], lambda c: links.get(c, []), reid, {}, EventLog(None), cfg)
        return p.fps

    even = fps(BudgetConfig(total_fps=6.0, floor_fps=0.25))
    assert abs(even["B"] - even["C"]) < 0.5
    soon = fps(BudgetConfig(total_fps=6.0, floor_fps=0.25, soon_s=15.0, later_factor=0.0))
    assert soon["C"] == 0.25 and soon["B"] > 4.0
    assert abs(sum(soon.values()) - 6.0) < 1e-6


def test_default_prediction_term_only_counts_against():
    origin, cand, hyp = _twin_at_b(1)
    reid = Reidentifier(origin, (0.0, 0.3))  # defaults: w_prior 1, prior_cap 0
    neutral = Reidentifier(origin, (0.0, 0.3), HandoffConfig(w_prior=0.0)).score(origin, cand, hyp, 0.5)
    assert reid.score(origin, cand, hyp, 0.9).logit == neutral.logit
    assert reid.score(origin, cand, hyp, 0.02).logit < neutral.logit


def test_near_cameras_come_first():
    # A's exit edge fits both links equally; B is 8 s away, F 90 s: B is the likelier next camera.
    links = {
        "A": [
            Link("A", "B", "right", "left", 8.0, 3.0, 0.0),
            Link("A", "F", "right", "left", 90.0, 20.0, 40.0),
        ]
    }
    fc = Predictor(sighting("A", 0.0, 5.0), lambda c: links.get(c, [])).forecast(T0 + 5.0)
    assert [f.camera for f in fc] == ["B", "F"] and fc[0].p > 0.9
    even = Predictor(
        sighting("A", 0.0, 5.0), lambda c: links.get(c, []), PredictConfig(near_tau_s=0)
    ).forecast(T0 + 5.0)
    assert abs(even[0].p - even[1].p) < 0.01


def test_cameras_already_passed_are_less_likely_next():
    # B between A and C, the anchor's exit edge unknown: without the route so far A and C are even; the
    # suspect came from A, so C (onward) is the likelier next camera, A keeps turn_back's share.
    links = {
        "B": [
            Link("B", "A", "left", "right", 10.0, 2.0, 0.0),
            Link("B", "C", "right", "left", 10.0, 2.0, 0.0),
        ]
    }
    anchor = replace(sighting("B", 0.0, 5.0, exit_="inside"), heading_deg=None)
    even = {f.camera: f.p for f in Predictor(anchor, lambda c: links.get(c, [])).forecast(T0 + 5.0)}
    assert math.isclose(even["A"], even["C"])
    came = Predictor(anchor, lambda c: links.get(c, []), came_from=frozenset({"A", "B"}))
    onward = {f.camera: f.p for f in came.forecast(T0 + 5.0)}
    assert onward["C"] > even["C"] and onward["A"] < even["A"]
    assert math.isclose(onward["A"] / onward["C"], PredictConfig().turn_back)


def test_overlapping_view_window_opens_before_the_anchor_leaves():
    # The anchor is still in view until t=30 (a pass whose end is known ahead, as in a replay): B's view
    # overlaps A's (B sees people up to 20 s before they leave A), C's does not.
    links = {
        "A": [
            Link("A", "B", "top", "top", -8.0, 4.0, -20.0),
            Link("A", "C", "right", "left", 6.0, 2.0, 2.0),
        ]
    }
    anchor = sighting("A", 0.0, 30.0, exit_="inside")
    pred = Predictor(anchor, lambda c: links.get(c, []))
    # B's window opens about 19 s before the anchor leaves (the link's -8 s less its spread, not before -20 s).
    assert not pred.forecast(T0 + 5.0)[0].open_at(T0 + 5.0)
    now = T0 + 12.0
    fc = {f.camera: f for f in pred.forecast(now)}
    assert fc["B"].open_at(now) and fc["B"].eta_from == now
    assert fc["C"].eta_from >= anchor.wall_end + 2.0 - 1e-9  # only after the anchor leaves
    # Not seeing them on B before they leave A is no news: B keeps its share until the anchor has left.
    later = {f.camera: f.p for f in pred.forecast(T0 + 25.0)}
    assert math.isclose(later["B"], fc["B"].p)
