"""The beam search over relay steps, and the hops it makes.

A path's score is the sum of its hops' log-confidences (a stop adds the log-probability that nobody was
taken) and of each hop's likeness to the anchors alone (`RelayConfig.path_look`: a step's confidence only
ranks that step's rivals, so a look-alike's own consistent walk would score as well as the person's); the best
`beam` paths survive each step, so one misleading early hop does not decide the route. A path
ends where no candidate reaches `stop_conf`, or at the anchor it was bridging to. `fill_gaps` then inserts a
sighting between two consecutive hops where one fits both ends better than the direct hop.
"""

from __future__ import annotations

import math
from dataclasses import replace

from relaytrack.records import Sighting
from relaytrack.relay import terms
from relaytrack.relay.candidates import Candidate, CandidateFinder
from relaytrack.relay.continuity import passages
from relaytrack.relay.route import Hop

Step = tuple[Candidate, list[Candidate]]  # the chosen candidate and the alternatives at that step
_Beam = tuple[float, list[Step], bool, str]  # score, path, done, why it stopped


OVERLAP_S = 0.5  # tracks of one person overlapping by less than this are a tracker hand-over, not two people


def _overlaps(c: Candidate, held: list[tuple[str, float, float, str]]) -> bool:
    """Whether `c` overlaps in time, on its camera, one of the (camera, start, end, kind) spans a route holds
    of its kind (the car someone gets into is on the camera beside them: that is the hand-off)."""
    return any(
        cam == c.s.camera and kind == c.s.kind and min(t1, c.t1) - max(t0, c.t0) > OVERLAP_S
        for cam, t0, t1, kind in held
    )


def _after_handoff(
    finder: CandidateFinder, cur: Candidate, direction: str, cands: list[Candidate]
) -> list[Candidate]:
    """Right after boarding (forward) the person is in the vehicle only from the boarding on: a sighting of the
    vehicle that ended before it (a view overlapping the boarding camera's) is the car before, not the
    person; backward from getting out, the same in reverse."""
    link = cur.link or {}
    source = link.get("source")
    if (source, direction) not in (("board", "forward"), ("alight", "backward")) or cur.s.kind != "vehicle":
        return cands
    at = float(link["at_wall"]) - finder.offset(cur.s.camera)
    if direction == "forward":
        return [c for c in cands if c.s.kind != "vehicle" or c.t1 > at]
    return [c for c in cands if c.s.kind != "vehicle" or c.t0 < at]


def _in_order(c: Candidate, cur_t0: float, cur_kind: str, direction: str, slack_s: float) -> bool:
    """Whether `c` comes after (forward) or before (backward) a sighting that began at `cur_t0`, by when each
    began: people walk into one view after another, however much the views overlap (links between
    overlapping views expect negative travel times, so a window alone lets a forward hop begin long before
    the sighting it follows). Within `slack_s` (clock jitter, a track starting late); a change of kind (a
    car parked before its driver got in) or the same car on two views at once is judged by its own rules."""
    if c.s.kind != cur_kind or (c.link or {}).get("source") in ("board", "alight", "covisible"):
        return True
    return c.t0 >= cur_t0 - slack_s if direction == "forward" else c.t0 <= cur_t0 + slack_s


def _passages(finder: CandidateFinder, cands: list[Candidate]) -> list[Candidate]:
    """The candidates with each passage cut into fragments represented by its likeliest fragment, carrying the
    passage's summed confidence (`relay.continuity.passages`); the other fragments stay behind it, so the
    path can still continue onto them as the person's resumed track."""
    groups = passages(finder.conn, cands, finder.p, finder.box_cache)
    seen: set[int] = set()
    out = []
    for c, (g, m) in zip(cands, groups, strict=True):  # best first: the first of a passage represents it
        if m > c.conf and g not in seen:
            seen.add(g)
            out.append(
                replace(c, conf=m, reasons=[*c.reasons, f"one passage with fragments ({m:.2f} together)"])
            )
        else:
            out.append(c)
    return sorted(out, key=lambda c: -c.conf)


def _revisit(c: Candidate, left: set[tuple[str, str]], factor: float) -> Candidate:
    """`c` with the revisit cost (`RelayConfig.revisit_factor`) where its (camera, kind) is one the route left."""
    return replace(c, conf=c.conf * factor) if factor < 1.0 and (c.s.camera, c.s.kind) in left else c


