"""Passwords (argon2id) and API tokens for the HTTP service and the CLI.

Tokens are `rt_<random>`: 256 bits from `secrets`, shown once, stored only as their SHA-256 (a token is
high-entropy, so a fast hash is enough to make a stolen table useless; passwords are low-entropy and get
argon2id). Tokens expire and can be revoked; failed logins and token checks are written to the audit chain,
floods from one client summarised (relaytrack.evidence.throttle).

A failed login says the same thing, after the same password work, whether the user is unknown, the password
wrong, the account disabled or without a password: nobody learns which accounts exist. There is no account
lock-out (it would let anyone lock a supervisor out); repeated failures slow down the client that makes them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from relaytrack.errors import AccessDenied, InputError, NotFound
from relaytrack.evidence import audit, throttle

TOKEN_PREFIX = "rt_"
DEFAULT_TOKEN_HOURS = 12.0
MAX_TOKEN_HOURS = 24.0 * 90
MIN_PASSWORD = 8
LOGIN_REFUSED = "login refused: wrong user name or password"

# argon2id, RFC 9106 "second recommended" memory-hard profile scaled to a 2-core box (64 MiB, 3 passes).
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)


@dataclass(frozen=True)
class User:
    name: str
    role: str
    agency: str | None = None
    token_id: int | None = None  # set when authenticated by token


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError(f"password refused: at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InputError("password refused: longer than 1024 characters")
    return _hasher.hash(password)


def set_password(conn, name: str, password: str, db_path: Path | None = None) -> None:
    h = hash_password(password)
    cur = conn.execute(
        "UPDATE users SET password_hash=?, failed_logins=0, locked_until=NULL WHERE name=?", (h, name)
    )
    if cur.rowcount == 0:
        raise NotFound(f"user {name!r} not found")
    audit.append(conn, db_path, user=name, case=None, action="password", detail={"user": name})


def user_of(conn, name: str) -> User | None:
    """The named user's role and agency (None when there is no such user)."""
    row = conn.execute("SELECT name, role, agency FROM users WHERE name=?", (name,)).fetchone()
    return None if row is None else User(row[0], row[1], row[2])


def _get_user(conn, name: str) -> tuple | None:
    return conn.execute(
        "SELECT name, role, agency, password_hash, active, failed_logins, locked_until FROM users WHERE name=?",
        (name,),
    ).fetchone()


_dummy: list[str] = []


