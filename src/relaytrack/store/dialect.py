"""SQLite SQL as the stages write it, said in PostgreSQL.

The stages keep one SQL text (SQLite's, the embedded default) and the PostgreSQL connection translates it
once per distinct statement (cached). What is translated is the small dialect the project uses, not SQL at
large: `?` placeholders, `INSERT OR IGNORE/REPLACE`, `x IS ?`, SUM over a comparison, `PRAGMA table_info`
and `foreign_key_list`, the SQLite type names and rowid keys in DDL, and the append-only triggers. Functions
SQLite has and PostgreSQL lacks (`unixepoch`, `json_extract`) and a `sqlite_master` view are created in the
database by `COMPAT_SQL` instead, so expression indexes and queries keep their text.

A statement this module cannot say in PostgreSQL raises `StoreError` naming it, rather than running
something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from relaytrack.errors import StoreError

# Created once per database, before the first migration (idempotent).
COMPAT_SQL = r"""
CREATE OR REPLACE FUNCTION unixepoch(unit text) RETURNS double precision
    LANGUAGE sql STABLE AS $$ SELECT extract(epoch FROM clock_timestamp())::double precision $$;
CREATE OR REPLACE FUNCTION unixepoch() RETURNS double precision
    LANGUAGE sql STABLE AS $$ SELECT floor(extract(epoch FROM clock_timestamp()))::double precision $$;
-- The stages only extract numbers (carried-item confidences) from JSON text; '$."key"' or '$.key'.
CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS double precision
    LANGUAGE sql IMMUTABLE AS $$
    SELECT (doc::jsonb ->> trim(both '"' from substr(path, 3)))::double precision $$;
