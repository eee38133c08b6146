"""Who could be the person next (or before): the scored candidates of one relay step.

From a sighting, look at the cameras linked to its camera by the direction the person left (or came from),
take the sightings of the same kind inside the link's travel-time window (camera clock offsets applied), and
score each as a sum of log-odds terms (`relaytrack.relay.terms`). A fixed "nobody" option competes in a
softmax, so a candidate's confidence is the probability that it, rather than any other or nobody, is the
person. A linked camera with nobody plausible may be skipped (neighbour of neighbour, widened window), and a
tracklet the tracker broke in the same view continues as a same-camera hop. The beam search over these steps
is `relaytrack.relay.search`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import numpy as np

from relaytrack.config import RelayConfig
from relaytrack.records import Camera, Link, Sighting
from relaytrack.relay import boarding, covisible, network, skip, terms
from relaytrack.relay.candidate import Candidate, hop_link
from relaytrack.relay.continuity import continues
from relaytrack.store.sightings import SIGHTING_COLUMNS, get_sighting, row_to_camera, row_to_sighting


def mode_of(kind: str) -> str:
    """How a kind of sighting travels between cameras: people walk, vehicles drive."""
    return "walk" if kind == "person" else "drive"


class CandidateFinder:
    """The candidates of one relay run (one origin, its params, the operator's verdicts), with the caches that
    make a beam search affordable: cameras, links, per-camera appearance backgrounds and each sighting's
    scored neighbourhood."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        origin: Sighting,
        params: RelayConfig,
        rejected: set[int],
        confirmed: set[int],
        refine: Callable[..., Any] | None = None,
    ) -> None:
        self.conn, self.p, self.origin = conn, params, origin
        # On-demand re-processing (pipeline.reprocessor.Reprocessor): called with (camera, wall_lo, wall_hi)
        # before a camera's window is read, so that a camera indexed at a low rate is read at full rate there.
        self.refine = refine
        self.rejected, self.confirmed = rejected, confirmed
        self.cams: dict[str, Camera | None] = {}
        self.link_cache: dict[tuple[str, str, str], list[Link]] = {}
        self.hist_cache: dict[int, np.ndarray | None] = {}
        self.box_cache: dict[tuple[int, bool], np.ndarray] = {}  # tracklet ends (relay.continuity)
        self.ref_cache: dict[tuple[int, str], np.ndarray | None] = {}
        self.cand_cache: dict[tuple[int, str], list[Candidate]] = {}
        self.cam_emb: dict[tuple[str, str], np.ndarray | None] = {}
        self.cam_bg: dict[tuple[str, int, str], tuple[float, float] | None] = {}
        self.seen_app: dict[tuple[int, str, str], float] = {}  # (from, direction, camera) -> best look
        self.crossings: dict[tuple[str, str], skip.Crossing | None] = {}
        self.look_cache: dict[int, float | None] = {}  # sighting -> likeness to the anchors (relay.search)
        self.last_look = 0.0
        self.mode = mode_of(origin.kind)
        # Per kind: a route may change from the person to the vehicle they get into (relay.boarding).
        self.bgs: dict[str, tuple[float, float] | None] = {}
        self.bg = self.background(origin.kind)
        anchors = [origin] + [get_sighting(conn, i) for i in sorted(confirmed)]
        embs = [e for e in (terms.unit(a.embedding) for a in anchors) if e is not None]
        self.anchor_emb = terms.unit(np.mean(embs, axis=0)) if embs else None
        self.anchor_hist = None
        if params.appearance_fn == "colour_hist":
            hs = [h for h in (terms.colour_hist(conn, a, self.hist_cache) for a in anchors) if h is not None]
            self.anchor_hist = terms.unit(np.mean(hs, axis=0)) if hs else None

    # ------------------------------------------------------------ the network around a camera

    def true_span(self, s: Sighting) -> tuple[float, float]:
        """A sighting's start and end on the true clock (its camera's clock offset removed)."""
        off = self.offset(s.camera)
        return s.wall_start - off, s.wall_end - off

    def camera(self, cid: str) -> Camera | None:
        if cid not in self.cams:
            row = self.conn.execute("SELECT * FROM cameras WHERE id=?", (cid,)).fetchone()
            self.cams[cid] = row_to_camera(row) if row else None
        return self.cams[cid]

    def offset(self, cid: str) -> float:
        cam = self.camera(cid)
        return cam.clock_offset_s if cam else 0.0

    def background(self, kind: str) -> tuple[float, float] | None:
        if kind not in self.bgs:
            self.bgs[kind] = terms.appearance_background(self.conn, kind) if self.p.use_appearance else None
        return self.bgs[kind]

    def links(self, cid: str, direction: str, mode: str | None = None) -> list[Link]:
        mode = mode or self.mode
        key = (cid, direction, mode)
        if key in self.link_cache:
            return self.link_cache[key]
        get = network.links_from if direction == "forward" else network.links_to
        out = get(self.conn, cid, mode)
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
            # A store without any link (e.g. cameras registered by ingest only): neighbours on the fly.
            out = network.map_links_around(self.conn, self.camera(cid), direction, mode)
        self.link_cache[key] = out
        return out

    def _query(
        self, cam: str, wall_lo: float, wall_hi: float, exclude: set[int], kind: str | None = None
    ) -> list[Sighting]:
        if self.refine is not None:
            self.refine(cam, wall_lo, wall_hi)
        rows = self.conn.execute(
            f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE camera_id=? AND wall_start BETWEEN ? AND ? AND kind=?"
            " AND superseded_by IS NULL",
            (cam, wall_lo, wall_hi, kind or self.origin.kind),
        ).fetchall()
        return [row_to_sighting(r) for r in rows if r["id"] not in exclude and r["id"] not in self.rejected]

    # ------------------------------------------------------------ scoring one candidate

    def app_logit(self, prev: Sighting, c: Sighting) -> tuple[float, list[str]]:
        p = self.p
        if not p.use_appearance:
            return 0.0, []
        if p.appearance_fn == "colour_hist":
            hc = terms.colour_hist(self.conn, c, self.hist_cache)
            hp = terms.colour_hist(self.conn, prev, self.hist_cache)
            if hc is None or self.anchor_hist is None:
                return 0.0, ["no thumbnail for colour histogram"]
            sim = 0.5 * float(hc @ self.anchor_hist) + 0.5 * float(
                hc @ (hp if hp is not None else self.anchor_hist)
            )
            return p.w_app * 8.0 * (sim - 0.6), [f"colour histogram {sim:.2f}"]
        ce = terms.unit(c.embedding)
        own = c.kind == self.origin.kind
        if ce is None or (own and self.anchor_emb is None):
            return 0.0, []
        if not own and prev.kind != c.kind:
            return 0.0, []  # a hand-off: a vehicle's look says nothing about the person who got into it
        bg = self.background(c.kind)
        if bg is None:
            # Too few sightings to learn what "unrelated" looks like for this embedder: a cosine alone has no
            # calibrated meaning, so appearance is left out rather than guessed.
            return 0.0, ["appearance not scored (store too small to calibrate)"]
        # Half the anchors' mean look, half the previous hop's (lighting drifts along a route); the vehicle
        # someone got into has no anchor: its previous sighting is the reference.
        key = (prev.id, c.kind)
        ref = self.ref_cache.get(key)
        if ref is None:
            pe = terms.unit(prev.embedding) if prev.kind == c.kind else None
            if not own:
                ref = pe
            else:
                ref = 0.5 * self.anchor_emb + 0.5 * (pe if pe is not None else self.anchor_emb)
            self.ref_cache[key] = ref
        if ref is None or ref.shape != ce.shape:
            return 0.0, []
        sim = float(ce @ ref)
        cal = self.camera_background(c.camera, ref, prev.id, c.kind) if p.camera_calibration else None
        z = terms.calibrated_z(sim, bg, cal)
        return p.w_app * min(8.0, max(-8.0, z - p.app_z0)), [f"appearance {sim:.2f} (z {z:.1f})"]

    def attr_ref(self, prev: Sighting, c: Sighting) -> Sighting | None:
        """Whose attributes a candidate is compared with: the origin's for its own kind; for the vehicle the
        person got into, the previous hop of that vehicle (its plate, type, colour); None across a hand-off."""
        if c.kind == self.origin.kind:
            return self.origin
        return prev if prev.kind == c.kind else None

    def camera_background(
        self, cam: str, ref: np.ndarray, ref_key: int, kind: str | None = None
    ) -> tuple[float, float] | None:
        """Median and robust spread (1.4826 MAD) of the reference's similarity to sightings of `cam` near the
        origin's time (the person is at most a few of them, which the median ignores). None if too few."""
        kind = kind or self.origin.kind
        key = (cam, ref_key, kind)
        if key in self.cam_bg:
            return self.cam_bg[key]
        if (cam, kind) not in self.cam_emb:
            t = self.origin.wall_start
            rows = self.conn.execute(
                "SELECT embedding FROM sightings WHERE camera_id=? AND kind=? AND wall_start BETWEEN ? AND ?"
                " AND embedding IS NOT NULL AND superseded_by IS NULL LIMIT 256",
                (cam, kind, t - 1800.0, t + 1800.0),
            ).fetchall()
            emb = None
            if len(rows) >= 12:
                emb = np.stack([np.frombuffer(r[0], dtype=np.float32) for r in rows])
                emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
            self.cam_emb[(cam, kind)] = emb
        emb = self.cam_emb[(cam, kind)]
        out = None
        if emb is not None and emb.shape[1] == ref.shape[0]:
            sims = emb @ ref
            med = float(np.median(sims))
            bg = self.background(kind)
            out = (med, max(1.4826 * float(np.median(np.abs(sims - med))), bg[1] if bg else 0.02))
        self.cam_bg[key] = out
        return out

    def time_logit(self, dt: float, link: Link) -> float:
        """`terms.time_logit` under this run's params."""
        return terms.time_logit(dt, link, self.p)

    def edge_logit(
        self, prev: Sighting, c: Sighting, link: Link, direction: str, via: list[str]
    ) -> tuple[float, list[str]]:
        """`terms.edge_logit` under this run's params."""
        return terms.edge_logit(prev, c, link, direction, via, self.p)

    def look_logit(self, prev: Sighting, c: Sighting) -> tuple[float, list[str]]:
        """Log-odds from the candidate's look alone: appearance and attributes against the reference."""
        logit, why = self.app_logit(prev, c)
        ref = self.attr_ref(prev, c)
        if self.p.use_attributes and ref is not None:
            a, w = terms.attribute_logit(ref, c, self.p.soft_colours)
            logit += self.p.w_attr * a
            why = why + w
        return logit, why

    def score(
        self, prev: Sighting, c: Sighting, link: Link, dt: float, direction: str, via: list[str]
    ) -> tuple[float, list[str]]:
        """Log-odds (against nobody) that `c`, reached from `prev` over `link` in `dt` seconds, is the person,
        and the reasons. The terms are added one by one in a fixed order so results are reproducible."""
        p = self.p
        logit, why = self.look_logit(prev, c)
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
            # The legacy edge rule. Forward: the candidate should enter by the link's entry edge, the previous
            # hop leave by its exit edge. Backward: mirror image.
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

    # ------------------------------------------------------------ gathering a step's candidates

    def candidates(self, cur: Sighting, direction: str, exclude: set[int]) -> list[Candidate]:
        """The candidates after (forward) or before (backward) `cur`, most confident first, `exclude`d ids
        left out; confidences are the softmax against nobody over the remaining ones."""
        key = (cur.id, direction)
        if key not in self.cand_cache:  # beams often share a sighting: score its neighbourhood once
            self.cand_cache[key] = self._gather(cur, direction)
        cands = [
            Candidate(c.s, c.logit, c.link, c.reasons, c.t0, c.t1)
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

    def _gather(self, cur: Sighting, direction: str) -> list[Candidate]:
        cur_t0 = cur.wall_start - self.offset(cur.camera)
        cur_t1 = cur.wall_end - self.offset(cur.camera)
        out: dict[int, Candidate] = {}
        if not self.p.use_topology:
            self._free_candidates(cur, cur_t0, cur_t1, direction, set(), out)
            return list(out.values())
        links = self.links(cur.camera, direction, mode_of(cur.kind))
        submit = getattr(self.refine, "submit", None)
        if submit is not None:
            # Every linked camera's window is queued at once, the likeliest first (the shortest expected
            # travel); the first read drains the queue in that order.
            for rank, link in enumerate(sorted(links, key=lambda x: x.mean_s)):
                w = self._window(cur, cur_t0, cur_t1, link, direction, [])
                if w is not None:
                    submit(*w, priority=rank)
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
        if self.p.covisible_s > 0 and cur.kind == "vehicle":
            for link in links:
                if link.mean_s < 0:
                    covisible.candidates(self, cur, cur_t0, cur_t1, link, direction, out)
        if self.p.fragments:
            self._fragments(cur, cur_t0, cur_t1, direction, out)
        if self.p.vehicle_handoffs:
            self._handoffs(cur, direction, out)
        return list(out.values())

    def _handoffs(self, cur: Sighting, direction: str, out: dict[int, Candidate]) -> None:
        """The person getting into a vehicle (or out of one) on this camera: the route goes on as the vehicle
        (or the person) from there (`relay.boarding`)."""
        off = self.offset(cur.camera)
        for s, h in boarding.find(self.conn, cur, direction, self.p, self.rejected | set(out)):
            logit, why = h.logit, list(h.reasons)
            ref = self.attr_ref(cur, s)
            if self.p.use_attributes and ref is not None:
                a, w = terms.attribute_logit(ref, s, self.p.soft_colours)
                logit += self.p.w_attr * a
                why += w
            out[s.id] = Candidate(
                s, logit, h.link(mode_of(s.kind)), why, s.wall_start - off, s.wall_end - off
            )

    def _fragments(
        self, cur: Sighting, cur_t0: float, cur_t1: float, direction: str, out: dict[int, Candidate]
    ) -> None:
        """The tracker lost the person for a moment (occlusion, missed detections) and started a new tracklet in
        the same view: a same-camera hop to a tracklet starting within frag_gap_s of this one's end (forward) or
        ending that soon before its start (backward), judged by look and the gap alone."""
        p = self.p
        off = self.offset(cur.camera)
        gap_link = Link(
            cur.camera, cur.camera, None, None, 0.5, 1.0, -1.0, p.frag_gap_s, mode_of(cur.kind), "fragment"
        )
        if direction == "forward":
            found = self._query(
                cur.camera, cur.wall_end - 1.0, cur.wall_end + p.frag_gap_s, {cur.id}, cur.kind
            )
        else:
            found = [
                s
                for s in self._query(
                    cur.camera, cur.wall_start - p.max_dwell_s, cur.wall_start + 1.0, {cur.id}, cur.kind
                )
                if cur.wall_start - p.frag_gap_s <= s.wall_end <= cur.wall_start + 1.0
            ]
        for s in found:
            t0, t1 = s.wall_start - off, s.wall_end - off
            if (direction == "forward" and t0 <= cur_t0) or (direction == "backward" and t1 >= cur_t1):
                continue  # overlapping the whole tracklet: someone else beside the person
            dt = (t0 - cur_t1) if direction == "forward" else (cur_t0 - t1)
            pair = (cur.id, s.id) if direction == "forward" else (s.id, cur.id)
            if not continues(self.conn, *pair, p, self.box_cache):
                continue  # begins away from where the person was heading: someone else
            logit, why = self.look_logit(cur, s)
            if p.frag_colours > 0:
                clash, said = terms.colour_clash(cur, s)
                if clash > 0:
                    logit -= p.frag_colours * clash
                    why.append(f"colours differ from the tracklet it would continue ({said})")
            if p.use_time:
                logit += p.w_time * self.time_logit(dt, gap_link)
            logit += p.frag_logit
            why.append(
                f"same camera, tracklet {'resumes' if direction == 'forward' else 'began'} {abs(dt):.1f} s apart"
            )
            prev = out.get(s.id)
            if prev is None or logit > prev.logit:
                info = hop_link(
                    cur.camera, cur.camera, mode_of(cur.kind), "fragment", mean_s=0.5, std_s=1.0,
                    travel_s=round(dt, 1),
                )  # fmt: skip
                out[s.id] = Candidate(s, logit, info, why, t0, t1)

    def _link_candidates(
        self,
        cur: Sighting,
        cur_t0: float,
        cur_t1: float,
        link: Link,
        direction: str,
        exclude: set[int],
        out: dict[int, Candidate],
        via: list[str],
        depth: int,
        first: Link | None = None,
    ) -> float:
        """Score the sightings on the far camera of `link` into `out`; returns the best logit (-1e9: none)."""
        win = self._window(cur, cur_t0, cur_t1, link, direction, via)
        if win is None:
            return -1e9
        other = win[0]
        widen = self.p.skip_widen ** len(via) if via else 1.0
        lo, hi = terms.travel_window(link, widen, self.p)
        off = self.offset(other)
        found = self._query(*win, exclude, kind=cur.kind)
        if direction == "backward":
            found = [s for s in found if cur_t0 - hi <= s.wall_end - off <= cur_t0 - lo]
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
                fwd = direction == "forward"
                info = hop_link(
                    chain.src if fwd else link.src,
                    link.dst if fwd else chain.dst,
                    link.mode,
                    link.source,
                    exit_edge=chain.exit_edge if fwd else link.exit_edge,
                    entry_edge=link.entry_edge if fwd else chain.entry_edge,
                    mean_s=round(link.mean_s, 1),
                    std_s=round(link.std_s, 1),
                    travel_s=round(dt, 1),
                    via=via,
                )
                out[s.id] = Candidate(s, logit, info, why, t0, t1)
        return best

    def link_window(self, cur: Sighting, link: Link, direction: str) -> tuple[str, float, float] | None:
        """The far camera of `link` and the wall-time window (its clock) that candidates after (`forward`) or
        before (`backward`) `cur` start in: the window the relay reads there."""
        off = self.offset(cur.camera)
        return self._window(cur, cur.wall_start - off, cur.wall_end - off, link, direction, [])

    def _window(
        self, cur: Sighting, cur_t0: float, cur_t1: float, link: Link, direction: str, via: list[str]
    ) -> tuple[str, float, float] | None:
        """The far camera of `link` and the wall-time window (its clock) its candidates start in."""
        other = link.dst if direction == "forward" else link.src
        if other == cur.camera or other in via:
            return None
        widen = self.p.skip_widen ** len(via) if via else 1.0
        lo, hi = terms.travel_window(link, widen, self.p)
        off = self.offset(other)
        if direction == "forward":
            return other, cur_t1 + lo + off, cur_t1 + hi + off
        return other, cur_t0 - hi - self.p.max_dwell_s + off, cur_t0 - lo + off

    def _skip(
        self,
        cur: Sighting,
        cur_t0: float,
        cur_t1: float,
        link: Link,
        direction: str,
        out: dict[int, Candidate],
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
        for nxt in self.links(other, direction, mode_of(cur.kind)):
            nxt_other = nxt.dst if direction == "forward" else nxt.src
            if nxt_other == cur.camera or nxt_other == other or nxt_other in via:
                continue
            a, b = (link, nxt) if direction == "forward" else (nxt, link)
            composed = skip.compose(a, b, self.crossing(other, cur.kind) if self.p.skip_crossing else None)
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

    def crossing(self, cam: str, kind: str) -> skip.Crossing | None:
        """How long passers-by of `kind` take to cross `cam`'s view (`relay.skip`), cached per run."""
        key = (cam, kind)
        if key not in self.crossings:
            self.crossings[key] = skip.view_crossing(self.conn, cam, kind, around=self.origin.wall_start)
        return self.crossings[key]

    def _free_candidates(
        self,
        cur: Sighting,
        cur_t0: float,
        cur_t1: float,
        direction: str,
        exclude: set[int],
        out: dict[int, Candidate],
    ) -> None:
        # No topology: any other camera within the horizon (the baseline and the appearance-only ablation).
        h = self.p.horizon_s
        if direction == "forward":
            lo, hi = cur_t1 - self.p.slack_s, cur_t1 + h
        else:
            lo, hi = cur_t0 - h - self.p.max_dwell_s, cur_t0 + self.p.slack_s
        pad = 3600.0  # cameras' clock offsets are unknown to a plain time query; filter exactly below
        rows = self.conn.execute(
            f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE wall_start BETWEEN ? AND ? AND kind=? AND camera_id<>?"
            " AND superseded_by IS NULL",
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
                a, w = terms.attribute_logit(self.origin, s, self.p.soft_colours)
                logit += self.p.w_attr * a
                why = why + w
            out[s.id] = Candidate(
                s,
                logit,
                {"src": cur.camera, "dst": s.camera, "travel_s": round(dt, 1), "via": [], "source": "none"},
                why,
                t0,
                t1,
            )
