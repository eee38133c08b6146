"""Connection, migrations and small helpers shared by every table owner.

Each stage that owns tables keeps its schema in its own `schema.py` with a `MIGRATIONS` list of
(name, sql). They are applied in the order of `SCHEMA_MODULES`, each recorded once in `_migrations`,
so an old store is brought forward and never rebuilt.

Layers above the store that must act after a write commits register a hook with `on_commit(hook)`; the
store calls `hook(store)` after each `Store.tx()` commits and knows nothing of what the hooks do (the
evidence layer registers one that moves the audit chain's anchor file forward, when `relaytrack.evidence`
is imported, which opening a store does through the schema modules).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pysqlite3.dbapi2 as sqlite3
import sqlite_vec

from relaytrack.errors import StoreError
from relaytrack.paths import default_db
from relaytrack.store import dialect, pg

SCHEMA_MODULES = (
    "relaytrack.store.schema",
    "relaytrack.evidence.schema",
    "relaytrack.relay.schema",
    "relaytrack.watch.schema",
    "relaytrack.search.schema",
    "relaytrack.pursue.schema",
)

# Either backend's errors: `except Error` catches both (a tuple is a valid except target).
Error = (sqlite3.Error, pg.Error)
IntegrityError = (sqlite3.IntegrityError, pg.IntegrityError)

CommitHook = Callable[["Store"], None]
_COMMIT_HOOKS: list[CommitHook] = []


def on_commit(hook: CommitHook) -> CommitHook:
    """Run `hook(store)` after every `Store.tx()` commit (once per hook, however often registered)."""
    if hook not in _COMMIT_HOOKS:
        _COMMIT_HOOKS.append(hook)
    return hook


def is_postgres(conn: Any) -> bool:
    return getattr(conn, "backend", "sqlite") == "postgresql"


def side_path(target: str | Path) -> Path:
    """Where files kept beside a store live: the SQLite file itself, a stand-in for PostgreSQL."""
    return pg.side_path(str(target)) if pg.is_url(target) else Path(target)


def connect(path: str | Path | None = None, *, readonly: bool = False) -> Any:
    """A SQLite connection for a path, a PostgreSQL one (`pg.PgConnection`) for a postgresql:// URL."""
    path = path or default_db()
    if pg.is_url(path):
        return pg.connect(str(path))
    path = Path(path)
    if readonly and not path.exists():
        raise StoreError(f"{path}: no such store (run `relaytrack ingest` or `relaytrack demo` first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.enable_load_extension(False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path}: not a relaytrack store ({err})") from err
    return conn


def migrate(conn: Any) -> list[str]:
    """Apply every pending migration; returns the names applied. On PostgreSQL the same named migrations
    run, their DDL said in PostgreSQL by `dialect.translate_ddl`, under a lock so that processes opening a
    new database at once do not race."""
    if not is_postgres(conn):
        return _migrate(conn)
    raw = conn.raw()
    raw.execute("SELECT pg_advisory_lock(%s)", (dialect.WRITE_LOCK_KEY + 2,))
    try:
        return _migrate(conn)
    finally:
        raw.execute("SELECT pg_advisory_unlock(%s)", (dialect.WRITE_LOCK_KEY + 2,))


def _migrate(conn: Any) -> list[str]:
    _run_ddl(
        conn,
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT DEFAULT CURRENT_TIMESTAMP)",
    )
    done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for mod_name in SCHEMA_MODULES:
        mod = importlib.import_module(mod_name)
        for name, sql in mod.MIGRATIONS:
            key = f"{mod_name.rsplit('.', 2)[-2]}:{name}"
            if key in done:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                if callable(sql):
                    sql(conn)
                else:
                    for stmt in _split_sql(sql):
                        _run_ddl(conn, stmt)
                conn.execute("INSERT INTO _migrations(name) VALUES (?)", (key,))
                conn.execute("COMMIT")
            except Exception:
                conn.execute("ROLLBACK")
                raise
            applied.append(key)
    return applied


def _run_ddl(conn: Any, stmt: str) -> None:
    if not is_postgres(conn):
        conn.execute(stmt)
        return
    if stmt.lstrip().upper().startswith(("CREATE", "ALTER", "DROP")):
        for s in dialect.translate_ddl(stmt, conn.has_rowid):
            conn.raw().execute(s)
        conn.forget_catalog()
    else:
        conn.execute(stmt)


def _split_sql(script: str) -> list[str]:
    # Triggers contain ';' inside BEGIN ... END; sqlite3.complete_statement knows where statements end.
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


class Store:
    """An open, migrated store. Thread-safe for the simple use here: one lock around write transactions."""

    def __init__(self, path: str | Path | None = None, *, readonly: bool = False) -> None:
        target = path or default_db()
        # `url` names the store for both backends; `path` is where side files (audit anchor, trained models,
        # clips) live: the file itself for SQLite, a stand-in in a folder of its own for PostgreSQL.
        self.url = str(target)
        self.backend = "postgresql" if pg.is_url(target) else "sqlite"
        self.path = side_path(target)
        self.conn = connect(target if self.backend == "postgresql" else self.path, readonly=readonly)
        self._lock = threading.RLock()
        migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    def owned_by_caller(self) -> bool:
        """Whether whoever runs this process owns the store: the SQLite file's owner, or for PostgreSQL the
        database's owner role (or a superuser) as which this connection logged in."""
        if self.backend == "postgresql":
            row = self.one(
                "SELECT pg_get_userbyid(d.datdba) = current_user"
                " OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
                " FROM pg_database d WHERE d.datname = current_database()"
            )
            return bool(row and row[0])
        return os.stat(self.path).st_uid == os.geteuid()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def tx(self) -> Iterator[Any]:
        """One write transaction: committed whole or not at all (a kill -9 mid-way loses only this one)."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            self.run_commit_hooks()

    def run_commit_hooks(self) -> None:
        """Call the registered `on_commit` hooks (also for writers that commit without `tx()`)."""
        for hook in tuple(_COMMIT_HOOKS):
            hook(self)

    def query(self, sql: str, params: tuple | dict = ()) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple | dict = ()) -> Any:
        return self.conn.execute(sql, params).fetchone()

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key=?", (key,))
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
