"""The relay on a low-rate index, re-processing on demand only what the route needs.

Reading every candidate window at full rate before the relay looks at it (`Reprocessor` as the relay's
`refine`) costs most of what indexing at full rate costs, and replacing the low-rate sightings of people the
relay is deciding between changes their reads mid-decision (measured: it lowered route F1 on the tuning
towns). `relay_on_demand` instead:
1. analyses the origin, the sighting the operator chose, again at full rate and relays from the tracklet that
   replaced it (`Reprocessor.refine`): every hop is judged against the origin's look and reads, and at 1 fps the
   origin can be a 1 s fragment or a track that ran on into someone else (`around="origin"` stops here);
2. relays on the index as it is, then, at each end of the route, asks for the windows of the cameras linked to
   the end hop (`around="missed"`): a window where someone already looks like the origin is left alone; elsewhere
   it is analysed again at full rate and only the people the index missed are added (nothing superseded). The
   relay runs again on the grown index, until its ends stop moving or `rounds` are spent.
On the six tuning towns of `bench reprocess` step 1 carried the whole gain (1 fps route F1 0.700 -> 0.732 for
566 frames); step 2 added people but changed no route, for 1,866 more frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relaytrack.config import RelayConfig
from relaytrack.pipeline.reprocessor import Reprocessor
from relaytrack.relay.candidates import CandidateFinder, mode_of
from relaytrack.relay.engine import relay
from relaytrack.relay.persist import feedback_for
from relaytrack.relay.route import Route
from relaytrack.store import Store
from relaytrack.store.sightings import get_sighting


@dataclass(frozen=True)
class Round:
    """One round of re-processing at the route's ends: windows analysed, people added, frames spent."""

    windows: int
    added: int
    frames: int


@dataclass
class OnDemandRoute:
    """The final route and what re-processing did for it, round by round."""

    route: Route
    rounds: list[Round] = field(default_factory=list)

    @property
    def windows(self) -> int:
        return sum(r.windows for r in self.rounds)


def end_windows(store: Store, route: Route, params: RelayConfig) -> list[tuple[str, float, float, float]]:
    """(camera, wall_lo, wall_hi, expected travel s) of every camera linked to the route's last hop (forward)
    and first hop (backward): where the relay looked for the next visit and found none it kept."""
    if not route.hops:
        return []
    conn = store.conn
    finder = CandidateFinder(conn, get_sighting(conn, route.origin), params, set(), set())
    out = []
    for direction, hop in (("forward", route.hops[-1]), ("backward", route.hops[0])):
        cur = hop.sighting
        for link in finder.links(cur.camera, direction, mode_of(cur.kind)):
            w = finder.link_window(cur, link, direction)
            if w is not None:
                out.append((*w, link.mean_s))
    return out


def relay_on_demand(
    store: Store,
    origin: int,
    hops: int,
    reprocessor: Reprocessor,
    *,
    rounds: int = 2,
    refine_origin: bool = True,
    **relay_kw: Any,
) -> OnDemandRoute:
    """Relay from `origin` on the index as it is (`relay_kw`: the relay's own options, `refine` excepted);
    then, up to `rounds` times, re-process (the `reprocessor`'s way, normally "missed") the windows around the
    route's ends and relay again while that added someone. With `refine_origin` the origin, the sighting the
    operator chose, is first analysed again at full rate (`Reprocessor.refine`) and the route runs from the
    tracklet that replaced it: every hop is judged against the origin's look and reads, which a handful of
    low-rate frames give poorly."""
    if reprocessor.around == "origin":
        rounds = 0  # the origin in full detail, no window
    params = relay_kw["params"] = relay_kw.get("params") or RelayConfig()
    if refine_origin:
        first = origin
        origin = reprocessor.refine(get_sighting(store.conn, origin))
        ref = getattr(reprocessor, "reference", None)
        if origin != first and ref is not None and ref.id == first:
            reprocessor.reference = get_sighting(store.conn, origin)  # "like the origin": its full-rate look
        if origin != first and relay_kw.get("case"):
            # The operator's confirmations and rejections were given on the route from the sighting they chose.
            conf, rej = feedback_for(store.conn, relay_kw["case"], first)
            relay_kw["confirmed"] = set(relay_kw.get("confirmed") or ()) | conf
            relay_kw["rejected"] = (set(relay_kw.get("rejected") or ()) | rej) - relay_kw["confirmed"]
    route = relay(store, origin, hops, **relay_kw)
    out = OnDemandRoute(route)
    for _ in range(rounds):
        wins = end_windows(store, route, params)
        before = len(reprocessor.windows)
        for rank, (cam, lo, hi, _travel) in enumerate(sorted(wins, key=lambda w: w[3])):
            reprocessor.submit(cam, lo, hi, priority=rank)
        done = reprocessor.run()
        added = sum(w.sightings for w in done)
        out.rounds.append(Round(len(reprocessor.windows) - before, added, sum(w.frames for w in done)))
        if not added:
            break
        route = relay(store, origin, hops, **relay_kw)
        out.route = route
    return out
