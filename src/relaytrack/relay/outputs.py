"""Route outputs: GeoJSON (timed LineString + camera points), an offline HTML report and MOTChallenge
files with global identities. Reporting depends on the relay core, never the reverse."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

from relaytrack.clock import human, now_iso, to_seoul_iso
from relaytrack.i18n import t, tr_all
from relaytrack.relay.deadend import stop_sentences
from relaytrack.relay.geo import local_xy
from relaytrack.relay.network import all_cameras, links_from
from relaytrack.relay.route import Route
from relaytrack.store.sightings import boxes_of, thumbnail


def _conn(store: Any) -> Any:
    return getattr(store, "conn", store)


def _iso(epoch: float) -> str:
    return to_seoul_iso(epoch)


def route_geojson(route: Route, store: Any) -> dict[str, Any]:
    cams = {c.id: c for c in all_cameras(_conn(store))}
    on_route = set(route.cameras)
    feats: list[dict[str, Any]] = []
    coords, times, ids = [], [], []
    for h in route.hops:
        c = cams.get(h.sighting.camera)
        if c is None or c.lat is None:
            continue
        coords.append([c.lon, c.lat])
        times.append(_iso(h.true_start))
        ids.append(h.sighting.id)
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                "properties": {
                    **{k: v for k, v in h.to_dict().items() if k not in ("alternatives", "kind")},
                    # "kind" tells hop, route and camera features apart; what was seen is sighting_kind
                    "kind": "hop",
                    "sighting_kind": h.sighting.kind,
                    # Seoul time (ISO 8601, +09:00) with the camera's clock offset removed
                    "time": _iso(h.true_start),
                    "time_end": _iso(h.true_end),
                },
            }
        )
    if len(coords) >= 2:
        feats.insert(
            0,
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {
                    "kind": "route",
                    "origin": route.origin,
                    "times": times,
                    "coordTimes": times,
                    "sightings": ids,
                    "confidence": [round(h.confidence, 4) for h in route.hops],
                },
            },
        )
    for c in cams.values():
        if c.lat is None:
            continue
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                "properties": {
                    "kind": "camera",
                    "id": c.id,
                    "name": c.name,
                    "heading_deg": c.heading_deg,
                    "fov_deg": c.fov_deg,
                    "district": c.district,
                    "owner": c.owner,
                    "purpose": c.purpose,
                    "on_route": c.id in on_route,
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def write_route_geojson(route: Route, store: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(route_geojson(route, store), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return path


def write_route_mot(route: Route, store: Any, out_dir: str | Path, *, identity: int = 1) -> list[Path]:
    """Per-camera MOTChallenge files `<out_dir>/<camera>.txt` (frame,id,x,y,w,h,conf,-1,-1,-1) holding the
    route's boxes under one global identity, so a cross-camera evaluation can score the route directly."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    conn = _conn(store)
    per_cam: dict[str, list[tuple]] = {}
    for h in route.hops:
        rows = boxes_of(conn, h.sighting.id)
        if not rows:  # no per-frame boxes kept: the best crop over the sighting's frames
            x, y, w, hh = h.sighting.box
            rows = [
                (f, 0.0, x, y, w, hh, h.confidence)
                for f in range(h.sighting.first_frame, h.sighting.last_frame + 1)
            ]
        per_cam.setdefault(h.sighting.camera, []).extend(rows)
    written = []
    for cam, rows in sorted(per_cam.items()):
        rows.sort(key=lambda r: r[0])
        p = out_dir / f"{cam}.txt"
        p.write_text(
            "".join(
                f"{int(r[0])},{identity},{r[2]:.1f},{r[3]:.1f},{r[4]:.1f},{r[5]:.1f},{r[6]:.3f},-1,-1,-1\n"
                for r in rows
            ),
            encoding="utf-8",
        )
        written.append(p)
    return written


