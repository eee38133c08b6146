"""Importing a camera network file into a store (`relaytrack cameras import`, `relay.network.import_network`).

One transaction: cameras upserted, links given in the file replacing the file's earlier links of their source
cameras, map links inferred for the file's cameras that the file gives no outgoing link (`relay.network.
map_links`: nearest neighbours within a radius, both ways). A bad row anywhere (`relay.netfile`) raises
InputError before anything is written, and nothing stored changes.

A city's register is the slow case (Seoul: 176,371 cameras, 2.6 million walk and drive links), and a store's
write lock held while links are worked out stops every ingest. So the file is read and the links worked out
before the transaction, against the cameras the store holds then as the file will leave them; the
transaction checks that no other connection has written since (SQLite's data_version; on PostgreSQL by
reading the cameras again) and otherwise works them out again inside. `summary["seconds"]["write"]` is how
long the lock was held.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.errors import InputError
from relaytrack.records import Camera, Link
from relaytrack.relay.footprint import Mount, mount_of
from relaytrack.relay.maplinks import DEFAULT_NEIGHBOURS, LinkTable, map_links
from relaytrack.relay.netfile import MODES, NetworkFile, read_network
from relaytrack.store.db import is_postgres
from relaytrack.store.sightings import row_to_camera, upsert_cameras

LINK_INSERT = (
    "INSERT OR IGNORE INTO camera_links(src, dst, exit_edge, entry_edge, mode, mean_s, std_s, min_s, max_s,"
    " source, prior_mean_s, prior_std_s, n_obs, distance_m) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?)"
)
BIG = 5000  # cameras in a file from which the write gets a larger page cache and no per-row key lookups


@dataclass
class Plan:
    """Map links worked out before the transaction: the pool they were worked out against, the store's
    data_version then (SQLite), and the rows to insert (sources the file gives links for left out)."""

    pool: list[Camera]
    mounts: dict[str, Mount]
    version: int | None
    columns: dict[str, np.ndarray]


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
    mode in `modes`. Returns a summary: {"file", "cameras", "links_given", "links_inferred", "without_links",
    "without_heading", "without_fov", "inferred_before_lock", "seconds": {"read", "infer", "write"}} (cameras
    missing a heading still link by distance, with any edge; "write" is the time the write lock was held;
    inferred_before_lock false where the store changed meanwhile and the links were worked out inside).
    """
    t0 = time.perf_counter()
    net = read_network(path)
    conn = getattr(target, "conn", target)
    radius_m = radius_m or {}
    t1 = time.perf_counter()
    plan = _plan(conn, net, modes, neighbours, radius_m) if infer else None
    t2 = time.perf_counter()
    big = not is_postgres(conn) and len(net.cameras) >= BIG
    cache, fk_off = None, False
    if big:  # a city's links (10^6 rows, two indexes) write in a fraction of the time with a cache to match
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size=-{min(1 << 20, 2 * len(net.cameras))}")  # KiB: 2 kB per camera
        # Every link's ends are cameras of the store read in the transaction: the per-row foreign-key lookups
        # (a sixth of the write) are left out. Outside a transaction only, where SQLite lets the setting change.
        if not conn.in_transaction and conn.execute("PRAGMA foreign_keys").fetchone()[0]:
            conn.execute("PRAGMA foreign_keys=OFF")
            fk_off = True
    try:
        conn.execute("SAVEPOINT import_network")
        try:
            summary = _import(conn, net, plan, infer=infer, modes=modes, neighbours=neighbours, radius_m=radius_m)
        except BaseException:
            conn.execute("ROLLBACK TO import_network")
            conn.execute("RELEASE import_network")
            raise
        conn.execute("RELEASE import_network")
    finally:
        if fk_off:
            conn.execute("PRAGMA foreign_keys=ON")
        if cache is not None:
            conn.execute(f"PRAGMA cache_size={int(cache)}")
    t3 = time.perf_counter()
    if hasattr(target, "run_commit_hooks"):
        target.run_commit_hooks()
    summary["seconds"] = {"read": round(t1 - t0, 3), "infer": round(t2 - t1, 3), "write": round(t3 - t2, 3)}
    return summary


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


