"""The live pursuit in the console (issue 16): the case's pursuits, one pursuit with its events so far, a
server-sent event stream of its events as the running pursuit writes them, the operator's confirm or reject of
a hand-off, and starting and stopping a pursuit.

A pursuit runs `relaytrack.pursue.service.run_pursuit`, in `relaytrack pursue` or in a thread of this service
(POST /api/pursuits, relaytrack.service.pursuit_runs): it writes every event to the store (`pursuit_events`),
reads the operator's verdicts from it (`pursuit_verdicts`, through `take_verdicts`) and beats
(`pursue.control.Heartbeat`). This router reads the one, writes the others and asks for stops in the store,
so a console and the CLI steer the same pursuit wherever it runs. A "running" pursuit with no heartbeat for
longer than `STALE_AFTER_S` is shown as "stale" (its process is gone), derived when read, never written. Every
route is the relay's action on the caller's case (as `relaytrack pursue` is): a pursuit of another case is
refused and the refusal audited, hand-offs another case holds are left out (the one gate,
relaytrack.evidence.access), and every look, start, stop and verdict is in the audit log.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from relaytrack.clock import to_seoul_iso
from relaytrack.errors import AccessDenied
from relaytrack.evidence.auth import User
from relaytrack.i18n import tr
from relaytrack.pursue.control import STALE_AFTER_S, PursuitRow, case_pursuits, read_pursuit, request_stop
from relaytrack.pursue.events import record_verdict, start_pursuit
from relaytrack.service import localize
from relaytrack.service.deps import (
    MAX_CASE_LEN,
    Access,
    authorize_user,
    current_case,
    current_user,
    get_cfg,
    need,
    request_store,
)
from relaytrack.service.pursuit_runs import PursuitStart
from relaytrack.service.redact import scrub_paths
from relaytrack.service.schemas import MAX_ID, Strict, View
from relaytrack.store import Store

router = APIRouter(prefix="/api/pursuits", tags=["pursuits"])
PursuitId = Annotated[int, Path(ge=1, le=MAX_ID)]
TERMINAL = ("ended", "lost")
BATCH = 500  # events read per poll of the store


class PursuitOut(View):
    """One pursuit: who started it for which case, from which sighting, how it stands, its last event."""

    id: int
    case: str | None
    user: str | None
    origin: int
    anchor: int | None
    status: str = Field(
        description="running | lost | ended | stopped | stale (stored as running, but no heartbeat for longer "
        f"than {STALE_AFTER_S:g} s: the process running it is gone)"
    )
    status_text: str
    started: float
    started_time: str
    ended: float | None
    ended_time: str | None
    heartbeat_age_s: float = Field(description="Seconds since the pursuit's last heartbeat (or its start)")
    stop_by: str | None = Field(None, description="Who asked it to stop (the pursuit then ends naming them)")
    events: int
    last_event: dict[str, Any] | None = Field(None, description="The newest event (type, time, camera ...)")


class PursuitDetailOut(PursuitOut):
    event_list: list[dict[str, Any]] = Field(
        description="The events so far, oldest first, each as the CLI writes it plus its row `id`"
    )


class PursuitVerdictIn(Strict):
    sighting: int = Field(ge=1, le=MAX_ID, description="The hand-off's sighting")
    verdict: Literal["confirm", "reject"]


class PursuitStartIn(Strict):
    sighting: int = Field(ge=1, le=MAX_ID, description="The confirmed sighting the pursuit starts from")
    case: str | None = Field(
        None, max_length=MAX_CASE_LEN, description="The case it is for (default: `X-Case` or `case=`)"
    )
    until_lost: float = Field(
        120.0, ge=1, le=3600, description="Seconds without a sighting before the suspect is lost"
    )


class PursuitVerdictOut(View):
    id: int
    pursuit: int
    sighting: int
    verdict: str
    user: str


# ---- reading the store -------------------------------------------------------------------------------------


def _event(row: tuple) -> dict[str, Any]:
    """A stored event as the console reads it: the JSON line, its row id, and the person's text beside it (a
    failed start's reason may carry an error naming server paths: scrubbed, as every error is)."""
    try:
        body = json.loads(row[2])
    except (TypeError, ValueError):
        body = {"type": row[1]}
    body["id"] = int(row[0])
    body.setdefault("type", row[1])
    if isinstance(body.get("reason"), str):
        body["reason"] = scrub_paths(body["reason"])
    return localize.pursuit_event_out(body)


