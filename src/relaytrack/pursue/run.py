"""The live pursuit loop: predict, spend the frame budget where the suspect is expected, hand off, repeat.

`Pursuit` is the state machine, fed one camera frame (or status change) at a time in footage-time order
(`relaytrack.pursue.feed`); it keeps a stack of anchors (origin, then every hand-off) so that the
operator's reject of a hand-off continues the pursuit from the sighting before it. The clock is the
footage's: predictions, ETA windows, "lost" and every event time are footage wall-clock time, so a replay
at any speed tells the same story. `run_pursuit` wires it to the store, the models and a feed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from relaytrack.pursue.budget import BudgetConfig, allocate
from relaytrack.pursue.events import EventLog, PursuitEvent, iso
from relaytrack.pursue.feed import FeedItem
from relaytrack.pursue.handoff import ArrivalScore, HandoffConfig, Reidentifier
from relaytrack.pursue.predict import CameraForecast, PredictConfig, Predictor
from relaytrack.records import Frame, Sighting


@dataclass(frozen=True)
class PursuitConfig:
    until_lost_s: float = 120.0  # no sighting for this long after the suspect left view: lost
    predict_every_s: float = 2.0  # a fresh prediction (and budget) this often in footage time
    top: int = 5  # cameras listed in a prediction
    predict: PredictConfig = field(default_factory=PredictConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    handoff: HandoffConfig = field(default_factory=HandoffConfig)


@dataclass
class _Anchor:
    sighting: Sighting
    key: tuple[str, int] | None  # its live track, while it may still be in view
    status: str  # origin | auto | confirmed


@dataclass
class PursuitStats:
    analysed: dict[str, int] = field(default_factory=dict)  # camera -> analysed frames
    offered: dict[str, int] = field(default_factory=dict)  # camera -> frames the feed delivered
    first_wall: float | None = None
    last_wall: float | None = None

    def analysed_fps(self) -> float:
        span = (self.last_wall or 0.0) - (self.first_wall or 0.0)
        return sum(self.analysed.values()) / span if span > 0 else 0.0


class Pursuit:
    """Feed it with `frame(camera, Frame)`, `status(camera, state, message)` and `tick(now)`; it emits
    events to `log`. `analysers[camera].step(frame)` gives the arrivals; `links_from(camera)` the network;
    `verdicts()` the operator's pending (sighting id, confirm|reject)."""

    def __init__(self, origin: Sighting, cameras: list[str], links_from: Callable, reid: Reidentifier,
                 analysers: dict, log: EventLog, cfg: PursuitConfig | None = None,
                 verdicts: Callable[[], list[tuple[int, str]]] | None = None,
                 caps: dict[str, float] | None = None) -> None:  # fmt: skip
        self.cfg = cfg or PursuitConfig()
        self.cameras, self.links_from, self.reid = cameras, links_from, reid
        self.analysers, self.log, self.verdicts = analysers, log, verdicts
        self.caps = caps or {}
        self.stack = [_Anchor(origin, None, "origin")]
        self.rejected: set[tuple[str, int]] = set()
        self.rejected_ids: set[int] = set()
        self.offered: dict[int, tuple[ArrivalScore, tuple[str, int]]] = {}  # sighting id -> offer
        self.handed: set[tuple[str, int]] = set()
        self.first_seen: dict[tuple[str, int], float] = {}
        self.now = origin.wall_start
        self.next_due: dict[str, float] = {}
        self.fps: dict[str, float] = {}
        self.stats = PursuitStats(analysed={c: 0 for c in cameras}, offered={c: 0 for c in cameras})
        self.state = "running"  # running | lost | ended
        self._rebuild()

    # ------------------------------------------------------------ anchors and predictions

    @property
    def anchor(self) -> Sighting:
        return self.stack[-1].sighting

    def _rebuild(self, now: float | None = None) -> None:
        self.predictor = self._predictor()
        self.last_predict = -math.inf
        self._predict(self.now if now is None else now)

    def _predictor(self) -> Predictor:
        came = frozenset(a.sighting.camera for a in self.stack[:-1])
        return Predictor(self.anchor, self.links_from, self.cfg.predict, came_from=came)

    def _predict(self, now: float) -> list[CameraForecast]:
        if self.stack[-1].key is not None:
            # The anchor is still in view: it has not left yet, so the clock of its travel times starts at
            # its latest box (and its heading so far says where it is going).
            self.predictor = self._predictor()
        fc = self.predictor.forecast(now)
        b = self.cfg.budget
        weights = {c: 0.0 for c in self.cameras}
        for f in fc:
            if f.camera in weights:
                if f.open_at(now):
                    boost = b.open_boost
                elif f.eta_from - now > b.soon_s:
                    boost = b.later_factor  # not reachable for a while: its floor watches it meanwhile
                else:
                    boost = 1.0
                weights[f.camera] = f.p * boost
        # The anchor's camera while the suspect may still be in its view: where the latency is now.
        if self.stack[-1].key is not None and self.anchor.camera in weights:
            weights[self.anchor.camera] = max(weights[self.anchor.camera], 0.3)
        self.fps = allocate(weights, b, self.caps)
        self.last_predict = now
        self.log.emit(PursuitEvent("prediction", now, self.anchor.camera, {
            "from": self.anchor.id,
            "cameras": [{"camera": f.camera, "eta_from": iso(f.eta_from), "eta_to": iso(f.eta_to),
                         "p": round(f.p, 4)} for f in fc[: self.cfg.top]],
            "off_network": round(self.predictor.off_network(now), 4),
            "budget_fps": b.total_fps,
            "fps": {c: round(v, 2) for c, v in sorted(self.fps.items())},
        }))  # fmt: skip
        return fc

    # ------------------------------------------------------------ feed

    def status(self, camera: str, state: str, message: str = "") -> None:
        if state in ("down", "failed"):
            self.log.emit(PursuitEvent("camera_down", self.now, camera, {"state": state, "message": message}))

    def frame(self, camera: str, frame: Frame) -> None:
        if self.state != "running":
            return
        st = self.stats
        st.offered[camera] = st.offered.get(camera, 0) + 1
        self.now = max(self.now, frame.wall)
        st.first_wall = frame.wall if st.first_wall is None else min(st.first_wall, frame.wall)
        st.last_wall = self.now
        if frame.wall + 1e-6 >= self.next_due.get(camera, -math.inf):
            fps = self.fps.get(camera, self.cfg.budget.floor_fps)
            self.next_due[camera] = frame.wall + (1.0 / fps if fps > 0 else math.inf)
            st.analysed[camera] = st.analysed.get(camera, 0) + 1
            for arr in self.analysers[camera].step(frame):
                self._arrival(arr, frame.wall)
                if self.state != "running":
                    return
        self.tick(self.now)

    def tick(self, now: float) -> None:
        if self.state != "running":
            return
        self.now = max(self.now, now)
        for sid, verdict in self.verdicts() if self.verdicts else []:
            self.verdict(sid, verdict)
        top = self.stack[-1]
        if top.key is None or top.sighting.wall_end < self.now - 2.0:
            # Not in view any more (a live anchor's track updates its end while it lasts).
            if self.now - self.anchor.wall_end > self.cfg.until_lost_s:
                self.state = "lost"
                self.log.emit(PursuitEvent("lost", self.now, self.anchor.camera, {
                    "from": self.anchor.id, "last_seen": iso(self.anchor.wall_end),
                    "after_s": round(self.now - self.anchor.wall_end, 1),
                }))  # fmt: skip
                self.end("lost")
                return
        if self.now - self.last_predict >= self.cfg.predict_every_s:
            self._predict(self.now)

    def end(self, reason: str, stopped_by: str | None = None) -> None:
        """The `ended` event; `stopped_by`: the user who stopped it (console or CLI), said in the event."""
        if self.state == "ended":
            return
        self.state = "ended"
        who = {"stopped_by": stopped_by} if stopped_by else {}
        self.log.emit(PursuitEvent("ended", self.now, self.anchor.camera, {
            "reason": reason, **who, "anchor": self.anchor.id,
            "route": [a.sighting.id for a in self.stack],
            "analysed_frames": dict(sorted(self.stats.analysed.items())),
            "analysed_fps": round(self.stats.analysed_fps(), 2), "budget_fps": self.cfg.budget.total_fps,
        }))  # fmt: skip

    # ------------------------------------------------------------ arrivals

    def _arrival(self, arr, wall: float) -> None:
        s, key, top = arr.sighting, arr.key, self.stack[-1]
        self.first_seen.setdefault(key, s.wall_start)
        if key == top.key:
            # The anchor's own track goes on (or ends): its end and exit edge drive the prediction.
            top.sighting = _merge(top.sighting, s)
            if arr.finished:
                top.key = None
                self._rebuild(wall)
            return
        if key in self.rejected or key in self.handed or (s.id and s.id in self.rejected_ids):
            return
        a = self.anchor
        if arr.present_at_start or s.wall_start < a.wall_start or self._on_route(s):
            return  # there before the pursuit or the anchor, or during a pass of the route on its camera
        p_cam = None
        if self.cfg.handoff.w_prior:
            # Given nothing seen until this arrival began: how likely was this camera to be the next one?
            p_cam = next((f.p for f in self.predictor.forecast(s.wall_start) if f.camera == s.camera), 0.0)
        sc = self.reid.score(a, s, self.predictor.hypotheses, p_cam)
        h = self.cfg.handoff
        offered = any(k == key for _, k in self.offered.values())
        if sc.confidence >= h.auto_conf:
            self._hand_off(arr, sc, wall, "auto")
        elif (
            sc.confidence >= h.offer_conf
            and not offered
            and (arr.finished or s.end - s.start >= h.offer_after_s)
        ):
            sid = arr.save()
            self.offered[sid] = (_rescored(sc, sid), key)
            self._emit_handoff(sc, sid, wall, "offered")

    def _on_route(self, s: Sighting) -> bool:
        """`s` began on a camera while the suspect was in view there (a pass of the route so far): a fragment
        of that pass, or someone beside the suspect, never the suspect's next arrival."""
        return any(
            b.sighting.camera == s.camera and b.sighting.wall_start <= s.wall_start <= b.sighting.wall_end
            for b in self.stack
        )

    def _hand_off(self, arr, sc: ArrivalScore, wall: float, status: str) -> None:
        sid = arr.save()
        s = _rescored(sc, sid).sighting
        self.handed.add(arr.key)
        self.offered.pop(sid, None)
        self.stack.append(_Anchor(s, None if arr.finished else arr.key, status))
        self._emit_handoff(sc, sid, wall, status)
        self._rebuild(wall)

    def _emit_handoff(self, sc: ArrivalScore, sid: int, wall: float, status: str) -> None:
        s = sc.sighting
        prev = (
            self.stack[-2].sighting
            if status in ("auto", "confirmed") and len(self.stack) > 1
            else self.anchor
        )
        self.log.emit(PursuitEvent("handoff", wall, s.camera, {
            "sighting": sid, "confidence": round(sc.confidence, 3), "reasons": sc.reasons, "status": status,
            "from": prev.id, "seen_at": iso(s.wall_start), "latency_s": round(wall - s.wall_start, 2),
            "path": list(sc.path) if sc.path else None,
        }))  # fmt: skip

    # ------------------------------------------------------------ operator

    def verdict(self, sid: int, verdict: str) -> None:
        """The operator's word on a hand-off (offered or automatic)."""
        if verdict == "confirm":
            if sid in self.offered:
                sc, key = self.offered.pop(sid)
                self.handed.add(key)
                live = key if sc.sighting.wall_end >= self.now - 2.0 else None
                self.stack.append(_Anchor(sc.sighting, live, "confirmed"))
                self._emit_handoff(sc, sid, self.now, "confirmed")
                self._rebuild(self.now)
            else:
                for a in self.stack:
                    if a.sighting.id == sid:
                        a.status = "confirmed"
            return
        self.rejected_ids.add(sid)
        if sid in self.offered:
            sc, key = self.offered.pop(sid)
            self.rejected.add(key)
            self._emit_handoff(sc, sid, self.now, "rejected")
            return
        idx = next((i for i, a in enumerate(self.stack) if i > 0 and a.sighting.id == sid), None)
        if idx is None:
            return
        gone = self.stack[idx]
        del self.stack[idx:]
        self.handed = {k for k in self.handed if k != gone.key}
        if gone.key is not None:
            self.rejected.add(gone.key)
        sc = ArrivalScore(gone.sighting, 0.0, -math.inf, ["rejected by the operator"])
        self._emit_handoff(sc, sid, self.now, "rejected")
        # Back to the sighting before it: its prediction, with the time that has passed since.
        self._rebuild(self.now)


def _rescored(sc: ArrivalScore, sid: int) -> ArrivalScore:
    from dataclasses import replace

    return replace(sc, sighting=replace(sc.sighting, id=sid))


def _merge(anchor: Sighting, now: Sighting) -> Sighting:
    """The anchor's row updated by its track's latest description (its id kept)."""
    from dataclasses import replace

    return replace(now, id=anchor.id)


def drive(
    pursuit: Pursuit, items: Iterable[FeedItem | None], clock: Callable[[], float] | None = None
) -> None:
    """Run a pursuit over a feed until it is lost or the feed ends. `None` items are clock ticks (live
    feeds): `clock()` gives the footage time then."""
    for item in items:
        if pursuit.state != "running":
            return
        if item is None:
            if clock is not None:
                pursuit.tick(clock())
            continue
        if item.frame is not None:
            pursuit.frame(item.camera, item.frame)
        elif item.status:
            pursuit.status(item.camera, item.status, item.message)
    if pursuit.state == "running":
        pursuit.end("sources ended")
