"""Vehicles on cameras whose views overlap: the same car seen at once by two cameras.

A link that expects a negative travel time joins two views that overlap (two cameras on one kerb). A car
parked there is on both at once, and both its sightings began long before either hop's travel window, which
looks at starts only. From a vehicle hop, the sighting on such a camera that was in view when this one ended
(forward; began, backward) is a candidate whatever its start: its look and attributes decide, the timing
being the link's own (no edge: it did not come in), and `covisible_logit` more likely when it left its view
within `covisible_s` of this one (the car drove off from both at once). Link source `covisible`.
"""

from __future__ import annotations

from typing import Any

from relaytrack.records import Link, Sighting
from relaytrack.relay.candidate import Candidate, hop_link
from relaytrack.store.sightings import SIGHTING_COLUMNS, row_to_sighting


def candidates(
    finder: Any,
    cur: Sighting,
    cur_t0: float,
    cur_t1: float,
    link: Link,
    direction: str,
    out: dict[int, Candidate],
) -> None:
    """Add to `out` the sightings of `cur`'s kind on the far camera of the overlapping `link` that were in
    view at `cur`'s end (forward) or start (backward); `finder` is the run's `relay.candidates.CandidateFinder`
    (params, clock offsets, look scores). A sighting already in `out` keeps the likelier of its readings."""
    p = finder.p
    other = link.dst if direction == "forward" else link.src
    if other == cur.camera:
        return
    off = finder.offset(other)
    at = cur_t1 if direction == "forward" else cur_t0
    lo, hi = (at - p.covisible_s, at) if direction == "forward" else (at, at + p.covisible_s)
    if finder.refine is not None:
        finder.refine(other, lo + off, hi + off)
    rows = finder.conn.execute(
        f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE camera_id=? AND kind=? AND wall_start<=? AND"
        " wall_end>=? AND superseded_by IS NULL",
        (
            other,
            cur.kind,
            (at if direction == "forward" else hi) + off,
            (lo if direction == "forward" else at) + off,
        ),
    ).fetchall()
    src, dst = (cur.camera, other) if direction == "forward" else (other, cur.camera)
    for r in rows:
        s = row_to_sighting(r)
        if s.id in finder.rejected or s.id == cur.id:
            continue
        logit, why = finder.look_logit(cur, s)
        if p.use_time:
            logit += p.w_time * finder.time_logit(link.mean_s, link)
        why = [*why, f"in view on {other} at the same moment (overlapping views)"]
        t0, t1 = s.wall_start - off, s.wall_end - off
        together = abs(t1 - cur_t1) if direction == "forward" else abs(t0 - cur_t0)
        if together <= p.covisible_s:
            logit += p.covisible_logit
            why.append(
                f"{'left' if direction == 'forward' else 'came into'} both views {together:.1f} s apart"
            )
        prev = out.get(s.id)  # found through a link too: the likelier reading of the two stands
        if prev is None or logit > prev.logit:
            info = hop_link(
                src, dst, link.mode, "covisible", mean_s=round(link.mean_s, 1), std_s=round(link.std_s, 1)
            )
            out[s.id] = Candidate(s, logit, info, why, t0, t1)
