"""The attacker's (or the DBA's) view of a store: plain SQL on either backend, bypassing relaytrack.

Tests that tamper with a store, or read it behind relaytrack's back, use these instead of `sqlite3.connect` so
that they run on a SQLite file and on a postgresql:// URL alike. Statements are written with `?` placeholders
and SQL that both engines accept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

AUDIT_TRIGGERS = ("audit_no_update", "audit_no_delete")


def is_pg(db: str | Path) -> bool:
    return str(db).startswith(("postgresql://", "postgres://"))


def execute(db: str | Path, *stmts: str | tuple[str, Sequence[Any]], drop_triggers: bool = False) -> None:
    """Run statements (text, or (text, params)) in one transaction; with drop_triggers the audit log's
    append-only triggers go first, as someone with the database's own credentials could do."""
    items = [(s, ()) if isinstance(s, str) else s for s in stmts]
    if is_pg(db):
        import psycopg

        with psycopg.connect(str(db)) as con:  # one transaction, committed on leaving the block
            if drop_triggers:
                for t in AUDIT_TRIGGERS:
                    con.execute(f"DROP TRIGGER IF EXISTS {t} ON audit_log")
            for sql, params in items:
                con.execute(*_pg(sql, params))
        return
    con = sqlite3.connect(str(db))
    try:
        if drop_triggers:
            for t in AUDIT_TRIGGERS:
                con.execute(f"DROP TRIGGER IF EXISTS {t}")
        for sql, params in items:
            con.execute(sql, tuple(params))
        con.commit()
    finally:
        con.close()


def _pg(sql: str, params: Sequence[Any]) -> tuple[str, tuple | None]:
    # Placeholders only where there are parameters: a literal's '?' or '%' stays data otherwise.
    return (sql.replace("?", "%s"), tuple(params)) if params else (sql, None)


def query(db: str | Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Rows of one SELECT as plain tuples."""
    if is_pg(db):
        import psycopg

        with psycopg.connect(str(db), autocommit=True) as con:
            return [tuple(r) for r in con.execute(*_pg(sql, params)).fetchall()]
    con = sqlite3.connect(str(db))
    try:
        return [tuple(r) for r in con.execute(sql, tuple(params)).fetchall()]
    finally:
        con.close()


def one(db: str | Path, sql: str, params: Sequence[Any] = ()) -> tuple | None:
    rows = query(db, sql, params)
    return rows[0] if rows else None
