"""True time: a sighting's wall-clock times with its camera's clock offset removed.

Cameras' clocks drift; each camera's known offset is stored with it, and everything that compares times
across cameras (the relay, link refinement) works in true time.
"""

from __future__ import annotations

import sqlite3


def true_times(conn: sqlite3.Connection, ids: list[int]) -> list[tuple[int, str, float, float, str]]:
    """(id, camera, true start, true end, kind) of the sightings `ids` (unknown ids are left out)."""
    if not ids:
        return []
    rows = conn.execute(
        "SELECT s.id, s.camera_id, s.wall_start - c.clock_offset_s, s.wall_end - c.clock_offset_s, s.kind"
        f" FROM sightings s JOIN cameras c ON c.id = s.camera_id WHERE s.id IN ({','.join('?' * len(ids))})",
        [int(i) for i in ids],
    ).fetchall()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
