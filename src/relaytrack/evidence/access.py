"""Who may do what, on which case. Every data access path (CLI and HTTP alike) goes through `authorize`.

Actions that touch footage-derived personal data (search, relay, view, export) need an open case the user is
assigned to. A refusal is written to the audit log before the error is raised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    "agency": frozenset({"request", "view", "export"}),
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
        "INSERT OR IGNORE INTO cases(case_no, legal_basis, purpose, created_by) VALUES (?,?,?,?)",
        (case_no, legal_basis, purpose, created_by),
    )
    for m in members:
        conn.execute("INSERT OR IGNORE INTO case_members(case_no, user_name) VALUES (?,?)", (case_no, m))


def assign(conn, case_no: str, user: str) -> None:
    if conn.execute("SELECT 1 FROM cases WHERE case_no=?", (case_no,)).fetchone() is None:
        raise NotFound(f"case {case_no!r} not found")
    if conn.execute("SELECT 1 FROM users WHERE name=?", (user,)).fetchone() is None:
        raise NotFound(f"user {user!r} not found")
    conn.execute("INSERT OR IGNORE INTO case_members(case_no, user_name) VALUES (?,?)", (case_no, user))


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
        "INSERT OR IGNORE INTO case_sightings(case_no, sighting_id, note) VALUES (?,?,?)",
        [(case_no, int(i), note) for i in sighting_ids],
    )


def check_case_ids(ctx: AccessContext, sighting_ids: list[int]) -> None:
    """Refuse (and log) sightings that another case holds and this one does not: a case's evidence is not
    readable from another case. Unknown ids are refused too."""
    ids = [int(i) for i in sighting_ids]
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    known = {r[0] for r in ctx.conn.execute(f"SELECT id FROM sightings WHERE id IN ({marks})", ids)}
    missing = [i for i in ids if i not in known]
    held = {}
    for sid, case_no in ctx.conn.execute(
        f"SELECT sighting_id, case_no FROM case_sightings WHERE sighting_id IN ({marks})", ids
    ):
        held.setdefault(sid, set()).add(case_no)
    foreign = sorted(i for i, cases in held.items() if ctx.case not in cases)
    if missing or foreign:
        reason = (
            f"sighting(s) {missing} do not exist"
            if missing
            else f"sighting(s) {foreign} belong to another case"
        )
        ctx.log(outcome="denied", detail={"reason": reason}, result_ids=missing or foreign)
        raise AccessDenied(f"{ctx.action} refused: {reason}")


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
