"""Relay: follow a confirmed sighting from camera to camera, forwards and backwards in time.

Each step looks at the cameras linked to the current one by the direction the person left (or came from),
takes the sightings of the same kind inside the link's travel-time window (camera clock offsets applied),
and scores each candidate as a sum of log-odds terms: appearance (cosine of embeddings, as a z-score against
the store's background similarity so any embedder is on the same scale), attributes (colours/items/vehicle
agreement weighted by confidence), travel-time likelihood, and entry/exit edge consistency. A fixed "nobody"
option competes in a softmax, so a hop's confidence is the probability that this candidate, rather than any
other or nobody, is the person. A beam search keeps the best few multi-hop paths; a camera with no plausible
candidate is skipped (neighbour of neighbour, widened window); the route stops where nothing is likely.
Operator feedback (confirm/reject) is stored per case and origin: rejected sightings are never proposed again,
confirmed ones become anchors the route must pass through, and they join the appearance reference.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from relaytrack.errors import InputError, NotFound
from relaytrack.records import Camera, Link, Sighting
from relaytrack.relay import network
from relaytrack.store.sightings import SIGHTING_COLUMNS, get_sighting, row_to_sighting

DIRECTIONS = ("both", "forward", "backward")
COLOUR_NAMES = (
    "black",
    "white",
    "gray",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
)


@dataclass
class RelayParams:
    """Knobs of the relay search. Raising `stop_conf` stops routes earlier (fewer wrong hops, more missed ones);
    raising `beam` keeps more competing paths (slower, more robust to a misleading early hop)."""

    beam: int = 4
    stop_conf: float = 0.25  # a hop below this confidence is not taken: nothing is likely
    none_logit: float = 0.0  # log-odds of "the person is not in any candidate"
    max_skip: int = 1  # blind-spot cameras that may be skipped in one hop
    skip_logit: float = -1.0  # prior cost of having been unseen by a linked camera
    skip_widen: float = 1.5  # travel-time window widening over a skipped camera
    slack_s: float = 3.0  # clock jitter allowed beyond a link's [min, max]
    max_dwell_s: float = 900.0  # longest sighting considered when searching backwards
    w_app: float = 1.0
    app_z0: float = 2.5  # appearance z-score that is even odds
    w_attr: float = 1.0
    w_time: float = 1.0
    w_edge: float = 1.0
    use_appearance: bool = True
    use_attributes: bool = True
    use_topology: bool = True
    use_time: bool = True
    horizon_s: float = 600.0  # window used when topology is off
    alt_min_conf: float = 0.05  # alternatives reported per hop
    appearance_fn: str = "embedding"  # embedding | colour_hist (baseline)
    # Robustness to real-pipeline output (late/early detections, fragmented tracklets, wrong edges, colour
    # misreads). Each is a switch so the engine as first written stays reproducible: RelayParams.legacy().
    time_tail: bool = True  # Student-t travel-time likelihood, link std widened by tracklet-boundary jitter
    time_jitter_s: float = 2.5  # how far a real tracklet's start/end sits from the true entry/exit
    time_nu: float = 3.0  # Student-t degrees of freedom (lower = heavier tails)
    soft_edges: bool = True  # adjacent edges get partial credit; short tracklets' edges count less
    edge_full_s: float = 4.0  # a tracklet this long (or longer) has edges worth full weight
    soft_colours: bool = True  # confusable colour pairs (yellow/brown, gray/white, ...) cost half a mismatch
    camera_calibration: bool = True  # appearance z also against the candidate camera's own sightings
    fragments: bool = True  # a tracklet broken in the same camera continues as a same-camera hop
    frag_gap_s: float = 4.0  # longest gap between two fragments of one passage through a view
    frag_logit: float = -0.5  # prior cost of a same-camera hop (the tracker usually keeps a person whole)
    skip_needs_empty: bool = True  # never skip a camera that holds a plausible-looking candidate
    skip_block_app: float = 0.0  # appearance+attribute logit that counts as "plausible-looking"
    fill_gaps: bool = True  # insert a plausible sighting on a camera between two consecutive hops
    gap_min_logit: float = -2.0  # log-odds (vs nobody) the inserted sighting's leg to the next hop needs

    @classmethod
    def legacy(cls, **kw: Any) -> RelayParams:
        """The relay as first written (tuned on detection-level synthetic towns): for before/after benches."""
        return cls(
            time_tail=False,
            soft_edges=False,
            soft_colours=False,
            camera_calibration=False,
            fragments=False,
            skip_needs_empty=False,
            fill_gaps=False,
            **kw,
        )


@dataclass
class Hop:
    sighting: Sighting
    confidence: float
    direction: str  # origin | forward | backward
    link: dict[str, Any] | None = None
    reasons: list[str] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    confirmed: bool = False
    true_start: float = 0.0
    true_end: float = 0.0

    def public(self) -> dict[str, Any]:
        s = self.sighting
        return {
            **s.public(),
            # The CLI contract: a hop carries the search hit's fields (score included) plus confidence; a
            # hop's score is its confidence.
            "score": round(float(self.confidence), 4),
            "confidence": round(float(self.confidence), 4),
            "kind": s.kind,
            "wall_start": round(s.wall_start, 3),
            "wall_end": round(s.wall_end, 3),
            "true_start": round(self.true_start, 3),
            "true_end": round(self.true_end, 3),
            "entry_edge": s.entry_edge,
            "exit_edge": s.exit_edge,
            "direction": self.direction,
            "confirmed": self.confirmed,
            "link": self.link,
            "reasons": self.reasons,
            "alternatives": self.alternatives,
        }


@dataclass
class Route:
    origin: int
    hops: list[Hop]
    case: str | None = None
    params: RelayParams = field(default_factory=RelayParams)
    stopped: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    anchors: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)

    @property
    def cameras(self) -> list[str]:
        return [h.sighting.camera for h in self.hops]

    @property
    def sighting_ids(self) -> list[int]:
        return [h.sighting.id for h in self.hops]

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "case": self.case,
            "hops": [h.public() for h in self.hops],
            "cameras": self.cameras,
            "stopped": self.stopped,
            "anchors": self.anchors,
            "rejected": self.rejected,
            "elapsed_s": round(self.elapsed_s, 4),
            "params": asdict(self.params),
        }


@dataclass
class _Cand:
    s: Sighting
    logit: float
    link: dict[str, Any]
    reasons: list[str]
    t0: float  # true start / end
    t1: float
    conf: float = 0.0


# ---------------------------------------------------------------- helpers


def true_times(conn, ids: list[int]) -> list[tuple[int, str, float, float, str]]:
    """(id, camera, true start, true end, kind) with each camera's clock offset removed."""
    if not ids:
        return []
    rows = conn.execute(
        "SELECT s.id, s.camera_id, s.wall_start - c.clock_offset_s, s.wall_end - c.clock_offset_s, s.kind"
        f" FROM sightings s JOIN cameras c ON c.id = s.camera_id WHERE s.id IN ({','.join('?' * len(ids))})",
        [int(i) for i in ids],
    ).fetchall()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def feedback_for(conn, case: str | None, origin: int) -> tuple[set[int], set[int]]:
    """(confirmed, rejected) sighting ids for this case and route origin."""
    if case is None:
        return set(), set()
    conf, rej = set(), set()
    for sid, verdict in conn.execute(
        "SELECT sighting_id, verdict FROM relay_feedback WHERE case_no=? AND origin_id=?", (case, int(origin))
    ):
        (conf if verdict == "confirm" else rej).add(int(sid))
    return conf, rej


