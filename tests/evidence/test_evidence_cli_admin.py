"""Finding 5 of issue 18: CLI identity is self-asserted, so administration needs the store owner's account or
a supervisor's token; refusals and admin entries name the operating-system account."""

import json
import os

import pytest
import rawdb
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.evidence import auth
from relaytrack.store import Store

ADMIN = [
    ["users", "add", "mallory", "--role", "supervisor"],
    ["users", "token", "park"],
    ["users", "revoke-token", "--all-of", "kim"],
    ["cases", "add", "C-9", "--basis", "none", "--purpose", "snoop", "--member", "kim"],
    ["cases", "assign", "C-2", "kim"],
    ["cases", "close", "C-2"],
    ["retention", "purge", "--dry-run"],
]


@pytest.fixture
def other_account(store, monkeypatch):
    """The store as another user of the machine sees it: on SQLite a host account that does not own the file,
    on PostgreSQL a login role that may read and write the tables but does not own the database. Returns
    what that user passes as --db."""
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 4242)
    if store.backend == "sqlite":
        return store.url
    rawdb.execute(
        store.url,
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'other_account')"
        " THEN CREATE ROLE other_account LOGIN NOSUPERUSER; END IF; END $$",
        "GRANT USAGE ON SCHEMA public TO other_account",
        "GRANT ALL ON ALL TABLES IN SCHEMA public TO other_account",
        "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO other_account",
    )
    return store.url.replace("postgresql://relaytrack@", "postgresql://other_account@", 1)


@pytest.mark.parametrize("args", ADMIN, ids=lambda a: " ".join(a[:2]))
def test_other_host_account_cannot_administer(store, other_account, args):
    store.close()
    r = CliRunner().invoke(app, [*args, "--db", other_account])
    assert r.exit_code == 1, r.output
    with Store(store.url) as s:
        assert s.one("SELECT 1 FROM users WHERE name='mallory'") is None
        row = s.one("SELECT user_name, outcome, detail FROM audit_log ORDER BY seq DESC LIMIT 1")
    assert row[0].startswith("host:") and row[1] == "denied"
    assert "host_account" in json.loads(row[2])


def test_claimed_user_flag_is_not_enough(store, other_account):
    store.close()
    r = CliRunner().invoke(app, ["users", "add", "mallory", "--role", "supervisor", "--db", other_account])
    assert r.exit_code == 1


def test_supervisor_token_administers_and_is_named(store, other_account, monkeypatch):
    with store.tx() as conn:
        sup = auth.issue_token(conn, "park", hours=1, label="t")
        inv = auth.issue_token(conn, "kim", hours=1, label="t")
    store.close()
    monkeypatch.setenv("RELAYTRACK_TOKEN", inv)
    r = CliRunner().invoke(app, ["users", "add", "newbie", "--role", "operator", "--db", other_account])
    assert r.exit_code == 1 and "not a supervisor" in str(r.exception)
    monkeypatch.setenv("RELAYTRACK_TOKEN", sup)
    r = CliRunner().invoke(app, ["users", "add", "newbie", "--role", "operator", "--db", other_account])
    assert r.exit_code == 0, r.output
    with Store(store.url) as s:
        row = s.one(
            "SELECT user_name, detail FROM audit_log WHERE action='user_admin' ORDER BY seq DESC LIMIT 1"
        )
    assert row[0] == "park" and json.loads(row[1])["via"] == "supervisor-token"


def test_store_owner_administers(store):
    store.close()
    r = CliRunner().invoke(app, ["users", "add", "newbie", "--role", "operator", "--db", store.url])
    assert r.exit_code == 0, r.output
    with Store(store.url) as s:
        row = s.one(
            "SELECT user_name, detail FROM audit_log WHERE action='user_admin' ORDER BY seq DESC LIMIT 1"
        )
    assert row[0].startswith("host:") and json.loads(row[1])["via"] == "store-owner"
