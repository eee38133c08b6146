"""Log in (password -> API token), log out (revoke it), who am I (role, permissions, cases), and a short-lived
media grant for URLs that cannot carry a header (relaytrack.service.media).

Failed logins are delayed per client (429 with Retry-After while a client must wait) and answered with one
message whatever the reason (relaytrack.evidence.auth, relaytrack.evidence.throttle)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from relaytrack.errors import AccessDenied
from relaytrack.evidence import audit
from relaytrack.evidence.auth import User, login, revoke_token, user_of
from relaytrack.evidence.throttle import Throttled
from relaytrack.service import media, queries
from relaytrack.service.deps import client_of, current_user, request_store
from relaytrack.service.schemas import LoginIn, LoginOut, LogoutOut, MediaGrantOut, MeOut
from relaytrack.store import Store

StoreDep = Annotated[Store, Depends(request_store)]
router = APIRouter(prefix="/api", tags=["auth"])


def _me(conn, user: User) -> dict:
    cases = queries.cases_of(conn, user.name, user.role)
    return {
        "user": user.name,
        "role": user.role,
        "agency": user.agency,
        "permissions": queries.permissions(user.role),
        "cases": cases,
        **queries.console_of(user.role, cases),
    }


@router.post(
    "/auth/login",
    response_model=LoginOut,
    responses={
        401: {"description": "Wrong user name or password"},
        429: {"description": "Wait (Retry-After)"},
    },
)
def login_route(body: LoginIn, request: Request, store: StoreDep) -> dict:
    """Check the password (argon2id; repeated failures slow down the client, never lock the account) and return
    a fresh API token."""
    try:
        token = login(
            store.conn,
            body.user,
            body.password,
            hours=body.hours,
            db_path=store.path,
            client=client_of(request),
        )
    except Throttled as err:
        raise HTTPException(429, str(err), headers={"Retry-After": str(err.retry_after)}) from None
    except AccessDenied as err:
        raise HTTPException(401, str(err), headers={"WWW-Authenticate": "Bearer"}) from None
    user = user_of(store.conn, body.user)
    if user is None:  # removed between the login and this read
        raise HTTPException(401, f"user {body.user!r} not found", headers={"WWW-Authenticate": "Bearer"})
    return {"token": token, "expires_in_h": body.hours, **_me(store.conn, user)}


@router.post("/auth/logout", response_model=LogoutOut)
def logout_route(store: StoreDep, user: Annotated[User, Depends(current_user)]) -> dict:
    """Revoke the token this request was made with."""
    revoke_token(store.conn, user.token_id, by=user.name, db_path=store.path)
    return {"revoked": user.token_id}


@router.post("/auth/media-grant", response_model=MediaGrantOut)
def media_grant_route(
    store: StoreDep, user: Annotated[User, Depends(current_user)], request: Request
) -> dict:
    """A grant for media URLs (`mg=`): media routes only, valid for minutes and while this token is."""
    if request.query_params.get(media.PARAM):  # a grant does not buy another grant
        raise HTTPException(401, "media grant refused: send the bearer token")
    return {"grant": media.grant(user), "expires_in_s": int(media.TTL_S)}


@router.get("/me", response_model=MeOut)
def me_route(store: StoreDep, user: Annotated[User, Depends(current_user)]) -> dict:
    """The caller's role, permissions and the cases they may act for."""
    out = _me(store.conn, user)
    audit.append(
        store.conn,
        store.path,
        user=user.name,
        case=None,
        action="session",
        detail={"endpoint": "GET /api/me", "cases": len(out["cases"])},
    )
    return out
