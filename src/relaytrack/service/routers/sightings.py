"""One sighting: its fields, boxes and thumbnail (case-checked: another case's evidence is refused)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import Response

from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import MAX_ID, BoxOut, SightingOut
from relaytrack.store.sightings import boxes_of, get_sighting, thumbnail

router = APIRouter(prefix="/api/sightings", tags=["sightings"])
SightingId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/{sighting_id}", response_model=SightingOut)
def sighting(sighting_id: SightingId, a: Annotated[Access, Depends(need("view"))]) -> dict:
    """The sighting's public fields plus attributes, wall times, edges and box count."""
    a.check_ids([sighting_id])
    s = get_sighting(a.conn, sighting_id)
    a.log({"endpoint": "GET /api/sightings/{id}"}, [sighting_id])
    return {
        **s.public(),
        "kind": s.kind,
        "class_name": s.class_name,
        "wall_start": s.wall_start,
        "wall_end": s.wall_end,
        "entry_edge": s.entry_edge,
        "exit_edge": s.exit_edge,
        "upper_color": s.upper_color,
        "upper_conf": s.upper_conf,
        "lower_color": s.lower_color,
        "lower_conf": s.lower_conf,
        "items": s.items,
        "vehicle_type": s.vehicle_type,
        "vehicle_color": s.vehicle_color,
        "plate": s.plate,
        "source_id": s.source_id,
        "boxes": len(boxes_of(a.conn, sighting_id)),
        "thumbnail": f"/api/sightings/{s.id}/thumbnail",
        "video": f"/api/video/sighting/{s.id}.mjpeg",
    }


@router.get("/{sighting_id}/boxes", response_model=list[BoxOut])
def sighting_boxes(sighting_id: SightingId, a: Annotated[Access, Depends(need("view"))]) -> list[dict]:
    """Per-frame boxes of the sighting (frame, t, x, y, w, h, conf)."""
    a.check_ids([sighting_id])
    rows = boxes_of(a.conn, sighting_id)
    a.log({"endpoint": "GET /api/sightings/{id}/boxes"}, [sighting_id])
    return [dict(zip(("frame", "t", "x", "y", "w", "h", "conf"), r, strict=True)) for r in rows]


@router.get(
    "/{sighting_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The best crop, JPEG"}},
)
def sighting_thumbnail(sighting_id: SightingId, a: Annotated[Access, Depends(need("view"))]) -> Response:
    """The sighting's best crop as JPEG."""
    a.check_ids([sighting_id])
    jpeg = thumbnail(a.conn, sighting_id)
    if jpeg is None:
        raise HTTPException(404, f"sighting {sighting_id} has no thumbnail")
    a.log({"endpoint": "GET /api/sightings/{id}/thumbnail"}, [sighting_id])
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})
