"""Route outputs: GeoJSON (timed LineString + camera points), an offline HTML report and MOTChallenge
files with global identities. Reporting depends on the relay core, never the reverse."""

from __future__ import annotations

import base64
import html
import json
import time
from pathlib import Path
from typing import Any

from relaytrack.clock import human, to_seoul_iso
from relaytrack.i18n import lang, t, tr, tr_all
from relaytrack.relay.deadend import stop_sentences
from relaytrack.relay.network import all_cameras
from relaytrack.relay.report_map import route_map
from relaytrack.relay.report_text import rt
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
            f'opacity="{0.3 + 0.7 * h.confidence:.2f}"><title>'
            f"{html.escape(rt('hop_title', k=k + 1, s=h.sighting.id, c=f'{h.confidence:.2f}'))}</title></rect>"
        )
    parts.append(
        f'<text x="{left}" y="{height - 4}" font-size="10">{html.escape(human(t_lo))}</text>'
        f'<text x="{width - 10}" y="{height - 4}" font-size="10" text-anchor="end">'
        f"+{span:.0f} s</text></svg>"
    )
    return "".join(parts)


def route_html(
    route: Route,
    store: Any,
    *,
    title: str | None = None,
    hint: str | None = None,
    boundaries: str | Path | None = None,
) -> str:
    """The offline report, in the current language (relaytrack.i18n) and in Seoul time throughout: summary,
    the map (relay.report_map: 구/동 outlines from `boundaries`, else RELAYTRACK_BOUNDARIES or the shared
    data, cameras by purpose, the route with times and directions), timeline and hops. `hint` (a dead end's
    suggestion, see relay.deadend) is shown under the summary."""
    conn = _conn(store)
    title = title or rt("title_from", origin=route.origin)
    rows = []
    for k, h in enumerate(route.hops):
        jpeg = thumbnail(conn, h.sighting.id)
        img = (
            f'<img alt="{html.escape(rt("sighting_alt", s=h.sighting.id))}" '
            f'src="data:image/jpeg;base64,{base64.b64encode(jpeg).decode()}">'
            if jpeg
            else f'<span class="none">{html.escape(rt("no_thumb"))}</span>'
        )
        alts = "".join(
            f"<li>#{a['sighting']} {html.escape(str(a['camera']))} ({a['confidence']:.2f})</li>"
            for a in h.alternatives
        )
        link = h.link or {}
        via = "<br>" + html.escape(rt("via", cams="/".join(link.get("via") or []))) if link.get("via") else ""
        small = (
            rt("clip", a=f"{h.sighting.start:.1f}", b=f"{h.sighting.end:.1f}")
            + ", "
            + rt("frames", a=h.sighting.first_frame, b=h.sighting.last_frame)
        )
        confirmed = f" ({html.escape(rt('confirmed'))})" if h.confirmed else ""
        rows.append(
            f"<tr><td>{k + 1}</td><td>{img}</td><td><b>{html.escape(h.sighting.camera)}</b><br>#{h.sighting.id}"
            f"{via}</td><td>{html.escape(human(h.true_start))}<br><small>{html.escape(small)}</small></td>"
            f'<td><div class="bar"><div style="width:{100 * h.confidence:.0f}%"></div></div>{h.confidence:.2f}'
            f"{confirmed}</td><td>{html.escape(tr(h.direction))}</td>"
            f"<td>{html.escape('; '.join(tr_all(h.reasons)))}</td><td><ul>{alts}</ul></td></tr>"
        )
    stopped = "; ".join(stop_sentences(route)) or "-"
    hint_html = f'<p class="hint"><b>{html.escape(hint)}</b></p>' if hint else ""
    summary = rt(
        "summary",
        origin=route.origin,
        case=rt("case", case=route.case) if route.case else "",
        hops=len(route.hops),
        cameras=len(set(route.cameras)),
        stopped=stopped,
    )
    heads = "".join(
        f"<th>{html.escape(rt(k))}</th>"
        for k in (
            "col_no",
            "col_thumb",
            "col_camera",
            "col_time",
            "col_conf",
            "col_found",
            "col_reasons",
            "col_alts",
        )
    )
    return f"""<!doctype html>
<html lang="{lang()}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ddd; padding: 4px 8px; vertical-align: top;
font-size: 13px; }} img {{ max-height: 96px; }} .none {{ color: #999; }} small {{ color: #666; }}
.hint {{ background: #fff6d5; padding: 6px; }} .bar {{ width: 80px; height: 8px; background: #eee; }} .bar div {{ height: 8px; background: #c0392b; }}
ul {{ margin: 0; padding-left: 1em; }} .route-map {{ border: 1px solid #ccc; max-width: 100%; height: auto; }}
.legend {{ font-size: 12px; margin: 4px 0; }} .legend-item {{ margin-right: 12px; white-space: nowrap; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }}
.note {{ font-size: 12px; color: #666; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(summary)}
{html.escape(t("times_note"))}
{html.escape(rt("generated", now=human(time.time())))}</p>{hint_html}
<h2>{html.escape(rt("map"))}</h2>{route_map(route, conn, boundaries=boundaries)}
<h2>{html.escape(rt("timeline"))}</h2>{_timeline(route)}
<h2>{html.escape(rt("hops"))}</h2>
<table><tr>{heads}</tr>
{"".join(rows)}
</table></body></html>
"""


def write_route_html(
    route: Route,
    store: Any,
    path: str | Path,
    *,
    title: str | None = None,
    hint: str | None = None,
    boundaries: str | Path | None = None,
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(route_html(route, store, title=title, hint=hint, boundaries=boundaries), encoding="utf-8")
    return path
