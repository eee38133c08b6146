"""bench pursuit's scoring on hand-made event streams with known answers (no models, no towns)."""

from __future__ import annotations

import pytest

from relaytrack.bench.pursuit import RunResult, TownResult, pool
from relaytrack.bench.pursuit_score import (
    Handoff,
    Prediction,
    Visit,
    handoff_of,
    percentile,
    rank_before,
    route_followed,
    score_run,
    share_in_top,
    visits_from_route,
)

T0 = 1_000_000.0
# The suspect: origin on A (0-10 s), then B at 20 s, C at 50 s.
VISITS = [Visit("B", T0 + 20, T0 + 30), Visit("C", T0 + 50, T0 + 60)]


def preds() -> list[Prediction]:
    return [
        Prediction(T0 + 0, ("B", "D", "E"), anchor=1),
        Prediction(T0 + 18, ("D", "E", "B"), anchor=1),  # the last one before B: B third
        Prediction(T0 + 21, ("C", "B"), anchor=7),  # made after B's arrival: ignored for B
        Prediction(T0 + 45, ("E", "D", "F", "C"), anchor=99),  # C fourth, from someone else
    ]


def hand(cam: str, seen: float, decided: float, *, suspect: bool = True, status: str = "auto") -> Handoff:
    return Handoff(time=T0 + decided - 0.5, camera=cam, sighting=int(seen), seen=T0 + seen, status=status,
                   suspect=suspect, computed=T0 + decided)  # fmt: skip


def test_visits_from_route_drops_short_and_joins_same_camera():
    route = [
        {"camera": "A", "start": 0.0, "end": 10.0},
        {"camera": "B", "start": 12.0, "end": 12.5},  # 0.5 s: dropped
        {"camera": "A", "start": 13.0, "end": 16.0},  # joins A once B is gone
        {"camera": "C", "start": 20.0, "end": 25.0},
    ]
    assert visits_from_route(route, T0) == [Visit("A", T0, T0 + 16), Visit("C", T0 + 20, T0 + 25)]


def test_rank_uses_last_prediction_before_arrival():
    assert rank_before(preds(), VISITS[0]) == 3
    assert rank_before(preds(), VISITS[1]) == 4  # C listed fourth: out of the top 3
    assert rank_before(preds()[:1], Visit("B", T0 + 5, T0 + 9)) == 1
    assert rank_before(preds(), Visit("B", T0 - 1, T0)) is None  # nothing predicted before


def test_share_in_top():
    ranks = [1, 3, None, 2]
    assert share_in_top(ranks, 1) == 0.25
    assert share_in_top(ranks, 3) == 0.75
    assert share_in_top([], 3) is None


def test_latency_first_correct_auto_handoff():
    hs = [
        hand("B", 19.0, 23.5, suspect=False),  # a decoy on B first
        hand("B", 20.5, 24.0, status="offered"),  # offered only
        hand("B", 20.5, 22.0),  # the suspect, auto, decided 2 s after the first visible frame
        hand("B", 21.0, 26.0),
    ]
    h = handoff_of(hs, VISITS[0])
    assert h is not None and h.decided - VISITS[0].start == pytest.approx(2.0)
    assert handoff_of(hs, VISITS[1]) is None
    # An arrival that starts well outside the visit is another pass, not this one.
    assert handoff_of([hand("B", 40.0, 41.0)], VISITS[0]) is None


def test_route_followed_needs_every_visit_and_no_wrong_auto_before_its_end():
    good = [hand("B", 20.5, 22.0), hand("C", 50.2, 51.0)]
    assert route_followed(good, VISITS)
    assert not route_followed(good[:1], VISITS)  # C never handed off
    # A wrong hop between B and C derails the chain, even if C is found afterwards.
    assert not route_followed([*good, hand("D", 35.0, 36.0, suspect=False)], VISITS)
    # A wrong hop after the suspect's last visit is a false alarm, not a lost route.
    late = hand("D", 70.0, 71.0, suspect=False)
    assert route_followed([*good, late], VISITS)
    assert score_run(VISITS, [], [*good, late]).wrong_after_route == 1
    # An offered (not automatic) wrong arrival does not break it: the operator never confirmed it.
    assert route_followed([*good, hand("D", 35.0, 36.0, suspect=False, status="offered")], VISITS)


def test_percentile_linear():
    assert percentile([], 50) is None
    assert percentile([4.0], 95) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)


def test_score_run_and_pool():
    hs = [
        hand("B", 20.5, 22.0),
        hand("C", 49.0, 53.0, status="offered"),
        hand("E", 55.0, 56.0, suspect=False),
    ]
    s = score_run(VISITS, preds(), hs, suspect_ids={1, 7})
    assert s.ranks == [3, 4]
    assert s.on_track == [True, False]  # C's prediction came from sighting 99, not the suspect
    assert s.latencies == [pytest.approx(2.0), None]
    # B: the track began 0.5 s after the suspect became visible, the hand-off 1.5 s after that.
    assert s.splits[0] == pytest.approx((0.5, 1.5)) and s.splits[1] is None
    assert sum(s.splits[0]) == pytest.approx(s.latencies[0])
    assert s.recall == 0.5
    assert s.offered == 1 and s.wrong_auto == 1 and not s.followed

    live = RunResult("pursuit", None, analysed=120, seconds=60.0, score=s, wall_s=61.0)
    base = [RunResult("b", 0.5, 240, 60.0, score_run(VISITS, [], [], set()), 10.0),
            RunResult("b", 1.0, 480, 60.0, score_run(VISITS, [], [hand("B", 20.5, 21.0)], set()), 20.0)]  # fmt: skip
    town = TownResult(1, "t", 8, 1, VISITS, live, base)
    assert town.matched_baseline() is base[1]  # the cheapest with recall >= 0.5
    res = pool([town])
    assert res["next_top1"] == 0.0 and res["next_top3"] == 0.5 and res["next_top3_on_track"] == 1.0
    assert res["handoff_latency_s"] == {"p50": 2.0, "p95": 2.0, "n": 1}
    assert res["handoff_latency_split_s"] == {
        "track_begins": {"p50": 0.5, "p95": 0.5},
        "decided_after_track": {"p50": 1.5, "p95": 1.5},
    }
    assert res["routes_followed"] == 0.0
    assert res["frames_per_s"] == 2.0 and res["baseline_frames_per_s"] == 8.0
    assert res["effort_vs_baseline"] == 0.25 and res["targets"]["effort_vs_baseline"]["met"]
    assert not res["targets"]["next_top3"]["met"]
