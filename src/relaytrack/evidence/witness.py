"""Signed heads of the audit chain: witnesses that the store's owner cannot quietly rewind.

The HMAC key and the anchor file stop someone who can write the database but not the key. Someone who can
write every file of the installation (the store owner, root) can re-MAC a forged or truncated chain; against
that only copies of the chain head held elsewhere help. A *head* is (store id, seq, hash, time) signed with
the installation's Ed25519 evidence key, so anyone holding the public key can check it without the HMAC key.

Heads are handed out:
- after every committed append, as one JSON line in `<db>.audit-heads` (beside the store: it stops an old
  anchor file replayed over a truncated log) and, when RELAYTRACK_WITNESS_DIR names a folder (meant to be on
  another volume or an append-only mount), in `<dir>/<store id>.jsonl`;
- inside every evidence package (`audit-head.json`, covered by the package signature), so the police and the
  prosecution each hold a head the centre cannot take back;
- on demand, `relaytrack audit head`.

`relaytrack audit verify --witness FILE...` checks each head: signed by the trusted key, for this store, and
the entry it names is still in the chain with the same hash (else entries were removed or rewritten).
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from relaytrack.errors import RelaytrackError

FORMAT = "relaytrack-audit-head/1"
PACKAGE_FILE = "audit-head.json"
# Each line is ~400 bytes; reading a witness file is capped so a hostile file cannot exhaust memory.
MAX_WITNESS_BYTES = 64 * 1024 * 1024


class WitnessError(RelaytrackError):
    """A witness file is unreadable, forged, for another store, or contradicts the chain."""


@dataclass(frozen=True, slots=True)
class Head:
    """One signed statement "store `store` had entry `seq` with hash `hash` at time `ts`"."""

    store: str
    seq: int
    hash: str
    ts: float
    key_id: str
    public_key: str  # base64 raw Ed25519 public key of the signer
    sig: str = ""
    format: str = FORMAT

    def signed_bytes(self) -> bytes:
        body = {k: v for k, v in asdict(self).items() if k != "sig"}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_obj(cls, obj: object, where: str) -> Head:
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise WitnessError(f"{where}: not a relaytrack audit head")
        try:
            return cls(
                store=str(obj["store"]),
                seq=int(obj["seq"]),
                hash=str(obj["hash"]),
                ts=float(obj["ts"]),
                key_id=str(obj["key_id"]),
                public_key=str(obj["public_key"]),
                sig=str(obj["sig"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise WitnessError(f"{where}: malformed audit head ({type(err).__name__})") from None

    def signer(self) -> Ed25519PublicKey:
        try:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key, validate=True))
        except ValueError:
            raise WitnessError(f"audit head {self.seq}: unreadable public key") from None

    def signature_ok(self) -> bool:
        try:
            self.signer().verify(base64.b64decode(self.sig, validate=True), self.signed_bytes())
        except (InvalidSignature, ValueError, WitnessError):
            return False
        return True


def store_id(conn) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key='store_id'").fetchone()
    return row[0] if row else None


def ensure_store_id(conn) -> str:
    """A random id naming this store in its witnesses (created inside the caller's transaction)."""
    sid = store_id(conn)
    if sid is None:
        sid = os.urandom(8).hex()
        conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('store_id', ?)", (sid,))
        sid = store_id(conn) or sid
    return sid


def sign_head(store: str, seq: int, h: str) -> Head:
    from relaytrack.evidence.package import key_id, load_signing_key, raw_public

    key = load_signing_key(create=True)
    pub = key.public_key()
    unsigned = Head(store, seq, h, time.time(), key_id(pub), base64.b64encode(raw_public(pub)).decode())
    sig = base64.b64encode(key.sign(unsigned.signed_bytes())).decode()
    return Head(**{**asdict(unsigned), "sig": sig})


def current_head(conn) -> Head | None:
    """The committed head of the chain, signed now (None for an empty chain or a store never audited)."""
    sid = store_id(conn)
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    if sid is None or row is None:
        return None
    return sign_head(sid, int(row[0]), str(row[1]))


def heads_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".audit-heads")


def witness_dir() -> Path | None:
    env = os.environ.get("RELAYTRACK_WITNESS_DIR")
    return Path(env) if env else None


def witness_targets(db_path: Path, store: str) -> list[Path]:
    """Where each committed head is appended: beside the store, and the configured witness folder."""
    out = [heads_path(db_path)]
    wd = witness_dir()
    if wd is not None:
        out.append(wd / f"{store}.jsonl")
    return out


def record(db_path: Path, head: Head) -> None:
    line = (head.to_json() + "\n").encode()
    for path in witness_targets(db_path, head.store):
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: concurrent writers (service threads, a CLI beside it) add whole lines, never overwrite.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def read_heads(path: Path) -> list[Head]:
    """Heads in a witness: a JSON-lines journal, one head (JSON), a package folder (its audit-head.json), or a
    witness folder (every *.jsonl in it)."""
    path = Path(path)
    if path.is_dir():
        files = [path / PACKAGE_FILE] if (path / PACKAGE_FILE).is_file() else sorted(path.glob("*.jsonl"))
        if not files:
            raise WitnessError(f"{path}: no {PACKAGE_FILE} or *.jsonl witness in this folder")
        return [h for f in files for h in read_heads(f)]
    try:
        if path.stat().st_size > MAX_WITNESS_BYTES:
            raise WitnessError(f"{path}: witness file over {MAX_WITNESS_BYTES} bytes")
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise WitnessError(f"{path.name}: unreadable witness ({type(err).__name__})") from None
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if whole is not None:  # one head (pretty-printed or not)
        return [Head.from_obj(whole, path.name)]
    heads = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise WitnessError(f"{path.name}:{n}: not JSON") from None
        heads.append(Head.from_obj(obj, f"{path.name}:{n}"))
    if not heads:
        raise WitnessError(f"{path.name}: no audit head in this file")
    return heads


def check(conn, heads: list[Head], *, trusted: Ed25519PublicKey | None, source: str) -> str | None:
    """The first problem these heads show with the chain in `conn`, or None when every head is in it."""
    from relaytrack.evidence.package import raw_public

    sid = store_id(conn)
    for head in heads:
        if not head.signature_ok():
            return f"witness {source}: head {head.seq} has a bad signature (forged or altered)"
        if trusted is not None and raw_public(trusted) != raw_public(head.signer()):
            return (
                f"witness {source}: head {head.seq} signed by key {head.key_id}, not this installation's key"
            )
        if sid is not None and head.store != sid:
            return f"witness {source}: head is for store {head.store}, not this store ({sid})"
        row = conn.execute("SELECT hash FROM audit_log WHERE seq=?", (head.seq,)).fetchone()
        if row is None:
            last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0] or 0
            return (
                f"witness {source}: entry {head.seq} is missing; the log ends at {last} "
                f"(entries {last + 1}..{head.seq} were deleted from the end)"
            )
        if row[0] != head.hash:
            return f"witness {source}: entry {head.seq} differs from the witnessed hash (chain rewritten)"
    return None