def record_feedback(
    conn, case: str, origin: int, sighting_ids: list[int], verdict: str, user: str | None = None
) -> int:
    """Store confirm/reject verdicts (the latest verdict on a sighting wins). Returns how many were stored."""
    if verdict not in ("confirm", "reject"):
        raise InputError(f"verdict must be confirm or reject, got {verdict!r}")
    get_sighting(conn, origin)
    for sid in sighting_ids:
        get_sighting(conn, sid)  # NotFound names the missing one before anything is written
    for sid in sighting_ids:
        if int(sid) == int(origin):
            raise InputError(f"sighting {sid} is the route's origin; it is confirmed by definition")
        conn.execute(
            "INSERT INTO relay_feedback(case_no, origin_id, sighting_id, verdict, user_name) VALUES (?,?,?,?,?)"
            " ON CONFLICT(case_no, origin_id, sighting_id) DO UPDATE SET verdict=excluded.verdict,"
            " user_name=excluded.user_name, created_at=unixepoch('subsec')",
            (case, int(origin), int(sid), verdict, user),
        )
    return len(sighting_ids)


def _unit(v: np.ndarray | None) -> np.ndarray | None:
    if v is None:
        return None
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = math.sqrt(float(v @ v))
    return v / n if n > 0 else None


def appearance_background(conn, kind: str, sample: int = 400, seed: int = 7) -> tuple[float, float] | None:
    """Mean and spread of cosine similarity between random sightings of different cameras: what "unrelated"
    looks like for this store's embedder. Ids are sampled by primary key, so it is fast on any store size."""
    lo, hi = conn.execute("SELECT MIN(id), MAX(id) FROM sightings").fetchone()
    if lo is None:
        return None
    rng = np.random.default_rng(seed)
    ids = sorted(set(rng.integers(lo, hi + 1, size=min(sample * 3, hi - lo + 1)).tolist()))
    rows = conn.execute(
        f"SELECT camera_id, embedding FROM sightings WHERE id IN ({','.join('?' * len(ids))})"
        " AND kind=? AND embedding IS NOT NULL",
        [*ids, kind],
    ).fetchall()[:sample]
    if len(rows) < 8:
        return None
    cams = np.array([r[0] for r in rows])
    emb = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
    sim = emb @ emb.T
    mask = cams[:, None] != cams[None, :]
    vals = sim[np.triu(mask, 1)]
    if len(vals) < 10:
        return None
    return float(vals.mean()), max(float(vals.std()), 0.02)


