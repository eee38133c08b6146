"""The console map's base layer: Seoul's 구 and 동 outlines within the view (relaytrack.relay.basemap).

Open data read at run time from RELAYTRACK_BOUNDARIES (else shared/data/seoul/boundaries), clipped to the
asked box and simplified to about a pixel of the map, so the console draws it itself: no tiles, no network.
Without the files the answer says so (`available` false, `note`) and the console draws cameras only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import Field

from relaytrack.relay.basemap import base_layer
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import View

router = APIRouter(prefix="/api", tags=["cameras"])
Lon = Annotated[float, Query(ge=-180, le=180)]
Lat = Annotated[float, Query(ge=-90, le=90)]


class AreaOut(View):
    code: str
    name: str = Field(description="Korean name (구 or 동)")
    name_eng: str
    rings: list[list[list[float]]] = Field(description="Outer rings, [lon, lat] pairs, clipped to the view")
    label_at: list[float] | None = Field(description="Where to hang the name ([lon, lat]); None: too small")


class BaseLayerOut(View):
    available: bool = Field(description="False when the boundary files are absent: draw cameras only")
    note: str = Field(description="Why there is no base layer; empty when there is one")
    source: str = Field(description="The boundary files read")
    districts: list[AreaOut]
    dongs: list[AreaOut]


@router.get("/basemap", response_model=BaseLayerOut)
def basemap(
    a: Annotated[Access, Depends(need("cameras"))],
    west: Lon,
    south: Lat,
    east: Lon,
    north: Lat,
    px: Annotated[int, Query(ge=100, le=4000, description="Width of the map in pixels")] = 800,
) -> dict[str, Any]:
    """구 and 동 outlines meeting the box (degrees), with label points; boundaries are public data, so the
    answer is not evidence and is not logged."""
    if not (west < east and south < north) or east - west > 2.0 or north - south > 2.0:
        raise HTTPException(
            422, "the map box must have west < east, south < north and span at most 2 degrees"
        )
    return base_layer((west, south, east, north), pixels=px).to_dict()
