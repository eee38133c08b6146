"""Whether a tracklet that starts soon after another one ends on the same camera can be the same passage.

The tracker loses a person for a moment (occlusion, missed detections) and starts a new tracklet: that one
begins about where the person was heading. Someone else starting then (a look-alike walking a few seconds
behind, a passer-by entering by another edge) begins elsewhere. The residual is the distance, in body heights,
between the later tracklet's first box and the earlier one's last box carried on at its last second's velocity.
On the tuning towns' stores every same-person pair (48 at 5 fps, 22 at 1 fps) lay within 3 heights plus one
per second of gap, and about half the different-person pairs within that gap lay outside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relaytrack.relay.candidate import Candidate

_VELOCITY_S = 1.0  # the earlier tracklet's velocity from its last second of boxes


def _boxes(conn: Any, sighting_id: int, last: bool, cache: dict[tuple[int, bool], np.ndarray]) -> np.ndarray:
    """(t, centre x, centre y, height) rows of the tracklet's last second (last) or its first box."""
    key = (sighting_id, last)
    if key not in cache:
        order = "DESC" if last else "ASC"
        rows = conn.execute(
            f"SELECT t, x + w / 2, y + h / 2, h FROM boxes WHERE sighting_id=? ORDER BY frame {order} LIMIT 50",
            (sighting_id,),
        ).fetchall()
        arr = np.array([tuple(r) for r in rows], dtype=np.float64).reshape(-1, 4)
        if last and len(arr):
            arr = arr[::-1]
            arr = arr[arr[:, 0] >= arr[-1, 0] - _VELOCITY_S]
        cache[key] = arr if last else arr[:1]
    return cache[key]


def resume_residual(
    conn: Any, earlier: int, later: int, cache: dict[tuple[int, bool], np.ndarray]
) -> tuple[float, float] | None:
    """(residual in body heights, gap in seconds) from tracklet `earlier`'s end to `later`'s start; None when
    either has no stored boxes (nothing to judge by)."""
    a, b = _boxes(conn, earlier, True, cache), _boxes(conn, later, False, cache)
    if not len(a) or not len(b):
        return None
    end, start = a[-1], b[0]
    span = end[0] - a[0, 0]
    v = (end[1:3] - a[0, 1:3]) / span if span > 0 else np.zeros(2)
    gap = float(start[0] - end[0])
    pred = end[1:3] + v * gap
    height = max(1.0, (end[3] + start[3]) / 2.0)
    return float(np.linalg.norm(start[1:3] - pred) / height), gap


def passages(
    conn: Any,
    cands: list[Candidate],
    gap_s: float,
    reach: float,
    reach_per_s: float,
    cache: dict[tuple[int, bool], np.ndarray],
) -> list[tuple[int, float]]:
    """For each candidate, (its passage, the summed confidence of the candidates that are fragments of that
    passage with it):
    on one camera, one beginning within `gap_s` after the other ends, where its motion led. The confidences
    share one normalisation, so a passage the tracker cut in two splits its probability between rivals that
    are the same person, and neither piece may reach the stop threshold that the passage clears."""
    parent = list(range(len(cands)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, ca in enumerate(cands):
        for b, cb in enumerate(cands):
            if ca.s.camera != cb.s.camera or ca.s.kind != cb.s.kind or not 0.0 <= cb.t0 - ca.t1 <= gap_s:
                continue
            res = resume_residual(conn, ca.s.id, cb.s.id, cache) if reach > 0 else None
            if res is None or res[0] <= reach + reach_per_s * abs(res[1]):
                parent[root(b)] = root(a)
    mass: dict[int, float] = {}
    for i, c in enumerate(cands):
        mass[root(i)] = mass.get(root(i), 0.0) + c.conf
    return [(root(i), mass[root(i)]) for i in range(len(cands))]
