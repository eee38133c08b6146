"""The camera network: cameras and the links between them.

Imported from YAML (the shared format in the project brief), CSV or GeoJSON (read by `relay.netfile`). Links the file does not give are
inferred from the map: each camera is linked to its nearest neighbours within a radius. Where the register
gives a heading and a mount (height, tilt), the travel time is that of the gap between the two cameras' watched stretches of ground
(`relay.footprint`: pole cameras look 5-35 m ahead, so neighbours' views often meet or overlap, and the time
from leaving one to entering the other is near zero or negative), and the exit/entry edges those that face
each other's views; otherwise the camera-to-camera distance at walking (0.8-1.8 m/s) or driving speeds, and
the edges from the bearing to the neighbour relative to the heading (any edge without one). Confirmed hops later refine the travel times (`refine_links`).

An import is one transaction (`relay.netimport`): any bad row (unknown owner, link to a missing camera, ...)
raises InputError naming the file and row, and nothing stored changes. Neighbours come from a k-d tree
(`relay.maplinks`), so a city's register of 176,371 cameras links in seconds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.errors import InputError, NotFound
from relaytrack.records import Camera, Link
from relaytrack.relay.clock import true_times
from relaytrack.relay.footprint import Mount, View, footprint, mount_of, view_gap
from relaytrack.relay.geo import edge_towards, haversine_m
from relaytrack.relay.maplinks import distance_links, nearest_within
from relaytrack.relay.netfile import CAMERA_FIELDS, MODES, NetworkFile, read_network  # noqa: F401 (re-exported)
from relaytrack.relay.persist import confirmed_chains, stored_routes
from relaytrack.store.sightings import row_to_camera

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
        gap = g.gap_m
        m_lo, m_hi = VIEW_MARGIN_LO_M / typical, VIEW_MARGIN_HI_M / typical
        if gap > 0:
            lo, mean, hi = gap / fast - m_lo, gap * VIEW_DETOUR / typical, gap * DETOUR / slow + m_hi
        else:  # overlapping views: seen by both at once, the second view entered before the first is left
            lo, mean, hi = gap * DETOUR / typical - m_lo, gap * OVERLAP_SLANT / typical, m_hi
        std = max(3.0, (hi - lo) / 6.0)
        exit_edge, entry_edge = g.exit_edge, g.entry_edge
    return Link(a.id, b.id, exit_edge, entry_edge, mean, std, lo, hi, mode, "map")


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
    return map_links(sources, pool, mode=mode, radius_m=radius_m, neighbours=neighbours, mounts=mounts).links()


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
) -> LinkTable:
    """`infer_links` as a LinkTable: nearest neighbours from a k-d tree (`relay.maplinks`, the same
    neighbours as sorting the whole pool by distance, ties by pool order), camera-to-camera times on arrays,
    view-to-view pairs through `map_link`."""
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
    code = np.sort(np.concatenate([a0 * n + cj, cj * n + a0]))  # each pair both ways, once (np.unique is slower)
    code = code[np.concatenate([[True], code[1:] != code[:-1]])] if len(code) else code
    a, b = code // n, code % n
    lat = np.array([c.lat for c in cams], np.float64)
    lon = np.array([c.lon for c in cams], np.float64)
    heading = np.array([np.nan if c.heading_deg is None else c.heading_deg for c in cams], np.float64)
    cols = distance_links(lat, lon, heading, a, b, SPEEDS[mode], DETOUR)
    viewed = np.array([c.heading_deg is not None and c.id in mounts for c in cams], bool)
    for r in np.flatnonzero(viewed[a] & viewed[b]).tolist() if len(cams) else []:
        ln = map_link(cams[a[r]], cams[b[r]], mode, mounts)
        for key, v in (("mean_s", ln.mean_s), ("std_s", ln.std_s), ("min_s", ln.min_s), ("max_s", ln.max_s),
                       ("exit_edge", ln.exit_edge), ("entry_edge", ln.entry_edge)):  # fmt: skip
            cols[key][r] = v
    return LinkTable(cams, a, b, mode, cols)


# ---------------------------------------------------------------- store access


def all_cameras(conn) -> list[Camera]:
    return [row_to_camera(r) for r in conn.execute("SELECT * FROM cameras ORDER BY id")]


def camera_info(conn, camera_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM cameras WHERE id=?", (camera_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown camera {camera_id!r} (see `relaytrack cameras list`)")
    cam = row_to_camera(row)
    out = {k: getattr(cam, k) for k in CAMERA_FIELDS}
    out["extra"] = json.loads(row["extra"] or "{}")
    out["sightings"] = conn.execute(
        "SELECT COUNT(*) FROM sightings WHERE camera_id=?", (camera_id,)
    ).fetchone()[0]
    out["links_out"] = [
        link_dict(r)
        for r in conn.execute("SELECT * FROM camera_links WHERE src=? ORDER BY dst, mode", (camera_id,))
    ]
    out["links_in"] = [
        link_dict(r)
        for r in conn.execute("SELECT * FROM camera_links WHERE dst=? ORDER BY src, mode", (camera_id,))
    ]
    return out


def row_to_link(r: Any) -> Link:
    return Link(
        r["src"],
        r["dst"],
        r["exit_edge"] or None,
        r["entry_edge"] or None,
        r["mean_s"],
        r["std_s"],
        r["min_s"],
        r["max_s"],
        r["mode"],
        r["source"],
    )


def link_dict(r: Any) -> dict[str, Any]:
    return {
        "src": r["src"],
        "dst": r["dst"],
        "exit_edge": r["exit_edge"] or None,
        "entry_edge": r["entry_edge"] or None,
        "mode": r["mode"],
        "mean_s": round(r["mean_s"], 2),
        "std_s": round(r["std_s"], 2),
        "min_s": round(r["min_s"], 2),
        "max_s": None if r["max_s"] is None else round(r["max_s"], 2),
        "source": r["source"],
        "n_obs": r["n_obs"],
        "prior_mean_s": round(r["prior_mean_s"], 2),
        "prior_std_s": round(r["prior_std_s"], 2),
        "distance_m": None if r["distance_m"] is None else round(r["distance_m"], 1),
    }


def links_from(conn, camera_id: str, mode: str | None = None) -> list[Link]:
    sql, args = "SELECT * FROM camera_links WHERE src=?", [camera_id]
    if mode:
        sql += " AND mode=?"
        args.append(mode)
    return [row_to_link(r) for r in conn.execute(sql, args)]


def links_to(conn, camera_id: str, mode: str | None = None) -> list[Link]:
    sql, args = "SELECT * FROM camera_links WHERE dst=?", [camera_id]
    if mode:
        sql += " AND mode=?"
        args.append(mode)
    return [row_to_link(r) for r in conn.execute(sql, args)]


def all_links(conn) -> list[dict[str, Any]]:
    return [
        link_dict(r) for r in conn.execute("SELECT * FROM camera_links ORDER BY src, dst, mode, exit_edge")
    ]


def save_link(conn, link: Link, distance_m: float | None = None, *, replace: bool = True) -> None:
    verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
    conn.execute(
        f"{verb} INTO camera_links(src, dst, exit_edge, entry_edge, mode, mean_s, std_s, min_s, max_s, source,"
        " prior_mean_s, prior_std_s, n_obs, distance_m) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
        (
            link.src,
            link.dst,
            link.exit_edge or "",
            link.entry_edge or "",
            link.mode,
            link.mean_s,
            link.std_s,
            link.min_s,
            link.max_s,
            link.source,
            link.mean_s,
            link.std_s,
            distance_m,
        ),
    )


def import_network(
    target: Any,
    path: str | Path,
    *,
    infer: bool = True,
    modes: tuple[str, ...] = MODES,
    neighbours: int = DEFAULT_NEIGHBOURS,
    radius_m: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Import a network file into a store (a Store or its connection) in one transaction: `relay.netimport`
    (cameras upserted, file links stored, map links inferred for the file's cameras without given links)."""
    from relaytrack.relay.netimport import import_network as run

    return run(target, path, infer=infer, modes=modes, neighbours=neighbours, radius_m=radius_m)


