"""Who may do what, on which case. Every data access path (CLI and HTTP alike) goes through `authorize`, and
every read of footage-derived data (sighting rows, crops, boxes, video, search results, relay routes and
verdicts, exports, pursuits) through `authorize_sightings`.

Actions that touch footage-derived personal data (search, relay, view, export) need an open case the user is
assigned to. Sightings another case holds are then withheld from this one, unless this case holds them too or
found them before they were held (an export by one case never locks out the case that found a sighting).
Audit trails are read per case: a supervisor reads every case's, an auditor or agency user only those of cases
they are assigned to. A refusal is written to the audit log before the error is raised.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from relaytrack.errors import AccessDenied, InputError, NotFound
from relaytrack.evidence import audit
from relaytrack.evidence.guard import check_name, check_text

ROLES = ("operator", "investigator", "supervisor", "auditor", "agency")

PERMISSIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({"search", "relay", "view", "ingest", "cameras", "watch", "alerts"}),
    "investigator": frozenset(
        {"search", "relay", "view", "export", "ingest", "cameras", "alerts", "request"}
    ),
    "supervisor": frozenset(
        {
            "search",
            "relay",
            "view",
            "export",
            "ingest",
            "cameras",
            "watch",
            "alerts",
            "request",
            "approve",
            "case_admin",
            "user_admin",
            "purge",
            "audit",
            "stats",
        }
    ),
    "auditor": frozenset({"audit", "stats"}),
    # An agency reads the audit trail of its own cases only (authorize_audit): who saw their case's footage.
    "agency": frozenset({"request", "view", "export", "audit"}),
}
CASE_ACTIONS = frozenset({"search", "relay", "view", "export"})


@dataclass
class AccessContext:
    """Proof that `user` may do `action` on `case`; logs what the action did."""

    conn: Any
    db_path: Path | None
    user: str
    role: str
    case: str | None
    action: str
    extra: dict = field(default_factory=dict)

    def log(
        self,
        *,
        detail: dict | None = None,
        result_ids: list | None = None,
        outcome: str = "ok",
        action: str | None = None,
    ) -> int:
        return audit.append(
            self.conn,
            self.db_path,
            user=self.user,
            case=self.case,
            action=action or self.action,
            outcome=outcome,
            detail=detail,
            result_ids=result_ids,
        )


def identity(user: str | None, case: str | None) -> tuple[str | None, str | None]:
    """CLI identity: flags win, then RELAYTRACK_USER / RELAYTRACK_CASE."""
    return user or os.environ.get("RELAYTRACK_USER") or None, case or os.environ.get(
        "RELAYTRACK_CASE"
    ) or None


def authorize(
    conn, db_path: Path | None, *, user: str | None, case: str | None, action: str, detail: dict | None = None
) -> AccessContext:
    def deny(reason: str) -> AccessDenied:
        audit.append(
            conn,
            db_path,
            user=user,
            case=case,
            action=action,
            outcome="denied",
            detail={"reason": reason, **(detail or {})},
        )
        return AccessDenied(f"{action} refused: {reason}")

    if not user:
        raise deny("no user given (use --user or RELAYTRACK_USER)")
    row = conn.execute("SELECT role, active FROM users WHERE name=?", (user,)).fetchone()
    if row is None or not row[1]:
        raise deny(f"unknown or inactive user {user!r}")
    role = row[0]
    if action not in PERMISSIONS.get(role, frozenset()):
        raise deny(f"role {role!r} may not {action}")
    if action in CASE_ACTIONS:
        if not case:
            raise deny("no case given (use --case or RELAYTRACK_CASE); searches and exports need a case")
        crow = conn.execute("SELECT status FROM cases WHERE case_no=?", (case,)).fetchone()
        if crow is None:
            raise deny(f"unknown case {case!r}")
        if crow[0] != "open":
            raise deny(f"case {case!r} is {crow[0]}")
        member = conn.execute(
            "SELECT 1 FROM case_members WHERE case_no=? AND user_name=?", (case, user)
        ).fetchone()
        if member is None and role != "supervisor":
            raise deny(f"user {user!r} is not assigned to case {case!r}")
    return AccessContext(conn, db_path, user, role, case, action)


def create_user(
    conn, name: str, role: str, *, password_hash: str | None = None, agency: str | None = None
) -> None:
    check_name(name, "user name")
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    if agency is not None:
        check_name(agency, "agency")
    conn.execute(
        "INSERT INTO users(name, role, agency, password_hash) VALUES (?,?,?,?)"
        " ON CONFLICT(name) DO UPDATE SET role=excluded.role, agency=excluded.agency,"
        " password_hash=COALESCE(excluded.password_hash, users.password_hash)",
        (name, role, agency, password_hash),
    )


def create_case(
    conn,
    case_no: str,
    *,
    legal_basis: str,
    purpose: str,
    created_by: str | None = None,
    members: list[str] = (),
) -> None:
    check_name(case_no, "case number")
    check_text(legal_basis, "legal basis", max_len=200)
    check_text(purpose, "purpose", max_len=500)
    for m in members:
        if conn.execute("SELECT 1 FROM users WHERE name=?", (m,)).fetchone() is None:
            raise NotFound(f"case {case_no}: member {m!r} is not a user (add it with `relaytrack users add`)")
    conn.execute(
        "INSERT INTO cases(case_no, legal_basis, purpose, created_by) VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
        (case_no, legal_basis, purpose, created_by),
    )
    for m in members:
        conn.execute(
            "INSERT INTO case_members(case_no, user_name) VALUES (?,?) ON CONFLICT DO NOTHING", (case_no, m)
        )


def assign(conn, case_no: str, user: str) -> None:
    if conn.execute("SELECT 1 FROM cases WHERE case_no=?", (case_no,)).fetchone() is None:
        raise NotFound(f"case {case_no!r} not found")
    if conn.execute("SELECT 1 FROM users WHERE name=?", (user,)).fetchone() is None:
        raise NotFound(f"user {user!r} not found")
    conn.execute(
        "INSERT INTO case_members(case_no, user_name) VALUES (?,?) ON CONFLICT DO NOTHING", (case_no, user)
    )


def set_case_status(conn, case_no: str, *, status: str | None = None, legal_hold: bool | None = None) -> None:
    if status is not None and status not in ("open", "closed"):
        raise InputError(f"case status {status!r}: use open or closed")
    if conn.execute("SELECT 1 FROM cases WHERE case_no=?", (case_no,)).fetchone() is None:
        raise NotFound(f"case {case_no!r} not found")
    if status is not None:
        conn.execute(
            "UPDATE cases SET status=?, closed_at=CASE WHEN ?='closed' THEN unixepoch('subsec') END"
            " WHERE case_no=?",
            (status, status, case_no),
        )
    if legal_hold is not None:
        conn.execute("UPDATE cases SET legal_hold=? WHERE case_no=?", (int(legal_hold), case_no))


def hold_sightings(conn, case_no: str, sighting_ids: list[int], note: str = "") -> None:
    """Bind sightings to a case: they are then kept by retention while the case is open and on hold, and
    other cases cannot read them."""
    conn.executemany(
        "INSERT INTO case_sightings(case_no, sighting_id, note) VALUES (?,?,?) ON CONFLICT DO NOTHING",
        [(case_no, int(i), note) for i in sighting_ids],
    )


# ---- footage-derived reads: the one gate ----------------------------------------------------------------------

_CHUNK = 500  # ids per IN (...) list: far below either engine's parameter limit


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


@dataclass(frozen=True, slots=True)
class SightingGrant:
    """What a case may see of some sightings: `allowed` (in the order asked), `withheld` (held by another case:
    left out of lists, masked in video) and `missing` (no such sighting)."""

    allowed: list[int]
    withheld: list[int]
    missing: list[int]


def held_elsewhere(conn, case: str | None, ids: Iterable[int]) -> set[int]:
    """Sightings among `ids` that `case` may not read: held by another case, and neither held by `case` nor
    found by it before the hold. With no case, every held sighting."""
    out: set[int] = set()
    for chunk in _chunks(sorted({int(i) for i in ids})):
        marks = ",".join("?" * len(chunk))
        held: dict[int, set[str]] = {}
        for sid, c in conn.execute(
            f"SELECT sighting_id, case_no FROM case_sightings WHERE sighting_id IN ({marks})", chunk
        ):
            held.setdefault(int(sid), set()).add(c)
        foreign = [sid for sid, cases in held.items() if case not in cases]
        if case and foreign:
            found = {
                int(r[0])
                for r in conn.execute(
                    "SELECT sighting_id FROM case_finds WHERE case_no=?"
                    f" AND sighting_id IN ({','.join('?' * len(foreign))})",
                    [case, *foreign],
                )
            }
            foreign = [sid for sid in foreign if sid not in found]
        out.update(foreign)
    return out


def hidden_sightings(conn, case: str | None) -> set[int]:
    """Every sighting `case` may not read, for searches over the whole store (relay candidates, ranking)."""
    rows = conn.execute("SELECT DISTINCT sighting_id FROM case_sightings WHERE case_no <> ?", (case or "",))
    return held_elsewhere(conn, case, [r[0] for r in rows])


def visible_sql(column: str = "sightings.id") -> str:
    """A WHERE condition true for the sightings a case may read; bind `visible_params(case)` to it."""
    return (
        f"(NOT EXISTS (SELECT 1 FROM case_sightings h WHERE h.sighting_id = {column} AND h.case_no <> ?)"
        f" OR EXISTS (SELECT 1 FROM case_sightings h WHERE h.sighting_id = {column} AND h.case_no = ?)"
        f" OR EXISTS (SELECT 1 FROM case_finds f WHERE f.sighting_id = {column} AND f.case_no = ?))"
    )


def visible_params(case: str | None) -> tuple[str, str, str]:
    # No case: '' is no case's number, so every held sighting is someone else's.
    return (case or "", case or "", case or "")


def record_finds(conn, case: str, ids: Iterable[int]) -> None:
    """Remember that `case` was shown these sightings: a later hold by another case does not take them away."""
    now = time.time()
    conn.executemany(
        "INSERT INTO case_finds(case_no, sighting_id, first_at) VALUES (?,?,?) ON CONFLICT DO NOTHING",
        [(case, int(i), now) for i in dict.fromkeys(ids)],
    )


def authorize_sightings(
    ctx: AccessContext, sighting_ids: Iterable[int], *, partial: bool = False, record: bool = True
) -> SightingGrant:
    """The gate of every footage-derived read, CLI and service alike (see the module docstring).

    With partial=False (a read of named sightings) an unknown id or one another case holds refuses the whole
    read: logged as denied, AccessDenied raised. With partial=True (a list, a search, the people in a video)
    the caller shows `allowed` only and masks or drops `withheld`. Allowed sightings of a case action are
    recorded as found by the acting case unless record=False (bystanders in a camera's video)."""
    order = list(dict.fromkeys(int(i) for i in sighting_ids))
    if not order:
        return SightingGrant([], [], [])
    # Only a case action proves membership of an open case; for any other (alerts) the named case is a claim,
    # so nothing held is shown by it.
    case = ctx.case if ctx.action in CASE_ACTIONS else None
    known: set[int] = set()
    for chunk in _chunks(order):
        marks = ",".join("?" * len(chunk))
        known.update(
            int(r[0]) for r in ctx.conn.execute(f"SELECT id FROM sightings WHERE id IN ({marks})", chunk)
        )
    hidden = held_elsewhere(ctx.conn, case, known)
    grant = SightingGrant(
        [i for i in order if i in known and i not in hidden],
        [i for i in order if i in hidden],
        [i for i in order if i not in known],
    )
    if not partial and (grant.missing or grant.withheld):
        reason = (
            f"sighting(s) {grant.missing} do not exist"
            if grant.missing
            else f"sighting(s) {grant.withheld} belong to another case"
        )
        ctx.log(outcome="denied", detail={"reason": reason}, result_ids=grant.missing or grant.withheld)
        raise AccessDenied(f"{ctx.action} refused: {reason}")
    if record and case and grant.allowed:
        record_finds(ctx.conn, case, grant.allowed)
    return grant


def check_case_ids(ctx: AccessContext, sighting_ids: list[int]) -> None:
    """`authorize_sightings` of named ids (refuses, logged, any unknown or withheld id)."""
    authorize_sightings(ctx, sighting_ids)


R = TypeVar("R")
MAX_EXTRA = 1000  # a case search asks for at most this many more results than it shows


def case_search(ctx: AccessContext, run: Callable[[int], R], top: int) -> tuple[R, SightingGrant]:
    """A ranked search for a case: `run(k)` returns a result with `.hits` (each `.sighting.id`), best first.
    It is asked for `top` plus at least as many as the case cannot see (the sightings other cases hold, an
    upper bound counted in one query), so that dropping those still leaves the exact top `top` of what the
    case may read."""
    case = ctx.case if ctx.action in CASE_ACTIONS else None
    held = ctx.conn.execute(
        "SELECT COUNT(DISTINCT sighting_id) FROM case_sightings WHERE case_no <> ?", (case or "",)
    ).fetchone()[0]
    extra = min(int(held or 0), MAX_EXTRA)
    res = run(top + extra)
    grant = authorize_sightings(ctx, [h.sighting.id for h in res.hits], partial=True, record=False)
    keep = set(grant.allowed)
    res.hits = [h for h in res.hits if h.sighting.id in keep][:top]
    if case and res.hits:
        record_finds(ctx.conn, case, [h.sighting.id for h in res.hits])
    return res, grant


# ---- membership of cases outside the case actions -------------------------------------------------------------


def require_member(ctx: AccessContext, case: str | None, *, open_only: bool = True) -> None:
    """Refuse (logged) unless `case` exists (and is open, with open_only) and the user is assigned to it;
    supervisors may act on any case."""

    def deny(reason: str) -> AccessDenied:
        ctx.log(outcome="denied", detail={"reason": reason, "case": case})
        return AccessDenied(f"{ctx.action} refused: {reason}")

    row = ctx.conn.execute("SELECT status FROM cases WHERE case_no=?", (case,)).fetchone() if case else None
    if row is None:
        raise deny(f"unknown case {case!r}" if case else "no case given")
    if open_only and row[0] != "open":
        raise deny(f"case {case!r} is {row[0]}")
    if ctx.role != "supervisor" and not is_member(ctx.conn, case, ctx.user):
        raise deny(f"user {ctx.user!r} is not assigned to case {case!r}")


def is_member(conn, case: str, user: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM case_members WHERE case_no=? AND user_name=?", (case, user)).fetchone()
        is not None
    )


def audit_cases(conn, user: str, role: str) -> list[str] | None:
    """The cases whose audit trail `user` may read; None means all of them and the entries of no case
    (supervisors). Auditors and agency users read only the cases they are assigned to."""
    if role == "supervisor":
        return None
    return [
        r[0] for r in conn.execute("SELECT case_no FROM case_members WHERE user_name=? ORDER BY 1", (user,))
    ]


def authorize_audit(
    conn, db_path: Path | None, *, user: str | None, case: str | None, detail: dict | None = None
) -> AccessContext:
    """A read of the audit trail: role with 'audit', and for non-supervisors a case they are assigned to
    (open or closed: an auditor reviews closed cases too)."""
    ctx = authorize(conn, db_path, user=user, case=case, action="audit", detail=detail)
    if ctx.role != "supervisor":
        require_member(ctx, case, open_only=False)
    return ctx


DEMO_USER = "demo"
DEMO_CASE = "DEMO-0001"


def ensure_demo_identity(conn, db_path: Path | None = None) -> tuple[str, str]:
    """User `demo` (investigator) and open case `DEMO-0001` with demo as member; idempotent.
    Returns (user, case)."""
    new = conn.execute("SELECT 1 FROM cases WHERE case_no=?", (DEMO_CASE,)).fetchone() is None
    create_user(conn, DEMO_USER, "investigator")
    create_case(
        conn,
        DEMO_CASE,
        legal_basis="DEMO warrant 2026-demo-1 (synthetic town, no real people)",
        purpose="demonstration: find and relay a described suspect across the synthetic town's cameras",
        created_by="system:demo",
        members=[DEMO_USER],
    )
    conn.execute("UPDATE cases SET status='open' WHERE case_no=?", (DEMO_CASE,))
    if new:
        audit.append(
            conn,
            db_path,
            user="system:demo",
            case=DEMO_CASE,
            action="case_admin",
            detail={"created": DEMO_CASE, "members": [DEMO_USER], "role": "investigator"},
        )
    return DEMO_USER, DEMO_CASE
