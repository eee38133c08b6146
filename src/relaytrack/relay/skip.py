"""A hop that skips a camera: the person passed through its view unseen (a missed detection, an occlusion).

Going from A to C through B's view takes the way A -> B, the way B -> C, and the walk across B's view in
between. Summing the two links alone leaves that crossing out, so the far camera's window opened too early
(with overlapping views the composed time could even be negative: a "forward" hop to someone who was on the
far camera before the person left this one; seen in the demo town). A person nobody saw on B most likely
crossed it briefly (cut a corner of the view, or was hidden most of the way), so the composed time adds a
short crossing: the 10th percentile of how long people take to cross B's view, read from the store itself
(the durations of the tracklets of that kind on that camera that came in and went out by an edge: passers-by,
not people who stood or were cut short). The median crossing was tried first on the relay's tuning towns and
lost a route (town 11: the suspect clipped a corner of the skipped view for 2 s).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

import numpy as np

from relaytrack.records import Link

MIN_CROSSINGS = 5  # fewer passers-by than this say nothing about the view: the crossing is left out
MAX_ROWS = 400  # the crossings read (a busy city camera has thousands)
WINDOW_S = 1800.0  # around the relay's origin: half an hour either side


@dataclass(frozen=True, slots=True)
class Crossing:
    """How long a passer-by takes to cross one camera's view (seconds): the median, a robust spread, and a
    short crossing (the 10th percentile: someone cutting the view's corner)."""

    median_s: float
    spread_s: float
    short_s: float
    n: int


def view_crossing(
    conn: sqlite3.Connection, camera: str, kind: str, around: float | None = None
) -> Crossing | None:
    """The crossing time of `camera`'s view for sightings of `kind`, from its stored passers-by (within
    WINDOW_S of the wall time `around` when given: the hour's own crowd and light, and an index range rather
    than the camera's whole history); None when fewer than MIN_CROSSINGS of them are stored."""
    where, args = "camera_id=? AND kind=?", [camera, kind]
    if around is not None:
        where += " AND wall_start BETWEEN ? AND ?"
        args += [around - WINDOW_S, around + WINDOW_S]
    rows = conn.execute(
        f"SELECT end_s - start_s FROM sightings WHERE {where} AND superseded_by IS NULL"
        " AND entry_edge IS NOT NULL AND entry_edge NOT IN ('', 'inside')"
        " AND exit_edge IS NOT NULL AND exit_edge NOT IN ('', 'inside')"
        f" LIMIT {MAX_ROWS}",
        args,
    ).fetchall()
    d = np.array([r[0] for r in rows if r[0] is not None and r[0] > 0], np.float64)
    if len(d) < MIN_CROSSINGS:
        return None
    med = float(np.median(d))
    spread = 1.4826 * float(np.median(np.abs(d - med)))
    return Crossing(med, max(spread, 1.0), float(np.percentile(d, 10)), len(d))


def compose(first: Link, second: Link, crossing: Crossing | None) -> Link:
    """The link first.src -> second.dst through the camera between them (first.dst == second.src), the
    person unseen there: the two legs plus a short crossing of that camera's view when it is known (half of
    it at the window's low end)."""
    mean, std = first.mean_s + second.mean_s, math.hypot(first.std_s, second.std_s)
    lo, hi = first.min_s + second.min_s, first.upper_s + second.upper_s
    if crossing is not None:
        mean += crossing.short_s
        lo += 0.5 * crossing.short_s
        hi += crossing.median_s + 3 * crossing.spread_s
    return Link(
        first.src, second.dst, first.exit_edge, second.entry_edge, mean, std, lo, hi, first.mode, first.source
    )