def _dummy_hash() -> str:
    """A hash of a random password with the real parameters: checked when there is no hash to check, so that
    an unknown or password-less account costs the same time as a wrong password."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_urlsafe(24)))
    return _dummy[0]


def _verify(stored: str | None, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored or _dummy_hash(), password)) and bool(stored)
    except (VerifyMismatchError, VerificationError, InvalidHashError, TypeError):
        return False


def check_password(
    conn, name: str, password: str, db_path: Path | None = None, *, client: str | None = None
) -> User:
    """The user when `password` is right; AccessDenied otherwise, one message for every reason (the audit
    entry keeps the true one). With `client` (the caller's address) failures are counted per client:
    Throttled while the client must wait (relaytrack.evidence.throttle), flood summaries instead of one
    entry per failure."""
    if client is None:
        return _check_password(conn, name, password, db_path, None)
    key = f"login:{client}"
    throttle.flush_stale(conn, db_path)
    throttle.check(conn, db_path, key)
    with throttle.one_at_a_time(key):
        return _check_password(conn, name, password, db_path, key)


def _check_password(conn, name: str, password: str, db_path: Path | None, key: str | None) -> User:
    row = _get_user(conn, name) if isinstance(name, str) else None
    ok = _verify(row[3] if row is not None else None, password)  # always the same password work
    reason = (
        "unknown user"
        if row is None
        else "account disabled"
        if not row[4]
        else "no password set for this account"
        if not row[3]
        else None
        if ok
        else "wrong password"
    )
    if reason is None:
        if row[5] or row[6]:
            conn.execute("UPDATE users SET failed_logins=0, locked_until=NULL WHERE name=?", (row[0],))
        if _hasher.check_needs_rehash(row[3]):
            conn.execute("UPDATE users SET password_hash=? WHERE name=?", (_hasher.hash(password), row[0]))
        if key is not None:
            throttle.succeeded(conn, db_path, key)
        return User(row[0], row[1], row[2])
    # Counted on the account for the record, never locking it; the same statement whether it exists or not.
    conn.execute("UPDATE users SET failed_logins=failed_logins+1 WHERE name=?", (str(name)[:64],))
    log_each = key is None or throttle.failed(conn, db_path, key, str(name)[:64]).log_each
    if log_each:
        audit.append(
            conn,
            db_path,
            user=name if row is not None else None,
            case=None,
            action="login",
            outcome="denied",
            detail={"reason": reason, "name": str(name)[:64], "client": key and key.partition(":")[2]},
        )
    raise AccessDenied(LOGIN_REFUSED)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    conn, name: str, *, hours: float = DEFAULT_TOKEN_HOURS, label: str = "", db_path: Path | None = None
) -> str:
    """A new API token for user `name`; the secret is returned once and stored only hashed."""
    if not 0 < hours <= MAX_TOKEN_HOURS:
        raise InputError(f"token lifetime {hours} h refused: 0 < hours <= {MAX_TOKEN_HOURS:g}")
    row = _get_user(conn, name)
    if row is None or not row[4]:
        raise NotFound(f"user {name!r} not found or disabled")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    cur = conn.execute(
        "INSERT INTO api_tokens(user_name, token_hash, label, created_at, expires_at) VALUES (?,?,?,?,?)",
        (name, _token_hash(token), label[:64], now, now + hours * 3600),
    )
    audit.append(
        conn,
        db_path,
        user=name,
        case=None,
        action="token_issue",
        detail={"token_id": cur.lastrowid, "hours": hours, "label": label[:64]},
    )
    return token


def login(
    conn,
    name: str,
    password: str,
    *,
    hours: float = DEFAULT_TOKEN_HOURS,
    db_path: Path | None = None,
    client: str | None = None,
) -> str:
    """Check the password and return a fresh API token (for `Authorization: Bearer <token>`); `client` is the
    caller's address (failures are delayed and summarised per client)."""
    check_password(conn, name, password, db_path, client=client)
    return issue_token(conn, name, hours=hours, label="login", db_path=db_path)


def authenticate_token(conn, token: str, *, db_path: Path | None = None, client: str | None = None) -> User:
    """The user a bearer token belongs to; AccessDenied (logged) for a malformed, unknown, expired or revoked
    token, or a disabled user. With `client`, a client's failures past the first few of a window are
    summarised in one audit entry instead of one each."""
    now = time.time()

    def deny(reason: str, user: str | None = None, token_id: int | None = None) -> AccessDenied:
        key = f"token:{client}" if client is not None else None
        if key is None or throttle.failed(conn, db_path, key, user, delay=False).log_each:
            audit.append(
                conn,
                db_path,
                user=user,
                case=None,
                action="token",
                outcome="denied",
                detail={"reason": reason, "token_id": token_id, "client": client},
            )
        return AccessDenied(f"token refused: {reason}")

    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or not 20 < len(token) < 100:
        raise deny("malformed token")
    row = conn.execute(
        "SELECT t.id, t.user_name, t.expires_at, t.revoked_at, u.role, u.agency, u.active"
        " FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.token_hash=?",
        (_token_hash(token),),
    ).fetchone()
    if row is None:
        raise deny("unknown or forged token")
    tid, user, expires, revoked, role, agency, active = row
    if revoked is not None:
        raise deny("token was revoked", user, tid)
    if expires <= now:
        raise deny("token expired", user, tid)
    if not active:
        raise deny("user is disabled", user, tid)
    conn.execute("UPDATE api_tokens SET last_used_at=? WHERE id=?", (now, tid))
    return User(user, role, agency, tid)


def user_of_token_id(conn, token_id: int, name: str) -> User:
    """The user behind token `token_id` if it is still valid and is `name`'s (signed media URLs carry the id
    of the token they were issued under: revoking or expiring it ends them too); AccessDenied otherwise."""
    row = conn.execute(
        "SELECT t.user_name, t.expires_at, t.revoked_at, u.role, u.agency, u.active"
        " FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.id=?",
        (int(token_id),),
    ).fetchone()
    if row is None or row[0] != name or row[2] is not None or row[1] <= time.time() or not row[5]:
        raise AccessDenied("media link refused: its session ended")
    return User(row[0], row[3], row[4], int(token_id))


def revoke_token(conn, token_id: int, *, by: str | None = None, db_path: Path | None = None) -> None:
    cur = conn.execute(
        "UPDATE api_tokens SET revoked_at=? WHERE id=? AND revoked_at IS NULL", (time.time(), token_id)
    )
    if cur.rowcount == 0:
        raise NotFound(f"token {token_id} not found or already revoked")
    audit.append(conn, db_path, user=by, case=None, action="token_revoke", detail={"token_id": token_id})


def revoke_user_tokens(conn, name: str, *, by: str | None = None, db_path: Path | None = None) -> int:
    cur = conn.execute(
        "UPDATE api_tokens SET revoked_at=? WHERE user_name=? AND revoked_at IS NULL", (time.time(), name)
    )
    audit.append(
        conn, db_path, user=by, case=None, action="token_revoke", detail={"user": name, "n": cur.rowcount}
    )
    return cur.rowcount
