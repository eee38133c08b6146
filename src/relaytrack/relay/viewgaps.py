"""`relay.footprint`'s view-to-view gaps and edges for many camera pairs at once, on arrays.

`map_link` works a mounted pair out in Python: two `View`s in local metres around the first camera, a
footprint of up to 41 x 59 polar grid points each (the second camera's drawn again for every pair, since it
depends on the first camera's position), `view_gap` along the line joining the footprints' centres, then
the two edges. 0.4 to 1 ms a link, by the machine's load: the 20,000 mounted cameras of `relaytrack
bench cameras --mounted` took 112 s to link (2.4 s here); at that rate Seoul's 176,371 would take some
17 minutes (25 s here). Here the same quantities come from arrays:

- A footprint is the same set of ground points wherever the local metres are centred (the grid is laid
  around the pole, and the pinhole test reads points relative to the pole), so each camera's footprint is
  worked out once, pole-relative, on `footprint`'s grid with its test, many cameras at a time. A pair needs
  only the second pole's offset in the first camera's local metres (`geo.local_xy`, same formula).
- Of a footprint, `view_gap` reads the centre and `_last_inside`: the farthest point, along a direction,
  within 1.5 m of the line from the centre. On one ray of the polar grid the points a person is seen at form
  a run of radii (kept per ray as first and last radius; a ray with several runs keeps each), the points
  within the strip are an interval of radius worked out in closed form, and the farthest along the line is
  at one end of their intersection. The grid point at that end is tested exactly as `_last_inside` tests
  points, and where the strip's edge passes within rounding of a grid point its neighbours too, so the closed
  form's rounding cannot move the answer by a grid step: per pair some 41 points, not every footprint point.

The results are `view_gap`'s, pair for pair, to float rounding (the second footprint's points differ from
`map_link`'s by the rounding of the shift; tests/relay/test_view_gaps_fast.py compares both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from relaytrack.records import Camera
from relaytrack.relay.footprint import (
    ASPECT,
    DEFAULT_MOUNT,
    FOV_DEG,
    MIN_PERSON_FRAC,
    PERSON_M,
    Mount,
    View,
    footprint,
    view_gap,
)
from relaytrack.relay.geo import EARTH_RADIUS_M

STEP_M, REACH_M, RAYS = 1.0, 60.0, 41  # `footprint`'s grid (its defaults, which map_link uses)
RADII = np.arange(STEP_M, REACH_M, STEP_M)
STRIP_M = 1.5  # `_last_inside`: points this close to the line count
CAMERAS_PER_BATCH = 64  # footprints worked out together: 64 x 41 x 59 points, ~1 MB per temporary
ELEMENTS_PER_BATCH = 1 << 15  # (pair, run) rows per batch of `_reach` (temporaries kept in cache)
EDGE_NAMES = np.array(["left", "right", "top", "bottom"], dtype=object)  # View.edge's order (ties: first)


@dataclass
class Views:
    """`footprint.View` of many cameras as arrays, each around its own pole (View's x = y = 0)."""

    cams: list[Camera]
    mounts: list[Mount | None]
    lat: np.ndarray
    lon: np.ndarray
    heading: np.ndarray  # radians
    z: np.ndarray
    w: np.ndarray
    h: np.ndarray
    f: np.ndarray
    half: np.ndarray  # `footprint`'s half angle of the grid: the field of view's half and 4 degrees
    rot: np.ndarray  # (n, 3, 3): columns right, down, forward

    def key(self) -> tuple[bytes, ...]:
        """What the footprints depend on (a pole-relative footprint is the same wherever the pole stands)."""
        return tuple(x.tobytes() for x in (self.heading, self.z, self.w, self.h, self.f, self.rot))


def views_of(cams: Sequence[Camera], mounts: Sequence[Mount | None]) -> Views:
    """The cameras' Views (a missing mount: DEFAULT_MOUNT), computed with View's own scalar formulas."""
    n = len(cams)
    heading, z, w, h, f, half = (np.zeros(n) for _ in range(6))
    rot = np.zeros((n, 3, 3))
    for i, (cam, mount) in enumerate(zip(cams, mounts, strict=True)):
        m = mount or DEFAULT_MOUNT
        hd, tilt = math.radians(cam.heading_deg or 0.0), math.radians(m.tilt_deg)
        wi = float(cam.width or 640)
        hi = float(cam.height or round(wi / ASPECT))
        fi = (wi / 2) / math.tan(math.radians(cam.fov_deg or FOV_DEG) / 2)
        heading[i], z[i], w[i], h[i], f[i] = hd, m.height_m, wi, hi, fi
        half[i] = math.atan((wi / 2) / fi) + math.radians(4)
        fwd = (math.sin(hd) * math.cos(tilt), math.cos(hd) * math.cos(tilt), -math.sin(tilt))
        right = (math.cos(hd), -math.sin(hd), 0.0)
        # down = -(right x forward), the products np.cross takes
        cross = (right[1] * fwd[2] - right[2] * fwd[1], right[2] * fwd[0] - right[0] * fwd[2],
                 right[0] * fwd[1] - right[1] * fwd[0])  # fmt: skip
        rot[i] = np.array([right, [-c for c in cross], fwd]).T
    lat = np.array([c.lat for c in cams], np.float64)
    lon = np.array([c.lon for c in cams], np.float64)
    return Views(list(cams), list(mounts), lat, lon, heading, z, w, h, f, half, rot)


def _person(v: Views, idx, px: np.ndarray, py: np.ndarray):
    """View.person_box for ground points (px, py) relative to the poles of cameras idx (broadcast): feet x,
    feet y, head y (View._uv's image coordinates), person height in pixels, and whether the person is seen."""
    r = v.rot[idx]
    # View._uv's pts @ rot, the ground point's part shared by feet and head (they differ in height only)
    g0 = px * r[..., 0, 0] + py * r[..., 1, 0]
    g1 = px * r[..., 0, 1] + py * r[..., 1, 1]
    g2 = px * r[..., 0, 2] + py * r[..., 1, 2]
    f, w, h = v.f[idx], v.w[idx], v.h[idx]
    dz_feet, dz_head = -v.z[idx], PERSON_M - v.z[idx]
    fz, hz = g2 + dz_feet * r[..., 2, 2], g2 + dz_head * r[..., 2, 2]
    zs = np.maximum(fz, 1e-3)
    fu = f * (g0 + dz_feet * r[..., 2, 0]) / zs + w / 2
    fv = f * (g1 + dz_feet * r[..., 2, 1]) / zs + h / 2
    hv = f * (g1 + dz_head * r[..., 2, 1]) / np.maximum(hz, 1e-3) + h / 2
    tall = fv - hv
    ok = (fz > 0.5) & (hz > 0.5) & (tall >= MIN_PERSON_FRAC * h)
    ok &= (fu >= 0) & (fu <= w) & (fv <= h + 0.1 * tall)
    ok &= hv >= -0.5 * tall
    return fu, fv, hv, tall, ok


def edges(v: Views, idx: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """View.edge on arrays: the image edge nearest a person standing at (px, py) from camera idx's pole."""
    fu, fv, hv, tall, _ = _person(v, idx, px, py)
    half = 0.2 * tall
    w, h = v.w[idx], v.h[idx]
    d = np.stack([(fu - half) / w, (w - (fu + half)) / w, hv / h, (h - fv) / h], axis=-1)
    return EDGE_NAMES[np.argmin(d, axis=-1)]


@dataclass
class Footprints:
    """Per camera: how many grid points its footprint has and their centre (pole-relative metres); per run of
    seen radii on one grid ray (runs by camera, then ray): the ray's direction and first/last grid index."""

    count: np.ndarray
    centre: np.ndarray  # (n, 2)
    run_ptr: np.ndarray  # camera i's runs: run_ptr[i]:run_ptr[i + 1]
    run_sin: np.ndarray
    run_cos: np.ndarray
    run_first: np.ndarray
    run_last: np.ndarray


def footprints(v: Views) -> Footprints:
    """`footprint` of every view, pole-relative, summarised as Footprints."""
    n = len(v.heading)
    count, centre = np.zeros(n, np.int64), np.zeros((n, 2))
    cams, sins, coss, firsts, lasts = [], [], [], [], []
    for s in range(0, n, CAMERAS_PER_BATCH):
        idx = np.arange(s, min(n, s + CAMERAS_PER_BATCH))
        # the grid's angles as footprint draws them: heading + linspace(-half, half, 41), for each camera
        aa = v.heading[idx, None] + np.linspace(-v.half[idx], v.half[idx], RAYS, axis=-1)
        sa, ca = np.sin(aa), np.cos(aa)
        px, py = RADII * sa[..., None], RADII * ca[..., None]  # (cameras, rays, radii)
        ok = _person(v, idx[:, None, None], px, py)[4]
        count[idx] = ok.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            centre[idx, 0] = np.where(ok, px, 0.0).sum(axis=(1, 2)) / count[idx]
            centre[idx, 1] = np.where(ok, py, 0.0).sum(axis=(1, 2)) / count[idx]
        pad = np.zeros(ok.shape[:2] + (1,), bool)
        starts = ok & ~np.concatenate([pad, ok[..., :-1]], axis=-1)
        ends = ok & ~np.concatenate([ok[..., 1:], pad], axis=-1)
        # both in (camera, ray, radius) order: the k-th start opens the k-th run
        ci, ri, j0 = np.nonzero(starts)
        j1 = np.nonzero(ends)[2]
        cams.append(idx[ci])
        sins.append(sa[ci, ri])
        coss.append(ca[ci, ri])
        firsts.append(j0)
        lasts.append(j1)
    cam = _cat(cams, np.int64)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(cam, minlength=n))])
    # grid indices in int16: ~20 bytes a run, 41 runs a camera (Seoul's 176,371 cameras: ~150 MB)
    sins, coss = _cat(sins, np.float64), _cat(coss, np.float64)
    return Footprints(count, centre, ptr, sins, coss, _cat(firsts, np.int16), _cat(lasts, np.int16))


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _reach(fp: Footprints, cam: np.ndarray, ux: np.ndarray, uy: np.ndarray) -> np.ndarray:
    """`_last_inside(footprint, centre, u)` for footprint cam[i] and unit direction (ux[i], uy[i]): how far
    from the centre along u the footprint reaches within STRIP_M of the line (0 where no point is)."""
    out = np.zeros(len(cam))
    first, nrun = fp.run_ptr[cam], fp.run_ptr[cam + 1] - fp.run_ptr[cam]
    ends = np.cumsum(nrun)
    q0 = 0
    while q0 < len(cam):  # pairs in batches of about ELEMENTS_PER_BATCH (pair, run) rows
        base = int(ends[q0 - 1]) if q0 else 0
        q1 = min(len(cam), max(q0 + 1, int(np.searchsorted(ends, base + ELEMENTS_PER_BATCH, side="right"))))
        out[q0:q1] = _reach_batch(fp, cam[q0:q1], first[q0:q1], nrun[q0:q1], ux[q0:q1], uy[q0:q1])
        q0 = q1
    return out


