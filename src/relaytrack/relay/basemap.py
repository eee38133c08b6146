"""The offline base layer of the maps: Seoul's 구 (district) and 동 boundaries, clipped to the view.

The boundary files are open data kept outside the repository (KOSTAT 2013 census boundaries, see
shared/data/seoul/SOURCE.md); they are read at run time from a folder:

- `RELAYTRACK_BOUNDARIES` (a folder of GeoJSON files), else `<shared>/data/seoul/boundaries`
  (`relaytrack.paths.data_dir`, itself moved with RELAYTRACK_SHARED);
- every `*.geojson` / `*.json` file there is a layer of polygons with `name` (and `code`, `name_eng`)
  properties in WGS84 lon/lat; a file whose name holds "sub" or "dong" is the 동 layer, any other the 구 layer.

When the folder or the files are absent the maps draw cameras only and say so (`BaseLayer.note`). Only what
falls in the view is sent or drawn: rings are clipped to the view's box (plus a margin, so the clipped edges
stay outside what is seen) and simplified to about a pixel (Douglas-Peucker), so a page stays small.
No tiles, no network: everything is drawn by the page itself.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from relaytrack.paths import data_dir

Ring = list[tuple[float, float]]  # (lon, lat)
Box = tuple[float, float, float, float]  # west, south, east, north


def boundaries_dir() -> Path:
    """Where the boundary files are looked for (RELAYTRACK_BOUNDARIES, else shared/data/seoul/boundaries)."""
    env = os.environ.get("RELAYTRACK_BOUNDARIES")
    return Path(env) if env else data_dir() / "seoul" / "boundaries"


@dataclass(frozen=True)
class Area:
    level: str  # "district" (구) or "dong" (동)
    code: str
    name: str
    name_eng: str
    rings: tuple[tuple[tuple[float, float], ...], ...]  # outer rings of the polygon parts, lon/lat
    box: Box


@dataclass
class BaseLayer:
    """What a map draws under the cameras: the 구 and 동 areas that fall in the view (clipped, simplified)."""

    available: bool
    note: str  # why there is no base layer (English, stable; the page words it), "" when there is one
    source: str = ""
    districts: list[dict[str, Any]] = field(default_factory=list)
    dongs: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "note": self.note,
            "source": self.source,
            "districts": self.districts,
            "dongs": self.dongs,
        }


def _outer_rings(geom: dict[str, Any]) -> list[Ring]:
    kind, coords = geom.get("type"), geom.get("coordinates") or []
    polys = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    out = []
    for poly in polys:
        if poly and len(poly[0]) >= 3:
            out.append([(float(p[0]), float(p[1])) for p in poly[0]])
    return out


def _level(path: Path) -> str:
    name = path.name.lower()
    return "dong" if "sub" in name or "dong" in name else "district"


@lru_cache(maxsize=4)
def _read(folder: str, stamp: tuple) -> tuple[tuple[Area, ...], str]:
    areas: list[Area] = []
    bad: list[str] = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in (".geojson", ".json"):
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            feats = doc["features"]
        except (OSError, ValueError, KeyError, TypeError):
            bad.append(path.name)
            continue
        level = _level(path)
        for f in feats:
            props = f.get("properties") or {}
            rings = _outer_rings(f.get("geometry") or {})
            if not rings:
                continue
            xs = [p[0] for r in rings for p in r]
            ys = [p[1] for r in rings for p in r]
            areas.append(
                Area(
                    level,
                    str(props.get("code") or ""),
                    str(props.get("name") or ""),
                    str(props.get("name_eng") or props.get("name") or ""),
                    tuple(tuple(r) for r in rings),
                    (min(xs), min(ys), max(xs), max(ys)),
                )
            )
    return tuple(areas), ", ".join(bad)


def load_areas(folder: str | Path | None = None) -> tuple[list[Area], str]:
    """All areas in the boundary folder and a note ("" when some were read; else why none were, naming no
    server path: the console shows it)."""
    folder = Path(folder) if folder else boundaries_dir()
    if not folder.is_dir():
        return [], "no boundary folder (set RELAYTRACK_BOUNDARIES)"
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".geojson", ".json"))
    if not files:
        return [], "no boundary GeoJSON in the boundary folder"
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    areas, bad = _read(str(folder), stamp)
    if not areas:
        return [], "no boundary polygons readable" + (f" ({bad})" if bad else "")
    return list(areas), ""


# ------------------------------------------------------------------------------------------- geometry


def _clip(ring: Ring, box: Box) -> Ring:
    """Sutherland-Hodgman: the part of a polygon ring inside an axis-aligned box."""
    w, s, e, n = box
    edges = (
        (lambda p: p[0] >= w, lambda a, b: _cut_x(a, b, w)),
        (lambda p: p[0] <= e, lambda a, b: _cut_x(a, b, e)),
        (lambda p: p[1] >= s, lambda a, b: _cut_y(a, b, s)),
        (lambda p: p[1] <= n, lambda a, b: _cut_y(a, b, n)),
    )
    out = list(ring)
    for inside, cut in edges:
        if not out:
            break
        src, out = out, []
        prev = src[-1]
        for cur in src:
            if inside(cur):
                if not inside(prev):
                    out.append(cut(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cut(prev, cur))
            prev = cur
    return out


def _cut_x(a, b, x):
    t = (x - a[0]) / (b[0] - a[0])
    return (x, a[1] + t * (b[1] - a[1]))


def _cut_y(a, b, y):
    t = (y - a[1]) / (b[1] - a[1])
    return (a[0] + t * (b[0] - a[0]), y)


def simplify(points: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Douglas-Peucker on a polyline (iterative): points closer than `tol` to the kept line are dropped."""
    if len(points) < 3 or tol <= 0:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        (x1, y1), (x2, y2) = points[i], points[j]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy)
        best, at = -1.0, -1
        for k in range(i + 1, j):
            px, py = points[k]
            d = abs(dy * (px - x1) - dx * (py - y1)) / norm if norm else math.hypot(px - x1, py - y1)
            if d > best:
                best, at = d, k
        if at > 0 and best > tol:
            keep[at] = True
            stack += [(i, at), (at, j)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _area_centroid(ring: Ring) -> tuple[float, float, float]:
    """(x, y, |area|) of a ring; the vertex mean for a degenerate one."""
    a = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        c = x1 * y2 - x2 * y1
        a += c
        cx += (x1 + x2) * c
        cy += (y1 + y2) * c
    if abs(a) < 1e-18:
        return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring), 0.0
    return cx / (3 * a), cy / (3 * a), abs(a) / 2


