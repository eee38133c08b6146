"""Hiding-spot zones: typed polygons in image pixels, read from a camera network file or a zones file.

Accepted files (YAML or JSON):
- a camera network file: `cameras: [{id, zones: [{id, kind, polygon}, ...]}, ...]`;
- a plain mapping `{camera_id: [zone, ...]}`;
- a plain list `[zone, ...]` (the zones of a single source; applied to every source of the run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from relaytrack.errors import InputError

KINDS = ("mailbox", "ac_unit", "bench", "utility_box", "flower_pot", "gas_meter", "stairwell", "other")
KIND_LABEL = {
    "mailbox": "mailbox",
    "ac_unit": "AC unit",
    "bench": "bench",
    "utility_box": "utility box",
    "flower_pot": "flower pot",
    "gas_meter": "gas meter",
    "stairwell": "stairwell",
    "other": "spot",
}
ANY_CAMERA = "*"


@dataclass(frozen=True)
class Zone:
    id: str
    kind: str
    polygon: np.ndarray  # (N, 2) float32 pixel coordinates

    @property
    def label(self) -> str:
        return f"{KIND_LABEL.get(self.kind, self.kind)} {self.id}"

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        p = self.polygon
        return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())

    def distance(self, x: float, y: float) -> float:
        """Pixels from (x, y) to the polygon; 0 inside."""
        return polygon_distance(self.polygon, x, y)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "polygon": [[float(a), float(b)] for a, b in self.polygon]}


def polygon_distance(poly: np.ndarray, x: float, y: float) -> float:
    """Euclidean distance from a point to a closed polygon (0 when inside); pure NumPy, no OpenCV."""
    px, py = poly[:, 0].astype(np.float64), poly[:, 1].astype(np.float64)
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    # Even-odd rule for inside.
    cross = (py > y) != (qy > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = px + (y - py) * (qx - px) / (qy - py)
    if int(np.count_nonzero(cross & (x < xs))) % 2 == 1:
        return 0.0
    dx, dy = qx - px, qy - py
    seg2 = dx * dx + dy * dy
    t = np.clip(((x - px) * dx + (y - py) * dy) / np.where(seg2 > 0, seg2, 1.0), 0.0, 1.0)
    d = np.hypot(px + t * dx - x, py + t * dy - y)
    return float(d.min())


def make_zone(d: Any, where: str) -> Zone:
    if not isinstance(d, dict) or d.get("id") in (None, ""):
        raise InputError(f"{where}: a zone needs an id")
    kind = str(d.get("kind") or "other")
    if kind not in KINDS:
        raise InputError(f"{where}: zone kind {kind!r} is not one of {', '.join(KINDS)}")
    try:
        pts = np.array([[float(p[0]), float(p[1])] for p in d.get("polygon") or []], dtype=np.float32)
    except (TypeError, ValueError, IndexError, KeyError):
        raise InputError(f"{where}: polygon must be a list of [x, y] points") from None
    if len(pts) < 3:
        raise InputError(f"{where}: polygon needs at least 3 points")
    if not np.isfinite(pts).all():
        raise InputError(f"{where}: polygon has non-finite coordinates")
    return Zone(str(d["id"]), kind, pts)


def zones_from_list(items: Any, where: str) -> list[Zone]:
    if not isinstance(items, list):
        raise InputError(f"{where}: zones must be a list")
    zones = [make_zone(z, f"{where}[{i}]") for i, z in enumerate(items)]
    ids = [z.id for z in zones]
    if len(set(ids)) != len(ids):
        raise InputError(f"{where}: duplicate zone ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return zones


def parse_zones_doc(doc: Any, where: str) -> dict[str, list[Zone]]:
    """Any of the accepted shapes -> {camera id or '*': zones}."""
    if isinstance(doc, list):
        return {ANY_CAMERA: zones_from_list(doc, f"{where}: zones")}
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a camera network, a {{camera: [zones]}} mapping or a zone list")
    if "cameras" in doc:
        out: dict[str, list[Zone]] = {}
        for i, c in enumerate(doc.get("cameras") or []):
            if not isinstance(c, dict) or not c.get("id"):
                raise InputError(f"{where}: cameras[{i}] needs an id")
            out[str(c["id"])] = zones_from_list(c.get("zones") or [], f"{where}: cameras[{i}].zones")
        return out
    if "zones" in doc and isinstance(doc["zones"], list):
        return {ANY_CAMERA: zones_from_list(doc["zones"], f"{where}: zones")}
    return {str(k): zones_from_list(v or [], f"{where}: {k}") for k, v in doc.items()}


def load_zones(path: str | Path) -> dict[str, list[Zone]]:
    """Read a zones file; keys are camera ids, or '*' for a plain list meant for every source."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such zones file")
    try:
        text = p.read_text(encoding="utf-8-sig")
        doc = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as err:
        raise InputError(f"{p}: cannot read zones ({str(err).splitlines()[0]})") from None
    return parse_zones_doc(doc, str(p))


def zones_for_camera(table: dict[str, list[Zone]], camera: str) -> list[Zone]:
    return table.get(camera, table.get(ANY_CAMERA, []))
