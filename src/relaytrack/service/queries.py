"""Read-only queries the service needs beyond the stages' own functions: lists for the
console's pages. Routes call these; no SQL lives in a router.

Each table belongs to one stage, whose functions return named records; this module only shapes them into
views. Alerts are the watch stage's (relaytrack.watch.alerts: page_alerts, get_alert, Alert.public()), the
audit log the evidence stage's (relaytrack.evidence.audit: AuditEntry), relay routes the relay stage's
(relaytrack.relay.persist), and camera columns the store's (store.sightings.CAMERA_COLUMNS).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from relaytrack.evidence import audit
from relaytrack.evidence.access import PERMISSIONS
from relaytrack.relay import persist
from relaytrack.service.redact import package_fields, package_name
from relaytrack.store.sightings import CAMERA_COLUMNS

# ---- cases -----------------------------------------------------------------------------------------------


def _case_row(conn, r: Any) -> dict[str, Any]:
    members = [
        m[0]
        for m in conn.execute(
            "SELECT user_name FROM case_members WHERE case_no=? ORDER BY user_name", (r["case_no"],)
        )
    ]
    return {
        "case_no": r["case_no"],
        "legal_basis": r["legal_basis"],
        "purpose": r["purpose"],
        "status": r["status"],
        "legal_hold": bool(r["legal_hold"]),
        "members": members,
        "created_at": r["created_at"],
    }


def cases_of(conn, user: str, role: str) -> list[dict[str, Any]]:
    """The cases a user works on: every case for a supervisor (they may act on any), else their assignments."""
    if role == "supervisor":
        rows = conn.execute("SELECT * FROM cases ORDER BY created_at DESC, case_no").fetchall()
    else:
        rows = conn.execute(
            "SELECT c.* FROM cases c JOIN case_members m ON m.case_no=c.case_no WHERE m.user_name=?"
            " ORDER BY c.created_at DESC, c.case_no",
            (user,),
        ).fetchall()
    return [_case_row(conn, r) for r in rows]


def get_case(conn, case_no: str) -> dict[str, Any] | None:
    r = conn.execute("SELECT * FROM cases WHERE case_no=?", (case_no,)).fetchone()
    return None if r is None else _case_row(conn, r)


def permissions(role: str) -> list[str]:
    return sorted(PERMISSIONS.get(role, frozenset()))


# The console's pages and the permission each needs (None: every role); what a role cannot use is not shown.
PAGE_NEEDS: dict[str, str | None] = {
    "map": "cameras",
    "search": "search",
    "relay": "relay",
    "alerts": "alerts",
    "pursuit": "relay",  # the live pursuit: the relay's action, as `relaytrack pursue` is
    "cases": None,
    "folder": "search",  # the case folder: the roles that work a case's investigation
    "audit": "audit",
}
# Where each role's day starts: an operator (관제요원) on the alert wall, an investigator (수사관) on search.
LANDING = {"operator": "alerts", "investigator": "search", "supervisor": "cases", "auditor": "audit"}


def console_of(role: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The console's shape for a role: the pages it shows, the page it lands on, and the case pre-selected
    (the user's only open case, else none)."""
    perms = PERMISSIONS.get(role, frozenset())
    pages = [p for p, need in PAGE_NEEDS.items() if need is None or need in perms]
    landing = LANDING.get(role, "cases")
    open_ = [c["case_no"] for c in cases if c["status"] == "open"]
    return {
        "pages": pages,
        "landing": landing if landing in pages else "cases",
        "default_case": open_[0] if len(open_) == 1 else None,
    }


def users(conn) -> list[dict[str, Any]]:
    return [
        {"name": r[0], "role": r[1], "agency": r[2], "active": bool(r[3])}
        for r in conn.execute("SELECT name, role, agency, active FROM users ORDER BY name")
    ]


# ---- cameras ---------------------------------------------------------------------------------------------

# The store's camera columns less the stream URL, which may carry a camera's credentials.
CAMERA_KEYS = tuple(c for c in CAMERA_COLUMNS if c != "stream_url")


def cameras_overview(conn) -> list[dict[str, Any]]:
    """Every camera with its position, view cone and status: how much it recorded and when it last saw
    someone (`status`: recording = a source is being analysed, recorded = footage analysed, idle = none)."""
    src = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT camera_id, COUNT(*), SUM(status='running'), SUM(status='failed') FROM sources GROUP BY camera_id"
        )
    }
    sig = {
        r[0]: (r[1], r[2])
        for r in conn.execute("SELECT camera_id, COUNT(*), MAX(wall_end) FROM sightings GROUP BY camera_id")
    }
    links = {r[0]: r[1] for r in conn.execute("SELECT src, COUNT(*) FROM camera_links GROUP BY src")}
    live = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT camera_id, state, error FROM camera_status")}
    out = []
    for r in conn.execute("SELECT * FROM cameras ORDER BY id"):
        n_src, running, failed = src.get(r["id"], (0, 0, 0))
        n_sig, last = sig.get(r["id"], (0, None))
        status = (
            "failed"
            if failed and not running
            else "recording"
            if running
            else "recorded"
            if n_src
            else "idle"
        )
        if r["id"] in live:  # the watch's live state wins: up | down | stalled | starting | ended | failed
            status = live[r["id"]][0]
        out.append(
            {
                **{k: r[k] for k in CAMERA_KEYS},
                "sources": n_src,
                "sightings": n_sig,
                "last_seen": last,
                "links": links.get(r["id"], 0),
                "status": status,
                "error": live.get(r["id"], (None, None))[1],
            }
        )
    return out


