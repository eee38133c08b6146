import time

import pytest

from relaytrack.errors import AccessDenied, InputError
from relaytrack.evidence import access as acc
from relaytrack.evidence import auth


def _denials(store, action):
    return store.query("SELECT detail FROM audit_log WHERE action=? AND outcome='denied'", (action,))


def test_password_hash_is_argon2id_and_login_issues_token(store):
    with store.tx() as conn:
        auth.set_password(conn, "kim", "correct horse battery")
    h = store.one("SELECT password_hash FROM users WHERE name='kim'")[0]
    assert h.startswith("$argon2id$") and "correct" not in h
    token = auth.login(store.conn, "kim", "correct horse battery", db_path=store.path)
    user = auth.authenticate_token(store.conn, token)
    assert (user.name, user.role) == ("kim", "investigator")
    stored = store.one("SELECT token_hash FROM api_tokens WHERE user_name='kim'")[0]
    assert token not in stored and len(stored) == 64


def test_wrong_password_refused_logged_and_never_locks_the_account(store):
    with store.tx() as conn:
        auth.set_password(conn, "kim", "correct horse battery")
    for _ in range(6):
        with pytest.raises(AccessDenied, match="wrong user name or password"):
            auth.login(store.conn, "kim", "guess-guess")
    with pytest.raises(AccessDenied, match="wrong user name or password"):
        auth.login(store.conn, "nobody", "correct horse battery")
    assert len(_denials(store, "login")) == 7
    assert store.one("SELECT COUNT(*) FROM api_tokens")[0] == 0
    # No lock-out: whoever failed, the account's owner still logs in (floods slow down their client only).
    assert auth.login(store.conn, "kim", "correct horse battery").startswith("rt_")


def test_short_password_refused(store):
    with pytest.raises(InputError):
        auth.set_password(store.conn, "kim", "short")


@pytest.mark.parametrize("bad", ["", "rt_", "Bearer x", "rt_" + "A" * 43, "x" * 500, None])
def test_forged_or_malformed_token_refused(store, bad):
    with pytest.raises(AccessDenied, match="token refused"):
        auth.authenticate_token(store.conn, bad)
    assert len(_denials(store, "token")) == 1


def test_expired_and_revoked_tokens_refused(store):
    t1 = auth.issue_token(store.conn, "kim", hours=1)
    t2 = auth.issue_token(store.conn, "kim", hours=1)
    store.conn.execute("UPDATE api_tokens SET expires_at=? WHERE id=1", (time.time() - 1,))
    with pytest.raises(AccessDenied, match="expired"):
        auth.authenticate_token(store.conn, t1)
    assert auth.authenticate_token(store.conn, t2).name == "kim"
    auth.revoke_token(store.conn, 2, by="park")
    with pytest.raises(AccessDenied, match="revoked"):
        auth.authenticate_token(store.conn, t2)


def test_token_lifetime_bounded(store):
    with pytest.raises(InputError):
        auth.issue_token(store.conn, "kim", hours=24 * 365)


@pytest.mark.parametrize(
    "user,case,action,expect",
    [
        ("kim", "C-1", "search", None),
        ("kim", None, "search", "no case given"),
        ("kim", "C-2", "search", "not assigned"),
        ("kim", "NOPE", "export", "unknown case"),
        ("aud", "C-1", "search", "may not search"),
        ("op", "C-1", "export", "may not export"),
        ("police1", "C-1", "search", "may not search"),
        ("ghost", "C-1", "view", "unknown or inactive user"),
        ("x' OR '1'='1", "C-1", "view", "unknown or inactive user"),
        (None, "C-1", "relay", "no user given"),
        ("park", "C-2", "relay", None),
    ],
)
def test_authorize_table(store, user, case, action, expect):
    before = store.one("SELECT COUNT(*) FROM audit_log")[0]
    if expect is None:
        assert acc.authorize(store.conn, store.path, user=user, case=case, action=action).role
        return
    with pytest.raises(AccessDenied, match=expect):
        acc.authorize(store.conn, store.path, user=user, case=case, action=action)
    row = store.one("SELECT outcome, action FROM audit_log ORDER BY seq DESC LIMIT 1")
    assert (row[0], row[1]) == ("denied", action)
    assert store.one("SELECT COUNT(*) FROM audit_log")[0] == before + 1


def test_closed_case_refused(store):
    acc.set_case_status(store.conn, "C-1", status="closed")
    with pytest.raises(AccessDenied, match="closed"):
        acc.authorize(store.conn, store.path, user="kim", case="C-1", action="search")


def test_demo_identity_idempotent(store):
    for _ in range(2):
        assert acc.ensure_demo_identity(store.conn, store.path) == ("demo", "DEMO-0001")
    ctx = acc.authorize(store.conn, store.path, user="demo", case="DEMO-0001", action="search")
    assert ctx.role == "investigator"
    with pytest.raises(AccessDenied):
        acc.authorize(store.conn, store.path, user="demo", case=None, action="search")
    assert (
        store.one("SELECT COUNT(*) FROM audit_log WHERE case_no='DEMO-0001' AND action='case_admin'")[0] == 1
    )
