"""Who stopped where: the stops of everyone on a watch's cameras (shared, bounded), linked across tracks and
cameras by a cheap colour histogram, and the local hour of a wall time (split from signals.py)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np


@dataclass
class StopRecord:
    camera: str
    zone: str
    track: tuple[str, int]
    start: float  # wall seconds
    end: float
    hist: np.ndarray | None


class RouteMemory:
    """Recent stops of everyone, shared by all cameras of a watch (thread-safe, bounded by time and count)."""

    def __init__(self, window_s: float, max_items: int = 5000) -> None:
        self.window_s = window_s
        self._items: deque[StopRecord] = deque(maxlen=max_items)
        self._lock = threading.Lock()

    def add(self, rec: StopRecord) -> None:
        with self._lock:
            self._items.append(rec)

    def same_person(
        self, track: tuple[str, int], hist: np.ndarray | None, now: float, thr: float, horizon: float
    ) -> list[StopRecord]:
        with self._lock:
            items = [r for r in self._items if r.end >= now - horizon]
        out = []
        for r in items:
            if r.track == track:
                out.append(r)
            elif hist is not None and r.hist is not None and float(np.dot(hist, r.hist)) >= thr:
                out.append(r)
        return out


def appearance_hist(image: np.ndarray, xyxy) -> np.ndarray | None:
    """HSV colour histogram of the upper and lower body, L2-normalised (cheap cross-track linking)."""
    import cv2

    H, W = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in xyxy)
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(W, x2), min(H, y2)
    if x2 - x1 < 4 or y2 - y1 < 8:
        return None
    hsv = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2HSV)
    h = hsv.shape[0]
    parts = []
    for a, b in ((0.15, 0.5), (0.5, 0.9)):
        sub = hsv[int(a * h) : max(int(a * h) + 1, int(b * h))]
        hist = cv2.calcHist([sub], [0, 1, 2], None, [8, 3, 3], [0, 180, 0, 256, 0, 256]).ravel()
        parts.append(hist / max(hist.sum(), 1.0))
    v = np.sqrt(np.concatenate(parts))  # Hellinger: dot product = Bhattacharyya coefficient
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else None


def local_hour(wall: float, tz: str) -> float:
    d = datetime.fromtimestamp(wall, ZoneInfo(tz))
    return d.hour + d.minute / 60.0


def is_night(wall: float, start: int, end: int, tz: str) -> bool:
    h = local_hour(wall, tz)
    return (start <= h or h < end) if start > end else (start <= h < end)