def _svg_map(route: Route, store: Any, width: int = 640, height: int = 420) -> str:
    conn = _conn(store)
    cams = [c for c in all_cameras(conn) if c.lat is not None]
    if not cams:
        return "<p>No camera positions in the store: map not drawn.</p>"
    on_route = set(route.cameras)
    # Draw the route's neighbourhood, not the whole city: cameras within the route's box plus a margin.
    route_cams = [c for c in cams if c.id in on_route] or cams
    lat0 = sum(c.lat for c in route_cams) / len(route_cams)
    lon0 = sum(c.lon for c in route_cams) / len(route_cams)
    rxy = [local_xy(c.lat, c.lon, lat0, lon0) for c in route_cams]
    margin = 80.0
    x_lo, x_hi = min(p[0] for p in rxy) - margin, max(p[0] for p in rxy) + margin
    y_lo, y_hi = min(p[1] for p in rxy) - margin, max(p[1] for p in rxy) + margin
    shown = []
    for c in cams:
        x, y = local_xy(c.lat, c.lon, lat0, lon0)
        if x_lo <= x <= x_hi and y_lo <= y <= y_hi:
            shown.append((c, x, y))
    if len(shown) > 3000:
        shown = [s for s in shown if s[0].id in on_route]
    scale = min((width - 40) / max(x_hi - x_lo, 1.0), (height - 40) / max(y_hi - y_lo, 1.0))

    def px(x: float, y: float) -> tuple[float, float]:
        return 20 + (x - x_lo) * scale, height - 20 - (y - y_lo) * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="background:#f4f4f0;border:1px solid #ccc">',
        '<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker></defs>',
    ]
    ids = {c.id for c, _, _ in shown}
    pos = {c.id: px(x, y) for c, x, y in shown}
    for c, _, _ in shown:  # faint network links
        for ln in links_from(conn, c.id):
            if ln.dst in ids and ln.src < ln.dst:
                (x1, y1), (x2, y2) = pos[ln.src], pos[ln.dst]
                parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#ddd"/>')
    for c, _, _ in shown:
        x, y = pos[c.id]
        hot = c.id in on_route
        if c.heading_deg is not None:
            a = math.radians(c.heading_deg)
            parts.append(
                f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 12 * math.sin(a):.1f}" '
                f'y2="{y - 12 * math.cos(a):.1f}" stroke="#888" stroke-width="1.5"/>'
            )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{6 if hot else 3.5}" fill="{"#2c3e50" if hot else "#aaa"}">'
            f"<title>{html.escape(c.id)} {html.escape(c.name or '')}</title></circle>"
        )
        if hot:
            parts.append(
                f'<text x="{x + 8:.1f}" y="{y - 8:.1f}" font-size="11" fill="#2c3e50">{html.escape(c.id)}</text>'
            )
    pts = [pos[h.sighting.camera] for h in route.hops if h.sighting.camera in pos]
    for i, ((x1, y1), (x2, y2)) in enumerate(zip(pts, pts[1:], strict=False)):
        conf = route.hops[i + 1].confidence
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#c0392b" '
            f'stroke-width="{1 + 3 * conf:.1f}" marker-end="url(#arr)" opacity="0.85"/>'
        )
    for i, (x, y) in enumerate(pts):
        parts.append(f'<text x="{x - 4:.1f}" y="{y + 16:.1f}" font-size="10" fill="#c0392b">{i + 1}</text>')
    # A 100 m scale bar.
    parts.append(
        f'<line x1="20" y1="{height - 8}" x2="{20 + 100 * scale:.1f}" y2="{height - 8}" stroke="#333" '
        f'stroke-width="2"/><text x="{24 + 100 * scale:.1f}" y="{height - 4}" font-size="10">100 m</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _timeline(route: Route, width: int = 640) -> str:
    if not route.hops:
        return ""
    t_lo = min(h.true_start for h in route.hops)
    t_hi = max(h.true_end for h in route.hops)
    span = max(t_hi - t_lo, 1.0)
    cams = list(dict.fromkeys(route.cameras))
    row_h, left = 18, 60
    height = row_h * len(cams) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for i, c in enumerate(cams):
        parts.append(f'<text x="2" y="{i * row_h + 14}" font-size="11">{html.escape(c)}</text>')
    for k, h in enumerate(route.hops):
        i = cams.index(h.sighting.camera)
        x0 = left + (h.true_start - t_lo) / span * (width - left - 10)
        w = max(3.0, (h.true_end - h.true_start) / span * (width - left - 10))
        col = "#2c3e50" if h.direction in ("origin", "confirmed") else "#c0392b"
        parts.append(
            f'<rect x="{x0:.1f}" y="{i * row_h + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{col}" '
            f'opacity="{0.3 + 0.7 * h.confidence:.2f}"><title>hop {k + 1}: sighting {h.sighting.id}, '
            f"confidence {h.confidence:.2f}</title></rect>"
        )
    parts.append(
        f'<text x="{left}" y="{height - 4}" font-size="10">{html.escape(human(t_lo))}</text>'
        f'<text x="{width - 10}" y="{height - 4}" font-size="10" text-anchor="end">'
        f"+{span:.0f} s</text></svg>"
    )
    return "".join(parts)


def route_html(route: Route, store: Any, *, title: str = "Relay route", hint: str | None = None) -> str:
    """The offline report; `hint` (a dead end's suggestion, see relay.deadend) is shown under the summary.
    Hop reasons and stop reasons are in the current language (relaytrack.i18n), times in Seoul time."""
    conn = _conn(store)
    rows = []
    for k, h in enumerate(route.hops):
        jpeg = thumbnail(conn, h.sighting.id)
        img = (
            f'<img alt="sighting {h.sighting.id}" src="data:image/jpeg;base64,{base64.b64encode(jpeg).decode()}">'
            if jpeg
            else '<span class="none">no thumbnail</span>'
        )
        alts = "".join(
            f"<li>#{a['sighting']} {html.escape(str(a['camera']))} ({a['confidence']:.2f})</li>"
            for a in h.alternatives
        )
        link = h.link or {}
        via = f" via {html.escape('/'.join(link.get('via') or []))}" if link.get("via") else ""
        rows.append(
            f"<tr><td>{k + 1}</td><td>{img}</td><td><b>{html.escape(h.sighting.camera)}</b><br>#{h.sighting.id}"
            f"{via}</td><td>{html.escape(human(h.true_start))}<br>{h.sighting.start:.1f}-{h.sighting.end:.1f} s, "
            f"frames {h.sighting.first_frame}-{h.sighting.last_frame}</td>"
            f'<td><div class="bar"><div style="width:{100 * h.confidence:.0f}%"></div></div>{h.confidence:.2f}'
            f"{' (confirmed)' if h.confirmed else ''}</td><td>{html.escape(h.direction)}</td>"
            f"<td>{html.escape('; '.join(tr_all(h.reasons)))}</td><td><ul>{alts}</ul></td></tr>"
        )
    stopped = "; ".join(stop_sentences(route)) or "-"
    hint_html = f'<p class="hint"><b>{html.escape(hint)}</b></p>' if hint else ""
    return f"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ddd; padding: 4px 8px; vertical-align: top;
font-size: 13px; }} img {{ max-height: 96px; }} .none {{ color: #999; }}
.hint {{ background: #fff6d5; padding: 6px; }} .bar {{ width: 80px; height: 8px; background: #eee; }} .bar div {{ height: 8px; background: #c0392b; }}
ul {{ margin: 0; padding-left: 1em; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Origin sighting #{route.origin}{f", case {html.escape(route.case)}" if route.case else ""};
{len(route.hops)} hops over {len(set(route.cameras))} cameras. {html.escape(stopped)}.
{html.escape(t("times_note"))}
Generated {html.escape(now_iso())}. Works offline: no map tiles, no scripts.</p>{hint_html}
<h2>Map</h2>{_svg_map(route, store)}
<h2>Timeline</h2>{_timeline(route)}
<h2>Hops</h2>
<table><tr><th>#</th><th>thumbnail</th><th>camera</th><th>time</th><th>confidence</th><th>found</th>
<th>evidence</th><th>alternatives</th></tr>
{"".join(rows)}
</table></body></html>
"""


def write_route_html(
    route: Route, store: Any, path: str | Path, *, title: str = "Relay route", hint: str | None = None
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(route_html(route, store, title=title, hint=hint), encoding="utf-8")
    return path
