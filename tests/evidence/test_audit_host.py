"""Finding 5 of issue 18 (rest): every audit entry names the operating-system account beside the claimed
user, the entry's hash covers it, and chains written before the account was kept still verify."""

import json
import os
import pwd

import rawdb
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.evidence import audit
from relaytrack.store import Store


def _me() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _rows(db):
    return rawdb.query(db, "SELECT seq, user_name, host_account FROM audit_log ORDER BY seq")


def test_every_entry_names_the_kernel_account_not_the_environment(store, monkeypatch):
    monkeypatch.setenv("USER", "root")  # getpass would believe these
    monkeypatch.setenv("LOGNAME", "root")
    audit.append(store.conn, store.path, user="park", case="C-1", action="search", detail={"q": "x"})
    rows = _rows(store.url)
    assert rows and all(r[2] == _me() for r in rows)
    assert audit.verify(store.conn, store.path).ok


def test_cli_claimed_user_is_recorded_with_the_account(store):
    store.close()
    r = CliRunner().invoke(app, ["sightings", "--user", "kim", "--case", "C-1", "--db", store.url])
    assert r.exit_code == 0, r.output
    last = rawdb.query(store.url, "SELECT user_name, host_account, action FROM audit_log ORDER BY seq DESC")
    last = last[0]
    assert last == ("kim", _me(), "view")
    out = CliRunner().invoke(app, ["audit", "export", "--case", "C-1", "--user", "kim", "--db", store.url])
    doc = json.loads(out.output)
    assert doc["chain_ok"] and all(e["host_account"] == _me() for e in doc["entries"])
    assert any(f"kim [{_me()}]" in e["summary"] for e in doc["entries"])


def test_changed_or_blanked_account_breaks_the_chain(store):
    for i in range(3):
        audit.append(store.conn, store.path, user="kim", case="C-1", action="search", result_ids=[i])
    seq = _rows(store.url)[-2][0]
    for value in ("mallory", None):
        rawdb.execute(
            store.url, ("UPDATE audit_log SET host_account=? WHERE seq=?", (value, seq)), drop_triggers=True
        )
        res = audit.verify(store.conn, store.path)
        assert not res.ok and res.bad_seq == seq, res


def test_old_entries_without_an_account_still_verify(store):
    """A chain written before the column existed: its entries hash the original nine fields."""
    for i in range(3):
        audit.append(store.conn, store.path, user="kim", case="C-1", action="search", result_ids=[i])
    key = audit.load_key()
    rows = rawdb.query(
        store.url,
        "SELECT seq, ts, user_name, case_no, action, outcome, detail, result_ids FROM audit_log ORDER BY seq",
    )
    prev, stmts = audit.GENESIS, []
    for r in rows:
        h = audit.entry_hash(*r, prev)  # the legacy form: no account
        stmts.append(
            (
                "UPDATE audit_log SET host_account=NULL, prev_hash=?, hash=?, mac=? WHERE seq=?",
                (prev, h, audit.entry_mac(key, h), r[0]),
            )
        )
        prev = h
    rawdb.execute(store.url, *stmts, drop_triggers=True)
    with Store(store.url) as s:
        # New entries on top of the legacy ones carry the account; the whole chain verifies.
        audit.append(s.conn, s.path, user="kim", case="C-1", action="search")
        res = audit.verify(s.conn, s.path)
        assert res.ok, res
        rows = _rows(store.url)
        assert rows[0][2] is None and rows[-1][2] == _me()
