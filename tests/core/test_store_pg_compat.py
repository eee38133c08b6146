"""SQLite behaviours the stages rely on, kept on PostgreSQL: a SAVEPOINT outside a transaction begins one,
IF NOT EXISTS needs no right to create when the object is there, the vector table counts for retention."""

from __future__ import annotations

import numpy as np
import pytest
import rawdb

from relaytrack.evidence import retention
from relaytrack.store import Store, vectors
from relaytrack.store.dialect import translate_ddl


def test_if_not_exists_ddl_checks_before_creating():
    (stmt,) = translate_ddl("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v REAL);")
    assert stmt.startswith("DO $rt$ BEGIN IF to_regclass('t') IS NULL THEN CREATE TABLE IF NOT EXISTS t (")
    assert "DOUBLE PRECISION" in stmt and stmt.endswith("; END IF; END $rt$")
    (idx,) = translate_ddl("CREATE UNIQUE INDEX IF NOT EXISTS t_v ON t(v)")
    assert "to_regclass('t_v')" in idx
    assert translate_ddl("CREATE TABLE t (id INTEGER)") == ["CREATE TABLE t (id BIGINT)"]


def test_savepoint_outside_a_transaction_begins_one(store_db):
    with Store(store_db) as st:
        conn = st.conn
        conn.execute("SAVEPOINT outer_sp")
        assert conn.in_transaction
        conn.execute("INSERT INTO meta(key, value) VALUES ('a', '1')")
        conn.execute("SAVEPOINT inner_sp")
        conn.execute("INSERT INTO meta(key, value) VALUES ('b', '2')")
        conn.execute("ROLLBACK TO inner_sp")
        conn.execute("RELEASE inner_sp")
        assert conn.in_transaction  # an inner release commits nothing
        conn.execute("RELEASE outer_sp")
        assert not conn.in_transaction
        # undone after a failed statement: PostgreSQL's aborted transaction is rolled back to the savepoint
        conn.execute("SAVEPOINT failing")
        conn.execute("INSERT INTO meta(key, value) VALUES ('c', '3')")
        with pytest.raises(Exception):  # noqa: B017 - either backend's integrity error
            conn.execute("INSERT INTO meta(key, value) VALUES ('a', 'again')")
        conn.execute("ROLLBACK TO failing")
        conn.execute("RELEASE failing")
        assert not conn.in_transaction
        # inside Store.tx a savepoint is a nested one: the transaction stays the caller's
        with st.tx() as c:
            c.execute("SAVEPOINT nested")
            c.execute("INSERT INTO meta(key, value) VALUES ('d', '4')")
            c.execute("RELEASE nested")
            assert c.in_transaction
    assert rawdb.query(store_db, "SELECT key, value FROM meta ORDER BY key") == [("a", "1"), ("d", "4")]


def test_a_role_without_create_rights_opens_the_store(pg_url):
    Store(pg_url).close()
    rawdb.execute(
        pg_url,
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader_writer')"
        " THEN CREATE ROLE reader_writer LOGIN NOSUPERUSER; END IF; END $$",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "GRANT USAGE ON SCHEMA public TO reader_writer",
        "GRANT ALL ON ALL TABLES IN SCHEMA public TO reader_writer",
        "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO reader_writer",
    )
    url = pg_url.replace("postgresql://relaytrack@", "postgresql://reader_writer@", 1)
    with Store(url) as st:
        assert not st.owned_by_caller()
        st.set_meta("k", "v")
        assert st.meta("k") == "v"


def test_vector_table_is_found_for_retention(store_db):
    with Store(store_db) as st:
        assert retention.vector_tables(st.conn) == []
        with st.tx() as conn:
            vectors.add(conn, 1, np.ones(8, np.float32))
        assert retention.vector_tables(st.conn) == [vectors.TABLE]
