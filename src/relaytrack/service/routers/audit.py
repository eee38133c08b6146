"""The audit view: entries (filtered), one case's chain, verification. Supervisors read every case's trail;
auditors and agency users only the trails of cases they are assigned to (relaytrack.evidence.access)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from relaytrack.evidence import access as acc
from relaytrack.evidence import audit
from relaytrack.service import localize, queries
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import MAX_ID, AuditChainEntryOut, AuditEntryOut, AuditVerifyOut

router = APIRouter(prefix="/api/audit", tags=["audit"])


def _refuse(a: Access, case_no: str) -> None:
    a.log({"reason": f"not assigned to case {case_no}", "of_case": case_no}, outcome="denied")
    raise HTTPException(403, f"audit refused: user {a.user.name!r} is not assigned to case {case_no!r}")


@router.get("", response_model=list[AuditEntryOut])
def entries(
    a: Annotated[Access, Depends(need("audit"))],
    of_case: Annotated[str | None, Query(max_length=64, description="Only this case's entries")] = None,
    of_user: Annotated[str | None, Query(max_length=64)] = None,
    of_action: Annotated[str | None, Query(max_length=32)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Entries older than this seq")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict]:
    """Audit entries, newest first (a reader bound to their cases sees only those cases' entries)."""
    cases = acc.audit_cases(a.conn, a.user.name, a.user.role)
    if of_case is not None and cases is not None and of_case not in cases:
        _refuse(a, of_case)
    out = queries.audit_entries(
        a.conn, case=of_case, user=of_user, action=of_action, before=before, limit=limit, cases=cases
    )
    a.log(
        {
            "endpoint": "GET /api/audit",
            "of_case": of_case,
            "of_user": of_user,
            "of_action": of_action,
            "entries": len(out),
        }
    )
    return localize.audit_rows(a.conn, out)  # each entry also as a sentence: who, which case, what


@router.get("/verify", response_model=AuditVerifyOut)
def verify(a: Annotated[Access, Depends(need("audit"))]) -> dict:
    """Walk the hash chain (and MACs with this installation's key); the first bad entry, if any."""
    res = audit.verify(a.conn, a.store.path)
    a.log({"endpoint": "GET /api/audit/verify", "ok": res.ok, "entries": res.entries})
    return res.__dict__


@router.get("/case/{case_no}", response_model=list[AuditChainEntryOut])
def case_chain(
    case_no: Annotated[str, Path(min_length=1, max_length=64)], a: Annotated[Access, Depends(need("audit"))]
) -> list[dict]:
    """Every entry of one case in chain order, with hashes (for a court)."""
    cases = acc.audit_cases(a.conn, a.user.name, a.user.role)
    if cases is not None and case_no not in cases:
        _refuse(a, case_no)
    out = audit.export_case(a.conn, case_no)
    a.log({"endpoint": "GET /api/audit/case/{no}", "of_case": case_no, "entries": len(out)})
    return out
