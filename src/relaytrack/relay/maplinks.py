"""Map links at city scale: each camera's nearest neighbours through a k-d tree, travel times as arrays.

`relay.network.infer_links` links every source camera to its `k` nearest cameras of a pool within a radius.
Done by sorting the whole pool for every source, that is quadratic: 100,000 cameras took minutes. Here the
pool's positions go into a k-d tree (unit vectors on the sphere: the chord between two points grows with their
great-circle distance), each source asks it for a few more than `k` neighbours, and those are ranked by the same
haversine distance, ties by pool order, exactly as a full sort would rank them. Where the neighbours asked for
do not settle the ranking (cameras at one spot, more than asked for at the same distance) the source asks the
tree for everything up to that distance instead. The result is the full sort's, neighbour for neighbour
(tests/relay/test_map_links_fast.py compares both on random registers).

`distance_links` computes the camera-to-camera travel times and edges of `relay.network.map_link` for many
pairs at once (the same formulas on arrays).
"""

from __future__ import annotations

import numpy as np

from relaytrack.relay.geo import EARTH_RADIUS_M

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
    `relay.network.map_link` makes them without a view footprint: the pole distance with a street detour at
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
