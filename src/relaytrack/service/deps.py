"""Dependencies shared by every router: the store (one connection per worker thread), the caller's identity
(bearer token), the case they act for, and the authorisation of one action.

The service never has a second, weaker path to the data: each route that returns or changes data depends on
`need(action)`, which authenticates the token (401 without one), then calls
`relaytrack.evidence.access.authorize` with the user's role and case exactly as the CLI does (refusals are
logged there), and hands the route an `Access` whose `log()` writes the audit entry of what it returned.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from relaytrack.errors import AccessDenied, StoreBusy
from relaytrack.evidence import access as acc
from relaytrack.evidence.auth import User, authenticate_token, user_of_token_id
from relaytrack.evidence.mask import MaskSettings
from relaytrack.service import media
from relaytrack.store import Store

MAX_CASE_LEN = 64


@dataclass
class ServiceConfig:
    """What the app factory was given; kept on app.state.cfg."""

    db: Path | str  # a SQLite file or a postgresql:// URL
    export_root: Path
    mask: MaskSettings | None = None  # None: the exporter's defaults (detection pass and faces on)
    upload_limit: int = 8 * 1024 * 1024
    alert_poll_s: float = 1.0
    keepalive_s: float = 15.0
    clip_roots: list[Path] = field(default_factory=list)  # folders alert clips may be read from
    pursuit_cameras: Path | None = None  # the cameras file of pursuits started from the console


class StorePool:
    """Open Stores lent to one request at a time. SQLite connections are cheap and WAL lets readers run
    beside the one writer, but a connection must never be shared by two requests at once: the audit chain
    joins whatever transaction is open on its connection (and FastAPI may run a request's dependencies and
    its endpoint on different worker threads, so thread-local connections are not enough)."""

    # On PostgreSQL each Store is a server connection: the pool is bounded so that many console users share a
    # few connections (a request waits up to `wait_s` for one, then gets "store busy", 503).
    def __init__(self, path: Path | str, max_open: int = 16, wait_s: float = 10.0) -> None:
        self.path = path
        self.max_open = max_open
        self.wait_s = wait_s
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self._all: list[Store] = []
        self._lock = threading.Lock()
        self._idle.put(self._open())  # create and migrate once, up front

    def _open(self) -> Store:
        s = Store(self.path)
        with self._lock:
            self._all.append(s)
        return s

    def acquire(self) -> Store:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            room = len(self._all) < self.max_open
        if room:
            return self._open()
        try:
            return self._idle.get(timeout=self.wait_s)
        except queue.Empty:
            raise StoreBusy(f"all {self.max_open} store connections busy for {self.wait_s:g} s") from None

    def release(self, s: Store) -> None:
        if s.conn.in_transaction:  # a request that failed half-way: nothing of it is kept
            s.conn.execute("ROLLBACK")
        self._idle.put(s)

    @contextmanager
    def lend(self) -> Iterator[Store]:
        s = self.acquire()
        try:
            yield s
        finally:
            self.release(s)

    def close(self) -> None:
        with self._lock:
            for s in self._all:
                try:
                    s.close()
                except Exception:  # noqa: BLE001 - closing at shutdown, nothing left to do with an error
                    pass
            self._all.clear()


def request_store(request: Request) -> Iterator[Store]:
    """The store lent to this request (FastAPI caches it, so all of a request's dependencies share it)."""
    with request.app.state.pool.lend() as s:
        yield s


def get_cfg(request: Request) -> ServiceConfig:
    return request.app.state.cfg


bearer = HTTPBearer(auto_error=False, description="API token from POST /api/auth/login")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def client_of(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy: what Uvicorn's --forwarded-allow-ips trusts)."""
    return request.client.host if request.client is not None else "unknown"


def current_user(
    request: Request,
    store: Annotated[Store, Depends(request_store)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> User:
    """The caller, by bearer token; media routes also take a short-lived signed grant (relaytrack.service.media).
    A token is never read from the query string: URLs end up in logs, histories and Referer headers."""
    try:
        grant = request.query_params.get(media.PARAM)
        if creds is None and grant:
            name, token_id = media.check(request.method, request.url.path, grant)
            user = user_of_token_id(store.conn, token_id, name)
        elif creds is None or not creds.credentials:
            raise _unauthorized(
                "authentication required: send Authorization: Bearer <token> (POST /api/auth/login)"
            )
        else:
            user = authenticate_token(
                store.conn, creds.credentials, db_path=store.path, client=client_of(request)
            )
    except AccessDenied as err:
        raise _unauthorized(str(err)) from None
    request.state.user = user
    return user


def current_case(
    x_case: Annotated[str | None, Header(alias="X-Case", max_length=MAX_CASE_LEN)] = None,
    case: Annotated[str | None, Query(max_length=MAX_CASE_LEN, description="Case number (or X-Case)")] = None,
) -> str | None:
    return x_case or case or None


@dataclass
class Access:
    """An authorised caller: the store, the user, the case and the audit context of the action."""

    store: Store
    user: User
    case: str | None
    ctx: acc.AccessContext
    cfg: ServiceConfig

    @property
    def conn(self) -> Any:
        return self.store.conn

    def log(
        self,
        detail: dict | None = None,
        result_ids: list | None = None,
        *,
        outcome: str = "ok",
        action: str | None = None,
    ) -> int:
        return self.ctx.log(detail=detail, result_ids=result_ids, outcome=outcome, action=action)

    def check_ids(self, ids: list[int]) -> None:
        """Refuse (and log) sightings that another case holds or that do not exist (the one gate,
        relaytrack.evidence.access.authorize_sightings, as the CLI uses it)."""
        acc.authorize_sightings(self.ctx, ids)

    def grant(self, ids: list[int], *, record: bool = True) -> acc.SightingGrant:
        """The same gate for lists and video: which of `ids` this case may see, which it may not."""
        return acc.authorize_sightings(self.ctx, ids, partial=True, record=record)


def authorize_user(
    store: Store, user: User, case: str | None, action: str, detail: dict | None, cfg: ServiceConfig
) -> Access:
    ctx = acc.authorize(store.conn, store.path, user=user.name, case=case, action=action, detail=detail)
    return Access(store, user, case, ctx, cfg)


def need(action: str) -> Callable[..., Access]:
    """Dependency: the caller authenticated and authorised for `action` on their case (403 when refused)."""

    def dep(
        request: Request,
        store: Annotated[Store, Depends(request_store)],
        user: Annotated[User, Depends(current_user)],
        case: Annotated[str | None, Depends(current_case)],
    ) -> Access:
        return authorize_user(
            store, user, case, action, {"endpoint": f"{request.method} {request.url.path}"}, get_cfg(request)
        )

    dep.__name__ = f"need_{action}"
    return dep
