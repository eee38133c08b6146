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

A street's traffic is often too thin for that open test (minutes of footage: a link walked two or three
times). For the camera pairs the register puts next to each other (its map links: a guess from positions and
headings; file links are the operator's and stay as given), a second test takes the register link as the
prior it is: only pairs inside its travel window count, and of those the A and B sightings that are each
other's most similar there (mutual), ranked by likeness. Chance is judged by likeness against the other camera
pairs (`_test_window`); a link is kept where two to six such pairs are too alike to be chance. Its travel time
is the median of those pairs, its window at least the register's (`method` = "window"; the open test's links
are "open"). Views that overlap are left to the register, and a pair whose person is seen on a third camera
in between is no evidence for a direct link. A learned link replaces the map link of its own pair; a camera
whose open-test exits (views apart, not overlaps) hold at least `explained_share` of its sightings loses its
other map links as well.
Pairs whose traffic settles neither are reported (too few sightings, or an excess too small to tell from
chance), never filled in. Learned links are stored
with source='learned' and their support and z (migration relay:002_learned_links); confirmed routes refine
them like any other link (`refine_links`: the learned estimate is the prior).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

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
    explained_share: float = 0.5  # learned exits holding this share of a camera's departures replace its map exits
    prior_min_pairs: int = 2  # mutual pairs needed inside a register window
    via_share: float = 0.8  # a pair is indirect when a third camera's sighting between them is this alike
    between_slack_s: float = 2.0  # "between": after A is left and before B is entered, give or take
    prior_max_pairs: int = 6  # the most alike pairs looked at (each count tried costs its share of prior_p)
    prior_p: float = 0.01  # chance probability of that many pairs so alike (Bonferroni over counts tried)
    prior_rel_std: float = 0.15  # a window-learned time's spread is at least this share of it (few pairs)
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
    method: str = "open"  # open: the whole-window test; window: inside a register link's window

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
    mode: str = "walk"  # the links' mode (walk for people, drive for vehicles)
    # Cameras whose open-test exits hold at least `explained_share` of their sightings' departures.
    explained_cameras: list[str] = field(default_factory=list)
    indirect: list[tuple[str, str, str]] = field(default_factory=list)  # (src, dst, via): a relay through `via`
    sightings: int = 0
    cameras: int = 0
    threshold: float | None = None
    params: LearnParams = field(default_factory=LearnParams)

    def to_dict(self) -> dict[str, Any]:
        return {
            "links": [rounded(asdict(x)) for x in self.links],
            "unestimated": [rounded(asdict(x)) for x in self.unestimated],
            "absent": self.absent,
            "explained_cameras": self.explained_cameras,
            "indirect": [list(x) for x in self.indirect],
            "sightings": self.sightings,
            "cameras": self.cameras,
            "similarity_threshold": None if self.threshold is None else round(self.threshold, 4),
            "params": asdict(self.params),
        }


def rounded(d: dict[str, Any]) -> dict[str, Any]:
    """A record's floats to two decimals, for JSON."""
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


def _pool(cams: dict[str, _Cam], p: LearnParams) -> np.ndarray:
    """Similarities of every cross-camera pair inside the open window, sorted: nearly all of them two
    different people, so the chance level of a likeness."""
    sims = []
    for ca, a in cams.items():
        for cb, b in cams.items():
            if ca == cb:
                continue
            dt = b.t0[None, :] - a.t1[:, None]
            win = (dt >= -p.overlap_s) & (dt <= p.max_gap_s)
            if win.any():
                sims.append((a.emb @ b.emb.T)[win])
    return np.sort(np.concatenate(sims)) if sims else np.zeros(0)