def anchor_look(finder: CandidateFinder, s: Sighting) -> float | None:
    """How far `s` stands out (z-score) in its likeness to the anchors' mean look alone, the previous hop left
    out, calibrated as the appearance term is; None where the look cannot be scored (another kind, no
    embedding, a store too small for a background)."""
    if s.id in finder.look_cache:
        return finder.look_cache[s.id]
    out = None
    emb, ref, bg = terms.unit(s.embedding), finder.anchor_emb, finder.background(s.kind)
    if s.kind == finder.origin.kind and emb is not None and ref is not None and bg is not None:
        if emb.shape == ref.shape:
            cal = finder.camera_background(s.camera, ref, -1, s.kind) if finder.p.camera_calibration else None
            out = terms.calibrated_z(float(emb @ ref), bg, cal)
    finder.look_cache[s.id] = out
    return out


def _look_term(finder: CandidateFinder, c: Candidate) -> float:
    """The hop's likeness to the anchors alone, as path evidence (RelayConfig.path_look)."""
    p = finder.p
    if p.path_look <= 0 or not p.use_appearance or c.s.id in finder.confirmed:
        return 0.0
    z = anchor_look(finder, c.s)
    return 0.0 if z is None else p.path_look * min(4.0, max(-4.0, z - p.app_z0))


def beam_search(
    finder: CandidateFinder,
    start: Sighting,
    direction: str,
    max_hops: int,
    stop_at: int | None = None,
    not_after: float | None = None,
    exclude: set[int] | None = None,
    held: list[tuple[str, float, float, str]] | None = None,
) -> tuple[list[Step], str]:
    """Beam search from `start`; returns [(chosen, alternatives at that step)] and why it stopped. `stop_at`
    ends a path on reaching that sighting (a confirmed anchor), `not_after` drops candidates starting later
    (true time) than it, `exclude` ids are never taken, `held` are (camera, true start, true end, kind) spans
    the route already holds outside this search (its other side's hops), as exclusive as the path's own."""
    p = finder.p
    beams: list[_Beam] = [(0.0, [], False, "")]
    used0 = {start.id, finder.origin.id} | (exclude or set())
    for _ in range(max_hops):
        nxt: list[_Beam] = []
        for score, path, done, why in beams:
            if done:
                nxt.append((score, path, done, why))
                continue
            cur = path[-1][0].s if path else start
            used = used0 | {c.s.id for c, _ in path}
            cands = finder.candidates(cur, direction, used)
            # One person is one track at a time on one camera: a candidate overlapping in time a sighting the
            # path already holds on the same camera is someone else beside them (a look-alike walking along).
            if p.exclusive_tracks:
                spans = [(start.camera, *finder.true_span(start), start.kind), *(held or [])] + [
                    (c.s.camera, c.t0, c.t1, c.s.kind) for c, _ in path
                ]
                cands = [c for c in cands if not _overlaps(c, spans)]
            if p.ordered_starts:
                cur_t0 = finder.true_span(cur)[0]
                cands = [c for c in cands if _in_order(c, cur_t0, cur.kind, direction, p.slack_s)]
            if not_after is not None:
                cands = [c for c in cands if c.t0 <= not_after or c.s.id == stop_at]
            if path:
                cands = _after_handoff(finder, path[-1][0], direction, cands)
            if p.revisit_factor < 1.0:
                # A camera the path left earlier (not the one it is on: a track resuming there is fine), as
                # the same kind: the car someone got into may well drive back past where they walked.
                left = {(start.camera, start.kind)} | {(c.s.camera, c.s.kind) for c, _ in path}
                left.discard((cur.camera, cur.kind))
                cands = sorted((_revisit(c, left, p.revisit_factor) for c in cands), key=lambda c: -c.conf)
            p_take = sum(c.conf for c in cands)
            if p.passages and p.fragments:
                cands = _passages(finder, cands)
            viable = [c for c in cands if c.conf >= p.stop_conf][: p.beam]
            alts = [c for c in cands if c.conf >= p.alt_min_conf]
            if not viable:
                reason = (
                    "no candidate" if not cands else f"best candidate {cands[0].conf:.2f} below {p.stop_conf}"
                )
                nxt.append((score + math.log(max(1e-6, 1.0 - p_take)), path, True, reason))
                continue
            for c in viable:
                reached = stop_at is not None and c.s.id == stop_at
                nxt.append(
                    (
                        score + math.log(max(c.conf, 1e-9)) + _look_term(finder, c),
                        [*path, (c, alts)],
                        reached,
                        "reached anchor" if reached else "",
                    )
                )
        nxt.sort(key=lambda b: -b[0])
        beams = nxt[: p.beam]
        if all(b[2] for b in beams):
            break
    best = beams[0]
    return best[1], best[3] or f"hop limit {max_hops}"


def to_hop(c: Candidate, alts: list[Candidate], direction: str, confirmed: set[int]) -> Hop:
    """The hop for a chosen candidate: up to four other candidates of its step are its alternatives."""
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


