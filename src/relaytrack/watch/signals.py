"""Behaviour signals per track and the courier-suspicion score, independent of any model.

`CameraWatch.step()` takes one analysed frame's live tracks (boxes), cell-phone boxes and, through
callbacks, posture and appearance of chosen tracks; it keeps per-track state (bounded), finds stops near
hiding-spot zones and turns each stop into measured signals:

- dwell: seconds stopped with the foot point (or the lower body) within `zone_margin_h` standing heights of
  the zone;
- crouch/bend: box height against the track's own standing height, knee angle and torso inclination from
  keypoints; low posture held longer than `sitting_s` (or hips on a bench) is resting, not a drop;
- reach: a wrist inside (or within `reach_margin_h` of) the zone;
- phone: a cell-phone detection at the upper body or a raised-wrist pose, during a stop or soon after it;
- stops: distinct zones this person stopped at within `route_window_s` (the person = the same track, or a
  track elsewhere whose colour histogram matches, through the shared `RouteMemory`);
- revisit: the same person stopped at the same zone before, at least `revisit_gap_s` earlier;
- night: local wall-clock hour in the unusual hours;
- look: the head turned (left / ahead / right / away, from keypoints) `look_turns` times during the stop;
- spot change: the spot looks different after the person left than before they came (watch/spot.py,
  clear crops of the zone compared under lighting and noise), when frames are given (`crop_fn`).

score = sum(weight * strength) over WeightConfig, with strengths in [0, 1]; no zone stop, no score.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import numpy as np

from relaytrack.watch.config import WatchConfig
from relaytrack.watch.explain import explain, ordinal  # noqa: F401  (re-exported: tests reach them here)
from relaytrack.watch.innocent import cues, went_in
from relaytrack.watch.pose import Posture
from relaytrack.watch.route import (  # noqa: F401  (re-exported: the service and tests reach them here)
    RouteMemory,
    StopRecord,
    appearance_hist,
    is_night,
    local_hour,
)
from relaytrack.watch.spot import SpotMemory
from relaytrack.watch.stop import Assessment, Seen, Stop, TrackState  # noqa: F401  (re-exported)
from relaytrack.watch.zones import Zone

TOP_EDGE_PX = 2.0  # a box starting this close to the frame's top is cut off by it
RETRACK_S = 1.0  # a track that began this long before another ended may be that person picked up again
UNSURE_MAX = 150  # low-keypoint frames kept per stop until the standing height can confirm them (bounded)


def _lower_body_points(xyxy, n: int = 4) -> list[tuple[float, float]]:
    x1, y1, x2, y2 = xyxy
    cx, h = (x1 + x2) / 2, y2 - y1
    return [(cx, y2 - k * 0.5 * h / (n - 1)) for k in range(n)]


class CameraWatch:
    """Per-camera behaviour state. Not thread-safe: one worker owns one camera."""

    def __init__(
        self,
        camera: str,
        zones: list[Zone],
        cfg: WatchConfig,
        route: RouteMemory | None = None,
    ) -> None:
        self.camera = camera
        self.zones = zones
        self.cfg = cfg
        self.route = route or RouteMemory(cfg.signals.route_window_s)
        self.tracks: dict[int, TrackState] = {}
        self.pose_runs = 0
        self.t0: float | None = None
        # Foot points of everyone over the last `empty_before_s` (with whether that person had come there):
        # was a new track's place empty before it, or does it continue a track that broke off there?
        # (t, x, y, box height, came there, when that track was first seen)
        self._feet: deque[tuple[float, float, float, float, bool, float]] = deque()
        self._wall0 = 0.0  # wall time of source second 0
        self.spots = SpotMemory(zones, cfg.spot) if cfg.spot.enabled else None
        # Closed stops waiting for clear views of their spot after the person left (the track may be gone).
        self._spot_wait: list[tuple[TrackState, Stop]] = []

    # ------------------------------------------------------------------ per frame

    def near_zone(self, xyxy, stand_h: float, factor: float = 1.0) -> tuple[Zone | None, float]:
        """Nearest zone to the person's lower body and its distance in standing heights."""
        best, best_d = None, math.inf
        for z in self.zones:
            d = min(z.distance(x, y) for x, y in _lower_body_points(xyxy))
            if d < best_d:
                best, best_d = z, d
        if best is None:
            return None, math.inf
        d_h = best_d / max(stand_h, 1.0)
        return (best if d_h <= self.cfg.signals.zone_margin_h * factor else None), d_h

    def _speed(self, tr: TrackState, t: float) -> float:
        """Foot-point speed in standing heights per second over the speed window."""
        win = self.cfg.signals.speed_window_s
        last = tr.boxes[-1]
        ref = None
        for b in reversed(tr.boxes):
            ref = b
            if last.t - b.t >= win:
                break
        if ref is None or last.t - ref.t < 1e-6:
            return 0.0
        (ax1, _, ax2, ay2), (bx1, _, bx2, by2) = ref.xyxy, last.xyxy
        d = math.hypot((bx1 + bx2) / 2 - (ax1 + ax2) / 2, by2 - ay2)
        return d / max(tr.stand_h(), 1.0) / (last.t - ref.t)

    def step(
        self,
        frame_index: int,
        t: float,
        wall: float,
        tracks: list[tuple[int, tuple[float, float, float, float]]],
        phones: np.ndarray | None = None,
        pose_fn: Callable[[int, tuple], Posture | None] | None = None,
        hist_fn: Callable[[tuple], np.ndarray | None] | None = None,
        crop_fn: Callable[[Zone], np.ndarray | None] | None = None,
    ) -> list[Assessment]:
        """Feed one analysed frame; returns the assessments of tracks that are at (or just left) a stop.
        crop_fn: this frame's crop of a zone (spot.zone_crop), for the before/after comparison."""
        sc = self.cfg.signals
        horizon = self.cfg.run.track_history_s
        self._wall0 = wall - t
        seen = set()
        pose_budget = self.cfg.pose.max_per_frame if (pose_fn is not None and self.cfg.pose.enabled) else 0
        candidates: list[tuple[float, TrackState, tuple]] = []
        for tid, xyxy in tracks:
            xyxy = tuple(float(v) for v in xyxy)
            seen.add(tid)
            tr = self.tracks.get(tid)
            if tr is None:
                maxlen = int(horizon * 30) + 8
                tr = self.tracks[tid] = TrackState(tid, deque(maxlen=maxlen), deque(maxlen=maxlen))
                tr.arrived = self._arrived(xyxy, t)
                tr.first_t = t
            tr.boxes.append(Seen(frame_index, t, xyxy))
            while tr.boxes and t - tr.boxes[0].t > horizon:
                tr.boxes.popleft()
            tr.heights.append(xyxy[3] - xyxy[1])
            tr.last_t = t
            stand_h = tr.stand_h()
            speed = self._speed(tr, t)
            foot = ((xyxy[0] + xyxy[2]) / 2, xyxy[3])
            if tr.first_foot is None:
                tr.first_foot = foot
            tr.travelled_h = max(
                tr.travelled_h, math.hypot(foot[0] - tr.first_foot[0], foot[1] - tr.first_foot[1]) / stand_h
            )
            zone, d_h = self.near_zone(xyxy, stand_h)
            # Only people who came there: a track that never moved, at a place never seen empty, is most often
            # a static false detection. People in the dark or behind others are found only once they stand
            # still, so appearing at a place seen empty just before counts as arriving too.
            stopped = speed < sc.stop_speed_h_s and (tr.travelled_h >= sc.arrive_h or tr.arrived)
            if zone is not None and stopped:
                s = tr.stop
                same_place = (
                    s is not None
                    and not s.closed
                    and math.hypot(foot[0] - s.foot[0], foot[1] - s.foot[1]) / stand_h < sc.same_place_h
                )
                if s is not None and not s.closed and (s.zone.id == zone.id or same_place):
                    # Two spots side by side: the person standing still stays at the first one.
                    s.last = t
                else:
                    self._close(tr, wall)
                    tr.stop = Stop(zone, t, t, frame_index, foot)
                    if self.spots is not None and crop_fn is not None:
                        tr.stop.spot = self.spots.begin(zone.id, t)
                    tr.stop.key["stop"] = (frame_index, t)
                    if tr.hist is None and hist_fn is not None:
                        tr.hist = hist_fn(xyxy)
            elif tr.stop is not None and not tr.stop.closed and t - tr.stop.last > sc.gap_s:
                tr.stop.left = "walked"
                self._close(tr, wall)
            # Cost control: keypoints only for tracks that slowed down close to a zone.
            if (
                pose_budget
                and d_h <= sc.zone_margin_h * self.cfg.pose.near_factor
                and speed < 2 * sc.stop_speed_h_s
            ):
                dwell = tr.stop.dwell if tr.stop is not None and not tr.stop.closed else 0.0
                candidates.append((dwell, tr, xyxy))
            self._box_evidence(tr, xyxy, stand_h, frame_index, t)
            self._phone_evidence(tr, xyxy, phones, frame_index, t)
        self._remember_feet(t)
        if self.spots is not None and crop_fn is not None:
            self.spots.observe(
                t, [tr.boxes[-1].xyxy for tr in self.tracks.values() if tr.last_t == t], crop_fn
            )
        for _, tr, xyxy in sorted(candidates, key=lambda c: -c[0])[:pose_budget]:
            p = pose_fn(tr.track_id, xyxy)
            self.pose_runs += 1
            if p is not None:
                self._pose_evidence(tr, xyxy, p, frame_index, t)
            elif tr.box_low and tr.stop is not None and tr.stop.crouch_frames > 0:
                # A lower box in which no body is found is mostly something in front of the person (a sign,
                # a parked car), not a crouch.
                tr.stop.crouch_frames -= 1
        # Tracks not seen for a while are dropped (bounded memory); their open stops are closed first.
        for tid in [k for k, tr in self.tracks.items() if k not in seen and t - tr.last_t > horizon / 4]:
            self._close(self.tracks[tid], wall)
            del self.tracks[tid]
        out = [
            a for a in map(self._vanished, self.tracks.values()) if a is not None and a.track_id not in seen
        ]
        out += [a for a in (self.assess(self.tracks[tid], t, wall) for tid in seen) if a is not None]
        return out + self._spot_verdicts(t, wall, seen)

    def _spot_verdicts(self, t: float, wall: float, seen: set[int]) -> list[Assessment]:
        """Closed stops whose spot was seen clear again: their before/after verdict is made; a track no longer
        in view is assessed once more with it (one in view is assessed every frame anyway)."""
        out, keep = [], []
        for tr, s in self._spot_wait:
            if s.spot is None or t - s.last > self.cfg.signals.phone_after_s:
                continue
            if self.spots is not None and self.spots.follow(s.spot, s.last, t):
                if tr.track_id not in seen or self.tracks.get(tr.track_id) is not tr:
                    a = self.assess(tr, t, wall)
                    if a is not None and a.stop is s:
                        out.append(a)
                continue
            keep.append((tr, s))
        self._spot_wait = keep
        return out

    def _vanished(self, tr: TrackState, force: bool = False) -> Assessment | None:
        """A track gone for `innocent.door_s` in the middle of a stop: its stop ends here, as gone in at a door
        when nobody appeared at that place since, else as a lost track; the stop is assessed once more."""
        s, ic = tr.stop, self.cfg.innocent
        if (
            s is None
            or s.closed
            or not self._feet
            or (self._feet[-1][0] - tr.last_t < ic.door_s and not force)
        ):
            return None
        t, b = self._feet[-1][0], tr.boxes[-1].xyxy
        # A track picked up again is a new track (one that began about when this one ended), or one that was
        # there alongside and still is (the person doubled by the tracker stays on as the other); one that was
        # alongside and has gone too (two going in together) says nothing of where this one went.
        others = [
            (tf - tr.last_t, x, y, h)
            for tf, x, y, h, _, t_first in self._feet
            if tf > tr.last_t and (t_first >= tr.last_t - RETRACK_S or tf >= t - RETRACK_S)
        ]
        foot, sp = ((b[0] + b[2]) / 2, b[3]), self.cfg.signals.same_place_h
        s.gone_move_h = math.hypot(foot[0] - s.foot[0], foot[1] - s.foot[1]) / tr.stand_h()
        s.gone_speed_h_s = self._speed(tr, tr.last_t)
        walking = s.gone_speed_h_s * tr.stand_h()
        s.left = "door" if went_in(foot, s.foot, tr.stand_h(), others, ic, sp, walking) else "lost"
        wall = self._wall_at(t)
        if s.left == "lost":
            # Someone stays at the spot under another track (the tracker broke or doubled this person): the
            # stay goes on with that track, which decides it with its own departure.
            other = next(
                (
                    o
                    for o in self.tracks.values()
                    if o is not tr and o.last_t == t and o.stop is not None and not o.stop.closed
                    and o.stop.zone.id == s.zone.id
                ),
                None,
            )  # fmt: skip
            if other is not None and other.stop is not None:
                s.hand_over(other.stop)
                s.continued_by = other.track_id
        self._close(tr, wall)
        a = self.assess(tr, t, wall)
        if a is not None and s.continued_by is not None:
            a.superseded = True
        return a

    def end_track(self, track_id: int, wall: float) -> Assessment | None:
        """The tracker ended a track: an open stop ends as the person's departure (door or lost) and is
        assessed once more (the decision an alert waiting for the departure takes)."""
        tr = self.tracks.get(track_id)
        a = self._vanished(tr, force=True) if tr is not None else None
        tr = self.tracks.pop(track_id, None)
        if tr is not None:
            self._close(tr, wall)
        return a

    # ------------------------------------------------------------------ arrival

    def _wall_at(self, t: float) -> float:
        return self._wall0 + t

    def _remember_feet(self, t: float) -> None:
        if self.t0 is None:
            self.t0 = t
        arrive_h = self.cfg.signals.arrive_h
        for tr in self.tracks.values():
            if tr.last_t == t and tr.boxes:
                b = tr.boxes[-1].xyxy
                came = tr.arrived or tr.travelled_h >= arrive_h
                self._feet.append((t, (b[0] + b[2]) / 2, b[3], b[3] - b[1], came, tr.first_t))
        keep = self.cfg.signals.empty_before_s
        while self._feet and t - self._feet[0][0] > keep:
            self._feet.popleft()

    def _arrived(self, xyxy, t: float) -> bool:
        """Whether a new track came to its place: that place was watched and empty for `empty_before_s`
        before it appeared, or the last person seen there in that time had come there (the same person, whose
        track broke off in the dark or behind someone)."""
        sc = self.cfg.signals
        fx, fy, h = (xyxy[0] + xyxy[2]) / 2, xyxy[3], max(xyxy[3] - xyxy[1], 1.0)
        near = [
            came
            for tf, x, y, hf, came, _ in self._feet
            if t - tf <= sc.empty_before_s and math.hypot(fx - x, fy - y) <= sc.same_place_h * max(h, hf)
        ]
        if near:
            return near[-1]
        return self.t0 is not None and t - self.t0 >= sc.empty_before_s

    # ------------------------------------------------------------------ evidence

    def _active_stop(self, tr: TrackState, t: float) -> Stop | None:
        s = tr.stop
        if s is None:
            return None
        if not s.closed or t - s.last <= self.cfg.signals.phone_after_s:
            return s
        return None

    def _box_evidence(self, tr: TrackState, xyxy, stand_h: float, frame: int, t: float) -> None:
        s = tr.stop
        if s is None or s.closed:
            return
        ratio = (xyxy[3] - xyxy[1]) / max(stand_h, 1.0)
        # A stop begins as the person slows down, often a step or two before they settle at the spot: while
        # they still stand at full height the place their feet are planted follows them.
        if s.plant_y is None or ratio >= self.cfg.signals.replant_ratio:
            s.plant_y = xyxy[3]
        tr.planted = self._planted(s, xyxy, stand_h)
        if tr.planted:
            s.box_ratio_min = ratio if s.box_ratio_min is None else min(s.box_ratio_min, ratio)
        # Box-only crouch counts when the track was seen standing long enough to know its height, and while
        # the feet stay where the stop began: a shorter box of someone drifting away is perspective.
        tr.box_low = ratio < self.cfg.signals.crouch_box_ratio and len(tr.heights) >= 5 and tr.planted
        if tr.box_low:
            self._low(tr, s, frame, t)
        if s.unsure_low:
            self._confirm_unsure(tr, s, stand_h)

    def _planted(self, s: Stop, xyxy, stand_h: float) -> bool:
        """The box bottom is still where the person last stood upright in this stop (within `planted_h` heights)."""
        plant_y = s.foot[1] if s.plant_y is None else s.plant_y
        return abs(xyxy[3] - plant_y) <= self.cfg.signals.planted_h * max(stand_h, 1.0)

    def _low(self, tr: TrackState, s: Stop, frame: int, t: float) -> None:
        s.crouch_frames += 1
        s.low_s = s.dwell
        s.hand_at(t)
        if s.crouch_frames == self.cfg.signals.pose_frames:
            s.key["crouch"] = (frame, t)

    def _pose_evidence(self, tr: TrackState, xyxy, p: Posture, frame: int, t: float) -> None:
        sc = self.cfg.signals
        s = self._active_stop(tr, t)
        if s is None:
            return
        stand_h = tr.stand_h()
        margin = sc.reach_margin_h * stand_h
        at_spot = any(s.zone.distance(x, y) <= margin for x, y in p.wrists)
        if s.closed:
            if p.phone_pose:
                self._phone(s, frame, t, low=False)
            return
        s.posed_frames += 1
        if p.knee_deg is not None:
            s.knee_min = p.knee_deg if s.knee_min is None else min(s.knee_min, p.knee_deg)
        if p.torso_deg is not None:
            s.torso_max = p.torso_deg if s.torso_max is None else max(s.torso_max, p.torso_deg)
        # Hips on the bench itself = sitting on it, which is not a drop.
        if s.zone.kind == "bench" and p.hips is not None and s.zone.distance(*p.hips) <= 0.05 * stand_h:
            s.sitting = True
        ratio = (xyxy[3] - xyxy[1]) / max(stand_h, 1.0)
        # Keypoints of small people are noisy: a low pose counts only when the box got lower too, or when
        # the box cannot show it because the frame's top edge cuts the head off (it is as tall standing).
        low_keypoints = (p.knee_deg is not None and p.knee_deg < sc.crouch_knee_deg) or (
            p.torso_deg is not None and p.torso_deg > sc.bend_torso_deg
        )
        box_says = ratio < sc.confirm_box_ratio or xyxy[1] <= TOP_EDGE_PX
        low = (low_keypoints and box_says and tr.planted) or (
            # Bending over to a spot at hand height leaves the box as tall (or taller): a clearly inclined
            # torso counts on its own.
            p.torso_deg is not None and p.torso_deg > sc.strong_bend_torso_deg and tr.planted
        )
        upright = (
            p.knee_deg is not None and p.knee_deg >= 160 and p.torso_deg is not None and p.torso_deg <= 20
        )
        if tr.box_low and upright and s.crouch_frames > 0:
            s.crouch_frames -= 1  # a shorter box of a person standing upright: occlusion, not a crouch
        elif low and not tr.box_low:  # box evidence already counted this frame
            self._low(tr, s, frame, t)
        if low:
            s.pose_low_frames += 1
        # Reaching in happens while crouched or bent over; a hand near the spot while walking upright is not.
        # Leaning towards a spot at hand height shows in the torso and knees, not in the box height.
        leaning = tr.planted and p.torso_deg is not None and p.torso_deg > sc.reach_torso_deg
        reaching = (low or leaning or (tr.box_low and not upright)) and at_spot
        if p.phone_pose:
            # Arms held out towards the spot with a phone (someone photographing a shop front) are a reach and
            # a phone in the same frames: the photo of a hiding place comes after the hand has left it.
            self._phone(s, frame, t, low=low or tr.box_low or reaching)
        self._head(s, p.head)
        if reaching:
            self._reach(s, frame, t)
        elif low_keypoints and tr.planted and not low and len(s.unsure_low) < UNSURE_MAX:
            s.unsure_low.append((frame, t, xyxy[3] - xyxy[1], at_spot))

    def _reach(self, s: Stop, frame: int, t: float) -> None:
        s.reach_frames += 1
        s.hand_at(t)
        if s.reach_frames == self.cfg.signals.pose_frames:
            s.key["reach"] = (frame, t)

    def _confirm_unsure(self, tr: TrackState, s: Stop, stand_h: float) -> None:
        """Low keypoints the box could not confirm when they were seen (no standing height yet) count once the
        person stood up taller than those boxes: the crouch, and the reach where a wrist was at the spot."""
        keep = []
        for frame, t, h, at_spot in s.unsure_low:
            if h / max(stand_h, 1.0) < self.cfg.signals.confirm_box_ratio:
                self._low(tr, s, frame, t)
                s.pose_low_frames += 1
                if at_spot:
                    self._reach(s, frame, t)
            else:
                keep.append((frame, t, h, at_spot))
        s.unsure_low = keep

    def _phone(self, s: Stop, frame: int, t: float, low: bool) -> None:
        """A raised phone at this frame (`low`: the person is crouched or bent over now)."""
        s.phone_frames += 1
        if s.phone_frames == self.cfg.signals.phone_frames:
            s.key["phone"] = (frame, t)
        hand = s.key.get("reach") or s.key.get("crouch")
        if hand is not None and t > hand[1] and not low:
            s.photo_frames += 1
            if s.photo_frames == self.cfg.signals.phone_frames:
                s.key["photo"] = (frame, t)

    def _head(self, s: Stop, head: str | None) -> None:
        """Counts head turns: a direction counts once held for two posed frames in a row (one odd frame is
        keypoint noise), a turn is a held direction other than the one held before."""
        if head is None:
            return
        s.head_run = s.head_run + 1 if head == s.head_last else 1
        s.head_last = head
        if s.head_run == 2:
            if s.head_held is not None and s.head_held != head:
                s.head_turns += 1
            s.head_held = head

    def _phone_evidence(self, tr: TrackState, xyxy, phones: np.ndarray | None, frame: int, t: float) -> None:
        if phones is None or len(phones) == 0:
            return
        s = self._active_stop(tr, t)
        if s is None:
            return
        x1, y1, x2, y2 = xyxy
        h = y2 - y1
        cx, cy = (phones[:, 0] + phones[:, 2]) / 2, (phones[:, 1] + phones[:, 3]) / 2
        # A phone held up: its centre within the box (slightly widened) and in the upper 60 % of it.
        hit = (cx > x1 - 0.15 * h) & (cx < x2 + 0.15 * h) & (cy > y1 - 0.1 * h) & (cy < y1 + 0.6 * h)
        if hit.any():
            self._phone(s, frame, t, low=tr.box_low and not s.closed)

    def _close(self, tr: TrackState, wall: float) -> None:
        s = tr.stop
        if s is None or s.closed:
            return
        s.closed = True
        if s.spot is not None:
            self._spot_wait.append((tr, s))
            del self._spot_wait[:-200]  # bounded: a crowd of stops closing at once keeps the newest
        tr.stops.append(s)
        del tr.stops[:-20]
        if s.dwell >= self.cfg.signals.min_stop_s:
            end_wall = wall - (tr.last_t - s.last)
            self.route.add(
                StopRecord(
                    self.camera, s.zone.id, (self.camera, tr.track_id), end_wall - s.dwell, end_wall, tr.hist
                )
            )

    # ------------------------------------------------------------------ score

    def assess(self, tr: TrackState, t: float, wall: float) -> Assessment | None:
        s = self._active_stop(tr, t)
        sc, w = self.cfg.signals, self.cfg.weights
        if s is None or s.dwell < sc.min_dwell_s:
            return None
        sitting = s.sitting or s.low_s > sc.sitting_s
        crouched = s.crouch_frames >= sc.pose_frames and not sitting
        # A lower box alone is also what a person half hidden behind a post looks like; knees or torso that
        # say low too make it a crouch or a bend.
        pose_confirmed = s.pose_low_frames >= sc.pose_frames
        reached = s.reach_frames >= sc.pose_frames and not sitting
        phone = s.phone_frames >= sc.phone_frames
        photo = s.photo_frames >= sc.phone_frames and (reached or crouched)
        # A lower box alone is also a person half hidden behind something: the stay after the hand needs the
        # hand seen in the keypoints (a reach, or knees or torso that said low).
        hand = reached or (crouched and pose_confirmed)
        after_hand = s.last - s.hand_t if hand and s.hand_t is not None else None
        stop_start_wall = wall - (t - s.start)
        others = self.route.same_person(
            (self.camera, tr.track_id), tr.hist, stop_start_wall, sc.appearance_match, sc.route_window_s
        )
        prior = [
            r
            for r in others
            if r.end <= stop_start_wall + 1e-6 and not (r.camera == self.camera and r.zone == s.zone.id)
        ]
        n_stops = 1 + len({(r.camera, r.zone) for r in prior})
        back = [
            r
            for r in others
            if r.camera == self.camera and r.zone == s.zone.id and stop_start_wall - r.end >= sc.revisit_gap_s
        ]
        night = is_night(wall, sc.night_start_hour, sc.night_end_hour, sc.timezone)
        span = max(sc.full_dwell_s - sc.min_dwell_s, 1e-6)
        strengths = {
            "dwell": 0.5 + 0.5 * min(1.0, (s.dwell - sc.min_dwell_s) / span),
            "crouch": 1.0 if crouched else 0.0,
            "crouch_pose": 1.0 if crouched and pose_confirmed else 0.0,
            "reach": 1.0 if reached else 0.0,
            "phone": 1.0 if phone else 0.0,
            "photo": min(1.0, s.photo_frames / sc.photo_full_frames) if photo else 0.0,
            "stay": 1.0 if after_hand is not None and after_hand >= sc.stay_after_s else 0.0,
            "stops": min(1.0, (n_stops - 1) / 2.0),
            "revisit": 1.0 if back else 0.0,
            "night": 1.0 if night else 0.0,
            "look": 1.0 if s.head_turns >= sc.look_turns else 0.0,
        }
        score = sum(getattr(w, k) * v for k, v in strengths.items())
        # Innocent patterns (watch/innocent.py) lower the score with their own reasons.
        same_spot = [r for r in others if r.camera == self.camera and r.zone == s.zone.id]
        cue = cues(
            self.cfg.innocent, s.dwell, s.closed, s.left, phone, prior, stop_start_wall + s.dwell,
            reached=reached, same_spot=same_spot,
        )  # fmt: skip
        score -= cue.penalty(self.cfg.innocent)
        strengths.update({"door": -cue.door, "round": -cue.round, "brief": -cue.brief, "linger": -cue.linger})
        # The spot looks different after the person left (known once it was seen clear again).
        change = s.spot.change if s.spot is not None else None
        share = change.share if change is not None else None
        strengths["spot_change"] = 1.0 if share is not None and share >= self.cfg.spot.change_share else 0.0
        score += self.cfg.spot.w_change * strengths["spot_change"]
        first = min((r.start for r in prior), default=stop_start_wall)
        signals = {
            "dwell_s": round(s.dwell, 1),
            "crouch_frames": s.crouch_frames,
            "crouch_pose_frames": s.pose_low_frames,
            "box_ratio_min": None if s.box_ratio_min is None else round(s.box_ratio_min, 2),
            "knee_min_deg": None if s.knee_min is None else round(s.knee_min, 1),
            "torso_max_deg": None if s.torso_max is None else round(s.torso_max, 1),
            "reach_frames": s.reach_frames,
            "posed_frames": s.posed_frames,
            "phone_frames": s.phone_frames,
            "photo_frames": s.photo_frames,
            "sitting": sitting,
            "stops_in_window": n_stops,
            "route_span_s": round(stop_start_wall - first, 1),
            "revisit_gap_s": round(stop_start_wall - max(r.end for r in back), 1) if back else None,
            "local_hour": round(local_hour(wall, sc.timezone), 2),
            "left": s.left,
            "round_stops": cue.round_stops,
            "stay_s": cue.stay_s,
            "gone_move_h": None if s.gone_move_h is None else round(s.gone_move_h, 2),
            "gone_speed_h_s": None if s.gone_speed_h_s is None else round(s.gone_speed_h_s, 2),
            "head_turns": s.head_turns,
            "after_hand_s": None if after_hand is None else round(after_hand, 1),
            "spot_change_share": share,
            "spot_compare": None if change is None else change.why,
        }
        reasons, explanation = explain(s, signals, strengths)
        if strengths["look"] and w.look:
            reasons.append(f"looked around ({s.head_turns} head turns)")
        if strengths["spot_change"] and self.cfg.spot.w_change:
            reasons.append(
                f"the spot looks different after they left ({100 * (share or 0):.0f} % of it changed)"
            )
        reasons += cue.reasons(self.cfg.innocent)
        final = s.closed or s.dwell >= self.cfg.innocent.hold_max_s
        return Assessment(
            tr.track_id, s.zone, round(score, 3), signals, strengths, reasons, explanation, s, final
        )