def _data_version(conn) -> int | None:
    return None if is_postgres(conn) else int(conn.execute("PRAGMA data_version").fetchone()[0])


def _stored_pool(conn) -> tuple[list[Camera], dict[str, Mount]]:
    """The stored cameras by id, and the mounts their extra fields give (`network.camera_mounts`)."""
    cams, mounts = [], {}
    for r in conn.execute("SELECT * FROM cameras ORDER BY id"):
        cams.append(row_to_camera(r))
        try:
            m = mount_of(json.loads(r["extra"] or "{}"))
        except ValueError:
            m = None
        if m is not None:
            mounts[r["id"]] = m
    return cams, mounts


def _pool_after(stored: list[Camera], mounts: dict[str, Mount], net: NetworkFile):
    """The cameras (by id) and mounts the store will hold once the file's cameras are upserted (a stored
    width/height stays where the file gives none)."""
    by_id = {c.id: c for c in stored}
    mounts = dict(mounts)
    for e in net.cameras:
        old, cam = by_id.get(e.camera.id), e.camera
        if old is not None and (cam.width is None or cam.height is None):
            cam = cam.with_(width=cam.width if cam.width is not None else old.width,
                            height=cam.height if cam.height is not None else old.height)  # fmt: skip
        by_id[cam.id] = cam
        m = mount_of(e.extra)
        if m is None:
            mounts.pop(cam.id, None)
        else:
            mounts[cam.id] = m
    return [by_id[k] for k in sorted(by_id)], mounts


def _plan(conn, net: NetworkFile, modes, neighbours: int, radius_m: dict[str, float]) -> Plan:
    version = _data_version(conn)  # before the read: a write after it shows as a new version
    pool, mounts = _pool_after(*_stored_pool(conn), net)
    return Plan(pool, mounts, version, _columns(net, pool, mounts, modes, neighbours, radius_m))


def _columns(net: NetworkFile, pool, mounts, modes, neighbours: int, radius_m) -> dict[str, np.ndarray]:
    """The map links of the file's cameras without given links, all modes, as insert columns sorted by
    (src, dst, mode) (the unique index's order); links out of a camera the file gives links for left out."""
    given = {ln.src for ln, _ in net.links}
    by_id = {c.id: c for c in pool}
    to_infer = [by_id[e.camera.id] for e in net.cameras if e.camera.id not in given]
    cache: dict = {}  # the mounted cameras' footprints, shared by the modes of this import only
    tables = [
        map_links(to_infer, pool, mode=m, radius_m=radius_m.get(m), neighbours=neighbours, mounts=mounts,
                  footprint_cache=cache)
        for m in modes
    ]  # fmt: skip
    return _merge(tables, given)


def _merge(tables: list[LinkTable], skip_src: set[str]) -> dict[str, np.ndarray]:
    keys = ("a", "b", "order", "src", "dst", "mode", "exit_edge", "entry_edge", "mean_s", "std_s", "min_s",
            "max_s", "distance_m")  # fmt: skip
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for order, t in enumerate(tables):
        ids = np.array([c.id for c in t.cams] + [""], dtype=object)
        keep = np.ones(len(t), bool)
        if skip_src:
            keep &= ~np.isin(t.a, [i for i, c in enumerate(t.cams) if c.id in skip_src])
        parts["a"].append(t.a[keep])
        parts["b"].append(t.b[keep])
        parts["order"].append(np.full(int(keep.sum()), order))
        parts["src"].append(ids[t.a[keep]])
        parts["dst"].append(ids[t.b[keep]])
        parts["mode"].append(np.full(int(keep.sum()), t.mode, dtype=object))
        for k in keys[6:]:
            col = t.cols[k][keep]
            if k.endswith("_edge"):
                col = col.copy()
                col[np.equal(col, None)] = ""
            parts[k].append(col)
    out = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    # One pool for all modes (as _columns builds them): sorted by (src, dst, mode) through the pool's order.
    if tables and all([c.id for c in t.cams] == [c.id for c in tables[0].cams] for t in tables[1:]):
        idx = np.lexsort((out["order"], out["b"], out["a"]))
        out = {k: v[idx] for k, v in out.items()}
    return out


