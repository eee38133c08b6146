"""Whether a tracklet that starts soon after another one ends on the same camera can be the same passage.

The tracker loses a person for a moment (occlusion, missed detections) and starts a new tracklet: that one
begins about where the person was heading. Someone else starting then (a look-alike walking a few seconds
behind, a passer-by entering by another edge) begins elsewhere. The residual is the distance, in body heights,
between the later tracklet's first box and the earlier one's last box carried on at its last second's velocity.
On the tuning towns' stores every same-person pair (48 at 5 fps, 22 at 1 fps) lay within 3 heights plus one
per second of gap, and about half the different-person pairs within that gap lay outside. Nor does a resumed
track begin behind where the person was, along their motion: no same-person pair lay more than 0.8 heights
behind at 5 fps (2.9 at 1 fps, where two boxes a second apart give the direction), while a look-alike following
a few seconds later does (tuning town 21).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

import numpy as np

from relaytrack.config import RelayConfig
from relaytrack.relay.candidate import Candidate

_VELOCITY_S = 1.0  # the earlier tracklet's velocity from its last second of boxes
_MOVING = 0.2  # body heights a second below which a tracklet stood still (no direction to be behind)


def _boxes(conn: Any, sighting_id: int, last: bool, cache: dict[tuple[int, bool], np.ndarray]) -> np.ndarray:
    """(t, centre x, centre y, height) rows of the tracklet's last second (last) or its first box."""
    key = (sighting_id, last)
    if key not in cache:
        order, limit = ("DESC", 50) if last else ("ASC", 1)
        rows = conn.execute(
            f"SELECT t, x + w / 2, y + h / 2, h FROM boxes WHERE sighting_id=? ORDER BY frame {order} LIMIT {limit}",
            (sighting_id,),
        ).fetchall()
        arr = np.array([tuple(r) for r in rows], dtype=np.float64).reshape(-1, 4)
        if last and len(arr):
            arr = arr[::-1]
            arr = arr[arr[:, 0] >= arr[-1, 0] - _VELOCITY_S]
        cache[key] = arr
    return cache[key]


@dataclass(frozen=True, slots=True)
class Resumption:
    """How a later tracklet begins against an earlier one's end on the same camera (body heights: the mean of the
    two boxes' heights)."""

    residual: float  # from where the earlier tracklet's last second of motion led
    gap_s: float
    along: float | None  # along that motion from its last box (negative: behind it); None when it stood still
    interval_s: float  # the earlier tracklet's box interval (the analysed rate)


def resumption(
    conn: Any, earlier: int, later: int, cache: dict[tuple[int, bool], np.ndarray]
) -> Resumption | None:
    """The later tracklet's start against the earlier one's end; None when either has no stored boxes (nothing
    to judge by)."""
    a, b = _boxes(conn, earlier, True, cache), _boxes(conn, later, False, cache)
    if not len(a) or not len(b):
        return None
    end, start = a[-1], b[0]
    span = end[0] - a[0, 0]
    v = (end[1:3] - a[0, 1:3]) / span if span > 0 else np.zeros(2)
    gap = float(start[0] - end[0])
    height = max(1.0, (end[3] + start[3]) / 2.0)
    residual = float(np.linalg.norm(start[1:3] - (end[1:3] + v * gap)) / height)
    speed = float(np.linalg.norm(v))
    along = None
    if speed > _MOVING * height:
        along = float((start[1:3] - end[1:3]) @ (v / speed) / height)
    interval = float(np.median(np.diff(a[:, 0]))) if len(a) > 1 else _VELOCITY_S
    return Resumption(residual, gap, along, interval)


def continues(
    conn: Any, earlier: int, later: int, p: RelayConfig, cache: dict[tuple[int, bool], np.ndarray]
) -> bool:
    """Whether tracklet `later` can be the person's resumed track after `earlier`: beginning within `frag_reach`
    (+ `frag_reach_per_s` a second of gap) of where they were heading, and not behind where they were (by more
    than `frag_back` + `frag_back_per_interval` a second of box interval: at low rates the last second's
    direction is read from two boxes). With `frag_reach` 0 or without boxes, yes (time and look alone decide)."""
    if p.frag_reach <= 0:
        return True
    r = resumption(conn, earlier, later, cache)
    if r is None:
        return True
    if r.residual > p.frag_reach + p.frag_reach_per_s * abs(r.gap_s):
        return False
    if p.frag_back > 0 and r.along is not None:
        return r.along >= -(p.frag_back + p.frag_back_per_interval * r.interval_s)
    return True


def passages(
    conn: Any, cands: list[Candidate], p: RelayConfig, cache: dict[tuple[int, bool], np.ndarray]
) -> list[tuple[int, float]]:
    """For each candidate, (its passage, the summed confidence of the candidates that are fragments of that
    passage with it): on one camera, one beginning within `frag_gap_s` after the other ends where `continues`
    says it may (`frag_reach` 0 or no stored boxes: by time alone, as fragments are then taken). The
    confidences share one normalisation, so a passage the tracker cut in two splits its probability between
    rivals that are the same person, and neither piece may reach the stop threshold that the passage clears."""
    parent = list(range(len(cands)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_view: dict[tuple[str, str], list[int]] = {}
    for i in sorted(range(len(cands)), key=lambda i: cands[i].t0):
        by_view.setdefault((cands[i].s.camera, cands[i].s.kind), []).append(i)
    for idx in by_view.values():  # on one camera: each tracklet and those beginning within the gap after it
        starts = [cands[i].t0 for i in idx]
        for a in idx:
            end = cands[a].t1
            for b in idx[bisect_left(starts, end) : bisect_right(starts, end + p.frag_gap_s)]:
                if continues(conn, cands[a].s.id, cands[b].s.id, p, cache):
                    parent[root(b)] = root(a)
    mass: dict[int, float] = {}
    for i, c in enumerate(cands):
        mass[root(i)] = mass.get(root(i), 0.0) + c.conf
    return [(root(i), mass[root(i)]) for i in range(len(cands))]
