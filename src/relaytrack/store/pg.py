"""PostgreSQL as the multi-user store, behind the same connection surface the stages use on SQLite.

`PgConnection` answers `execute`, `executemany`, `in_transaction`, `total_changes`, `close`, and its cursors
`fetchone`, `fetchall`, iteration, `lastrowid` and `rowcount`, with rows that index by position and by name
(as `sqlite3.Row`). Statements are translated by `dialect.translate` (cached per text). Values cross as
SQLite would hand them: NUMERIC as float, booleans as 0/1 on the way in, NumPy scalars as Python numbers.

A store URL is `postgresql://USER@HOST[:PORT]/DB` (also `postgres://`). Files that sit beside a SQLite store
(the audit anchor, trained models, clips) go to a folder of their own under RELAYTRACK_HOME, named after
host, port and database: `side_path(url)`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format

from relaytrack.errors import StoreError
from relaytrack.paths import home_dir
from relaytrack.store import dialect

Error = psycopg.Error
COPY_MIN_ROWS = 64  # below this, prepared inserts cost less than setting up a COPY
IntegrityError = psycopg.IntegrityError


def is_url(db: object) -> bool:
    return isinstance(db, str) and db.split("://", 1)[0].lower() in ("postgresql", "postgres")


def describe_url(url: str) -> tuple[str, int, str]:
    """(host, port, database) of a store URL, for messages and the side folder."""
    p = urlsplit(url)
    host = p.hostname or "localhost"
    port = p.port or 5432
    q = dict(kv.split("=", 1) for kv in p.query.split("&") if "=" in kv)
    if "host" in q and not p.hostname:  # postgresql:///db?host=/socket/dir
        host = q["host"]
    return host, port, (p.path or "/").lstrip("/") or (p.username or "postgres")


def side_path(url: str) -> Path:
    """A stand-in path for files kept beside the store; its folder is created, the file never is."""
    host, port, db = describe_url(url)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{host}-{port}-{db}")
    folder = home_dir() / "pg" / safe
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{db}.pgstore"


class Row:
    """A result row read by position or by column name, like sqlite3.Row (dict(row) works too)."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: tuple) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._names.index(key)]
            except ValueError:
                raise IndexError(f"no such column: {key}") from None
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Row | tuple) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._names, self._values, strict=True))!r})"


def _row_factory(cursor: psycopg.Cursor):
    names = tuple(d.name for d in cursor.description or ())
    return lambda values: Row(names, tuple(values))


class _FloatLoader(Loader):
    def load(self, data: bytes | bytearray | memoryview) -> float:
        return float(bytes(data))


class _IntDumper(Dumper):
    """bool and NumPy integers go in as BIGINT text (SQLite keeps booleans as 0/1 integers)."""

    format = Format.TEXT
    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return str(int(obj)).encode()


class _FloatDumper(Dumper):
    format = Format.TEXT
    oid = psycopg.postgres.types["float8"].oid

    def dump(self, obj: Any) -> bytes:
        return repr(float(obj)).encode()


def _adapt(conn: psycopg.Connection) -> None:
    conn.adapters.register_loader("numeric", _FloatLoader)
    for t in (
        bool,
        np.bool_,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
    ):
        conn.adapters.register_dumper(t, _IntDumper)
    for t in (np.float16, np.float32, np.float64):
        conn.adapters.register_dumper(t, _FloatDumper)


