"""Scoring a live pursuit against a town's ground truth: pure functions on small typed records.

The bench (`bench/pursuit.py`) turns a pursuit's events into `Prediction` and `Handoff` records and the
suspect's true camera visits into `Visit`s; everything here is arithmetic on those, so hand-made streams
with known answers test it (tests/bench/test_pursuit_score.py).

- a true next camera is "in the top-k" when the last prediction made before the suspect's first visible
  frame there lists it among its first k cameras (no prediction yet, or the pursuit already over: a miss);
- a visit is handed off when an automatic hand-off onto the suspect (by the ground-truth boxes) on that
  camera has an arrival that starts within `SLACK_S` of the visit; its latency runs from the suspect's first
  visible frame there to the moment the hand-off was computed, on the live play's clock;
- a route is followed to the end without operator help when every true visit after the origin is handed
  off automatically and no automatic hand-off onto someone else came before the last of those (wrong
  hand-offs after the suspect's last visit are false alarms, counted apart).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SLACK_S = 2.0  # a tracklet starts a little before the gt calls the person visible (20 % of the body)
MIN_VISIT_S = 1.0  # a visit shorter than this cannot be handed off (0.8 s of track is the least described)


@dataclass(frozen=True)
class Visit:
    """The suspect on one camera: wall-clock epoch seconds of the first and last visible frame."""

    camera: str
    start: float
    end: float


@dataclass(frozen=True)
class Prediction:
    """A prediction event: its footage time, the cameras ranked, and the sighting it was made from."""

    time: float
    cameras: tuple[str, ...]
    anchor: int | None = None


@dataclass(frozen=True)
class Handoff:
    """A hand-off event. `time`: the footage time of the frame that decided it; `computed`: the moment it
    was computed on the live play's footage clock (None when the run was not paced); `seen`: the arrival's
    first wall time; `suspect`: the arrival is the suspect by the ground-truth boxes."""

    time: float
    camera: str
    sighting: int
    seen: float
    status: str
    suspect: bool
    computed: float | None = None

    @property
    def decided(self) -> float:
        return self.computed if self.computed is not None else self.time


def visits_from_route(route: Iterable[dict], t0_wall: float, min_s: float = MIN_VISIT_S) -> list[Visit]:
    """truth.json route entries (`camera`, `start`, `end` in seconds into the footage) as wall-clock visits:
    visits shorter than `min_s` dropped, then consecutive visits of one camera joined."""
    out: list[Visit] = []
    for r in sorted(route, key=lambda r: float(r["start"])):
        s, e = t0_wall + float(r["start"]), t0_wall + float(r["end"])
        if e - s < min_s:
            continue
        if out and out[-1].camera == r["camera"]:
            out[-1] = Visit(out[-1].camera, out[-1].start, max(out[-1].end, e))
        else:
            out.append(Visit(str(r["camera"]), s, e))
    return out


def rank_before(predictions: Sequence[Prediction], visit: Visit) -> int | None:
    """1-based rank of the visit's camera in the last prediction made before the suspect appeared there
    (None: not listed, or no prediction before)."""
    last = None
    for p in sorted(predictions, key=lambda p: p.time):
        if p.time >= visit.start:
            break
        last = p
    if last is None or visit.camera not in last.cameras:
        return None
    return last.cameras.index(visit.camera) + 1


def share_in_top(ranks: Sequence[int | None], k: int) -> float | None:
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def _matches(h: Handoff, v: Visit) -> bool:
    return h.camera == v.camera and v.start - SLACK_S <= h.seen <= v.end + SLACK_S


def handoff_of(handoffs: Sequence[Handoff], visit: Visit) -> Handoff | None:
    """The first automatic hand-off onto the suspect for this visit."""
    got = [h for h in handoffs if h.status == "auto" and h.suspect and _matches(h, visit)]
    return min(got, key=lambda h: h.decided) if got else None


def latency(h: Handoff, visit: Visit) -> float:
    """Seconds from the suspect's first visible frame on the camera to the hand-off being computed."""
    return h.decided - visit.start


def latency_split(h: Handoff, visit: Visit) -> tuple[float, float]:
    """The latency in its two halves: the arrival's track beginning after the suspect became visible (the
    camera's analysed rate and the detector), then the hand-off computed after the track began (how long the
    look took to convince). They add up to `latency`."""
    return h.seen - visit.start, h.decided - h.seen


def route_followed(handoffs: Sequence[Handoff], visits: Sequence[Visit]) -> bool:
    """Every visit after the origin got an automatic hand-off onto the suspect, and no automatic hand-off
    onto someone else came before the last of them (the chain never left the suspect while the route
    lasted; a wrong hand-off after the suspect's last visit is a false alarm, counted apart)."""
    auto = [h for h in handoffs if h.status == "auto"]
    got = [handoff_of(auto, v) for v in visits]
    if any(h is None for h in got):
        return False
    end = max((h.decided for h in got if h is not None), default=-math.inf)
    return all(h.suspect for h in auto if h.decided <= end)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of the values; None when there are none."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class RunScore:
    """One pursuit run scored: per true next visit its rank and hand-off, and the route verdict."""

    ranks: list[int | None]
    on_track: list[bool]  # the prediction before the visit was made from a sighting of the suspect
    latencies: list[float | None]  # None: not handed off automatically
    offered: int  # visits whose suspect arrival was only offered to the operator
    wrong_auto: int  # automatic hand-offs onto someone else
    followed: bool
    wrong_after_route: int = 0  # of those, arrivals after the suspect's last visit (false alarms)
    splits: list[tuple[float, float] | None] = field(default_factory=list)  # latency_split per visit

    @property
    def recall(self) -> float | None:
        if not self.latencies:
            return None
        return sum(1 for x in self.latencies if x is not None) / len(self.latencies)


def score_run(
    visits: Sequence[Visit],
    predictions: Sequence[Prediction],
    handoffs: Sequence[Handoff],
    suspect_ids: set[int] | None = None,
) -> RunScore:
    """`visits`: the true visits after the origin's; `suspect_ids`: sightings that are the suspect (to tell
    whether a prediction was made from the suspect's own sighting)."""
    ranks, on_track, lat, split = [], [], [], []
    offered = 0
    ids = suspect_ids or set()
    for v in visits:
        ranks.append(rank_before(predictions, v))
        before = [p for p in predictions if p.time < v.start]
        on_track.append(bool(before) and max(before, key=lambda p: p.time).anchor in ids)
        h = handoff_of(handoffs, v)
        lat.append(None if h is None else latency(h, v))
        split.append(None if h is None else latency_split(h, v))
        if h is None and any(x.status == "offered" and x.suspect and _matches(x, v) for x in handoffs):
            offered += 1
    wrong = [h for h in handoffs if h.status == "auto" and not h.suspect]
    last = visits[-1].end if visits else -math.inf
    after = sum(1 for h in wrong if h.seen > last + SLACK_S)
    return RunScore(ranks, on_track, lat, offered, len(wrong), route_followed(handoffs, visits), after, split)