def fill_gaps(finder: CandidateFinder, hops: list[Hop], confirmed: set[int]) -> list[Hop]:
    """Insert a sighting Y between consecutive hops A -> B when A -> Y is a hop the relay would take
    (confidence >= stop_conf) and Y -> B is plausible (log-odds >= gap_min_logit). The beam multiplies hop
    probabilities, so where a network has both a direct street A -> B and a way through Y, the shorter path
    wins even when Y holds the person; a sighting that fits both ends in look and time is the better
    explanation."""
    p = finder.p
    out = list(hops)
    i = 0
    while i < len(out) - 1 and len(out) < 4 * len(hops) + 4:
        a, b = out[i], out[i + 1]
        used = {h.sighting.id for h in out}
        held = (
            [(h.sighting.camera, h.true_start, h.true_end, h.sighting.kind) for h in out]
            if p.exclusive_tracks
            else []
        )
        # The beam's revisit cost holds here too: a camera the route holds elsewhere (not the two neighbours,
        # where a track resumes or is about to) is one the person would have gone back to.
        elsewhere = {(h.sighting.camera, h.sighting.kind) for k, h in enumerate(out) if k not in (i, i + 1)}
        best: tuple[float, Candidate, Candidate] | None = None
        for y0 in finder.candidates(a.sighting, "forward", used):
            y = _revisit(y0, elsewhere, p.revisit_factor)
            if y.conf < p.stop_conf or y.t0 >= b.true_start or y.t1 <= a.true_start or _overlaps(y, held):
                continue
            for z in finder.candidates(y.s, "forward", used - {b.sighting.id}):
                # B is already on the route: the second leg only has to be plausible, not to win against
                # Y's other neighbours.
                if z.s.id == b.sighting.id and z.logit >= p.none_logit + p.gap_min_logit:
                    if best is None or y.conf > best[0]:
                        best = (y.conf, y, z)
        if best is None:
            i += 1
            continue
        _, y, z = best
        backward = a.direction == "backward"
        hop_y = to_hop(y, [], "backward" if backward else "forward", confirmed)
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


def _better_explained(finder: CandidateFinder, h: Hop, direction: str, on_route: set[int]) -> str | None:
    """Why hop `h` (taken going `direction`) is better explained by someone off the route, or None: its own
    most likely sighting the other way is off the route, at least `explained_min` confident and
    `explained_margin` above the best one on the route."""
    p = finder.p
    back = "backward" if direction == "forward" else "forward"
    rivals = finder.candidates(h.sighting, back, {h.sighting.id})
    route_conf = max((c.conf for c in rivals if c.s.id in on_route), default=0.0)
    other = next((c for c in rivals if c.s.id not in on_route), None)
    if other is None or other.conf < p.explained_min or other.conf - route_conf < p.explained_margin:
        return None
    return (
        f"#{h.sighting.id} on {h.sighting.camera} is better explained by #{other.s.id} on {other.s.camera} "
        f"({other.conf:.2f} against {route_conf:.2f} for the route)"
    )


def _beyond(x: Hop, h: Hop, direction: str) -> bool:
    """Whether hop `x` of the same end lies beyond `h` in time (going `direction`)."""
    if x.direction != direction:
        return False
    return x.true_start >= h.true_start if direction == "forward" else x.true_end <= h.true_end


def cut_explained_tails(
    finder: CandidateFinder, hops: list[Hop], tails: dict[str, list[int]]
) -> tuple[list[Hop], dict[str, str]]:
    """Check the route's ends backwards: walking out from the anchors along each end's chain of hops (`tails`:
    {"forward"|"backward": sighting ids in the order the beam took them}), the first hop whose own best way
    back leads to someone off the route (a look-alike who came along after the person left: their own earlier
    sighting explains them better than the person's last one) ends that side of the route, with everything
    beyond it: the chain's later hops and the hops inserted beyond it in time. Chain order, not time order:
    where views overlap, a backward hop can begin after the anchor it leads to. Returns the kept hops (in the
    given order) and {direction: why} for each side cut. Only hops of the origin's kind before any change of
    kind are checked (a car's way back is not the person's)."""
    p = finder.p
    if p.explained_min > 1.0:
        return hops, {}
    kind = finder.origin.kind
    by_id = {h.sighting.id: h for h in hops}
    keep = list(hops)
    why: dict[str, str] = {}
    for direction, chain in tails.items():
        for k, sid in enumerate(chain):
            h = by_id.get(sid)
            if h is None or h.direction != direction or h.sighting.kind != kind:
                break
            reason = _better_explained(finder, h, direction, {x.sighting.id for x in keep})
            if reason is None:
                continue
            gone = set(chain[k:])
            keep = [x for x in keep if x.sighting.id not in gone and not _beyond(x, h, direction)]
            why[direction] = reason
            break
    return keep, why
