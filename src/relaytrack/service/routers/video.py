"""Live video in the page: a sighting's clip, a camera's most recent footage, an alert's clip, as MJPEG
streams decoded from the recorded source with the stored boxes drawn over them. The file played is always
the one the store records for that source (or an alert clip inside the allowed folders): a request never
names a path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import StreamingResponse

from relaytrack.service import alert_media, queries, video
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import MAX_ID
from relaytrack.store.sightings import get_sighting

router = APIRouter(prefix="/api/video", tags=["video"])
MEDIA = f"multipart/x-mixed-replace; boundary={video.BOUNDARY}"
Speed = Annotated[float, Query(ge=0.25, le=16, description="Playback speed (1 = source rate)")]
_RESP = {200: {"content": {MEDIA: {}}, "description": "MJPEG stream"}}


def _stream(clip: video.Clip, speed: float) -> StreamingResponse:
    video.check_source(clip.uri)
    return StreamingResponse(
        video.mjpeg(clip, speed=speed), media_type=MEDIA, headers={"Cache-Control": "no-store"}
    )


def _boxes(a: Access, source_id: int, first: int, last: int) -> tuple[dict[int, list[tuple]], set[int]]:
    """The stored boxes of a stretch of footage and the people in it this case may not see (the one gate;
    bystanders are not recorded as found by the case)."""
    boxes = queries.boxes_in(a.conn, source_id, first, last)
    people = {b[0] for frame in boxes.values() for b in frame}
    return boxes, set(a.grant(sorted(people), record=False).withheld)


def _sighting_clip(a: Access, sighting_id: int, pad_s: float) -> video.Clip:
    s = get_sighting(a.conn, sighting_id)
    if s.source_id is None or (src := queries.source_row(a.conn, s.source_id)) is None:
        raise HTTPException(404, f"sighting {sighting_id} has no recorded source to play")
    fps = float(src[2] or 25.0)
    first = max(1, s.first_frame - int(pad_s * fps))
    last = s.last_frame + int(pad_s * fps)
    boxes, hidden = _boxes(a, src[0], first, last)
    return video.Clip(
        src[1], s.camera, float(src[3]), fps, first, last, boxes, {s.id} - hidden, hidden=hidden
    )


@router.get("/sighting/{sighting_id}.mjpeg", response_class=StreamingResponse, responses=_RESP)
def sighting_video(
    sighting_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    a: Annotated[Access, Depends(need("view"))],
    pad_s: Annotated[float, Query(ge=0, le=30)] = 2.0,
    speed: Speed = 1.0,
) -> StreamingResponse:
    """The sighting's frames (plus `pad_s` either side), target red, others green."""
    a.check_ids([sighting_id])
    clip = _sighting_clip(a, sighting_id, pad_s)
    a.log({"endpoint": "GET /api/video/sighting/{id}", "frames": [clip.first, clip.last]}, [sighting_id])
    return _stream(clip, speed)


@router.get("/camera/{camera_id}.mjpeg", response_class=StreamingResponse, responses=_RESP)
def camera_video(
    camera_id: Annotated[str, Path(min_length=1, max_length=64)],
    a: Annotated[Access, Depends(need("view"))],
    seconds: Annotated[float, Query(gt=0, le=120)] = 20.0,
    speed: Speed = 1.0,
) -> StreamingResponse:
    """The camera's most recent `seconds` of footage (a live stream source plays live)."""
    from relaytrack.source.open import is_stream

    src = queries.latest_source(a.conn, camera_id)
    if src is None:
        raise HTTPException(404, f"camera {camera_id!r} has no recorded source")
    sid, uri, fps, start_wall, total = src
    fps = float(fps or 25.0)
    n = max(1, int(seconds * fps))
    if is_stream(uri) or not total:
        first, last = 1, n
    else:
        first, last = max(1, int(total) - n + 1), int(total)
    # Recorded footage: people held by other cases are covered (a live stream has no stored boxes yet).
    boxes, hidden = ({}, set()) if is_stream(uri) else _boxes(a, sid, first, last)
    clip = video.Clip(uri, camera_id, float(start_wall), fps, first, last, boxes, set(), hidden=hidden)
    a.log({"endpoint": "GET /api/video/camera/{id}", "camera": camera_id, "frames": [first, last]})
    return _stream(clip, speed)


@router.get("/alert/{alert_id}.mjpeg", response_class=StreamingResponse, responses=_RESP)
def alert_video(
    alert_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    a: Annotated[Access, Depends(need("alerts"))],
    speed: Speed = 1.0,
) -> StreamingResponse:
    """The alert's clip: its sighting's footage, else the clip file the watch wrote (only inside the store's
    and the installation's folders), else the camera's footage over the alert's time span."""
    alert = queries.get_alert(a.conn, alert_id)
    if alert is None:
        raise HTTPException(404, f"alert {alert_id} not found")
    a.log({"endpoint": "GET /api/video/alert/{id}"}, [alert_id])
    if alert["sightings"]:
        return _stream(_sighting_clip(a, alert["sightings"][0], 2.0), speed)
    clip_path = alert.get("clip")
    if isinstance(clip_path, str) and clip_path:
        # relative to the store (a moved store's clips move with it); only inside the clip folders
        p = alert_media.resolve(clip_path, a.store.path, str(alert["camera"]), a.cfg.clip_roots)
        if p is not None:
            return _stream(
                video.Clip(
                    str(p), str(alert["camera"]), float(alert.get("wall") or 0.0), 25.0, 1, None, {}, set()
                ),
                speed,
            )
    src = queries.latest_source(a.conn, str(alert["camera"]))
    start, end = alert.get("start"), alert.get("end")
    if src is None or not isinstance(start, int | float) or not isinstance(end, int | float):
        raise HTTPException(404, f"alert {alert_id} has no playable clip")
    fps = float(src[2] or 25.0)
    first, last = max(1, int(start * fps) - int(2 * fps) + 1), int(end * fps) + int(2 * fps) + 1
    boxes, hidden = _boxes(a, src[0], first, last)
    return _stream(
        video.Clip(
            src[1], str(alert["camera"]), float(src[3]), fps, first, last, boxes, set(), hidden=hidden
        ),
        speed,
    )
