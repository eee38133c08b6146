"""Composite score, reasons, rankings (cells, 동, 구, cameras), coverage gaps and time-of-day risk."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

from relaytrack.risk.config import RiskConfig
from relaytrack.risk.grid import Grid
from relaytrack.risk.indicators import IndicatorValues
from relaytrack.risk.layers import DistrictStats, Points

SLOTS = [f"{h:02d}-{h + 2:02d}" for h in range(0, 24, 2)]


@dataclass
class RiskResult:
    """Everything a build produced; the functions below read it, report.py writes it."""

    cfg: RiskConfig
    grid: Grid
    ids: list[str]
    indicators: list[IndicatorValues]
    skipped: dict[str, str]
    score: np.ndarray  # 0..100 per cell
    contrib: np.ndarray  # (cells, indicators): points each indicator adds to the score
    points: dict[str, Points]
    stats: DistrictStats
    cam_dist: np.ndarray  # metres from each cell centre to the nearest camera
    gap: np.ndarray  # bool per cell: high risk and no camera within the coverage radius
    residential: np.ndarray  # 0..1 per cell: share of residential-purpose camera sites nearby
    incident_slots: np.ndarray  # (incidents,) 2-hour slot index of each incident, -1 unknown
    seconds: dict[str, float] = field(default_factory=dict)

    _top: np.ndarray | None = None  # (cells, 3) indicator indices lifting each cell most; built once

    def lift(self) -> np.ndarray:
        """Each indicator's contribution minus its city-wide mean contribution, per cell."""
        return self.contrib - self.contrib.mean(axis=0)

    def top_lift(self) -> np.ndarray:
        if self._top is None:
            self._top = np.argsort(-self.lift(), axis=1)[:, :3]
        return self._top

    def names(self) -> list[str]:
        return [iv.name for iv in self.indicators]

    def index_of(self, cell_id: str) -> int:
        try:
            return self.ids.index(cell_id)
        except ValueError:
            return -1


def composite(indicators: list[IndicatorValues]) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of the normalised indicators on 0..100, and each indicator's share of it."""
    w = np.array([iv.spec.weight for iv in indicators], dtype=np.float64)
    norm = np.column_stack([iv.norm for iv in indicators])
    contrib = norm * (w / w.sum()) * 100.0
    return contrib.sum(axis=1), contrib


def coverage_gaps(score: np.ndarray, cam_dist: np.ndarray, cfg: RiskConfig) -> np.ndarray:
    cut = np.percentile(score, cfg.gap_min_percentile) if len(score) else 0.0
    return (score >= cut) & (cam_dist > cfg.coverage_radius_m)


def residential_share(grid: Grid, sites: Points | None, cfg: RiskConfig) -> np.ndarray:
    """Camera-weighted share of nearby camera sites installed for residential purposes (생활방범 ...).

    No land-use layer is in the data, so the purpose of the cameras already on a street stands in for
    'residential'. Cells with no site within the radius get 0.5 (unknown)."""
    out = np.full(len(grid), 0.5)
    if sites is None or len(sites) == 0 or "object" not in sites.labels:
        return out
    res = np.isin(np.array(sites.labels["object"]), cfg.residential_purposes).astype(np.float64)
    tree = cKDTree(np.column_stack([sites.x, sites.y]))
    near = tree.query_ball_point(np.column_stack([grid.cx, grid.cy]), r=cfg.residential_radius_m)
    lens = np.fromiter((len(v) for v in near), dtype=np.int64, count=len(near))
    if lens.sum() == 0:
        return out
    flat = np.fromiter((j for v in near for j in v), dtype=np.int64, count=int(lens.sum()))
    owner = np.repeat(np.arange(len(near)), lens)
    w = sites.weight[flat]
    tot = np.bincount(owner, weights=w, minlength=len(near))
    hit = np.bincount(owner, weights=w * res[flat], minlength=len(near))
    has = lens > 0
    out[has] = hit[has] / tot[has]
    return out


def _pct(score: np.ndarray) -> np.ndarray:
    order = np.argsort(np.argsort(score))
    return 100.0 * order / max(len(score) - 1, 1)


def cell_reasons(res: RiskResult, i: int, k: int = 3) -> list[str]:
    """The k indicators that lift this cell most above the city's average contribution, with raw values."""
    cache = res.__dict__.setdefault("_reasons", {})
    if k == 3 and i in cache:
        return cache[i]
    out = _cell_reasons(res, i, k)
    if k == 3:
        cache[i] = out
    return out


