"""A route scored by identity: the origin is given, not found; a look-alike on the right camera at the right
time is a wrong hop; two hops on one visit find it once."""

from __future__ import annotations

import pytest

from relaytrack.records import Sighting
from relaytrack.relay.evaluate import route_scores
from relaytrack.relay.route import Hop, Route

SUSPECT, DECOY = 1, 3
# The suspect's true visits (truth.json's suspect["route"] shape): C01 is where the operator confirmed them.
TRUTH = [
    {"camera": "C01", "start": 0.0, "end": 10.0},
    {"camera": "C02", "start": 20.0, "end": 30.0},
    {"camera": "C03", "start": 40.0, "end": 50.0},
    {"camera": "C04", "start": 60.0, "end": 70.0},
]


def _s(sid: int, cam: str, t0: float, t1: float) -> Sighting:
    return Sighting(
        id=sid, camera=cam, source_id=0, track_id=sid, kind="person", class_name="person", start=t0, end=t1,
        first_frame=int(t0 * 10) + 1, last_frame=int(t1 * 10) + 1, wall_start=t0, wall_end=t1,
        box=(0.0, 0.0, 10.0, 30.0),
    )  # fmt: skip


def _route(*sightings: Sighting) -> Route:
    hops = [
        Hop(s, 1.0 if k == 0 else 0.8, "origin" if k == 0 else "forward") for k, s in enumerate(sightings)
    ]
    return Route(origin=sightings[0].id, hops=hops)


def test_a_perfect_route_does_not_count_its_origin():
    route = _route(_s(10, "C01", 1, 9), _s(11, "C02", 21, 29), _s(12, "C03", 41, 49), _s(13, "C04", 61, 69))
    ids = {10: SUSPECT, 11: SUSPECT, 12: SUSPECT, 13: SUSPECT}
    r = route_scores(route, TRUTH, ids, SUSPECT)
    assert (r.hops, r.correct, r.visits, r.covered) == (3, 3, 3, 3)
    assert r.precision == r.recall == r.f1 == 1.0 and r.origin_is_suspect
    # The origin alone finds nothing: no hop, three visits still to find.
    alone = route_scores(_route(_s(10, "C01", 1, 9)), TRUTH, ids, SUSPECT)
    assert (alone.hops, alone.visits, alone.precision, alone.recall, alone.f1) == (0, 3, 0.0, 0.0, 0.0)


def test_a_wrong_extra_hop_lowers_precision_not_recall():
    # Sighting 20 is a look-alike on C02 at the suspect's time: camera and time are right, the person is not.
    route = _route(
        _s(10, "C01", 1, 9), _s(20, "C02", 22, 28), _s(11, "C02", 21, 29), _s(12, "C03", 41, 49),
        _s(13, "C04", 61, 69),
    )  # fmt: skip
    ids = {10: SUSPECT, 20: DECOY, 11: SUSPECT, 12: SUSPECT, 13: SUSPECT}
    r = route_scores(route, TRUTH, ids, SUSPECT)
    assert (r.hops, r.correct) == (4, 3) and r.precision == pytest.approx(0.75)
    assert r.recall == 1.0 and r.f1 == pytest.approx(2 * 0.75 / 1.75)


def test_following_the_decoy_finds_nothing():
    route = _route(_s(10, "C01", 1, 9), _s(20, "C02", 22, 28), _s(21, "C03", 42, 48))
    r = route_scores(route, TRUTH, {10: SUSPECT, 20: DECOY, 21: None}, SUSPECT)
    assert (r.precision, r.recall, r.f1) == (0.0, 0.0, 0.0)


def test_a_duplicated_camera_is_counted_once_for_recall():
    # Two hops (a tracklet broken in the same view) on the suspect's C02 visit, nothing on C03 or C04.
    route = _route(_s(10, "C01", 1, 9), _s(11, "C02", 20, 24), _s(14, "C02", 25, 30))
    r = route_scores(route, TRUTH, {10: SUSPECT, 11: SUSPECT, 14: SUSPECT}, SUSPECT)
    assert (r.hops, r.correct, r.covered, r.visits, r.duplicates) == (2, 2, 1, 3, 1)
    assert r.precision == 1.0 and r.recall == pytest.approx(1 / 3)
    # A hop back on the origin's own visit is the suspect too, but finds nothing new.
    again = route_scores(_route(_s(10, "C01", 1, 5), _s(15, "C01", 6, 9)), TRUTH, {10: 1, 15: 1}, SUSPECT)
    assert (again.correct, again.covered, again.duplicates, again.recall) == (1, 0, 1, 0.0)


def test_a_wrong_origin_leaves_every_visit_to_find_and_time_tolerance_applies():
    route = _route(_s(20, "C01", 1, 9), _s(11, "C02", 31, 35))  # starts 1 s after the C02 visit ends
    r = route_scores(route, TRUTH, {20: DECOY, 11: SUSPECT}, SUSPECT)
    assert not r.origin_is_suspect and r.visits == 4 and r.covered == 1 and r.recall == 0.25
    late = route_scores(route, TRUTH, {20: DECOY, 11: SUSPECT}, SUSPECT, tolerance_s=0.5)
    assert late.correct == 1 and late.covered == 0  # the suspect, but on no true visit at that tolerance
