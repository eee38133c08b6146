"""The camera network: cameras and the links between them.

Imported from YAML (the shared format in the project brief), CSV or GeoJSON. Links the file does not give are
inferred from the map: each camera is linked to its nearest neighbours within a radius, the travel time comes
from the distance and walking (0.8-1.8 m/s) or driving speeds, and the exit edge from the bearing to the
neighbour relative to the camera's heading. Confirmed hops later refine the travel times (`refine_links`).

An import is one transaction: any bad row (unknown owner, link to a missing camera, ...) raises InputError
naming the file and row, and nothing stored changes.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from relaytrack.errors import InputError, NotFound
from relaytrack.records import EDGES, Camera, Link
from relaytrack.relay.clock import true_times
from relaytrack.relay.geo import edge_towards, haversine_m
from relaytrack.relay.persist import confirmed_chains, stored_routes
from relaytrack.store.sightings import row_to_camera, upsert_camera

OWNERS = ("본청", "사업소", "투출기관", "자치구")
PURPOSES = (
    "방범",
    "어린이보호구역",
    "도시공원·놀이터",
    "쓰레기무단투기",
    "시설안전·화재예방",
    "교통단속",
    "교통정보수집",
    "기타",
)
MODES = ("walk", "drive")
# (slowest, typical, fastest) in m/s. Walking 0.8-1.8 m/s; city driving 15-60 km/h.
SPEEDS = {"walk": (0.8, 1.3, 1.8), "drive": (4.2, 8.3, 16.7)}
# Streets are longer than the straight line between two cameras.
DETOUR = 1.25
DEFAULT_RADIUS_M = {"walk": 300.0, "drive": 1500.0}
DEFAULT_NEIGHBOURS = 6

CAMERA_FIELDS = (
    "id",
    "name",
    "lat",
    "lon",
    "heading_deg",
    "fov_deg",
    "district",
    "owner",
    "purpose",
    "stream_url",
    "clock_offset_s",
    "width",
    "height",
)
EXTRA_FIELDS = ("start_time", "source", "zones")
ALIASES = {
    "latitude": "lat",
    "longitude": "lon",
    "lng": "lon",
    "heading": "heading_deg",
    "fov": "fov_deg",
    "clock_offset": "clock_offset_s",
    "url": "stream_url",
    "camera": "id",
    "camera_id": "id",
}


@dataclass
class CameraEntry:
    camera: Camera
    extra: dict[str, Any]
    where: str  # "file.yaml: cameras[3]" for messages


@dataclass
class NetworkFile:
    path: Path
    cameras: list[CameraEntry] = field(default_factory=list)
    links: list[tuple[Link, str]] = field(default_factory=list)


# ---------------------------------------------------------------- reading files


def _num(
    value: Any,
    name: str,
    where: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    integer: bool = False,
) -> float | int | None:
    if value is None or value == "":
        return None
    try:
        out = int(value) if integer else float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} must be a number, got {value!r}") from None
    if isinstance(out, float) and not math.isfinite(out):
        raise InputError(f"{where}: {name} must be finite, got {value!r}")
    if (lo is not None and out < lo) or (hi is not None and out > hi):
        raise InputError(f"{where}: {name} {value!r} out of range [{lo}, {hi}]")
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _camera_from_mapping(d: dict[str, Any], where: str, base: Path) -> CameraEntry:
    d = {ALIASES.get(str(k).strip(), str(k).strip()): v for k, v in d.items()}
    cid = _text(d.get("id"))
    if not cid:
        raise InputError(f"{where}: camera without an id")
    where = f"{where} (camera {cid})"
    owner, purpose = _text(d.get("owner")), _text(d.get("purpose"))
    if owner is not None and owner not in OWNERS:
        raise InputError(f"{where}: owner {owner!r} is not one of {', '.join(OWNERS)}")
    if purpose is not None and purpose not in PURPOSES:
        raise InputError(f"{where}: purpose {purpose!r} is not one of {', '.join(PURPOSES)}")
    lat = _num(d.get("lat"), "lat", where, lo=-90, hi=90)
    lon = _num(d.get("lon"), "lon", where, lo=-180, hi=180)
    if (lat is None) != (lon is None):
        raise InputError(f"{where}: give both lat and lon, or neither")
    heading = _num(d.get("heading_deg"), "heading_deg", where, lo=-360, hi=360)
    cam = Camera(
        id=cid,
        name=_text(d.get("name")) or cid,
        lat=lat,
        lon=lon,
        heading_deg=None if heading is None else heading % 360.0,
        fov_deg=_num(d.get("fov_deg"), "fov_deg", where, lo=1, hi=360),
        district=_text(d.get("district")),
        owner=owner,
        purpose=purpose,
        stream_url=_text(d.get("stream_url")),
        clock_offset_s=_num(d.get("clock_offset_s"), "clock_offset_s", where, lo=-86400, hi=86400) or 0.0,
        width=_num(d.get("width"), "width", where, lo=1, hi=100000, integer=True),
        height=_num(d.get("height"), "height", where, lo=1, hi=100000, integer=True),
    )
    extra: dict[str, Any] = {}
    st = d.get("start_time")
    if st not in (None, ""):
        if isinstance(st, datetime):
            extra["start_time"] = st.isoformat()
        else:
            try:
                datetime.fromisoformat(str(st))
            except ValueError:
                raise InputError(f"{where}: start_time {st!r} is not an ISO time") from None
            extra["start_time"] = str(st)
    src = _text(d.get("source"))
    if src:
        # Relative to the network file's folder; kept absolute too because the store forgets where that was.
        extra["source"] = src
        p = Path(src)
        extra["source_path"] = str(p if p.is_absolute() or "://" in src else (base / p).resolve())
    zones = d.get("zones")
    if zones:
        extra["zones"] = _zones(zones, where)
    for k, v in d.items():
        if k not in CAMERA_FIELDS and k not in EXTRA_FIELDS and v not in (None, ""):
            extra[k] = v  # keep what others put in the file (e.g. the town's own fields)
    return CameraEntry(cam, extra, where)


def _zones(zones: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(zones, list):
        raise InputError(f"{where}: zones must be a list")
    out = []
    for i, z in enumerate(zones):
        zw = f"{where} zones[{i}]"
        if not isinstance(z, dict) or not z.get("id"):
            raise InputError(f"{zw}: a zone needs an id")
        poly = z.get("polygon")
        try:
            pts = [[float(p[0]), float(p[1])] for p in poly]
        except (TypeError, ValueError, IndexError, KeyError):
            raise InputError(f"{zw}: polygon must be a list of [x, y] points") from None
        if len(pts) < 3:
            raise InputError(f"{zw}: polygon needs at least 3 points")
        out.append({**z, "id": str(z["id"]), "kind": str(z.get("kind") or "other"), "polygon": pts})
    return out


def _edge(value: Any, name: str, where: str) -> str | None:
    e = _text(value)
    if e is None or e in ("any", "*"):
        return None
    if e not in EDGES:
        raise InputError(f"{where}: {name} {e!r} is not one of {', '.join(EDGES)}")
    return e


def _link_from_mapping(d: dict[str, Any], where: str) -> Link:
    src, dst = _text(d.get("src")), _text(d.get("dst"))
    if not src or not dst:
        raise InputError(f"{where}: a link needs src and dst")
    where = f"{where} (link {src}->{dst})"
    if src == dst:
        raise InputError(f"{where}: a link must join two different cameras")
    mode = _text(d.get("mode")) or "walk"
    if mode not in MODES:
        raise InputError(f"{where}: mode {mode!r} is not one of {', '.join(MODES)}")
    mean = _num(d.get("mean_s"), "mean_s", where, lo=-3600, hi=86400)
    if mean is None:
        raise InputError(f"{where}: mean_s is required")
    std = _num(d.get("std_s"), "std_s", where, lo=0, hi=86400)
    std = max(1.0, abs(mean) * 0.25) if std is None else max(std, 0.5)
    lo = _num(d.get("min_s"), "min_s", where, lo=-3600, hi=86400)
    hi = _num(d.get("max_s"), "max_s", where, lo=-3600, hi=86400)
    lo = mean - 3 * std if lo is None else lo
    hi = mean + 3 * std if hi is None else hi
    if not lo <= mean <= hi:
        raise InputError(f"{where}: needs min_s <= mean_s <= max_s, got {lo}, {mean}, {hi}")
    return Link(
        src,
        dst,
        _edge(d.get("exit_edge"), "exit_edge", where),
        _edge(d.get("entry_edge"), "entry_edge", where),
        float(mean),
        float(std),
        float(lo),
        float(hi),
        mode,
        "file",
    )


def read_network(path: str | Path) -> NetworkFile:
    """Parse a network file (YAML, CSV of cameras or of links, GeoJSON) without touching any store."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such network file")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read ({err})") from None
    net = NetworkFile(path)
    base = path.parent
    if suffix in (".yaml", ".yml"):
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as err:
            raise InputError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(doc, dict):
            raise InputError(f"{path}: expected a mapping with 'cameras' (and optional 'links')")
        for i, c in enumerate(doc.get("cameras") or []):
            if not isinstance(c, dict):
                raise InputError(f"{path}: cameras[{i}] is not a mapping")
            net.cameras.append(_camera_from_mapping(c, f"{path}: cameras[{i}]", base))
        for i, ln in enumerate(doc.get("links") or []):
            if not isinstance(ln, dict):
                raise InputError(f"{path}: links[{i}] is not a mapping")
            w = f"{path}: links[{i}]"
            net.links.append((_link_from_mapping(ln, w), w))
    elif suffix in (".geojson", ".json"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}: not valid JSON ({err})") from None
        feats = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(feats, list):
            raise InputError(f"{path}: expected a GeoJSON FeatureCollection")
        for i, f in enumerate(feats):
            w = f"{path}: features[{i}]"
            geom = (f or {}).get("geometry") or {}
            props = dict((f or {}).get("properties") or {})
            if geom.get("type") == "Point":
                coords = geom.get("coordinates") or []
                if len(coords) < 2:
                    raise InputError(f"{w}: Point without coordinates")
                props.setdefault("id", f.get("id"))
                props["lon"], props["lat"] = coords[0], coords[1]
                net.cameras.append(_camera_from_mapping(props, w, base))
            elif geom.get("type") == "LineString" and ("src" in props or "dst" in props):
                net.links.append((_link_from_mapping(props, w), w))
            # Other features (district polygons, route lines of an earlier export) are not part of a network.
    elif suffix in (".csv", ".tsv"):
        rows = list(csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ","))
        if not rows:
            raise InputError(f"{path}: no rows")
        header = {ALIASES.get(k.strip(), k.strip()) for k in rows[0] if k}
        if {"src", "dst"} <= header:
            for i, r in enumerate(rows, start=2):
                w = f"{path}: row {i}"
                net.links.append((_link_from_mapping(r, w), w))
        elif "id" in header:
            for i, r in enumerate(rows, start=2):
                net.cameras.append(_camera_from_mapping(r, f"{path}: row {i}", base))
        else:
            raise InputError(f"{path}: CSV needs an 'id' column (cameras) or 'src' and 'dst' columns (links)")
    else:
        raise InputError(f"{path}: unknown network format {suffix!r} (use .yaml, .csv or .geojson)")
    seen: dict[str, str] = {}
    for e in net.cameras:
        if e.camera.id in seen:
            raise InputError(f"{e.where}: duplicate camera id (first at {seen[e.camera.id]})")
        seen[e.camera.id] = e.where
    return net


