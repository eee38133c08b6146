"""Case management for supervisors: list, open, assign members, close or release the legal hold; the
case's routes and users for member picking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path

from relaytrack.evidence import access as acc
from relaytrack.service import queries
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import CaseIn, CaseOut, CaseStatusIn, MemberIn, RouteSummaryOut, UserOut

router = APIRouter(prefix="/api", tags=["cases"])
CaseNo = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/cases", response_model=list[CaseOut])
def list_cases(a: Annotated[Access, Depends(need("case_admin"))]) -> list[dict]:
    """Every case with its members (supervisors; others see their cases in GET /api/me)."""
    out = queries.cases_of(a.conn, a.user.name, "supervisor")
    a.log({"endpoint": "GET /api/cases", "cases": len(out)})
    return out


@router.post("/cases", response_model=CaseOut, status_code=201)
def create_case(body: CaseIn, a: Annotated[Access, Depends(need("case_admin"))]) -> dict:
    """Open a case (number, legal basis such as a warrant, purpose) with its members."""
    if queries.get_case(a.conn, body.case_no) is not None:
        raise HTTPException(409, f"case {body.case_no} already exists")
    with a.store.tx() as conn:
        acc.create_case(
            conn,
            body.case_no,
            legal_basis=body.legal_basis,
            purpose=body.purpose,
            created_by=a.user.name,
            members=list(body.members),
        )
        a.log({"endpoint": "POST /api/cases", "created": body.case_no, "members": body.members})
    return queries.get_case(a.conn, body.case_no)


@router.post("/cases/{case_no}/members", response_model=CaseOut)
def add_member(case_no: CaseNo, body: MemberIn, a: Annotated[Access, Depends(need("case_admin"))]) -> dict:
    """Assign a user to a case."""
    with a.store.tx() as conn:
        acc.assign(conn, case_no, body.user)
        a.log({"endpoint": "POST /api/cases/{no}/members", "case": case_no, "assigned": body.user})
    return queries.get_case(a.conn, case_no)


@router.post("/cases/{case_no}/status", response_model=CaseOut)
def set_status(
    case_no: CaseNo, body: CaseStatusIn, a: Annotated[Access, Depends(need("case_admin"))]
) -> dict:
    """Close or reopen a case; set or release its legal hold."""
    with a.store.tx() as conn:
        acc.set_case_status(conn, case_no, status=body.status, legal_hold=body.legal_hold)
        a.log(
            {"endpoint": "POST /api/cases/{no}/status", "case": case_no, **body.model_dump(exclude_none=True)}
        )
    return queries.get_case(a.conn, case_no)


@router.get("/cases/{case_no}/routes", response_model=list[RouteSummaryOut])
def case_routes(case_no: CaseNo, a: Annotated[Access, Depends(need("relay"))]) -> list[dict]:
    """Relay routes computed in a case (the caller must be acting for that case)."""
    if case_no != a.case:
        a.log(
            {"endpoint": "GET /api/cases/{no}/routes", "reason": f"acting for {a.case}, asked {case_no}"},
            outcome="denied",
        )
        raise HTTPException(403, f"routes of case {case_no} refused: you act for case {a.case}")
    out = queries.routes_of_case(a.conn, case_no)
    a.log({"endpoint": "GET /api/cases/{no}/routes"}, [r["origin"] for r in out])
    return out


@router.get("/users", response_model=list[UserOut])
def list_users(a: Annotated[Access, Depends(need("user_admin"))]) -> list[dict]:
    """Users with their roles (to pick case members)."""
    out = queries.users(a.conn)
    a.log({"endpoint": "GET /api/users", "users": len(out)})
    return out
