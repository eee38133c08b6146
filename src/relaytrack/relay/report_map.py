"""The route report's map: an inline SVG, drawn offline (no tiles, no scripts).

Zoomed to the route (its cameras plus a margin), over Seoul's 구 and 동 outlines with their names
(relay.basemap, when the boundary files are there; cameras only otherwise, and the map says so), cameras
coloured by purpose, the route drawn hop to hop with an arrow on each leg and each hop's number and Seoul time,
labels placed so that none collide (relay.labels).
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from relaytrack.clock import seoul
from relaytrack.i18n import lang
from relaytrack.relay.basemap import base_layer
from relaytrack.relay.geo import EARTH_RADIUS_M, local_xy
from relaytrack.relay.labels import Label, place
from relaytrack.relay.network import all_cameras, links_from
from relaytrack.relay.report_text import purpose_colour, purpose_name, rt
from relaytrack.relay.route import Route

PAD = 18.0
MAX_CAMERAS = 3000  # cameras drawn around a route at most (those on the route always)
NAMED_CAMERAS = 60  # off-route cameras get their id as a label only when no more than this many are shown


def _esc(s: object) -> str:
    return html.escape(str(s), quote=True)


def _nice_metres(target: float) -> float:
    best = 10.0
    for m in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000):
        if m <= target:
            best = float(m)
    return best


def route_map(
    route: Route, conn: Any, *, boundaries: str | Path | None = None, width: int = 760, height: int = 500
) -> str:
    """The map as HTML: an `<svg class="route-map">` and its legend (or a sentence saying why there is none)."""
    cams = [c for c in all_cameras(conn) if c.lat is not None and c.lon is not None]
    if not cams:
        return f'<p class="note">{_esc(rt("no_cameras"))}</p>'
    on_route = set(route.cameras)
    route_cams = [c for c in cams if c.id in on_route] or cams
    lat0 = sum(c.lat for c in route_cams) / len(route_cams)
    lon0 = sum(c.lon for c in route_cams) / len(route_cams)
    rxy = [local_xy(c.lat, c.lon, lat0, lon0) for c in route_cams]
    x_lo, x_hi = min(p[0] for p in rxy), max(p[0] for p in rxy)
    y_lo, y_hi = min(p[1] for p in rxy), max(p[1] for p in rxy)
    margin = max(120.0, 0.2 * max(x_hi - x_lo, y_hi - y_lo))
    x_lo, x_hi, y_lo, y_hi = x_lo - margin, x_hi + margin, y_lo - margin, y_hi + margin
    # One scale on both axes: widen the short side so the box fills the view.
    scale = min((width - 2 * PAD) / (x_hi - x_lo), (height - 2 * PAD) / (y_hi - y_lo))
    cx, cy = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
    half_w, half_h = width / 2 / scale, height / 2 / scale
    x_lo, x_hi, y_lo, y_hi = cx - half_w, cx + half_w, cy - half_h, cy + half_h

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - x_lo) * scale, height - (y - y_lo) * scale

    k_lon = math.degrees(1 / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
    k_lat = math.degrees(1 / EARTH_RADIUS_M)

    def ll_px(lon: float, lat: float) -> tuple[float, float]:
        return px((lon - lon0) / k_lon, (lat - lat0) / k_lat)

    box = (lon0 + x_lo * k_lon, lat0 + y_lo * k_lat, lon0 + x_hi * k_lon, lat0 + y_hi * k_lat)
    base = base_layer(box, folder=boundaries, pixels=width)

    shown = []
    for c in cams:
        x, y = local_xy(c.lat, c.lon, lat0, lon0)
        if x_lo <= x <= x_hi and y_lo <= y <= y_hi:
            shown.append(c)
    if len(shown) > MAX_CAMERAS:
        shown = [c for c in shown if c.id in on_route]
    pos = {c.id: px(*local_xy(c.lat, c.lon, lat0, lon0)) for c in shown}

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="route-map" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(rt("map_title"))}">',
        "<style>.dong{fill:none;stroke:#c9c9c0;stroke-width:.8}.gu{fill:none;stroke:#7d7d70;stroke-width:1.6}"
        ".link{stroke:#dcdcd4}.lbl{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}"
        ".lbl-gu{font-weight:bold;fill:#55554a}.lbl-dong{fill:#8a8a80}.lbl-hop{fill:#b03020;font-weight:bold}"
        ".lbl-cam{fill:#2c3e50}.lbl-cam-off{fill:#777}.leg{stroke:#c0392b;fill:none}</style>",
        f'<rect class="bg" x="0" y="0" width="{width}" height="{height}" fill="#f7f7f2"/>',
    ]
    # Base layer: 동 outlines under 구 outlines.
    for cls, areas in (("dong", base.dongs), ("gu", base.districts)):
        for a in areas:
            d = "".join(
                "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in (ll_px(lon, lat) for lon, lat in ring)) + "Z"
                for ring in a["rings"]
            )
            parts.append(f'<path class="{cls}" d="{d}" data-code="{_esc(a["code"])}"/>')
    if len(shown) <= 400:  # the network's links, faint
        ids = set(pos)
        for c in shown:
            for ln in links_from(conn, c.id):
                if ln.dst in ids and ln.src < ln.dst:
                    (x1, y1), (x2, y2) = pos[ln.src], pos[ln.dst]
                    parts.append(
                        f'<line class="link" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'
                    )
    purposes: dict[str, str] = {}
    for c in sorted(shown, key=lambda c: c.id in on_route):  # route cameras on top
        x, y = pos[c.id]
        hot = c.id in on_route
        colour = purpose_colour(c.purpose)
        purposes[purpose_name(c.purpose)] = colour
        if c.heading_deg is not None:
            a = math.radians(c.heading_deg)
            parts.append(
                f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 11 * math.sin(a):.1f}" y2="{y - 11 * math.cos(a):.1f}" '
                f'stroke="{colour}" stroke-width="1.5"/>'
            )
        parts.append(
            f'<circle class="cam{" on-route" if hot else ""}" cx="{x:.1f}" cy="{y:.1f}" r="{6 if hot else 3.5}" '
            f'fill="{colour}" stroke="{"#1b2631" if hot else "#fff"}" stroke-width="{1.6 if hot else 0.8}" '
            f'data-camera="{_esc(c.id)}" data-purpose="{_esc(c.purpose or "")}">'
            f"<title>{_esc(c.id)} {_esc(c.name or '')} · {_esc(purpose_name(c.purpose))}</title></circle>"
        )
    # The route: a leg per pair of hops on different cameras, an arrow at its middle pointing the way walked.
    pts = [(h, pos[h.sighting.camera]) for h in route.hops if h.sighting.camera in pos]
    for (_, (x1, y1)), (h2, (x2, y2)) in zip(pts, pts[1:], strict=False):
        length = math.hypot(x2 - x1, y2 - y1)
        if length < 1.0:
            continue
        parts.append(
            f'<line class="leg" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke-width="{1.5 + 3 * h2.confidence:.1f}" opacity="0.85"/>'
        )
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        s = 7.0
        tip = (mx + ux * s, my + uy * s)
        left = (mx - ux * s - uy * s * 0.7, my - uy * s + ux * s * 0.7)
        right = (mx - ux * s + uy * s * 0.7, my - uy * s - ux * s * 0.7)
        parts.append(
            f'<polygon class="arrow" points="{tip[0]:.1f},{tip[1]:.1f} {left[0]:.1f},{left[1]:.1f} '
            f'{right[0]:.1f},{right[1]:.1f}" fill="#c0392b"/>'
        )
    # Labels, most important first: hops (number and Seoul time), route cameras, 구, 동, other cameras.
    labels: list[Label] = []
    for k, h in enumerate(route.hops):
        if h.sighting.camera in pos:
            x, y = pos[h.sighting.camera]
            labels.append(Label(f"{k + 1} {seoul(h.true_start):%H:%M:%S}", x, y, 11.0, "lbl lbl-hop"))
    for cid in dict.fromkeys(route.cameras):
        if cid in pos:
            labels.append(Label(cid, *pos[cid], 10.0, "lbl lbl-cam"))
    ko = lang() == "ko"
    for areas, cls, size in ((base.districts, "lbl lbl-gu", 13.0), (base.dongs, "lbl lbl-dong", 9.5)):
        for a in areas:
            if a["label_at"]:
                x, y = ll_px(*a["label_at"])
                labels.append(Label(a["name"] if ko else a["name_eng"], x, y, size, cls, centred=True))
    off = [c for c in shown if c.id not in on_route]
    if len(off) <= NAMED_CAMERAS:
        labels += [Label(c.id, *pos[c.id], 9.0, "lbl lbl-cam-off") for c in off]
    reserved = [(x - 6, y - 6, x + 6, y + 6) for _, (x, y) in pts]
    for (_, (x1, y1)), (_, (x2, y2)) in zip(pts, pts[1:], strict=False):  # keep the legs readable too
        n = max(1, int(math.hypot(x2 - x1, y2 - y1) / 6))
        reserved += [
            (
                x1 + (x2 - x1) * i / n - 3,
                y1 + (y2 - y1) * i / n - 3,
                x1 + (x2 - x1) * i / n + 3,
                y1 + (y2 - y1) * i / n + 3,
            )
            for i in range(n + 1)
        ]
    placed = place(labels, width, height, reserved)
    parts.append('<g class="labels">')
    for p in placed:
        parts.append(
            f'<text class="{p.label.cls}" x="{p.x:.1f}" y="{p.y:.1f}" font-size="{p.label.size:g}" '
            f'text-anchor="{p.anchor}">{_esc(p.label.text)}</text>'
        )
    parts.append("</g>")
    # Scale bar and north.
    metres = _nice_metres(width / 5 / scale)
    bar = metres * scale
    unit = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    parts.append(
        f'<rect x="8" y="{height - 24}" width="{bar + 50:.0f}" height="18" fill="#fff" opacity="0.8"/>'
        f'<line x1="12" y1="{height - 12}" x2="{12 + bar:.1f}" y2="{height - 12}" stroke="#333" stroke-width="2"/>'
        f'<text x="{16 + bar:.1f}" y="{height - 9}" font-size="10">{unit}</text>'
        f'<text x="{width - 14}" y="18" font-size="12" text-anchor="middle" font-weight="bold">{_esc(rt("north"))}'
        f'</text><path d="M{width - 14},22 l-4,10 h8 z" fill="#333"/>'
    )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="legend-item"><span class="swatch" style="background:{c}"></span>{_esc(name)}</span>'
        for name, c in sorted(purposes.items())
    )
    legend += (
        '<span class="legend-item"><span class="swatch" style="background:#c0392b;height:3px"></span>'
        f"{_esc(rt('route_legend'))}</span>"
    )
    note = rt("base_note") if base.available else rt("no_base")
    return (
        "".join(parts)
        + f'<div class="legend">{legend}</div><p class="note map-note" data-base="{int(base.available)}">'
        + f"{_esc(note)}</p>"
    )