# ---------------------------------------------------------------- links from the map


def map_link(a: Camera, b: Camera, mode: str = "walk") -> Link:
    """Travel-time link a -> b from the straight-line distance, street detour and the mode's speed range."""
    if a.lat is None or b.lat is None:
        raise InputError(f"cannot infer a link {a.id}->{b.id}: camera without lat/lon")
    d = haversine_m(a.lat, a.lon, b.lat, b.lon)
    slow, typical, fast = SPEEDS[mode]
    lo, mean, hi = d / fast, d * DETOUR / typical, d * DETOUR * 1.3 / slow
    std = max(2.0, (hi - lo) / 4.0)
    return Link(
        a.id,
        b.id,
        edge_towards(a.lat, a.lon, a.heading_deg, b.lat, b.lon),
        edge_towards(b.lat, b.lon, b.heading_deg, a.lat, a.lon),
        mean,
        std,
        lo,
        hi,
        mode,
        "map",
    )


def infer_links(
    sources: list[Camera],
    pool: list[Camera],
    *,
    mode: str = "walk",
    radius_m: float | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
) -> list[Link]:
    """Links from each source camera to its nearest `neighbours` cameras of `pool` within radius_m, both ways."""
    import numpy as np

    radius = radius_m if radius_m is not None else DEFAULT_RADIUS_M[mode]
    placed = [c for c in pool if c.lat is not None]
    if not placed:
        return []
    lat = np.radians([c.lat for c in placed])
    lon = np.radians([c.lon for c in placed])
    out: dict[tuple[str, str], Link] = {}
    for a in sources:
        if a.lat is None:
            continue
        la, lo = math.radians(a.lat), math.radians(a.lon)
        h = np.sin((lat - la) / 2) ** 2 + math.cos(la) * np.cos(lat) * np.sin((lon - lo) / 2) ** 2
        dist = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(1.0, h)))
        order = np.argsort(dist)
        taken = 0
        for j in order:
            if dist[j] > radius or taken >= neighbours:
                break
            b = placed[int(j)]
            if b.id == a.id:
                continue
            taken += 1
            out.setdefault((a.id, b.id), map_link(a, b, mode))
            out.setdefault((b.id, a.id), map_link(b, a, mode))
    return list(out.values())


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