def _reach_batch(fp, cam, first, nrun, ux, uy) -> np.ndarray:
    q = np.repeat(np.arange(len(cam)), nrun)  # one row per (pair, run of its footprint)
    if len(q) == 0:
        return np.zeros(len(cam))
    offs = np.cumsum(nrun) - nrun
    run = np.arange(len(q)) - offs[q] + first[q]
    sn, cs, j0, j1 = fp.run_sin[run], fp.run_cos[run], fp.run_first[run], fp.run_last[run]
    ux, uy = ux[q], uy[q]
    cx, cy = fp.centre[cam, 0][q], fp.centre[cam, 1][q]
    # A point r * (sn, cs) of the ray, less the centre, is r * ev - cv across the line, r * eu - cu along it
    ev, cv = sn * -uy + cs * ux, cx * -uy + cy * ux
    eu = sn * ux + cs * uy
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = (cv - STRIP_M) / ev, (cv + STRIP_M) / ev
    lo, hi = np.where(ev < 0, hi, lo), np.where(ev < 0, lo, hi)
    flat = ev == 0  # a ray along the line: all of it within the strip or none of it
    inside = np.abs(cv) <= STRIP_M
    lo = np.where(flat, np.where(inside, -np.inf, np.inf), lo)
    hi = np.where(flat, np.where(inside, np.inf, -np.inf), hi)
    # Along the line is monotone in r: the farthest point is at the run's or the strip's end on that side
    up = eu >= 0
    bound = np.where(up, hi, lo)
    r0, r1 = RADII[j0], RADII[j1]
    end = np.clip(np.where(up, np.minimum(bound, r1), np.maximum(bound, r0)), r0 - STEP_M, r1 + STEP_M)
    t = (end - STEP_M) / STEP_M
    k = np.where(up, np.floor(t), np.ceil(t)).astype(np.int64)
    best = _tested(k, j0, j1, sn, cs, cx, cy, ux, uy)
    # Where the strip's edge passes within rounding of a grid point, or the ray runs almost along the line (a
    # far edge, ill-conditioned), the closed form may be a step off the test: the neighbours are tested too.
    tb = (bound - STEP_M) / STEP_M
    with np.errstate(invalid="ignore"):
        near = np.flatnonzero((np.abs(tb - np.round(tb)) < 1e-6) | (np.abs(ev) < 1e-6))
    for dk in (-1, 1):
        i = near
        best[i] = np.maximum(
            best[i], _tested(k[i] + dk, j0[i], j1[i], sn[i], cs[i], cx[i], cy[i], ux[i], uy[i])
        )
    per = np.maximum.reduceat(best, offs[nrun > 0])
    out = np.zeros(len(cam))
    out[nrun > 0] = np.where(np.isfinite(per), per, 0.0)
    return out