def sources_of(conn, camera: str) -> list[dict[str, Any]]:
    return [
        dict(zip(("id", "fps", "width", "height", "frames", "start_wall", "status"), tuple(r), strict=True))
        for r in conn.execute(
            "SELECT id, fps, width, height, frames_total, start_wall, status FROM sources"
            " WHERE camera_id=? ORDER BY start_wall",
            (camera,),
        )
    ]


def latest_source(conn, camera: str) -> Any:
    return conn.execute(
        "SELECT id, uri, fps, start_wall, frames_total FROM sources WHERE camera_id=?"
        " ORDER BY start_wall DESC, id DESC LIMIT 1",
        (camera,),
    ).fetchone()


def source_row(conn, source_id: int) -> Any:
    return conn.execute(
        "SELECT id, uri, fps, start_wall, frames_total, camera_id FROM sources WHERE id=?", (int(source_id),)
    ).fetchone()


def boxes_in(conn, source_id: int, first: int, last: int) -> dict[int, list[tuple]]:
    """Stored boxes of every sighting of a source within frames [first, last]: frame -> [(sighting, kind,
    class, x, y, w, h, conf)]. Boxes are stored on analysed frames only; the player holds the last one."""
    out: dict[int, list[tuple]] = {}
    for r in conn.execute(
        "SELECT b.frame, b.sighting_id, s.kind, s.class_name, b.x, b.y, b.w, b.h, b.conf FROM boxes b"
        " JOIN sightings s ON s.id=b.sighting_id WHERE s.source_id=? AND b.frame BETWEEN ? AND ?"
        " AND s.first_frame <= ? AND s.last_frame >= ?",
        (int(source_id), first, last, last, first),
    ):
        out.setdefault(int(r[0]), []).append(tuple(r[1:]))
    return out


# ---- relay routes ----------------------------------------------------------------------------------------


def routes_of_case(conn, case: str) -> list[dict[str, Any]]:
    """The case's stored routes (relay.persist), newest first: {"id", "origin", "user", "created_at", "hops"}."""
    return [asdict(r) for r in persist.routes_of_case(conn, case)]


# ---- requests and exports --------------------------------------------------------------------------------


def requests_for(conn, user: str, role: str, limit: int = 200) -> list[dict[str, Any]]:
    """Requests a user may see: all for a supervisor, their own for an agency, their cases' otherwise."""
    if role == "supervisor":
        ids = [
            r[0] for r in conn.execute("SELECT id FROM agency_requests ORDER BY id DESC LIMIT ?", (limit,))
        ]
    elif role == "agency":
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM agency_requests WHERE requested_by=? ORDER BY id DESC LIMIT ?", (user, limit)
            )
        ]
    else:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT r.id FROM agency_requests r JOIN case_members m ON m.case_no=r.case_no WHERE m.user_name=?"
                " ORDER BY r.id DESC LIMIT ?",
                (user, limit),
            )
        ]
    return [request_out(conn, i) for i in ids]


def request_out(conn, request_id: int) -> dict[str, Any]:
    """An agency request as the service answers it: its delivered package named, never located."""
    from relaytrack.evidence.requests import get

    return package_fields(get(conn, request_id).as_dict())


def exports_of_case(conn, case: str) -> list[dict[str, Any]]:
    return [
        {
            "id": r[0],
            "case": r[1],
            "user": r[2],
            "package": package_name(r[3]),  # named, never located: answers carry no server path
            "manifest_sha256": r[4],
            "request_id": r[5],
            "sightings": json.loads(r[6] or "[]"),
            "created_at": r[7],
        }
        for r in conn.execute(
            "SELECT id, case_no, user_name, path, manifest_digest, request_id, sightings,"
            " created_at FROM exports WHERE case_no=? ORDER BY id DESC",
            (case,),
        )
    ]


def export_row(conn, export_id: int) -> dict[str, Any] | None:
    r = conn.execute("SELECT id, case_no, path FROM exports WHERE id=?", (int(export_id),)).fetchone()
    return None if r is None else {"id": r[0], "case": r[1], "package": r[2]}


# ---- audit -----------------------------------------------------------------------------------------------


def audit_entries(
    conn,
    *,
    case: str | None = None,
    user: str | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = 100,
    cases: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The audit page's rows: the evidence stage's AuditEntry records in their listing form (of `cases` only,
    when given)."""
    return [
        e.summary()
        for e in audit.entries(
            conn, case=case, user=user, action=action, before=before, limit=limit, cases=cases
        )
    ]


# ---- alerts (the watch stage's table, through its own row reader) --------------------------------------


def alert_view(a: Any) -> dict[str, Any]:
    """A relaytrack.watch Alert as the console shows it: the watch's public JSON plus id, wall time, sightings."""
    return {
        **a.public(),
        "id": a.id,
        "wall": a.wall_decided or a.wall_start,
        "sightings": [a.sighting] if a.sighting is not None else [],
        "source_id": a.source_id,
    }


def list_alerts(
    conn, *, after: int | None = None, before: int | None = None, limit: int = 100, camera: str | None = None
) -> list[dict[str, Any]]:
    """The watch's id-paged alerts (relaytrack.watch.alerts.page_alerts) as the console shows them."""
    from relaytrack.watch.alerts import page_alerts

    return [alert_view(x) for x in page_alerts(conn, after=after, before=before, limit=limit, camera=camera)]


def get_alert(conn, alert_id: int) -> dict[str, Any] | None:
    from relaytrack.errors import NotFound
    from relaytrack.watch.alerts import get_alert as watch_get

    try:
        return alert_view(watch_get(conn, int(alert_id)))
    except NotFound:
        return None


def max_alert_id(conn) -> int:
    from relaytrack.watch.alerts import max_alert_id as watch_max

    return watch_max(conn)
