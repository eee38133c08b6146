"""What a relay returns: a `Route` of `Hop`s in time order, and its JSON form.

`Route.to_dict()` is the CLI contract of `relaytrack relay --out route.json` (and of the service's route
responses): {"origin", "case", "hops": [hop, ...], "cameras", "stopped", "anchors", "rejected", "elapsed_s",
"params"}, each hop {"sighting", "camera", "start", "end", "frames", "box", "score", "confidence", "kind",
"wall_start", "wall_end", "true_start", "true_end", "start_time", "end_time" (the wall times in Seoul, ISO 8601
+09:00; `start`/`end` stay seconds into the clip), "entry_edge", "exit_edge", "direction", "confirmed",
"link", "reasons", "alternatives"}. `Route.from_dict()` reads that back; `from_dict(d).to_dict() == d` for
any route the relay wrote. Saving and loading (files, the store) is `relaytrack.relay.persist`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relaytrack.clock import maybe_iso
from relaytrack.config import RelayConfig
from relaytrack.errors import InputError
from relaytrack.records import Sighting

DIRECTIONS = ("both", "forward", "backward")
# Store ids are SQLite rowids, which start at 1: a hop read from a hand-written route that names only a camera
# and a frame span (evidence export accepts those) carries a sighting with this id.
NO_SIGHTING = 0
HANDOFF_SOURCES = ("board", "alight")  # a hop's link.source when the route changes kind (relay.boarding)


@dataclass
class Hop:
    """One sighting on the route. `confidence` is the probability that this candidate, rather than another
    or nobody, is the person (1.0 for the origin and operator-confirmed hops); `true_start`/`true_end` are
    epoch seconds with the camera's clock offset removed; `link` describes the way here from the previous hop
    (src, dst, exit_edge, entry_edge, mean_s, std_s, mode, travel_s, via, source), None for anchors."""

    sighting: Sighting
    confidence: float
    direction: str  # origin | confirmed | forward | backward
    link: dict[str, Any] | None = None
    reasons: list[str] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    confirmed: bool = False
    true_start: float = 0.0
    true_end: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        s = self.sighting
        times = s.times()
        return {
            **{k: v for k, v in s.public().items() if k not in times},
            # The CLI contract: a hop carries the search hit's fields (score included) plus confidence; a
            # hop's score is its confidence.
            "score": round(float(self.confidence), 4),
            "confidence": round(float(self.confidence), 4),
            "kind": s.kind,
            "wall_start": round(s.wall_start, 3),
            "wall_end": round(s.wall_end, 3),
            "true_start": round(self.true_start, 3),
            "true_end": round(self.true_end, 3),
            **times,
            "entry_edge": s.entry_edge,
            "exit_edge": s.exit_edge,
            "direction": self.direction,
            "confirmed": self.confirmed,
            "link": self.link,
            "reasons": self.reasons,
            "alternatives": self.alternatives,
        }

    @classmethod
    def from_dict(cls, d: Any, index: int = 0) -> Hop:
        """A hop of a route JSON. Only "sighting" (or, for a hand-written span, "camera" and "frames") is
        required; absent fields take their defaults. The sighting carries what the JSON holds (no source,
        track, attributes or embedding: look it up by id for those). InputError names the hop."""
        if not isinstance(d, dict):
            raise InputError(f"route hop {index} is not an object")
        frames = d.get("frames")
        has_frames = isinstance(frames, list) and len(frames) == 2
        if d.get("sighting") is None and not (d.get("camera") and has_frames):
            raise InputError(f"route hop {index}: needs 'sighting' or 'camera' and 'frames'")
        try:
            kind = str(d.get("kind") or "person")
            first, last = (int(frames[0]), int(frames[1])) if has_frames else (0, 0)
            sighting = Sighting(
                id=NO_SIGHTING if d.get("sighting") is None else int(d["sighting"]),
                camera=str(d.get("camera") or ""),
                source_id=0,
                track_id=0,
                kind=kind,
                class_name=kind,
                start=float(d.get("start") or 0.0),
                end=float(d.get("end") or 0.0),
                first_frame=first,
                last_frame=last,
                wall_start=float(d.get("wall_start") or 0.0),
                wall_end=float(d.get("wall_end") or 0.0),
                box=tuple(float(v) for v in d.get("box") or (0.0, 0.0, 0.0, 0.0)),  # type: ignore[arg-type]
                entry_edge=d.get("entry_edge", "inside"),
                exit_edge=d.get("exit_edge", "inside"),
            )
            return cls(
                sighting,
                # Unknown confidence counts as none (a hand-written hop is no evidence for travel times).
                float(d.get("confidence") or 0.0),
                str(d.get("direction") or ("origin" if index == 0 else "forward")),
                d.get("link"),
                list(d.get("reasons") or []),
                list(d.get("alternatives") or []),
                bool(d.get("confirmed", False)),
                float(d.get("true_start") or 0.0),
                float(d.get("true_end") or 0.0),
            )
        except (TypeError, ValueError) as err:
            raise InputError(f"route hop {index}: {err}") from None


@dataclass
class Route:
    """The route through `origin`: `hops` in time order, origin included. `stopped` says why each direction
    ended ({"forward": why, "backward": why}); `anchors` are the operator-confirmed sightings it passes through,
    `rejected` the ones it may not use."""

    origin: int
    hops: list[Hop]
    case: str | None = None
    params: RelayConfig = field(default_factory=RelayConfig)
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

    @property
    def handoffs(self) -> list[dict[str, Any]]:
        """Where the route changes between the person and a vehicle (relay.boarding): [{"type": board |
        alight, "camera", "time", "person", "vehicle"}] in route order."""
        out = []
        for h in self.hops:
            link = h.link or {}
            if link.get("source") in HANDOFF_SOURCES:
                out.append(
                    {
                        "type": link["source"],
                        "camera": h.sighting.camera,
                        "time": maybe_iso(link.get("at_wall")),
                        "person": link.get("person"),
                        "vehicle": link.get("vehicle"),
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {
            "origin": self.origin,
            "case": self.case,
            "hops": [h.to_dict() for h in self.hops],
            "cameras": self.cameras,
            "stopped": self.stopped,
            "anchors": self.anchors,
            "rejected": self.rejected,
            "elapsed_s": round(self.elapsed_s, 4),
            "params": self.params.model_dump(),
        }
        handoffs = self.handoffs
        if handoffs:  # only routes that change kind carry the key (older routes' JSON stays byte-identical)
            out["handoffs"] = handoffs
        return out

    @classmethod
    def from_dict(cls, d: Any) -> Route:
        """A route JSON as `to_dict` writes it (InputError if it is not one). A hand-written route may give only
        "hops": its first hop is then the origin, and its params the defaults."""
        hops_in = d.get("hops") if isinstance(d, dict) else None
        if not isinstance(hops_in, list) or not hops_in:
            raise InputError("route has no 'hops' list")
        hops = [Hop.from_dict(h, i) for i, h in enumerate(hops_in)]
        origin = d.get("origin")
        if origin is None:
            origin = next((h.sighting.id for h in hops if h.direction == "origin"), hops[0].sighting.id)
        raw = d.get("params")
        try:
            # A route is a record of the knobs it was made with: keys a later version dropped are ignored
            # rather than making an old stored route unreadable.
            params = (
                RelayConfig.model_validate({k: v for k, v in raw.items() if k in RelayConfig.model_fields})
                if isinstance(raw, dict)
                else RelayConfig()
            )
            return cls(
                int(origin),
                hops,
                None if d.get("case") is None else str(d["case"]),
                params,
                dict(d.get("stopped") or {}),
                float(d.get("elapsed_s") or 0.0),
                [int(x) for x in d.get("anchors") or []],
                [int(x) for x in d.get("rejected") or []],
            )
        except (TypeError, ValueError) as err:  # pydantic's ValidationError is a ValueError
            raise InputError(f"route: {err}") from None
