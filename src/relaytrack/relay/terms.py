"""The relay's scoring terms, each a log-odds contribution to "this candidate is the person".

Appearance is a cosine of embeddings read as a z-score against the store's background similarity
(`appearance_background`), so any embedder is on the same scale; the plain baseline uses a colour histogram
instead (`colour_hist`). Attributes are colours/items/vehicle agreement weighted by confidence
(`attribute_logit`); travel time is a likelihood ratio against the link (`time_logit`); entry/exit edges are
checked against the link (`edge_logit`). The search that combines them is `relaytrack.relay.candidates`.
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np

from relaytrack.config import RelayConfig
from relaytrack.describe.colors import NAMES
from relaytrack.records import Link, Sighting
from relaytrack.store import vectors

COLOUR_NAMES = NAMES  # the describe stage's palette, in its order (colour-name vectors index by it)
# Colour names a real classifier mixes up under shade, white balance and compression (a yellow top in shadow
# reads brown, gray reads white or black, ...): a mismatch between these is weaker evidence of another person.
CONFUSABLE = {
    frozenset(p)
    for p in (
        ("black", "gray"),
        ("gray", "white"),
        ("black", "brown"),
        ("yellow", "orange"),
        ("yellow", "brown"),
        ("orange", "brown"),
        ("orange", "red"),
        ("red", "pink"),
        ("pink", "purple"),
        ("purple", "blue"),
        ("blue", "gray"),
        ("green", "gray"),
    )
}
OPPOSITE_EDGE = {"left": "right", "right": "left", "top": "bottom", "bottom": "top"}


def unit(v: np.ndarray | None) -> np.ndarray | None:
    """`v` as a float32 unit vector; None for a missing or zero vector."""
    if v is None:
        return None
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = math.sqrt(float(v @ v))
    return v / n if n > 0 else None


def appearance_background(conn: sqlite3.Connection, kind: str) -> tuple[float, float] | None:
    """What "unrelated" looks like for this store's embedder (see store.vectors.background)."""
    return vectors.background(conn, kind)


def calibrated_z(sim: float, bg: tuple[float, float], cal: tuple[float, float] | None) -> float:
    """A cosine's z-score against the store's background (`appearance_background`); with `cal`, the
    camera's own people's background, half of it: a camera whose view makes everyone look alike (backlight,
    night, a low angle) raises every cosine, so half the evidence is how the sighting stands out there."""
    z = (sim - bg[0]) / bg[1]
    return z if cal is None else 0.5 * z + 0.5 * (sim - cal[0]) / cal[1]


def colour_hist(
    conn: sqlite3.Connection, s: Sighting, cache: dict[int, np.ndarray | None]
) -> np.ndarray | None:
    """The plain baseline's appearance: an HSV colour histogram of the stored thumbnail, L2-normalised; for a
    sighting without thumbnail (detection-level stores) the confidence-weighted upper/lower colour names."""
    if s.id in cache:
        return cache[s.id]
    from relaytrack.store.sightings import thumbnail

    jpeg = thumbnail(conn, s.id)
    out = None
    if jpeg:
        import cv2  # only the baseline needs OpenCV: the relay itself runs without it

        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if img is not None:
            hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
            h = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).reshape(-1)
            out = unit(np.sqrt(h))
    if out is None and (s.upper_color or s.lower_color):
        vec = np.zeros(2 * len(COLOUR_NAMES), np.float32)
        for k, (name, conf) in enumerate(((s.upper_color, s.upper_conf), (s.lower_color, s.lower_conf))):
            if name in COLOUR_NAMES:
                vec[k * len(COLOUR_NAMES) + COLOUR_NAMES.index(name)] = max(conf or 0.0, 0.05)
        out = unit(vec)
    cache[s.id] = out
    return out


def _norm_item(k: str) -> str:
    return k.split(":")[-1]


ColourPair = tuple[str, str | None, float | None, str | None, float | None]


def _colour_pairs(a: Sighting, b: Sighting) -> tuple[ColourPair, ColourPair]:
    """(slot, a's colour, its confidence, b's colour, its confidence) for the upper and lower body."""
    return (
        ("upper", a.upper_color, a.upper_conf, b.upper_color, b.upper_conf),
        ("lower", a.lower_color, a.lower_conf, b.lower_color, b.lower_conf),
    )