def _priors(conn: sqlite3.Connection, mode: str) -> dict[tuple[str, str], Link]:
    """The register's link per camera pair (of `mode`; `_prior_rank`: an operator's link over a map guess, then
    the widest window among its edge variants): the stored links of any source but learned, and the map links
    inferred from the register for the pairs they lack (an earlier learning may have replaced a pair's map
    link, and the register still says where it leads)."""
    from relaytrack.relay.network import all_cameras, camera_mounts, infer_links, row_to_link

    given = [
        row_to_link(r)
        for r in conn.execute("SELECT * FROM camera_links WHERE mode=? AND source != 'learned'", (mode,))
    ]
    cams = all_cameras(conn)
    out: dict[tuple[str, str], Link] = {}
    for ln in given + infer_links(cams, cams, mode=mode, mounts=camera_mounts(conn)):
        old = out.get((ln.src, ln.dst))
        if old is None or _prior_rank(ln) > _prior_rank(old):
            out[(ln.src, ln.dst)] = ln
    return out


def _prior_rank(ln: Link) -> tuple[bool, float]:
    """The operator's links (file, data) before a map guess whatever their order; then the widest window."""
    return ln.source != "map", ln.upper_s - ln.min_s


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
        mode="walk" if kind == "person" else "drive",
    )
    priors = _priors(conn, res.mode)
    neighbours = set(priors)
    busy = {c for c, v in cams.items() if len(v.t0) >= p.min_sightings}
    pool = _pool({c: cams[c] for c in busy}, p)
    res.threshold = float(np.quantile(pool, p.sim_quantile)) if len(pool) else None
    edges = np.arange(-p.overlap_s, p.max_gap_s + p.bin_s, p.bin_s)
    tested: set[tuple[str, str]] = set()
    if res.threshold is not None:
        for ca in sorted(busy):
            for cb in sorted(busy):
                if ca == cb:
                    continue
                tested.add((ca, cb))
                link, why = _test_pair(ca, cb, cams[ca], cams[cb], res.threshold, edges, p, rng)
                if link is None and (ca, cb) in priors and priors[(ca, cb)].source == "map":
                    others = [cams[c] for c in cams if c not in (ca, cb)]
                    link = _test_window(ca, cb, cams[ca], cams[cb], priors[(ca, cb)], pool, others, p)
                if link is not None:
                    res.links.append(link)
                elif (ca, cb) in neighbours:
                    if why is None:
                        res.absent += 1
                    else:
                        res.unestimated.append(why)
    res.links, res.indirect = _prune_indirect(res.links, p)
    held: Counter[str] = Counter()
    for ln in res.links:
        # An overlap is no exit: someone seen by both views at once still leaves the first one somewhere.
        if ln.method == "open" and ln.mean_s > 0:
            held[ln.src] += ln.observed
    res.explained_cameras = sorted(c for c, n in held.items() if n >= p.explained_share * len(cams[c].t0))
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


def _mutual_pairs(sim: np.ndarray, win: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a index, b index) of the pairs inside the window that are each other's most similar there."""
    masked = np.where(win, sim, -np.inf)
    j = np.argmax(masked, axis=1)
    i = np.arange(sim.shape[0])
    back = np.argmax(masked, axis=0)
    ok = np.isfinite(masked[i, j]) & (back[j] == i)
    return i[ok], j[ok]


def _seen_between(
    a: _Cam, b: _Cam, qa: int, qb: int, level: float, others: list[_Cam], p: LearnParams
) -> bool:
    """Whether someone on another camera, between A's sighting qa leaving and B's sighting qb arriving, looks
    like both of them (similarity of at least `level` to each)."""
    lo, hi = a.t1[qa] - p.between_slack_s, b.t0[qb] + p.between_slack_s
    for x in others:
        m = (x.t0 >= lo) & (x.t1 <= hi)
        if m.any() and float(np.max(np.minimum(x.emb[m] @ a.emb[qa], x.emb[m] @ b.emb[qb]))) >= level:
            return True
    return False


