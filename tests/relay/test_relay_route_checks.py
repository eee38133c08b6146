"""The passes over a finished route, on hand-made candidates: `fill_gaps` inserts a sighting between two hops
only as the beam would take it, the beam's revisit cost included (a look-alike on a camera the route holds
elsewhere is not "on the way"); `cut_explained_tails` ends the route where a hop beyond the anchors is better
explained by someone off the route (a look-alike coming along after the person left)."""

from __future__ import annotations

from dataclasses import dataclass, field

from relaytrack.config import RelayConfig
from relaytrack.i18n import ko
from relaytrack.records import Sighting
from relaytrack.relay.candidate import Candidate, hop_link
from relaytrack.relay.route import Hop
from relaytrack.relay.search import cut_explained_tails, fill_gaps


def _sighting(sid: int, cam: str, t0: float, t1: float, kind: str = "person") -> Sighting:
    return Sighting(
        id=sid, camera=cam, source_id=None, track_id=sid, kind=kind, class_name=kind, start=t0, end=t1,
        first_frame=int(t0 * 5), last_frame=int(t1 * 5), wall_start=t0, wall_end=t1, box=(0.0, 0.0, 10.0, 30.0),
    )  # fmt: skip


def _hop(s: Sighting, direction: str = "forward") -> Hop:
    return Hop(s, 0.9, direction, None, [], [], False, s.start, s.end)


@dataclass
class _Finder:
    """Answers `candidates(cur, direction, ...)` from a table: {sighting id: [(candidate, conf, logit)]} going
    forward, {(sighting id, "backward"): [...]} going backward."""

    p: RelayConfig
    table: dict = field(default_factory=dict)
    origin: Sighting | None = None

    def candidates(self, cur: Sighting, direction: str, exclude: set[int]) -> list[Candidate]:
        key = cur.id if direction == "forward" else (cur.id, direction)
        return [
            Candidate(s, logit, hop_link(cur.camera, s.camera, "walk", "link"), ["r"], s.start, s.end, conf)
            for s, conf, logit in self.table.get(key, [])
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


# The route D(4) <- ORIGIN(1) -> B(2) -> C(3); X (9) on B is someone off the route.
ORIGIN, B, C, D = (
    _sighting(1, "A", 0, 5),
    _sighting(2, "B", 10, 15),
    _sighting(3, "C", 20, 25),
    _sighting(4, "D", -9, -4),
)
X, Y = _sighting(9, "B", 12, 18), _sighting(8, "A", -3, 2)


def _ends(table: dict, **kw) -> tuple[list[int], dict[str, str]]:
    finder = _Finder(RelayConfig(**kw), table, ORIGIN)
    hops = [_hop(D, "backward"), _hop(ORIGIN, "origin"), _hop(B), _hop(C)]
    kept, why = cut_explained_tails(finder, hops, {"forward": [2, 3], "backward": [4]})
    return [h.sighting.id for h in kept], why


def test_a_look_alike_better_explained_by_their_own_earlier_sighting_ends_the_route() -> None:
    # C's own best way back is X (0.70), not the route's B (0.16): C is whoever X was.
    table = {(3, "backward"): [(X, 0.7, 1.0), (B, 0.16, -0.5)], (2, "backward"): [(ORIGIN, 0.8, 1.5)]}
    ids, why = _ends(table)
    assert ids == [4, 1, 2] and "#3 on C is better explained by #9 on B" in why["forward"]
    assert "B의 #9에서 이어진 다른 사람으로 더 잘 설명됨" in ko(why["forward"])  # the console's Korean
    # The same hop whose way back leads to the route stays; and the check can be turned off.
    assert _ends({(3, "backward"): [(B, 0.6, 1.0), (X, 0.3, 0.0)]})[0] == [4, 1, 2, 3]
    assert _ends(table, explained_min=1.01)[0] == [4, 1, 2, 3]
    # A rival that is not clearly better (margin 0.25) does not cut.
    assert _ends({(3, "backward"): [(X, 0.55, 1.0), (B, 0.4, 0.5)]})[0] == [4, 1, 2, 3]


def test_everything_beyond_the_cut_goes_with_it_and_the_backward_end_is_checked_too() -> None:
    # B is better explained by X: C, reached through B, goes too.
    ids, why = _ends({(2, "backward"): [(X, 0.9, 2.0)], (3, "backward"): [(B, 0.9, 2.0)]})
    assert ids == [4, 1] and set(why) == {"forward"}
    # Backward: D's own way forward is Y (someone else on A), not the origin.
    ids, why = _ends({4: [(Y, 0.8, 1.5), (ORIGIN, 0.1, -1.0)]})
    assert ids == [1, 2, 3] and "#4 on D is better explained by #8 on A" in why["backward"]


def test_a_change_of_kind_is_not_checked() -> None:
    car = _sighting(3, "C", 20, 25, kind="vehicle")
    finder = _Finder(RelayConfig(), {(3, "backward"): [(X, 0.9, 2.0)]}, ORIGIN)
    kept, why = cut_explained_tails(finder, [_hop(ORIGIN, "origin"), _hop(B), _hop(car)], {"forward": [2, 3]})
    assert [h.sighting.id for h in kept] == [1, 2, 3] and why == {}


def test_the_ends_are_walked_in_the_beams_order_not_in_time_order() -> None:
    # Overlapping views: the backward chain's first hop E begins after the origin does (a look-alike walking
    # beside the person on the next camera); D was reached through E. E's own way forward is Y, not the origin:
    # E and D go, though D lies first in time and looks fine on its own.
    e = _sighting(5, "E", 1, 12)
    finder = _Finder(RelayConfig(), {5: [(Y, 0.9, 2.0), (ORIGIN, 0.05, -2.0)], 4: [(e, 0.9, 2.0)]}, ORIGIN)
    hops = [_hop(D, "backward"), _hop(ORIGIN, "origin"), _hop(e, "backward"), _hop(B)]
    kept, why = cut_explained_tails(finder, hops, {"forward": [2], "backward": [5, 4]})
    assert [h.sighting.id for h in kept] == [1, 2] and "#5 on E" in why["backward"]
