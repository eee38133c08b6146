"""The camera network: cameras with status and view cones (for the map), one camera, links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from relaytrack.relay.network import all_links, camera_info
from relaytrack.service import queries
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import CameraDetailOut, CameraOut, LinkOut

router = APIRouter(prefix="/api", tags=["cameras"])
CamId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/cameras", response_model=list[CameraOut])
def list_cameras(a: Annotated[Access, Depends(need("cameras"))]) -> list[dict]:
    """Every camera: position, heading and field of view, district, owner, purpose, status, counts."""
    out = queries.cameras_overview(a.conn)
    a.log({"endpoint": "GET /api/cameras", "cameras": len(out)})
    return out


@router.get("/cameras/{camera_id}", response_model=CameraDetailOut)
def get_camera(camera_id: CamId, a: Annotated[Access, Depends(need("cameras"))]) -> dict:
    """One camera with its links in and out and its recorded sources."""
    info = camera_info(a.conn, camera_id)
    info["sources"] = queries.sources_of(a.conn, camera_id)
    a.log({"endpoint": "GET /api/cameras/{id}", "camera": camera_id})
    return info


@router.get("/links", response_model=list[LinkOut])
def list_links(a: Annotated[Access, Depends(need("cameras"))]) -> list[dict]:
    """Links between cameras (exit edge -> neighbour, travel-time distribution)."""
    out = all_links(a.conn)
    a.log({"endpoint": "GET /api/links", "links": len(out)})
    return out
