import pysqlite3.dbapi2 as sqlite3
import pytest

from relaytrack.config import load_config
from relaytrack.errors import AccessDenied, ConfigError
from relaytrack.evidence import access, audit
from relaytrack.store import Store


def test_config_rejects_unknown_keys_and_bad_values(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("detect:\n  person_conf: 0.4\n  bogus: 1\n")
    with pytest.raises(ConfigError, match="bogus"):
        load_config(p)
    p.write_text("track:\n  max_lost_s: -1\n")
    with pytest.raises(ConfigError, match="max_lost_s"):
        load_config(p)
    p.write_text("[1, 2")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)
    assert load_config(None, {"detect.person_conf": 0.5}).detect.person_conf == 0.5


def test_config_unreadable_file_is_a_config_error(tmp_path):
    # A folder or a non-UTF-8 file given as --config printed a Python traceback.
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)
    p = tmp_path / "latin.yaml"
    p.write_bytes(b"\xff\xfe detect: 1\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(p)


def test_migrations_apply_once(store_db):
    db = store_db
    Store(db).close()
    with Store(db) as s:
        names = [r[0] for r in s.query("SELECT name FROM _migrations")]
    assert len(names) == len(set(names)) and "store:001_core" in names


def _store_with_log(db):
    store = Store(db)
    with store.tx() as conn:
        access.create_user(conn, "kim", "investigator")
        access.create_case(conn, "C-1", legal_basis="warrant 1", purpose="test", members=["kim"])
    for i in range(5):
        audit.append(store.conn, store.path, user="kim", case="C-1", action="search", detail={"i": i})
    return store, db


def test_search_needs_a_case_and_refusals_are_logged(store_db):
    store, _ = _store_with_log(store_db)
    db = store.path
    with pytest.raises(AccessDenied, match="no case"):
        access.authorize(store.conn, db, user="kim", case=None, action="search")
    with pytest.raises(AccessDenied, match="unknown case"):
        access.authorize(store.conn, db, user="kim", case="C-9", action="search")
    with pytest.raises(AccessDenied, match="unknown or inactive user"):
        access.authorize(store.conn, db, user="lee", case="C-1", action="search")
    ctx = access.authorize(store.conn, db, user="kim", case="C-1", action="search")
    ctx.log(result_ids=[1, 2])
    denied = store.query("SELECT count(*) FROM audit_log WHERE outcome='denied'")[0][0]
    assert denied == 3
    assert audit.verify(store.conn, db).ok


@pytest.mark.parametrize(
    "tamper,bad_seq",
    [
        ("UPDATE audit_log SET detail='{\"i\": 99}' WHERE seq=3", 3),
        ("DELETE FROM audit_log WHERE seq=2", 2),
        ("DELETE FROM audit_log WHERE seq=5", 5),
        ("UPDATE audit_log SET seq=102 WHERE seq=2; UPDATE audit_log SET seq=103 WHERE seq=3;"
         " UPDATE audit_log SET seq=3 WHERE seq=102; UPDATE audit_log SET seq=2 WHERE seq=103", 2),
    ],
)
def test_tampering_is_detected(store_db, tamper, bad_seq):
    store, db = _store_with_log(store_db)
    side = store.path
    store.close()
    # Someone with the database's own credentials drops the append-only triggers and edits the log.
    if str(db).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as raw:
            raw.execute("DROP TRIGGER audit_no_update ON audit_log; DROP TRIGGER audit_no_delete ON audit_log;")
            for stmt in tamper.split(";"):
                raw.execute(stmt)
    else:
        raw = sqlite3.connect(str(db))
        raw.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + tamper)
        raw.commit()
        raw.close()
    with Store(db) as s:
        res = audit.verify(s.conn, side)
    assert not res.ok and res.bad_seq == bad_seq, res
