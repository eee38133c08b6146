"""Reading a camera network file (YAML, CSV or GeoJSON) into cameras and links, without touching a store.

Split from `relay.network` (which stores networks, infers links from the map and refines them): this is the
file format alone, so its validation rules read in one place. Any bad row raises InputError naming the file
and row.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from relaytrack.errors import InputError
from relaytrack.records import EDGES, Camera, Link
from relaytrack.store.sightings import CAMERA_COLUMNS

OWNERS = ("본청", "사업소", "투출기관", "자치구")
PURPOSES = (
    "방범",
    "어린이보호구역",
    "도시공원·놀이터",
    "쓰레기무단투기",
    "시설안전·화재예방",
    "교통단속",
    "교통정보수집",
    "기타",
)
MODES = ("walk", "drive")


def link_from_gaps(src: str, dst: str, exit_edge: str, entry_edge: str, gaps: list[float],
                   mode: str = "walk") -> dict[str, Any]:
    """A link in this file format from observed travel times (simulated walks): their mean, a spread of at
    least 1 s, and a window from 2 s before the fastest to a quarter plus 5 s past the slowest."""
    import numpy as np

    g = np.asarray(gaps, dtype=np.float64)
    return {
        "src": src,
        "dst": dst,
        "exit_edge": exit_edge,
        "entry_edge": entry_edge,
        "mean_s": round(float(g.mean()), 1),
        "std_s": round(max(1.0, float(g.std())), 1),
        "min_s": round(float(g.min()) - 2.0, 1),
        "max_s": round(float(g.max()) * 1.25 + 5.0, 1),
        "mode": mode,
        "samples": len(g),
    }

# The file's camera fields are the store's camera columns; anything else is kept in `extra`.
CAMERA_FIELDS = CAMERA_COLUMNS
EXTRA_FIELDS = ("start_time", "source", "zones")
ALIASES = {
    "latitude": "lat",
    "longitude": "lon",
    "lng": "lon",
    "heading": "heading_deg",
    "fov": "fov_deg",
    "clock_offset": "clock_offset_s",
    "url": "stream_url",
    "camera": "id",
    "camera_id": "id",
}


@dataclass
class CameraEntry:
    camera: Camera
    extra: dict[str, Any]
    where: str  # "file.yaml: cameras[3]" for messages


@dataclass
class NetworkFile:
    path: Path
    cameras: list[CameraEntry] = field(default_factory=list)
    links: list[tuple[Link, str]] = field(default_factory=list)


def _num(
    value: Any,
    name: str,
    where: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    integer: bool = False,
) -> float | int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"{where}: {name} must be a number, got {_shown(value)}")
    try:
        out = float(value)
        if integer:
            if out != int(out):
                raise ValueError
            out = int(out)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{where}: {name} must be a{'n integer' if integer else ' number'}, got {_shown(value)}") from None
    if not math.isfinite(out):
        raise InputError(f"{where}: {name} must be finite, got {_shown(value)}")
    if (lo is not None and out < lo) or (hi is not None and out > hi):
        raise InputError(f"{where}: {name} {_shown(value)} out of range [{lo}, {hi}]")
    return out


def _shown(value: Any, limit: int = 40) -> str:
    """A value for an error message: its repr, cut to `limit` characters (a huge number or list stays one
    short line)."""
    try:
        r = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"<{value.bit_length()}-bit integer>"
    except ValueError:  # an integer too long for repr
        r = "<huge integer>"
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _text(value: Any, where: str = "", name: str = "value") -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, dict, set, tuple)):  # str() of a nested (or alias-bombed) structure
        raise InputError(f"{where}: {name} must be text, got a {type(value).__name__}")
    s = str(value).strip()
    return s or None


# Camera ids end up in file names, URLs, SQL parameters and the console: the evidence guard's identifier set
# (letters of any script, digits, '.', '-', '_', ':', '@'; at most 64), no spaces, slashes or markup.
CAMERA_ID_RE = re.compile(r"^[\w][\w.\-:@]{0,63}$", re.UNICODE)


def _camera_id(value: Any, where: str, what: str = "camera id") -> str:
    cid = _text(value, where, what)
    if not cid:
        raise InputError(f"{where}: {what} missing")
    if not CAMERA_ID_RE.fullmatch(cid) or cid in (".", ".."):
        raise InputError(
            f"{where}: {what} {cid[:80]!r} is not allowed (1-64 letters, digits, '.', '-', '_', ':' or '@')"
        )
    return cid


def _camera_from_mapping(d: dict[str, Any], where: str, base: Path) -> CameraEntry:
    d = {ALIASES.get(str(k).strip(), str(k).strip()): v for k, v in d.items()}
    if not _text(d.get("id"), where, "id"):
        raise InputError(f"{where}: camera without an id")
    cid = _camera_id(d.get("id"), where)
    where = f"{where} (camera {cid})"
    owner, purpose = _text(d.get("owner"), where, "owner"), _text(d.get("purpose"), where, "purpose")
    if owner is not None and owner not in OWNERS:
        raise InputError(f"{where}: owner {owner!r} is not one of {', '.join(OWNERS)}")
    if purpose is not None and purpose not in PURPOSES:
        raise InputError(f"{where}: purpose {purpose!r} is not one of {', '.join(PURPOSES)}")
    lat = _num(d.get("lat"), "lat", where, lo=-90, hi=90)
    lon = _num(d.get("lon"), "lon", where, lo=-180, hi=180)
    if (lat is None) != (lon is None):
        raise InputError(f"{where}: give both lat and lon, or neither")
    heading = _num(d.get("heading_deg"), "heading_deg", where, lo=-360, hi=360)
    cam = Camera(
        id=cid,
        name=_text(d.get("name"), where, "name") or cid,
        lat=lat,
        lon=lon,
        heading_deg=None if heading is None else heading % 360.0,
        fov_deg=_num(d.get("fov_deg"), "fov_deg", where, lo=1, hi=360),
        district=_text(d.get("district"), where, "district"),
        owner=owner,
        purpose=purpose,
        stream_url=_text(d.get("stream_url"), where, "stream_url"),
        clock_offset_s=_num(d.get("clock_offset_s"), "clock_offset_s", where, lo=-86400, hi=86400) or 0.0,
        width=_num(d.get("width"), "width", where, lo=1, hi=100000, integer=True),
        height=_num(d.get("height"), "height", where, lo=1, hi=100000, integer=True),
    )
    extra: dict[str, Any] = {}
    st = d.get("start_time")
    if st not in (None, ""):
        if isinstance(st, datetime):
            extra["start_time"] = st.isoformat()
        else:
            try:
                datetime.fromisoformat(str(st))
            except ValueError:
                raise InputError(f"{where}: start_time {st!r} is not an ISO time") from None
            extra["start_time"] = str(st)
    src = _text(d.get("source"), where, "source")
    if src:
        # Relative to the network file's folder; kept absolute too because the store forgets where that was.
        extra["source"] = src
        p = Path(src)
        extra["source_path"] = str(p if p.is_absolute() or "://" in src else (base / p).resolve())
    zones = d.get("zones")
    if zones:
        extra["zones"] = _zones(zones, where)
    budget = [MAX_EXTRA_NODES]
    for k, v in d.items():
        if k not in CAMERA_FIELDS and k not in EXTRA_FIELDS and v not in (None, ""):
            # Keep what others put in the file (e.g. the town's own fields), as plain bounded JSON.
            extra[k] = _plain(v, f"{where} {k[:40]}", budget)
    return CameraEntry(cam, extra, where)


MAX_EXTRA_NODES = 10_000  # values in a camera's extra fields (a YAML alias bomb expands to millions)


def _plain(v: Any, where: str, budget: list[int]) -> Any:
    """v as JSON-storable data (dates as ISO text), at most MAX_EXTRA_NODES values per camera."""
    budget[0] -= 1
    if budget[0] < 0:
        raise InputError(f"{where}: extra fields too large (more than {MAX_EXTRA_NODES} values)")
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise InputError(f"{where}: must be finite, got {v!r}")
        return v
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [_plain(x, where, budget) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x, where, budget) for k, x in v.items()}
    raise InputError(f"{where}: cannot store a {type(v).__name__}")


def _zones(zones: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(zones, list):
        raise InputError(f"{where}: zones must be a list")
    out = []
    for i, z in enumerate(zones):
        zw = f"{where} zones[{i}]"
        if not isinstance(z, dict) or not z.get("id"):
            raise InputError(f"{zw}: a zone needs an id")
        poly = z.get("polygon")
        try:
            pts = [[float(p[0]), float(p[1])] for p in poly]
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):
            raise InputError(f"{zw}: polygon must be a list of [x, y] points") from None
        if len(pts) < 3:
            raise InputError(f"{zw}: polygon needs at least 3 points")
        if not all(math.isfinite(c) for p in pts for c in p):
            raise InputError(f"{zw}: polygon points must be finite numbers")
        zone = {**z, "id": _text(z["id"], zw, "zone id"), "kind": _text(z.get("kind"), zw, "kind") or "other"}
        out.append({**zone, "polygon": pts})
    return _plain(out, f"{where} zones", [MAX_EXTRA_NODES])


def _edge(value: Any, name: str, where: str) -> str | None:
    e = _text(value, where, name)
    if e is None or e in ("any", "*"):
        return None
    if e not in EDGES:
        raise InputError(f"{where}: {name} {e!r} is not one of {', '.join(EDGES)}")
    return e


def _link_from_mapping(d: dict[str, Any], where: str) -> Link:
    src, dst = _text(d.get("src"), where, "src"), _text(d.get("dst"), where, "dst")
    if not src or not dst:
        raise InputError(f"{where}: a link needs src and dst")
    where = f"{where} (link {src}->{dst})"
    if src == dst:
        raise InputError(f"{where}: a link must join two different cameras")
    mode = _text(d.get("mode"), where, "mode") or "walk"
    if mode not in MODES:
        raise InputError(f"{where}: mode {mode!r} is not one of {', '.join(MODES)}")
    mean = _num(d.get("mean_s"), "mean_s", where, lo=-3600, hi=86400)
    if mean is None:
        raise InputError(f"{where}: mean_s is required")
    std = _num(d.get("std_s"), "std_s", where, lo=0, hi=86400)
    std = max(1.0, abs(mean) * 0.25) if std is None else max(std, 0.5)
    lo = _num(d.get("min_s"), "min_s", where, lo=-3600, hi=86400)
    hi = _num(d.get("max_s"), "max_s", where, lo=-3600, hi=86400)
    lo = mean - 3 * std if lo is None else lo
    hi = mean + 3 * std if hi is None else hi
    if not lo <= mean <= hi:
        raise InputError(f"{where}: needs min_s <= mean_s <= max_s, got {lo}, {mean}, {hi}")
    return Link(
        src,
        dst,
        _edge(d.get("exit_edge"), "exit_edge", where),
        _edge(d.get("entry_edge"), "entry_edge", where),
        float(mean),
        float(std),
        float(lo),
        float(hi),
        mode,
        "file",
    )


_FLOW_ITEM = re.compile(r"\s*-\s+(\{.*\})\s*")
_YAML_FLOAT = re.compile(r"[-+]?[0-9]*\.[0-9]*(?:[eE][-+][0-9]+)?")  # YAML 1.1's float (JSON's subset)


def _flow_register(text: str) -> dict[str, Any] | None:
    """A register written as `cameras:` and then one JSON object per line (`  - {"id": ...}`: what
    `bench cameras` writes, and a city's export), read line by line with the JSON parser: PyYAML builds every
    value in Python, 30 s for Seoul's 176,371 cameras. The same mapping YAML would give; None for any other
    layout, a line that is not such an object, or a number YAML 1.1 would read as text (1e5), and YAML reads
    the file."""
    lines = text.splitlines()
    head = 0
    while head < len(lines) and (not lines[head].strip() or lines[head].lstrip().startswith("#")):
        head += 1
    if head >= len(lines) or lines[head].rstrip() != "cameras:":
        return None
    cams = []
    for line in lines[head + 1 :]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _FLOW_ITEM.fullmatch(line)
        if m is None:
            return None
        try:
            obj = json.loads(m.group(1), parse_constant=_no_constant, parse_float=_yaml_float)
        except (ValueError, RecursionError):
            return None
        if not isinstance(obj, dict):
            return None
        cams.append(obj)
    return {"cameras": cams}


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: YAML would read them as text


def _yaml_float(literal: str) -> float:
    if not _YAML_FLOAT.fullmatch(literal):
        raise ValueError(literal)  # 1e5, 1.5e3: text to YAML 1.1
    return float(literal)


def read_network(path: str | Path) -> NetworkFile:
    """Parse a network file (YAML, CSV of cameras or of links, GeoJSON) without touching any store."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such network file")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read ({err})") from None
    net = NetworkFile(path)
    base = path.parent
    if suffix in (".yaml", ".yml"):
        doc = _flow_register(text)
        if doc is None:
            try:  # libyaml's parser where installed
                doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
            except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as err:
                first = (str(err).splitlines() or [type(err).__name__])[0]
                raise InputError(f"{path}: not valid YAML ({first[:200]})") from None
        if not isinstance(doc, dict):
            raise InputError(f"{path}: expected a mapping with 'cameras' (and optional 'links')")
        for key in ("cameras", "links"):
            if not isinstance(doc.get(key) or [], list):
                raise InputError(f"{path}: '{key}' must be a list, got {type(doc.get(key)).__name__}")
        for i, c in enumerate(doc.get("cameras") or []):
            if not isinstance(c, dict):
                raise InputError(f"{path}: cameras[{i}] is not a mapping")
            net.cameras.append(_camera_from_mapping(c, f"{path}: cameras[{i}]", base))
        for i, ln in enumerate(doc.get("links") or []):
            if not isinstance(ln, dict):
                raise InputError(f"{path}: links[{i}] is not a mapping")
            w = f"{path}: links[{i}]"
            net.links.append((_link_from_mapping(ln, w), w))
    elif suffix in (".geojson", ".json"):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as err:  # JSONDecodeError, a 5000-digit number, [[[[...]]]]
            raise InputError(f"{path}: not valid JSON ({str(err)[:200] or type(err).__name__})") from None
        feats = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(feats, list):
            raise InputError(f"{path}: expected a GeoJSON FeatureCollection")
        for i, f in enumerate(feats):
            w = f"{path}: features[{i}]"
            if not isinstance(f, dict):
                raise InputError(f"{w}: a feature must be an object, got {type(f).__name__}")
            geom, props = f.get("geometry") or {}, f.get("properties") or {}
            if not isinstance(geom, dict) or not isinstance(props, dict):
                raise InputError(f"{w}: geometry and properties must be objects")
            props = dict(props)
            if geom.get("type") == "Point":
                coords = geom.get("coordinates") or []
                if not isinstance(coords, list) or len(coords) < 2:
                    raise InputError(f"{w}: Point needs coordinates [lon, lat]")
                props.setdefault("id", f.get("id"))
                props["lon"], props["lat"] = coords[0], coords[1]
                net.cameras.append(_camera_from_mapping(props, w, base))
            elif geom.get("type") == "LineString" and ("src" in props or "dst" in props):
                net.links.append((_link_from_mapping(props, w), w))
            # Other features (district polygons, route lines of an earlier export) are not part of a network.
    elif suffix in (".csv", ".tsv"):
        try:
            rows = list(csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ","))
        except csv.Error as err:  # a field over the size limit, a NUL byte
            raise InputError(f"{path}: not valid CSV ({err})") from None
        if not rows:
            raise InputError(f"{path}: no rows")
        header = {ALIASES.get(k.strip(), k.strip()) for k in rows[0] if k}
        if {"src", "dst"} <= header:
            for i, r in enumerate(rows, start=2):
                w = f"{path}: row {i}"
                net.links.append((_link_from_mapping(r, w), w))
        elif "id" in header:
            for i, r in enumerate(rows, start=2):
                net.cameras.append(_camera_from_mapping(r, f"{path}: row {i}", base))
        else:
            raise InputError(f"{path}: CSV needs an 'id' column (cameras) or 'src' and 'dst' columns (links)")
    else:
        raise InputError(f"{path}: unknown network format {suffix!r} (use .yaml, .csv or .geojson)")
    seen: dict[str, str] = {}
    for e in net.cameras:
        if e.camera.id in seen:
            raise InputError(f"{e.where}: duplicate camera id (first at {seen[e.camera.id]})")
        seen[e.camera.id] = e.where
    return net
