"""Who may do what, on which case. Every data access path (CLI and HTTP alike) goes through `authorize`.

Actions that touch footage-derived personal data (search, relay, view, export) need an open case the user is
assigned to. A refusal is written to the audit log before the error is raised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relaytrack.errors import AccessDenied
from relaytrack.evidence import audit

ROLES = ("operator", "investigator", "supervisor", "auditor", "agency")

PERMISSIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({"search", "relay", "view", "ingest", "cameras", "watch", "alerts"}),
    "investigator": frozenset({"search", "relay", "view", "export", "ingest", "cameras", "alerts", "request"}),
    "supervisor": frozenset({"search", "relay", "view", "export", "ingest", "cameras", "watch", "alerts",
                             "request", "approve", "case_admin", "user_admin", "purge"}),
    "auditor": frozenset({"audit"}),
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

    def log(self, *, detail: dict | None = None, result_ids: list | None = None, outcome: str = "ok",
            action: str | None = None) -> int:
        return audit.append(self.conn, self.db_path, user=self.user, case=self.case, action=action or self.action,
                            outcome=outcome, detail=detail, result_ids=result_ids)


def identity(user: str | None, case: str | None) -> tuple[str | None, str | None]:
    """CLI identity: flags win, then RELAYTRACK_USER / RELAYTRACK_CASE."""
    return user or os.environ.get("RELAYTRACK_USER") or None, case or os.environ.get("RELAYTRACK_CASE") or None


def authorize(conn, db_path: Path | None, *, user: str | None, case: str | None, action: str,
              detail: dict | None = None) -> AccessContext:
    def deny(reason: str) -> AccessDenied:
        audit.append(conn, db_path, user=user, case=case, action=action, outcome="denied",
                     detail={"reason": reason, **(detail or {})})
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
        member = conn.execute("SELECT 1 FROM case_members WHERE case_no=? AND user_name=?", (case, user)).fetchone()
        if member is None and role != "supervisor":
            raise deny(f"user {user!r} is not assigned to case {case!r}")
    return AccessContext(conn, db_path, user, role, case, action)


def create_user(conn, name: str, role: str, *, password_hash: str | None = None, agency: str | None = None) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    conn.execute(
        "INSERT INTO users(name, role, agency, password_hash) VALUES (?,?,?,?)"
        " ON CONFLICT(name) DO UPDATE SET role=excluded.role, agency=excluded.agency,"
        " password_hash=COALESCE(excluded.password_hash, users.password_hash)",
        (name, role, agency, password_hash),
    )


def create_case(conn, case_no: str, *, legal_basis: str, purpose: str, created_by: str | None = None,
                members: list[str] = ()) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO cases(case_no, legal_basis, purpose, created_by) VALUES (?,?,?,?)",
        (case_no, legal_basis, purpose, created_by),
    )
    for m in members:
        conn.execute("INSERT OR IGNORE INTO case_members(case_no, user_name) VALUES (?,?)", (case_no, m))
