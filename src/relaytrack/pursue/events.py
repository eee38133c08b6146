"""The pursuit's events: one typed record each, one JSON line each, stored under the case and user.

`time` is the footage's wall-clock time (camera start time plus the position in its stream; a live
stream's capture time), never the moment the event was computed: a replay at any speed writes the same
times. Types: prediction (`cameras`: [{camera, eta_from, eta_to, p}]), handoff (`sighting`, `camera`,
`confidence`, `reasons`, `status`: auto | offered | confirmed | rejected), lost, ended, camera_down.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from relaytrack.clock import to_seoul_iso

EVENT_TYPES = ("prediction", "handoff", "lost", "ended", "camera_down")


def iso(epoch: float) -> str:
    return to_seoul_iso(epoch, "milliseconds")


@dataclass(frozen=True)
class PursuitEvent:
    type: str
    time: float  # footage wall-clock epoch seconds
    camera: str | None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "time": iso(self.time), "camera": self.camera, **self.data}


class EventLog:
    """Fans each event out: the JSON-lines file, the store (pursuit_events), and any listeners (console
    printing, server-sent events). Thread-safe; a listener that raises does not stop the pursuit."""

    def __init__(self, json_path: Path | None = None, store=None, pursuit_id: int | None = None) -> None:
        self.fh: TextIO | None = None
        if json_path is not None:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(json_path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self.store, self.pursuit_id = store, pursuit_id
        self.listeners: list[Callable[[PursuitEvent], None]] = []
        self.events: list[PursuitEvent] = []
        self.lock = threading.Lock()

    def emit(self, ev: PursuitEvent) -> PursuitEvent:
        body = ev.to_dict()
        if self.pursuit_id is not None:
            body["pursuit"] = self.pursuit_id  # what `pursue confirm|reject` needs
        line = json.dumps(body, ensure_ascii=False, default=str)
        with self.lock:
            self.events.append(ev)
            if self.fh is not None:
                self.fh.write(line + "\n")
                self.fh.flush()  # a console tailing the file sees the event now
            if self.store is not None and self.pursuit_id is not None:
                with self.store.tx() as conn:
                    conn.execute(
                        "INSERT INTO pursuit_events(pursuit_id, type, time_wall, camera_id, sighting_id, body)"
                        " VALUES (?,?,?,?,?,?)",
                        (self.pursuit_id, ev.type, ev.time, ev.camera, ev.data.get("sighting"), line),
                    )
        for fn in self.listeners:
            try:
                fn(ev)
            except Exception:  # noqa: BLE001 (a display must not stop the pursuit)
                pass
        return ev

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def start_pursuit(
    conn: sqlite3.Connection, *, case: str | None, user: str | None, origin: int, cameras_file: str | None
) -> int:
    cur = conn.execute(
        "INSERT INTO pursuits(case_no, user_name, origin_id, cameras_file, anchor_id) VALUES (?,?,?,?,?)",
        (case, user, origin, cameras_file, origin),
    )
    return int(cur.lastrowid)


def record_verdict(
    conn: sqlite3.Connection, pursuit_id: int, sighting_id: int, verdict: str, user: str | None
) -> int:
    if verdict not in ("confirm", "reject"):
        from relaytrack.errors import InputError

        raise InputError(f"verdict must be confirm or reject, not {verdict!r}")
    if conn.execute("SELECT 1 FROM pursuits WHERE id=?", (pursuit_id,)).fetchone() is None:
        from relaytrack.errors import NotFound

        raise NotFound(f"unknown pursuit {pursuit_id}")
    cur = conn.execute(
        "INSERT INTO pursuit_verdicts(pursuit_id, sighting_id, verdict, user_name) VALUES (?,?,?,?)",
        (pursuit_id, sighting_id, verdict, user),
    )
    return int(cur.lastrowid)


def take_verdicts(store, pursuit_id: int) -> list[tuple[int, str]]:
    """Verdicts not yet applied, oldest first, marked applied."""
    with store.tx() as conn:
        rows = conn.execute(
            "SELECT id, sighting_id, verdict FROM pursuit_verdicts WHERE pursuit_id=? AND applied=0 ORDER BY id",
            (pursuit_id,),
        ).fetchall()
        if rows:
            conn.execute(
                f"UPDATE pursuit_verdicts SET applied=1 WHERE id IN ({','.join('?' * len(rows))})",
                [r[0] for r in rows],
            )
    return [(int(r[1]), str(r[2])) for r in rows]


def finish_pursuit(store, pursuit_id: int, status: str, anchor_id: int | None) -> None:
    with store.tx() as conn:
        conn.execute(
            "UPDATE pursuits SET status=?, anchor_id=?, ended_at=unixepoch('subsec') WHERE id=?",
            (status, anchor_id, pursuit_id),
        )


def abandon_pursuit(store, pursuit_id: int, reason: str) -> None:
    """End a pursuit that never got to its first frame (models or cameras failed to load): an `ended` event
    saying why, at the origin's footage time like any event of it, so a reader never waits on a pursuit that
    will not run."""
    row = store.conn.execute(
        "SELECT p.origin_id, s.wall_start FROM pursuits p LEFT JOIN sightings s ON s.id = p.origin_id"
        " WHERE p.id=?",
        (pursuit_id,),
    ).fetchone()
    if row is None:
        return
    import time

    at = float(row[1]) if row[1] is not None else time.time()
    log = EventLog(None, store, pursuit_id)
    log.emit(PursuitEvent("ended", at, None, {"reason": reason, "anchor": int(row[0])}))
    finish_pursuit(store, pursuit_id, "ended", int(row[0]))