def _rows(cols: dict[str, np.ndarray], skip: set[tuple[str, str]]):
    keep = None
    if skip and len(cols["src"]):
        keep = np.fromiter(((s, d) not in skip for s, d in zip(cols["src"], cols["dst"], strict=True)), bool)

    def col(k: str) -> list:
        return (cols[k] if keep is None else cols[k][keep]).tolist()

    mean, std = col("mean_s"), col("std_s")
    return zip(col("src"), col("dst"), col("exit_edge"), col("entry_edge"), col("mode"), mean, std, col("min_s"),
               col("max_s"), repeat("map"), mean, std, col("distance_m"))  # fmt: skip


def _import(
    conn,
    net: NetworkFile,
    plan: Plan | None,
    *,
    infer: bool,
    modes: tuple[str, ...],
    neighbours: int,
    radius_m: dict[str, float],
) -> dict[str, Any]:
    upsert_cameras(conn, [(e.camera, e.extra) for e in net.cameras])  # the write lock from here on
    early = plan is not None and plan.version is not None and _data_version(conn) == plan.version
    if not early and infer:
        pool, mounts = _stored_pool(conn)
        early = plan is not None and plan.pool == pool and plan.mounts == mounts
        if not early:
            plan = Plan(pool, mounts, None, _columns(net, pool, mounts, modes, neighbours, radius_m))
    if infer and early:
        known = {c.id for c in plan.pool}
    else:
        known = {r[0] for r in conn.execute("SELECT id FROM cameras")}
    for link, where in net.links:
        for end in (link.src, link.dst):
            if end not in known:
                raise InputError(f"{where}: link to missing camera {end!r} (not in the file nor the store)")
    given = {ln.src for ln, _ in net.links}
    # A re-import replaces what the file said before about these cameras.
    conn.executemany(
        "DELETE FROM camera_links WHERE src=? AND source IN ('file', 'map')", [(s,) for s in sorted(given)]
    )
    for link, _ in net.links:
        save_link(conn, link)
    inferred = 0
    file_ids = [e.camera.id for e in net.cameras]
    if infer:
        redo = [cid for cid in file_ids if cid not in given]
        if conn.execute("SELECT 1 FROM camera_links WHERE source='map' LIMIT 1").fetchone() is None:
            pass
        elif is_postgres(conn) or len(redo) < BIG:
            conn.executemany(
                "DELETE FROM camera_links WHERE (src=? OR dst=?) AND source='map'", [(c, c) for c in redo]
            )
        else:  # a city's re-import: one pass over the links instead of two index probes per camera
            ids = json.dumps(redo, ensure_ascii=False)
            conn.execute(
                "DELETE FROM camera_links WHERE source='map' AND (src IN (SELECT value FROM json_each(?))"
                " OR dst IN (SELECT value FROM json_each(?)))",
                (ids, ids),
            )
        # The file spoke about its linked cameras' exits, and a pair already linked stays as it is.
        have = {(r[0], r[1]) for r in conn.execute("SELECT src, dst FROM camera_links")}
        before = conn.total_changes
        conn.executemany(LINK_INSERT, _rows(plan.columns, have))
        inferred = conn.total_changes - before
    linked = {r[0] for r in conn.execute("SELECT DISTINCT src FROM camera_links")}
    return {
        "file": str(net.path),
        "cameras": len(net.cameras),
        "links_given": len(net.links),
        "links_inferred": inferred,
        "without_links": [cid for cid in file_ids if cid not in linked],
        # Linked by distance all the same, but their links cannot say by which edge people leave or arrive.
        "without_heading": [e.camera.id for e in net.cameras if e.camera.heading_deg is None],
        "without_fov": [e.camera.id for e in net.cameras if e.camera.fov_deg is None],
        "inferred_before_lock": bool(infer and early),
    }
