"""Append-only, hash-chained and keyed audit log.

Each entry's hash covers its own fields and the previous entry's hash, so an edited, deleted, inserted or
reordered row breaks the chain at that row. Anyone who can write the database file can drop the triggers and
recompute plain SHA-256 hashes, so each entry also carries `mac` = HMAC-SHA256(key, hash) with a key kept
outside the database (`home_dir()/keys/audit.key`, or the file named by RELAYTRACK_AUDIT_KEY); without the key
a rewritten chain cannot be made to verify. Deleting the newest rows leaves a whole chain, so the head
(seq, hash, mac) is also written to an anchor file beside the store after every append, and a signed head is
appended to the store's head journal and any configured witness folder (`relaytrack.evidence.witness`).

Every entry also names the operating-system account of the process that wrote it (`host_account`, from the
effective uid) beside the claimed user; the hash of every entry written since covers it.

`verify` checks the plain chain always and the MACs whenever this installation holds the key; a store that
was keyed with a different key than the one found is reported, not silently passed. With the key, a missing
or unauthenticated anchor fails (the tail could have been cut), and every witness head (the journal beside
the store, the witness folder, files given by the caller) must still be in the chain, so an old anchor
replayed over a truncated log fails too. SECURITY.md says who can still defeat this (the store's owner, who
holds the keys) and what the outside witnesses do about it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import pwd
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relaytrack.clock import to_seoul_iso
from relaytrack.errors import InputError
from relaytrack.evidence import witness
from relaytrack.paths import home_dir

GENESIS = "0" * 64
KEY_BYTES = 32


def _canonical(
    seq: int,
    ts: float,
    user: str | None,
    case: str | None,
    action: str,
    outcome: str,
    detail: str,
    result_ids: str,
    prev_hash: str,
    host: str | None = None,
) -> bytes:
    fields: list[Any] = [seq, repr(float(ts)), user, case, action, outcome, detail, result_ids, prev_hash]
    # Entries written before the host account was recorded (NULL) keep their original nine-field form, so old
    # chains still verify; every newer entry covers the account too, so it cannot be blanked or changed.
    if host is not None:
        fields.append(host)
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(*fields: Any) -> str:
    """SHA-256 of (seq, ts, user, case, action, outcome, detail, result_ids, prev_hash[, host_account])."""
    return hashlib.sha256(_canonical(*fields)).hexdigest()


@functools.cache
def _account_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry (containers): the numeric id still names the account
        return f"uid:{uid}"


def host_account() -> str:
    """The operating-system account running this process, from the kernel's effective uid: unlike
    $USER/$LOGNAME (what getpass reads first) it cannot be set by the caller."""
    return _account_of(os.geteuid())


# ---- the key -------------------------------------------------------------------------------------------------


def key_path() -> Path:
    env = os.environ.get("RELAYTRACK_AUDIT_KEY")
    return Path(env) if env else home_dir() / "keys" / "audit.key"


def load_key(*, create: bool = False) -> bytes | None:
    """The installation's audit MAC key; created (0600) on first use when `create`."""
    path = key_path()
    if path.exists():
        data = path.read_bytes()
        if len(data) >= KEY_BYTES:
            return data[:KEY_BYTES]
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def key_fingerprint(key: bytes) -> str:
    return hashlib.sha256(b"relaytrack-audit-key:" + key).hexdigest()[:16]


def entry_mac(key: bytes, h: str) -> str:
    return hmac.new(key, h.encode(), hashlib.sha256).hexdigest()


def _anchor_mac(key: bytes, seq: int, h: str) -> str:
    return hmac.new(key, f"anchor:{seq}:{h}".encode(), hashlib.sha256).hexdigest()


def _key_for_store(conn, *, create: bool) -> bytes | None:
    key = load_key(create=create)
    if key is not None and create:
        fp = key_fingerprint(key)
        row = conn.execute("SELECT value FROM meta WHERE key='audit_key_fp'").fetchone()
        if row is None:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('audit_key_fp', ?)", (fp,))
        # From now on verify requires the head journal: deleting it to hide a truncation is itself detected.
        conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('audit_heads', '1')")
    witness.ensure_store_id(conn)
    return key


