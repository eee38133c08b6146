"""Reading a route for a person: why each direction stopped, in words, and what to try at a dead end.

A relay from a look-alike (a search's top hit is often one) gives a one-camera "route": nothing on the
linked cameras fits. The investigator's next move is the next search hit, so a dead end names them: the
hits after the origin in the latest search of this case (and user) that listed the origin, read from the
audit log, which records every search's result ids in rank order.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from relaytrack.i18n import stop_sentence, t
from relaytrack.relay.route import Route


def stop_sentences(route: Route) -> list[str]:
    """One sentence per direction searched ("forward stopped: ..."/"이후 방향 추적 중단: ..."), in the
    current language; never the raw dict."""
    return [stop_sentence(side, why) for side, why in route.stopped.items()]


def is_dead_end(route: Route) -> bool:
    """The route never left the origin's camera."""
    return len(set(route.cameras)) <= 1


def next_hits(
    conn: sqlite3.Connection, origin: int, case: str | None, user: str | None = None, n: int = 3
) -> list[int]:
    """Up to `n` sightings ranked after `origin` in the latest logged search (of `case`, and of `user` when
    given) whose results listed it; [] when no such search is on record."""
    where, params = ["action = 'search'", "outcome = 'ok'"], []
    if case:
        where.append("case_no = ?")
        params.append(case)
    if user:
        where.append("user_name = ?")
        params.append(user)
    try:
        rows = conn.execute(
            f"SELECT result_ids FROM audit_log WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT 200",
            params,
        ).fetchall()
    except sqlite3.Error:  # a store without the audit tables
        return []
    for (raw,) in rows:
        try:
            ids = [int(x) for x in json.loads(raw or "[]")]
        except (TypeError, ValueError):
            continue
        if origin in ids:
            return ids[ids.index(origin) + 1 :][:n]
    return []


def dead_end_hint(conn: Any, route: Route, case: str | None, user: str | None = None) -> str | None:
    """At a dead end, the sentence suggesting a relay from the next search hits; None otherwise."""
    if not is_dead_end(route):
        return None
    nxt = next_hits(getattr(conn, "conn", conn), route.origin, case, user)
    if not nxt:
        return t("dead_end_no_hits")
    return t("dead_end", next=", ".join(f"#{i} (relaytrack relay --from {i})" for i in nxt))
