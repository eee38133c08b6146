"""Agency requests: file, approve or refuse (with reasons), deliver an export, record the outcome; monthly
statistics. Each transition is authorised and logged by relaytrack.evidence.requests itself."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse

from relaytrack.evidence import requests as rq
from relaytrack.evidence.auth import User
from relaytrack.service import queries
from relaytrack.service.deps import Access, current_case, current_user, need, request_store
from relaytrack.service.schemas import (
    MAX_ID,
    DecisionIn,
    DeliverIn,
    OutcomeIn,
    RefuseIn,
    RequestIn,
    RequestOut,
    RequestStatsOut,
)
from relaytrack.store import Store

StoreDep = Annotated[Store, Depends(request_store)]
router = APIRouter(prefix="/api/requests", tags=["requests"])
ReqId = Annotated[int, Path(ge=1, le=MAX_ID)]
Authed = Annotated[User, Depends(current_user)]


@router.get("", response_model=list[RequestOut])
def list_requests(a: Annotated[Access, Depends(need("request"))]) -> list[dict]:
    """Requests the caller may see: all (supervisor), their own (agency), their cases' (others)."""
    out = queries.requests_for(a.conn, a.user.name, a.user.role)
    a.log({"endpoint": "GET /api/requests", "requests": len(out)}, [r["id"] for r in out])
    return out


@router.get(
    "/stats",
    response_model=list[RequestStatsOut],
    responses={200: {"content": {"text/csv": {}}, "description": "JSON rows, or CSV with `fmt=csv`"}},
)
def request_stats(
    a: Annotated[Access, Depends(need("stats"))],
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    fmt: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
):
    """Requests and deliveries per month by agency (drug-related counts, outcomes), JSON or CSV."""
    rows = rq.stats(a.conn, month)
    a.log({"endpoint": "GET /api/requests/stats", "month": month, "rows": len(rows)})
    if fmt == "csv":
        return PlainTextResponse(rq.stats_csv(rows), media_type="text/csv")
    return rows


@router.post("", response_model=RequestOut, status_code=201)
def file_request(
    body: RequestIn, store: StoreDep, user: Authed, case: Annotated[str | None, Depends(current_case)]
) -> dict:
    """File a request for footage (agency, purpose, cameras, time range) on the acting case."""
    rid = rq.add(
        store.conn,
        store.path,
        user=user.name,
        case=case,
        agency=body.agency,
        purpose=body.purpose,
        cameras=body.cameras,
        start=body.start,
        end=body.end,
        drug_related=body.drug_related,
    )
    return queries.request_out(store.conn, rid)


@router.post("/{request_id}/approve", response_model=RequestOut)
def approve(request_id: ReqId, body: DecisionIn, store: StoreDep, user: Authed) -> dict:
    """Approve (supervisor; never one's own request)."""
    rq.approve(store.conn, store.path, request_id, user=user.name, note=body.note)
    return queries.request_out(store.conn, request_id)


@router.post("/{request_id}/refuse", response_model=RequestOut)
def refuse(request_id: ReqId, body: RefuseIn, store: StoreDep, user: Authed) -> dict:
    """Refuse with a reason (supervisor)."""
    rq.refuse(store.conn, store.path, request_id, user=user.name, reason=body.reason)
    return queries.request_out(store.conn, request_id)


@router.post("/{request_id}/deliver", response_model=RequestOut)
def deliver(request_id: ReqId, body: DeliverIn, store: StoreDep, user: Authed) -> dict:
    """Deliver an export package of the request's case (verified before it is recorded)."""
    exp = queries.export_row(store.conn, body.export_id)
    if exp is None:
        raise HTTPException(404, f"export {body.export_id} not found")
    rq.deliver(store.conn, store.path, request_id, user=user.name, package=FsPath(exp["package"]))
    return queries.request_out(store.conn, request_id)


@router.post("/{request_id}/outcome", response_model=RequestOut)
def outcome(request_id: ReqId, body: OutcomeIn, store: StoreDep, user: Authed) -> dict:
    """Record what the footage led to (arrest, evidence used, ...)."""
    rq.record_outcome(
        store.conn, store.path, request_id, user=user.name, outcome=body.outcome, note=body.note
    )
    return queries.request_out(store.conn, request_id)
