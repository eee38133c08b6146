"""A pursuit's heartbeat, its stale state and its stop request, on SQLite and PostgreSQL (the 002_heartbeat
migration runs on both): a silent "running" pursuit reads as stale without its row being rewritten, a beat
brings it back, a stop request is taken once and reaches the pursuit's stop event through the heartbeat."""

from __future__ import annotations

import threading
import time

from relaytrack.pursue.control import (
    STALE_AFTER_S,
    Heartbeat,
    beat,
    case_pursuits,
    read_pursuit,
    request_stop,
    stop_requested_by,
)
from relaytrack.pursue.events import finish_pursuit, start_pursuit
from relaytrack.store import Store


def _started(store: Store) -> int:
    with store.tx() as conn:
        return start_pursuit(conn, case="C-1", user="kim", origin=7, cameras_file="cameras.yaml")


def _silence(store: Store, pid: int, seconds: float) -> None:
    """As if the pursuit's process had died `seconds` ago (its last heartbeat then)."""
    with store.tx() as conn:
        conn.execute(
            "UPDATE pursuits SET heartbeat_at = unixepoch('subsec') - ?, created_at = unixepoch('subsec') - ?"
            " WHERE id=?",
            (seconds, seconds + 5, pid),
        )


def test_silent_running_pursuit_reads_stale_and_a_beat_revives_it(store_db):
    with Store(store_db) as store:
        pid = _started(store)
        row = read_pursuit(store.conn, pid)
        assert row is not None and row.status == "running" and row.running and row.silent_s < 5
        _silence(store, pid, STALE_AFTER_S + 30)
        row = read_pursuit(store.conn, pid)
        assert (row.status, row.stored_status, row.running) == ("stale", "running", False)
        assert row.silent_s > STALE_AFTER_S
        # Derived, never written: the stored status is what the pursuit last wrote.
        assert store.one("SELECT status FROM pursuits WHERE id=?", (pid,))[0] == "running"
        assert [p.status for p in case_pursuits(store.conn, "C-1")] == ["stale"]
        assert beat(store, pid) is None
        assert read_pursuit(store.conn, pid).status == "running"
        # An ended pursuit is never stale, however old.
        finish_pursuit(store, pid, "ended", 7)
        _silence(store, pid, 10 * STALE_AFTER_S)
        assert read_pursuit(store.conn, pid).status == "ended"
        assert read_pursuit(store.conn, pid + 1000) is None


def test_stop_request_is_taken_once_and_reaches_the_stop_event(store_db):
    with Store(store_db) as store:
        pid = _started(store)
        stop = threading.Event()
        with Heartbeat(store.url, pid, stop, every_s=0.05):
            time.sleep(0.2)
            assert not stop.is_set()
            assert read_pursuit(store.conn, pid).heartbeat_at is not None
            with store.tx() as conn:
                assert request_stop(conn, pid, "op") is True
                assert request_stop(conn, pid, "kim") is False  # the first asker is the one named
            assert stop.wait(5), "the heartbeat did not pass the stop request on"
        assert stop_requested_by(store.conn, pid) == "op"
        assert read_pursuit(store.conn, pid).stop_by == "op"
        finish_pursuit(store, pid, "stopped", 7)
        with store.tx() as conn:
            other = start_pursuit(conn, case="C-1", user="kim", origin=7, cameras_file=None)
            assert request_stop(conn, pid, "kim") is False  # over: nothing to stop
        assert stop_requested_by(store.conn, other) is None
