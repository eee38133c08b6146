"""What a confirm or reject changed in a route, in words: the operator who confirmed one hop and sees another,
earlier found, hop vanish must be told why, not left to compare two tables.

The old route is the one the verdict was given on (the route file, else the latest stored route from the same
origin in the case); the new one is the re-scored route. A hop that left is either rejected (as asked),
replaced (a new hop near its time fits its neighbours better), no longer reached (the re-scored route stops
before its time), or skipped (the re-scored route links its neighbours directly).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from relaytrack.clock import human
from relaytrack.i18n import t
from relaytrack.relay.route import Hop, Route


@dataclass(frozen=True)
class Dropped:
    hop: Hop
    reason: str  # rejected | replaced | unreached | skipped
    by: Hop | None = None  # the new hop that took its place (replaced)


@dataclass(frozen=True)
class RouteChanges:
    dropped: list[Dropped] = field(default_factory=list)
    added: list[Hop] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "dropped": [
                {"sighting": d.hop.sighting.id, "camera": d.hop.sighting.camera, "reason": d.reason,
                 "by": d.by.sighting.id if d.by else None}
                for d in self.dropped
            ],
            "added": [h.sighting.id for h in self.added],
        }  # fmt: skip

    @property
    def empty(self) -> bool:
        return not self.dropped and not self.added


def _span(h: Hop) -> tuple[float, float]:
    return (h.true_start, h.true_end) if h.true_end > h.true_start else (h.sighting.start, h.sighting.end)


def route_changes(old: Route | None, new: Route, rejected: set[int] | None = None) -> RouteChanges:
    """Hops of `old` missing from `new` (with why) and hops of `new` that `old` lacked; `rejected`: the
    sightings the verdict rejected."""
    if old is None:
        return RouteChanges()
    rejected = rejected or set()
    new_ids = {h.sighting.id for h in new.hops}
    old_ids = {h.sighting.id for h in old.hops}
    added = [h for h in new.hops if h.sighting.id not in old_ids]
    latest = max((_span(h)[1] for h in new.hops), default=float("-inf"))
    earliest = min((_span(h)[0] for h in new.hops), default=float("inf"))
    dropped = []
    for h in old.hops:
        if h.sighting.id in new_ids:
            continue
        if h.sighting.id in rejected:
            dropped.append(Dropped(h, "rejected"))
            continue
        t0, t1 = _span(h)
        # A new hop near its time is what took its place; else the route stops short of it, or now links
        # its neighbours directly.
        near = min((a for a in added if abs(_span(a)[0] - t0) <= max(30.0, t1 - t0)),
                   key=lambda a: abs(_span(a)[0] - t0), default=None)
        if near is not None:
            dropped.append(Dropped(h, "replaced", near))
        elif t0 > latest or t1 < earliest:
            dropped.append(Dropped(h, "unreached"))
        else:
            dropped.append(Dropped(h, "skipped"))
    return RouteChanges(dropped, added)


def _when(h: Hop) -> str:
    wall = h.sighting.wall_start
    return human(wall) if wall else f"{h.sighting.start:.1f} s"


def change_sentences(ch: RouteChanges) -> list[str]:
    """The changes as sentences in the current language (one per hop)."""
    if ch.empty:
        return [t("route_unchanged")]
    out = []
    for d in ch.dropped:
        s = d.hop.sighting
        if d.reason == "rejected":
            out.append(t("route_dropped_rejected", id=s.id, camera=s.camera))
            continue
        why = (t("route_dropped_replaced", by=d.by.sighting.id, camera=d.by.sighting.camera) if d.by
               else t(f"route_dropped_{d.reason}"))
        out.append(t("route_dropped", id=s.id, camera=s.camera, time=_when(d.hop),
                     conf=f"{d.hop.confidence:.2f}", why=why))
    for h in ch.added:
        out.append(t("route_added", id=h.sighting.id, camera=h.sighting.camera, time=_when(h),
                     conf=f"{h.confidence:.2f}"))
    return out