def colour_hist(conn, s: Sighting, cache: dict[int, np.ndarray | None]) -> np.ndarray | None:
    """The plain baseline's appearance: an HSV colour histogram of the stored thumbnail, L2-normalised; for a
    sighting without thumbnail (detection-level stores) the confidence-weighted upper/lower colour names."""
    if s.id in cache:
        return cache[s.id]
    from relaytrack.store.sightings import thumbnail

    jpeg = thumbnail(conn, s.id)
    out = None
    if jpeg:
        import cv2

        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if img is not None:
            hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
            h = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).reshape(-1)
            out = _unit(np.sqrt(h))
    if out is None and (s.upper_color or s.lower_color):
        vec = np.zeros(2 * len(COLOUR_NAMES), np.float32)
        for k, (name, conf) in enumerate(((s.upper_color, s.upper_conf), (s.lower_color, s.lower_conf))):
            if name in COLOUR_NAMES:
                vec[k * len(COLOUR_NAMES) + COLOUR_NAMES.index(name)] = max(conf or 0.0, 0.05)
        out = _unit(vec)
    cache[s.id] = out
    return out


def _norm_item(k: str) -> str:
    return k.split(":")[-1]


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


def attribute_logit(ref: Sighting, c: Sighting, soft: bool = False) -> tuple[float, list[str]]:
    """Colour/item/vehicle agreement between the reference and a candidate, weighted by the lower confidence.
    `soft`: a confusable colour pair (CONFUSABLE) costs half a mismatch."""
    score, why = 0.0, []
    for name, a, ac, b, bc in (
        ("upper", ref.upper_color, ref.upper_conf, c.upper_color, c.upper_conf),
        ("lower", ref.lower_color, ref.lower_conf, c.lower_color, c.lower_conf),
    ):
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


# ---------------------------------------------------------------- the search