class PgCursor:
    """What `execute` returns: the rows of the statement and, for an INSERT, the id it created."""

    def __init__(self, cur: psycopg.Cursor, lastrowid: int | None = None, rows: list | None = None) -> None:
        self._cur = cur
        self.lastrowid = lastrowid
        self._rows = rows  # an INSERT ... RETURNING id already read
        self.rowcount = cur.rowcount

    @property
    def description(self):
        return self._cur.description

    def fetchone(self) -> Row | None:
        if self._rows is not None:
            return self._rows.pop(0) if self._rows else None
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self) -> list[Row]:
        if self._rows is not None:
            rows, self._rows = self._rows, []
            return rows
        return self._cur.fetchall() if self._cur.description else []

    def fetchmany(self, size: int = 1) -> list[Row]:
        if self._rows is not None:
            rows, self._rows = self._rows[:size], self._rows[size:]
            return rows
        return self._cur.fetchmany(size) if self._cur.description else []

    def __iter__(self) -> Iterator[Row]:
        while True:
            chunk = self.fetchmany(2000)
            if not chunk:
                return
            yield from chunk

    def close(self) -> None:
        self._cur.close()


class PgConnection:
    """A psycopg connection in autocommit mode that speaks the stages' SQLite dialect. Explicit BEGIN ...
    COMMIT groups statements (Store.tx); outside one every statement commits by itself, as in SQLite's
    autocommit mode."""

    backend = "postgresql"

    def __init__(self, url: str) -> None:
        host, port, db = describe_url(url)
        self.url = url
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as err:
            lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
            first = lines[0] if lines else type(err).__name__
            raise StoreError(f"PostgreSQL at {host}:{port} (database {db}) is unreachable: {first}") from None
        _adapt(self._conn)
        self._conn.row_factory = _row_factory
        self._sql_cache: dict[str, dialect.Translated] = {}
        self._keys: dict[str, list[str]] = {}
        self._id_tables: set[str] | None = None
        self._lock = threading.RLock()
        self.total_changes = 0
        self._outer_savepoint: str | None = None  # a SAVEPOINT that began the transaction (SQLite's way)

    # --- catalog, read once and refreshed after DDL ---
    def primary_key(self, table: str) -> list[str]:
        if table not in self._keys:
            rows = self._conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (table,),
            ).fetchall()
            self._keys[table] = [r[0] for r in rows]
        return self._keys[table]

    def _identity_tables(self) -> set[str]:
        if self._id_tables is None:
            rows = self._conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND column_name = 'id' AND is_identity = 'YES'"
            ).fetchall()
            self._id_tables = {r[0] for r in rows}
        return self._id_tables

    def has_rowid(self, table: str) -> bool:
        """Whether the table's key is a database-assigned `id` (SQLite's rowid alias)."""
        return table in self._identity_tables()

    def forget_catalog(self) -> None:
        self._keys.clear()
        self._id_tables = None
        self._sql_cache.clear()

    def _translate(self, sql: str) -> dialect.Translated:
        t = self._sql_cache.get(sql)
        if t is None:
            t = dialect.translate(sql, self.primary_key, self.has_rowid)
            if len(self._sql_cache) < 4096:
                self._sql_cache[sql] = t
        return t

    # --- the sqlite3.Connection surface the stages use ---
    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence | dict = ()) -> PgCursor:
        if _TX_CONTROL.match(sql):
            return self._tx_control(sql)
        t = self._translate(sql)
        args = t.params if t.params is not None else _params(params)
        with self._lock:
            cur = self._conn.cursor()
            if t.script:  # BEGIN and the write lock, or translated DDL: statements without parameters
                for stmt in t.sql.split(";\n"):
                    cur.execute(stmt)
                if not t.sql.startswith("BEGIN"):
                    self.forget_catalog()
                return PgCursor(cur)
            if t.insert_table and t.insert_table in self._identity_tables():
                cur.execute(t.sql + " RETURNING id", args)
                rows = cur.fetchall()
                self.total_changes += max(cur.rowcount, 0)
                return PgCursor(cur, int(rows[0][0]) if rows else None, [])
            cur.execute(t.sql, args)
            if re.match(r"^\s*(CREATE|ALTER|DROP)\b", t.sql, re.I):
                self.forget_catalog()
            elif cur.rowcount > 0 and not cur.description:
                self.total_changes += cur.rowcount
            return PgCursor(cur)

    def _tx_control(self, sql: str) -> PgCursor:
        """SAVEPOINT, RELEASE, COMMIT and ROLLBACK as SQLite runs them: a SAVEPOINT outside a transaction
        begins one (a write transaction, with BEGIN's lock) and releasing that outermost savepoint commits it;
        PostgreSQL refuses a savepoint outside a transaction block."""
        word, name = _TX_CONTROL.match(sql).group(1, 2)
        word = word.upper()
        with self._lock:
            if word == "SAVEPOINT" and not self.in_transaction:
                self.execute("BEGIN IMMEDIATE")
                self._outer_savepoint = name.lower()
            cur = self._conn.cursor()
            cur.execute(sql.strip().rstrip(";"))
            if word == "RELEASE" and name and name.lower() == self._outer_savepoint:
                self._outer_savepoint = None
                cur.execute("COMMIT")
            elif word in ("COMMIT", "END") or (word == "ROLLBACK" and not name):  # not ROLLBACK TO
                self._outer_savepoint = None
            return PgCursor(cur)

    def executemany(self, sql: str, seq: Iterable[Sequence]) -> PgCursor:
        t = self._translate(sql)
        with self._lock:
            cur = self._conn.cursor()
            if t.copy_into is not None:
                rows = seq if isinstance(seq, list) else list(seq)
                if len(rows) >= COPY_MIN_ROWS:
                    self.total_changes += self._copy(cur, *t.copy_into, rows)
                    return PgCursor(cur)
                seq = rows
            cur.executemany(t.sql, (_params(p) for p in seq))
            self.total_changes += max(cur.rowcount, 0)
            return PgCursor(cur)

    def _copy(self, cur: psycopg.Cursor, table: str, cols: list[str], conflict: str, rows: list) -> int:
        """Load rows with COPY: straight into the table, or (with an ON CONFLICT clause) into a temporary
        twin first and from there with one INSERT ... SELECT that applies the clause."""
        names = ", ".join(cols)
        target = table
        if conflict:
            target = f"_rt_stage_{table}"
            # Only the loaded columns: a twin of the whole table would demand its generated id (NOT NULL,
            # no identity in a LIKE copy), which the INSERT ... SELECT leaves to the table itself.
            cur.execute(f"DROP TABLE IF EXISTS {target}")
            cur.execute(f"CREATE TEMP TABLE {target} AS SELECT {names} FROM {table} WITH NO DATA")
        with cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        if not conflict:
            return len(rows)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {target} {conflict}")
        return max(cur.rowcount, 0)

    def executescript(self, script: str) -> None:
        for stmt in script.split(";"):
            if stmt.strip():
                self.execute(stmt)

    def commit(self) -> None:
        if self.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self._conn.execute("ROLLBACK")

    def raw(self) -> psycopg.Connection:
        """The psycopg connection itself, for PostgreSQL-only work (COPY, catalog queries)."""
        return self._conn

    def close(self) -> None:
        self._conn.close()


# Transaction control the stages write in SQLite's words (BEGIN goes through the dialect: it takes the lock).
_TX_CONTROL = re.compile(
    r"^\s*(SAVEPOINT|RELEASE|COMMIT|END|ROLLBACK)\b(?:\s+(?:TRANSACTION\b|TO\b|SAVEPOINT\b)\s*)*\s*(\w+)?\s*;?\s*$",
    re.I,
)


def _params(params: Sequence | dict | None) -> Sequence | dict:
    if params is None:
        return ()
    if isinstance(params, dict):
        return params
    return params if isinstance(params, list | tuple) else list(params)


def connect(url: str) -> PgConnection:
    conn = PgConnection(url)
    raw = conn.raw()
    have = raw.execute("SELECT 1 FROM pg_proc WHERE proname = 'relaytrack_append_only'").fetchone()
    if have is None:  # once per database; the lock keeps two first connections from racing on the catalog
        with raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (dialect.WRITE_LOCK_KEY + 1,))
            raw.execute(dialect.COMPAT_SQL)
    return conn
