"""One build of the index: boundaries -> grid -> layers -> indicators -> scores (library entry point)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

from relaytrack.errors import InputError
from relaytrack.risk.config import RiskConfig
from relaytrack.risk.grid import build_grid, read_areas
from relaytrack.risk.indicators import compute_indicators
from relaytrack.risk.io import BadRows
from relaytrack.risk.layers import Points, load_addresses, load_district_stats, load_points
from relaytrack.risk.score import RiskResult, composite, coverage_gaps, residential_share

SEOUL_TZ = ZoneInfo("Asia/Seoul")


def build(
    cfg: RiskConfig | None = None,
    alerts: Iterable[Any] | None = None,
    step: Callable[[str], None] | None = None,
) -> RiskResult:
    """Build the index. `alerts`: confirmed alerts (see alerts_to_points) added as the incidents layer."""
    cfg = cfg or RiskConfig()
    secs: dict[str, float] = {}
    t0 = t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        secs[name] = round(now - t, 3)
        t = now
        if step:
            step(name)

    districts = read_areas(cfg.resolve(cfg.districts_geojson), cfg.crs)
    dongs = read_areas(cfg.resolve(cfg.dongs_geojson), cfg.crs)
    grid = build_grid(districts, dongs, cfg.cell_m, cfg.crs)
    lap("grid")
    points: dict[str, Points] = {n: load_points(n, layer, cfg, grid) for n, layer in cfg.points.items()}
    for n, layer in cfg.addresses.items():
        points[n] = load_addresses(n, layer, cfg, grid)
    stats = load_district_stats(cfg, districts)
    lap("layers")
    inc, slots = alerts_to_points(alerts or [], grid.crs, points.get("cameras"))
    points["alerts"] = inc
    # Keep the incident slots aligned with the incident points that survived the Seoul check.
    inside = grid.districts.locate(inc.x, inc.y, max_m=300.0) >= 0 if len(inc) else np.zeros(0, dtype=bool)
    if len(inc) and not inside.all():
        for k in np.flatnonzero(~inside):
            inc.ledger.skip(int(inc.rows[k]), "outside_seoul", f"alert {inc.ids[k]} is outside Seoul")
        points["alerts"] = _subset(inc, inside)
        slots = slots[inside]
    indicators, skipped = compute_indicators(grid, points, stats, cfg)
    score, contrib = composite(indicators)
    cams = points.get("cameras")
    if cams is not None and len(cams):
        cam_dist, _ = cKDTree(np.column_stack([cams.x, cams.y])).query(
            np.column_stack([grid.cx, grid.cy]), k=1
        )
    else:
        cam_dist = np.full(len(grid), np.inf)
    lap("indicators")
    resid = residential_share(grid, points.get("camera_sites"), cfg)
    res = RiskResult(
        cfg=cfg,
        grid=grid,
        ids=grid.ids(),
        indicators=indicators,
        skipped=skipped,
        score=score,
        contrib=contrib,
        points=points,
        stats=stats,
        cam_dist=cam_dist,
        gap=coverage_gaps(score, cam_dist, cfg),
        residential=resid,
        incident_slots=slots,
        seconds=secs,
    )
    lap("scores")
    secs["build"] = round(time.perf_counter() - t0, 3)
    return res


def _subset(p: Points, keep: np.ndarray) -> Points:
    idx = np.flatnonzero(keep)
    p.ledger.kept = len(idx) if p.ledger else len(idx)
    return Points(
        p.name,
        p.x[idx],
        p.y[idx],
        p.lon[idx],
        p.lat[idx],
        [p.ids[i] for i in idx],
        p.rows[idx],
        p.weight[idx],
        {k: [v[i] for i in idx] for k, v in p.labels.items()},
        p.ledger,
    )


def _get(a: Any, key: str) -> Any:
    return a.get(key) if isinstance(a, dict) else getattr(a, key, None)


def _hour(t: Any) -> float | None:
    """Local (Asia/Seoul) hour of day of an epoch, ISO string or datetime; None if absent."""
    if t is None or t == "":
        return None
    if isinstance(t, int | float):
        dt = datetime.fromtimestamp(float(t), tz=SEOUL_TZ)
    elif isinstance(t, datetime):
        dt = t if t.tzinfo is None else t.astimezone(SEOUL_TZ)
    else:
        dt = datetime.fromisoformat(str(t).replace("Z", "+00:00"))
        dt = dt if dt.tzinfo is None else dt.astimezone(SEOUL_TZ)
    return dt.hour + dt.minute / 60.0


def alerts_to_points(
    alerts: Iterable[Any], crs: str, cameras: Points | None = None
) -> tuple[Points, np.ndarray]:
    """Confirmed alerts -> an incident point layer and each incident's 2-hour slot (-1 if untimed).

    Each alert is a dict or object with `camera_id` (or `camera`), `lat`, `lon` and `time` (epoch seconds,
    ISO string or datetime; naive times are Seoul local). Alerts without lat/lon are placed at their
    camera when the camera id is in the cameras layer; others are counted as bad rows."""
    ledger = BadRows(layer="alerts", path="confirmed alerts", encoding="-")
    cam_at = {cid: (cameras.lon[i], cameras.lat[i]) for i, cid in enumerate(cameras.ids)} if cameras else {}
    lon, lat, ids, rows, slots = [], [], [], [], []
    for i, a in enumerate(alerts, start=1):
        ledger.read += 1
        cid = _get(a, "camera_id") or _get(a, "camera") or ""
        la, lo = _get(a, "lat"), _get(a, "lon")
        if (la is None or lo is None) and cid in cam_at:
            lo, la = cam_at[cid]
        try:
            la, lo = float(la), float(lo)
        except (TypeError, ValueError):
            ledger.skip(i, "no_coordinates", f"alert {i} (camera {cid!r}) has no lat/lon and no known camera")
            continue
        try:
            h = _hour(_get(a, "time"))
        except (ValueError, OSError, OverflowError):
            ledger.skip(i, "unparsable", f"alert {i}: time {_get(a, 'time')!r} is not epoch/ISO")
            continue
        lon.append(lo)
        lat.append(la)
        ids.append(str(cid) or f"alert-{i}")
        rows.append(i)
        slots.append(-1 if h is None else int(h // 2) % 12)
    ledger.kept = len(lon)
    lo_a, la_a = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if len(lo_a):
        x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lo_a, la_a)
    else:
        x = y = np.zeros(0)
    pts = Points(
        "alerts",
        np.asarray(x),
        np.asarray(y),
        lo_a,
        la_a,
        ids,
        np.asarray(rows, dtype=np.int64),
        np.ones(len(lo_a)),
        {},
        ledger,
    )
    return pts, np.asarray(slots, dtype=np.int64)


def add_alerts(res: RiskResult, alerts: Iterable[Any]) -> RiskResult:
    """Rebuild with confirmed alerts as the incidents layer (the index learns from the system's findings).

    Alerts are added to those already in `res`; a full rebuild keeps every indicator consistent."""
    old = res.points.get("alerts")
    prev = (
        [
            {"camera_id": old.ids[i], "lat": old.lat[i], "lon": old.lon[i], "time": None}
            for i in range(len(old))
        ]
        if old is not None
        else []
    )
    # Previous slots are kept by re-encoding them as an hour in the slot.
    for i, s in enumerate(res.incident_slots):
        if s >= 0:
            prev[i]["time"] = datetime(2000, 1, 1, int(s) * 2, tzinfo=SEOUL_TZ).isoformat()
    new = list(alerts)
    if not new:
        raise InputError("add_alerts: no alerts given")
    return build(res.cfg, alerts=prev + new)
