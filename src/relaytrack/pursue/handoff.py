"""Is this arrival the suspect? Live re-identification of a person appearing on a predicted camera.

The relay's terms (`relaytrack.relay.terms`) on a track still in view: appearance as a z-score against the
store's background similarity (the reference is half the origin's look, half the last hand-off's, since
lighting drifts along a route), colour/item attributes against the origin, the travel time against the
best-fitting predicted path to this camera, the entry edge against that path's last link, and the
prediction's probability that this camera sees the suspect next (only ever against: a look-alike where the
suspect is unlikely to be). The sum is a log-odds against "someone else"; its logistic is the hand-off
confidence. At or above `auto_conf` the
pursuit hands off by itself; between `offer_conf` and `auto_conf` the arrival is offered to the operator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from relaytrack.config import RelayConfig
from relaytrack.pursue.predict import Hypothesis
from relaytrack.records import Link, Sighting
from relaytrack.relay import terms


@dataclass(frozen=True)
class HandoffConfig:
    # Hand off without the operator at or above this confidence. 0.75 (was 0.7): on the pursuit's six tuning
    # towns (two runs, session 16) the automatic hand-offs onto the suspect scored 0.76-0.96, four of the nine
    # onto someone else 0.71-0.73 (the others 0.76-0.91); one wrong hand-off loses the route, an offered one
    # only waits for the operator.
    auto_conf: float = 0.75
    offer_conf: float = 0.35  # offer to the operator at or above this (below: someone else)
    min_track_s: float = 0.8  # a track this long is described and scored (shorter: too few crops)
    offer_after_s: float = 3.0  # a track still below auto_conf after this long is offered (or when it ends)
    rescore_s: float = 1.0  # a live track is re-scored at most this often (more crops, better look)
    bias: float = 0.0  # added log-odds (calibration)
    unexpected_logit: float = -1.5  # camera not among the predicted ones
    # The prediction's own word: log(p / prior_ref) times w_prior, p being the probability that this camera
    # sees the suspect next given nothing seen until the arrival (a look-alike turning up where the suspect
    # is unlikely to be next weighs less than one on the camera the prediction expects).
    w_prior: float = 1.0
    prior_ref: float = 0.2
    prior_floor: float = 0.005
    # Most the term may add: 0, so the prediction counts against an arrival where the suspect is unlikely to
    # be, never for one (on the expected camera a look-alike would otherwise pass on the prediction alone).
    prior_cap: float = 0.0


@dataclass(frozen=True)
class ArrivalScore:
    """Confidence that `sighting` is the suspect, the reasons, and the path it fits best (None: a camera
    the prediction did not list)."""

    sighting: Sighting
    confidence: float
    logit: float
    reasons: list[str] = field(default_factory=list)
    path: tuple[str, ...] | None = None


class Reidentifier:
    """Scores arrivals against the pursuit's origin and current anchor. `background` is the store's
    (mean, std) cosine between unrelated sightings (None: appearance not scored)."""

    def __init__(
        self,
        origin: Sighting,
        background: tuple[float, float] | None,
        cfg: HandoffConfig | None = None,
        relay: RelayConfig | None = None,
    ) -> None:
        self.origin = origin
        self.bg = background
        self.cfg = cfg or HandoffConfig()
        self.p = relay or RelayConfig()

    def reference(self, anchor: Sighting) -> np.ndarray | None:
        o, a = terms.unit(self.origin.embedding), terms.unit(anchor.embedding)
        if o is None:
            return a
        if a is None or anchor.id == self.origin.id:
            return o
        return terms.unit(0.5 * o + 0.5 * a)

    def score(
        self, anchor: Sighting, cand: Sighting, hypotheses: list[Hypothesis], p_camera: float | None = None
    ) -> ArrivalScore:
        """`p_camera`: the prediction's probability that `cand.camera` is the next to see the suspect, at the
        arrival's start (None: not weighed)."""
        p, cfg = self.p, self.cfg
        logit, why = cfg.bias, []
        ref, ce = self.reference(anchor), terms.unit(cand.embedding)
        if ref is not None and ce is not None and self.bg is not None and len(ref) == len(ce):
            sim = float(ce @ ref)
            z = (sim - self.bg[0]) / self.bg[1]
            logit += p.w_app * min(8.0, max(-8.0, z - p.app_z0))
            why.append(f"appearance {sim:.2f} (z {z:.1f})")
        elif ce is None or ref is None:
            why.append("appearance not scored (no embedding)")
        else:
            why.append("appearance not scored (store too small to calibrate)")
        a, w = terms.attribute_logit(self.origin, cand, p.soft_colours)
        logit += p.w_attr * a
        why += w
        dt = cand.wall_start - anchor.wall_end
        best, best_t = None, -math.inf
        for h in hypotheses:
            if h.camera != cand.camera:
                continue
            link = Link(anchor.camera, h.camera, None, h.link.entry_edge, h.mean_s, h.std_s, h.min_s)
            # The path's prior weighs in (a direct neighbour over a two-block detour with the same timing).
            t = terms.time_logit(dt, link, p) + 0.5 * math.log(max(h.prior, 1e-3))
            if t > best_t:
                best, best_t = h, t
        if best is None:
            logit += cfg.unexpected_logit
            why.append(f"{cand.camera} was not predicted")
        else:
            tl = terms.time_logit(dt, Link(anchor.camera, best.camera, None, None, best.mean_s, best.std_s), p)
            logit += p.w_time * tl
            via = f" via {'/'.join(best.path[:-1])}" if len(best.path) > 1 else ""
            why.append(f"arrived {dt:.0f} s after {anchor.camera} (expected {best.mean_s:.0f}±{best.std_s:.0f}{via})")
            exp, got = best.link.entry_edge, cand.entry_edge
            if exp and got and got != "inside" and len(best.path) == 1:
                if got == exp:
                    logit += p.w_edge * 0.5
                    why.append(f"entered by {got} as expected")
                elif terms.OPPOSITE_EDGE.get(got) == exp:
                    logit -= p.w_edge * 0.7
                    why.append(f"entered by {got}, expected {exp}")
            if cfg.w_prior and p_camera is not None:
                logit += cfg.w_prior * min(cfg.prior_cap, math.log(max(p_camera, cfg.prior_floor) / cfg.prior_ref))
                why.append(f"{cand.camera} predicted next at p {p_camera:.2f}")
        conf = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        return ArrivalScore(cand, conf, logit, why, None if best is None else best.path)
