"""The 100 m grid over Seoul and the 구/동 each cell belongs to.

Cells follow the national point-number grid (국가지점번호): EPSG:5179 squares aligned to whole 100 m, named
by two Hangul letters for the 100 km square and the 4+4 digit (10 m) number of the cell's lower-left corner
(e.g. "다사 5390 5200" near City Hall), so ids match what
Korean agencies use. Only cells whose centre lies inside the 구 boundaries are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely import STRtree

from relaytrack.errors import InputError

# 국가지점번호 100 km square letters, from the grid origin (700 km E, 1300 km N in EPSG:5179).
GRID_LETTERS = "가나다라마바사아"
ORIGIN_X, ORIGIN_Y = 700_000.0, 1_300_000.0


@dataclass
class Areas:
    """Polygons of one level (구 or 동) in the grid CRS."""

    codes: list[str]
    names: list[str]
    geoms: np.ndarray  # shapely geometries, grid CRS
    tree: STRtree

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, x: np.ndarray, y: np.ndarray, max_m: float = 0.0) -> np.ndarray:
        """Index of the area holding each point, -1 if none; points within max_m of an area snap to it
        (the boundaries are simplified, so real points on the edge can fall just outside)."""
        pts = shapely.points(x, y)
        out = np.full(len(x), -1, dtype=np.int64)
        pi, ai = self.tree.query(pts, predicate="within")
        out[pi] = ai
        if max_m > 0:
            miss = np.flatnonzero(out < 0)
            if miss.size:
                mi, ai2 = self.tree.query_nearest(pts[miss], max_distance=max_m, all_matches=False)
                out[miss[mi]] = ai2
        return out


def to_grid(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def read_areas(path: Path, crs: str) -> Areas:
    """A GeoJSON FeatureCollection of polygons with `code` and `name` properties (WGS84 lon/lat)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read boundary GeoJSON: {err}") from err
    feats = data.get("features") if isinstance(data, dict) else None
    if not feats:
        raise InputError(f"{path}: no features in boundary GeoJSON")
    tr = to_grid(crs)
    codes, names, geoms = [], [], []
    for i, f in enumerate(feats, start=1):
        props = f.get("properties") or {}
        if "name" not in props:
            raise InputError(f"{path}: feature {i} has no 'name' property")
        g = shapely.geometry.shape(f["geometry"])
        lon, lat = g.bounds[0], g.bounds[1]
        if not (120 < lon < 135 and 30 < lat < 45):
            raise InputError(
                f"{path}: feature {i} ({props['name']}) is not in WGS84 lon/lat over Korea "
                f"(bounds start at {lon:.1f}, {lat:.1f})"
            )
        g = shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        codes.append(str(props.get("code", props["name"])))
        names.append(str(props["name"]))
        geoms.append(shapely.make_valid(g))
    arr = np.array(geoms, dtype=object)
    return Areas(codes=codes, names=names, geoms=arr, tree=STRtree(arr))


@dataclass
class Grid:
    """Cells of side `cell_m`: lower-left corners, centres, ids and the 구/동 index of each."""

    crs: str
    cell_m: float
    x0: np.ndarray  # lower-left corner, grid CRS
    y0: np.ndarray
    district: np.ndarray  # index into districts
    dong: np.ndarray  # index into dongs (-1 where the simplified 동 layer leaves a gap)
    districts: Areas
    dongs: Areas
    outline: shapely.Geometry  # union of 구, grid CRS

    def __len__(self) -> int:
        return len(self.x0)

    @property
    def cx(self) -> np.ndarray:
        return self.x0 + self.cell_m / 2

    @property
    def cy(self) -> np.ndarray:
        return self.y0 + self.cell_m / 2

    def ids(self) -> list[str]:
        return cell_ids(self.x0, self.y0)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell index of each grid-CRS point, -1 outside the grid."""
        kx = np.floor(np.asarray(x) / self.cell_m).astype(np.int64)
        ky = np.floor(np.asarray(y) / self.cell_m).astype(np.int64)
        keys = _key(kx, ky)
        own = _key(
            np.round(self.x0 / self.cell_m).astype(np.int64), np.round(self.y0 / self.cell_m).astype(np.int64)
        )
        order = np.argsort(own)
        pos = np.searchsorted(own[order], keys)
        pos = np.clip(pos, 0, len(own) - 1)
        hit = own[order][pos] == keys
        return np.where(hit, order[pos], -1)


def _key(kx: np.ndarray, ky: np.ndarray) -> np.ndarray:
    return kx * 10_000_000 + ky


def cell_ids(x0: np.ndarray, y0: np.ndarray) -> list[str]:
    """국가지점번호-style ids of 100 m cells from their lower-left corners (EPSG:5179)."""
    dx, dy = x0 - ORIGIN_X, y0 - ORIGIN_Y
    lx = (dx // 100_000).astype(int)
    ly = (dy // 100_000).astype(int)
    ex = ((dx % 100_000) // 10).astype(int)  # 10 m digits: the corner's own 국가지점번호
    ey = ((dy % 100_000) // 10).astype(int)
    out = []
    for a, b, c, d in zip(lx, ly, ex, ey, strict=True):
        la = GRID_LETTERS[a] if 0 <= a < len(GRID_LETTERS) else "?"
        lb = GRID_LETTERS[b] if 0 <= b < len(GRID_LETTERS) else "?"
        out.append(f"{la}{lb} {c:04d} {d:04d}")
    return out


def build_grid(districts: Areas, dongs: Areas, cell_m: float, crs: str) -> Grid:
    outline = shapely.union_all(districts.geoms)
    minx, miny, maxx, maxy = outline.bounds
    xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
    ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    cx, cy = gx + cell_m / 2, gy + cell_m / 2
    # District lookup doubles as the inside-Seoul test (one STRtree query instead of a big contains).
    dist = districts.locate(cx, cy)
    keep = dist >= 0
    gx, gy, cx, cy, dist = gx[keep], gy[keep], cx[keep], cy[keep], dist[keep]
    dong = dongs.locate(cx, cy, max_m=cell_m * 5)
    return Grid(
        crs=crs,
        cell_m=cell_m,
        x0=gx,
        y0=gy,
        district=dist,
        dong=dong,
        districts=districts,
        dongs=dongs,
        outline=outline,
    )