CREATE OR REPLACE FUNCTION relaytrack_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
CREATE OR REPLACE VIEW sqlite_master AS
    SELECT 'table'::text AS type, c.relname::text AS name, c.relname::text AS tbl_name, NULL::text AS sql
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
    UNION ALL
    SELECT 'index', c.relname::text, t.relname::text, NULL
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()
    UNION ALL
    SELECT 'view', c.relname::text, c.relname::text, NULL
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'v' AND c.relname <> 'sqlite_master';
"""

_TABLE_INFO_SQL = (
    "SELECT (ordinal_position - 1)::int AS cid, column_name::text AS name, data_type::text AS type,"
    " (is_nullable = 'NO')::int AS notnull, column_default::text AS dflt_value,"
    " COALESCE((SELECT k.ordinal_position FROM information_schema.key_column_usage k"
    "  JOIN information_schema.table_constraints tc ON tc.constraint_name = k.constraint_name"
    "  AND tc.table_schema = k.table_schema"
    "  WHERE tc.constraint_type = 'PRIMARY KEY' AND k.table_schema = current_schema()"
    "  AND k.table_name = c.table_name AND k.column_name = c.column_name), 0)::int AS pk"
    " FROM information_schema.columns c WHERE table_schema = current_schema() AND table_name = %s"
    " ORDER BY ordinal_position"
)
# Columns as SQLite's foreign_key_list gives them: id, seq, table, from, to, on_update, on_delete, match.
_FK_LIST_SQL = (
    'SELECT 0 AS id, 0 AS seq, ccu.table_name::text AS "table", kcu.column_name::text AS "from",'
    ' ccu.column_name::text AS "to", rc.update_rule::text AS on_update, rc.delete_rule::text AS on_delete,'
    " 'NONE' AS match"
    " FROM information_schema.table_constraints tc"
    " JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name"
    "  AND tc.table_schema = kcu.table_schema"
    " JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name"
    "  AND ccu.table_schema = tc.table_schema"
    " JOIN information_schema.referential_constraints rc ON rc.constraint_name = tc.constraint_name"
    "  AND rc.constraint_schema = tc.table_schema"
    " WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = %s"
)

# PRAGMAs that tune SQLite's engine mean nothing here; they answer with no rows.
_NOOP_PRAGMAS = {
    "journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size", "temp_store",
    "database_list", "wal_checkpoint", "optimize", "mmap_size",
}  # fmt: skip


class Translated:
    """One statement in PostgreSQL: its text, a parameter tuple to use instead of the caller's (PRAGMAs
    carry their argument in the text), and whether it is an INSERT that should hand back its new id."""

    __slots__ = ("sql", "params", "insert_table", "script", "copy_into")

    def __init__(
        self, sql: str, params: tuple | None = None, insert_table: str | None = None, script: bool = False
    ) -> None:
        self.sql = sql
        self.params = params
        self.insert_table = insert_table
        self.script = script  # several statements without parameters, separated by ';\n'
        # (table, columns) when the statement is a plain INSERT of one row of placeholders: executemany may
        # then load many rows with COPY, which is an order of magnitude faster than row-by-row inserts.
        # `conflict` is the ON CONFLICT clause of an INSERT OR IGNORE/REPLACE: those rows are staged by COPY
        # into a temporary table and moved with one INSERT ... SELECT ... ON CONFLICT.
        self.copy_into: tuple[str, list[str], str] | None = None


def _outside_quotes(sql: str, fn: Callable[[str], str]) -> str:
    """Apply fn to the parts of sql outside '...' and "..." literals (quotes kept as they are)."""
    out, i, n = [], 0, len(sql)
    while i < n:
        q = min((p for p in (sql.find("'", i), sql.find('"', i)) if p >= 0), default=-1)
        if q < 0:
            out.append(fn(sql[i:]))
            break
        out.append(fn(sql[i:q]))
        end = sql.find(sql[q], q + 1)
        while end >= 0 and end + 1 < n and sql[end + 1] == sql[q]:  # '' escapes a quote
            end = sql.find(sql[q], end + 2)
        end = n - 1 if end < 0 else end
        out.append(sql[q : end + 1].replace("%", "%%") if sql[q] == "'" else sql[q : end + 1])
        i = end + 1
    return "".join(out)


_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.I | re.S)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.I)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)\s*(?:\(\s*\"?(\w+)\"?\s*\)|=\s*(\S+))?\s*;?\s*$", re.I)
_SUM_CMP = re.compile(r"\bSUM\(([^()]*?(?:[<>]=?|!=|=)[^()]*?)\)", re.I)
_BEGIN = re.compile(r"^\s*BEGIN(\s+(IMMEDIATE|EXCLUSIVE|DEFERRED))?(\s+TRANSACTION)?\s*;?\s*$", re.I)

# Every write transaction takes this one lock, as SQLite's BEGIN IMMEDIATE takes the database's: the audit
# chain reads its head and appends after it, which must not interleave with another writer.
WRITE_LOCK_KEY = 0x5245_4C41  # "RELA"


def translate(
    sql: str, primary_key: Callable[[str], list[str]], rowid_table: Callable[[str], bool] | None = None
) -> Translated:
    """SQLite statement -> PostgreSQL. `primary_key(table)` names a table's key columns (for REPLACE);
    `rowid_table(table)` whether its key is an `id` rowid (for DDL, see `translate_ddl`)."""
    if _BEGIN.match(sql):
        return Translated(f"BEGIN;\nSELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})", script=True)
    m = _PRAGMA.match(sql)
    if m:
        name, arg = m.group(1).lower(), m.group(2)
        if name == "table_info" and arg:
            return Translated(_TABLE_INFO_SQL, (arg,))
        if name == "foreign_key_list" and arg:
            return Translated(_FK_LIST_SQL, (arg,))
        if name in _NOOP_PRAGMAS:
            return Translated("SELECT 1 WHERE false")
        raise StoreError(f"PRAGMA {name}: has no PostgreSQL counterpart in this store")
    if re.match(r"^\s*CREATE\s+VIRTUAL\s+TABLE", sql, re.I):
        raise StoreError("CREATE VIRTUAL TABLE: SQLite-only (the vector index has its own PostgreSQL form)")
    if re.match(r"^\s*(CREATE|ALTER)\b", sql, re.I):
        return Translated(";\n".join(translate_ddl(sql, rowid_table)), script=True)
    body = _outside_quotes(sql, _rewrite_plain)
    # SQLite sums booleans; PostgreSQL sums numbers (on the whole text: the comparison may hold a literal).
    body = _SUM_CMP.sub(lambda m: f"SUM(CASE WHEN {m.group(1)} THEN 1 ELSE 0 END)", body)
    insert_table = None
    m = _INSERT_OR.match(body)
    if m:
        verb, table, cols = m.group(1).upper(), m.group(2), [c.strip() for c in m.group(3).split(",")]
        body = _INSERT_OR.sub(lambda mm: f"INSERT INTO {mm.group(2)}({mm.group(3)})", body, count=1)
        body = body.rstrip().rstrip(";")
        if verb == "IGNORE":
            body += " ON CONFLICT DO NOTHING"
        else:
            key = primary_key(table)
            if not key:
                raise StoreError(f"INSERT OR REPLACE INTO {table}: the table has no primary key")
            rest = [c for c in cols if c not in key]
            sets = ", ".join(f"{c}=EXCLUDED.{c}" for c in rest)
            body += f" ON CONFLICT ({', '.join(key)}) " + (f"DO UPDATE SET {sets}" if sets else "DO NOTHING")
        insert_table = table
    else:
        m = _INSERT.match(body)
        if m:
            insert_table = m.group(1)
    if insert_table and re.search(r"\bRETURNING\b", body, re.I):
        insert_table = None  # the statement returns what it wants itself
    out = Translated(body, None, insert_table)
    m = _PLAIN_INSERT.match(body)
    if m:
        out.copy_into = (m.group(1), [c.strip() for c in m.group(2).split(",")], (m.group(3) or "").strip())
    return out


_PLAIN_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(\w+)\s*\(([\w\s,]+)\)\s*VALUES\s*\((?:\s*%s\s*,)*\s*%s\s*\)"
    r"(\s+ON\s+CONFLICT\b[^;]*)?\s*;?\s*$",
    re.I | re.S,
)


def _rewrite_plain(part: str) -> str:
    """Rewrites for SQL text outside string literals."""
    part = part.replace("%", "%%")
    part = re.sub(r"\s+(?:INDEXED\s+BY\s+\w+|NOT\s+INDEXED)\b", "", part, flags=re.I)  # planner hints
    part = re.sub(r"\bIS\s+NOT\s+\?", "IS DISTINCT FROM %s", part, flags=re.I)
    part = re.sub(r"\bIS\s+\?", "IS NOT DISTINCT FROM %s", part, flags=re.I)
    return part.replace("?", "%s")


# --- DDL -------------------------------------------------------------------------------------------------

_TRIGGER = re.compile(
    r"^\s*CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+(BEFORE|AFTER)\s+(UPDATE|DELETE|INSERT)\s+"
    r"ON\s+(\w+)\s+BEGIN\s+SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*'([^']*)'\s*\)\s*;\s*END\s*;?\s*$",
    re.I | re.S,
)


_INDEX = re.compile(
    r"^(\s*CREATE\s+INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?\w+\s+ON\s+(\w+)\s*\()(.*)(\)(?:\s+WHERE\b.*)?\s*;?\s*)$",
    re.I | re.S,
)


def _with_rowid(stmt: str, rowid_table: Callable[[str], bool] | None) -> str:
    """SQLite ends every index of a rowid table with the rowid, and the stages page through indexes in
    (column, id) order on that; PostgreSQL indexes get the id column appended to do the same."""
    m = _INDEX.match(stmt)
    if not m or rowid_table is None or not rowid_table(m.group(2)):
        return stmt
    cols = m.group(3)
    if re.search(r"(^|,)\s*id\s*(,|$)", cols):
        return stmt
    return f"{m.group(1)}{cols}, id{m.group(4)}"


def translate_ddl(stmt: str, rowid_table: Callable[[str], bool] | None = None) -> list[str]:
    """One SQLite DDL statement -> the PostgreSQL statements that make the same table, index or trigger.
    `rowid_table(name)` says whether a table has an `id` rowid key (its indexes then end with id)."""
    m = _TRIGGER.match(stmt)
    if m:
        name, when, event, table, msg = m.groups()
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} {when} {event} ON {table} FOR EACH ROW"
            f" EXECUTE FUNCTION relaytrack_append_only('{msg}')",
        ]
    if re.match(r"^\s*CREATE\s+TRIGGER", stmt, re.I):
        raise StoreError(f"trigger not translatable to PostgreSQL: {stmt.split(chr(10))[0][:80]}")

    def ddl(part: str) -> str:
        # A lone INTEGER PRIMARY KEY is SQLite's rowid alias: an id the database hands out.
        part = re.sub(
            r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            part,
            flags=re.I,
        )
        part = re.sub(r"\bINTEGER\b", "BIGINT", part, flags=re.I)
        part = re.sub(r"\bREAL\b", "DOUBLE PRECISION", part, flags=re.I)
        part = re.sub(r"\bBLOB\b", "BYTEA", part, flags=re.I)
        part = re.sub(r"\)\s*WITHOUT\s+ROWID", ")", part, flags=re.I)
        return part

    out = _with_rowid(_outside_quotes(stmt, ddl).replace("%%", "%").rstrip().rstrip(";"), rowid_table)
    m = _IF_NOT_EXISTS.match(out)
    if m:
        # SQLite's IF NOT EXISTS needs no right to create when the object is there; PostgreSQL checks the
        # schema's CREATE privilege first, so a role that may only use the tables could not open the store.
        name = m.group(1).strip('"')
        return [f"DO $rt$ BEGIN IF to_regclass('{name}') IS NULL THEN {out}; END IF; END $rt$"]
    return [out]


_IF_NOT_EXISTS = re.compile(
    r"^\s*CREATE\s+(?:(?:TEMP|TEMPORARY|UNIQUE)\s+)?(?:TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s+(\"?\w+\"?)", re.I
)