def _tested(k, j0, j1, sn, cs, cx, cy, ux, uy) -> np.ndarray:
    """How far along the line grid point k (clipped to the run j0..j1) of the ray lies from the centre,
    tested as `_last_inside` tests points: -inf where it is over STRIP_M across the line or behind the centre."""
    r = RADII[np.clip(k, j0, j1)]
    sx, sy = r * sn - cx, r * cs - cy
    along = sx * ux + sy * uy
    across = np.abs(sx * -uy + sy * ux)
    return np.where((across <= STRIP_M) & (along >= 0), along, -np.inf)


def view_gaps(
    v: Views, fp: Footprints, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`view_gap` of views a[i] -> b[i] in local metres around a[i] (as map_link draws them): the gap (NaN
    where view_gap gives None: a footprint is empty), the exit edge of a and entry edge of b (None there)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    m = len(a)
    gap = np.full(m, np.nan)
    exit_edge, entry_edge = np.full(m, None, dtype=object), np.full(m, None, dtype=object)
    # b's pole in a's local metres (geo.local_xy around a)
    xb = np.radians(v.lon[b] - v.lon[a]) * EARTH_RADIUS_M * np.cos(np.radians(v.lat[a]))
    yb = np.radians(v.lat[b] - v.lat[a]) * EARTH_RADIUS_M
    ca = fp.centre[a]
    dx, dy = xb + fp.centre[b, 0] - ca[:, 0], yb + fp.centre[b, 1] - ca[:, 1]
    dist = np.hypot(dx, dy)
    seen = (fp.count[a] > 0) & (fp.count[b] > 0)
    same = seen & (dist < 1e-6)  # one view (two cameras on a pole): view_gap's own answer, in Python
    for r in np.flatnonzero(same).tolist():
        i, j = int(a[r]), int(b[r])
        ref = (v.cams[i].lat, v.cams[i].lon)
        va, vb = View(v.cams[i], v.mounts[i], ref), View(v.cams[j], v.mounts[j], ref)
        g = view_gap(va, footprint(va), vb, footprint(vb))
        gap[r], exit_edge[r], entry_edge[r] = g.gap_m, g.exit_edge, g.entry_edge
    r = np.flatnonzero(seen & ~same)
    if len(r) == 0:
        return gap, exit_edge, entry_edge
    ux, uy, dist = dx[r] / dist[r], dy[r] / dist[r], dist[r]
    ra = _reach(fp, a[r], ux, uy)  # a's view ends this far from its centre towards b
    rb = _reach(fp, b[r], -ux, -uy)  # b's view begins this far from its centre towards a
    gap[r] = dist - ra - rb
    sa, sb = np.maximum(ra - 0.5, 0.0), np.maximum(rb - 0.5, 0.0)
    exit_edge[r] = edges(v, a[r], ca[r, 0] + ux * sa, ca[r, 1] + uy * sa)
    entry_edge[r] = edges(v, b[r], fp.centre[b[r], 0] - ux * sb, fp.centre[b[r], 1] - uy * sb)
    return gap, exit_edge, entry_edge
