"""A case's notes (the case folder): free text an investigator writes down in a case, kept in order, never
edited or deleted. Who may write or read them is the caller's gate (relaytrack.evidence.access.authorize)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relaytrack.errors import NotFound
from relaytrack.evidence.guard import check_text

MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    case: str
    user: str | None
    text: str
    created_at: float


def add_note(conn: Any, case: str, user: str | None, text: str) -> int:
    """Store a note in a case (checked free text); returns its id."""
    check_text(text, "note", max_len=MAX_NOTE)
    if conn.execute("SELECT 1 FROM cases WHERE case_no=?", (case,)).fetchone() is None:
        raise NotFound(f"case {case!r} not found")
    cur = conn.execute(
        "INSERT INTO case_notes(case_no, user_name, text) VALUES (?,?,?)", (case, user, text.strip())
    )
    return int(cur.lastrowid)


def notes_of(conn: Any, case: str, limit: int = 1000) -> list[Note]:
    """The case's notes, oldest first."""
    return [
        Note(int(r[0]), r[1], r[2], r[3], float(r[4]))
        for r in conn.execute(
            "SELECT id, case_no, user_name, text, created_at FROM case_notes WHERE case_no=?"
            " ORDER BY id LIMIT ?",
            (case, int(limit)),
        )
    ]
