"""Indicator layers: point files (CSV lat/lon or projected x/y, GeoJSON), address-only points, 구 tables.

Every loader checks coordinates against Seoul's boundary: a few rows outside are skipped and counted, most
rows outside means the file's coordinate system is not the one configured, which is an error naming the
file and an example row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyproj import Transformer
from pyproj.exceptions import CRSError

from relaytrack.errors import ConfigError, InputError
from relaytrack.risk.config import AddressLayer, DistrictTables, DistrictValueLayer, PointLayer, RiskConfig
from relaytrack.risk.grid import Areas, Grid
from relaytrack.risk.io import BadRows, KosisTable, number, read_kosis, read_records, read_rows

EDGE_TOLERANCE_M = 300.0  # simplified 구 outlines cut real edge points off by up to a few hundred metres


@dataclass
class Points:
    """One point layer in the grid CRS, with the source row of each point."""

    name: str
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    ids: list[str]
    rows: np.ndarray  # 1-based line number in the file (header = 1)
    weight: np.ndarray  # multiplicity (cameras per site); 1 where the layer has none
    labels: dict[str, list[str]] = field(default_factory=dict)
    ledger: BadRows | None = None

    def __len__(self) -> int:
        return len(self.x)


def norm_district(name: str) -> str:
    """'서울특별시 종로구', '서울종로구', ' 종로구 ' -> '종로구'."""
    n = re.sub(r"\s+", "", name)
    for prefix in ("서울특별시", "서울시", "서울"):
        if n.startswith(prefix) and len(n) > len(prefix) + 1:
            n = n[len(prefix) :]
            break
    # Some city tables write 영등포, 동대문 without the 구 suffix.
    return n if n.endswith("구") or not n else n + "구"


def _empty(name: str, ledger: BadRows) -> Points:
    z = np.zeros(0)
    return Points(name, z, z, z, z, [], np.zeros(0, dtype=np.int64), z, {}, ledger)


def _transformer(src: str, dst: str, path: Path) -> Transformer:
    try:
        return Transformer.from_crs(src, dst, always_xy=True)
    except CRSError as err:
        raise ConfigError(f"{path}: unknown coordinate system {src!r}: {err}") from err


def load_points(name: str, layer: PointLayer, cfg: RiskConfig, grid: Grid) -> Points:
    path = cfg.resolve(layer.path)
    if not path.exists():
        raise InputError(f"layer {name}: file not found: {path}")
    if path.suffix.lower() in (".geojson", ".json"):
        header, rows, enc, coords = _geojson_rows(path)
    else:
        needed = [
            c for c in (layer.lat, layer.lon, layer.x, layer.y, layer.id_column, layer.count_column) if c
        ]
        header, rows, enc = read_records(path, needed + list(layer.where) + layer.label_columns)
        coords = None
    ledger = BadRows(layer=name, path=str(path), encoding=enc)
    col = {h: i for i, h in enumerate(header)}
    where = [(col[k], set(v)) for k, v in layer.where.items()]
    use_latlon = bool(layer.lat and layer.lon) or coords is not None
    ca = col[layer.lon] if layer.lon else col.get(layer.x or "", -1)
    cb = col[layer.lat] if layer.lat else col.get(layer.y or "", -1)
    a_vals, b_vals, rownums, weights = [], [], [], []
    keep_rows: list[list[str]] = []
    for i, row in enumerate(rows):
        line = i + 2
        ledger.read += 1
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))
        if any("\ufffd" in c for c in row):
            ledger.skip(line, "encoding", "bytes that are neither UTF-8 nor CP949")
            continue
        if any(row[c].strip() not in vals for c, vals in where):
            ledger.filtered += 1
            continue
        if coords is not None:
            a, b = coords[i]
        else:
            ta, tb = row[ca].strip(), row[cb].strip()
            if not ta or not tb:
                ledger.skip(line, "no_coordinates", "empty coordinate cell")
                continue
            a, b = number(ta), number(tb)
            if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
                ledger.skip(line, "unparsable", f"coordinates {ta!r}, {tb!r} are not numbers")
                continue
        w = 1.0
        if layer.count_column:
            wv = number(row[col[layer.count_column]])
            w = wv if wv is not None and wv > 0 else 1.0
        a_vals.append(a)
        b_vals.append(b)
        rownums.append(line)
        weights.append(w)
        keep_rows.append(row)
    if not a_vals:
        ledger.kept = 0
        return _empty(name, ledger)
    a = np.asarray(a_vals, dtype=np.float64)
    b = np.asarray(b_vals, dtype=np.float64)
    src = "EPSG:4326" if use_latlon else layer.crs
    if use_latlon:
        _check_latlon(path, a, b, np.asarray(rownums))
    to_grid = _transformer(src, grid.crs, path)
    with np.errstate(all="ignore"):
        gx, gy = to_grid.transform(a, b)
    gx, gy = np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)
    finite = np.isfinite(gx) & np.isfinite(gy)
    inside = np.zeros(len(gx), dtype=bool)
    if finite.any():
        inside[finite] = grid.districts.locate(gx[finite], gy[finite], max_m=EDGE_TOLERANCE_M) >= 0
    share_out = 1.0 - inside.mean()
    if share_out > cfg.max_outside_share:
        k = int(np.flatnonzero(~inside)[0])
        raise InputError(
            f"{path}: {share_out:.0%} of {len(a)} rows fall outside Seoul when read as {src} "
            f"(e.g. row {rownums[k]}: {a[k]}, {b[k]}); wrong coordinate system or columns? "
            f"set crs/x/y or lat/lon for layer {name!r}"
        )
    for k in np.flatnonzero(~inside):
        ledger.skip(rownums[k], "outside_seoul", f"point {a[k]}, {b[k]} ({src}) is outside Seoul")
    back = _transformer(src, "EPSG:4326", path)
    keep = np.flatnonzero(inside)
    if use_latlon:
        lon, lat = a[keep], b[keep]
    else:
        lon, lat = back.transform(a[keep], b[keep])
    rows_kept = np.asarray(rownums, dtype=np.int64)[keep]
    idc = col[layer.id_column] if layer.id_column else -1
    ids = [
        keep_rows[k][idc].strip() if idc >= 0 else f"{name}-{rows_kept[j]:06d}" for j, k in enumerate(keep)
    ]
    labels = {c: [keep_rows[k][col[c]].strip() for k in keep] for c in layer.label_columns if c in col}
    ledger.kept = len(keep)
    return Points(
        name,
        gx[keep],
        gy[keep],
        np.asarray(lon),
        np.asarray(lat),
        ids,
        rows_kept,
        np.asarray(weights)[keep],
        labels,
        ledger,
    )


def _check_latlon(path: Path, lon: np.ndarray, lat: np.ndarray, rows: np.ndarray) -> None:
    """Columns swapped (37.x in lon, 127.x in lat) is the common mistake: say so instead of 'outside'."""
    swapped = (lat > 120) & (lat < 135) & (lon > 30) & (lon < 45)
    if swapped.mean() > 0.5:
        k = int(np.flatnonzero(swapped)[0])
        raise InputError(
            f"{path}: latitude and longitude look swapped (row {rows[k]}: lon={lon[k]}, "
            f"lat={lat[k]}); swap the lat/lon column names in the layer config"
        )
    projected = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if projected.mean() > 0.5:
        k = int(np.flatnonzero(projected)[0])
        raise InputError(
            f"{path}: lat/lon values look projected (row {rows[k]}: {lon[k]}, {lat[k]}); "
            f"configure x/y columns and their crs instead"
        )


def _geojson_rows(path: Path) -> tuple[list[str], list[list[str]], str, list[tuple[float, float]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read GeoJSON: {err}") from err
    feats = data.get("features") if isinstance(data, dict) else None
    if feats is None:
        raise InputError(f"{path}: not a GeoJSON FeatureCollection")
    keys: list[str] = []
    for f in feats:
        for k in f.get("properties") or {}:
            if k not in keys:
                keys.append(k)
    rows, coords = [], []
    for i, f in enumerate(feats, start=1):
        g = f.get("geometry") or {}
        if g.get("type") != "Point" or len(g.get("coordinates") or []) < 2:
            raise InputError(f"{path}: feature {i} is not a Point (got {g.get('type')})")
        coords.append((float(g["coordinates"][0]), float(g["coordinates"][1])))
        props = f.get("properties") or {}
        rows.append(["" if props.get(k) is None else str(props.get(k)) for k in keys])
    return keys, rows, "utf-8", coords


def load_addresses(name: str, layer: AddressLayer, cfg: RiskConfig, grid: Grid) -> Points:
    """Place each row at the centroid of the 동 its name column names, inside the 구 of its address.

    Police posts are named after their area (신당 파출소 -> 신당동), which places them within about a
    동's radius; rows that match no 동 are counted as `unlocated`.
    """
    path = cfg.resolve(layer.path)
    if not path.exists():
        raise InputError(f"layer {name}: file not found: {path}")
    header, rows, enc = read_records(path, [layer.name_column, layer.address_column, *layer.where])
    ledger = BadRows(layer=name, path=str(path), encoding=enc)
    col = {h: i for i, h in enumerate(header)}
    where = [(col[k], set(v)) for k, v in layer.where.items()]
    dongs, districts = grid.dongs, grid.districts
    cent = np.array([[g.centroid.x, g.centroid.y] for g in dongs.geoms])
    dong_gu = districts.locate(cent[:, 0], cent[:, 1], max_m=2000)
    gu_index = {n: i for i, n in enumerate(districts.names)}
    stems = [_dong_stem(n) for n in dongs.names]
    xs, ys, ids, nums = [], [], [], []
    for i, row in enumerate(rows):
        line = i + 2
        ledger.read += 1
        row = row + [""] * (len(header) - len(row))
        if any("\ufffd" in c for c in row):
            ledger.skip(line, "encoding", "bytes that are neither UTF-8 nor CP949")
            continue
        if any(row[c].strip() not in vals for c, vals in where):
            ledger.filtered += 1
            continue
        addr = row[col[layer.address_column]]
        m = re.search(r"(\S+구)\s", addr)
        gu = gu_index.get(norm_district(m.group(1))) if m else None
        if gu is None:
            ledger.skip(line, "outside_seoul", f"no Seoul 구 in address {addr.strip()!r}")
            continue
        label = row[col[layer.name_column]].strip()
        paren = re.search(r"\((\S+?동)", addr)
        wanted = [_dong_stem(label)] + ([_dong_stem(paren.group(1))] if paren else [])
        hits = [j for j in range(len(dongs)) if dong_gu[j] == gu and stems[j] in wanted]
        if not hits:
            hits = [
                j
                for j in range(len(dongs))
                if dong_gu[j] == gu and stems[j].startswith(wanted[0][:2]) and len(wanted[0]) >= 2
            ]
        if not hits:
            ledger.skip(line, "unlocated", f"no 동 named like {label!r} in {districts.names[gu]}")
            continue
        xs.append(float(cent[hits, 0].mean()))
        ys.append(float(cent[hits, 1].mean()))
        ids.append(f"{districts.names[gu]} {label}")
        nums.append(line)
    ledger.kept = len(xs)
    if not xs:
        return _empty(name, ledger)
    x, y = np.asarray(xs), np.asarray(ys)
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    return Points(
        name, x, y, np.asarray(lon), np.asarray(lat), ids, np.asarray(nums), np.ones(len(x)), {}, ledger
    )


def _dong_stem(name: str) -> str:
    """'신당5동' -> '신당', '종로1·2·3·4가동' -> '종로', '을지로3가' -> '을지로', '신당' -> '신당'."""
    n = re.sub(r"동$", "", name.strip())
    n = re.sub(r"[0-9·.,]+(가)?$", "", n)
    return re.sub(r"[0-9·.,]+$", "", n)


# ---- 구 tables -------------------------------------------------------------------------------------------


@dataclass
class DistrictStats:
    """Per-구 arrays aligned with grid.districts, plus the crime series by year."""

    values: dict[str, np.ndarray]
    crime_by_year: dict[int, np.ndarray]
    slot_prior: np.ndarray | None  # share of crimes per 2-hour slot (12), national
    ledgers: list[BadRows]
    years_note: str = ""


def _align(table_path: Path, names: list[str], got: dict[str, float], what: str) -> np.ndarray:
    missing = [n for n in names if n not in got]
    if missing:
        raise InputError(
            f"{table_path}: no {what} row for {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}"
        )
    return np.array([got[n] for n in names], dtype=np.float64)


def _kosis_column(
    tab: KosisTable, areas: Areas, parts: tuple[str, ...], what: str, ledger: BadRows
) -> np.ndarray:
    idx = tab.find(*parts)
    if not idx:
        raise InputError(f"{tab.path}: no column with header {'/'.join(parts)} ({what})")
    c = idx[0]
    got: dict[str, float] = {}
    for i, row in enumerate(tab.rows):
        name = norm_district(row[1] if len(row) > 1 and row[1].strip() not in ("", "소계") else row[0])
        if name not in areas.names:
            continue
        v = number(row[c]) if c < len(row) else None
        if v is None:
            ledger.skip(
                i + 1 + len(tab.columns[0]),
                "unparsable",
                f"{name}: {what} {row[c] if c < len(row) else ''!r}",
            )
            continue
        got[name] = v
    return _align(tab.path, areas.names, got, what)


def load_district_stats(cfg: RiskConfig, areas: Areas) -> DistrictStats:
    t: DistrictTables = cfg.tables
    ledgers: list[BadRows] = []
    values: dict[str, np.ndarray] = {}

    crime_path = cfg.resolve(t.crime_by_year)
    tab = read_kosis(crime_path)
    led = BadRows("crime_by_year", str(crime_path), tab.encoding, read=len(tab.rows))
    years = sorted({int(c[0]) for c in tab.columns if c and c[0].isdigit()})
    by_year: dict[int, np.ndarray] = {}
    for y in years:
        parts = (str(y), "소계", "발생") if tab.find(str(y), "소계", "발생") else (str(y), "소계")
        by_year[y] = _kosis_column(tab, areas, parts, f"{y} crimes", led)
    ledgers.append(led)
    if t.crime_latest:
        p = cfg.resolve(t.crime_latest)
        tab2 = read_kosis(p)
        led2 = BadRows("crime_latest", str(p), tab2.encoding, read=len(tab2.rows))
        for y in sorted({int(c[0]) for c in tab2.columns if c and c[0].isdigit()}):
            if y not in by_year:
                by_year[y] = _kosis_column(tab2, areas, (str(y), "소계"), f"{y} crimes", led2)
        ledgers.append(led2)
    if not by_year:
        raise InputError(f"{crime_path}: no year columns (expected 2014, 2015, ... in the first header row)")

    pop_path = cfg.resolve(t.population)
    ptab = read_kosis(pop_path)
    pled = BadRows("population", str(pop_path), ptab.encoding, read=len(ptab.rows))
    pop_cols = [i for i, c in enumerate(ptab.columns) if any(s.startswith("합계") for s in c) and "소계" in c]
    hh_cols = [i for i, c in enumerate(ptab.columns) if any(s.startswith("세대") for s in c)]
    if not pop_cols or not hh_cols:
        raise InputError(f"{pop_path}: needs a 합계/소계 population column and a 세대 household column")
    population = _kosis_column(ptab, areas, ptab.columns[pop_cols[0]], "population", pled)
    households = _kosis_column(ptab, areas, ptab.columns[hh_cols[0]], "households", pled)
    ledgers.append(pled)
    area_path = cfg.resolve(t.area)
    atab = read_kosis(area_path)
    aled = BadRows("area", str(area_path), atab.encoding, read=len(atab.rows))
    area_cols = [i for i, c in enumerate(atab.columns) if any("km" in s for s in c)]
    if not area_cols:
        raise InputError(f"{area_path}: no area (km²) column")
    area = _kosis_column(atab, areas, atab.columns[area_cols[0]], "area", aled)
    ledgers.append(aled)
    if (population <= 0).any() or (area <= 0).any():
        raise InputError(f"{pop_path}: population and area must be positive for every 구")

    latest = max(by_year)
    values["population"] = population
    values["households"] = households
    values["area_km2"] = area
    values["population_density"] = population / area
    values["small_households"] = households / population  # higher = smaller households = more 1인가구
    values["crime_rate"] = by_year[latest] / population * 1000.0
    values["crime_count"] = by_year[latest]

    if t.crime_by_region:
        values["drug_rate"] = _drug_rate(cfg.resolve(t.crime_by_region), areas, population, ledgers)
    if t.intelligent_cctv:
        values["non_intelligent_share"] = _non_intelligent(cfg.resolve(t.intelligent_cctv), areas, ledgers)
    for key, dl in cfg.district_layers.items():
        values[key] = _user_table(key, dl, cfg, areas, ledgers)
    prior = _slot_prior(cfg.resolve(t.time_of_day), ledgers) if t.time_of_day else None
    note = f"crime years {min(by_year)}-{max(by_year)}"
    return DistrictStats(
        values=values, crime_by_year=by_year, slot_prior=prior, ledgers=ledgers, years_note=note
    )


def _drug_rate(path: Path, areas: Areas, population: np.ndarray, ledgers: list[BadRows]) -> np.ndarray:
    header, rows, enc = read_records(path, ["범죄대분류"])
    led = BadRows("crime_by_region", str(path), enc, read=len(rows))
    col = {norm_district(h): i for i, h in enumerate(header) if h.startswith("서울")}
    drug = [r for r in rows if r and r[0].strip() == "마약범죄"]
    if not drug:
        raise InputError(f"{path}: no 마약범죄 row")
    got = {}
    for n in areas.names:
        if n in col:
            v = sum((number(r[col[n]]) or 0.0) for r in drug)
            got[n] = v
    ledgers.append(led)
    return _align(path, areas.names, got, "마약범죄 column") / population * 100_000.0


def _non_intelligent(path: Path, areas: Areas, ledgers: list[BadRows]) -> np.ndarray:
    rows, enc = read_rows(path)
    hi = next((i for i, r in enumerate(rows) if r and r[0].strip() == "자치구"), None)
    if hi is None:
        raise InputError(f"{path}: no header row starting with 자치구")
    header = [h.strip() for h in rows[hi]]
    if "관제수량" not in header or "계" not in header:
        raise InputError(f"{path}: missing column(s) 관제수량/계 (header: {', '.join(header)})")
    led = BadRows("intelligent_cctv", str(path), enc, read=len(rows) - hi - 1)
    ct, ci = header.index("관제수량"), header.index("계")
    got = {}
    for i, r in enumerate(rows[hi + 1 :], start=hi + 2):
        name = norm_district(r[0]) if r else ""
        if name not in areas.names:
            continue
        tot, intel = number(r[ct]), number(r[ci])
        if not tot or intel is None:
            led.skip(i, "unparsable", f"{name}: 관제수량 {r[ct]!r}, 계 {r[ci]!r}")
            continue
        got[name] = 1.0 - intel / tot
    ledgers.append(led)
    return _align(path, areas.names, got, "intelligent CCTV")


def _user_table(
    key: str, dl: DistrictValueLayer, cfg: RiskConfig, areas: Areas, ledgers: list[BadRows]
) -> np.ndarray:
    path = cfg.resolve(dl.path)
    header, rows, enc = read_records(path, [dl.district_column, dl.value_column])
    led = BadRows(key, str(path), enc, read=len(rows))
    cd, cv = header.index(dl.district_column), header.index(dl.value_column)
    got = {}
    for i, r in enumerate(rows, start=2):
        r = r + [""] * (len(header) - len(r))
        name = norm_district(r[cd])
        if name not in areas.names:
            led.skip(i, "outside_seoul", f"{r[cd]!r} is not a Seoul 구")
            continue
        v = number(r[cv])
        if v is None:
            led.skip(i, "unparsable", f"{dl.value_column} {r[cv]!r} is not a number")
            continue
        got[name] = v
    led.kept = len(got)
    ledgers.append(led)
    return _align(path, areas.names, got, dl.value_column)


def _slot_prior(path: Path, ledgers: list[BadRows]) -> np.ndarray:
    """National crimes per 3-hour band -> share per 2-hour slot (uniform within a band)."""
    header, rows, enc = read_records(path, [])
    bands = [(i, re.match(r"(\d+)시\d*분?-(\d+)시", h)) for i, h in enumerate(header)]
    bands = [(i, int(m.group(1)), int(m.group(2)) + 1) for i, m in bands if m]
    if not bands:
        raise InputError(f"{path}: no time-band columns like 00시00분-02시59분")
    led = BadRows("time_of_day", str(path), enc, read=len(rows), kept=len(rows))
    hourly = np.zeros(24)
    for i, start, end in bands:
        tot = sum((number(r[i]) or 0.0) for r in rows if len(r) > i)
        hours = list(range(start, end))
        for h in hours:
            hourly[h % 24] += tot / len(hours)
    ledgers.append(led)
    slots = hourly.reshape(12, 2).sum(axis=1)
    return slots / slots.sum()
