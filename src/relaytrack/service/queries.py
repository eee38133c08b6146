"""Read (and the few write) queries the service needs beyond the stages' own functions: lists for the
console's pages. Routes call these; no SQL lives in a router.

Alerts belong to the watch stage. They are read here from its table generically (any table named `alerts`,
else the first table whose name contains `alert`), so the alert wall and the live stream work with whatever
columns the watch writes: camera/camera_id, start/start_s, end/end_s, score, reasons, clip, sighting(s).
"""

from __future__ import annotations

import json
from typing import Any

from relaytrack.evidence.access import PERMISSIONS

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


def held_elsewhere(conn, case: str | None, ids: list[int]) -> set[int]:
    """Sightings among `ids` that other cases hold and `case` does not: not shown to this case."""
    ids = [int(i) for i in ids]
    if not ids:
        return set()
    held: dict[int, set[str]] = {}
    for sid, c in conn.execute(
        f"SELECT sighting_id, case_no FROM case_sightings WHERE sighting_id IN ({','.join('?' * len(ids))})",
        ids,
    ):
        held.setdefault(int(sid), set()).add(c)
    return {sid for sid, cases in held.items() if case not in cases}


def permissions(role: str) -> list[str]:
    return sorted(PERMISSIONS.get(role, frozenset()))


def users(conn) -> list[dict[str, Any]]:
    return [
        {"name": r[0], "role": r[1], "agency": r[2], "active": bool(r[3])}
        for r in conn.execute("SELECT name, role, agency, active FROM users ORDER BY name")
    ]


# ---- cameras ---------------------------------------------------------------------------------------------

