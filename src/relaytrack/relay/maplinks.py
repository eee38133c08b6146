"""Map links at city scale: each camera's nearest neighbours through a k-d tree, travel times as arrays.

`relay.network.infer_links` links every source camera to its `k` nearest cameras of a pool within a radius.
Done by sorting the whole pool for every source, that is quadratic: 100,000 cameras took minutes. Here the
pool's positions go into a k-d tree (unit vectors on the sphere: the chord between two points grows with their
great-circle distance), each source asks it for a few more than `k` neighbours, and those are ranked by the same
haversine distance, ties by pool order, exactly as a full sort would rank them. Where the neighbours asked for
do not settle the ranking (cameras at one spot, more than asked for at the same distance) the source asks the
tree for everything up to that distance instead. The result is the full sort's, neighbour for neighbour
(tests/relay/test_map_links_fast.py compares both on random registers).

`distance_links` computes the camera-to-camera travel times and edges of `map_link` for many
pairs at once (the same formulas on arrays), and `relay.viewgaps` the view-to-view ones of mounted cameras
(each camera's ground footprint once, not once per pair: 20,000 mounted cameras took 320 s pair by pair).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from relaytrack.errors import InputError
from relaytrack.records import Camera, Link
from relaytrack.relay.footprint import Mount, View, footprint, mount_of, view_gap
from relaytrack.relay.geo import EARTH_RADIUS_M, edge_towards, haversine_m
from relaytrack.relay.viewgaps import Footprints, footprints, view_gaps, views_of

SLACK = 4  # neighbours asked for beyond k: room for the source itself and for ties
TOL_M = 1e-6  # distances closer than this are not trusted to order the same by chord and by haversine
EDGE_NAMES = np.array(["top", "right", "bottom", "left"], dtype=object)


def _unit(lat_r: np.ndarray, lon_r: np.ndarray) -> np.ndarray:
    c = np.cos(lat_r)
    return np.stack([c * np.cos(lon_r), c * np.sin(lon_r), np.sin(lat_r)], axis=-1)


def _chord(dist_m: float) -> float:
    return 2.0 * np.sin(min(dist_m, np.pi * EARTH_RADIUS_M) / (2.0 * EARTH_RADIUS_M))


def haversine_to(lat_r: np.ndarray, lon_r: np.ndarray, la: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Great-circle metres from (la, lo) to (lat_r, lon_r), radians, broadcast; the formula of
    `relay.geo.haversine_m` in the argument order the full sort used."""
    h = np.sin((lat_r - la) / 2) ** 2 + np.cos(la) * np.cos(lat_r) * np.sin((lon_r - lo) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, h)))


