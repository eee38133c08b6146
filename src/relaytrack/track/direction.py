"""Direction of movement of a tracklet: which frame edge it entered and left by, heading and speed.

A box touching the frame border names its edge directly. A person who appears or vanishes inside the view
(walking to or from the horizon, through a door) gets the edge their motion points at, when they moved
far enough for that to mean something; otherwise "inside".
"""

from __future__ import annotations

import math

import numpy as np


def _touching(box: tuple[float, float, float, float], w: int, h: int, margin: float) -> str | None:
    mx, my = margin * w, margin * h
    gaps = {"left": box[0], "right": w - box[2], "top": box[1], "bottom": h - box[3]}
    near = {
        k: v / (mx if k in ("left", "right") else my)
        for k, v in gaps.items()
        if v <= (mx if k in ("left", "right") else my)
    }
    if not near:
        return None
    # A person's box touches the bottom whenever they are close: prefer a side edge when both touch.
    return min(near, key=lambda k: (k in ("top", "bottom"), near[k]))


def _edge_along(p: np.ndarray, d: np.ndarray, w: int, h: int) -> str:
    """The frame edge a ray from p in direction d hits first."""
    best, name = math.inf, "inside"
    for edge, t in (
        ("left", (0 - p[0]) / d[0] if d[0] < 0 else math.inf),
        ("right", (w - p[0]) / d[0] if d[0] > 0 else math.inf),
        ("top", (0 - p[1]) / d[1] if d[1] < 0 else math.inf),
        ("bottom", (h - p[1]) / d[1] if d[1] > 0 else math.inf),
    ):
        if 0 <= t < best:
            best, name = t, edge
    return name


def edges_and_heading(
    boxes: list[tuple[float, float, float, float]], times: list[float], w: int, h: int, margin: float = 0.04
) -> tuple[str, str, float | None, float | None]:
    """(entry_edge, exit_edge, heading_deg, speed_px_s) of a tracklet's boxes (xyxy) and times (s)."""
    feet = np.array([((b[0] + b[2]) / 2, b[3]) for b in boxes], dtype=np.float64)
    n = len(feet)
    diag = math.hypot(w, h)
    k = max(1, min(n // 3, 10))
    start_vec = feet[min(k, n - 1)] - feet[0]
    end_vec = feet[-1] - feet[max(0, n - 1 - k)]
    total = feet[-1] - feet[0]
    moved = float(np.linalg.norm(total)) > 0.12 * diag

    entry = _touching(boxes[0], w, h, margin)
    if entry is None:
        entry = (
            _edge_along(feet[0], -start_vec, w, h) if moved and np.linalg.norm(start_vec) > 0 else "inside"
        )
    exit_ = _touching(boxes[-1], w, h, margin)
    if exit_ is None:
        exit_ = _edge_along(feet[-1], end_vec, w, h) if moved and np.linalg.norm(end_vec) > 0 else "inside"

    heading = speed = None
    dt = times[-1] - times[0]
    if n >= 2 and dt > 0:
        vec = end_vec if np.linalg.norm(end_vec) > 0 else total
        heading = float(math.degrees(math.atan2(vec[1], vec[0])) % 360)
        speed = float(np.linalg.norm(total) / dt)
    return entry, exit_, heading, speed