class _Relay:
    def __init__(self, conn, origin: Sighting, params: RelayParams, rejected: set[int], confirmed: set[int]):
        self.conn, self.p, self.origin = conn, params, origin
        self.rejected, self.confirmed = rejected, confirmed
        self.cams: dict[str, Camera | None] = {}
        self.link_cache: dict[tuple[str, str, str], list[Link]] = {}
        self.hist_cache: dict[int, np.ndarray | None] = {}
        self.ref_cache: dict[int, np.ndarray] = {}
        self.cand_cache: dict[tuple[int, str], list[_Cand]] = {}
        self.cam_emb: dict[str, np.ndarray | None] = {}
        self.cam_bg: dict[tuple[str, int], tuple[float, float] | None] = {}
        self.seen_app: dict[tuple[int, str, str], float] = {}  # (from, direction, camera) -> best look
        self.last_look = 0.0
        self.mode = "walk" if origin.kind == "person" else "drive"
        self.bg = appearance_background(conn, origin.kind) if params.use_appearance else None
        anchors = [origin] + [get_sighting(conn, i) for i in sorted(confirmed)]
        embs = [e for e in (_unit(a.embedding) for a in anchors) if e is not None]
        self.anchor_emb = _unit(np.mean(embs, axis=0)) if embs else None
        self.anchor_hist = None
        if params.appearance_fn == "colour_hist":
            hs = [h for h in (colour_hist(conn, a, self.hist_cache) for a in anchors) if h is not None]
            self.anchor_hist = _unit(np.mean(hs, axis=0)) if hs else None

    def camera(self, cid: str) -> Camera | None:
        if cid not in self.cams:
            row = self.conn.execute("SELECT * FROM cameras WHERE id=?", (cid,)).fetchone()
            self.cams[cid] = network.row_to_camera(row) if row else None
        return self.cams[cid]

    def offset(self, cid: str) -> float:
        cam = self.camera(cid)
        return cam.clock_offset_s if cam else 0.0

    def links(self, cid: str, direction: str) -> list[Link]:
        key = (cid, direction, self.mode)
        if key in self.link_cache:
            return self.link_cache[key]
        get = network.links_from if direction == "forward" else network.links_to
        out = get(self.conn, cid, self.mode)
        if not out:
            other = get(self.conn, cid)
            # Links of the other mode still say who is next door; their window opens at zero for the faster mode.
            out = [
                Link(
                    x.src,
                    x.dst,
                    x.exit_edge,
                    x.entry_edge,
                    x.mean_s,
                    x.std_s * 2,
                    0.0,
                    x.max_s,
                    x.mode,
                    x.source,
                )
                for x in other
            ]
        if not out and not self.conn.execute("SELECT 1 FROM camera_links LIMIT 1").fetchone():
            out = self._map_links(cid, direction)
        self.link_cache[key] = out
        return out

    def _map_links(self, cid: str, direction: str) -> list[Link]:
        # A store without any link (e.g. cameras registered by ingest only): infer neighbours on the fly.
        cam = self.camera(cid)
        if cam is None or cam.lat is None:
            return []
        r = network.DEFAULT_RADIUS_M[self.mode]
        dlat = r / 111_000.0
        dlon = r / (111_000.0 * max(0.1, math.cos(math.radians(cam.lat))))
        rows = self.conn.execute(
            "SELECT * FROM cameras WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?",
            (cam.lat - dlat, cam.lat + dlat, cam.lon - dlon, cam.lon + dlon),
        ).fetchall()
        pool = [network.row_to_camera(x) for x in rows]
        links = network.infer_links([cam], pool, mode=self.mode, radius_m=r)
        key = "src" if direction == "forward" else "dst"
        return [ln for ln in links if getattr(ln, key) == cid]

    def _query(self, cam: str, wall_lo: float, wall_hi: float, exclude: set[int]) -> list[Sighting]:
        rows = self.conn.execute(
            f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE camera_id=? AND wall_start BETWEEN ? AND ? AND kind=?",
            (cam, wall_lo, wall_hi, self.origin.kind),
        ).fetchall()
        return [row_to_sighting(r) for r in rows if r["id"] not in exclude and r["id"] not in self.rejected]

    def app_logit(self, prev: Sighting, c: Sighting) -> tuple[float, list[str]]:
        p = self.p
        if not p.use_appearance:
            return 0.0, []
        if p.appearance_fn == "colour_hist":
            hc = colour_hist(self.conn, c, self.hist_cache)
            hp = colour_hist(self.conn, prev, self.hist_cache)
            if hc is None or self.anchor_hist is None:
                return 0.0, ["no thumbnail for colour histogram"]
            sim = 0.5 * float(hc @ self.anchor_hist) + 0.5 * float(
                hc @ (hp if hp is not None else self.anchor_hist)
            )
            return p.w_app * 8.0 * (sim - 0.6), [f"colour histogram {sim:.2f}"]
        ce = _unit(c.embedding)
        if ce is None or self.anchor_emb is None:
            return 0.0, []
        if self.bg is None:
            # Too few sightings to learn what "unrelated" looks like for this embedder: a cosine alone has no
            # calibrated meaning, so appearance is left out rather than guessed.
            return 0.0, ["appearance not scored (store too small to calibrate)"]
        # Half the anchors' mean look, half the previous hop's (lighting drifts along a route).
        ref = self.ref_cache.get(prev.id)
        if ref is None:
            pe = _unit(prev.embedding)
            ref = 0.5 * self.anchor_emb + 0.5 * (pe if pe is not None else self.anchor_emb)
            self.ref_cache[prev.id] = ref
        sim = float(ce @ ref)
        z = (sim - self.bg[0]) / self.bg[1]
        if p.camera_calibration:
            cal = self.camera_background(c.camera, ref, prev.id)
            if cal is not None:
                # A camera whose view makes everyone look alike (backlight, night, a low angle) raises every
                # cosine: half the evidence is how this candidate stands out among that camera's own people.
                z = 0.5 * z + 0.5 * (sim - cal[0]) / cal[1]
        return p.w_app * min(8.0, max(-8.0, z - p.app_z0)), [f"appearance {sim:.2f} (z {z:.1f})"]

    def camera_background(self, cam: str, ref: np.ndarray, ref_key: int) -> tuple[float, float] | None:
        """Median and robust spread (1.4826 MAD) of the reference's similarity to sightings of `cam` near the
        origin's time (the person is at most a few of them, which the median ignores). None if too few."""
        key = (cam, ref_key)
        if key in self.cam_bg:
            return self.cam_bg[key]
        if cam not in self.cam_emb:
            t = self.origin.wall_start
            rows = self.conn.execute(
                "SELECT embedding FROM sightings WHERE camera_id=? AND kind=? AND wall_start BETWEEN ? AND ?"
                " AND embedding IS NOT NULL LIMIT 256",
                (cam, self.origin.kind, t - 1800.0, t + 1800.0),
            ).fetchall()
            emb = None
            if len(rows) >= 12:
                emb = np.stack([np.frombuffer(r[0], dtype=np.float32) for r in rows])
                emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
            self.cam_emb[cam] = emb
        emb = self.cam_emb[cam]
        out = None
        if emb is not None and emb.shape[1] == ref.shape[0]:
            sims = emb @ ref
            med = float(np.median(sims))
            out = (med, max(1.4826 * float(np.median(np.abs(sims - med))), self.bg[1] if self.bg else 0.02))
        self.cam_bg[key] = out
        return out

    def score(
        self, prev: Sighting, c: Sighting, link: Link, dt: float, direction: str, via: list[str]
    ) -> tuple[float, list[str]]:
        p = self.p
        logit, why = self.app_logit(prev, c)
        if p.use_attributes:
            a, w = attribute_logit(self.origin, c, p.soft_colours)
            logit += p.w_attr * a
            why += w
        self.last_look = logit  # appearance + attributes alone: "does anyone there look like the person?"
        if p.use_topology and p.use_time:
            logit += p.w_time * self.time_logit(dt, link)
            why.append(f"travel {dt:.0f} s (expected {link.mean_s:.0f}±{link.std_s:.0f})")
        if p.use_topology and p.soft_edges:
            e, w = self.edge_logit(prev, c, link, direction, via)
            logit += p.w_edge * e
            why += w
            if via:
                logit += p.skip_logit * len(via)
                why.append(f"via unseen {'/'.join(via)}")
        elif p.use_topology:
            # Forward: the candidate should enter by the link's entry edge, the previous hop leave by its exit
            # edge. Backward: mirror image.
            near_edge, near_exp = (
                (c.entry_edge, link.entry_edge) if direction == "forward" else (c.exit_edge, link.exit_edge)
            )
            far_edge, far_exp = (
                (prev.exit_edge, link.exit_edge)
                if direction == "forward"
                else (prev.entry_edge, link.entry_edge)
            )
            if near_exp and near_edge and near_edge != "inside" and not via:
                ok = near_edge == near_exp
                logit += p.w_edge * (0.7 if ok else -1.0)
                why.append(
                    f"{'entered' if direction == 'forward' else 'left'} by {near_edge}"
                    f"{' as expected' if ok else f', expected {near_exp}'}"
                )
            elif near_exp and near_edge and near_edge != "inside" and via:
                ok = near_edge == near_exp
                logit += p.w_edge * (0.4 if ok else -0.5)
            if far_exp and far_edge and far_edge != "inside":
                logit += p.w_edge * (0.3 if far_edge == far_exp else -1.5)
            if via:
                logit += p.skip_logit * len(via)
                why.append(f"via unseen {'/'.join(via)}")
        return logit, why

    def time_logit(self, dt: float, link: Link) -> float:
        """Travel-time log-likelihood ratio, 0.5 at the link's mean. The legacy Gaussian (floor -6) is right for
        exact times; a real tracklet starts late / ends early by seconds (missed detections, fragments), so the
        robust form adds that jitter to the link's spread and uses Student-t tails (a 4-sigma time is unlikely,
        not impossible)."""
        p = self.p
        if not p.time_tail:
            z = (dt - link.mean_s) / max(link.std_s, 0.5)
            return max(-6.0, 0.5 - 0.5 * z * z)
        z = (dt - link.mean_s) / max(math.hypot(link.std_s, p.time_jitter_s), 0.5)
        return max(-4.0, 0.5 - 0.5 * (p.time_nu + 1.0) * math.log1p(z * z / p.time_nu))

    def edge_reliability(self, s: Sighting) -> float:
        """How much a tracklet's edges are worth: a short one (a fragment, a person cut by the frame corner)
        has its entry/exit guessed from a few boxes."""
        return min(1.0, max(0.25, (s.end - s.start) / self.p.edge_full_s))

    def edge_logit(
        self, prev: Sighting, c: Sighting, link: Link, direction: str, via: list[str]
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
            total += v * self.edge_reliability(s)
            if name == "near" and not via:
                why.append(
                    f"{'entered' if direction == 'forward' else 'left'} by {edge}"
                    f"{' as expected' if edge == exp else f', expected {exp}'}"
                )
        return total, why

    def _window(self, cur: Sighting, link: Link, direction: str, widen: float) -> tuple[float, float, float]:
        lo = link.min_s
        hi = link.max_s if link.max_s is not None else link.mean_s + 3 * link.std_s
        if widen != 1.0:
            lo, hi = min(lo, lo / widen), hi * widen
        slack = self.p.slack_s
        if self.p.time_tail:
            slack = max(slack, 2.0 * self.p.time_jitter_s)
        return lo - slack, hi + slack, 0.0

    def candidates(self, cur: Sighting, direction: str, exclude: set[int]) -> list[_Cand]:
        key = (cur.id, direction)
        if key not in self.cand_cache:  # beams often share a sighting: score its neighbourhood once
            self.cand_cache[key] = self._gather(cur, direction)
        cands = [
            _Cand(c.s, c.logit, c.link, c.reasons, c.t0, c.t1)
            for c in self.cand_cache[key]
            if c.s.id not in exclude
        ]
        # Confirmed anchors win their hop outright; the operator has spoken.
        forced = [c for c in cands if c.s.id in self.confirmed]
        if forced:
            for c in cands:
                c.conf = 1.0 if c is forced[0] else 0.0
            return sorted(cands, key=lambda c: -c.conf)
        if cands:
            logits = np.array([c.logit for c in cands] + [self.p.none_logit])
            e = np.exp(logits - logits.max())
            probs = e / e.sum()
            for c, pr in zip(cands, probs[:-1], strict=True):
                c.conf = float(pr)
        return sorted(cands, key=lambda c: -c.conf)

    def _gather(self, cur: Sighting, direction: str) -> list[_Cand]:
        cur_t0 = cur.wall_start - self.offset(cur.camera)
        cur_t1 = cur.wall_end - self.offset(cur.camera)
        out: dict[int, _Cand] = {}
        if not self.p.use_topology:
            self._free_candidates(cur, cur_t0, cur_t1, direction, set(), out)
            return list(out.values())
        links = self.links(cur.camera, direction)
        weak: list[Link] = []
        for link in links:
            if (
                self._link_candidates(cur, cur_t0, cur_t1, link, direction, set(), out, via=[], depth=0)
                < -1.0
            ):
                weak.append(link)
        # Blind spots: only worth a look when no direct candidate is already convincing, since a skip must beat
        # a seen person at the next camera (and costs a query per neighbour of neighbour).
        best = max((c.logit for c in out.values()), default=-1e9)
        if weak and self.p.max_skip > 0 and best < self.p.none_logit + 2.0:
            for link in weak:
                self._skip(cur, cur_t0, cur_t1, link, direction, out, via=[], depth=0, first=None)
        if self.p.fragments:
            self._fragments(cur, cur_t0, cur_t1, direction, out)
        return list(out.values())

    def _fragments(
        self, cur: Sighting, cur_t0: float, cur_t1: float, direction: str, out: dict[int, _Cand]
    ) -> None:
        """The tracker lost the person for a moment (occlusion, missed detections) and started a new tracklet in
        the same view: a same-camera hop to a tracklet starting within frag_gap_s of this one's end (forward) or
        ending that soon before its start (backward), judged by look and the gap alone."""
        p = self.p
        off = self.offset(cur.camera)
        gap_link = Link(
            cur.camera, cur.camera, None, None, 0.5, 1.0, -1.0, p.frag_gap_s, self.mode, "fragment"
        )
        if direction == "forward":
            found = self._query(cur.camera, cur.wall_end - 1.0, cur.wall_end + p.frag_gap_s, {cur.id})
        else:
            found = [
                s
                for s in self._query(
                    cur.camera, cur.wall_start - p.max_dwell_s, cur.wall_start + 1.0, {cur.id}
                )
                if cur.wall_start - p.frag_gap_s <= s.wall_end <= cur.wall_start + 1.0
            ]
        for s in found:
            t0, t1 = s.wall_start - off, s.wall_end - off
            if (direction == "forward" and t0 <= cur_t0) or (direction == "backward" and t1 >= cur_t1):
                continue  # overlapping the whole tracklet: someone else beside the person
            dt = (t0 - cur_t1) if direction == "forward" else (cur_t0 - t1)
            logit, why = self.app_logit(cur, s)
            if p.use_attributes:
                a, w = attribute_logit(self.origin, s, p.soft_colours)
                logit += p.w_attr * a
                why = why + w
            if p.use_time:
                logit += p.w_time * self.time_logit(dt, gap_link)
            logit += p.frag_logit
            why.append(
                f"same camera, tracklet {'resumes' if direction == 'forward' else 'began'} {abs(dt):.1f} s apart"
            )
            prev = out.get(s.id)
            if prev is None or logit > prev.logit:
                info = {
                    "src": cur.camera,
                    "dst": cur.camera,
                    "exit_edge": None,
                    "entry_edge": None,
                    "mean_s": 0.5,
                    "std_s": 1.0,
                    "mode": self.mode,
                    "travel_s": round(dt, 1),
                    "via": [],
                    "source": "fragment",
                }
                out[s.id] = _Cand(s, logit, info, why, t0, t1)

    def _link_candidates(
        self,
        cur: Sighting,
        cur_t0: float,
        cur_t1: float,
        link: Link,
        direction: str,
        exclude: set[int],
        out: dict[int, _Cand],
        via: list[str],
        depth: int,
        first: Link | None = None,
    ) -> float:
        other = link.dst if direction == "forward" else link.src
        if other == cur.camera or other in via:
            return
        widen = self.p.skip_widen ** len(via) if via else 1.0
        lo, hi, _ = self._window(cur, link, direction, widen)
        off = self.offset(other)
        if direction == "forward":
            found = self._query(other, cur_t1 + lo + off, cur_t1 + hi + off, exclude)
        else:
            found = [
                s
                for s in self._query(
                    other, cur_t0 - hi - self.p.max_dwell_s + off, cur_t0 - lo + off, exclude
                )
                if cur_t0 - hi <= s.wall_end - off <= cur_t0 - lo
            ]
        best = -1e9
        seen_key = (cur.id, direction, other)
        for s in found:
            t0, t1 = s.wall_start - off, s.wall_end - off
            dt = (t0 - cur_t1) if direction == "forward" else (cur_t0 - t1)
            logit, why = self.score(cur, s, link, dt, direction, via)
            best = max(best, logit)
            self.seen_app[seen_key] = max(self.seen_app.get(seen_key, -1e9), self.last_look)
            prev = out.get(s.id)
            if prev is None or logit > prev.logit:
                chain = first or link
                info = {
                    "src": chain.src if direction == "forward" else link.src,
                    "dst": link.dst if direction == "forward" else chain.dst,
                    "exit_edge": chain.exit_edge if direction == "forward" else link.exit_edge,
                    "entry_edge": link.entry_edge if direction == "forward" else chain.entry_edge,
                    "mean_s": round(link.mean_s, 1),
                    "std_s": round(link.std_s, 1),
                    "mode": link.mode,
                    "travel_s": round(dt, 1),
                    "via": list(via),
                    "source": link.source,
                }
                out[s.id] = _Cand(s, logit, info, why, t0, t1)
        return best

    def _skip(
        self,
        cur: Sighting,
        cur_t0: float,
        cur_t1: float,
        link: Link,
        direction: str,
        out: dict[int, _Cand],
        via: list[str],
        depth: int,
        first: Link | None,
    ) -> None:
        """Nobody plausible on the far camera of `link`: look one camera further with a composed, widened window."""
        other = link.dst if direction == "forward" else link.src
        if (
            self.p.skip_needs_empty
            and self.seen_app.get((cur.id, direction, other), -1e9) >= self.p.skip_block_app
        ):
            # Someone who looks like the person is on `other` (late, early, by another edge): the route goes
            # through them as a direct hop; skipping would pass over a probable sighting for a cheaper time fit.
            return
        for nxt in self.links(other, direction):
            nxt_other = nxt.dst if direction == "forward" else nxt.src
            if nxt_other == cur.camera or nxt_other == other or nxt_other in via:
                continue
            a, b = (link, nxt) if direction == "forward" else (nxt, link)
            composed = Link(
                a.src,
                b.dst,
                a.exit_edge,
                b.entry_edge,
                link.mean_s + nxt.mean_s,
                math.hypot(link.std_s, nxt.std_s),
                link.min_s + nxt.min_s,
                (link.max_s or link.mean_s + 3 * link.std_s) + (nxt.max_s or nxt.mean_s + 3 * nxt.std_s),
                link.mode,
                link.source,
            )
            best = self._link_candidates(
                cur,
                cur_t0,
                cur_t1,
                composed,
                direction,
                set(),
                out,
                via=[*via, other],
                depth=depth + 1,
                first=first or link,
            )
            if best < -1.0 and depth + 1 < self.p.max_skip:
                self._skip(
                    cur, cur_t0, cur_t1, composed, direction, out, [*via, other], depth + 1, first or link
                )

    def _free_candidates(
        self,
        cur: Sighting,
        cur_t0: float,
        cur_t1: float,
        direction: str,
        exclude: set[int],
        out: dict[int, _Cand],
    ) -> None:
        # No topology: any other camera within the horizon (the baseline and the appearance-only ablation).
        h = self.p.horizon_s
        if direction == "forward":
            lo, hi = cur_t1 - self.p.slack_s, cur_t1 + h
        else:
            lo, hi = cur_t0 - h - self.p.max_dwell_s, cur_t0 + self.p.slack_s
        pad = 3600.0  # cameras' clock offsets are unknown to a plain time query; filter exactly below
        rows = self.conn.execute(
            f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE wall_start BETWEEN ? AND ? AND kind=? AND camera_id<>?",
            (lo - pad, hi + pad, self.origin.kind, cur.camera),
        ).fetchall()
        for r in rows:
            s = row_to_sighting(r)
            if s.id in exclude or s.id in self.rejected:
                continue
            off = self.offset(s.camera)
            t0, t1 = s.wall_start - off, s.wall_end - off
            if direction == "forward" and not (lo <= t0 <= hi):
                continue
            if direction == "backward" and not (cur_t0 - h <= t1 <= hi):
                continue
            dt = (t0 - cur_t1) if direction == "forward" else (cur_t0 - t1)
            logit, why = self.app_logit(cur, s)
            # Without a map the only temporal knowledge is "the next camera comes soonest": a mild preference
            # for the nearest in time keeps the person's own later sightings from splitting the vote.
            logit -= max(dt, 0.0) / 60.0
            if self.p.use_attributes:
                a, w = attribute_logit(self.origin, s, self.p.soft_colours)
                logit += self.p.w_attr * a
                why = why + w
            out[s.id] = _Cand(
                s,
                logit,
                {"src": cur.camera, "dst": s.camera, "travel_s": round(dt, 1), "via": [], "source": "none"},
                why,
                t0,
                t1,
            )

    def search(
        self,
        start: Sighting,
        direction: str,
        max_hops: int,
        stop_at: int | None = None,
        not_after: float | None = None,
        exclude: set[int] | None = None,
    ) -> tuple[list[tuple[_Cand, list[_Cand]]], str]:
        """Beam search from `start`; returns [(chosen, alternatives at that step)] and why it stopped."""
        Beam = tuple[float, list[tuple[_Cand, list[_Cand]]], bool, str]
        beams: list[Beam] = [(0.0, [], False, "")]
        used0 = {start.id, self.origin.id} | (exclude or set())
        for _ in range(max_hops):
            nxt: list[Beam] = []
            for score, path, done, why in beams:
                if done:
                    nxt.append((score, path, done, why))
                    continue
                cur = path[-1][0].s if path else start
                used = used0 | {c.s.id for c, _ in path}
                cands = self.candidates(cur, direction, used)
                if not_after is not None:
                    cands = [c for c in cands if c.t0 <= not_after or c.s.id == stop_at]
                p_take = sum(c.conf for c in cands)
                viable = [c for c in cands if c.conf >= self.p.stop_conf][: self.p.beam]
                alts = [c for c in cands if c.conf >= self.p.alt_min_conf]
                if not viable:
                    reason = (
                        "no candidate"
                        if not cands
                        else f"best candidate {cands[0].conf:.2f} below {self.p.stop_conf}"
                    )
                    nxt.append((score + math.log(max(1e-6, 1.0 - p_take)), path, True, reason))
                    continue
                for c in viable:
                    reached = stop_at is not None and c.s.id == stop_at
                    nxt.append(
                        (
                            score + math.log(max(c.conf, 1e-9)),
                            [*path, (c, alts)],
                            reached,
                            "reached anchor" if reached else "",
                        )
                    )
            nxt.sort(key=lambda b: -b[0])
            beams = nxt[: self.p.beam]
            if all(b[2] for b in beams):
                break
        best = beams[0]
        return best[1], best[3] or f"hop limit {max_hops}"


def _hop(c: _Cand, alts: list[_Cand], direction: str, confirmed: set[int]) -> Hop:
    alt = [
        {**a.s.public(), "confidence": round(a.conf, 4), "reasons": a.reasons[:4]}
        for a in alts
        if a.s.id != c.s.id
    ][:4]
    return Hop(
        c.s,
        1.0 if c.s.id in confirmed else c.conf,
        direction,
        c.link,
        c.reasons,
        alt,
        c.s.id in confirmed,
        c.t0,
        c.t1,
    )


def _fill_gaps(r: _Relay, hops: list[Hop], confirmed: set[int]) -> list[Hop]:
    """Insert a sighting Y between consecutive hops A -> B when A -> Y is a hop the relay would take (confidence
    >= stop_conf) and Y -> B is plausible (log-odds >= gap_min_logit). The beam multiplies hop probabilities, so where a network has both a
    direct street A -> B and a way through Y, the shorter path wins even when Y holds the person; a sighting
    that fits both ends in look and time is the better explanation."""
    stop = r.p.stop_conf
    out = list(hops)
    i = 0
    while i < len(out) - 1 and len(out) < 4 * len(hops) + 4:
        a, b = out[i], out[i + 1]
        used = {h.sighting.id for h in out}
        best: tuple[float, _Cand, _Cand] | None = None
        for y in r.candidates(a.sighting, "forward", used):
            if y.conf < stop or y.t0 >= b.true_start or y.t1 <= a.true_start:
                continue
            for z in r.candidates(y.s, "forward", used - {b.sighting.id}):
                # B is already on the route: the second leg only has to be plausible, not to win against
                # Y's other neighbours.
                if z.s.id == b.sighting.id and z.logit >= r.p.none_logit + r.p.gap_min_logit:
                    if best is None or y.conf > best[0]:
                        best = (y.conf, y, z)
        if best is None:
            i += 1
            continue
        _, y, z = best
        backward = a.direction == "backward"
        hop_y = _hop(y, [], "backward" if backward else "forward", confirmed)
        hop_y.reasons = [*y.reasons, "fits between the neighbouring hops"]
        if backward:  # a backward hop's link leads to its later neighbour, a forward hop's to its earlier one
            hop_y.link, a.link = z.link, y.link
        else:
            hop_y.link = y.link
            if b.direction == "forward":
                b.link = z.link
        out.insert(i + 1, hop_y)
        i += 1
    return out


def relay(
    store: Any,
    from_sighting: int,
    hops: int = 10,
    *,
    case: str | None = None,
    params: RelayParams | None = None,
    direction: str = "both",
    confirmed: set[int] | None = None,
    rejected: set[int] | None = None,
) -> Route:
    """Reconstruct the route through `from_sighting`: up to `hops` hops forwards and `hops` backwards in time.

    `store` is a Store or its connection. Feedback stored for (`case`, from_sighting) is applied: rejected
    sightings are never proposed, confirmed ones are anchors the route passes through (extra `confirmed` /
    `rejected` ids may be passed directly). Returns a Route whose hops are in time order, origin included.
    """
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if hops < 0 or hops > 200:
        raise InputError(f"hops must be between 0 and 200, got {hops}")
    conn = getattr(store, "conn", store)
    t_start = time.perf_counter()
    origin = get_sighting(conn, from_sighting)
    if conn.execute("SELECT 1 FROM cameras WHERE id=?", (origin.camera,)).fetchone() is None:
        raise NotFound(f"sighting {from_sighting} is on camera {origin.camera!r}, which is not registered")
    conf_fb, rej_fb = feedback_for(conn, case, from_sighting)
    confirmed = (confirmed or set()) | conf_fb
    rejected = ((rejected or set()) | rej_fb) - confirmed
    params = params or RelayParams()
    r = _Relay(conn, origin, params, rejected, confirmed)

    # Anchors in true time: the origin and every confirmed sighting. Bridge between consecutive anchors, then
    # search outwards from the first and the last.
    anchor_rows = true_times(conn, [origin.id, *sorted(confirmed)])
    anchor_rows.sort(key=lambda x: x[2])
    anchors = [get_sighting(conn, a[0]) for a in anchor_rows]
    times = {a[0]: (a[2], a[3]) for a in anchor_rows}

    def anchor_hop(s: Sighting) -> Hop:
        return Hop(
            s,
            1.0,
            "origin" if s.id == origin.id else "confirmed",
            None,
            ["origin"] if s.id == origin.id else ["confirmed by operator"],
            [],
            s.id != origin.id,
            *times[s.id],
        )

    out: list[Hop] = [anchor_hop(anchors[0])]
    stopped: dict[str, str] = {}
    for a, b in zip(anchors, anchors[1:], strict=False):
        path, _ = r.search(a, "forward", max(hops, 1), stop_at=b.id, not_after=times[b.id][0])
        for c, alts in path:
            if c.s.id == b.id:
                break
            out.append(_hop(c, alts, "forward", confirmed))
        out.append(anchor_hop(b))
    if direction in ("both", "forward") and hops > 0:
        path, why = r.search(anchors[-1], "forward", hops)
        out += [_hop(c, alts, "forward", confirmed) for c, alts in path]
        stopped["forward"] = why
    if direction in ("both", "backward") and hops > 0:
        # Overlapping views give negative travel times: a sighting already taken forwards can also look like
        # an earlier one; one route visits each sighting once.
        taken = {h.sighting.id for h in out}
        path, why = r.search(anchors[0], "backward", hops, exclude=taken)
        out = [_hop(c, alts, "backward", confirmed) for c, alts in reversed(path)] + out
        stopped["backward"] = why
    out.sort(key=lambda h: (h.true_start, h.true_end))
    if params.fill_gaps and params.use_topology:
        out = _fill_gaps(r, out, confirmed)
    return Route(
        origin.id,
        out,
        case,
        params,
        stopped,
        time.perf_counter() - t_start,
        [a.id for a in anchors if a.id != origin.id],
        sorted(rejected),
    )