def _cell_reasons(res: RiskResult, i: int, k: int) -> list[str]:
    top = res.top_lift()[i][:k]
    lift = res.contrib[i] - res.contrib.mean(axis=0) if k > 3 else None
    if lift is not None:
        top = np.argsort(-lift)[:k]
    out = []
    for j in top:
        if res.contrib[i, j] - _city(res)[j] <= 0:
            break
        iv = res.indicators[j]
        out.append(f"{iv.name}={_fmt(iv.raw[i])} {iv.unit} (p{int(round(iv.norm[i] * 100))})")
    return out


def _city(res: RiskResult) -> np.ndarray:
    if not hasattr(res, "_city"):
        res._city = res.contrib.mean(axis=0)  # type: ignore[attr-defined]
    return res._city  # type: ignore[attr-defined]


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def rank_cells(res: RiskResult, n: int, gaps_only: bool = False) -> list[dict]:
    idx = np.flatnonzero(res.gap) if gaps_only else np.arange(len(res.score))
    idx = idx[np.argsort(-res.score[idx], kind="stable")][:n]
    lon, lat = _cell_lonlat(res, idx)
    g = res.grid
    # Plain Python lists first: per-element numpy scalars make this loop several times slower.
    score = np.round(res.score[idx], 2).tolist()
    lat_l, lon_l = np.round(lat, 6).tolist(), np.round(lon, 6).tolist()
    cam = np.round(res.cam_dist[idx], 1).tolist()
    gap = res.gap[idx].tolist()
    dist, dong = g.district[idx].tolist(), g.dong[idx].tolist()
    return [
        {
            "rank": r + 1,
            "cell": res.ids[i],
            "score": score[r],
            "district": g.districts.names[dist[r]],
            "dong": g.dongs.names[dong[r]] if dong[r] >= 0 else "",
            "lat": lat_l[r],
            "lon": lon_l[r],
            "nearest_camera_m": cam[r],
            "gap": gap[r],
            "reasons": cell_reasons(res, i),
        }
        for r, i in enumerate(idx.tolist())
    ]