def _conn_of(target: Any) -> Any:
    return getattr(target, "conn", target)


def import_network(
    target: Any,
    path: str | Path,
    *,
    infer: bool = True,
    modes: tuple[str, ...] = MODES,
    neighbours: int = DEFAULT_NEIGHBOURS,
    radius_m: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Import a network file into a store (a Store or its connection) in one transaction.

    Cameras are upserted; links given in the file replace earlier file links of their source cameras; cameras
    of the file with no given outgoing link get links inferred from the map (when they have lat/lon), for each
    mode in `modes`. Returns a summary: {"file", "cameras", "links_given", "links_inferred", "without_links"}.
    """
    net = read_network(path)
    conn = _conn_of(target)
    conn.execute("SAVEPOINT import_network")
    try:
        summary = _import(conn, net, infer=infer, modes=modes, neighbours=neighbours, radius_m=radius_m or {})
    except BaseException:
        conn.execute("ROLLBACK TO import_network")
        conn.execute("RELEASE import_network")
        raise
    conn.execute("RELEASE import_network")
    if hasattr(target, "run_commit_hooks"):
        target.run_commit_hooks()
    return summary


def _import(
    conn,
    net: NetworkFile,
    *,
    infer: bool,
    modes: tuple[str, ...],
    neighbours: int,
    radius_m: dict[str, float],
) -> dict[str, Any]:
    for e in net.cameras:
        upsert_camera(conn, e.camera, e.extra)
    known = {r[0] for r in conn.execute("SELECT id FROM cameras")}
    for link, where in net.links:
        for end in (link.src, link.dst):
            if end not in known:
                raise InputError(f"{where}: link to missing camera {end!r} (not in the file nor the store)")
    given_src = sorted({ln.src for ln, _ in net.links})
    # A re-import replaces what the file said before about these cameras.
    for src in given_src:
        conn.execute("DELETE FROM camera_links WHERE src=? AND source IN ('file', 'map')", (src,))
    for link, _ in net.links:
        save_link(conn, link)
    inferred = 0
    file_ids = [e.camera.id for e in net.cameras]
    without = []
    if infer:
        pool = all_cameras(conn)
        by_id = {c.id: c for c in pool}
        given = set(given_src)
        to_infer = [by_id[i] for i in file_ids if i not in given]
        for cid in [c.id for c in to_infer]:
            conn.execute("DELETE FROM camera_links WHERE (src=? OR dst=?) AND source='map'", (cid, cid))
        have = {(r[0], r[1]) for r in conn.execute("SELECT src, dst FROM camera_links")}
        for mode in modes:
            for link in infer_links(
                to_infer, pool, mode=mode, radius_m=radius_m.get(mode), neighbours=neighbours
            ):
                if link.src in given or (link.src, link.dst) in have:
                    continue  # the file spoke about this camera's exits; do not second-guess it
                a, b = by_id[link.src], by_id[link.dst]
                before = conn.total_changes
                save_link(conn, link, haversine_m(a.lat, a.lon, b.lat, b.lon), replace=False)
                inferred += conn.total_changes - before
    for cid in file_ids:
        if conn.execute("SELECT 1 FROM camera_links WHERE src=? LIMIT 1", (cid,)).fetchone() is None:
            without.append(cid)
    return {
        "file": str(net.path),
        "cameras": len(net.cameras),
        "links_given": len(net.links),
        "links_inferred": inferred,
        "without_links": without,
    }


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
    estimate, weight PRIOR_WEIGHT) with the observed mean and spread. Recomputed from the prior every time, so
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
            k = PRIOR_WEIGHT
            mean = (k * r["prior_mean_s"] + n * m_obs) / (k + n)
            ss = k * r["prior_std_s"] ** 2 + sum((x - mean) ** 2 for x in xs)
            std = max(1.0, math.sqrt(ss / (k + n)))
            lo = min(r["min_s"], min(xs) - std)
            hi = max(r["max_s"] if r["max_s"] is not None else mean + 3 * std, max(xs) + std)
            conn.execute(
                "UPDATE camera_links SET mean_s=?, std_s=?, min_s=?, max_s=?, n_obs=?, source='data'"
                " WHERE id=?",
                (mean, std, lo, hi, n, r["id"]),
            )
            updated += 1
    return {"observations": len(obs), "links_updated": updated, "unlinked": unlinked}
