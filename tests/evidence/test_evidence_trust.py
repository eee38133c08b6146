"""Finding 3 of issue 18: a package re-signed with another key must not verify where the installation key is
absent (the recipient's usual case) unless a trusted key vouches for it or --untrusted is said; and every
package carries a signed audit head the recipient can hold against the centre."""

import json

import pytest
import rawdb
from test_evidence_export import footage, package, sids  # noqa: F401  (fixtures)
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.evidence import audit, witness
from relaytrack.evidence.package import public_key_path, seal, verify_package
from relaytrack.store import Store


@pytest.fixture
def forged(package, tmp_path, monkeypatch):  # noqa: F811
    """The package altered and re-sealed by a forger with their own key; the verifier is another host."""
    (package / "custody.json").write_text(json.dumps({"exported_by": "nobody"}))
    monkeypatch.setenv("RELAYTRACK_SIGNING_KEY", str(tmp_path / "forger" / "k.pem"))
    seal(package, case="C-1", created=0.0)
    monkeypatch.delenv("RELAYTRACK_SIGNING_KEY")
    monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "recipient"))  # no installation key here
    return package


def test_forged_package_fails_without_trusted_key(forged):
    res = verify_package(forged)
    assert not res.ok and any("no trusted public key" in p for p in res.problems)
    r = CliRunner().invoke(app, ["evidence", "verify", str(forged)])
    assert r.exit_code == 1 and "--untrusted" in r.output


def test_untrusted_flag_accepts_consistency_only(forged):
    r = CliRunner().invoke(app, ["evidence", "verify", str(forged), "--untrusted"])
    assert r.exit_code == 0 and "warning" in r.output


def test_forged_package_fails_against_sender_key_and_trust_store(forged, store, tmp_path, monkeypatch):
    sender = tmp_path / "home" / "keys" / "evidence-ed25519.pub"  # the centre's key, handed over beforehand
    assert sender.is_file()
    r = CliRunner().invoke(app, ["evidence", "verify", str(forged), "--key", str(sender)])
    assert r.exit_code == 1 and "not the trusted key" in r.output
    trust = tmp_path / "recipient" / "trusted-keys"
    trust.mkdir(parents=True)
    (trust / "centre.pub").write_bytes(sender.read_bytes())
    assert not verify_package(forged).ok
    (trust / "forger.pub").write_bytes((tmp_path / "forger" / "k.pub").read_bytes())
    assert verify_package(forged).ok  # a key in the trust store is trusted (the forger's, here: by choice)


def test_genuine_package_verifies_with_sender_key_elsewhere(package, tmp_path, monkeypatch):  # noqa: F811
    sender = public_key_path()
    monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "recipient"))
    assert verify_package(package, sender).ok
    r = CliRunner().invoke(app, ["evidence", "verify", str(package), "--key", str(sender), "--untrusted"])
    assert r.exit_code == 1  # one or the other


def test_package_carries_a_signed_head_that_catches_a_cut_tail(package, store, tmp_path):  # noqa: F811
    head = witness.read_heads(package)[0]
    assert head.signature_ok() and head.seq >= 1
    store.close()
    rawdb.execute(store.url, ("DELETE FROM audit_log WHERE seq>=?", (head.seq,)), drop_triggers=True)
    with Store(store.url) as s:
        res = audit.verify(s.conn, None, witnesses=[package])
    assert not res.ok and f"entry {head.seq} is missing" in res.problem
