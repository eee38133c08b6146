"""A running pursuit's pulse, its stop, and how a reader tells a running pursuit from one whose process died.

A pursuit runs in one process (`relaytrack pursue`, or a thread of the service) and is read and steered from
others (the console, the CLI). The store is the only thing they share, so:

- while a pursuit runs, `Heartbeat` writes `pursuits.heartbeat_at` every `HEARTBEAT_S` seconds from a thread
  of its own (a frame that takes long to analyse, or the models loading, do not make it look dead);
- a process that is killed or crashes leaves its row "running" for ever. Nothing rewrites it: a reader derives
  "stale" when the heartbeat is older than `STALE_AFTER_S` (`PursuitRow.status`), so the history stays what
  the pursuit wrote and a pursuit that only paused (a store busy for a while) comes back by itself;
- a stop is a request in the store (`request_stop`: who and when); the heartbeat reads it and sets the
  pursuit's stop event, so a console can stop a pursuit that a CLI in another process runs. The service's own
  pursuits are also stopped at once through their event (relaytrack.service.pursuit_runs).

Both clocks of the staleness test are the database's (`unixepoch('subsec')` on SQLite and PostgreSQL alike):
a service on another machine with a skewed clock does not see a live pursuit as stale.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

HEARTBEAT_S = 5.0  # how often a running pursuit writes its heartbeat
STALE_AFTER_S = 60.0  # a "running" pursuit silent for longer than this is shown as stale (12 beats missed)

_COLS = (
    "id, case_no, user_name, origin_id, anchor_id, status, created_at, ended_at, heartbeat_at, stop_by,"
    " unixepoch('subsec') - COALESCE(heartbeat_at, created_at)"
)


@dataclass(frozen=True)
class PursuitRow:
    """One pursuit as a reader sees it: `status` is the stored one, except that a running pursuit with no
    heartbeat for longer than `STALE_AFTER_S` is "stale" (`stored_status` keeps what the pursuit wrote)."""

    id: int
    case: str | None
    user: str | None
    origin: int
    anchor: int | None
    stored_status: str  # running | lost | ended | stopped
    created_at: float
    ended_at: float | None
    heartbeat_at: float | None  # None: written before heartbeats existed, or not beaten yet
    stop_by: str | None  # who asked it to stop (None: nobody)
    silent_s: float  # seconds since the last heartbeat (or since it was created), by the database's clock

    @property
    def status(self) -> str:
        if self.stored_status == "running" and self.silent_s > STALE_AFTER_S:
            return "stale"
        return self.stored_status

    @property
    def running(self) -> bool:
        return self.status == "running"


def _row(r: Any) -> PursuitRow:
    return PursuitRow(
        id=int(r[0]),
        case=r[1],
        user=r[2],
        origin=int(r[3]),
        anchor=None if r[4] is None else int(r[4]),
        stored_status=str(r[5]),
        created_at=float(r[6]),
        ended_at=None if r[7] is None else float(r[7]),
        heartbeat_at=None if r[8] is None else float(r[8]),
        stop_by=r[9],
        silent_s=float(r[10] or 0.0),
    )


def read_pursuit(conn: Any, pursuit_id: int) -> PursuitRow | None:
    r = conn.execute(f"SELECT {_COLS} FROM pursuits WHERE id=?", (pursuit_id,)).fetchone()
    return None if r is None else _row(r)


def case_pursuits(conn: Any, case: str | None, limit: int = 50) -> list[PursuitRow]:
    """A case's pursuits, newest first."""
    rows = conn.execute(
        f"SELECT {_COLS} FROM pursuits WHERE case_no=? ORDER BY id DESC LIMIT ?", (case, limit)
    ).fetchall()
    return [_row(r) for r in rows]


def request_stop(conn: Any, pursuit_id: int, user: str) -> bool:
    """Ask a running pursuit to stop; False when it is not running or someone already asked (the first asker
    is the one the pursuit's end names)."""
    cur = conn.execute(
        "UPDATE pursuits SET stop_by=?, stop_at=unixepoch('subsec')"
        " WHERE id=? AND status='running' AND stop_by IS NULL",
        (user, pursuit_id),
    )
    return cur.rowcount == 1


def stop_requested_by(conn: Any, pursuit_id: int) -> str | None:
    row = conn.execute("SELECT stop_by FROM pursuits WHERE id=?", (pursuit_id,)).fetchone()
    return None if row is None else row[0]


def beat(store: Any, pursuit_id: int) -> str | None:
    """Write the heartbeat; returns who asked the pursuit to stop (None: nobody)."""
    with store.tx() as conn:
        conn.execute(
            "UPDATE pursuits SET heartbeat_at=unixepoch('subsec') WHERE id=? AND status='running'",
            (pursuit_id,),
        )
        return stop_requested_by(conn, pursuit_id)


class Heartbeat:
    """While open, beats for pursuit `pursuit_id` every `every_s` seconds on a store connection of its own (the
    pursuit's connection is busy in its own thread, and a connection is never shared by two threads at once),
    and sets `stop` once a stop is requested in the store. A failed beat (store busy) is tried again next time:
    the staleness bound is many beats long."""

    def __init__(
        self, url: str, pursuit_id: int, stop: threading.Event, every_s: float = HEARTBEAT_S
    ) -> None:
        self.url, self.pursuit_id, self.stop, self.every_s = url, pursuit_id, stop, every_s
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        from relaytrack.store import Store
        from relaytrack.store.db import Error

        store = None
        try:
            while True:
                try:
                    if store is None:
                        store = Store(self.url)
                    if beat(store, self.pursuit_id) is not None:
                        self.stop.set()
                except Error:
                    pass  # busy or briefly unreachable: the next beat tries again
                if self._halt.wait(self.every_s):
                    return
        finally:
            if store is not None:
                store.close()

    def __enter__(self) -> Heartbeat:
        self._thread = threading.Thread(
            target=self._loop, name=f"pursuit-{self.pursuit_id}-heartbeat", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(10)
