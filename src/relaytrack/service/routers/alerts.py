"""The live alert wall: recent alerts, one alert, a server-sent event stream of new ones, and the operator's
verdict (acknowledged / false alarm), stored by the watch stage with the alert's signals for tuning."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from relaytrack.i18n import t
from relaytrack.service import alert_media, localize, queries
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import MAX_ID, AlertMediaOut, AlertVerdictIn, View
from relaytrack.watch.alerts import ack_alert

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _media(alert: dict) -> dict:
    alert["video"] = f"/api/video/alert/{alert['id']}.mjpeg"
    alert["thumbnails"] = [f"/api/sightings/{s}/thumbnail" for s in alert["sightings"]]
    return localize.alert_out(alert)  # reasons and explanation in the caller's language


def _visible(a: Access, alerts: list[dict]) -> list[dict]:
    """The alert wall belongs to no case: sightings any case holds are left out of it (the one gate); the
    alert's clip covers them."""
    grant = a.grant([s for x in alerts for s in x["sightings"]], record=False)
    withheld = set(grant.withheld) | set(grant.missing)
    for x in alerts:
        x["sightings"] = [s for s in x["sightings"] if s not in withheld]
        if x.get("sighting") in withheld:
            x["sighting"] = None
    return alerts


@router.get("", response_model=list[AlertMediaOut])
def list_alerts(
    a: Annotated[Access, Depends(need("alerts"))],
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict]:
    """Newest alerts first (camera, time, score, reasons, clip)."""
    out = [
        _media(x) for x in _visible(a, queries.list_alerts(a.conn, before=before, camera=camera, limit=limit))
    ]
    a.log({"endpoint": "GET /api/alerts", "alerts": len(out)}, [x["id"] for x in out])
    return out


def _backlog(pool, a: Access, after: int) -> list[dict]:
    with pool.lend() as store:
        return _visible(_on(a, store), queries.list_alerts(store.conn, after=after, limit=500))


def _live(pool, a: Access, row: dict) -> dict:
    with pool.lend() as store:
        return _visible(_on(a, store), [dict(row)])[0]


def _on(a: Access, store) -> Access:
    """The caller's access on another pooled connection (a stream outlives the request's own)."""
    ctx = replace(a.ctx, conn=store.conn, db_path=store.path)
    return replace(a, store=store, ctx=ctx)


def _sse(event: str, data: dict, ident: int | None = None) -> str:
    head = f"id: {ident}\n" if ident is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
)
async def stream(
    request: Request,
    a: Annotated[Access, Depends(need("alerts"))],
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Replay alerts with a larger id first")
    ] = None,
    limit: Annotated[int, Query(ge=0, le=100000, description="Close after this many alerts (0 = never)")] = 0,
    max_s: Annotated[
        float, Query(ge=0, le=86400, description="Close after this many seconds (0 = never)")
    ] = 0,
) -> StreamingResponse:
    """Server-sent events: `event: alert` per new alert (id = alert id, so EventSource resumes after a drop),
    a comment every keep-alive interval."""
    await run_in_threadpool(a.log, {"endpoint": "GET /api/alerts/stream", "after": after})
    hub = request.app.state.hub
    keepalive = request.app.state.cfg.keepalive_s
    last_event = request.headers.get("last-event-id", "")
    resume = int(last_event) if last_event.isdigit() and len(last_event) < 18 else None
    start_after = max((x for x in (after, resume) if x is not None), default=None)
    q = await hub.subscribe()

    async def events():
        sent, last_id, t0 = 0, start_after or 0, time.monotonic()
        try:
            yield f"retry: 3000\n\n{_sse('hello', {'user': a.user.name, 'poll_s': hub.poll_s})}"
            if start_after is not None:
                backlog = await run_in_threadpool(_backlog, request.app.state.pool, a, start_after)
                for row in backlog:
                    last_id = max(last_id, int(row["id"]))
                    yield _sse("alert", _media(row), row["id"])
                    sent += 1
                    if limit and sent >= limit:
                        return
            while True:
                wait = keepalive
                if max_s:
                    left = max_s - (time.monotonic() - t0)
                    if left <= 0:
                        return
                    wait = min(wait, left)
                try:
                    row = await asyncio.wait_for(q.get(), timeout=wait)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if int(row["id"]) <= last_id:
                    continue
                last_id = int(row["id"])
                shown = await run_in_threadpool(_live, request.app.state.pool, a, row)
                yield _sse("alert", _media(shown), row["id"])
                sent += 1
                if limit and sent >= limit:
                    return
        finally:
            hub.unsubscribe(q)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}", response_model=AlertMediaOut)
def get_alert(alert_id: AlertId, a: Annotated[Access, Depends(need("alerts"))]) -> dict:
    """One alert with its reasons, sightings and clip."""
    alert = queries.get_alert(a.conn, alert_id)
    if alert is None:
        raise HTTPException(404, f"alert {alert_id} not found")
    a.log({"endpoint": "GET /api/alerts/{id}"}, [alert_id])
    return _media(_visible(a, [alert])[0])


class KeyframeOut(View):
    """One key frame the watch wrote for an alert: the moment ("crouch", "reach", "phone", "decision", "stop"),
    its name for a person, and the frame as a JPEG data URL (the console shows it without a media route)."""

    moment: str
    label: str
    image: str


@router.get("/{alert_id}/keyframes", response_model=list[KeyframeOut])
def keyframes(alert_id: AlertId, a: Annotated[Access, Depends(need("alerts"))]) -> list[dict]:
    """The alert's key frames (the crouch, the reach, the decision frame ...), in the order the watch kept
    them; none when the alert's person is another case's evidence (the wall belongs to no case)."""
    alert = queries.get_alert(a.conn, alert_id)
    if alert is None:
        raise HTTPException(404, f"alert {alert_id} not found")
    if alert.get("sighting") is not None and a.grant([alert["sighting"]], record=False).withheld:
        frames: list[dict] = []
    else:
        frames = alert_media.keyframe_images(alert, a.store.path, a.cfg.clip_roots)
    a.log({"endpoint": "GET /api/alerts/{id}/keyframes", "frames": len(frames)}, [alert_id])
    key = {
        "crouch": "moment_crouch",
        "reach": "moment_reach",
        "phone": "moment_phone",
        "decision": "moment_decision",
    }
    return [{**f, "label": t(key.get(f["moment"], "moment_stop"))} for f in frames]


@router.post("/{alert_id}/verdict", response_model=AlertMediaOut)
def verdict(alert_id: AlertId, body: AlertVerdictIn, a: Annotated[Access, Depends(need("alerts"))]) -> dict:
    """Acknowledge an alert or mark it a false alarm (kept by the watch stage for tuning)."""
    if queries.get_alert(a.conn, alert_id) is None:
        raise HTTPException(404, f"alert {alert_id} not found")
    with a.store.tx() as conn:
        ack_alert(
            conn, alert_id, a.user.name, false_alarm=body.verdict == "false_alarm", note=body.note or None
        )
        a.log({"endpoint": "POST /api/alerts/{id}/verdict", "verdict": body.verdict}, [alert_id])
    return _media(_visible(a, [queries.get_alert(a.conn, alert_id)])[0])