def _test_window(
    ca: str, cb: str, a: _Cam, b: _Cam, prior: Link, pool: np.ndarray, others: list[_Cam], p: LearnParams
) -> LearnedLink | None:
    """A link A -> B learned inside the register link's window (see the module docstring), or None.

    Chance is judged by likeness, not by time: in a short clip the window is most of it, and a shuffle of B's
    times would find the same people again. The mutual pairs are ranked by similarity; for the k most alike,
    the number of this window's pairs that chance alone would make at least as alike as the k-th is the
    window's pair count times the pool's share above it (`_pool`: nearly all pairs there are two people),
    and the Poisson probability of k or more such pairs is the evidence; the best k counts, its probability
    multiplied by the number of k tried."""
    from scipy.stats import poisson

    if prior.mean_s <= 0 or len(pool) == 0:
        # Overlapping views: people are seen by both at once, and how long depends on their path through the
        # overlap, not on a walk between the cameras; the register's overlap model is left as it is.
        return None
    dts = b.t0[None, :] - a.t1[:, None]
    win = (dts >= prior.min_s) & (dts <= prior.upper_s)
    sims = a.emb @ b.emb.T
    i, j = _mutual_pairs(sims, win)
    if len(i) < p.prior_min_pairs:
        return None
    sim = sims[i, j]
    # A person seen on a third camera in between walked A -> X -> B: that is X's links, not this one.
    direct = np.array(
        [not _seen_between(a, b, qa, qb, s * p.via_share, others, p) for qa, qb, s in zip(i, j, sim, strict=True)]
    )
    i, j, sim = i[direct], j[direct], sim[direct]
    if len(i) < p.prior_min_pairs:
        return None
    order = np.argsort(-sim)
    i, j, sim = i[order], j[order], sim[order]
    # The chance level from the other camera pairs: this pair's own walkers must not vouch for themselves.
    own = np.sort(sims[(dts >= -p.overlap_s) & (dts <= p.max_gap_s)])
    n_above = (len(pool) - np.searchsorted(pool, sim)) - (len(own) - np.searchsorted(own, sim))
    above = (n_above + 1) / (len(pool) - len(own) + 1)
    ks = np.arange(p.prior_min_pairs, min(len(i), p.prior_max_pairs) + 1)
    tails = poisson.sf(ks - 1, float(win.sum()) * above[ks - 1])
    best = int(np.argmin(tails))
    if float(tails[best]) * len(ks) > p.prior_p:
        return None
    o = int(ks[best])
    e = float(win.sum() * above[o - 1])
    i, j = i[:o], j[:o]
    x = dts[i, j]
    med = float(np.median(x))
    # Two or three pairs cannot tell the spread: keep a share of the time (and of the register's window).
    std = max(3.0, p.prior_rel_std * abs(med), 1.4826 * float(np.median(np.abs(x - med))))
    # The edges stay the register's: two to six people's exits and entries are no majority to replace the
    # geometry with (with edges read from them, learning more links cost the five-minute tuning towns' relay).
    return LearnedLink(
        ca,
        cb,
        prior.exit_edge,
        prior.entry_edge,
        med,
        std,
        # The window stays at least the register's: a few pairs move the time, not the bounds of the walk.
        float(min(x.min(), med - 3 * std, prior.min_s)),
        float(max(x.max(), med + 3 * std, prior.upper_s)),
        float(o - e),
        o,
        e,
        float((o - e) / np.sqrt(max(e, 1.0))),
        prior.mode,
        "window",
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
    """Replace earlier learned links with `result`'s. A learned link replaces the map-inferred link of its own
    camera pair (a pair judged absent keeps it: minutes of traffic with look-alikes often show no excess where
    a link is). A camera whose learned exits explain most of the people leaving it
    (`explained_cameras`) loses its other map links too (its traffic has spoken about its exits); elsewhere
    the map links of pairs the traffic could not settle stay (minutes of a street settle a few pairs, and one
    learned exit does not show that the others lead nowhere). File links stay; `cameras import` brings the map
    links back. Returns {"stored", "map_links_dropped"}."""
    conn.execute("DELETE FROM camera_links WHERE source='learned'")
    dropped = 0
    for src in result.explained_cameras:
        dropped += conn.execute(
            "DELETE FROM camera_links WHERE src=? AND mode=? AND source='map'", (src, result.mode)
        ).rowcount
    for src, dst, mode in sorted({(ln.src, ln.dst, ln.mode) for ln in result.links}):
        dropped += conn.execute(
            "DELETE FROM camera_links WHERE src=? AND dst=? AND mode=? AND source='map'", (src, dst, mode)
        ).rowcount
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
