"""Checks on hostile or malformed input: names, free text, paths, uploads.

Every check raises `InputError` with a one-line message naming the offending field. When a connection is
given, the refusal is also written to the audit chain (outcome "denied") before the error is raised, so a
probe leaves a trace but changes nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from relaytrack.errors import InputError
from relaytrack.evidence import audit

# Names: user names, case numbers, agencies, camera ids used in file names. Unicode letters (Korean case
# titles) and digits plus a few separators; no quotes, brackets, slashes, semicolons or spaces.
NAME_RE = re.compile(r"^[\w][\w.\-:@]{0,63}$", re.UNICODE)
# Free text (search queries, purposes, reasons): script tags and SQL statement syntax are refused even though
# every query is parameterised, because the text ends up in reports, logs and other systems.
_SQL_RE = re.compile(
    r"(--|/\*|\*/|;|\b(union\s+(all\s+)?select|drop\s+(table|view|trigger|index)|delete\s+from|insert\s+into|"
    r"update\s+\w+\s+set|alter\s+table|attach\s+database|pragma\s+\w+)\b|'\s*or\s*'|'\s*or\s+\d+\s*=\s*\d+)",
    re.IGNORECASE,
)
_SCRIPT_RE = re.compile(r"[<>]|javascript:|\bon\w+\s*=", re.IGNORECASE)
MAX_TEXT = 500
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # 10 MiB: a query image, never a video


def _refuse(
    message: str, conn, db_path, user: str | None, case: str | None, action: str, **detail
) -> InputError:
    if conn is not None:
        audit.append(
            conn,
            db_path,
            user=user,
            case=case,
            action=action,
            outcome="denied",
            detail={"reason": message, **detail},
        )
    return InputError(message)


def check_name(
    value: str | None,
    what: str,
    *,
    conn=None,
    db_path: Path | None = None,
    user: str | None = None,
    case: str | None = None,
    action: str = "input",
) -> str:
    """A safe identifier (user, case number, agency, camera id); returns it unchanged."""
    if value is None or not isinstance(value, str) or not NAME_RE.match(value) or value in (".", ".."):
        raise _refuse(
            f"{what} {value!r} is not allowed: use 1-64 letters, digits, '.', '-', '_', ':' or '@'",
            conn,
            db_path,
            user,
            case,
            action,
            field=what,
            value=repr(value)[:100],
        )
    return value


def check_text(
    value: str | None,
    what: str,
    *,
    max_len: int = MAX_TEXT,
    conn=None,
    db_path: Path | None = None,
    user: str | None = None,
    case: str | None = None,
    action: str = "input",
) -> str:
    """Free text (a search description, a purpose, a refusal reason); returns it unchanged."""

    def refuse(why: str) -> InputError:
        return _refuse(
            f"{what} refused: {why}", conn, db_path, user, case, action, field=what, value=repr(value)[:200]
        )

    if value is None or not isinstance(value, str) or not value.strip():
        raise refuse("empty")
    if len(value) > max_len:
        raise refuse(f"{len(value)} characters, at most {max_len}")
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n" for ch in value):
        raise refuse("contains control characters")
    if _SCRIPT_RE.search(value):
        raise refuse("contains markup or script ('<', '>', javascript:, on...=)")
    if _SQL_RE.search(value):
        raise refuse("contains SQL syntax (';', '--', comments or statements)")
    return value


def check_upload(
    data: bytes,
    limit: int = DEFAULT_UPLOAD_LIMIT,
    *,
    kinds: tuple[str, ...] = ("jpeg", "png"),
    conn=None,
    db_path: Path | None = None,
    user: str | None = None,
    case: str | None = None,
    action: str = "upload",
) -> bytes:
    """An uploaded query image: refuses empty, oversized (> limit bytes) or non-image payloads."""
    size = len(data) if isinstance(data, bytes | bytearray | memoryview) else -1
    if size <= 0:
        raise _refuse("upload refused: empty or not bytes", conn, db_path, user, case, action)
    if size > limit:
        raise _refuse(
            f"upload refused: {size} bytes, limit {limit}",
            conn,
            db_path,
            user,
            case,
            action,
            size=size,
            limit=limit,
        )
    head = bytes(data[:8])
    kind = "jpeg" if head[:3] == b"\xff\xd8\xff" else "png" if head == b"\x89PNG\r\n\x1a\n" else None
    if kinds and kind not in kinds:
        raise _refuse(
            f"upload refused: not a {' or '.join(kinds)} image", conn, db_path, user, case, action, size=size
        )
    return bytes(data)


def safe_join(
    root: Path,
    name: str,
    what: str = "path",
    *,
    conn=None,
    db_path: Path | None = None,
    user: str | None = None,
    case: str | None = None,
    action: str = "input",
) -> Path:
    """`root/name` for a relative name that stays inside root (no '..', no absolute path, no NUL)."""
    bad = (
        not isinstance(name, str)
        or not name
        or "\x00" in name
        or "\\" in name
        or name.startswith(("/", "~"))
        or any(part in ("..", "") for part in name.split("/"))
        or re.match(r"^[A-Za-z]:", name) is not None
    )
    root_r = Path(root).resolve()
    if not bad:
        target = (root_r / name).resolve()
        bad = target != root_r and root_r not in target.parents
    if bad:
        raise _refuse(
            f"{what} {name!r} refused: it must be a relative path inside {root}",
            conn,
            db_path,
            user,
            case,
            action,
            field=what,
            value=repr(name)[:200],
        )
    return root_r / name


def file_token(value: str) -> str:
    """A string made safe for use inside a file name (camera ids come from data we do not control)."""
    out = re.sub(r"[^\w.\-]", "_", str(value), flags=re.UNICODE).strip("._")
    return out[:48] or "x"