CAMERA_KEYS = (
    "id",
    "name",
    "lat",
    "lon",
    "heading_deg",
    "fov_deg",
    "district",
    "owner",
    "purpose",
    "clock_offset_s",
    "width",
    "height",
)


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
        out.append(
            {
                **{k: r[k] for k in CAMERA_KEYS},
                "sources": n_src,
                "sightings": n_sig,
                "last_seen": last,
                "links": links.get(r["id"], 0),
                "status": status,
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


def save_route(conn, case: str | None, origin: int, user: str, route: dict[str, Any]) -> int:
    cur = conn.execute(
        "INSERT INTO relay_routes(case_no, origin_id, user_name, route) VALUES (?,?,?,?)",
        (case, int(origin), user, json.dumps(route, ensure_ascii=False)),
    )
    return int(cur.lastrowid)


def latest_route(conn, case: str | None, origin: int) -> dict[str, Any] | None:
    r = conn.execute(
        "SELECT route FROM relay_routes WHERE case_no IS ? AND origin_id=? ORDER BY id DESC LIMIT 1",
        (case, int(origin)),
    ).fetchone()
    return None if r is None else json.loads(r[0])


def routes_of_case(conn, case: str) -> list[dict[str, Any]]:
    return [
        {"id": r[0], "origin": r[1], "user": r[2], "created_at": r[3], "hops": len(json.loads(r[4])["hops"])}
        for r in conn.execute(
            "SELECT id, origin_id, user_name, created_at, route FROM relay_routes"
            " WHERE case_no=? ORDER BY id DESC LIMIT 200",
            (case,),
        )
    ]


# ---- requests and exports --------------------------------------------------------------------------------


def requests_for(conn, user: str, role: str, limit: int = 200) -> list[dict[str, Any]]:
    """Requests a user may see: all for a supervisor, their own for an agency, their cases' otherwise."""
    from relaytrack.evidence.requests import get

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
    return [get(conn, i).as_dict() for i in ids]


def exports_of_case(conn, case: str) -> list[dict[str, Any]]:
    return [
        {
            "id": r[0],
            "case": r[1],
            "user": r[2],
            "package": r[3],
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
) -> list[dict[str, Any]]:
    where, args = [], []
    for col, val in (("case_no", case), ("user_name", user), ("action", action)):
        if val:
            where.append(f"{col}=?")
            args.append(val)
    if before:
        where.append("seq < ?")
        args.append(int(before))
    sql = (
        "SELECT seq, ts, user_name, case_no, action, outcome, detail, result_ids, hash FROM audit_log"
        f" {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY seq DESC LIMIT ?"
    )
    out = []
    for r in conn.execute(sql, [*args, int(limit)]):
        out.append(
            {
                "seq": r[0],
                "ts": r[1],
                "user": r[2],
                "case": r[3],
                "action": r[4],
                "outcome": r[5],
                "detail": json.loads(r[6] or "{}"),
                "result_ids": json.loads(r[7] or "[]"),
                "hash": r[8],
            }
        )
    return out


# ---- alerts (the watch stage's table, read generically) --------------------------------------------------


def alert_table(conn) -> str | None:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%alert%' AND name NOT LIKE '%audit%'"
            " ORDER BY name"
        )
    ]
    if "alerts" in names:
        return "alerts"
    main = [n for n in names if not any(x in n for x in ("feedback", "frame", "ack", "verdict", "event"))]
    return (main or names or [None])[0]


def _json(val: Any) -> Any:
    if isinstance(val, str) and val[:1] in "[{":
        try:
            return json.loads(val)
        except ValueError:
            return val
    return val


def _first(rec: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if rec.get(k) is not None:
            return rec[k]
    return None


def normalise_alert(rec: dict[str, Any]) -> dict[str, Any]:
    rec = {k: _json(v) for k, v in rec.items() if not isinstance(v, bytes | memoryview)}
    reasons = _first(rec, "reasons", "reason", "explanation")
    if isinstance(reasons, str):
        reasons = [reasons]
    sightings = []
    for k in ("sighting_id", "sighting"):
        if isinstance(rec.get(k), int):
            sightings.append(rec[k])
    for k in ("sighting_ids", "sightings"):
        if isinstance(rec.get(k), list):
            sightings += [int(v) for v in rec[k] if isinstance(v, int)]
    return {
        "id": rec.get("id"),
        "camera": _first(rec, "camera_id", "camera"),
        "start": _first(rec, "start_s", "start"),
        "end": _first(rec, "end_s", "end"),
        "wall": _first(rec, "wall_start", "wall", "ts", "created_at", "time"),
        "score": _first(rec, "score", "suspicion"),
        "reasons": reasons or [],
        "clip": _first(rec, "clip", "clip_path"),
        "status": _first(rec, "status", "verdict", "state") or "new",
        "track": _first(rec, "track_id", "track"),
        "sightings": list(dict.fromkeys(sightings)),
        "fields": {k: v for k, v in rec.items() if k not in ("embedding",)},
    }


def list_alerts(
    conn, *, after: int = 0, before: int | None = None, limit: int = 100, camera: str | None = None
) -> list[dict[str, Any]]:
    """Alerts newest first (or, with `after`, those with a larger id, oldest first for streaming)."""
    table = alert_table(conn)
    if table is None:
        return []
    cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
    where, args = ["id > ?"], [int(after)]
    if before:
        where.append("id < ?")
        args.append(int(before))
    if camera:
        cam_col = "camera_id" if "camera_id" in cols else "camera" if "camera" in cols else None
        if cam_col:
            where.append(f"{cam_col} = ?")
            args.append(camera)
    order = "ASC" if after else "DESC"
    rows = conn.execute(
        f'SELECT * FROM "{table}" WHERE {" AND ".join(where)} ORDER BY id {order} LIMIT ?',
        [*args, int(limit)],
    ).fetchall()
    return [normalise_alert(dict(zip(r.keys(), tuple(r), strict=True))) for r in rows]


def get_alert(conn, alert_id: int) -> dict[str, Any] | None:
    table = alert_table(conn)
    if table is None:
        return None
    r = conn.execute(f'SELECT * FROM "{table}" WHERE id=?', (int(alert_id),)).fetchone()
    return None if r is None else normalise_alert(dict(zip(r.keys(), tuple(r), strict=True)))


def max_alert_id(conn) -> int:
    table = alert_table(conn)
    if table is None:
        return 0
    return int(conn.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"').fetchone()[0])