def _events(conn: Any, pid: int, after: int = 0, limit: int = BATCH) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, type, body FROM pursuit_events WHERE pursuit_id=? AND id>? ORDER BY id LIMIT ?",
        (pid, after, limit),
    ).fetchall()
    return [_event(r) for r in rows]


def _summary(conn: Any, r: PursuitRow, upto: int | None = None) -> dict[str, Any]:
    """The pursuit's row and its event count and last event; `upto` bounds them by the events a caller already
    read, so a count never names an event its list lacks (the pursuit writes while the console reads)."""
    bound = "" if upto is None else " AND id<=?"
    args = (r.id,) if upto is None else (r.id, upto)
    n, last_id = conn.execute(
        f"SELECT COUNT(*), MAX(id) FROM pursuit_events WHERE pursuit_id=?{bound}", args
    ).fetchone()
    last = None
    if last_id is not None:
        row = conn.execute("SELECT id, type, body FROM pursuit_events WHERE id=?", (last_id,)).fetchone()
        last = _event(row)
        if last.get("type") == "prediction":  # the list needs the event's kind and time, not every camera
            last = {k: last[k] for k in ("id", "type", "time", "camera") if k in last}
    return {
        "id": r.id,
        "case": r.case,
        "user": r.user,
        "origin": r.origin,
        "anchor": r.anchor,
        "status": r.status,
        "status_text": tr(r.status),
        "started": r.created_at,
        "started_time": to_seoul_iso(r.created_at),
        "ended": r.ended_at,
        "ended_time": None if r.ended_at is None else to_seoul_iso(r.ended_at),
        "heartbeat_age_s": round(r.silent_s, 1),
        "stop_by": r.stop_by,
        "events": int(n),
        "last_event": last,
    }


def _withheld(a: Access, events: list[dict[str, Any]]) -> set[int]:
    """Hand-off sightings another case holds (the one gate, not recorded as shown to this case)."""
    ids = sorted({int(e["sighting"]) for e in events if isinstance(e.get("sighting"), int)})
    return set(a.grant(ids, record=False).withheld) if ids else set()


