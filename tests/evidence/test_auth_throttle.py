"""Finding 6 of issue 18 (authentication): one message and the same password work for every failed login,
progressive delays per client instead of an account lock-out, floods summarised in the audit log."""

from __future__ import annotations

import json
import time

import pytest

from relaytrack.errors import AccessDenied
from relaytrack.evidence import auth, throttle

PW = "correct horse battery"


@pytest.fixture
def users(store):
    with store.tx() as conn:
        auth.set_password(conn, "kim", PW)
        auth.set_password(conn, "park", PW)
        auth.set_password(conn, "lee", PW)
        conn.execute("UPDATE users SET active=0 WHERE name='lee'")
    return store


class _Spy:
    """The password hasher, counting the hashes it checks."""

    def __init__(self, real) -> None:
        self.real, self.calls = real, []

    def verify(self, h, p):
        self.calls.append(h)
        return self.real.verify(h, p)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _spy(monkeypatch) -> list:
    spy = _Spy(auth._hasher)
    monkeypatch.setattr(auth, "_hasher", spy)
    return spy.calls


def _entries(store, action):
    return [
        json.loads(r[0])
        for r in store.query(
            "SELECT detail FROM audit_log WHERE action=? AND outcome='denied' ORDER BY seq", (action,)
        )
    ]


def _unblock(store, client):
    """The client waited out its delay."""
    store.conn.execute("UPDATE auth_failures SET blocked_until=0 WHERE client=?", (f"login:{client}",))


@pytest.mark.parametrize(
    "name,password,reason",
    [
        ("nobody", PW, "unknown user"),
        ("kim", "wrong-password", "wrong password"),
        ("op", PW, "no password set for this account"),
        ("lee", PW, "account disabled"),
    ],
)
def test_one_message_and_the_same_password_work_for_every_failure(users, monkeypatch, name, password, reason):
    calls = _spy(monkeypatch)
    with pytest.raises(AccessDenied) as err:
        auth.login(users.conn, name, password, db_path=users.path)
    assert str(err.value) == auth.LOGIN_REFUSED
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")  # argon2 ran once, whatever the reason
    assert _entries(users, "login")[-1]["reason"] == reason  # the log keeps the truth


def test_failure_timing_does_not_tell_accounts_apart(users):
    def took(name: str, password: str) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            with pytest.raises(AccessDenied):
                auth.login(users.conn, name, password)
            best = min(best, time.perf_counter() - t0)
        return best

    wrong = took("kim", "wrong-password")
    for name, password in (("nobody", PW), ("op", PW)):
        assert took(name, password) > 0.5 * wrong, name


def test_delays_grow_per_client_and_never_lock_the_account(users, monkeypatch):
    calls = _spy(monkeypatch)
    attacker, desk = "203.0.113.9", "10.1.2.3"
    for _ in range(throttle.FREE_FAILURES):
        with pytest.raises(AccessDenied, match="wrong user name"):
            auth.login(users.conn, "park", "guess", client=attacker)
    with pytest.raises(AccessDenied, match="wrong user name"):
        auth.login(users.conn, "park", "guess", client=attacker)  # the 4th failure starts the delays
    n = len(calls)
    with pytest.raises(throttle.Throttled) as err:
        auth.login(users.conn, "park", PW, client=attacker)  # even the right password waits: no oracle
    assert err.value.retry_after >= 1 and len(calls) == n  # refused before any password work
    # The supervisor, from their own desk, is not slowed down by the attacker.
    assert auth.login(users.conn, "park", PW, client=desk).startswith("rt_")
    delays = []
    for _ in range(3):
        _unblock(users, attacker)
        with pytest.raises(AccessDenied):
            auth.login(users.conn, "park", "guess", client=attacker)
        row = users.one(
            "SELECT blocked_until, last_at FROM auth_failures WHERE client=?", (f"login:{attacker}",)
        )
        delays.append(round(row[0] - row[1]))
    assert delays == [2, 4, 8]
    assert throttle.delay_after(100) == throttle.MAX_DELAY_S


def test_one_password_check_at_a_time_per_client(users):
    with throttle.one_at_a_time("login:198.51.100.7"), pytest.raises(throttle.Throttled, match="in progress"):
        auth.login(users.conn, "kim", PW, client="198.51.100.7")
    assert auth.login(users.conn, "kim", PW, client="198.51.100.7").startswith("rt_")


def test_login_flood_summarised_not_one_row_per_attempt(users):
    client = "192.0.2.44"
    n = throttle.LOG_EACH + 6
    for i in range(n):
        _unblock(users, client)
        with pytest.raises(AccessDenied):
            auth.login(users.conn, ["park", "kim", "root"][i % 3], "guess", db_path=users.path, client=client)
    assert len([e for e in _entries(users, "login") if e.get("client") == client]) == throttle.LOG_EACH
    _unblock(users, client)
    auth.login(users.conn, "kim", PW, db_path=users.path, client=client)  # success closes the flood
    (flood,) = _entries(users, "auth_flood")
    assert flood["kind"] == "login" and flood["client"] == client
    assert flood["failures"] == n and flood["not_logged_one_by_one"] == n - throttle.LOG_EACH
    assert sorted(flood["names"]) == ["kim", "park", "root"]
    assert users.one("SELECT COUNT(*) FROM auth_failures")[0] == 0


def test_bad_token_flood_summarised_when_its_window_ends(users):
    client = "192.0.2.80"
    for i in range(throttle.LOG_EACH + 10):
        with pytest.raises(AccessDenied, match="token refused"):
            auth.authenticate_token(users.conn, f"rt_forged_{i:04d}_abcdefghijklmnopqrstuv", client=client)
    assert len([e for e in _entries(users, "token") if e.get("client") == client]) == throttle.LOG_EACH
    assert throttle.flush_stale(users.conn, users.path, now=time.time() + throttle.WINDOW_S + 1) == 1
    (flood,) = _entries(users, "auth_flood")
    assert flood["kind"] == "token" and flood["failures"] == throttle.LOG_EACH + 10
    # Tokens are not delayed: a console whose token expired is not punished for retrying.
    assert users.one("SELECT COUNT(*) FROM auth_failures")[0] == 0
