"""Camera links learned from unlabelled traffic: which camera follows which, by which edges, after how long.

No labels are read. For each ordered camera pair (A, B) every sighting on A is paired with the sighting on B
that looks most like it (cosine of the embeddings, each camera's mean embedding removed first so that one
camera's colour cast or angle does not make everyone on it look alike) among those starting within
[-overlap_s, max_gap_s] of its end; a pair counts when that similarity is high (a quantile of all such
pairs). People who really walk A -> B pile up at their travel time; chance look-alikes spread over the whole
window. The chance level is measured, not assumed: B's embeddings are shuffled among B's sightings (times
kept) and the same pairing is run again, `shuffles` times. A link is kept where the observed transition-time
histogram exceeds the shuffled one by at least `min_support` pairs with a Poisson z of at least `z_min` over
the peak; its travel time is the median (spread: MAD) of the pairs under the peak, its edges the modal exit
edge of A and entry edge of B there when one dominates (else any edge).

Pairs of cameras the register puts next to each other but whose traffic cannot settle a link are reported
(too few sightings, or an excess too small to tell from chance), never filled in. Learned links are stored
with source='learned' and their support and z (migration relay:002_learned_links); confirmed routes refine
them like any other link (`refine_links`: the learned estimate is the prior).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from relaytrack.errors import InputError
from relaytrack.records import Link


@dataclass(frozen=True, slots=True)
class LearnParams:
    max_gap_s: float = 300.0  # longest walk between two cameras looked at
    overlap_s: float = 30.0  # cameras sharing a view: B may start this long before A ends
    sim_quantile: float = 0.99  # a pair is "similar" above this quantile of all windowed cross-camera pairs
    bin_s: float = 10.0
    smooth_bins: int = 2  # excess smoothed over +- this many bins (walking speeds differ)
    shuffles: int = 10
    min_support: float = 4.0  # excess pairs over chance needed for a link
    z_min: float = 3.0
    min_sightings: int = 6  # a camera with fewer sightings cannot settle anything
    edge_share: float = 0.5  # the modal edge must cover this share of the peak's pairs, else 'any'
    dwell_s: float = 10.0  # typical time in view of a camera passed on the way (for indirect links)
    indirect_tol: float = 0.3  # A->B->C explains A->C when the times add up within this share
    centre_min: int = 8  # per-camera mean removed only for cameras with this many sightings
    seed: int = 0


@dataclass(frozen=True, slots=True)
class LearnedLink:
    src: str
    dst: str
    exit_edge: str | None
    entry_edge: str | None
    mean_s: float  # median of the peak's transition times
    std_s: float
    min_s: float
    max_s: float
    support: float  # observed - expected pairs under the peak
    observed: int
    expected: float
    z: float
    mode: str = "walk"

    def to_link(self) -> Link:
        return Link(
            self.src,
            self.dst,
            self.exit_edge,
            self.entry_edge,
            self.mean_s,
            self.std_s,
            self.min_s,
            self.max_s,
            self.mode,
            "learned",
        )


@dataclass(frozen=True, slots=True)
class Unestimated:
    src: str
    dst: str
    reason: str
    observed: int = 0
    expected: float = 0.0


@dataclass
class LearnResult:
    links: list[LearnedLink] = field(default_factory=list)
    unestimated: list[Unestimated] = field(default_factory=list)  # register neighbours the traffic cannot settle
    absent: int = 0  # register neighbours with enough traffic and no excess: no link
    indirect: list[tuple[str, str, str]] = field(default_factory=list)  # (src, dst, via): a relay through `via`
    sightings: int = 0
    cameras: int = 0
    threshold: float | None = None
    params: LearnParams = field(default_factory=LearnParams)

    def to_dict(self) -> dict[str, Any]:
        return {
            "links": [_round(asdict(x)) for x in self.links],
            "unestimated": [_round(asdict(x)) for x in self.unestimated],
            "absent": self.absent,
            "indirect": [list(x) for x in self.indirect],
            "sightings": self.sightings,
            "cameras": self.cameras,
            "similarity_threshold": None if self.threshold is None else round(self.threshold, 4),
            "params": asdict(self.params),
        }


def _round(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in d.items()}


@dataclass
class _Cam:
    ids: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    entry: list[str]
    exit: list[str]
    emb: np.ndarray


def _load(conn: sqlite3.Connection, kind: str, p: LearnParams) -> dict[str, _Cam]:
    rows = conn.execute(
        "SELECT s.id, s.camera_id, s.wall_start - c.clock_offset_s, s.wall_end - c.clock_offset_s,"
        " s.entry_edge, s.exit_edge, s.embedding FROM sightings s JOIN cameras c ON c.id = s.camera_id"
        " WHERE s.kind=? AND s.embedding IS NOT NULL ORDER BY s.camera_id, s.wall_start",
        (kind,),
    ).fetchall()
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r[1], []).append(r)
    out: dict[str, _Cam] = {}
    for cam, rs in by.items():
        emb = np.stack([np.frombuffer(r[6], dtype=np.float32) for r in rs]).astype(np.float64)
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
        if len(rs) >= p.centre_min:
            # Each camera sees everyone through its own light and angle: remove what all its sightings share.
            emb = emb - emb.mean(axis=0, keepdims=True)
            emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
        out[cam] = _Cam(
            np.array([r[0] for r in rs]),
            np.array([r[2] for r in rs], float),
            np.array([r[3] for r in rs], float),
            [r[4] or "inside" for r in rs],
            [r[5] or "inside" for r in rs],
            emb,
        )
    return out


def _best_pairs(sim: np.ndarray, win: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a index, b index, similarity) of each A sighting's most similar B sighting inside the time window."""
    masked = np.where(win, sim, -np.inf)
    j = np.argmax(masked, axis=1)
    i = np.arange(sim.shape[0])
    s = masked[i, j]
    ok = np.isfinite(s)
    return i[ok], j[ok], s[ok]


