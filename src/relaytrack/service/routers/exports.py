"""Evidence exports of the acting case: a route, sightings or an agency request, cut from the original
footage with everyone but the target masked, sealed and signed (relaytrack.evidence.export); list, verify
and download a package's files (names checked against path traversal)."""

from __future__ import annotations

import time
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import FileResponse

from relaytrack.errors import InputError
from relaytrack.evidence import export as ex
from relaytrack.evidence.guard import file_token, safe_join
from relaytrack.evidence.hops import check_source, select_hops
from relaytrack.evidence.package import verify_package
from relaytrack.relay.persist import latest_route
from relaytrack.service import queries
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import MAX_ID, ExportCreatedOut, ExportIn, ExportOut, ExportVerifyOut

router = APIRouter(prefix="/api/exports", tags=["exports"])
ExportId = Annotated[int, Path(ge=1, le=MAX_ID)]


EXPORT_SOURCES = {"route": "`origin` (a route)", "sightings": "`sightings`", "request": "`request_id`"}


def _hops(a: Access, body: ExportIn) -> list[ex.Hop]:
    """The one hop-selection rule of relaytrack.evidence.hops, with the case's latest route for `origin`."""
    check_source(EXPORT_SOURCES, route=body.origin, sightings=body.sightings, request_id=body.request_id)
    route = None
    if body.origin is not None:
        route = latest_route(a.conn, a.case, body.origin)
        if route is None:
            raise InputError(f"no route from sighting {body.origin} in case {a.case}: run the relay first")
    return select_hops(
        a.conn,
        route=route,
        sightings=body.sightings,
        request_id=body.request_id,
        case=a.case,
        names=EXPORT_SOURCES,
    )


@router.post("", response_model=ExportCreatedOut, status_code=201)
def create_export(body: ExportIn, a: Annotated[Access, Depends(need("export"))]) -> dict:
    """Export a signed, masked evidence package; the exporter authorises and logs it again itself."""
    hops = _hops(a, body)
    name = f"{file_token(a.case)}-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 1_000_000:06d}"
    a.cfg.export_root.mkdir(parents=True, exist_ok=True)
    res = ex.export_evidence(
        a.store,
        FsPath(name),
        hops,
        user=a.user.name,
        case=a.case,
        pre_roll=body.pre_roll,
        post_roll=body.post_roll,
        settings=a.cfg.mask,
        export_root=a.cfg.export_root,
        request_id=body.request_id,
    )
    out = res.as_dict()
    out["files"] = sorted(str(p.relative_to(res.path)) for p in res.path.rglob("*") if p.is_file())
    return out


@router.get("", response_model=list[ExportOut])
def list_exports(a: Annotated[Access, Depends(need("export"))]) -> list[dict]:
    """Exports of the acting case."""
    out = queries.exports_of_case(a.conn, a.case)
    a.log({"endpoint": "GET /api/exports", "exports": len(out)}, [e["id"] for e in out])
    return out


def _export_of_case(a: Access, export_id: int) -> dict:
    exp = queries.export_row(a.conn, export_id)
    if exp is None:
        raise HTTPException(404, f"export {export_id} not found")
    if exp["case"] != a.case:
        a.log({"reason": f"export {export_id} belongs to another case"}, [export_id], outcome="denied")
        raise HTTPException(403, f"export {export_id} belongs to another case")
    return exp


@router.get("/{export_id}/verify", response_model=ExportVerifyOut)
def verify_export(export_id: ExportId, a: Annotated[Access, Depends(need("export"))]) -> dict:
    """Re-check the package: every file's SHA-256 against the signed manifest."""
    exp = _export_of_case(a, export_id)
    res = verify_package(FsPath(exp["package"]))
    a.log({"endpoint": "GET /api/exports/{id}/verify", "ok": res.ok}, [export_id])
    return res.as_dict()


@router.get(
    "/{export_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes"}},
)
def export_file(
    export_id: ExportId,
    a: Annotated[Access, Depends(need("export"))],
    name: Annotated[str, Query(min_length=1, max_length=200, description="Relative path inside the package")],
) -> FileResponse:
    """One file of a package (manifest.json, hops/01_<cam>/view.mp4, ...)."""
    exp = _export_of_case(a, export_id)
    path = safe_join(
        FsPath(exp["package"]),
        name,
        "package file",
        conn=a.conn,
        db_path=a.store.path,
        user=a.user.name,
        case=a.case,
        action="export",
    )
    if not path.is_file():
        raise HTTPException(404, f"export {export_id} has no file {name!r}")
    a.log({"endpoint": "GET /api/exports/{id}/file", "file": name}, [export_id])
    return FileResponse(path, filename=path.name)
