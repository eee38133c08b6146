"""The relay re-processing only where the route stops (pipeline.ondemand_relay): the windows asked are the
ones linked to the route's ends, what re-processing adds is relayed to, and nothing more is asked once a
round adds nobody."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from relay_factory import DIM, T0, noisy, unit
from test_relay_boarding import Street

from relaytrack.pipeline.ondemand_relay import end_windows, relay_on_demand
from relaytrack.relay import RelayConfig, relay


class ScriptedReprocessor:
    """Stands in for `Reprocessor(around="missed")`: `find(camera, lo, hi)` plays the full-rate pass of a
    window and returns the sightings it adds."""

    around = "missed"

    def __init__(self, find) -> None:
        self.find, self.queue, self.windows, self.asked = find, [], [], []

    def refine(self, sighting) -> int:
        self.refined = sighting.id
        return sighting.id

    def submit(self, camera: str, lo: float, hi: float, priority: int = 0) -> None:
        self.queue.append((priority, camera, lo, hi))

    def run(self) -> list:
        done = []
        for _p, cam, lo, hi in sorted(self.queue):
            self.asked.append((cam, lo, hi))
            w = SimpleNamespace(
                camera=cam, wall_lo=lo, wall_hi=hi, frames=10, sightings=len(self.find(cam, lo, hi))
            )
            self.windows.append(w)
            done.append(w)
        self.queue.clear()
        return done


@pytest.fixture
def street(store_db: str, tmp_path: Path) -> Street:
    s = Street(store_db, tmp_path)
    yield s
    s.store.close()


def test_the_visit_the_index_missed_is_added_at_the_end_and_relayed_to(street: Street) -> None:
    me = unit(street.rng.normal(size=DIM))
    origin = street.person("A", 0, noisy(street.rng, me))  # walks right, towards B (100 m)
    added: list[int] = []

    def find(cam, lo, hi):
        # The suspect crossed B between two analysed frames: only the full-rate pass sees them.
        t = 8 + 70  # left A at 8 s, ~70 s at walking pace
        if cam == "B" and lo <= T0 + t <= hi and not added:
            added.append(street.person("B", t, noisy(street.rng, me)))
            return added
        return []

    assert relay(street.store, origin, hops=4).sighting_ids == [origin]
    rep = ScriptedReprocessor(find)
    done = relay_on_demand(street.store, origin, 4, rep)
    assert added and added[0] in done.route.sighting_ids
    assert done.rounds[0].added == 1
    # Asked: the cameras linked to the ends only (the origin's in both directions; then B's), each window
    # where the relay reads candidates from there.
    wins = end_windows(street.store, relay(street.store, origin, 4), RelayConfig())
    assert {c for c, *_ in wins} <= {"A", "B", "C", "D"} and "B" in {c for c, *_ in wins}
    assert all(hi > lo for _c, lo, hi, _m in wins)
    # The second round asked around the new end (B) and added nobody: the relay stops there.
    assert len(done.rounds) == 2 and done.rounds[1].added == 0
    assert done.windows == len(rep.asked)


def test_nothing_added_means_one_relay_and_one_round(street: Street, monkeypatch) -> None:
    from relaytrack.pipeline import ondemand_relay

    me = unit(street.rng.normal(size=DIM))
    origin = street.person("A", 0, noisy(street.rng, me))
    calls = []
    real = ondemand_relay.relay
    monkeypatch.setattr(ondemand_relay, "relay", lambda *a, **k: calls.append(1) or real(*a, **k))
    rep = ScriptedReprocessor(lambda *a: [])
    done = relay_on_demand(street.store, origin, 4, rep, rounds=3)
    assert len(calls) == 1 and len(done.rounds) == 1 and done.rounds[0].windows == len(rep.asked) > 0
    assert done.route.sighting_ids == [origin] and rep.refined == origin
    rep.around = "origin"  # the origin only: no window asked
    assert relay_on_demand(street.store, origin, 4, rep).rounds == [] and len(rep.asked) == done.windows


def test_the_operators_feedback_follows_the_origin_into_its_refined_tracklet(street: Street) -> None:
    from relaytrack.relay import record_feedback

    me = unit(street.rng.normal(size=DIM))
    origin = street.person("A", 0, noisy(street.rng, me))
    at_b = street.person("B", 78, noisy(street.rng, me))
    assert at_b in relay(street.store, origin, hops=4).sighting_ids
    with street.store.tx() as conn:
        record_feedback(conn, "case-1", origin, [at_b], "reject", "kim")
    refined = street.person("A", 0, noisy(street.rng, me))  # the origin's span analysed again at full rate
    rep = ScriptedReprocessor(lambda *a: [])
    rep.refine = lambda s: refined
    route = relay_on_demand(street.store, origin, 4, rep, case="case-1").route
    assert route.origin == refined and at_b not in route.sighting_ids
