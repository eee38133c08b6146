"""Short-lived signed media grants: how an `<img>` or an `EventSource`, which cannot send an Authorization
header, fetches a thumbnail, an MJPEG stream or the alert stream without a bearer token in its query string.

The console asks `POST /api/auth/media-grant` (with its bearer token) for a grant and appends it to media URLs
as `mg=`. A grant names the user, the id of the token it was issued under (never the token) and its expiry
(TTL_S ahead), signed with HMAC-SHA256 under a key derived from the installation's audit key. It is accepted
only for GET on the media routes (thumbnails, MJPEG streams, the alert and pursuit streams), before it expires and while its
token is still valid (logging out or revoking the token ends it too); the request is then authorised exactly
like one made with the token (role, case membership, the case gate), and the case still comes from the request.
A leaked media URL therefore opens media only, for minutes, and only what that user may see anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from relaytrack.errors import AccessDenied
from relaytrack.evidence import audit
from relaytrack.evidence.auth import User

TTL_S = 15 * 60
PARAM = "mg"
MEDIA_PATH = re.compile(
    r"^/api/(sightings/\d+/thumbnail|video/(sighting|alert)/\d+\.mjpeg|video/camera/[^/]{1,64}\.mjpeg"
    r"|alerts/stream|pursuits/\d+/events)$"
)
_keys: dict[bytes, bytes] = {}


def _key() -> bytes:
    base = audit.load_key(create=True) or b""
    if base not in _keys:
        _keys[base] = hmac.new(base, b"relaytrack media grant v1", hashlib.sha256).digest()
    return _keys[base]


def _mac(name: str, token_id: int, exp: int) -> str:
    return hmac.new(_key(), f"{name}\n{token_id}\n{exp}".encode(), hashlib.sha256).hexdigest()


def is_media(path: str) -> bool:
    return MEDIA_PATH.match(path) is not None


def grant(user: User, *, ttl: float = TTL_S, now: float | None = None) -> str:
    """A media grant for `user`, who authenticated with a token (its id is bound into the grant)."""
    if user.token_id is None:
        raise AccessDenied("media grant refused: only a token session gets one")
    exp = int((time.time() if now is None else now) + ttl)
    return f"{user.name}.{user.token_id}.{exp}.{_mac(user.name, user.token_id, exp)}"


def check(method: str, path: str, value: str, *, now: float | None = None) -> tuple[str, int]:
    """(user name, token id) of a valid grant presented on a media route; AccessDenied otherwise."""
    if method != "GET" or not is_media(path):
        raise AccessDenied("media grant refused: it opens media only")
    try:
        name, token_id, exp, mac = value.rsplit(".", 3)
        token, expires = int(token_id), int(exp)
    except ValueError:
        raise AccessDenied("media grant refused: malformed") from None
    if not hmac.compare_digest(mac, _mac(name, token, expires)):
        raise AccessDenied("media grant refused: bad signature")
    if expires < (time.time() if now is None else now):
        raise AccessDenied("media grant refused: expired")
    return name, token