# ---------------------------------------------------------------- refinement from confirmed hops

PRIOR_WEIGHT = 3.0  # the map/file estimate counts as this many observations


def transition_observations(conn, *, min_conf: float = 0.8) -> list[tuple[str, str, float, str]]:
    """(src camera, dst camera, travel seconds, mode) of consecutive confident hops: operator-confirmed sightings of
    each case/origin, and stored route hops with confidence >= min_conf."""
    chains = confirmed_chains(conn)
    for route in stored_routes(conn):
        chains.append([h.sighting.id for h in route.hops if h.confidence >= min_conf])
    seen: set[tuple[int, int]] = set()
    out = []
    for ids in chains:
        rows = true_times(conn, ids)
        rows.sort(key=lambda r: r[2])
        for a, b in zip(rows, rows[1:], strict=False):
            if a[1] == b[1] or (a[0], b[0]) in seen:
                continue
            seen.add((a[0], b[0]))
            out.append((a[1], b[1], b[2] - a[3], "walk" if a[4] == "person" else "drive"))
    return out


def refine_links(conn, *, min_conf: float = 0.8, observations: list[tuple] | None = None) -> dict[str, Any]:
    """Update link travel times from observed transitions: a conjugate-style blend of the prior (map or file
    estimate, weight PRIOR_WEIGHT; a learned link's, weight its support, and it stays source='learned') with the
    observed mean and spread. Recomputed from the prior every time, so
    running it twice changes nothing. Returns {"observations", "links_updated", "unlinked": [(src, dst)]}."""
    obs = observations if observations is not None else transition_observations(conn, min_conf=min_conf)
    by_pair: dict[tuple[str, str, str], list[float]] = {}
    for o in obs:
        mode = o[3] if len(o) > 3 else "walk"
        by_pair.setdefault((o[0], o[1], mode), []).append(float(o[2]))
    updated, unlinked = 0, []
    for (src, dst, mode), xs in sorted(by_pair.items()):
        rows = conn.execute(
            "SELECT * FROM camera_links WHERE src=? AND dst=? AND mode=?", (src, dst, mode)
        ).fetchall()
        if not rows:
            unlinked.append([src, dst])
            continue
        n = len(xs)
        m_obs = sum(xs) / n
        for r in rows:
            # A learned link's prior is backed by its support (transitions over chance), a map guess by little.
            learned = r["source"] == "learned"
            k = max(PRIOR_WEIGHT, float(r["support"] or 0.0)) if learned else PRIOR_WEIGHT
            mean = (k * r["prior_mean_s"] + n * m_obs) / (k + n)
            ss = k * r["prior_std_s"] ** 2 + sum((x - mean) ** 2 for x in xs)
            std = max(1.0, math.sqrt(ss / (k + n)))
            lo = min(r["min_s"], min(xs) - std)
            hi = max(r["max_s"] if r["max_s"] is not None else mean + 3 * std, max(xs) + std)
            conn.execute(
                "UPDATE camera_links SET mean_s=?, std_s=?, min_s=?, max_s=?, n_obs=?, source=?"
                " WHERE id=?",
                (mean, std, lo, hi, n, "learned" if learned else "data", r["id"]),
            )
            updated += 1
    return {"observations": len(obs), "links_updated": updated, "unlinked": unlinked}
