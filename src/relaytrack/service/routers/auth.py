"""Log in (password -> API token), log out (revoke it), and who am I (role, permissions, cases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from relaytrack.errors import AccessDenied
from relaytrack.evidence import audit
from relaytrack.evidence.auth import User, login, revoke_token, user_of
from relaytrack.service import queries
from relaytrack.service.deps import current_user, request_store
from relaytrack.service.schemas import LoginIn, LoginOut, LogoutOut, MeOut
from relaytrack.store import Store

StoreDep = Annotated[Store, Depends(request_store)]
router = APIRouter(prefix="/api", tags=["auth"])


def _me(conn, user: User) -> dict:
    return {
        "user": user.name,
        "role": user.role,
        "agency": user.agency,
        "permissions": queries.permissions(user.role),
        "cases": queries.cases_of(conn, user.name, user.role),
    }


@router.post("/auth/login", response_model=LoginOut)
def login_route(body: LoginIn, store: StoreDep) -> dict:
    """Check the password (argon2id; five failures lock the account) and return a fresh API token."""
    try:
        token = login(store.conn, body.user, body.password, hours=body.hours, db_path=store.path)
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
