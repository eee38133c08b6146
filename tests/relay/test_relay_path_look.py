"""The path's look against the anchors (RelayConfig.path_look): a step's confidence is relative to that step's
rivals, so a look-alike's own consistent walk (every hop like the previous one) scores per step as well as the
person's; the anchors' likeness summed over the hops tells the two walks apart. The beam search runs here on a
finder with fixed candidates, so each figure below is the term's own doing."""

from __future__ import annotations

from relaytrack.config import RelayConfig
from relaytrack.records import Sighting
from relaytrack.relay.candidates import Candidate
from relaytrack.relay.search import beam_search


def _s(sid: int, cam: str, t: float) -> Sighting:
    return Sighting(
        id=sid, camera=cam, source_id=None, track_id=sid, kind="person", class_name="person", start=t,
        end=t + 5.0, first_frame=1, last_frame=50, wall_start=t, wall_end=t + 5.0, box=(0.0, 0.0, 10.0, 30.0),
    )  # fmt: skip


class FixedFinder:
    """Candidates per sighting as given, with the anchors' likeness (z) of each sighting."""

    def __init__(self, p: RelayConfig, origin: Sighting, steps: dict, looks: dict[int, float]) -> None:
        self.p, self.origin, self.steps, self.confirmed = p, origin, steps, set()
        self.look_cache: dict[int, float | None] = dict(looks)  # what relay.search.anchor_look would compute

    def candidates(self, cur: Sighting, direction: str, used: set[int]) -> list[Candidate]:
        return [c for c in self.steps.get(cur.id, []) if c.s.id not in used]

    def true_span(self, s: Sighting) -> tuple[float, float]:
        return s.wall_start, s.wall_end


def _cand(s: Sighting, conf: float) -> Candidate:
    return Candidate(s, 0.0, {"source": "file", "via": []}, [], s.wall_start, s.wall_end, conf)


def _route(path_look: float, look_alike_z: float = 1.0) -> list[int]:
    origin = _s(1, "A", 0.0)
    # At B the look-alike (2) is a little more likely than the person (3) from this step alone; each then
    # walks on to C alone (4 after 2, 5 after 3), one candidate each, equally sure.
    la_b, me_b, la_c, me_c = _s(2, "B", 15.0), _s(3, "B", 16.0), _s(4, "C", 31.0), _s(5, "C", 32.0)
    steps = {
        1: [_cand(la_b, 0.5), _cand(me_b, 0.4)],
        2: [_cand(la_c, 0.9)],
        3: [_cand(me_c, 0.9)],
    }
    # The person's sightings look like the origin (z 4-5 against the store's background), the look-alike's
    # less (z 1-2: alike, not the same).
    looks = {2: look_alike_z + 1.0, 3: 4.0, 4: look_alike_z, 5: 5.0}
    # The stub holds no store: no tracklet boxes to tell passages by (relay.continuity), so that is off.
    finder = FixedFinder(RelayConfig(path_look=path_look, passages=False), origin, steps, looks)
    path, _ = beam_search(finder, origin, "forward", 5)
    return [c.s.id for c, _ in path]


def test_the_anchors_look_over_the_path_picks_the_person_over_a_consistent_look_alike() -> None:
    assert _route(0.3) == [3, 5]
    # Without the term the step's 0.5 against 0.4 decides, and the look-alike's walk is the route.
    assert _route(0.0) == [2, 4]


def test_a_look_alike_as_like_the_origin_as_the_person_keeps_the_step_choice() -> None:
    assert _route(0.3, look_alike_z=5.0) == [2, 4]


def test_anchor_look_ranks_the_persons_sightings_above_a_strangers(tmp_path) -> None:
    import numpy as np
    from relay_factory import DIM, unit
    from test_relay_robust import World

    from relaytrack.relay.candidates import CandidateFinder
    from relaytrack.relay.search import anchor_look
    from relaytrack.store.sightings import get_sighting

    w = World(tmp_path / "look.db")
    try:
        me, other = unit(w.rng.normal(size=DIM)), unit(w.rng.normal(size=DIM))
        a = w.add("A", 0.0, w.noisy(me))
        mine, stranger = w.add("B", 16.0, w.noisy(me)), w.add("B", 17.0, w.noisy(other))
        conn = w.store.conn
        finder = CandidateFinder(conn, get_sighting(conn, a), RelayConfig(), set(), set())
        z_me, z_other = (anchor_look(finder, get_sighting(conn, i)) for i in (mine, stranger))
        assert z_me is not None and z_other is not None and z_me > RelayConfig().app_z0 > z_other
        assert finder.look_cache[mine] == z_me  # computed once per sighting
        assert np.isfinite(z_me)
    finally:
        w.store.close()
