"""The case folder (issue 19 item 5): what was done in one case, in time order, read from what the stages
already keep (nothing is copied): searches from the audit log (query, who, when, how many hits), relay routes
from relay_routes (origin, hops) and their confirm/reject verdicts from the audit log, the case's notes
(evidence.notes), finished exports from the exports table (with their download link) and the service's
background export jobs still running or failed.

Items carry data and closed-set codes (`kind`, `search_kind`, `verdict`, `status`); the console words them in
its language (static/i18n.js, `folder.*`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from relaytrack.evidence import audit
from relaytrack.evidence.notes import MAX_NOTE, notes_of
from relaytrack.i18n import tr
from relaytrack.relay import persist
from relaytrack.service import queries
from relaytrack.service.redact import scrub_paths
from relaytrack.service.schemas import CaseOut, Strict, View

KINDS = ("search", "route", "verdict", "note", "export")
MAX_ENTRIES = 500  # audit entries of each action read back (the newest)


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=MAX_NOTE, description="The note (plain text)")


class NoteOut(View):
    id: int
    case: str
    user: str | None
    text: str
    created_at: float


class FolderItemOut(View):
    """One thing done in the case. `kind` says which fields are set."""

    kind: Literal["search", "route", "verdict", "note", "export"]
    at: float = Field(description="When (epoch seconds; the console shows Seoul time)")
    user: str | None = None
    # search
    search_kind: Literal["text", "sighting", "photo"] | None = None
    query: str | None = Field(None, description="The description searched for (search_kind text)")
    sighting: int | None = Field(None, description="The sighting searched by (find similar)")
    hits: int | None = None
    # route and verdict
    route_id: int | None = None
    origin: int | None = None
    hops: int | None = None
    verdict: Literal["confirm", "reject"] | None = None
    sightings: list[int] = []
    # note
    note_id: int | None = None
    text: str | None = None
    # export: done (a package, with its download link), running or failed (a background job)
    export_id: int | None = None
    status: Literal["done", "running", "failed"] | None = None
    percent: float | None = None
    download: str | None = None
    manifest_sha256: str | None = None
    error: str | None = None


class CaseFolderOut(View):
    case: CaseOut
    items: list[FolderItemOut] = Field(description="Oldest first")
    counts: dict[str, int] = Field(description="Items of each kind")


def _ints(xs: Any) -> list[int]:
    return [int(x) for x in xs or [] if isinstance(x, int) and not isinstance(x, bool)]


def _search_item(e: audit.AuditEntry) -> dict[str, Any] | None:
    d = e.detail
    q = d.get("query") if isinstance(d.get("query"), dict) else {}
    if "query" not in d and not d.get("text"):
        return None  # a search-permission action that was not a search
    item: dict[str, Any] = {"kind": "search", "at": e.ts, "user": e.user, "hits": len(e.result_ids)}
    if d.get("text"):
        item.update(search_kind="text", query=str(d["text"]))
    elif d.get("sighting") or q.get("sighting"):
        item.update(search_kind="sighting", sighting=int(d.get("sighting") or q.get("sighting")))
    else:
        item.update(search_kind="photo")
    return item


def _verdict_item(e: audit.AuditEntry) -> dict[str, Any] | None:
    d = e.detail
    if d.get("verdict") not in ("confirm", "reject"):
        return None
    origin = d.get("origin")
    return {
        "kind": "verdict",
        "at": e.ts,
        "user": e.user,
        "verdict": d["verdict"],
        "origin": int(origin) if isinstance(origin, int) else None,
        "sightings": _ints(e.result_ids),
    }


def case_folder(conn: Any, case: dict[str, Any], jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """The folder of `case` (a queries.get_case row); `jobs` are the case's background export jobs
    (ExportJob.view() plus "user" and "started")."""
    case_no = case["case_no"]
    items: list[dict[str, Any]] = []
    for e in audit.entries(conn, case=case_no, action="search", limit=MAX_ENTRIES):
        if e.outcome == "ok" and (it := _search_item(e)) is not None:
            items.append(it)
    for e in audit.entries(conn, case=case_no, action="relay", limit=MAX_ENTRIES):
        if e.outcome == "ok" and (it := _verdict_item(e)) is not None:
            items.append(it)
    for r in persist.routes_of_case(conn, case_no, limit=MAX_ENTRIES):
        items.append(
            {
                "kind": "route",
                "at": r.created_at,
                "user": r.user,
                "route_id": r.id,
                "origin": r.origin,
                "hops": r.hops,
            }
        )
    for n in notes_of(conn, case_no):
        items.append({"kind": "note", "at": n.created_at, "user": n.user, "note_id": n.id, "text": n.text})
    for x in queries.exports_of_case(conn, case_no):
        items.append(
            {
                "kind": "export",
                "at": x["created_at"],
                "user": x["user"],
                "export_id": x["id"],
                "status": "done",
                "percent": 100.0,
                "download": f"/api/exports/{x['id']}/download",
                "manifest_sha256": x["manifest_sha256"],
                "sightings": _ints(x["sightings"]),
            }
        )
    for j in jobs:
        if j["state"] in ("running", "failed"):
            items.append(
                {
                    "kind": "export",
                    "at": j["started"],
                    "user": j["user"],
                    "status": j["state"],
                    "percent": j["percent"],
                    "error": scrub_paths(tr(j["error"])) if j["error"] else None,
                }
            )
    order = {k: i for i, k in enumerate(KINDS)}
    items.sort(key=lambda it: (float(it["at"] or 0.0), order[it["kind"]]))
    counts = {k: sum(1 for it in items if it["kind"] == k) for k in KINDS}
    return {"case": case, "items": items, "counts": counts}