def _inside(x: float, y: float, ring: Ring) -> bool:
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def label_point(ring: Ring) -> tuple[float, float]:
    """A point inside the ring to hang its name on: the centroid when it lies inside, else the middle of the
    widest inside stretch of the horizontal line through the centroid."""
    cx, cy, _ = _area_centroid(ring)
    if _inside(cx, cy, ring):
        return cx, cy
    xs = []
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > cy) != (y2 > cy):
            xs.append(x1 + (cy - y1) * (x2 - x1) / (y2 - y1))
    xs.sort()
    spans = [(xs[i + 1] - xs[i], (xs[i] + xs[i + 1]) / 2) for i in range(0, len(xs) - 1, 2)]
    return (max(spans)[1], cy) if spans else (cx, cy)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def base_layer(box: Box, *, folder: str | Path | None = None, pixels: float = 800.0) -> BaseLayer:
    """The 구 and 동 areas meeting `box` (west, south, east, north in degrees), their rings clipped to the box
    grown by 5 % and simplified to about one pixel of a `pixels`-wide view; each with a label point (lon,
    lat) inside what is seen, or None when its visible part is too small to name."""
    areas, note = load_areas(folder)
    if not areas:
        return BaseLayer(False, note)
    w, s, e, n = box
    mx, my = (e - w) * 0.05 + 1e-6, (n - s) * 0.05 + 1e-6
    grown = (w - mx, s - my, e + mx, n + my)
    tol = max(e - w, n - s) / max(pixels, 50.0)
    k = math.cos(math.radians((s + n) / 2))  # a degree of longitude is shorter: simplify in ground units
    out: dict[str, list[dict[str, Any]]] = {"district": [], "dong": []}
    for a in areas:
        if not _overlaps(a.box, grown):
            continue
        rings, best = [], (0.0, None)
        for r in a.rings:
            clipped = _clip(list(r), grown)
            if len(clipped) < 3:
                continue
            scaled = simplify([(x * k, y) for x, y in clipped + clipped[:1]], tol)
            ring = [(x / k, y) for x, y in scaled[:-1]]
            if len(ring) < 3:
                continue
            rings.append([[round(x, 6), round(y, 6)] for x, y in ring])
            vis = _clip(list(r), box)
            if len(vis) >= 3:
                _, _, area = _area_centroid(vis)
                if area > best[0]:
                    best = (area, vis)
        if not rings:
            continue
        where = None
        if best[1] is not None and best[0] > (tol * 12) ** 2:
            lx, ly = label_point(best[1])
            where = [round(lx, 6), round(ly, 6)]
        out[a.level].append(
            {"code": a.code, "name": a.name, "name_eng": a.name_eng, "rings": rings, "label_at": where}
        )
    src = Path(folder) if folder else boundaries_dir()
    names = ", ".join(sorted(p.name for p in src.iterdir() if p.suffix.lower() in (".geojson", ".json")))
    return BaseLayer(True, "", names, out["district"], out["dong"])