def attribute_logit(ref: Sighting, c: Sighting, soft: bool = False) -> tuple[float, list[str]]:
    """Colour/item/vehicle agreement between the reference and a candidate, weighted by the lower confidence.
    `soft`: a confusable colour pair (CONFUSABLE) costs half a mismatch."""
    score, why = 0.0, []
    for name, a, ac, b, bc in _colour_pairs(ref, c):
        if a and b:
            w = min(ac or 0.0, bc or 0.0)
            if a == b:
                score += 1.0 * w
                why.append(f"{name} {b} agrees")
            elif soft and frozenset((a, b)) in CONFUSABLE:
                score -= 0.75 * w
                why.append(f"{name} {b} vs {a} (confusable)")
            else:
                score -= 1.5 * w
                why.append(f"{name} {b} vs {a}")
    ri = {_norm_item(k): float(v) for k, v in (ref.items or {}).items()}
    ci = {_norm_item(k): float(v) for k, v in (c.items or {}).items()}
    for item in set(ri) | set(ci):
        a, b = ri.get(item, 0.0), ci.get(item, 0.0)
        if a >= 0.4 and b >= 0.4:
            score += 0.6 * min(a, b)
            why.append(f"{item} in both")
        elif max(a, b) >= 0.6 and min(a, b) < 0.1:
            score -= 0.3 * max(a, b)  # an item can be hidden from one view: a mild penalty only
    if ref.kind == "vehicle":
        for name, a, b in (
            ("type", ref.vehicle_type, c.vehicle_type),
            ("colour", ref.vehicle_color, c.vehicle_color),
        ):
            if a and b:
                score += 1.0 if a == b else -1.0
                why.append(f"vehicle {name} {'agrees' if a == b else 'differs'}")
        if ref.plate and c.plate:
            pa, pb = ref.plate.replace(" ", ""), c.plate.replace(" ", "")
            if len(pa) >= 3 and len(pb) >= 3 and (pa in pb or pb in pa):
                score += 2.0
                why.append("plate agrees")
            elif len(pa) >= 7 and len(pb) >= 7:
                score -= 2.0
                why.append("plate differs")
    return score, why


def colour_clash(a: Sighting, b: Sighting) -> tuple[float, str]:
    """How confidently two sightings' clothing colours disagree (0: they do not): the sum over upper and lower
    of the lower read confidence where the two reads name different colours, and a reason ("upper brown, not
    white"). Meant for two tracklets of one camera seconds apart, where one person's reads agree."""
    clash, said = 0.0, []
    for name, x, xc, y, yc in _colour_pairs(a, b):
        if x and y and x != y:
            clash += min(xc or 0.0, yc or 0.0)
            said.append(f"{name} {y}, not {x}")
    return clash, "; ".join(said)


def time_logit(dt: float, link: Link, p: RelayConfig) -> float:
    """Travel-time log-likelihood ratio, 0.5 at the link's mean. The legacy Gaussian (floor -6) is right for
    exact times; a real tracklet starts late / ends early by seconds (missed detections, fragments), so the
    robust form adds that jitter to the link's spread and uses Student-t tails (a 4-sigma time is unlikely,
    not impossible)."""
    if not p.time_tail:
        z = (dt - link.mean_s) / max(link.std_s, 0.5)
        return max(-6.0, 0.5 - 0.5 * z * z)
    z = (dt - link.mean_s) / max(math.hypot(link.std_s, p.time_jitter_s), 0.5)
    return max(-4.0, 0.5 - 0.5 * (p.time_nu + 1.0) * math.log1p(z * z / p.time_nu))


def travel_window(link: Link, widen: float, p: RelayConfig) -> tuple[float, float]:
    """The travel times [lo, hi] searched over `link`: its [min, max] (max: mean + 3 std when not given),
    widened for a skipped camera, plus the clock slack (at least twice the tracklet jitter when the robust
    time term is on, so a late tracklet is still looked at)."""
    lo = link.min_s
    hi = link.upper_s
    if widen != 1.0:
        lo, hi = min(lo, lo / widen), hi * widen
    slack = p.slack_s
    if p.time_tail:
        slack = max(slack, 2.0 * p.time_jitter_s)
    return lo - slack, hi + slack


def edge_reliability(s: Sighting, p: RelayConfig) -> float:
    """How much a tracklet's edges are worth: a short one (a fragment, a person cut by the frame corner)
    has its entry/exit guessed from a few boxes."""
    return min(1.0, max(0.25, (s.end - s.start) / p.edge_full_s))


def edge_logit(
    prev: Sighting, c: Sighting, link: Link, direction: str, via: list[str], p: RelayConfig
) -> tuple[float, list[str]]:
    """Soft edge consistency: the same edge as the link scores, an adjacent edge (sharing a frame corner:
    the person left near the corner, or the box touched two borders) costs little, the opposite edge
    costs most. Each side is weighted by its tracklet's edge reliability; 'inside' is no evidence."""
    near, near_exp = (
        (c.entry_edge, link.entry_edge) if direction == "forward" else (c.exit_edge, link.exit_edge)
    )
    far, far_exp = (
        (prev.exit_edge, link.exit_edge) if direction == "forward" else (prev.entry_edge, link.entry_edge)
    )
    # (match, adjacent, opposite) for the candidate's side, then for the previous hop's side; a skip's near
    # side is half-weight (the composed link's entry is a guess over an unseen camera).
    table_near = (0.4, -0.25, -0.5) if via else (0.7, -0.3, -1.0)
    table_far = (0.3, -0.4, -1.5)
    total, why = 0.0, []
    for edge, exp, table, s, name in (
        (near, near_exp, table_near, c, "near"),
        (far, far_exp, table_far, prev, "far"),
    ):
        if not (edge and exp) or edge == "inside" or exp == "inside":
            continue
        if edge == exp:
            v = table[0]
        elif OPPOSITE_EDGE.get(edge) == exp:
            v = table[2]
        else:
            v = table[1]
        total += v * edge_reliability(s, p)
        if name == "near" and not via:
            why.append(
                f"{'entered' if direction == 'forward' else 'left'} by {edge}"
                f"{' as expected' if edge == exp else f', expected {exp}'}"
            )
    return total, why
