"""The case folder (issue 19 item 5): GET /api/cases/{no}/folder lists what was done in a case in time order
(searches, routes, verdicts, notes, exports); POST /api/cases/{no}/notes adds a note.

Both go through the case gate: the caller acts for the case (X-Case), is assigned to it (or a supervisor:
`relaytrack.evidence.access.authorize` for "view"), and has a role that works cases (one that may search:
an agency or auditor does not read an investigation's working steps). A folder asked for another case than
the one the caller acts for is refused (403) and logged; every view of a folder is audited."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from relaytrack.evidence.access import PERMISSIONS
from relaytrack.evidence.notes import add_note, notes_of
from relaytrack.service import queries
from relaytrack.service.deps import Access, need
from relaytrack.service.folder import CaseFolderOut, NoteIn, NoteOut, case_folder

router = APIRouter(prefix="/api/cases", tags=["cases"])
CaseNo = Annotated[str, Path(min_length=1, max_length=64)]


def _gate(a: Access, case_no: str, endpoint: str) -> dict[str, Any]:
    """The case, when the caller may work in it; else the refusal is logged and raised."""
    reason = None
    if "search" not in PERMISSIONS.get(a.ctx.role, frozenset()):
        reason = f"role {a.ctx.role!r} has no case folder"
    elif case_no != a.case:
        reason = f"acting for {a.case}, asked {case_no}"
    if reason is not None:
        a.log({"endpoint": endpoint, "asked": case_no, "reason": reason}, outcome="denied")
        raise HTTPException(403, f"case folder of {case_no} refused: {reason}")
    case = queries.get_case(a.conn, case_no)
    if case is None:  # authorize already refused an unknown case; kept for a case deleted in between
        raise HTTPException(404, f"case {case_no} not found")
    return case


def _jobs_of(request: Request, case_no: str) -> list[dict[str, Any]]:
    """The service's background export jobs of this case (routers.exports keeps the registry)."""
    reg = getattr(request.app.state, "export_jobs", None)
    if reg is None:
        return []
    with reg.lock:
        jobs = [j for j in reg.jobs.values() if j.case == case_no]
    return [{**j.view(), "user": j.user, "started": j.started} for j in jobs]


@router.get("/{case_no}/folder", response_model=CaseFolderOut)
def folder(case_no: CaseNo, request: Request, a: Annotated[Access, Depends(need("view"))]) -> dict:
    """What was done in the case, oldest first: searches (query, who, hits), relay routes (origin, hops),
    confirm/reject verdicts, notes and exports (status, download link)."""
    endpoint = "GET /api/cases/{no}/folder"
    case = _gate(a, case_no, endpoint)
    out = case_folder(a.conn, case, _jobs_of(request, case_no))
    a.log({"endpoint": endpoint, "items": len(out["items"]), **{k: v for k, v in out["counts"].items() if v}})
    return out


@router.post("/{case_no}/notes", response_model=NoteOut, status_code=201)
def add_case_note(case_no: CaseNo, body: NoteIn, a: Annotated[Access, Depends(need("view"))]) -> dict:
    """Write a note in the case (kept in the folder, never edited or deleted)."""
    endpoint = "POST /api/cases/{no}/notes"
    _gate(a, case_no, endpoint)
    with a.store.tx() as conn:
        nid = add_note(conn, case_no, a.user.name, body.text)
        a.log({"endpoint": endpoint, "note": nid, "chars": len(body.text)}, [nid], action="case_note")
    return next(asdict(n) for n in notes_of(a.conn, case_no) if n.id == nid)
