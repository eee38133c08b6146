"""Append-only, hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, so an edited, deleted, inserted or
reordered row breaks the chain at that row. Deleting the newest rows leaves a whole chain, so the head
(seq, hash) is also written to an anchor file beside the store after every append.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def _canonical(seq: int, ts: float, user: str | None, case: str | None, action: str, outcome: str,
               detail: str, result_ids: str, prev_hash: str) -> bytes:
    return json.dumps(
        [seq, repr(float(ts)), user, case, action, outcome, detail, result_ids, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    ).encode()


def entry_hash(*fields: Any) -> str:
    return hashlib.sha256(_canonical(*fields)).hexdigest()


def anchor_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".audit-anchor")


def append(conn, db_path: Path | None, *, user: str | None, case: str | None, action: str,
           outcome: str = "ok", detail: dict | None = None, result_ids: list | None = None) -> int:
    """Append one entry; returns its seq. Runs in its own transaction unless one is open."""
    detail_s = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    ids_s = json.dumps(list(result_ids or []), default=str)
    own_tx = not conn.in_transaction
    if own_tx:
        conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        ts = time.time()
        h = entry_hash(seq, ts, user, case, action, outcome, detail_s, ids_s, prev)
        conn.execute(
            "INSERT INTO audit_log(seq, ts, user_name, case_no, action, outcome, detail, result_ids, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (seq, ts, user, case, action, outcome, detail_s, ids_s, prev, h),
        )
        if own_tx:
            conn.execute("COMMIT")
    except BaseException:
        if own_tx:
            conn.execute("ROLLBACK")
        raise
    if db_path is not None and own_tx:
        _write_anchor(db_path, seq, h)
    return seq


def _write_anchor(db_path: Path, seq: int, h: str) -> None:
    tmp = Path(str(anchor_path(db_path)) + ".tmp")
    tmp.write_text(json.dumps({"seq": seq, "hash": h}))
    tmp.replace(anchor_path(db_path))


def sync_anchor(conn, db_path: Path) -> None:
    """Record the committed head of the chain (called after each store transaction commits)."""
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return
    path = anchor_path(db_path)
    if path.exists():
        try:
            if json.loads(path.read_text()).get("seq") == row[0]:
                return
        except (OSError, ValueError):
            pass
    _write_anchor(db_path, row[0], row[1])


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    problem: str | None = None
    bad_seq: int | None = None


def verify(conn, db_path: Path | None = None) -> VerifyResult:
    """Walk the chain in seq order; report the first entry that does not fit."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%audit%'")]
    if "audit_log" not in tables:
        return VerifyResult(False, 0, "audit_log table is missing")
    prev, expect_seq, n = GENESIS, 1, 0
    rows = conn.execute(
        "SELECT seq, ts, user_name, case_no, action, outcome, detail, result_ids, prev_hash, hash"
        " FROM audit_log ORDER BY seq"
    )
    last_hash = GENESIS
    for seq, ts, user, case, action, outcome, detail, ids, prev_hash, h in rows:
        n += 1
        if seq != expect_seq:
            kind = "deleted" if seq > expect_seq else "duplicated"
            return VerifyResult(False, n, f"entry {expect_seq} is missing ({kind}); next present is {seq}", expect_seq)
        if prev_hash != prev:
            return VerifyResult(False, n, f"entry {seq} does not follow entry {seq - 1} (inserted, reordered or "
                                          f"previous edited)", seq)
        if entry_hash(seq, ts, user, case, action, outcome, detail, ids, prev_hash) != h:
            return VerifyResult(False, n, f"entry {seq} was edited (its content does not match its hash)", seq)
        prev, expect_seq, last_hash = h, seq + 1, h
    if db_path is not None and anchor_path(db_path).exists():
        anchor = json.loads(anchor_path(db_path).read_text())
        if anchor["seq"] > n:
            return VerifyResult(False, n, f"entries {n + 1}..{anchor['seq']} were deleted from the end of the log",
                                n + 1)
        if anchor["seq"] == n and anchor["hash"] != last_hash:
            return VerifyResult(False, n, f"entry {n} does not match the recorded head of the chain", n)
    return VerifyResult(True, n)
