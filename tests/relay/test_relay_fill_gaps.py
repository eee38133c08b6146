"""`fill_gaps` on hand-made candidates: a sighting between two hops is inserted only as the beam would take it,
the beam's revisit cost included (a look-alike on a camera the route holds elsewhere is not "on the way")."""

from __future__ import annotations

from dataclasses import dataclass, field

from relaytrack.config import RelayConfig
from relaytrack.records import Sighting
from relaytrack.relay.candidate import Candidate, hop_link
from relaytrack.relay.route import Hop
from relaytrack.relay.search import fill_gaps


def _sighting(sid: int, cam: str, t0: float, t1: float) -> Sighting:
    return Sighting(
        id=sid, camera=cam, source_id=None, track_id=sid, kind="person", class_name="person", start=t0, end=t1,
        first_frame=int(t0 * 5), last_frame=int(t1 * 5), wall_start=t0, wall_end=t1, box=(0.0, 0.0, 10.0, 30.0),
    )  # fmt: skip


def _hop(s: Sighting) -> Hop:
    return Hop(s, 0.9, "forward", None, [], [], False, s.start, s.end)


@dataclass
class _Finder:
    """Answers `candidates(cur, ...)` from a table: {sighting id: [(candidate sighting, conf, logit)]}."""

    p: RelayConfig
    table: dict[int, list[tuple[Sighting, float, float]]] = field(default_factory=dict)

    def candidates(self, cur: Sighting, direction: str, exclude: set[int]) -> list[Candidate]:
        return [
            Candidate(s, logit, hop_link(cur.camera, s.camera, "walk", "link"), ["r"], s.start, s.end, conf)
            for s, conf, logit in self.table.get(cur.id, [])
            if s.id not in exclude
        ]


def _route(between_cam: str, revisit_factor: float) -> list[int]:
    # The route A(1) -> B(2) -> C(3); a candidate Y (4) on `between_cam` fits after B and before C.
    a, b, c = _sighting(1, "A", 0, 5), _sighting(2, "B", 10, 15), _sighting(3, "C", 30, 35)
    y = _sighting(4, between_cam, 18, 24)
    finder = _Finder(RelayConfig(revisit_factor=revisit_factor), {2: [(y, 0.4, 0.5)], 4: [(c, 0.8, 2.0)]})
    return [h.sighting.id for h in fill_gaps(finder, [_hop(a), _hop(b), _hop(c)], set())]


def test_a_sighting_on_a_new_camera_between_two_hops_is_inserted() -> None:
    assert _route("D", 0.5) == [1, 2, 4, 3]


def test_a_camera_the_route_holds_elsewhere_pays_the_revisit_cost() -> None:
    # 0.4 x 0.5 = 0.2 is below stop_conf 0.25: the beam would not take it, so neither does the gap filler.
    assert _route("A", 0.5) == [1, 2, 3]
    # Without the cost (revisit_factor 1) it is inserted: the rule above is what keeps it out.
    assert _route("A", 1.0) == [1, 2, 4, 3]
