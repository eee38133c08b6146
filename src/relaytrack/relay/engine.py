"""Relay: follow a confirmed sighting from camera to camera, forwards and backwards in time.

`relay()` puts the pieces together: the anchors (the origin and every operator-confirmed sighting, in true
time), a bridge between consecutive anchors, and a beam search outwards from the first and the last
(`relaytrack.relay.search`) over scored candidates (`relaytrack.relay.candidates`, terms in
`relaytrack.relay.terms`). Operator feedback is stored per case and origin (`relaytrack.relay.persist`):
rejected sightings are never proposed again, confirmed ones become anchors the route must pass through, and
they join the appearance reference. The result is a `Route` (`relaytrack.relay.route`).
"""

from __future__ import annotations

import time
from typing import Any

from relaytrack.config import RelayConfig
from relaytrack.errors import InputError, NotFound
from relaytrack.records import Sighting
from relaytrack.relay import boarding
from relaytrack.relay.candidates import CandidateFinder
from relaytrack.relay.clock import true_times
from relaytrack.relay.persist import feedback_for
from relaytrack.relay.route import DIRECTIONS, Hop, Route
from relaytrack.relay.search import beam_search, cut_explained_tails, fill_gaps, to_hop
from relaytrack.store.sightings import get_sighting


def relay(
    store: Any,
    from_sighting: int,
    hops: int = 10,
    *,
    case: str | None = None,
    params: RelayConfig | None = None,
    direction: str = "both",
    confirmed: set[int] | None = None,
    rejected: set[int] | None = None,
    hidden: set[int] | None = None,
    refine: Any = None,
) -> Route:
    """Reconstruct the route through `from_sighting`: up to `hops` hops forwards and `hops` backwards in time.

    `store` is a Store or its connection. Feedback stored for (`case`, from_sighting) is applied: rejected
    sightings are never proposed, confirmed ones are anchors the route passes through (extra `confirmed` /
    `rejected` ids may be passed directly). `hidden` sightings (another case's evidence,
    relaytrack.evidence.access.hidden_sightings) are never candidates and, unlike rejected ones, are not named
    in the route. `refine(camera, wall_lo, wall_hi)`, when given, is called before a candidate camera's window
    is read (on-demand re-processing: relaytrack.pipeline.reprocessor.Reprocessor). Returns a Route whose hops
    are in time order, origin included.
    """
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if hops < 0 or hops > 200:
        raise InputError(f"hops must be between 0 and 200, got {hops}")
    conn = getattr(store, "conn", store)
    t_start = time.perf_counter()
    origin = get_sighting(conn, from_sighting)
    if conn.execute("SELECT 1 FROM cameras WHERE id=?", (origin.camera,)).fetchone() is None:
        raise NotFound(f"sighting {from_sighting} is on camera {origin.camera!r}, which is not registered")
    conf_fb, rej_fb = feedback_for(conn, case, from_sighting)
    confirmed = (confirmed or set()) | conf_fb
    rejected = ((rejected or set()) | rej_fb) - confirmed
    params = params or RelayConfig()
    finder = CandidateFinder(conn, origin, params, rejected | (hidden or set()), confirmed, refine=refine)

    # Anchors in true time: the origin and every confirmed sighting. Bridge between consecutive anchors, then
    # search outwards from the first and the last.
    anchor_rows = true_times(conn, [origin.id, *sorted(confirmed)])
    anchor_rows.sort(key=lambda x: x[2])
    anchors = [get_sighting(conn, a[0]) for a in anchor_rows]
    times = {a[0]: (a[2], a[3]) for a in anchor_rows}

    def anchor_hop(s: Sighting) -> Hop:
        return Hop(
            s,
            1.0,
            "origin" if s.id == origin.id else "confirmed",
            None,
            ["origin"] if s.id == origin.id else ["confirmed by operator"],
            [],
            s.id != origin.id,
            *times[s.id],
        )

    out: list[Hop] = [anchor_hop(anchors[0])]
    stopped: dict[str, str] = {}

    def spans() -> list[tuple[str, float, float, str]]:
        """What the route holds so far: one person is one track at a time on one camera, across the bridges
        and both ends (a look-alike walking a few seconds behind overlaps the person's own track there)."""
        return [(h.sighting.camera, h.true_start, h.true_end, h.sighting.kind) for h in out]

    for a, b in zip(anchors, anchors[1:], strict=False):
        path, _ = beam_search(
            finder, a, "forward", max(hops, 1), stop_at=b.id, not_after=times[b.id][0], held=spans()
        )
        for c, alts in path:
            if c.s.id == b.id:
                break
            out.append(to_hop(c, alts, "forward", confirmed))
        out.append(anchor_hop(b))
    tails: dict[str, list[int]] = {}  # each end's hops in the order the beam took them, outwards
    if direction in ("both", "forward") and hops > 0:
        path, why = beam_search(finder, anchors[-1], "forward", hops, held=spans())
        out += [to_hop(c, alts, "forward", confirmed) for c, alts in path]
        stopped["forward"] = why
        tails["forward"] = [c.s.id for c, _ in path]
    if direction in ("both", "backward") and hops > 0:
        # Overlapping views give negative travel times: a sighting already taken forwards can also look like
        # an earlier one; one route visits each sighting once.
        taken = {h.sighting.id for h in out}
        path, why = beam_search(finder, anchors[0], "backward", hops, exclude=taken, held=spans())
        out = [to_hop(c, alts, "backward", confirmed) for c, alts in reversed(path)] + out
        stopped["backward"] = why
        tails["backward"] = [c.s.id for c, _ in path]
    boarding.clamp_spans(out)
    out.sort(key=lambda h: (h.true_start, h.true_end))
    if params.fill_gaps and params.use_topology:
        out = fill_gaps(finder, out, confirmed)
    out, cut = cut_explained_tails(finder, out, tails)
    for side, why in cut.items():
        stopped[side] = why
    return Route(
        origin.id,
        out,
        case,
        params,
        stopped,
        time.perf_counter() - t_start,
        [a.id for a in anchors if a.id != origin.id],
        sorted(rejected),
    )