def _cell_lonlat(res: RiskResult, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(res.grid.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(res.grid.cx[idx], res.grid.cy[idx])
    return np.atleast_1d(lon), np.atleast_1d(lat)


def rank_areas(res: RiskResult, level: str, n: int | None = None) -> list[dict]:
    """구 or 동 ranked by mean cell score; reasons = indicators furthest above the city average there."""
    areas = res.grid.districts if level == "district" else res.grid.dongs
    which = res.grid.district if level == "district" else res.grid.dong
    ok = which >= 0
    k = len(areas)
    cnt = np.bincount(which[ok], minlength=k).astype(np.float64)
    mean = np.bincount(which[ok], weights=res.score[ok], minlength=k) / np.maximum(cnt, 1)
    gaps = np.bincount(which[ok], weights=res.gap[ok].astype(np.float64), minlength=k)
    cams = np.zeros(k)
    if "cameras" in res.points and len(res.points["cameras"]):
        cam = res.points["cameras"]
        ci = areas.locate(cam.x, cam.y, max_m=300.0)
        cams = np.bincount(ci[ci >= 0], minlength=k).astype(np.float64)
    city = res.contrib.mean(axis=0)
    order = [a for a in np.argsort(-mean, kind="stable") if cnt[a] > 0]
    out = []
    for r, a in enumerate(order[:n] if n else order):
        sel = ok & (which == a)
        lift = res.contrib[sel].mean(axis=0) - city
        reasons = []
        for j in np.argsort(-lift)[:3]:
            if lift[j] <= 0:
                break
            iv = res.indicators[j]
            reasons.append(
                f"{iv.name}: mean {_fmt(float(iv.raw[sel].mean()))} {iv.unit} "
                f"(city {_fmt(float(iv.raw.mean()))})"
            )
        out.append(
            {
                "rank": r + 1,
                level: areas.names[a],
                "code": areas.codes[a],
                "score": round(float(mean[a]), 2),
                "cells": int(cnt[a]),
                "gap_cells": int(gaps[a]),
                "cameras": int(cams[a]),
                "reasons": reasons,
            }
        )
    return out


def camera_scores(res: RiskResult, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Courier-watch priority of cameras at grid-CRS points: the risk of the cell the camera sits in,
    raised where the street is residential (dead drops are left around homes: FACTS.md). Returns
    (priority 0..100, cell index; -1 outside the grid)."""
    cell = res.grid.lookup(x, y)
    score = np.where(cell >= 0, res.score[np.maximum(cell, 0)], 0.0)
    resid = np.where(cell >= 0, res.residential[np.maximum(cell, 0)], 0.0)
    return score * (0.5 + 0.5 * resid), cell


def rank_cameras(res: RiskResult, n: int | None = None) -> list[dict]:
    cam = res.points.get("cameras")
    if cam is None or len(cam) == 0:
        return []
    prio, cell = camera_scores(res, cam.x, cam.y)
    order = np.argsort(-prio, kind="stable")
    if n:
        order = order[:n]
    label = next(iter(cam.labels.values()), None)
    lat, lon, pr, ce = cam.lat.tolist(), cam.lon.tolist(), prio.tolist(), cell.tolist()
    return [
        _camera_row(res, r + 1, cam.ids[i], lat[i], lon[i], pr[i], ce[i], label[i] if label else "")
        for r, i in enumerate(order.tolist())
    ]


def _camera_row(
    res: RiskResult, rank: int, cid: str, lat: float, lon: float, prio: float, cell: int, label: str
) -> dict:
    row = {
        "rank": rank,
        "camera": cid,
        "score": round(prio, 2),
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "district": label,
        "cell": res.ids[cell] if cell >= 0 else "",
        "cell_score": round(float(res.score[cell]), 2) if cell >= 0 else None,
        "residential": round(float(res.residential[cell]), 2) if cell >= 0 else None,
        "reasons": [],
    }
    if cell >= 0:
        g = res.grid
        row["district"] = g.districts.names[g.district[cell]]
        row["reasons"] = (
            [f"cell risk {row['cell_score']:.0f}/100"]
            + cell_reasons(res, cell)
            + [f"residential street share {row['residential']:.2f}"]
        )
    else:
        row["reasons"] = ["outside the Seoul grid"]
    return row


def camera_priority(res: RiskResult, cameras: list[tuple[str, float, float]]) -> list[dict]:
    """Rank any cameras (id, lat, lon), e.g. the store's own, for courier watch; highest first."""
    if not cameras:
        return []
    tr = Transformer.from_crs("EPSG:4326", res.grid.crs, always_xy=True)
    lat = np.array([c[1] for c in cameras], dtype=np.float64)
    lon = np.array([c[2] for c in cameras], dtype=np.float64)
    x, y = tr.transform(lon, lat)
    prio, cell = camera_scores(res, np.asarray(x), np.asarray(y))
    order = np.argsort(-prio, kind="stable")
    return [
        _camera_row(res, r + 1, cameras[i][0], lat[i], lon[i], float(prio[i]), int(cell[i]), "")
        for r, i in enumerate(order)
    ]


def slot_of(t: float) -> int:
    """2-hour slot (0..11) of a local-time hour given as a float hour of day."""
    return int(t // 2) % 12


def time_profile(res: RiskResult, cell: int, pseudo: float = 5.0) -> list[dict]:
    """Risk of one cell per 2-hour slot: the cell's score spread by a slot distribution that starts from
    the national time-of-day prior and moves toward the timed incidents within the incidents radius
    (pseudo = how many incidents the prior is worth)."""
    prior = res.stats.slot_prior if res.stats.slot_prior is not None else np.full(12, 1 / 12)
    counts = np.zeros(12)
    inc = res.points.get("alerts")
    spec = res.cfg.indicators.get("incidents")
    if inc is not None and len(inc) and spec is not None:
        d = np.hypot(inc.x - res.grid.cx[cell], inc.y - res.grid.cy[cell])
        near = (d <= spec.radius_m) & (res.incident_slots >= 0)
        counts = np.bincount(res.incident_slots[near], minlength=12).astype(np.float64)
    dist = (counts + pseudo * prior) / (counts.sum() + pseudo)
    return [
        {
            "slot": SLOTS[s],
            "share": round(float(dist[s]), 4),
            "risk": round(float(res.score[cell] * dist[s] * 12), 2),
            "incidents": int(counts[s]),
        }
        for s in range(12)
    ]


def city_time_profile(res: RiskResult) -> dict:
    prior = res.stats.slot_prior
    inc = (
        np.bincount(res.incident_slots[res.incident_slots >= 0], minlength=12)
        if len(res.incident_slots)
        else np.zeros(12, dtype=np.int64)
    )
    return {
        "slots": SLOTS,
        "prior": None if prior is None else [round(float(p), 4) for p in prior],
        "prior_source": "경찰청 범죄 발생 시간대 (national, 3-hour bands spread evenly over hours)",
        "incidents": [int(v) for v in inc],
    }
