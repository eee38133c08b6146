"""Passwords (argon2id) and API tokens for the HTTP service and the CLI.

Tokens are `rt_<random>`: 256 bits from `secrets`, shown once, stored only as their SHA-256 (a token is
high-entropy, so a fast hash is enough to make a stolen table useless; passwords are low-entropy and get
argon2id). Tokens expire and can be revoked; every failed login or token check is written to the audit chain.
Five failed logins lock the account for 15 minutes.
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
from relaytrack.evidence import audit

TOKEN_PREFIX = "rt_"
DEFAULT_TOKEN_HOURS = 12.0
MAX_TOKEN_HOURS = 24.0 * 90
MAX_FAILED_LOGINS = 5
LOCK_SECONDS = 15 * 60
MIN_PASSWORD = 8

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


def check_password(conn, name: str, password: str, db_path: Path | None = None) -> User:
    """The user when `password` is right; AccessDenied (logged, counted towards the lock-out) otherwise."""
    now = time.time()
    row = _get_user(conn, name) if isinstance(name, str) else None

    def deny(reason: str, count: bool = False) -> AccessDenied:
        if count and row is not None:
            fails = int(row[5] or 0) + 1
            lock = now + LOCK_SECONDS if fails >= MAX_FAILED_LOGINS else None
            conn.execute(
                "UPDATE users SET failed_logins=?, locked_until=? WHERE name=?", (fails, lock, row[0])
            )
        audit.append(
            conn,
            db_path,
            user=name if row is not None else None,
            case=None,
            action="login",
            outcome="denied",
            detail={"reason": reason, "name": str(name)[:64]},
        )
        # One message for unknown user and wrong password: no user enumeration.
        return AccessDenied(
            "login refused: wrong user name or password"
            if count or row is None
            else f"login refused: {reason}"
        )

    if row is None:
        raise deny("unknown user")
    if not row[4]:
        raise deny("account disabled")
    if row[6] is not None and row[6] > now:
        raise deny(f"account locked for {int(row[6] - now)} s after {row[5]} failed logins")
    if not row[3]:
        raise deny("no password set for this account")
    try:
        _hasher.verify(row[3], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError, TypeError):
        raise deny("wrong password", count=True) from None
    if row[5] or row[6]:
        conn.execute("UPDATE users SET failed_logins=0, locked_until=NULL WHERE name=?", (row[0],))
    if _hasher.check_needs_rehash(row[3]):
        conn.execute("UPDATE users SET password_hash=? WHERE name=?", (_hasher.hash(password), row[0]))
    return User(row[0], row[1], row[2])


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
    conn, name: str, password: str, *, hours: float = DEFAULT_TOKEN_HOURS, db_path: Path | None = None
) -> str:
    """Check the password and return a fresh API token (for `Authorization: Bearer <token>`)."""
    check_password(conn, name, password, db_path)
    return issue_token(conn, name, hours=hours, label="login", db_path=db_path)


def authenticate_token(conn, token: str, *, db_path: Path | None = None) -> User:
    """The user a bearer token belongs to; AccessDenied (logged) for a malformed, unknown, expired or revoked
    token, or a disabled user."""
    now = time.time()

    def deny(reason: str, user: str | None = None, token_id: int | None = None) -> AccessDenied:
        audit.append(
            conn,
            db_path,
            user=user,
            case=None,
            action="token",
            outcome="denied",
            detail={"reason": reason, "token_id": token_id},
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
