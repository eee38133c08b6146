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
from typing import Any

from relaytrack.errors import NotFound
from relaytrack.records import Camera, Link
from relaytrack.relay.clock import true_times
from relaytrack.relay.maplinks import (  # noqa: F401 (the map links' API, re-exported)
    DEFAULT_NEIGHBOURS,
    DEFAULT_RADIUS_M,
    DETOUR,
    SPEEDS,
    LinkTable,
    camera_mounts,
    infer_links,
    map_link,
    map_links,
)
from relaytrack.relay.netfile import CAMERA_FIELDS, MODES, NetworkFile, read_network  # noqa: F401 (re-exported)
from relaytrack.relay.netimport import import_network, save_link  # noqa: F401 (re-exported)
from relaytrack.relay.persist import confirmed_chains, stored_routes
from relaytrack.store.sightings import row_to_camera

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


def map_links_around(conn, cam: Camera | None, direction: str, mode: str) -> list[Link]:
    """Map links of one camera inferred on the fly from the cameras registered within the mode's radius
    (leaving it when `direction` is forward, reaching it when backward); [] without a position."""
    if cam is None or cam.lat is None:
        return []
    r = DEFAULT_RADIUS_M[mode]
    dlat = r / 111_000.0
    dlon = r / (111_000.0 * max(0.1, math.cos(math.radians(cam.lat))))
    rows = conn.execute(
        "SELECT * FROM cameras WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?",
        (cam.lat - dlat, cam.lat + dlat, cam.lon - dlon, cam.lon + dlon),
    ).fetchall()
    pool = [row_to_camera(x) for x in rows]
    links = infer_links([cam], pool, mode=mode, radius_m=r, mounts=camera_mounts(conn))
    key = "src" if direction == "forward" else "dst"
    return [ln for ln in links if getattr(ln, key) == cam.id]