def db_file(conn) -> Path | None:
    """The file behind `conn` (None for an in-memory database): appends without a path still anchor."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2])
    return None


# ---- appending -----------------------------------------------------------------------------------------------


def anchor_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".audit-anchor")


def append(
    conn,
    db_path: Path | None,
    *,
    user: str | None,
    case: str | None,
    action: str,
    outcome: str = "ok",
    detail: dict | None = None,
    result_ids: list | None = None,
) -> int:
    """Append one entry; returns its seq. Runs in its own transaction unless one is open."""
    detail_s = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    ids_s = json.dumps(list(result_ids or []), default=str)
    own_tx = not conn.in_transaction
    if own_tx:
        conn.execute("BEGIN IMMEDIATE")
    try:
        key = _key_for_store(conn, create=True)
        row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        ts = time.time()
        host = host_account()
        h = entry_hash(seq, ts, user, case, action, outcome, detail_s, ids_s, prev, host)
        conn.execute(
            "INSERT INTO audit_log(seq, ts, user_name, case_no, action, outcome, detail, result_ids, prev_hash, hash,"
            " mac, host_account) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                seq,
                ts,
                user,
                case,
                action,
                outcome,
                detail_s,
                ids_s,
                prev,
                h,
                entry_mac(key, h) if key else None,
                host,
            ),
        )
        if own_tx:
            conn.execute("COMMIT")
    except BaseException:
        if own_tx:
            conn.execute("ROLLBACK")
        raise
    if own_tx:
        path = db_path if db_path is not None else db_file(conn)
        if path is not None:
            _write_anchor(path, seq, h, witness.store_id(conn))
    return seq


def _write_anchor(db_path: Path, seq: int, h: str, store: str | None) -> None:
    key = load_key()
    rec: dict[str, Any] = {"seq": seq, "hash": h}
    if key is not None:
        rec["mac"] = _anchor_mac(key, seq, h)
    # A writer-unique temporary name: service threads append concurrently, and a shared ".tmp" would race.
    tmp = Path(f"{anchor_path(db_path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(rec))
    tmp.replace(anchor_path(db_path))
    if store is not None:
        witness.record(db_path, witness.sign_head(store, seq, h))


def sync_anchor(conn, db_path: Path) -> None:
    """Record the committed head of the chain (called after each store transaction commits)."""
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return
    path = anchor_path(db_path)
    if path.exists():
        try:
            cur = json.loads(path.read_text())
            if cur.get("seq") == row[0] and cur.get("hash") == row[1]:
                return
        except (OSError, ValueError):
            pass
    _write_anchor(db_path, row[0], row[1], witness.store_id(conn))


# ---- verifying -----------------------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    problem: str | None = None
    bad_seq: int | None = None
    keyed: bool = False  # the MACs were checked with this installation's key
    warning: str | None = None
    witnessed: int = 0  # signed heads checked against the chain (journal, witness folder, given files)


def verify(conn, db_path: Path | None = None, witnesses: tuple[Path, ...] | list[Path] = ()) -> VerifyResult:
    """Walk the chain in seq order; report the first entry that does not fit, then check the anchor and
    every witness head (the head journal beside the store, RELAYTRACK_WITNESS_DIR, and `witnesses`)."""
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%audit%'")
    ]
    if "audit_log" not in tables:
        return VerifyResult(False, 0, "audit_log table is missing (dropped or renamed)")
    cols = {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}
    key = load_key()
    warning = None
    if key is not None:
        row = conn.execute("SELECT value FROM meta WHERE key='audit_key_fp'").fetchone()
        if row is not None and row[0] != key_fingerprint(key):
            return VerifyResult(
                False,
                0,
                f"the store was keyed with audit key {row[0]}, but {key_path()} holds key "
                f"{key_fingerprint(key)}; point RELAYTRACK_AUDIT_KEY at the store's key",
            )
    else:
        warning = f"no audit key at {key_path()}: MACs not checked, only the plain hash chain"
    if key is not None and "mac" not in cols:
        return VerifyResult(False, 0, "audit_log has no mac column (table rebuilt without it)")
    mac_col = "mac" if "mac" in cols else "NULL"
    host_col = "host_account" if "host_account" in cols else "NULL"
    rows = conn.execute(
        "SELECT seq, ts, user_name, case_no, action, outcome, detail, result_ids, prev_hash, hash, "
        f"{mac_col}, {host_col} FROM audit_log ORDER BY seq"
    )
    prev, expect_seq, n = GENESIS, 1, 0

    def bad(problem: str, seq: int | None) -> VerifyResult:
        return VerifyResult(False, n, problem, seq, key is not None, warning)

    for seq, ts, user, case, action, outcome, detail, ids, prev_hash, h, mac, host in rows:
        n += 1
        if seq != expect_seq:
            kind = "deleted" if seq > expect_seq else "duplicated"
            return bad(f"entry {expect_seq} is missing ({kind}); next present is {seq}", expect_seq)
        if prev_hash != prev:
            return bad(
                f"entry {seq} does not follow entry {seq - 1} (inserted, reordered or previous edited)", seq
            )
        try:
            recomputed = entry_hash(seq, ts, user, case, action, outcome, detail, ids, prev_hash, host)
        except (TypeError, ValueError):
            recomputed = None
        if recomputed != h:
            return bad(f"entry {seq} was edited (its content does not match its hash)", seq)
        if key is not None and (not isinstance(mac, str) or not hmac.compare_digest(mac, entry_mac(key, h))):
            return bad(
                f"entry {seq} has a wrong or missing MAC (rewritten or inserted without the audit key)", seq
            )
        prev, expect_seq = h, seq + 1
    if db_path is not None and key is not None and not anchor_path(db_path).exists() and n > 0:
        return bad(
            f"the anchor file {anchor_path(db_path).name} is missing: entries may have been deleted from the end"
            " (give --witness files to check the tail)",
            None,
        )
    if db_path is not None and anchor_path(db_path).exists():
        try:
            anchor = json.loads(anchor_path(db_path).read_text())
            a_seq, a_hash = int(anchor["seq"]), str(anchor["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return bad(f"anchor file {anchor_path(db_path)} is unreadable", None)
        if key is not None and not hmac.compare_digest(
            str(anchor.get("mac")), _anchor_mac(key, a_seq, a_hash)
        ):
            why = "has no MAC" if anchor.get("mac") is None else "has a wrong MAC"
            return bad(
                f"anchor file {anchor_path(db_path).name} {why} (rewritten without the audit key)", None
            )
        at = conn.execute("SELECT hash FROM audit_log WHERE seq=?", (a_seq,)).fetchone()
        # The anchor may be ahead of the rows read above when another process appended meanwhile (a live
        # service); the rows are gone only if the anchored entry itself is missing now.
        if a_seq > n and (at is None or at[0] != a_hash):
            return bad(f"entries {n + 1}..{a_seq} were deleted from the end of the log", n + 1)
        if a_seq >= 1 and (at is None or at[0] != a_hash):
            return bad(f"entry {a_seq} does not match the recorded head of the chain", a_seq)
    problem, witnessed = _check_witnesses(conn, db_path, list(witnesses))
    if problem is not None:
        return bad(problem, None)
    return VerifyResult(True, n, None, None, key is not None, warning, witnessed)


def _check_witnesses(conn, db_path: Path | None, given: list[Path]) -> tuple[str | None, int]:
    """(first problem, heads checked): the newest head of each local journal, every head of given files."""
    from relaytrack.evidence.package import trusted_public_key

    try:
        trusted = trusted_public_key()
    except (InputError, ValueError) as err:
        return f"installation public key unreadable: {err}", 0
    checked = 0
    sid = witness.store_id(conn)
    local: list[Path] = []
    if db_path is not None:
        journal = witness.heads_path(db_path)
        marked = conn.execute("SELECT 1 FROM meta WHERE key='audit_heads'").fetchone() is not None
        if marked and not journal.exists():
            return f"the head journal {journal.name} is missing (removed to hide deleted entries?)", 0
        local = [p for p in witness.witness_targets(db_path, sid or "-") if p.exists()]
    try:
        for path in local:
            heads = witness.read_heads(path)
            newest = max(heads, key=lambda hd: hd.seq)
            problem = witness.check(conn, [newest], trusted=trusted, source=path.name)
            if problem:
                return problem, checked
            checked += 1
        for path in given:
            heads = witness.read_heads(Path(path))
            problem = witness.check(conn, heads, trusted=trusted, source=Path(path).name)
            if problem:
                return problem, checked
            checked += len(heads)
    except witness.WitnessError as err:
        return str(err), checked
    return None, checked


# ---- reading ---------------------------------------------------------------------------------------------

_ENTRY_COLUMNS = (
    "seq, ts, user_name, case_no, action, outcome, detail, result_ids, prev_hash, hash, host_account"
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit_log row as the evidence stage hands it out (detail and result_ids decoded)."""

    seq: int
    ts: float
    user: str | None
    case: str | None
    action: str
    outcome: str
    detail: dict[str, Any]
    result_ids: list[Any]
    prev_hash: str
    hash: str
    host_account: str | None = None  # the OS account that ran the process (None: written before it was kept)

    @classmethod
    def from_row(cls, r: Any) -> AuditEntry:
        return cls(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            json.loads(r[6] or "{}"),
            json.loads(r[7] or "[]"),
            r[8],
            r[9],
            r[10],
        )

    def summary(self) -> dict[str, Any]:
        """The listing form (no chain link): what the audit page shows."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "user": self.user,
            "host_account": self.host_account,
            "case": self.case,
            "action": self.action,
            "outcome": self.outcome,
            "detail": self.detail,
            "result_ids": self.result_ids,
            "hash": self.hash,
        }

    def chain_dict(self) -> dict[str, Any]:
        """The export form: Seoul time (ISO 8601, +09:00) and both hashes, so an auditor can re-walk the chain."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "time": to_seoul_iso(self.ts),
            "user": self.user,
            "host_account": self.host_account,
            "case": self.case,
            "action": self.action,
            "outcome": self.outcome,
            "detail": self.detail,
            "result_ids": self.result_ids,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def entries(
    conn,
    *,
    case: str | None = None,
    user: str | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = 100,
    cases: list[str] | None = None,
) -> list[AuditEntry]:
    """Entries newest first, filtered by case, user and action; `before` pages by seq. `cases` (not None)
    keeps only entries of those cases: what a reader restricted to their own cases may see."""
    where, args = [], []
    for col, val in (("case_no", case), ("user_name", user), ("action", action)):
        if val:
            where.append(f"{col}=?")
            args.append(val)
    if cases is not None:
        where.append(f"case_no IN ({','.join('?' * len(cases))})" if cases else "1=0")
        args.extend(cases)
    if before:
        where.append("seq < ?")
        args.append(int(before))
    sql = (
        f"SELECT {_ENTRY_COLUMNS} FROM audit_log"
        f" {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY seq DESC LIMIT ?"
    )
    return [AuditEntry.from_row(r) for r in conn.execute(sql, [*args, int(limit)])]


def case_entries(conn, case: str) -> list[AuditEntry]:
    """Every entry of one case, in chain order."""
    return [
        AuditEntry.from_row(r)
        for r in conn.execute(f"SELECT {_ENTRY_COLUMNS} FROM audit_log WHERE case_no=? ORDER BY seq", (case,))
    ]


def export_case(conn, case: str) -> list[dict[str, Any]]:
    """Every audit entry of one case, in chain order, with its hashes (for an auditor or a court)."""
    return [e.chain_dict() for e in case_entries(conn, case)]
