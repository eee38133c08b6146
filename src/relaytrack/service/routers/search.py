"""Search by description (Korean/English free text, parsed and shown back), by photo and by sighting."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from relaytrack.errors import InputError, NotFound
from relaytrack.evidence import access as acc
from relaytrack.evidence.guard import check_text, check_upload
from relaytrack.search import engine
from relaytrack.search.query import parse_iso, parse_text
from relaytrack.service import localize
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import Filters, SearchOut, SightingSearchIn, TextSearchIn

router = APIRouter(prefix="/api/search", tags=["search"])


def thumb_url(sid: int) -> str:
    return f"/api/sightings/{sid}/thumbnail"


def _filters(f: Filters) -> engine.Filters:
    return engine.Filters(
        time_from=parse_iso(f.time_from, "time_from") if f.time_from else None,
        time_to=parse_iso(f.time_to, "time_to") if f.time_to else None,
        cameras=list(f.cameras),
        kind=f.kind,
    )


def _out(res: engine.SearchResult, parsed: Any | None = None) -> dict[str, Any]:
    """The answer; `parsed` (a parsed description) is shown back as a sentence in the caller's language."""
    out = {
        "query": res.query,
        "parsed": None,
        "message": res.message,
        "stats": res.stats,
        "hits": [{**h.public(), "thumbnail": thumb_url(h.sighting.id)} for h in res.hits],
    }
    return localize.search_out(out, parsed)


def _run(a: Access, detail: dict, fn: Callable[[int], engine.SearchResult], top: int) -> engine.SearchResult:
    """Run a search through the case gate (`fn(k)` searches for k results); log its result ids, or its error
    (then re-raise), as the CLI does."""
    try:
        # Another case's evidence (on its legal hold) is not shown here, as every other read refuses it.
        res, grant = acc.case_search(a.ctx, fn, top)
    except (InputError, NotFound) as err:
        a.log({**detail, "error": str(err)}, [], outcome="error")
        raise
    a.log(
        {**detail, "query": res.query, "message": res.message, "withheld": len(grant.withheld)},
        [h.sighting.id for h in res.hits],
    )
    return res


@router.post("/text", response_model=SearchOut)
def search_text(body: TextSearchIn, a: Annotated[Access, Depends(need("search"))]) -> dict:
    """Ranked sightings for a description ("빨간 상의에 검은 바지, 백팩" / "red top, black trousers, backpack")."""
    check_text(
        body.text,
        "description",
        conn=a.conn,
        db_path=a.store.path,
        user=a.user.name,
        case=a.case,
        action="search",
    )
    detail = {"endpoint": "POST /api/search/text", **body.model_dump(exclude_none=True)}
    holder: dict[str, Any] = {}

    def fn(k: int) -> engine.SearchResult:
        q = parse_text(body.text)
        holder["q"] = q
        return engine.search_description(a.conn, q, top=k, filters=_filters(body))

    res = _run(a, detail, fn, body.top)
    return _out(res, holder["q"])


@router.post("/sighting", response_model=SearchOut)
def search_sighting(body: SightingSearchIn, a: Annotated[Access, Depends(need("search"))]) -> dict:
    """Sightings that look like a stored one (appearance and attributes), itself left out."""
    a.check_ids([body.sighting])
    detail = {"endpoint": "POST /api/search/sighting", **body.model_dump(exclude_none=True)}
    res = _run(
        a,
        detail,
        lambda k: engine.search_sighting(a.conn, body.sighting, top=k, filters=_filters(body)),
        body.top,
    )
    return _out(res)


@router.post("/photo", response_model=SearchOut)
def search_photo(
    a: Annotated[Access, Depends(need("search"))],
    file: Annotated[UploadFile, File(description="JPEG or PNG photo/crop of the suspect")],
    top: Annotated[int, Form(ge=1, le=200)] = 20,
) -> dict:
    """Nearest sightings to the largest person in an uploaded photo (size-limited, JPEG/PNG only)."""
    limit = a.cfg.upload_limit
    data = file.file.read(limit + 1)
    check_upload(
        data, limit, conn=a.conn, db_path=a.store.path, user=a.user.name, case=a.case, action="search"
    )
    detail = {
        "endpoint": "POST /api/search/photo",
        "bytes": len(data),
        "top": top,
        "filename": (file.filename or "")[:64],
    }
    fd, tmp = tempfile.mkstemp(suffix=".img", prefix="rt-query-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        res = _run(
            a,
            detail,
            lambda k: engine.search_example(
                a.conn, engine.embed_image(tmp, conn=a.conn), top=k, filters=engine.Filters(kind="person")
            ),
            top,
        )
    finally:
        os.unlink(tmp)
    return _out(res)
