"""Attribute agreement between a Query and stored sightings, vectorised over candidate rows.

score = sum over the attributes the query names of weight * credit, divided by the sum of those weights,
so it lies in [0, 1]. Credits use the stored confidences: an exact colour match counts its confidence, a
colour people confuse on CCTV (gray~black, red~pink, ...) a share of it (relaytrack.describe.colors), an item
its detection confidence, a plate fragment 1 when contained (partial for a long shared run of characters).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relaytrack.search.query import COLOR_NAMES, Query

try:
    from relaytrack.describe.colors import similarity as color_similarity
except ImportError:  # pragma: no cover

    def color_similarity(a: str | None, b: str | None) -> float:
        return 1.0 if a is not None and a == b else 0.0


WEIGHTS = {"upper": 1.0, "lower": 1.0, "items": 0.7, "vehicle_type": 0.8, "vehicle_color": 1.0, "plate": 2.0}
UNKNOWN_CONF = 0.5  # a colour stored without a confidence
VEHICLE_SIMILAR = {("car", "truck"): 0.3, ("bus", "truck"): 0.4, ("motorcycle", "bicycle"): 0.3}
ITEM_SIMILAR = {("handbag", "backpack"): 0.3, ("handbag", "suitcase"): 0.3, ("backpack", "suitcase"): 0.2}
ATTR_COLUMNS = (
    "id, kind, upper_color, upper_conf, lower_color, lower_conf, items, vehicle_type, vehicle_color, plate"
)

_NC = len(COLOR_NAMES)
_CIDX = {c: i for i, c in enumerate(COLOR_NAMES)}
# Similarity matrix with a last row/column for "no colour stored".
_CSIM = np.zeros((_NC + 1, _NC + 1), dtype=np.float32)
for _a in COLOR_NAMES:
    for _b in COLOR_NAMES:
        _CSIM[_CIDX[_a], _CIDX[_b]] = color_similarity(_a, _b)


def color_sim(a: str | None, b: str | None) -> float:
    if a is None or b is None:
        return 0.0
    return float(_CSIM[_CIDX.get(a, _NC), _CIDX.get(b, _NC)])


def vehicle_sim(a: str | None, b: str | None) -> float:
    if a is None or b is None:
        return 0.0
    return 1.0 if a == b else VEHICLE_SIMILAR.get((a, b), VEHICLE_SIMILAR.get((b, a), 0.0))


def item_sim(a: str, b: str) -> float:
    return 1.0 if a == b else ITEM_SIMILAR.get((a, b), ITEM_SIMILAR.get((b, a), 0.0))


def norm_plate(p: str | None) -> str:
    return "".join(ch for ch in (p or "") if ch.isalnum()).upper()


def plate_credit(fragment: str, plate: str | None) -> float:
    if plate and ("*" in fragment or "?" in fragment):
        # A pattern from the description ("3456으로 끝나는" -> *3456): the confusion-tolerant plate matcher.
        from relaytrack.search.plate import match

        m = match(fragment, plate)
        return m.score if m is not None else 0.0
    f, p = norm_plate(fragment), norm_plate(plate)
    if not f or not p:
        return 0.0
    if f in p:
        return 1.0
    # Longest common run of characters: a partly read plate still points somewhere.
    best = 0
    for i in range(len(f)):
        for j in range(i + best + 1, len(f) + 1):
            if f[i:j] in p:
                best = j - i
            else:
                break
    return 0.6 * best / len(f) if best >= 3 else 0.0


def weights(q: Query) -> dict[str, float]:
    w = {}
    if q.upper:
        w["upper"] = WEIGHTS["upper"]
    if q.lower:
        w["lower"] = WEIGHTS["lower"]
    if q.items:
        w["items"] = WEIGHTS["items"]
    if q.vehicle_type:
        w["vehicle_type"] = WEIGHTS["vehicle_type"]
    if q.vehicle_color:
        w["vehicle_color"] = WEIGHTS["vehicle_color"]
    if q.plate:
        w["plate"] = WEIGHTS["plate"]
    return w


@dataclass
class Scored:
    ids: np.ndarray  # (N,) sighting ids
    score: np.ndarray  # (N,) in [0, 1]
    credits: dict[str, np.ndarray]  # attribute -> (N,) credit in [0, 1]


ITEM_NAMES = ("backpack", "handbag", "suitcase", "umbrella", "cell phone")
_VT = ("car", "bus", "truck", "motorcycle", "bicycle")


@dataclass
class Columns:
    """Attribute columns of many sightings as arrays (colour indexes use len(COLOR_NAMES) for "none")."""

    ids: np.ndarray
    upper: np.ndarray
    upper_conf: np.ndarray
    lower: np.ndarray
    lower_conf: np.ndarray
    items: np.ndarray  # (N, len(ITEM_NAMES)) confidences
    vehicle_type: np.ndarray  # index into _VT, len(_VT) for none/other
    vehicle_color: np.ndarray
    plates: list[str | None]

    @classmethod
    def from_rows(cls, rows: Sequence[Any]) -> Columns:
        n = len(rows)
        items = np.zeros((n, len(ITEM_NAMES)), dtype=np.float32)
        ipos = {k: i for i, k in enumerate(ITEM_NAMES)}
        for i, r in enumerate(rows):
            if r[6] and r[6] != "{}":
                for k, v in json.loads(r[6]).items():
                    if k in ipos:
                        items[i, ipos[k]] = float(v)

        def cidx(col: int) -> np.ndarray:
            return np.fromiter((_CIDX.get(r[col], _NC) for r in rows), dtype=np.int64, count=n)

        vt = {k: i for i, k in enumerate(_VT)}
        return cls(
            ids=np.fromiter((r[0] for r in rows), dtype=np.int64, count=n),
            upper=cidx(2),
            upper_conf=np.fromiter((r[3] or 0.0 for r in rows), dtype=np.float32, count=n),
            lower=cidx(4),
            lower_conf=np.fromiter((r[5] or 0.0 for r in rows), dtype=np.float32, count=n),
            items=items,
            vehicle_type=np.fromiter((vt.get(r[7], len(_VT)) for r in rows), dtype=np.int64, count=n),
            vehicle_color=cidx(8),
            plates=[r[9] for r in rows],
        )


_VSIM = np.zeros((len(_VT) + 1, len(_VT) + 1), dtype=np.float32)
for _i, _a in enumerate(_VT):
    for _j, _b in enumerate(_VT):
        _VSIM[_i, _j] = 1.0 if _a == _b else VEHICLE_SIMILAR.get((_a, _b), VEHICLE_SIMILAR.get((_b, _a), 0.0))


def _color_credit(q_color: str, idx: np.ndarray, confs: np.ndarray) -> np.ndarray:
    conf = np.where((confs <= 0) & (idx < _NC), UNKNOWN_CONF, np.clip(confs, 0.0, 1.0))
    return _CSIM[_CIDX[q_color], idx] * conf


def score_columns(q: Query, c: Columns) -> Scored:
    """Vectorised score of every sighting in `c` (the one scoring function; search and bench share it)."""
    n = len(c.ids)
    w = weights(q)
    credits: dict[str, np.ndarray] = {}
    if "upper" in w:
        credits["upper"] = _color_credit(q.upper, c.upper, c.upper_conf)
    if "lower" in w:
        credits["lower"] = _color_credit(q.lower, c.lower, c.lower_conf)
    if "items" in w:
        acc = np.zeros(n, dtype=np.float32)
        for it in q.items:
            sims = np.array([item_sim(it, h) for h in ITEM_NAMES], dtype=np.float32)
            acc += (c.items * sims).max(axis=1) if n else acc
        credits["items"] = acc / len(q.items)
    if "vehicle_type" in w:
        qi = _VT.index(q.vehicle_type) if q.vehicle_type in _VT else len(_VT)
        credits["vehicle_type"] = _VSIM[qi, c.vehicle_type] if qi < len(_VT) else np.zeros(n, np.float32)
    if "vehicle_color" in w:
        credits["vehicle_color"] = _color_credit(q.vehicle_color, c.vehicle_color, np.ones(n, np.float32))
    if "plate" in w:
        pc = np.zeros(n, dtype=np.float32)
        for i, p in enumerate(c.plates):
            if p:
                pc[i] = plate_credit(q.plate, p)
        credits["plate"] = pc
    total = sum(w.values())
    score = np.zeros(n, dtype=np.float32)
    for a, cr in credits.items():
        score += w[a] * cr
    if total > 0:
        score /= total
    return Scored(c.ids, score, credits)


def score_rows(q: Query, rows: Sequence[Any]) -> Scored:
    """Score rows holding ATTR_COLUMNS (sqlite3.Row or tuples in that order)."""
    return score_columns(q, Columns.from_rows(rows))


def bound(
    q: Query,
    *,
    upper: Any = ...,
    lower: Any = ...,
    vehicle_type: Any = ...,
    vehicle_color: Any = ...,
    items_max: float = 1.0,
    plate_max: float = 1.0,
) -> float:
    """Highest score any row with these stored values could reach (`...` = value not fixed)."""
    w = weights(q)
    total = sum(w.values()) or 1.0
    s = 0.0
    if "upper" in w:
        s += w["upper"] * (1.0 if upper is ... else color_sim(q.upper, upper))
    if "lower" in w:
        s += w["lower"] * (1.0 if lower is ... else color_sim(q.lower, lower))
    if "items" in w:
        s += w["items"] * items_max
    if "vehicle_type" in w:
        s += w["vehicle_type"] * (1.0 if vehicle_type is ... else vehicle_sim(q.vehicle_type, vehicle_type))
    if "vehicle_color" in w:
        s += w["vehicle_color"] * (1.0 if vehicle_color is ... else color_sim(q.vehicle_color, vehicle_color))
    if "plate" in w:
        s += w["plate"] * plate_max
    return s / total


def reasons(q: Query, row: Any, credit: dict[str, float]) -> list[str]:
    """Human-readable list of what matched, with the credit each earned."""
    out = []
    for slot, col, conf_col in (("upper", 2, 3), ("lower", 4, 5)):
        want = getattr(q, slot)
        c = credit.get(slot, 0.0)
        if want and c > 0:
            have = row[col]
            out.append(f"{slot} {want} ({c:.2f})" if have == want else f"{slot} {have}~{want} ({c:.2f})")
    if q.items and credit.get("items", 0.0) > 0:
        have = json.loads(row[6] or "{}")
        for it in q.items:
            best = max(((item_sim(it, h) * float(v), h) for h, v in have.items()), default=(0.0, ""))
            if best[0] > 0:
                out.append(f"{it} ({best[0]:.2f})" if best[1] == it else f"{best[1]}~{it} ({best[0]:.2f})")
    if q.vehicle_type and credit.get("vehicle_type", 0.0) > 0:
        out.append(
            f"vehicle {row[7]}"
            + ("" if row[7] == q.vehicle_type else f"~{q.vehicle_type}")
            + f" ({credit['vehicle_type']:.2f})"
        )
    if q.vehicle_color and credit.get("vehicle_color", 0.0) > 0:
        out.append(
            f"vehicle colour {row[8]}"
            + ("" if row[8] == q.vehicle_color else f"~{q.vehicle_color}")
            + f" ({credit['vehicle_color']:.2f})"
        )
    if q.plate and credit.get("plate", 0.0) > 0:
        out.append(f"plate {row[9]} ~ {q.plate} ({credit['plate']:.2f})")
    return out
