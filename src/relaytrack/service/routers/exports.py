"""Evidence exports of the acting case: a route, sightings or an agency request, cut from the original
footage with everyone but the target masked, sealed and signed (relaytrack.evidence.export); list, verify
and download a package's files (names checked against path traversal)."""

from __future__ import annotations

import threading
import time
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, StreamingResponse

from relaytrack.errors import InputError
from relaytrack.evidence import export as ex
from relaytrack.evidence.guard import file_token, safe_join
from relaytrack.evidence.hops import check_source, select_hops
from relaytrack.evidence.package import verify_package
from relaytrack.relay.persist import latest_route
from relaytrack.service import queries
from relaytrack.service.deps import Access, need
from relaytrack.service.export_jobs import ExportJobs, export_answer, zip_stream
from relaytrack.service.schemas import MAX_ID, ExportCreatedOut, ExportIn, ExportOut, ExportVerifyOut, View

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
    return export_answer(res)


class ExportJobOut(View):
    """A background export: its progress in frames, and once done the export (as POST /api/exports returns
    it), or why it failed."""

    job: str
    state: str
    frames_done: int
    frames_total: int
    percent: float
    export_id: int | None
    result: dict | None
    error: str | None
    elapsed_s: float


_jobs_lock = threading.Lock()


def _jobs(request: Request) -> ExportJobs:
    with _jobs_lock:
        if not hasattr(request.app.state, "export_jobs"):
            request.app.state.export_jobs = ExportJobs()
        return request.app.state.export_jobs


@router.post("/jobs", response_model=ExportJobOut, status_code=201)
def start_export(body: ExportIn, request: Request, a: Annotated[Access, Depends(need("export"))]) -> dict:
    """Start an export in the background (the hops are chosen now, so a bad request fails now); poll
    GET /api/exports/jobs/{job} for its progress, then download the package."""
    hops = _hops(a, body)
    job = _jobs(request).start(request.app.state.pool, a.cfg, a.user.name, str(a.case), hops, body)
    a.log({"endpoint": "POST /api/exports/jobs", "job": job.id, "hops": len(hops), "frames": job.total})
    return job.view()


@router.get("/jobs/{job_id}", response_model=ExportJobOut)
def export_job(
    job_id: Annotated[str, Path(min_length=32, max_length=32, pattern="^[0-9a-f]+$")],
    request: Request,
    a: Annotated[Access, Depends(need("export"))],
) -> dict:
    """A background export's progress (only for the user and case that started it)."""
    job = _jobs(request).get(job_id, a.user.name, a.case)
    if job is None:
        raise HTTPException(404, f"export job {job_id} not found")
    return job.view()


@router.get(
    "/{export_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The package as one ZIP"}},
)
def download_export(export_id: ExportId, a: Annotated[Access, Depends(need("export"))]) -> StreamingResponse:
    """The whole package as a ZIP, for the browser to save (written as it is sent)."""
    exp = _export_of_case(a, export_id)
    package = FsPath(exp["package"])
    if not package.is_dir():
        raise HTTPException(404, f"export {export_id} not found")
    a.log({"endpoint": "GET /api/exports/{id}/download"}, [export_id])
    return StreamingResponse(
        zip_stream(package),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{file_token(package.name)}.zip"'},
    )


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
