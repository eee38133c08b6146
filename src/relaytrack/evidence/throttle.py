"""Failed authentication per client: progressive delays for password guessing, and floods summarised in the
audit log instead of one row per attempt.

A client (the service's view of its address, `request.client.host`) may fail FREE_FAILURES password logins
freely; after its n-th failure its next attempt must wait BASE_DELAY_S * 2^(n - FREE_FAILURES - 1) s, up to
MAX_DELAY_S; attempts made sooner are refused with `Throttled` (HTTP 429, Retry-After) before any password
work. The delay is per client, never per account: someone guessing a supervisor's password from one address
slows themselves down, not the supervisor logging in from another (an account lock-out would let anyone lock
a supervisor out). A client runs one password check at a time (a second one meanwhile is throttled), so
parallel requests do not multiply its guesses. Counts reset WINDOW_S after a client's last failure.

Audit: the first LOG_EACH failures of a client in a window get their own entry (with the true reason); later
failures and throttled attempts are only counted, and one `auth_flood` entry summarises them (client, counts,
names tried, first and last time) when the window ends, when the client next succeeds, or, for windows that
ended quietly, on the next login anyone makes. Bad bearer tokens are summarised the same way but not delayed:
a 256-bit token cannot be guessed, so a delay would only slow down a console whose token expired.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relaytrack.errors import AccessDenied
from relaytrack.evidence import audit

FREE_FAILURES = 3
BASE_DELAY_S = 1.0
MAX_DELAY_S = 300.0
WINDOW_S = 15 * 60.0
LOG_EACH = 5
MAX_NAMES = 10  # account names kept for a flood's summary


class Throttled(AccessDenied):
    """Too many failed attempts from this client: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after + 0.999))


@dataclass(frozen=True, slots=True)
class Failure:
    """What one recorded failure means: whether it gets its own audit entry."""

    failures: int
    log_each: bool


def delay_after(failures: int) -> float:
    """Seconds a client must wait after its `failures`-th failure in a window."""
    if failures <= FREE_FAILURES:
        return 0.0
    return min(BASE_DELAY_S * 2 ** (failures - FREE_FAILURES - 1), MAX_DELAY_S)


_busy: set[str] = set()
_busy_lock = threading.Lock()


@contextmanager
def one_at_a_time(key: str):
    """Hold the client's single password-check slot; Throttled when it is taken (a guess is running)."""
    with _busy_lock:
        if key in _busy:
            raise Throttled("login refused: another login from this client is in progress", 1.0)
        _busy.add(key)
    try:
        yield
    finally:
        with _busy_lock:
            _busy.discard(key)


def _row(conn, key: str) -> Any:
    return conn.execute(
        "SELECT failures, first_at, last_at, blocked_until, suppressed, throttled, names FROM auth_failures"
        " WHERE client=?",
        (key,),
    ).fetchone()


def check(conn, db_path: Path | None, key: str, *, now: float | None = None) -> None:
    """Refuse (Throttled) an attempt from a client still inside its delay; counted for the flood summary."""
    now = time.time() if now is None else now
    row = _row(conn, key)
    if row is None:
        return
    if now - float(row[2]) > WINDOW_S:
        _summarise(conn, db_path, key, row)
        conn.execute("DELETE FROM auth_failures WHERE client=?", (key,))
        return
    if float(row[3]) > now:
        conn.execute("UPDATE auth_failures SET throttled = throttled + 1 WHERE client=?", (key,))
        wait = float(row[3]) - now
        raise Throttled(
            f"login refused: too many failed attempts from this client; try again in {wait:.0f} s", wait
        )


def failed(
    conn, db_path: Path | None, key: str, name: str | None, *, delay: bool = True, now: float | None = None
) -> Failure:
    """Count one failure of `key`; with `delay`, the client's next attempt waits per `delay_after`."""
    now = time.time() if now is None else now
    row = _row(conn, key)
    if row is not None and now - float(row[2]) > WINDOW_S:
        _summarise(conn, db_path, key, row)
        conn.execute("DELETE FROM auth_failures WHERE client=?", (key,))
        row = None
    names = json.loads(row[6]) if row is not None else []
    if name and name not in names and len(names) < MAX_NAMES:
        names.append(str(name)[:64])
    n = (int(row[0]) if row is not None else 0) + 1
    blocked = now + delay_after(n) if delay and delay_after(n) > 0 else 0.0
    log_each = n <= LOG_EACH
    conn.execute(
        "INSERT INTO auth_failures(client, failures, first_at, last_at, blocked_until, suppressed, throttled, names)"
        " VALUES (?,?,?,?,?,?,0,?) ON CONFLICT (client) DO UPDATE SET failures=excluded.failures,"
        " last_at=excluded.last_at, blocked_until=excluded.blocked_until,"
        " suppressed=auth_failures.suppressed + excluded.suppressed, names=excluded.names",
        (key, n, now, now, blocked, 0 if log_each else 1, json.dumps(names)),
    )
    return Failure(n, log_each)


def succeeded(conn, db_path: Path | None, key: str) -> None:
    """The client proved itself: summarise what it did before, and forget it."""
    row = _row(conn, key)
    if row is not None:
        _summarise(conn, db_path, key, row)
        conn.execute("DELETE FROM auth_failures WHERE client=?", (key,))


def flush_stale(conn, db_path: Path | None, *, now: float | None = None) -> int:
    """Summarise and forget every client whose window ended (no failure for WINDOW_S); returns how many."""
    now = time.time() if now is None else now
    stale = [
        r[0] for r in conn.execute("SELECT client FROM auth_failures WHERE last_at < ?", (now - WINDOW_S,))
    ]
    for key in stale:
        row = _row(conn, key)
        if row is not None:
            _summarise(conn, db_path, key, row)
            conn.execute("DELETE FROM auth_failures WHERE client=?", (key,))
    return len(stale)


def _summarise(conn, db_path: Path | None, key: str, row: Any) -> None:
    failures, first, last, _, suppressed, throttled, names = row
    if not suppressed and not throttled:
        return  # every failure already has its own entry
    kind, _, client = key.partition(":")
    audit.append(
        conn,
        db_path,
        user=None,
        case=None,
        action="auth_flood",
        outcome="denied",
        detail={
            "kind": kind,
            "client": client,
            "failures": int(failures),
            "not_logged_one_by_one": int(suppressed),
            "throttled": int(throttled),
            "names": json.loads(names or "[]"),
            "first": float(first),
            "last": float(last),
        },
    )
