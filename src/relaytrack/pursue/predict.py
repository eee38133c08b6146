"""Where will the suspect be seen next, and when: ranked cameras with ETA windows from the camera network.

From the anchor (the last confirmed sighting: its camera, exit edge, heading and the moment it left view)
every path of up to `max_hops` links is a hypothesis "the next camera to see them is the path's last one";
the cameras in between were passed unseen (a blind spot, a missed detection), which costs `p_miss` each.
A hypothesis's prior is the product of its branch weights: the first branch by how well the anchor's exit
edge (or, without a usable edge, its heading) matches the link's exit edge, later branches evenly, a turn
back to the camera just passed less likely, and every branch the less likely the longer its travel time
(`near_tau_s`: the register's map links join far cameras too, and the next camera is mostly a near one). Its arrival time is the sum of the links' travel times (means and
variances add, the window floor is the sum of the minima).

As time passes without a sighting, Bayes moves the probability on: a hypothesis whose camera should have
seen them by now keeps only the share `1 - (1 - p_miss) * F(t)` (F: the arrival-time CDF), so the mass of
near cameras drains into the hypotheses further away. An "off the network" hypothesis (`p_off`) never
expects a sighting; it is what grows when every camera has had its chance, and it is not a camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from relaytrack.records import Link, Sighting
from relaytrack.relay.terms import OPPOSITE_EDGE

Z90 = 1.645  # the ETA window is the central 90 % of the arrival time
T3_90 = 2.353  # the same for a Student-t with 3 degrees of freedom


@dataclass(frozen=True)
class PredictConfig:
    max_hops: int = 3  # longest chain of unseen cameras + the next one
    # A camera on the way does not see the suspect (blind spot, occlusion, missed detection).
    p_miss: float = 0.25
    p_off: float = 0.05  # prior that the suspect leaves the camera network altogether
    edge_match: float = 1.0  # first-branch weight when the anchor left by the link's exit edge
    edge_adjacent: float = 0.35
    edge_opposite: float = 0.05
    edge_unknown: float = 0.5  # link or anchor without a usable edge
    # Weight of going back to a camera already passed (against 1 for onward links): on a path, the camera
    # just before; from the anchor, every earlier camera of the pursuit's route (people walk on; a
    # look-alike turning up where the suspect came from is the commoner sight).
    turn_back: float = 0.2
    min_std_s: float = 1.5
    # Arrival times as the relay scores them (`RelayConfig.time_tail`): a tracklet starts late and ends early
    # by seconds, and people dawdle, so the link's spread is widened by `jitter_s` and, with `heavy_tail`, the
    # arrival time has Student-t (3 degrees of freedom) tails: a camera whose window has just passed keeps
    # some of its probability instead of losing it all within a standard deviation.
    jitter_s: float = 2.5
    heavy_tail: bool = True
    # A register's map links join every pair of cameras within reach, far ones included; the next camera to
    # see someone is far more often a near one (a far one usually has others on the way). Each branch's
    # weight is multiplied by exp(-travel time / near_tau_s) (0: off).
    near_tau_s: float = 15.0


@dataclass(frozen=True)
class Hypothesis:
    """One way of reaching `camera` next: the links' cameras `path` (anchor excluded), the prior, and the
    arrival time after the anchor left view (mean, std, floor) in seconds."""

    camera: str
    path: tuple[str, ...]
    prior: float
    mean_s: float
    std_s: float
    min_s: float
    link: Link  # the last link (its entry edge and travel time score an arrival)
    terminal: bool = True  # no onward path enumerated: a miss here stays with this hypothesis
    heavy_tail: bool = False  # Student-t (3 dof) arrival time instead of a Gaussian
    # A direct link between overlapping views (its minimum travel time negative): the camera can see the
    # suspect this long before they leave the anchor's view, so its ETA window opens then (`min_s`, the
    # floor of "should have been seen by now", stays >= 0: before leaving, not seeing them there is no news).
    early_s: float | None = None

    def cdf(self, dt: float) -> float:
        if dt <= self.min_s:
            return 0.0
        z = (dt - self.mean_s) / self.std_s
        if self.heavy_tail:
            x = z / math.sqrt(3.0)
            return 0.5 + (x / (1.0 + x * x) + math.atan(x)) / math.pi
        return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))

    def window(self) -> tuple[float, float]:
        q = T3_90 if self.heavy_tail else Z90
        lo = max(self.min_s if self.early_s is None else self.early_s, self.mean_s - q * self.std_s)
        return lo, max(lo, self.mean_s + q * self.std_s)


@dataclass(frozen=True)
class CameraForecast:
    """A predicted camera: probability it is the next to see the suspect, and the ETA window as wall-clock
    epoch seconds (`eta_from` never before `now`)."""

    camera: str
    p: float
    eta_from: float
    eta_to: float
    hops: int  # links on its most likely path (1 = a direct neighbour)
    hypotheses: list[Hypothesis] = field(default_factory=list, repr=False)

    def open_at(self, wall: float) -> bool:
        return self.eta_from <= wall <= self.eta_to


def heading_edge(heading_deg: float | None) -> str | None:
    """The image edge a person moving at this image-plane heading walks out by (0 = right, 90 = down)."""
    if heading_deg is None:
        return None
    h = heading_deg % 360.0
    if h < 45 or h >= 315:
        return "right"
    if h < 135:
        return "bottom"
    if h < 225:
        return "left"
    return "top"


def first_branch(anchor: Sighting, link: Link, cfg: PredictConfig) -> float:
    """How well leaving the anchor's camera by its exit edge (its heading when the edge is 'inside': the
    tracklet ended mid-view) fits `link`."""
    edge = (
        anchor.exit_edge if anchor.exit_edge not in (None, "", "inside") else heading_edge(anchor.heading_deg)
    )
    want = link.exit_edge
    if not edge or not want or want == "inside":
        return cfg.edge_unknown
    if edge == want:
        return cfg.edge_match
    if OPPOSITE_EDGE.get(edge) == want:
        return cfg.edge_opposite
    return cfg.edge_adjacent


def _nearness(link: Link, cfg: PredictConfig) -> float:
    return math.exp(-max(0.0, link.mean_s) / cfg.near_tau_s) if cfg.near_tau_s > 0 else 1.0


class Predictor:
    """Next-camera forecasts from one anchor. `links_from(camera) -> list[Link]` gives the network (a store
    query, or a planted dict in tests); `forecast(now_wall)` conditions on no sighting until `now_wall`."""

    def __init__(
        self,
        anchor: Sighting,
        links_from,
        cfg: PredictConfig | None = None,
        came_from: frozenset[str] = frozenset(),
    ) -> None:
        """`came_from`: the cameras the suspect was seen on before the anchor (the pursuit's route so far)."""
        self.anchor = anchor
        self.cfg = cfg or PredictConfig()
        self.came_from = came_from - {anchor.camera}
        self.left_wall = anchor.wall_end
        self.hypotheses = self._enumerate(links_from)

    def _enumerate(self, links_from) -> list[Hypothesis]:
        cfg = self.cfg
        out: list[Hypothesis] = []
        first = [ln for ln in links_from(self.anchor.camera) if ln.dst != self.anchor.camera]
        weights = [
            first_branch(self.anchor, ln, cfg) * _nearness(ln, cfg) * self._back(ln.dst) for ln in first
        ]
        total = sum(weights) or 1.0
        # (path, prior, mean, var, floor, last link, previous camera)
        frontier = [
            ((ln.dst,), w / total, ln.mean_s, max(ln.std_s, cfg.min_std_s) ** 2, max(0.0, ln.min_s), ln,
             self.anchor.camera)
            for ln, w in zip(first, weights, strict=True)
        ]  # fmt: skip
        depth = 1
        while frontier:
            nxt = []
            for path, prior, mean, var, floor, link, prev in frontier:
                here = path[-1]
                onward = (
                    []
                    if depth >= cfg.max_hops
                    else [ln for ln in links_from(here) if ln.dst != here and ln.dst not in path[:-1]]
                )
                # With onward paths, "missed at this camera" is their mass (p_miss); without, this
                # hypothesis keeps it and stays open after its window (the suspect may still show up late).
                terminal = not onward
                std = math.sqrt(var + cfg.jitter_s**2)
                early = link.min_s if len(path) == 1 and link.min_s < 0 else None
                out.append(Hypothesis(here, path, prior if terminal else prior * (1.0 - cfg.p_miss), mean,
                                      std, floor, link, terminal, cfg.heavy_tail, early))  # fmt: skip
                bw = [
                    (cfg.turn_back if ln.dst == prev else self._back(ln.dst)) * _nearness(ln, cfg)
                    for ln in onward
                ]
                s = sum(bw)
                for ln, w in zip(onward, bw, strict=True):
                    nxt.append((
                        path + (ln.dst,), prior * cfg.p_miss * w / s, mean + ln.mean_s,
                        var + max(ln.std_s, cfg.min_std_s) ** 2, floor + max(0.0, ln.min_s), ln, here,
                    ))  # fmt: skip
            frontier = nxt
            depth += 1
        return out

    def _back(self, camera: str) -> float:
        return self.cfg.turn_back if camera in self.came_from else 1.0

    def posterior(self, now_wall: float) -> list[tuple[Hypothesis, float]]:
        """Every hypothesis with its probability given no sighting until `now_wall` (off-network excluded;
        the shares sum to 1 - P(off network))."""
        dt = max(0.0, now_wall - self.left_wall)
        keep = 1.0 - self.cfg.p_miss
        total = sum(h.prior for h in self.hypotheses)
        if total <= 0:
            return []
        # Prior: the camera hypotheses share 1 - p_off in proportion to their path weights (deeper paths
        # carry their p_miss factors); likelihood of "nothing seen yet": 1 - F (not arrived; arrived and
        # missed is the onward hypotheses' mass), 1 - (1 - p_miss) F at a path's end, 1 off-network.
        joint = [
            (h, (1.0 - self.cfg.p_off) * h.prior / total * (1.0 - (keep if h.terminal else 1.0) * h.cdf(dt)))
            for h in self.hypotheses
        ]
        z = sum(w for _, w in joint) + self.cfg.p_off
        return [(h, w / z) for h, w in joint]

    def forecast(self, now_wall: float, top: int | None = None) -> list[CameraForecast]:
        """Cameras ranked by the probability that they see the suspect next, with ETA windows (wall time)."""
        by_cam: dict[str, list[tuple[Hypothesis, float]]] = {}
        for h, p in self.posterior(now_wall):
            by_cam.setdefault(h.camera, []).append((h, p))
        out = []
        for cam, hs in by_cam.items():
            p = sum(x for _, x in hs)
            if p <= 0:
                continue
            # The window spans the hypotheses that carry at least a tenth of this camera's mass, so a
            # camera reachable directly and round a block shows both arrivals (a camera reached by many
            # paths, none with a tenth of its mass, shows its likeliest one).
            best = max(hs, key=lambda hx: hx[1])[0]
            main = [h for h, x in hs if x >= 0.1 * p] or [best]
            lo = min(h.window()[0] for h in main)
            hi = max(h.window()[1] for h in main)
            eta_from = max(now_wall, self.left_wall + lo)
            eta_to = max(eta_from, self.left_wall + hi)
            out.append(CameraForecast(cam, p, eta_from, eta_to, len(best.path), [h for h, _ in hs]))
        out.sort(key=lambda f: (-f.p, f.eta_from, f.camera))
        return out[:top] if top else out

    def off_network(self, now_wall: float) -> float:
        return max(0.0, 1.0 - sum(p for _, p in self.posterior(now_wall)))
