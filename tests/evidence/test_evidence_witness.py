"""Finding 1/2 of issue 18: the tail of the audit log cannot be cut without `audit verify` failing.

Each test plays the attacker with plain SQL (triggers dropped) and the files beside the store, on each backend:
`db` names the store (file or URL), `side` is where its anchor and head journal live."""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import rawdb
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.evidence import audit, witness
from relaytrack.store import Store


@dataclass(frozen=True)
class Logged:
    db: str
    side: Path


def _append(db, n, start=0) -> Path:
    with Store(db) as s:
        for i in range(start, start + n):
            audit.append(s.conn, s.path, user="kim", case="C-1", action="search", detail={"q": f"coat {i}"})
        return s.path


@pytest.fixture
def logged(store_db):
    return Logged(store_db, _append(store_db, 6))


def _cut_tail(logged, keep):
    rawdb.execute(logged.db, ("DELETE FROM audit_log WHERE seq>?", (keep,)), drop_triggers=True)


def _rewind_local_files(logged, seq):
    """What the key holder can do: anchor and head journal rewritten to match a chain cut at `seq`."""
    with Store(logged.db) as s:
        h = s.one("SELECT hash FROM audit_log WHERE seq=?", (seq,))[0]
        sid = witness.store_id(s.conn)
    key = audit.load_key()
    audit.anchor_path(logged.side).write_text(
        json.dumps({"seq": seq, "hash": h, "mac": audit._anchor_mac(key, seq, h)})
    )
    witness.heads_path(logged.side).write_text(witness.sign_head(sid, seq, h).to_json() + "\n")


def _verify(logged, witnesses=()):
    with Store(logged.db) as s:
        return audit.verify(s.conn, logged.side, witnesses=list(witnesses))


def test_cut_tail_and_deleted_anchor_fails(logged):
    _cut_tail(logged, 4)
    audit.anchor_path(logged.side).unlink()
    res = _verify(logged)
    assert not res.ok and "anchor" in res.problem


def test_cut_tail_and_anchor_without_mac_fails(logged):
    _cut_tail(logged, 4)
    h4 = rawdb.one(logged.db, "SELECT hash FROM audit_log WHERE seq=4")[0]
    audit.anchor_path(logged.side).write_text(json.dumps({"seq": 4, "hash": h4}))
    res = _verify(logged)
    assert not res.ok and "no MAC" in res.problem


def test_old_anchor_replayed_fails(logged, tmp_path):
    old = tmp_path / "old-anchor"
    shutil.copy(audit.anchor_path(logged.side), old)  # the head at entry 6, MAC'd with the real key
    _append(logged.db, 3, start=6)
    _cut_tail(logged, 6)
    shutil.copy(old, audit.anchor_path(logged.side))
    res = _verify(logged)
    assert not res.ok and "entry 9 is missing" in res.problem


def test_old_anchor_replayed_and_journal_deleted_fails(logged, tmp_path):
    old = tmp_path / "old-anchor"
    shutil.copy(audit.anchor_path(logged.side), old)
    _append(logged.db, 3, start=6)
    _cut_tail(logged, 6)
    shutil.copy(old, audit.anchor_path(logged.side))
    witness.heads_path(logged.side).unlink()
    res = _verify(logged)
    assert not res.ok and "head journal" in res.problem


def test_owner_rewriting_every_local_file_is_caught_by_an_outside_witness(logged, tmp_path):
    """The store owner holds the keys and rewrites anchor and journal too; a head handed out earlier (e.g. to
    the police in a package) still shows the cut."""
    given = tmp_path / "given-to-police.json"
    r = CliRunner().invoke(app, ["audit", "head", "--db", logged.db, "--out", str(given)])
    assert r.exit_code == 0, r.output
    _append(logged.db, 2, start=6)
    _cut_tail(logged, 4)
    _rewind_local_files(logged, 4)
    assert _verify(logged).ok  # nothing local can tell
    res = _verify(logged, [given])
    assert not res.ok and "entry 6 is missing" in res.problem
    r = CliRunner().invoke(app, ["audit", "verify", "--db", logged.db, "--witness", str(given)])
    assert r.exit_code == 1 and "entry 6 is missing" in r.output


def test_forged_witness_is_refused(logged, tmp_path, monkeypatch):
    with Store(logged.db) as s:
        sid = witness.store_id(s.conn)
    monkeypatch.setenv("RELAYTRACK_SIGNING_KEY", str(tmp_path / "mallory.pem"))
    forged = witness.sign_head(sid, 6, "0" * 64)
    monkeypatch.delenv("RELAYTRACK_SIGNING_KEY")
    path = tmp_path / "forged.json"
    path.write_text(forged.to_json())
    res = _verify(logged, [path])
    assert not res.ok and "not this installation's key" in res.problem
    tampered = json.loads(witness.sign_head(sid, 6, "0" * 64).to_json())
    tampered["seq"] = 5
    path.write_text(json.dumps(tampered))
    res = _verify(logged, [path])
    assert not res.ok and "bad signature" in res.problem


def test_witness_folder_on_another_volume(store_db, tmp_path, monkeypatch):
    wd = tmp_path / "other-volume"
    monkeypatch.setenv("RELAYTRACK_WITNESS_DIR", str(wd))
    logged = Logged(store_db, _append(store_db, 5))
    assert len(list(wd.glob("*.jsonl"))) == 1
    _cut_tail(logged, 3)
    _rewind_local_files(logged, 3)
    res = _verify(logged)  # the configured folder is checked without being named
    assert not res.ok and "entry 5 is missing" in res.problem


def test_cli_without_key_needs_no_key_flag(logged, tmp_path, monkeypatch):
    if rawdb.is_pg(logged.db):
        # The side files of a PostgreSQL store live under RELAYTRACK_HOME: the recipient keeps the home and
        # lacks only the key.
        monkeypatch.setenv("RELAYTRACK_AUDIT_KEY", str(tmp_path / "recipient" / "audit.key"))
    else:
        monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "recipient"))  # a host without the audit key
    r = CliRunner().invoke(app, ["audit", "verify", "--db", logged.db])
    assert r.exit_code == 1 and "--no-key" in r.output
    r = CliRunner().invoke(app, ["audit", "verify", "--db", logged.db, "--no-key"])
    assert r.exit_code == 0, r.output


def test_cli_names_the_cut_tail(logged):
    _cut_tail(logged, 3)
    audit.anchor_path(logged.side).unlink()
    r = CliRunner().invoke(app, ["audit", "verify", "--db", logged.db])
    assert r.exit_code == 1 and "anchor" in r.output
