"""Evidence packages: SHA-256 manifest of every file, Ed25519 signature, and verification.

Layout of a package folder:
    manifest.json     {"format", "case", "created", "key_id", "public_key", "files": [{"path","size","sha256"}]}
    manifest.sig      base64 Ed25519 signature of manifest.json's exact bytes
    signing_key.pub   PEM public key (also listed, with its hash, in the manifest)
    custody.json, README.txt, hops/...   (all listed in the manifest)

The signing key pair lives under home_dir()/keys (private key 0600; RELAYTRACK_SIGNING_KEY names another
private key file). `verify_package` detects any changed, added or removed file, a bad signature, paths that
escape the folder, and a package signed by a key other than a trusted one. A package carries its own public
key, so anyone can re-sign an altered package consistently: only a key trusted beforehand proves the sender.
Trusted are a key given explicitly (`--key`), else this installation's own public key, the keys in the trust
store (`home_dir()/trusted-keys/*.pub` or the folder RELAYTRACK_TRUSTED_KEYS names) and key ids pinned by the
caller (a delivery record). With none of them the package fails unless the caller says `untrusted`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from relaytrack.errors import InputError
from relaytrack.evidence.guard import safe_join
from relaytrack.models.registry import sha256_file  # noqa: F401  (re-exported for export.py)
from relaytrack.paths import home_dir

FORMAT = "relaytrack-evidence/1"
SEALED = ("manifest.json", "manifest.sig")


def signing_key_path() -> Path:
    env = os.environ.get("RELAYTRACK_SIGNING_KEY")
    return Path(env) if env else home_dir() / "keys" / "evidence-ed25519.pem"


def public_key_path() -> Path:
    return signing_key_path().with_suffix(".pub")


def load_signing_key(*, create: bool = True) -> Ed25519PrivateKey | None:
    path = signing_key_path()
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError(f"{path}: not an Ed25519 private key")
        return key
    if not create:
        return None
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public_key_path().write_bytes(public_pem(key.public_key()))
    return key


def public_pem(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def raw_public(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(pub: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(pub)).hexdigest()[:16]


def trust_store_dir() -> Path:
    env = os.environ.get("RELAYTRACK_TRUSTED_KEYS")
    return Path(env) if env else home_dir() / "trusted-keys"


def _load_public(p: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(p.read_bytes())
    except (OSError, ValueError):
        raise InputError(f"{p.name}: not a readable PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{p.name}: not an Ed25519 public key")
    return key


def trusted_keys(explicit: Path | None = None) -> list[Ed25519PublicKey]:
    """The keys a package may be signed by: the explicit one alone, else the installation's and the trust
    store's."""
    if explicit is not None:
        if not Path(explicit).is_file():
            raise InputError(f"{Path(explicit).name}: no such public key file")
        return [_load_public(Path(explicit))]
    out = []
    own = public_key_path()
    if own.is_file():
        out.append(_load_public(own))
    store = trust_store_dir()
    if store.is_dir():
        out.extend(_load_public(p) for p in sorted(store.glob("*.pub")))
    return out


def trusted_public_key(path: Path | None = None) -> Ed25519PublicKey | None:
    """An explicitly given public key (PEM), else this installation's, else None."""
    p = Path(path) if path else public_key_path()
    if not p.exists():
        if path:
            raise InputError(f"{p}: no such public key file")
        return None
    key = serialization.load_pem_public_key(p.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{p}: not an Ed25519 public key")
    return key


def _listed_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())


def seal(root: Path, *, case: str, created: float, extra: dict | None = None) -> str:
    """Write manifest.json (hash of every file), signing_key.pub and manifest.sig; returns the manifest's
    SHA-256."""
    key = load_signing_key(create=True)
    pub = key.public_key()
    (root / "signing_key.pub").write_bytes(public_pem(pub))
    files = []
    for rel in _listed_files(root):
        if rel in SEALED:
            continue
        p = root / rel
        files.append({"path": rel, "size": p.stat().st_size, "sha256": sha256_file(p)})
    manifest = {
        "format": FORMAT,
        "case": case,
        "created": created,
        "key_id": key_id(pub),
        "public_key": base64.b64encode(raw_public(pub)).decode(),
        "files": files,
        **(extra or {}),
    }
    data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    (root / "manifest.json").write_bytes(data)
    (root / "manifest.sig").write_bytes(base64.b64encode(key.sign(data)) + b"\n")
    return hashlib.sha256(data).hexdigest()


