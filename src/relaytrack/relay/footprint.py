"""Where on the ground a registered camera sees people, and what that says about the way to a neighbour.

A register gives a camera's position, heading and field of view (and often its mount height and tilt), not
the stretch of street it watches. A pole camera tilted down looks at the ground some 5 to 35 m ahead of its
pole, so two poles 35 m apart facing each other watch the same stretch: someone walking from one to the
other is on both at once, and the time between leaving the first view and entering the second is about
zero, not the 35 m walk between the poles. Likewise the image edge a person leaves by is the edge of the
watched stretch that faces the neighbour's, not the bearing from pole to pole.

`footprint` samples the ground points where a standing person is in frame and tall enough to be detected
(a pinhole model from the register's fields, a typical mount where the register has none); `view_gap` reads
the signed gap between two footprints along the line joining them (negative: overlapping views) and the
edges that line leaves one view and enters the other by. `relay.network.map_link` turns these into links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from relaytrack.records import Camera
from relaytrack.relay.geo import local_xy

PERSON_M = 1.7  # a standing adult
MIN_PERSON_FRAC = 0.06  # least person height, as a share of the image height, a detector finds (~20 px of 360)
ASPECT = 16 / 9  # frame shape when the register gives no resolution
FOV_DEG = 65.0  # horizontal field of view when the register gives none


@dataclass(frozen=True, slots=True)
class Mount:
    """How high a camera hangs and how far it looks down: with the heading and field of view, its view."""

    height_m: float = 5.5  # a typical street pole
    tilt_deg: float = 33.0  # below the horizon


DEFAULT_MOUNT = Mount()


def mount_of(extra: dict | None) -> Mount | None:
    """The mount given in a register entry's extra fields ({"mount": {"height_m", "tilt_deg"}} or the same
    keys at the top level); None where it gives neither."""
    if not extra:
        return None
    src = extra.get("mount") if isinstance(extra.get("mount"), dict) else extra
    h, t = src.get("height_m"), src.get("tilt_deg")
    try:
        h = float(h) if h is not None else None
        t = float(t) if t is not None else None
    except (TypeError, ValueError):
        return None
    if h is None and t is None:
        return None
    return Mount(
        h if h is not None and 1.0 <= h <= 60.0 else DEFAULT_MOUNT.height_m,
        t if t is not None and 2.0 <= t <= 89.0 else DEFAULT_MOUNT.tilt_deg,
    )


class View:
    """A camera's pinhole model in local metres (x east, y north) around a reference point."""

    def __init__(self, cam: Camera, mount: Mount | None, ref: tuple[float, float]) -> None:
        m = mount or DEFAULT_MOUNT
        self.x, self.y = local_xy(cam.lat, cam.lon, ref[0], ref[1])
        self.z = m.height_m
        self.heading = math.radians(cam.heading_deg or 0.0)
        tilt = math.radians(m.tilt_deg)
        self.w = float(cam.width or 640)
        self.h = float(cam.height or round(self.w / ASPECT))
        self.f = (self.w / 2) / math.tan(math.radians(cam.fov_deg or FOV_DEG) / 2)
        fwd = np.array([math.sin(self.heading) * math.cos(tilt), math.cos(self.heading) * math.cos(tilt), -math.sin(tilt)])
        right = np.array([math.cos(self.heading), -math.sin(self.heading), 0.0])
        down = -np.cross(right, fwd)
        self.rot = np.stack([right, down, fwd], axis=1)

    def _uv(self, xy: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
        pts = np.concatenate([xy - [self.x, self.y], np.full((len(xy), 1), z - self.z)], 1)
        c = pts @ self.rot
        depth = c[:, 2]
        zs = np.maximum(depth, 1e-3)
        return np.stack([self.f * c[:, 0] / zs + self.w / 2, self.f * c[:, 1] / zs + self.h / 2], 1), depth

    def person_box(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 4) unclipped boxes (x1, y1, x2, y2) of a person standing at each ground point, and whether that
        person is seen: in front of the camera, feet in frame, at least half the body in frame, tall enough."""
        feet, fz = self._uv(xy, 0.0)
        head, hz = self._uv(xy, PERSON_M)
        tall = feet[:, 1] - head[:, 1]
        half = 0.2 * tall
        box = np.stack([feet[:, 0] - half, head[:, 1], feet[:, 0] + half, feet[:, 1]], 1)
        ok = (fz > 0.5) & (hz > 0.5) & (tall >= MIN_PERSON_FRAC * self.h)
        ok &= (feet[:, 0] >= 0) & (feet[:, 0] <= self.w) & (feet[:, 1] <= self.h + 0.1 * tall)
        ok &= head[:, 1] >= -0.5 * tall
        return box, ok

    def edge(self, xy: np.ndarray) -> str:
        """The image edge nearest a person standing at the ground point xy (2,)."""
        box, _ = self.person_box(np.asarray(xy, float).reshape(1, 2))
        x1, y1, x2, y2 = box[0]
        d = {"left": x1 / self.w, "right": (self.w - x2) / self.w, "top": y1 / self.h, "bottom": (self.h - y2) / self.h}
        return min(d, key=d.get)


def footprint(view: View, step_m: float = 1.0, reach_m: float = 60.0) -> np.ndarray:
    """(N, 2) ground points, on a polar grid around the pole, where a standing person is seen."""
    r = np.arange(step_m, reach_m, step_m)
    half = math.atan((view.w / 2) / view.f) + math.radians(4)
    a = view.heading + np.linspace(-half, half, 41)
    rr, aa = np.meshgrid(r, a)
    xy = np.stack([view.x + rr.ravel() * np.sin(aa.ravel()), view.y + rr.ravel() * np.cos(aa.ravel())], 1)
    _, ok = view.person_box(xy)
    return xy[ok]


@dataclass(frozen=True, slots=True)
class Gap:
    """The way from one view to another along the line joining their footprints' centres."""

    gap_m: float  # leaving A to entering B along that line; negative where the views overlap
    centre_m: float  # between the footprints' centres
    exit_edge: str  # A's edge facing B's view
    entry_edge: str  # B's edge facing A's view


def _last_inside(pts: np.ndarray, start: np.ndarray, u: np.ndarray, step: float = 0.5) -> float:
    """How far from `start` along unit direction u the footprint `pts` (grid spacing ~1 m) reaches."""
    s = pts - start
    along = s @ u
    across = np.abs(s @ np.array([-u[1], u[0]]))
    near = (across <= 1.5) & (along >= 0)
    return float(along[near].max()) if near.any() else 0.0


def view_gap(a: View, pa: np.ndarray, b: View, pb: np.ndarray) -> Gap | None:
    """The signed gap between footprints pa (of view a) and pb (of b) along the line joining their centres;
    None when either footprint is empty (a camera looking at the sky)."""
    if len(pa) == 0 or len(pb) == 0:
        return None
    ca, cb = pa.mean(0), pb.mean(0)
    d = cb - ca
    dist = float(math.hypot(*d))
    if dist < 1e-6:
        return Gap(-float(np.ptp(pa, 0).max()), 0.0, "top", "top")
    u = d / dist
    ra = _last_inside(pa, ca, u)  # a's view ends this far from its centre towards b
    rb = _last_inside(pb, cb, -u)  # b's view begins this far from its centre towards a
    exit_pt, entry_pt = ca + u * max(ra - 0.5, 0.0), cb - u * max(rb - 0.5, 0.0)
    return Gap(dist - ra - rb, dist, a.edge(exit_pt), b.edge(entry_pt))
