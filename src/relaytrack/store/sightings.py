"""Reading and writing sightings (stored tracklets) with their boxes, thumbnails and embeddings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

import numpy as np

from relaytrack.errors import NotFound
from relaytrack.records import Camera, Sighting
from relaytrack.store import vectors

# The cameras table's columns besides `extra`, in the order of the Camera record: the one list that network
# files, the CLI and the service read cameras by.
CAMERA_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Camera))

SIGHTING_COLUMNS = (
    "id, camera_id, source_id, track_id, kind, class_name, start_s, end_s, first_frame, last_frame, "
    "wall_start, wall_end, box_x, box_y, box_w, box_h, entry_edge, exit_edge, heading_deg, speed_px_s, "
    "upper_color, upper_conf, lower_color, lower_conf, items, vehicle_type, vehicle_color, plate, embedding"
)


CAMERA_UPSERT = (
    "INSERT INTO cameras(id, name, lat, lon, heading_deg, fov_deg, district, owner, purpose, stream_url,"
    " clock_offset_s, width, height, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(id) DO UPDATE SET name=excluded.name, lat=excluded.lat, lon=excluded.lon,"
    " heading_deg=excluded.heading_deg, fov_deg=excluded.fov_deg, district=excluded.district,"
    " owner=excluded.owner, purpose=excluded.purpose, stream_url=excluded.stream_url,"
    " clock_offset_s=excluded.clock_offset_s, width=COALESCE(excluded.width, cameras.width),"
    " height=COALESCE(excluded.height, cameras.height), extra=excluded.extra"
)


def _camera_row(cam: Camera, extra: dict[str, Any] | None) -> tuple:
    return (
        cam.id,
        cam.name,
        cam.lat,
        cam.lon,
        cam.heading_deg,
        cam.fov_deg,
        cam.district,
        cam.owner,
        cam.purpose,
        cam.stream_url,
        cam.clock_offset_s,
        cam.width,
        cam.height,
        json.dumps(extra or {}, ensure_ascii=False),
    )


def upsert_camera(conn, cam: Camera, extra: dict[str, Any] | None = None) -> None:
    conn.execute(CAMERA_UPSERT, _camera_row(cam, extra))


def upsert_cameras(conn, cameras: Iterable[tuple[Camera, dict[str, Any] | None]]) -> None:
    """upsert_camera for many (camera, extra) pairs in one executemany (a city's register)."""
    conn.executemany(CAMERA_UPSERT, [_camera_row(cam, extra) for cam, extra in cameras])


def ensure_camera(conn, camera_id: str) -> None:
    conn.execute("INSERT OR IGNORE INTO cameras(id, name) VALUES (?, ?)", (camera_id, camera_id))


def row_to_camera(row: Any) -> Camera:
    return Camera(
        id=row["id"],
        name=row["name"],
        lat=row["lat"],
        lon=row["lon"],
        heading_deg=row["heading_deg"],
        fov_deg=row["fov_deg"],
        district=row["district"],
        owner=row["owner"],
        purpose=row["purpose"],
        stream_url=row["stream_url"],
        clock_offset_s=row["clock_offset_s"] or 0.0,
        width=row["width"],
        height=row["height"],
    )


def get_camera(conn, camera_id: str) -> Camera:
    row = conn.execute("SELECT * FROM cameras WHERE id=?", (camera_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown camera {camera_id!r}")
    return row_to_camera(row)


def insert_sighting(
    conn,
    s: Sighting,
    *,
    boxes: Iterable[tuple[int, float, float, float, float, float, float]] = (),
    thumbnail_jpeg: bytes | None = None,
    best_frame: int | None = None,
    crops: Iterable[tuple[float, int, bytes]] = (),
) -> int:
    """Insert one sighting (s.id is ignored) and its boxes (frame, t, x, y, w, h, conf); returns the new id.

    Re-inserting the same (source, track) is a no-op returning the existing id, so a resumed ingest never
    duplicates what it already committed.
    """
    if s.source_id is not None:
        row = conn.execute(
            "SELECT id FROM sightings WHERE source_id=? AND track_id=?", (s.source_id, s.track_id)
        ).fetchone()
        if row is not None:
            return int(row[0])
    emb = None
    if s.embedding is not None:
        emb = np.asarray(s.embedding, dtype=np.float32).tobytes()
    cur = conn.execute(
        f"INSERT INTO sightings({SIGHTING_COLUMNS.replace('id, ', '', 1)}, best_frame) VALUES"
        " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            s.camera,
            s.source_id,
            s.track_id,
            s.kind,
            s.class_name,
            s.start,
            s.end,
            s.first_frame,
            s.last_frame,
            s.wall_start,
            s.wall_end,
            *[float(v) for v in s.box],
            s.entry_edge,
            s.exit_edge,
            s.heading_deg,
            s.speed_px_s,
            s.upper_color,
            s.upper_conf,
            s.lower_color,
            s.lower_conf,
            json.dumps(s.items, ensure_ascii=False),
            s.vehicle_type,
            s.vehicle_color,
            s.plate,
            emb,
            best_frame,
        ),
    )
    sid = int(cur.lastrowid)
    conn.executemany(
        "INSERT OR REPLACE INTO boxes(sighting_id, frame, t, x, y, w, h, conf) VALUES (?,?,?,?,?,?,?,?)",
        [(sid, *b) for b in boxes],
    )
    if thumbnail_jpeg is not None:
        conn.execute(
            "INSERT OR REPLACE INTO thumbnails(sighting_id, jpeg) VALUES (?, ?)", (sid, thumbnail_jpeg)
        )
    conn.executemany(
        "INSERT OR REPLACE INTO crops(sighting_id, k, quality, frame, jpeg) VALUES (?,?,?,?,?)",
        [(sid, k, q, f, jpg) for k, (q, f, jpg) in enumerate(crops)],
    )
    if s.embedding is not None:
        vectors.add(conn, sid, s.embedding)
    return sid


def row_to_sighting(row: Any) -> Sighting:
    emb = np.frombuffer(row["embedding"], dtype=np.float32) if row["embedding"] is not None else None
    return Sighting(
        id=row["id"],
        camera=row["camera_id"],
        source_id=row["source_id"],
        track_id=row["track_id"],
        kind=row["kind"],
        class_name=row["class_name"],
        start=row["start_s"],
        end=row["end_s"],
        first_frame=row["first_frame"],
        last_frame=row["last_frame"],
        wall_start=row["wall_start"],
        wall_end=row["wall_end"],
        box=(row["box_x"], row["box_y"], row["box_w"], row["box_h"]),
        entry_edge=row["entry_edge"],
        exit_edge=row["exit_edge"],
        heading_deg=row["heading_deg"],
        speed_px_s=row["speed_px_s"],
        upper_color=row["upper_color"],
        upper_conf=row["upper_conf"],
        lower_color=row["lower_color"],
        lower_conf=row["lower_conf"],
        items=json.loads(row["items"] or "{}"),
        vehicle_type=row["vehicle_type"],
        vehicle_color=row["vehicle_color"],
        plate=row["plate"],
        embedding=emb,
    )


def get_sighting(conn, sighting_id: int) -> Sighting:
    row = conn.execute(f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE id=?", (int(sighting_id),)).fetchone()
    if row is None:
        raise NotFound(f"no sighting {sighting_id}")
    return row_to_sighting(row)


def get_sightings(conn, ids: Iterable[int]) -> list[Sighting]:
    ids = [int(i) for i in ids]
    if not ids:
        return []
    rows = conn.execute(
        f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE id IN ({','.join('?' * len(ids))})", ids
    ).fetchall()
    by_id = {r["id"]: row_to_sighting(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def boxes_of(conn, sighting_id: int) -> list[tuple[int, float, float, float, float, float, float]]:
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT frame, t, x, y, w, h, conf FROM boxes WHERE sighting_id=? ORDER BY frame", (sighting_id,)
        )
    ]


def thumbnail(conn, sighting_id: int) -> bytes | None:
    row = conn.execute("SELECT jpeg FROM thumbnails WHERE sighting_id=?", (sighting_id,)).fetchone()
    return row[0] if row else None


def crops_of(conn, sighting_id: int) -> list[bytes]:
    """The stored best crops (JPEG), best first; the thumbnail alone for stores that predate them."""
    rows = conn.execute("SELECT jpeg FROM crops WHERE sighting_id=? ORDER BY k", (sighting_id,)).fetchall()
    if rows:
        return [r[0] for r in rows]
    thumb = thumbnail(conn, sighting_id)
    return [thumb] if thumb else []
