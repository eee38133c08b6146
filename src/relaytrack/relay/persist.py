"""Where a route is saved and read back: route JSON files, and the relay stage's two tables.

- Files: `write_route_json(route, path)` writes the CLI contract (`Route.to_dict()`), `read_route_json(path)`
  reads one back as a `Route`.
- relay_routes (routes computed for a case, kept so their confident hops can refine travel times):
  `save_route`, `latest_route`, `routes_of_case` (summaries), `stored_routes` (every readable one).
- relay_feedback (operator verdicts per case and route origin): `record_feedback`, `feedback_for`,
  `confirmed_chains`.

Every reader gets a `Route`, never the JSON dict; the JSON shape lives in `relaytrack.relay.route` alone.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from relaytrack.errors import InputError
from relaytrack.relay.route import Route
from relaytrack.store.sightings import get_sighting

# ---------------------------------------------------------------- files


def write_route_json(route: Route, path: str | Path) -> Path:
    """The CLI contract: {"origin", "hops": [sighting fields + confidence, ...] in time order, ...}."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(route.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return path


def read_route_json(path: str | Path) -> Route:
    """A route file as `write_route_json` (or a person, with at least "hops") wrote it; InputError otherwise."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InputError(f"{p}: not a readable route JSON ({err})") from err
    try:
        return Route.from_dict(doc)
    except InputError as err:
        raise InputError(f"{p}: {err}") from None


# ---------------------------------------------------------------- relay_routes


@dataclass(frozen=True)
class RouteSummary:
    """One stored route, as a case's route list shows it."""

    id: int
    origin: int
    user: str | None
    created_at: float
    hops: int


def save_route(conn: sqlite3.Connection, route: Route, user: str | None) -> int:
    """Store a computed route under its case and origin; returns its row id."""
    cur = conn.execute(
        "INSERT INTO relay_routes(case_no, origin_id, user_name, route) VALUES (?,?,?,?)",
        (route.case, int(route.origin), user, json.dumps(route.to_dict(), ensure_ascii=False)),
    )
    return int(cur.lastrowid)


def latest_route(conn: sqlite3.Connection, case: str | None, origin: int) -> Route | None:
    """The route last computed from `origin` for `case` (None: no case), or None if there is none."""
    r = conn.execute(
        "SELECT route FROM relay_routes WHERE case_no IS ? AND origin_id=? ORDER BY id DESC LIMIT 1",
        (case, int(origin)),
    ).fetchone()
    return None if r is None else Route.from_dict(json.loads(r[0]))


def routes_of_case(conn: sqlite3.Connection, case: str, limit: int = 200) -> list[RouteSummary]:
    """The case's stored routes, newest first."""
    return [
        RouteSummary(r[0], r[1], r[2], r[3], len(json.loads(r[4])["hops"]))
        for r in conn.execute(
            "SELECT id, origin_id, user_name, created_at, route FROM relay_routes"
            " WHERE case_no=? ORDER BY id DESC LIMIT ?",
            (case, int(limit)),
        )
    ]


def stored_routes(conn: sqlite3.Connection) -> Iterator[Route]:
    """Every stored route that still reads as one, oldest first. A row a bug or an old version left unreadable
    is skipped: these feed statistics (link refinement), which one bad row must not stop."""
    for (doc,) in conn.execute("SELECT route FROM relay_routes ORDER BY id"):
        try:
            yield Route.from_dict(json.loads(doc))
        except (ValueError, InputError):  # JSONDecodeError is a ValueError
            continue


# ---------------------------------------------------------------- relay_feedback


def feedback_for(conn: sqlite3.Connection, case: str | None, origin: int) -> tuple[set[int], set[int]]:
    """(confirmed, rejected) sighting ids for this case and route origin."""
    if case is None:
        return set(), set()
    conf, rej = set(), set()
    for sid, verdict in conn.execute(
        "SELECT sighting_id, verdict FROM relay_feedback WHERE case_no=? AND origin_id=?", (case, int(origin))
    ):
        (conf if verdict == "confirm" else rej).add(int(sid))
    return conf, rej


def record_feedback(
    conn: sqlite3.Connection,
    case: str,
    origin: int,
    sighting_ids: list[int],
    verdict: str,
    user: str | None = None,
) -> int:
    """Store confirm/reject verdicts (the latest verdict on a sighting wins). Returns how many were stored."""
    if verdict not in ("confirm", "reject"):
        raise InputError(f"verdict must be confirm or reject, got {verdict!r}")
    get_sighting(conn, origin)
    for sid in sighting_ids:
        get_sighting(conn, sid)  # NotFound names the missing one before anything is written
    for sid in sighting_ids:
        if int(sid) == int(origin):
            raise InputError(f"sighting {sid} is the route's origin; it is confirmed by definition")
        conn.execute(
            "INSERT INTO relay_feedback(case_no, origin_id, sighting_id, verdict, user_name) VALUES (?,?,?,?,?)"
            " ON CONFLICT(case_no, origin_id, sighting_id) DO UPDATE SET verdict=excluded.verdict,"
            " user_name=excluded.user_name, created_at=unixepoch('subsec')",
            (case, int(origin), int(sid), verdict, user),
        )
    return len(sighting_ids)


def confirmed_chains(conn: sqlite3.Connection) -> list[list[int]]:
    """Per case and origin with confirmations: the origin followed by its confirmed sighting ids."""
    chains: list[list[int]] = []
    for case_no, origin in conn.execute(
        "SELECT DISTINCT case_no, origin_id FROM relay_feedback WHERE verdict='confirm'"
    ):
        ids = [origin] + [
            r[0]
            for r in conn.execute(
                "SELECT sighting_id FROM relay_feedback WHERE case_no=? AND origin_id=? AND verdict='confirm'",
                (case_no, origin),
            )
        ]
        chains.append(ids)
    return chains
