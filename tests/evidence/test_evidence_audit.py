"""Tampering with the audit table through plain SQL (triggers dropped first) is detected by verify, on each
backend: `db` names the store (file or URL), `side` is where its anchor file lives."""

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import rawdb

from relaytrack.evidence import audit
from relaytrack.store import Store


@dataclass(frozen=True)
class Logged:
    db: str
    side: Path


@pytest.fixture
def logged(store_db):
    with Store(store_db) as s:
        for i in range(6):
            audit.append(
                s.conn,
                s.path,
                user="kim",
                case="C-1",
                action="search",
                detail={"q": f"red coat {i}"},
                result_ids=[i, i + 1],
            )
        return Logged(store_db, s.path)


def tamper(logged, *sql):
    rawdb.execute(logged.db, *sql, drop_triggers=True)


def check(logged):
    # The side path as the store was made: a test that moves RELAYTRACK_HOME still finds the anchor.
    with Store(logged.db) as s:
        return audit.verify(s.conn, logged.side)


def rehash_from(logged, start):
    """An attacker who knows the plain hash formula rewrites the chain from `start` on (no key)."""
    rows = rawdb.query(
        logged.db,
        "SELECT seq, ts, user_name, case_no, action, outcome, detail, result_ids, prev_hash, hash, host_account"
        " FROM audit_log ORDER BY seq",
    )
    prev = audit.GENESIS
    stmts = []
    for r in rows:
        if r[0] >= start:
            h = audit.entry_hash(*r[:8], prev, r[10])
            stmts.append(
                (
                    "UPDATE audit_log SET prev_hash=?, hash=?, mac=? WHERE seq=?",
                    (prev, h, hashlib.sha256(h.encode()).hexdigest(), r[0]),
                )
            )
            prev = h
        else:
            prev = r[9]
    tamper(logged, *stmts)


def test_whole_chain_verifies(logged):
    res = check(logged)
    assert res.ok and res.entries == 6 and res.keyed


@pytest.mark.parametrize(
    "sql,bad",
    [
        (['UPDATE audit_log SET detail=\'{"q":"blue"}\' WHERE seq=3'], 3),
        (["UPDATE audit_log SET user_name='lee' WHERE seq=1"], 1),
        (["DELETE FROM audit_log WHERE seq=4"], 4),
        (["DELETE FROM audit_log WHERE seq>=5"], 5),
        (
            [
                "UPDATE audit_log SET seq=100 WHERE seq=2",
                "UPDATE audit_log SET seq=2 WHERE seq=3",
                "UPDATE audit_log SET seq=3 WHERE seq=100",
            ],
            2,
        ),
        (
            [
                "INSERT INTO audit_log(seq, ts, user_name, case_no, action, outcome, detail, result_ids, prev_hash,"
                " hash, mac, host_account) SELECT 7, ts, user_name, case_no, action, outcome, detail, result_ids, hash,"
                " hash, mac, host_account FROM audit_log WHERE seq=6"
            ],
            7,
        ),
        (["DELETE FROM audit_log"], 1),
    ],
    ids=["edit-detail", "edit-user", "delete-middle", "delete-tail", "swap", "insert", "delete-all"],
)
def test_tamper_detected(logged, sql, bad):
    tamper(logged, *sql)
    res = check(logged)
    assert not res.ok and res.bad_seq == bad, res


def test_swapped_contents_detected(logged):
    r2 = rawdb.one(logged.db, "SELECT detail, result_ids, hash, prev_hash, mac FROM audit_log WHERE seq=2")
    r3 = rawdb.one(logged.db, "SELECT detail, result_ids, hash, prev_hash, mac FROM audit_log WHERE seq=3")
    tamper(
        logged,
        *(
            f"UPDATE audit_log SET detail='{r[0]}', result_ids='{r[1]}', hash='{r[2]}', prev_hash='{r[3]}',"
            f" mac='{r[4]}' WHERE seq={seq}"
            for seq, r in ((2, r3), (3, r2))
        ),
    )
    res = check(logged)
    assert not res.ok and res.bad_seq == 2


def test_recomputed_plain_hashes_still_detected_by_mac(logged):
    tamper(logged, 'UPDATE audit_log SET detail=\'{"q":"forged"}\' WHERE seq=4')
    rehash_from(logged, 4)
    res = check(logged)
    assert not res.ok and res.bad_seq == 4 and "MAC" in res.problem


def test_rewritten_anchor_detected(logged):
    tamper(logged, "DELETE FROM audit_log WHERE seq=6")
    anchor = audit.anchor_path(logged.side)
    a = json.loads(anchor.read_text())
    h5 = rawdb.one(logged.db, "SELECT hash FROM audit_log WHERE seq=5")[0]
    anchor.write_text(json.dumps({"seq": 5, "hash": h5, "mac": a["mac"]}))
    res = check(logged)
    assert not res.ok and "anchor" in res.problem


def test_other_installation_key_reported(logged, monkeypatch, tmp_path):
    monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "elsewhere"))
    audit.load_key(create=True)
    res = check(logged)
    assert not res.ok and "keyed with audit key" in res.problem


def test_without_key_plain_chain_checked_with_warning(logged, monkeypatch, tmp_path):
    monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "nokey"))
    res = check(logged)
    assert res.ok and not res.keyed and "MACs not checked" in res.warning
    tamper(logged, "UPDATE audit_log SET outcome='denied' WHERE seq=2")
    assert check(logged).bad_seq == 2


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "relaytrack.cli", *args], capture_output=True, text=True, env=env
    )


def test_cli_verify_exit_codes(logged):
    import os

    env = dict(os.environ)
    ok = _cli("audit", "verify", "--db", logged.db, env=env)
    assert ok.returncode == 0, ok.stderr
    tamper(logged, "UPDATE audit_log SET action='view' WHERE seq=5")
    bad = _cli("audit", "verify", "--db", logged.db, env=env)
    assert bad.returncode != 0 and "entry 5" in bad.stdout + bad.stderr