def nearest_within(
    src_lat: np.ndarray,
    src_lon: np.ndarray,
    src_self: np.ndarray,
    pool_lat: np.ndarray,
    pool_lon: np.ndarray,
    k: int,
    radius_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(source index, pool index) pairs: each source's `k` nearest pool cameras within `radius_m` (degrees in),
    nearest first, ties by pool index; the pool camera that is the source itself (`src_self[i]`, -1 for none)
    is neither taken nor counted."""
    from scipy.spatial import cKDTree

    n, s = len(pool_lat), len(src_lat)
    empty = np.zeros(0, np.int64)
    if n == 0 or s == 0 or k <= 0:
        return empty, empty
    plat, plon = np.radians(np.asarray(pool_lat, np.float64)), np.radians(np.asarray(pool_lon, np.float64))
    slat, slon = np.radians(np.asarray(src_lat, np.float64)), np.radians(np.asarray(src_lon, np.float64))
    src_self = np.asarray(src_self, np.int64)
    tree = cKDTree(_unit(plat, plon))
    su = _unit(slat, slon)
    kq = min(n, k + 1 + SLACK)
    bound = _chord(radius_m + 1.0)  # a metre over: the chord's rounding never drops a camera at the radius
    _, jq = tree.query(su, k=kq, distance_upper_bound=bound)
    jq = np.asarray(jq, np.int64).reshape(s, kq)
    found = jq < n
    jj = np.where(found, jq, 0)
    dist = haversine_to(plat[jj], plon[jj], slat[:, None], slon[:, None])
    rows, cols, dists = _pick(jq, dist, found, src_self, k, radius_m, n)

    # A source's picks are settled when the tree gave fewer than asked (everything inside the bound) or the
    # farthest it gave lies beyond the last pick: nothing it did not give can rank before a pick.
    full = found.all(axis=1) & (kq < n)  # asked for the whole pool: nothing was left out
    far = np.where(found, dist, -np.inf).max(axis=1)
    last = np.full(s, radius_m)
    counts = np.bincount(rows, minlength=s)
    has_k = counts >= k
    if has_k.any():
        ends = np.cumsum(counts) - 1
        last[has_k] = dists[ends[has_k]]
    unsettled = np.flatnonzero(full & (far <= last + TOL_M))
    if len(unsettled) == 0:
        return rows, cols
    keep = ~np.isin(rows, unsettled)
    out_r, out_c = [rows[keep]], [cols[keep]]
    for i in unsettled.tolist():
        cand = np.asarray(tree.query_ball_point(su[i], r=_chord(min(last[i], radius_m) + 1.0)), np.int64)
        d = haversine_to(plat[cand], plon[cand], slat[i], slon[i])
        r, c, _ = _pick(cand[None, :], d[None, :], np.ones((1, len(cand)), bool), src_self[i : i + 1], k,
                        radius_m, n)  # fmt: skip
        out_r.append(np.full(len(c), i, np.int64))
        out_c.append(c)
    rows, cols = np.concatenate(out_r), np.concatenate(out_c)
    order = np.argsort(rows, kind="stable")
    return rows[order], cols[order]


def _pick(
    j: np.ndarray, dist: np.ndarray, found: np.ndarray, src_self: np.ndarray, k: int, radius_m: float, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the first k candidates by (distance, pool index) within the radius, self excluded; returned
    flat, row by row, nearest first: (row, pool index, distance)."""
    ok = found & (dist <= radius_m) & (j != src_self[:, None])
    key_d = np.where(ok, dist, np.inf)
    key_j = np.where(ok, j, n)
    order = np.lexsort((key_j, key_d), axis=-1)
    ok_s = np.take_along_axis(ok, order, axis=-1)
    take = ok_s & (np.cumsum(ok_s, axis=-1) <= k)
    r, pos = np.nonzero(take)
    cols = np.take_along_axis(j, order, axis=-1)[r, pos]
    d = np.take_along_axis(dist, order, axis=-1)[r, pos]
    return r.astype(np.int64), cols.astype(np.int64), d


def _bearing(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    x = np.sin(dl) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(x, y)) % 360.0


def edges_towards(
    lat: np.ndarray, lon: np.ndarray, heading: np.ndarray, to_lat: np.ndarray, to_lon: np.ndarray
) -> np.ndarray:
    """`relay.geo.edge_towards` on arrays: the image edge facing the point, None where the heading is NaN."""
    rel = (_bearing(lat, lon, to_lat, to_lon) - heading) % 360.0
    idx = np.where((rel <= 45) | (rel >= 315), 0, np.where(rel < 135, 1, np.where(rel <= 225, 2, 3)))
    out = EDGE_NAMES[idx]
    out[np.isnan(heading)] = None
    return out


def pair_distance_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """`relay.geo.haversine_m` on arrays (degrees in)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def distance_links(
    lat: np.ndarray,
    lon: np.ndarray,
    heading: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    speeds: tuple[float, float, float],
    detour: float,
) -> dict[str, np.ndarray]:
    """Camera-to-camera links a[i] -> b[i] (indices into lat/lon/heading; heading NaN where unknown), as
    `map_link` makes them without a view footprint: the pole distance with a street detour at
    the mode's (slowest, typical, fastest) speeds, edges from the bearing against each heading. Columns:
    distance_m, mean_s, std_s, min_s, max_s, exit_edge, entry_edge."""
    slow, typical, fast = speeds
    d = pair_distance_m(lat[a], lon[a], lat[b], lon[b])
    lo, mean, hi = d / fast, d * detour / typical, d * detour * 1.3 / slow
    return {
        "distance_m": d,
        "mean_s": mean,
        "std_s": np.maximum(2.0, (hi - lo) / 4.0),
        "min_s": lo,
        "max_s": hi,
        "exit_edge": edges_towards(lat[a], lon[a], heading[a], lat[b], lon[b]),
        "entry_edge": edges_towards(lat[b], lon[b], heading[b], lat[a], lon[a]),
    }


# (slowest, typical, fastest) in m/s. Walking 0.8-1.8 m/s; city driving 15-60 km/h.
SPEEDS = {"walk": (0.8, 1.3, 1.8), "drive": (4.2, 8.3, 16.7)}
# Streets are longer than the straight line between two cameras.
DETOUR = 1.25
DEFAULT_RADIUS_M = {"walk": 300.0, "drive": 1500.0}
DEFAULT_NEIGHBOURS = 6


# ---------------------------------------------------------------- links from the map


# Footprint links (fitted on the tuning towns' simulated walks, 7/11/13 at 8/12/20 cameras, against the true
# transitions): the mean time is ~0.85 s per metre of gap between views (a walker's detour and pace), an
# overlap is crossed at a slant (~0.6 s per metre of overlap); the footprint is a guess from the register, so
# the window gets LO/HI margins in metres of walking (true windows inside it: 99 %).
VIEW_DETOUR = 1.1
OVERLAP_SLANT = 0.8
VIEW_MARGIN_LO_M, VIEW_MARGIN_HI_M = 8.0, 15.0


def map_link(a: Camera, b: Camera, mode: str = "walk", mounts: dict[str, Mount] | None = None) -> Link:
    """Travel-time link a -> b from the register: the gap between the cameras' views when both have a heading
    and a mount in `mounts` (`relay.footprint`), else the straight-line pole distance with a street detour; the mode's speed range."""
    if a.lat is None or b.lat is None:
        raise InputError(f"cannot infer a link {a.id}->{b.id}: camera without lat/lon")
    slow, typical, fast = SPEEDS[mode]
    # Only a register that says how a camera hangs (height, tilt) says where on the ground it looks; without
    # it the position stands for the view (as in the detection-level simulator, whose cameras watch a point).
    mounts = mounts or {}
    known = all(c.heading_deg is not None and c.id in mounts for c in (a, b))
    g = _view_gap(a, b, mounts) if known else None
    if g is None:
        d = haversine_m(a.lat, a.lon, b.lat, b.lon)
        lo, mean, hi = d / fast, d * DETOUR / typical, d * DETOUR * 1.3 / slow
        std = max(2.0, (hi - lo) / 4.0)
        exit_edge = edge_towards(a.lat, a.lon, a.heading_deg, b.lat, b.lon)
        entry_edge = edge_towards(b.lat, b.lon, b.heading_deg, a.lat, a.lon)
    else:
        lo, mean, hi, std = (float(v) for v in view_times(np.float64(g.gap_m), mode))
        exit_edge, entry_edge = g.exit_edge, g.entry_edge
    return Link(a.id, b.id, exit_edge, entry_edge, mean, std, lo, hi, mode, "map")


def view_times(gap: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Travel times (lo, mean, hi, std) across view gaps in metres (a scalar or an array): apart, the gap at
    the mode's speeds; overlapping (gap <= 0), seen by both at once, the second view entered before the first
    is left."""
    slow, typical, fast = SPEEDS[mode]
    m_lo, m_hi = VIEW_MARGIN_LO_M / typical, VIEW_MARGIN_HI_M / typical
    apart = gap > 0
    lo = np.where(apart, gap / fast - m_lo, gap * DETOUR / typical - m_lo)
    hi = np.where(apart, gap * DETOUR / slow + m_hi, m_hi)
    mean = np.where(apart, gap * VIEW_DETOUR / typical, gap * OVERLAP_SLANT / typical)
    return lo, mean, hi, np.maximum(3.0, (hi - lo) / 6.0)


_FOOTPRINTS: dict[tuple, tuple[View, object]] = {}


def _view_gap(a: Camera, b: Camera, mounts: dict[str, Mount]):
    """The footprint gap between a's and b's views (cached footprints, local metres around a)."""
    ref = (a.lat, a.lon)

    def view(c: Camera):
        m = mounts.get(c.id)
        key = (c.lat, c.lon, c.heading_deg, c.fov_deg, c.width, c.height, m, ref)
        if key not in _FOOTPRINTS:
            if len(_FOOTPRINTS) > 4096:
                _FOOTPRINTS.clear()
            v = View(c, m, ref)
            _FOOTPRINTS[key] = (v, footprint(v))
        return _FOOTPRINTS[key]

    va, pa = view(a)
    vb, pb = view(b)
    return view_gap(va, pa, vb, pb)


def camera_mounts(conn) -> dict[str, Mount]:
    """Mount height/tilt of the registered cameras that give them (a register entry's `mount` or top-level
    height_m/tilt_deg, kept in the camera's extra fields)."""
    out = {}
    for cid, extra in conn.execute("SELECT id, extra FROM cameras"):
        try:
            m = mount_of(json.loads(extra or "{}"))
        except ValueError:
            m = None
        if m is not None:
            out[cid] = m
    return out


def infer_links(
    sources: list[Camera],
    pool: list[Camera],
    *,
    mode: str = "walk",
    radius_m: float | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    mounts: dict[str, Mount] | None = None,
) -> list[Link]:
    """Links from each source camera to its nearest `neighbours` cameras of `pool` within radius_m, both ways.
    `mounts`: camera id -> Mount where the register gives it (`camera_mounts`); a pair with both mounted and
    headed is linked view to view, any other camera to camera."""
    return map_links(
        sources, pool, mode=mode, radius_m=radius_m, neighbours=neighbours, mounts=mounts
    ).links()


@dataclass
class LinkTable:
    """Inferred links as columns (one row per directed pair): `cams` and the pair indices into it, travel
    times, edges and pole distance. `links()` as Link records, `rows()` as camera_links rows."""

    cams: list[Camera]
    a: np.ndarray
    b: np.ndarray
    mode: str
    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.a)

    def links(self) -> list[Link]:
        c = self.cols
        return [
            Link(self.cams[i].id, self.cams[j].id, x, e, m, s, lo, hi, self.mode, "map")
            for i, j, x, e, m, s, lo, hi in zip(
                self.a.tolist(), self.b.tolist(), c["exit_edge"].tolist(), c["entry_edge"].tolist(),
                c["mean_s"].tolist(), c["std_s"].tolist(), c["min_s"].tolist(), c["max_s"].tolist(), strict=True,
            )
        ]  # fmt: skip


def map_links(
    sources: list[Camera],
    pool: list[Camera],
    *,
    mode: str = "walk",
    radius_m: float | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    mounts: dict[str, Mount] | None = None,
    footprint_cache: dict | None = None,
) -> LinkTable:
    """`infer_links` as a LinkTable: nearest neighbours from a k-d tree (`relay.maplinks`, the same
    neighbours as sorting the whole pool by distance, ties by pool order), camera-to-camera times on arrays,
    view-to-view pairs as `map_link` makes them, on arrays (`relay.viewgaps`). `footprint_cache`: a dict the
    caller keeps while it links one register in several modes, so the mounted cameras' footprints are worked
    out once (they do not depend on the mode); dropped with it."""
    radius = radius_m if radius_m is not None else DEFAULT_RADIUS_M[mode]
    mounts = mounts or {}
    cams = [c for c in pool if c.lat is not None]
    index = {c.id: i for i, c in enumerate(cams)}
    srcs = [c for c in sources if c.lat is not None]
    src_self = np.array([index.get(c.id, -1) for c in srcs], np.int64)
    ri, cj = nearest_within(
        np.array([c.lat for c in srcs], np.float64), np.array([c.lon for c in srcs], np.float64), src_self,
        np.array([c.lat for c in cams], np.float64), np.array([c.lon for c in cams], np.float64),
        neighbours, radius,
    )  # fmt: skip
    src_idx = src_self.copy()
    for k in np.flatnonzero(src_idx < 0).tolist():  # a source outside the pool joins the table's cameras
        if srcs[k].id not in index:
            index[srcs[k].id] = len(cams)
            cams.append(srcs[k])
        src_idx[k] = index[srcs[k].id]
    a0 = src_idx[ri] if len(ri) else np.zeros(0, np.int64)
    n = max(1, len(cams))
    # each pair both ways, once (np.unique is slower)
    code = np.sort(np.concatenate([a0 * n + cj, cj * n + a0]))
    code = code[np.concatenate([[True], code[1:] != code[:-1]])] if len(code) else code
    a, b = code // n, code % n
    lat = np.array([c.lat for c in cams], np.float64)
    lon = np.array([c.lon for c in cams], np.float64)
    heading = np.array([np.nan if c.heading_deg is None else c.heading_deg for c in cams], np.float64)
    cols = distance_links(lat, lon, heading, a, b, SPEEDS[mode], DETOUR)
    viewed = np.array([c.heading_deg is not None and c.id in mounts for c in cams], bool)
    if len(cams) and viewed.any():
        _view_links(cols, cams, viewed, mounts, a, b, mode, footprint_cache)
    return LinkTable(cams, a, b, mode, cols)


def _view_links(
    cols, cams: list[Camera], viewed: np.ndarray, mounts: dict[str, Mount], a, b, mode,
    cache: dict[tuple[bytes, ...], Footprints] | None,
) -> None:  # fmt: skip
    """`map_link`'s view-to-view links, in place, for the pairs a -> b whose cameras are both `viewed`
    (mounted and headed), on arrays (`relay.viewgaps`); a pair whose views view_gap cannot place (a camera
    that sees no ground) keeps its camera-to-camera columns, as map_link falls back to them."""
    rows = np.flatnonzero(viewed[a] & viewed[b])
    if len(rows) == 0:
        return
    idx = np.flatnonzero(viewed)  # every viewed camera, pairs or not: the same views for every mode's table
    views = views_of([cams[i] for i in idx.tolist()], [mounts[cams[i].id] for i in idx.tolist()])
    key = views.key()
    fp = cache.get(key) if cache is not None else None
    if fp is None:
        fp = footprints(views)
        if cache is not None:
            cache[key] = fp
    compact = np.cumsum(viewed) - 1
    gap, exit_edge, entry_edge = view_gaps(views, fp, compact[a[rows]], compact[b[rows]])
    placed = ~np.isnan(gap)
    rows = rows[placed]
    cols["min_s"][rows], cols["mean_s"][rows], cols["max_s"][rows], cols["std_s"][rows] = view_times(
        gap[placed], mode
    )
    cols["exit_edge"][rows] = exit_edge[placed]
    cols["entry_edge"][rows] = entry_edge[placed]