@dataclass
class PackageVerify:
    ok: bool
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    case: str | None = None
    files: int = 0
    key_id: str | None = None
    manifest_digest: str | None = None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "warnings": self.warnings,
            "case": self.case,
            "files": self.files,
            "key_id": self.key_id,
            "manifest_sha256": self.manifest_digest,
        }


def verify_package(
    root: Path,
    trusted_key: Path | None = None,
    *,
    untrusted: bool = False,
    pinned_key_ids: tuple[str, ...] = (),
) -> PackageVerify:
    """Check signature, signer and every file of a package folder; never raises for a bad package. The
    signer must be a trusted key (see the module doc) or a pinned key id; `untrusted` turns a missing or
    unknown signer into a warning (the package is then only internally consistent)."""
    root = Path(root)
    res = PackageVerify(False)
    if not root.is_dir():
        res.problems.append(f"{root}: not a package folder")
        return res
    try:
        data = (root / "manifest.json").read_bytes()
        sig = base64.b64decode((root / "manifest.sig").read_bytes().strip(), validate=True)
        manifest = json.loads(data)
        pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(manifest["public_key"]))
        entries = manifest["files"]
        res.case = manifest.get("case")
    except FileNotFoundError as err:
        res.problems.append(f"missing {Path(err.filename).name}")
        return res
    except (ValueError, KeyError, TypeError) as err:
        res.problems.append(f"manifest or signature unreadable ({type(err).__name__}: {err})"[:200])
        return res
    res.manifest_digest = hashlib.sha256(data).hexdigest()
    res.key_id = key_id(pub)
    try:
        pub.verify(sig, data)
    except InvalidSignature:
        res.problems.append("bad signature: manifest.json was changed or signed by another key")
    try:
        trusted = trusted_keys(trusted_key)
    except InputError as err:
        res.problems.append(str(err))
        trusted = []
    signer_trusted = key_id(pub) in pinned_key_ids or any(raw_public(t) == raw_public(pub) for t in trusted)
    if not signer_trusted:
        if not trusted and not pinned_key_ids:
            why = "no trusted public key given or installed: the signer cannot be checked"
        else:
            names = ", ".join([key_id(t) for t in trusted] + list(pinned_key_ids))
            why = f"signed by key {key_id(pub)}, not the trusted key(s) {names}"
        if untrusted:
            res.warnings.append(f"{why} (accepted: --untrusted)")
        else:
            res.problems.append(
                f"{why}; give the sender's key with --key FILE, add it to the trust store (trusted-keys/ or"
                " RELAYTRACK_TRUSTED_KEYS), or pass --untrusted to check only the package's own consistency"
            )
    pub_file = root / "signing_key.pub"
    if pub_file.is_file() and pub_file.read_bytes() != public_pem(pub):
        res.problems.append("signing_key.pub does not match the manifest's public key")
    listed = set()
    for e in entries if isinstance(entries, list) else []:
        rel = e.get("path") if isinstance(e, dict) else None
        try:
            p = safe_join(root, rel, "manifest path")
        except InputError as err:
            res.problems.append(str(err))
            continue
        listed.add(rel)
        if p.is_symlink():
            res.problems.append(f"{rel}: is a symbolic link")
        elif not p.is_file():
            res.problems.append(f"{rel}: removed")
        elif p.stat().st_size != e.get("size") or sha256_file(p) != e.get("sha256"):
            res.problems.append(f"{rel}: changed (SHA-256 differs from the manifest)")
    for rel in _listed_files(root):
        if rel not in listed and rel not in SEALED:
            res.problems.append(f"{rel}: added (not in the manifest)")
    res.files = len(listed)
    res.ok = not res.problems
    return res
