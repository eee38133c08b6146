"""Small geodesy helpers: distances, bearings, and which image edge faces a point on the map."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial compass bearing from point 1 to point 2 (0 = north, 90 = east)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(x, y)) % 360.0


def edge_for_relative_bearing(rel_deg: float) -> str:
    """Image edge a person crosses when walking towards something at `rel_deg` from the optical axis.

    A camera looks along its heading, so walking straight ahead (rel 0) takes a person away from the camera,
    up the image, out by the top; walking back past the camera (rel 180) leaves by the bottom; to the
    camera's right (rel 90) by the right edge and to its left (rel 270) by the left edge.
    """
    rel = rel_deg % 360.0
    if rel <= 45 or rel >= 315:
        return "top"
    if rel < 135:
        return "right"
    if rel <= 225:
        return "bottom"
    return "left"


def edge_towards(
    lat: float, lon: float, heading_deg: float | None, to_lat: float, to_lon: float
) -> str | None:
    """The edge of a camera at (lat, lon) looking along heading_deg that faces the map point (to_lat, to_lon);
    None when the heading is unknown (then any edge may lead there)."""
    if heading_deg is None:
        return None
    return edge_for_relative_bearing(bearing_deg(lat, lon, to_lat, to_lon) - heading_deg)


def local_xy(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    """Metres east/north of (lat0, lon0): equirectangular, plenty for a district-sized drawing."""
    x = math.radians(lon - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    y = math.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y