def _visible(a: Access, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    hidden = _withheld(a, events)
    return [e for e in events if e.get("sighting") not in hidden]


def _own(a: Access, pid: int, endpoint: str) -> PursuitRow:
    """The pursuit, if the caller's case ran it: unknown 404; another case's refused (403) and audited, as the
    CLI refuses to steer another case's pursuit; its origin through the one gate."""
    r = read_pursuit(a.conn, pid)
    if r is None:
        raise HTTPException(404, f"pursuit {pid} not found")
    if r.case != a.case:
        a.log(
            {"endpoint": endpoint, "pursuit": pid, "reason": f"pursuit {pid} belongs to another case"},
            outcome="denied",
        )
        raise AccessDenied(f"relay refused: pursuit {pid} belongs to another case")
    a.check_ids([r.origin])
    return r


def _not_running(r: PursuitRow, what: str) -> HTTPException:
    """409 for an action only a running pursuit takes: over, or stale (nobody left to act on it)."""
    status = r.status
    if status == "stale":
        status = f"stale (no heartbeat for {int(r.silent_s)} s: its process is gone)"
    return HTTPException(409, f"pursuit {r.id} is {status}: {what}")


def _on(a: Access, store) -> Access:
    """The caller's access on another pooled connection (a stream outlives the request's own)."""
    return replace(a, store=store, ctx=replace(a.ctx, conn=store.conn, db_path=store.path))


# ---- routes --------------------------------------------------------------------------------------------------


@router.get("", response_model=list[PursuitOut])
def list_pursuits(
    a: Annotated[Access, Depends(need("relay"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict]:
    """The acting case's pursuits, newest first (`case=` or `X-Case`): who started each, from which sighting,
    how it stands and its last event."""
    rows = case_pursuits(a.conn, a.case, limit)
    hidden = set(a.grant(sorted({r.origin for r in rows}), record=False).withheld) if rows else set()
    out = [_summary(a.conn, r) for r in rows if r.origin not in hidden]
    a.log({"endpoint": "GET /api/pursuits", "pursuits": len(out)}, [p["origin"] for p in out])
    return out


@router.get("/{pursuit_id}", response_model=PursuitDetailOut)
def get_pursuit(pursuit_id: PursuitId, a: Annotated[Access, Depends(need("relay"))]) -> dict:
    """One pursuit with its events so far, oldest first (`event_list`; each event's `id` is what the stream
    resumes after)."""
    r = _own(a, pursuit_id, "GET /api/pursuits/{id}")
    events: list[dict[str, Any]] = []
    while True:  # every event, read in batches
        got = _events(a.conn, pursuit_id, events[-1]["id"] if events else 0)
        events += got
        if len(got) < BATCH:
            break
    upto = events[-1]["id"] if events else 0
    events = _visible(a, events)
    seen = sorted({r.origin} | {int(e["sighting"]) for e in events if e.get("type") == "handoff"})
    a.log({"endpoint": "GET /api/pursuits/{id}", "pursuit": pursuit_id, "events": len(events)}, seen)
    return {**_summary(a.conn, r, upto), "event_list": events}


def _sse(event: str, data: dict, ident: int | None = None) -> str:
    head = f"id: {ident}\n" if ident is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def _next(pool, a: Access, pid: int, after: int) -> tuple[list[dict[str, Any]], str | None, int]:
    """The events after `after` this case may see, the pursuit's status now (None: gone; "stale": its process
    is gone, so nothing more will come) and the last event id read (a hand-off another case holds is not sent,
    but the stream moves past it)."""
    with pool.lend() as store:
        events = _events(store.conn, pid, after)
        r = read_pursuit(store.conn, pid)
        shown = _visible(_on(a, store), events) if events else []
    return shown, None if r is None else r.status, int(events[-1]["id"]) if events else after


@router.get(
    "/{pursuit_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"},
        204: {"description": "The pursuit is over and every event was sent"},
    },
)
async def stream(
    request: Request,
    pursuit_id: PursuitId,
    a: Annotated[Access, Depends(need("relay"))],
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Send only events with a larger id")
    ] = None,
    max_s: Annotated[
        float, Query(ge=0, le=86400, description="Close after this many seconds (0 = never)")
    ] = 0,
) -> Response:
    """Server-sent events of one pursuit: `event: prediction|handoff|lost|ended|camera_down` (data: the event
    as the CLI writes it, with `id`, `reasons_text` ...; SSE id = the event's row id, so an EventSource resumes
    after the last one it got, `Last-Event-ID`), read from the store as the running pursuit writes them; a
    comment every keep-alive interval; closed after `ended` (or `lost`). Once the pursuit is over with nothing
    left to send: 204, which tells an EventSource not to reconnect."""
    pool, cfg = request.app.state.pool, request.app.state.cfg
    last_event = request.headers.get("last-event-id", "")
    resume = int(last_event) if last_event.isdigit() and len(last_event) < 18 else None
    start_after = max((x for x in (after, resume) if x is not None), default=0)

    def opening() -> PursuitRow:
        r = _own(a, pursuit_id, "GET /api/pursuits/{id}/events")
        a.log(
            {"endpoint": "GET /api/pursuits/{id}/events", "pursuit": pursuit_id, "after": start_after},
            [r.origin],
        )
        return r

    row = await run_in_threadpool(opening)
    first, status, read_to = await run_in_threadpool(_next, pool, a, pursuit_id, start_after)
    if not first and status != "running" and read_to == start_after:
        return Response(status_code=204)

    async def events():
        nonlocal first, status, read_to
        t0, last_beat = time.monotonic(), time.monotonic()
        lost_at: float | None = None
        yield f"retry: 3000\n\n{_sse('hello', {'pursuit': pursuit_id, 'status': row.status, 'poll_s': cfg.alert_poll_s})}"
        batch = first
        while True:
            for ev in batch:
                yield _sse(str(ev.get("type") or "event"), ev, ev["id"])
                if ev.get("type") == "ended":
                    return
                if ev.get("type") == "lost" and lost_at is None:
                    lost_at = time.monotonic()
            now = time.monotonic()
            # `lost` is followed at once by `ended`; a pursuit that stopped without either ends the stream too.
            if (lost_at is not None and now - lost_at > 2.0) or (not batch and status != "running"):
                return
            if max_s and now - t0 >= max_s:
                return
            if now - last_beat >= cfg.keepalive_s:
                if await request.is_disconnected():
                    return
                last_beat = now
                yield ": keep-alive\n\n"
            await asyncio.sleep(cfg.alert_poll_s)
            batch, status, read_to = await run_in_threadpool(_next, pool, a, pursuit_id, read_to)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/{pursuit_id}/verdict", response_model=PursuitVerdictOut)
def verdict(
    pursuit_id: PursuitId, body: PursuitVerdictIn, a: Annotated[Access, Depends(need("relay"))]
) -> dict:
    """Confirm or reject a hand-off of a running pursuit: written where `relaytrack pursue confirm|reject`
    writes it; the running pursuit reads it within a frame or two and continues from the confirmed sighting
    (after a reject, from the one before)."""
    r = _own(a, pursuit_id, "POST /api/pursuits/{id}/verdict")
    handed = a.conn.execute(
        "SELECT 1 FROM pursuit_events WHERE pursuit_id=? AND type='handoff' AND sighting_id=? LIMIT 1",
        (pursuit_id, body.sighting),
    ).fetchone()
    if handed is None:
        raise HTTPException(422, f"sighting {body.sighting} is not a hand-off of pursuit {pursuit_id}")
    if not r.running:
        raise _not_running(r, "a verdict is applied only while it runs")
    a.check_ids([body.sighting])
    with a.store.tx() as conn:
        vid = record_verdict(conn, pursuit_id, body.sighting, body.verdict, a.user.name)
        a.log(
            {"endpoint": "POST /api/pursuits/{id}/verdict", "pursuit": pursuit_id, "verdict": body.verdict},
            [body.sighting],
        )
    return {
        "id": vid,
        "pursuit": pursuit_id,
        "sighting": body.sighting,
        "verdict": body.verdict,
        "user": a.user.name,
    }


@router.post("", response_model=PursuitOut, status_code=201)
def start(
    body: PursuitStartIn,
    request: Request,
    store: Annotated[Store, Depends(request_store)],
    user: Annotated[User, Depends(current_user)],
    header_case: Annotated[str | None, Depends(current_case)],
) -> dict:
    """Start a live pursuit from a sighting, for the caller's case, on the service's cameras (`relaytrack serve
    --cameras`): what `relaytrack pursue --from SIGHTING` does, run by the service. Answered at once (201) with
    the pursuit, "running" while its models load; its events then come as they do for any pursuit. The case is
    the body's `case`, else `X-Case` / `case=` (both given and different: refused, 422)."""
    if body.case and header_case and body.case != header_case:
        raise HTTPException(
            422, f"the body's case {body.case} is not the case of the request ({header_case})"
        )
    # The relay's action on that case, as `relaytrack pursue` authorises it (refusals audited there).
    a = authorize_user(
        store, user, body.case or header_case, "relay", {"endpoint": "POST /api/pursuits"}, get_cfg(request)
    )
    a.check_ids([body.sighting])  # unknown, or another case's evidence: refused and audited
    runner = request.app.state.pursuits
    cameras = runner.cameras_file()  # none configured, or unusable: 409 before anything is written
    if runner.full():
        raise HTTPException(
            429,
            f"{runner.max_running} pursuits already run in this service: stop one before starting another",
        )
    with a.store.tx() as conn:
        pid = start_pursuit(
            conn, case=a.case, user=user.name, origin=body.sighting, cameras_file=str(cameras)
        )
        a.log(
            {
                "endpoint": "POST /api/pursuits",
                "pursuit": pid,
                "from": body.sighting,
                "until_lost_s": body.until_lost,
            },
            [body.sighting],
        )
    runner.launch(pid, PursuitStart(body.sighting, str(a.case), user.name, body.until_lost), cameras)
    r = read_pursuit(a.conn, pid)
    assert r is not None  # written above
    return _summary(a.conn, r)


@router.post("/{pursuit_id}/stop", response_model=PursuitOut)
def stop(pursuit_id: PursuitId, request: Request, a: Annotated[Access, Depends(need("relay"))]) -> dict:
    """Stop a running pursuit (started here or by `relaytrack pursue` anywhere): the request is written to the
    store with the caller's name; this service's own pursuit stops at once, another process's within its next
    heartbeat. The pursuit ends with an `ended` event "stopped by the operator" naming who (`stopped_by`) and
    the status "stopped". A pursuit that is over, stale or already being stopped: 409."""
    r = _own(a, pursuit_id, "POST /api/pursuits/{id}/stop")
    if not r.running:
        raise _not_running(r, "only a running pursuit can be stopped")
    with a.store.tx() as conn:
        if not request_stop(conn, pursuit_id, a.user.name):
            by = read_pursuit(conn, pursuit_id)
            raise HTTPException(
                409, f"pursuit {pursuit_id} is already being stopped (asked by {by.stop_by if by else '?'})"
            )
        a.log({"endpoint": "POST /api/pursuits/{id}/stop", "pursuit": pursuit_id, "stop": True}, [r.origin])
    request.app.state.pursuits.stop(pursuit_id)
    now = read_pursuit(a.conn, pursuit_id)
    assert now is not None
    return _summary(a.conn, now)