def _threshold(cams: dict[str, _Cam], p: LearnParams) -> float | None:
    sims = []
    for ca, a in cams.items():
        for cb, b in cams.items():
            if ca == cb:
                continue
            dt = b.t0[None, :] - a.t1[:, None]
            win = (dt >= -p.overlap_s) & (dt <= p.max_gap_s)
            if win.any():
                sims.append((a.emb @ b.emb.T)[win])
    if not sims:
        return None
    return float(np.quantile(np.concatenate(sims), p.sim_quantile))


def _neighbours(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """Camera pairs the register puts next to each other (stored links of any source, else map inference)."""
    pairs = {(r[0], r[1]) for r in conn.execute("SELECT src, dst FROM camera_links WHERE source != 'learned'")}
    if pairs:
        return pairs
    from relaytrack.relay.network import all_cameras, infer_links

    cams = all_cameras(conn)
    return {(ln.src, ln.dst) for ln in infer_links(cams, cams)}


def learn_links(
    conn: sqlite3.Connection, params: LearnParams | None = None, *, kind: str = "person"
) -> LearnResult:
    """Learn links from the stored sightings of `kind` (see the module docstring). Reads only; `store_learned`
    writes the result."""
    p = params or LearnParams()
    rng = np.random.default_rng(p.seed)
    cams = _load(conn, kind, p)
    res = LearnResult(
        sightings=int(sum(len(c.t0) for c in cams.values())),
        cameras=conn.execute("SELECT COUNT(*) FROM cameras").fetchone()[0],
        params=p,
    )
    neighbours = _neighbours(conn)
    busy = {c for c, v in cams.items() if len(v.t0) >= p.min_sightings}
    res.threshold = _threshold({c: cams[c] for c in busy}, p)
    edges = np.arange(-p.overlap_s, p.max_gap_s + p.bin_s, p.bin_s)
    tested: set[tuple[str, str]] = set()
    if res.threshold is not None:
        for ca in sorted(busy):
            for cb in sorted(busy):
                if ca == cb:
                    continue
                tested.add((ca, cb))
                link, why = _test_pair(ca, cb, cams[ca], cams[cb], res.threshold, edges, p, rng)
                if link is not None:
                    res.links.append(link)
                elif (ca, cb) in neighbours:
                    if why is None:
                        res.absent += 1
                    else:
                        res.unestimated.append(why)
    res.links, res.indirect = _prune_indirect(res.links, p)
    for ca, cb in sorted(neighbours - tested):
        na, nb = len(cams[ca].t0) if ca in cams else 0, len(cams[cb].t0) if cb in cams else 0
        res.unestimated.append(
            Unestimated(ca, cb, f"too little traffic: {na} and {nb} sightings (need {p.min_sightings} each)")
        )
    return res


def _test_pair(
    ca: str,
    cb: str,
    a: _Cam,
    b: _Cam,
    thr: float,
    edges: np.ndarray,
    p: LearnParams,
    rng: np.random.Generator,
) -> tuple[LearnedLink | None, Unestimated | None]:
    """A link A -> B, or (None, why) when the traffic is too thin to say, or (None, None) for "no link"."""
    dts = b.t0[None, :] - a.t1[:, None]
    win = (dts >= -p.overlap_s) & (dts <= p.max_gap_s)
    sim = a.emb @ b.emb.T
    i, j, s = _best_pairs(sim, win)
    keep = s >= thr
    i, j = i[keep], j[keep]
    dt = dts[i, j]
    obs = np.histogram(dt, edges)[0].astype(float)
    null = np.zeros_like(obs)
    for _ in range(p.shuffles):
        # B's appearances shuffled among B's times: who looks like whom stays, when they were seen does not.
        ni, nj, ns = _best_pairs(sim[:, rng.permutation(len(b.t0))], win)
        k = ns >= thr
        null += np.histogram(dts[ni[k], nj[k]], edges)[0]
    null /= p.shuffles
    if obs.sum() < p.min_support:
        return None, Unestimated(ca, cb, f"too little traffic: {int(obs.sum())} similar pairs", int(obs.sum()),
                                 float(null.sum()))
    w = 2 * p.smooth_bins + 1
    excess = np.convolve(obs - null, np.ones(w), mode="same")
    k = int(np.argmax(excess))
    lo = hi = k
    # The peak: contiguous bins around the maximum where the smoothed excess stays positive.
    while lo > 0 and excess[lo - 1] > 0:
        lo -= 1
    while hi < len(obs) - 1 and excess[hi + 1] > 0:
        hi += 1
    o, e = float(obs[lo : hi + 1].sum()), float(null[lo : hi + 1].sum())
    support, z = o - e, (o - e) / np.sqrt(max(e, 1.0))
    if support < p.min_support or z < p.z_min:
        # Enough similar pairs to see a peak of min_support if there were one: then there is no link.
        if o + e < 2 * p.min_support:
            return None, Unestimated(ca, cb, f"excess {support:.1f} pairs (z {z:.1f}) too thin to decide",
                                     int(o), e)
        return None, None
    t_lo, t_hi = edges[lo], edges[hi + 1]
    sel = (dt >= t_lo) & (dt < t_hi)
    x = dt[sel]
    med = float(np.median(x))
    std = max(1.0, 1.4826 * float(np.median(np.abs(x - med))))
    exit_edge = _modal([a.exit[q] for q in i[sel]], p.edge_share)
    entry_edge = _modal([b.entry[q] for q in j[sel]], p.edge_share)
    return (
        LearnedLink(
            ca,
            cb,
            exit_edge,
            entry_edge,
            med,
            std,
            float(min(x.min(), med - 3 * std)),
            float(max(x.max(), med + 3 * std)),
            float(support),
            int(o),
            e,
            float(z),
        ),
        None,
    )


def _prune_indirect(
    links: list[LearnedLink], p: LearnParams
) -> tuple[list[LearnedLink], list[tuple[str, str, str]]]:
    """Drop A -> C when learned A -> B and B -> C add up to its travel time: the same people walking on past B
    (or missed there) make a real but second-hand peak, and the relay should step through B."""
    by = {(ln.src, ln.dst): ln for ln in links}
    out_of: dict[str, list[LearnedLink]] = {}
    for ln in links:
        out_of.setdefault(ln.src, []).append(ln)
    keep, dropped = [], []
    for ln in links:
        via = None
        for ab in out_of.get(ln.src, []):
            bc = by.get((ab.dst, ln.dst))
            if bc is None or ab.dst == ln.dst:
                continue
            total = ab.mean_s + bc.mean_s + p.dwell_s
            if abs(total - ln.mean_s) <= p.indirect_tol * ln.mean_s + p.bin_s and ln.support <= max(
                ab.support, bc.support
            ):
                via = ab.dst
                break
        if via is None:
            keep.append(ln)
        else:
            dropped.append((ln.src, ln.dst, via))
    return keep, dropped


def _modal(values: list[str], share: float) -> str | None:
    seen = [v for v in values if v and v != "inside"]
    if not seen:
        return None
    edge, n = Counter(seen).most_common(1)[0]
    return edge if n >= share * len(values) else None


# ---------------------------------------------------------------- storing


def store_learned(conn: sqlite3.Connection, result: LearnResult) -> dict[str, int]:
    """Replace earlier learned links with `result`'s. A camera with learned outgoing links loses its map-inferred
    ones (its traffic has spoken about its exits; `cameras import` brings them back); file links stay, as do
    the map links of cameras the traffic said nothing about. Returns {"stored", "map_links_dropped"}."""
    conn.execute("DELETE FROM camera_links WHERE source='learned'")
    srcs = sorted({ln.src for ln in result.links})
    dropped = 0
    for src in srcs:
        dropped += conn.execute("DELETE FROM camera_links WHERE src=? AND source='map'", (src,)).rowcount
    for ln in result.links:
        conn.execute(
            "INSERT OR REPLACE INTO camera_links(src, dst, exit_edge, entry_edge, mode, mean_s, std_s, min_s,"
            " max_s, source, prior_mean_s, prior_std_s, n_obs, support, z)"
            " VALUES (?,?,?,?,?,?,?,?,?,'learned',?,?,0,?,?)",
            (
                ln.src,
                ln.dst,
                ln.exit_edge or "",
                ln.entry_edge or "",
                ln.mode,
                ln.mean_s,
                ln.std_s,
                ln.min_s,
                ln.max_s,
                ln.mean_s,
                ln.std_s,
                ln.support,
                ln.z,
            ),
        )
    return {"stored": len(result.links), "map_links_dropped": dropped}


# ---------------------------------------------------------------- against the oracle


@dataclass(frozen=True, slots=True)
class LinkComparison:
    """Learned links against a town's links-truth.yaml, by camera pair (src -> dst)."""

    learned: int
    true: int
    correct: int  # learned pairs that are true pairs
    precision: float
    recall: float
    within_20pct: int  # true pairs found with |travel-time error| <= 20 %
    recall_within_20pct: float
    median_time_error: float | None  # relative |learned - true| / true, over correct pairs
    edge_agreement: float | None  # share of correct pairs whose known exit and entry edges match the truth's

    def to_dict(self) -> dict[str, Any]:
        return _round(asdict(self))


def read_truth_links(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such links file")
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    links = doc.get("links") if isinstance(doc, dict) else None
    if not isinstance(links, list):
        raise InputError(f"{path}: expected a mapping with 'links'")
    return links


def compare_links(learned: list[LearnedLink] | list[Link], truth: list[dict[str, Any]]) -> LinkComparison:
    """Precision/recall of learned camera pairs against true ones; travel-time error of the pairs found (a
    true pair's time: the sample-weighted mean over its edge variants)."""
    tp: dict[tuple[str, str], list[tuple[float, int, str | None, str | None]]] = {}
    for t in truth:
        tp.setdefault((str(t["src"]), str(t["dst"])), []).append(
            (float(t["mean_s"]), int(t.get("samples") or 1), t.get("exit_edge"), t.get("entry_edge"))
        )
    mine: dict[tuple[str, str], list] = {}
    for ln in learned:
        mine.setdefault((ln.src, ln.dst), []).append(ln)
    correct = [k for k in mine if k in tp]
    errs, edge_ok, edge_n = [], 0, 0
    within = 0
    for k in correct:
        rows = tp[k]
        w = sum(r[1] for r in rows)
        t_true = sum(r[0] * r[1] for r in rows) / w
        ln = mine[k][0]
        err = abs(ln.mean_s - t_true) / max(abs(t_true), 1.0)
        errs.append(err)
        within += int(err <= 0.2)
        if ln.exit_edge or ln.entry_edge:
            edge_n += 1
            edge_ok += int(
                any(
                    (ln.exit_edge in (None, r[2])) and (ln.entry_edge in (None, r[3]))
                    for r in rows
                )
            )
    n_true = len(tp)
    return LinkComparison(
        learned=len(mine),
        true=n_true,
        correct=len(correct),
        precision=len(correct) / len(mine) if mine else 0.0,
        recall=len(correct) / n_true if n_true else 0.0,
        within_20pct=within,
        recall_within_20pct=within / n_true if n_true else 0.0,
        median_time_error=float(np.median(errs)) if errs else None,
        edge_agreement=edge_ok / edge_n if edge_n else None,
    )
