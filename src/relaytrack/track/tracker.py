"""Two-stage online tracker in the ByteTrack family, with observation-centric recovery of lost tracks.

Per frame: predict every track; match confident detections to tracked and lost tracks (IoU fused with score,
and for lost tracks also IoU against their last observed box grown by the time lost, which recovers people
after occlusions where the Kalman prediction drifted); then match leftover low-score detections to tracks
still unmatched; then confirm or start tracks. A track lost longer than `max_lost_s` is finished and handed
back as a Tracklet. Track ids count per tracker instance; all collections are bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from relaytrack.config import TrackConfig
from relaytrack.records import COCO_CLASSES, NEW, RECOVERED, TRACKED, Detections, TrackBox, Tracklet, Tracks
from relaytrack.track import look as looks_mod
from relaytrack.track.direction import edges_and_heading
from relaytrack.track.kalman import Kalman

MAX_BOXES = 5000  # a tracklet longer than this (a parked car) is closed and continued as a new one


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def assign(cost: np.ndarray, max_cost: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Minimum-cost matching; pairs above max_cost are left unmatched."""
    if cost.size == 0:
        return [], list(range(cost.shape[0])), list(range(cost.shape[1]))
    import lap

    _, x, y = lap.lapjv(cost, extend_cost=True, cost_limit=max_cost)
    pairs = [(i, int(j)) for i, j in enumerate(x) if j >= 0]
    return pairs, [i for i, j in enumerate(x) if j < 0], [j for j, i in enumerate(y) if i < 0]


FEAT_MOMENTUM = 0.9  # a track's look follows slow changes (turning, light) but not one odd box
# Colour looks are coarser and change more as a walker turns: the gate (`track.look_gate`) was measured
# against a running look at 0.8 (tuning towns 7/11/13 and MOT15: 99.85 % of one person's next looks within 0.35).
LOOK_MOMENTUM = 0.8


def _blend(old: np.ndarray | None, new: np.ndarray, momentum: float = FEAT_MOMENTUM) -> np.ndarray:
    f = new.astype(np.float64) if old is None else momentum * old + (1.0 - momentum) * new
    return f / max(float(np.linalg.norm(f)), 1e-9)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


FEAT_MEAN_BOXES = 2000  # the camera's mean look is a mean over its last ~2000 confident boxes


@dataclass
class _TracksBuilder:
    """Rows of one frame's output, gathered while matching and turned into one validated `Tracks`."""

    ids: list[int] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    states: list[int] = field(default_factory=list)

    def add(self, track_id: int, class_id: int, xyxy: np.ndarray, conf: float, state: int) -> None:
        self.ids.append(track_id)
        self.classes.append(class_id)
        self.boxes.append(xyxy)
        self.scores.append(conf)
        self.states.append(state)

    def build(self) -> Tracks:
        if not self.ids:
            return Tracks.empty()
        return Tracks(np.array(self.ids), np.array(self.classes), np.stack(self.boxes), np.array(self.scores),
                      np.array(self.states))  # fmt: skip


@dataclass
class _Track:
    id: int
    class_id: int
    kf: Kalman
    boxes: list[TrackBox] = field(default_factory=list)
    hits: int = 1
    confirmed: bool = False
    last_t: float = 0.0
    last_box: np.ndarray | None = None
    lost_since: float | None = None
    feat: np.ndarray | None = None  # running mean of its confident boxes' appearance (unit length)
    look: np.ndarray | None = None  # running mean of its confident boxes' colour looks (`track.look`)
    looks: int = 0  # confident boxes with a look seen so far
    look_height: float = 0.0  # px: its last box not cut by the frame's edge


class Tracker:
    """`update(dets, frame_index, t)` -> `Tracks` of confirmed, currently matched tracks;
    `pop_finished()` -> tracklets that ended; `flush()` at the end of a source."""

    def __init__(
        self,
        cfg: TrackConfig | None = None,
        frame_size: tuple[int, int] = (1920, 1080),
        camera: str = "",
        classes: tuple[str, ...] | None = None,
    ) -> None:
        self.cfg = cfg or TrackConfig()
        self.frame_size = frame_size
        self.camera = camera
        self.class_ids = None if classes is None else {COCO_CLASSES.index(c) for c in classes}
        self.reset()

    def reset(self) -> None:
        self._next_id = 1
        self._tracks: list[_Track] = []
        self._finished: list[Tracklet] = []
        self._splits: list[tuple[int, int, int]] = []
        self._t: float | None = None
        self._dt = 0.0  # interval since the previous analysed frame
        self._feat_mean: np.ndarray | None = None
        self._feat_count = 0

    # -- association -------------------------------------------------------------------------------
    def _cost(
        self,
        tracks: list[_Track],
        xyxy: np.ndarray,
        conf: np.ndarray,
        cls: np.ndarray,
        t: float,
        feats: np.ndarray | None = None,
        looks: np.ndarray | None = None,
    ) -> np.ndarray:
        if not tracks or len(xyxy) == 0:
            return np.ones((len(tracks), len(xyxy)))
        pred = np.array([tr.kf.box for tr in tracks])
        iou = iou_matrix(pred, xyxy)
        for k, tr in enumerate(tracks):
            if tr.lost_since is not None and tr.last_box is not None:
                # Grow the last observed box with the time lost: a person who stood behind a pillar
                # reappears near where they were last seen, not where constant velocity put them.
                gap = t - tr.lost_since
                b = tr.last_box
                bw, bh = b[2] - b[0], b[3] - b[1]
                g = min(1.0, 0.25 * gap)
                grown = np.array([b[0] - g * bw, b[1] - g * bh * 0.25, b[2] + g * bw, b[3] + g * bh * 0.25])
                iou[k] = np.maximum(iou[k], 0.9 * iou_matrix(grown[None], xyxy)[0])
        if self._dt >= self.cfg.low_rate_s:
            iou = np.maximum(iou, self._reach(tracks, pred, xyxy, t))
        cost = 1.0 - iou * conf[None, :] ** 0.5
        if feats is not None and self.cfg.appearance:
            cost = self._with_appearance(cost, tracks, feats)
        if looks is not None:
            self._veto_looks(cost, tracks, looks, xyxy[:, 3] - xyxy[:, 1])
        track_cls = np.array([tr.class_id for tr in tracks])
        cost[track_cls[:, None] != cls[None, :]] = 1.0
        return cost

    def _reach(self, tracks: list[_Track], pred: np.ndarray, xyxy: np.ndarray, t: float) -> np.ndarray:
        """An IoU stand-in for low analysed rates: 1 at the predicted box's centre, falling linearly to 0 at
        the distance the person could have covered since last seen (`max_speed` box heights per second plus
        a fifth of a height of jitter), for a box of similar height (ratio >= 0.6); scaled by 0.9 so that
        a real overlap wins a tie. At 5 fps and above it is never used (`low_rate_s`)."""
        pc = (pred[:, :2] + pred[:, 2:]) / 2
        dc = (xyxy[:, :2] + xyxy[:, 2:]) / 2
        ph = np.maximum(pred[:, 3] - pred[:, 1], 1.0)
        dh = np.maximum(xyxy[:, 3] - xyxy[:, 1], 1.0)
        gap = np.array([t - tr.last_t for tr in tracks])  # >= the frame interval: last seen at or before it
        radius = ph * (0.2 + self.cfg.max_speed * gap)
        dist = np.linalg.norm(pc[:, None, :] - dc[None, :, :], axis=2)
        near = np.clip(1.0 - dist / radius[:, None], 0.0, 1.0)
        ratio = np.minimum(ph[:, None], dh[None, :]) / np.maximum(ph[:, None], dh[None, :])
        return 0.9 * near * (ratio >= 0.6)

    def _with_appearance(self, cost: np.ndarray, tracks: list[_Track], feats: np.ndarray) -> np.ndarray:
        """Blend in the appearance distance (1 - cosine) of tracks that have an appearance, and veto pairs
        that look too different: where two people cross, IoU alone cannot tell them apart. Appearance never
        makes a pair without overlap matchable (its motion cost stays at 1)."""
        have = [k for k, tr in enumerate(tracks) if tr.feat is not None]
        if not have or len(feats) == 0:
            return cost
        # Raw embeddings of different people are all alike (cosine distance ~0.1, same person ~0.02): what
        # tells them apart is the deviation from what this camera usually sees, so both sides are compared
        # after subtracting the camera's running mean of confident boxes.
        mu = self._feat_mean if self._feat_mean is not None else 0.0
        tf = _unit(np.stack([tracks[k].feat for k in have]) - mu)
        dist = 1.0 - tf @ _unit(feats - mu).T
        w = self.cfg.appearance_weight
        sub = cost[have]
        blended = (1.0 - w) * sub + w * dist
        blended[dist > self.cfg.appearance_gate] = 1.0
        blended[sub >= 1.0] = 1.0
        cost = cost.copy()
        cost[have] = blended
        return cost

    def _uses_looks(self, t: float) -> bool:
        """Whether boxes' looks count in the frame at `t`: the veto is on and the frame is under `low_rate_s`
        after the previous one. The look gate was measured between frames 0.2 s apart; at low analysed rates a
        look changes more between frames (turning, light) and the gate is unmeasured: on bench lowrate it cost
        2 fps IDF1 74.8 -> 68.6 (and gave 1 fps 56.7 -> 59.9), so it neither vetoes nor learns there."""
        return self.cfg.look_gate > 0 and (self._t is None or t - self._t < self.cfg.low_rate_s)

    def looks_for(self, image: np.ndarray, dets: Detections, t: float) -> np.ndarray | None:
        """The colour looks `update` wants with the frame at `t` (`look.person_looks`), or None where it
        would not use them: callers never compute looks that are thrown away (a 1 fps index)."""
        return looks_mod.person_looks(image, dets) if self._uses_looks(t) else None

    def _veto_looks(
        self, cost: np.ndarray, tracks: list[_Track], looks: np.ndarray, heights: np.ndarray
    ) -> None:
        """No box for a track whose look it does not share (`look_gate`): where one person leaves the picture
        where another enters, or two cross, the overlap says "same" and the colours say otherwise. Only
        tracks that have seen `look_min_boxes` confident looks veto (one box's look can be half occluded)."""
        for k, tr in enumerate(tracks):
            if tr.look is not None and tr.looks >= self.cfg.look_min_boxes:
                far = looks_mod.distance(tr.look, looks) > self.cfg.look_gate
                cost[k, far & looks_mod.telling(looks, heights, tr.look_height)] = 1.0

    @staticmethod
    def _learn_look(tr: _Track, look: np.ndarray, height: float) -> None:
        """A confident box teaches the track its look, unless it shows too little of the body to tell."""
        if not look.any() or not looks_mod.telling(look[None], np.array([height]), tr.look_height)[0]:
            return
        tr.look = looks_mod.blend(tr.look, look, LOOK_MOMENTUM)
        tr.looks += 1
        if not look[looks_mod.CUT]:
            tr.look_height = float(height)

    def _learn_mean(self, feats: np.ndarray) -> None:
        n = len(feats)
        if self._feat_mean is None:
            self._feat_mean = feats.mean(axis=0).astype(np.float64)
        else:
            rate = n / min(self._feat_count + n, FEAT_MEAN_BOXES)
            self._feat_mean += rate * (feats.mean(axis=0) - self._feat_mean)
        self._feat_count += n

    def update(
        self,
        dets: Detections,
        frame_index: int,
        t: float,
        feats: np.ndarray | None = None,
        looks: np.ndarray | None = None,
    ) -> Tracks:
        """Feed one analysed frame; returns the confirmed tracks matched in it, in matching order.

        This return value is the tracker's online output: what it reports at frame t knowing only frames
        <= t (a track's boxes before it is confirmed are never in it). `feats` (N, D), L2-normalised
        appearance embeddings aligned with `dets`, are used when `appearance` is on; `looks` (N, look.DIM),
        the boxes' colour looks (`track.look.box_looks`), veto matches when `look_gate` is above 0."""
        cfg = self.cfg
        if feats is not None and (len(feats) != len(dets) or not cfg.appearance):
            feats = None
        if looks is not None and (len(looks) != len(dets) or not self._uses_looks(t)):
            looks = None
        if self.class_ids is not None:
            keep = np.isin(dets.class_id, list(self.class_ids))
            dets = dets.select(keep)
            feats = None if feats is None else feats[keep]
            looks = None if looks is None else looks[keep]
        dt = 0.0 if self._t is None else t - self._t
        self._t, self._dt = t, dt
        # A track lost longer than max_lost_s ends before this frame is matched, not after: with motion gating
        # a quiet scene skips frames for many seconds, and the next person in view is somebody else.
        expired = [tr for tr in self._tracks if self._lost_too_long(tr, t)]
        for tr in expired:
            self._finish(tr)
        self._tracks = [tr for tr in self._tracks if tr not in expired]
        for tr in self._tracks:
            tr.kf.predict(dt)

        high = dets.confidence >= cfg.high_conf
        low = ~high
        if feats is not None and high.any():
            self._learn_mean(feats[high])
        hi_idx, lo_idx = np.nonzero(high)[0], np.nonzero(low)[0]

        active = [tr for tr in self._tracks if tr.confirmed]
        tentative = [tr for tr in self._tracks if not tr.confirmed]
        out = _TracksBuilder()
        matched_tracks: set[int] = set()

        def take(tr: _Track, di: int) -> None:
            box = dets.xyxy[di].astype(np.float64)
            conf = float(dets.confidence[di])
            # Read before the update below clears them: they tell a continued track from a recovered one.
            was_confirmed, was_lost = tr.confirmed, tr.lost_since is not None
            tr.kf.update(box, conf)
            tr.hits += 1
            tr.last_t = t
            tr.last_box = box
            tr.lost_since = None
            tr.boxes.append(TrackBox(frame_index, t, tuple(float(v) for v in box), conf))
            k = self._edge_reversal(tr)
            if k is not None:
                self._split(tr, k)
                was_confirmed = False  # reported as a new person from here
            if feats is not None and conf >= cfg.high_conf:
                # Only confident boxes teach the track its look: low-score ones are mostly half hidden.
                tr.feat = _blend(tr.feat, feats[di])
            if looks is not None and conf >= cfg.high_conf:
                self._learn_look(tr, looks[di], box[3] - box[1])
            matched_tracks.add(tr.id)
            if tr.hits >= cfg.min_hits:
                tr.confirmed = True
            if tr.confirmed:
                state = TRACKED if was_confirmed and not was_lost else RECOVERED if was_confirmed else NEW
                out.add(tr.id, tr.class_id, box, conf, state)

        # Stage 1: confident detections against tracked and lost tracks.
        fe = (lambda idx: None) if feats is None else (lambda idx: feats[idx])
        lk = (lambda idx: None) if looks is None else (lambda idx: looks[idx])
        cost = self._cost(
            active,
            dets.xyxy[hi_idx],
            dets.confidence[hi_idx],
            dets.class_id[hi_idx],
            t,
            fe(hi_idx),
            lk(hi_idx),
        )
        pairs, um_tracks, um_hi = assign(cost, 1.0 - cfg.match_iou)
        for ti, dj in pairs:
            take(active[ti], int(hi_idx[dj]))
        # Stage 2: low-score detections rescue tracks that were being followed until now (not lost ones).
        rest = [active[i] for i in um_tracks if active[i].lost_since is None]
        cost = self._cost(
            rest,
            dets.xyxy[lo_idx],
            np.ones(len(lo_idx)),
            dets.class_id[lo_idx],
            t,
            fe(lo_idx) if cfg.appearance_low else None,
            lk(lo_idx),
        )
        pairs, _, _ = assign(cost, 1.0 - cfg.second_iou)
        for ti, dj in pairs:
            take(rest[ti], int(lo_idx[dj]))
        # Stage 3: tentative tracks take leftover confident detections.
        left_hi = hi_idx[um_hi]
        cost = self._cost(
            tentative,
            dets.xyxy[left_hi],
            dets.confidence[left_hi],
            dets.class_id[left_hi],
            t,
            fe(left_hi),
            lk(left_hi),
        )
        pairs, um_tent, um_new = assign(cost, 0.7)
        for ti, dj in pairs:
            take(tentative[ti], int(left_hi[dj]))
        dead_tentative = {tentative[i].id for i in um_tent}
        # New tracks from confident detections nobody claimed.
        taken = np.array([tr.last_box for tr in self._tracks if tr.id in matched_tracks]).reshape(-1, 4)
        for dj in um_new:
            di = int(left_hi[dj])
            if dets.confidence[di] < cfg.new_track_conf:
                continue
            box = dets.xyxy[di].astype(np.float64)
            if (
                cfg.birth_overlap < 1.0
                and len(taken)
                and iou_matrix(box[None], taken).max() > cfg.birth_overlap
            ):
                continue  # a second box on someone already followed (a tile seam, a split body): no new person
            tr = _Track(
                self._next_id,
                int(dets.class_id[di]),
                Kalman(box),
                last_t=t,
                last_box=box,
                feat=None if feats is None else _blend(None, feats[di]),
            )
            if looks is not None:
                self._learn_look(tr, looks[di], box[3] - box[1])
            tr.boxes.append(
                TrackBox(frame_index, t, tuple(float(v) for v in box), float(dets.confidence[di]))
            )
            if cfg.min_hits <= 1:
                tr.confirmed = True
                out.add(tr.id, tr.class_id, box, float(dets.confidence[di]), NEW)
            self._next_id += 1
            self._tracks.append(tr)
            matched_tracks.add(tr.id)

        # Lifecycle: unmatched confirmed tracks become lost; lost too long are finished.
        keep: list[_Track] = []
        for tr in self._tracks:
            if tr.id in dead_tentative:
                continue
            if tr.id not in matched_tracks and tr.lost_since is None:
                tr.lost_since = tr.last_t
            if self._lost_too_long(tr, t):
                self._finish(tr)
                continue
            if len(tr.boxes) >= MAX_BOXES:
                self._finish(tr)
                continue
            keep.append(tr)
        self._tracks = keep
        return out.build()

    def _edge_reversal(self, tr: _Track) -> int | None:
        """Index of the box after which `tr` is somebody else, by the signature of one person leaving at the
        top or bottom edge of the picture where another enters: within `edge_reversal_s`, the box cut by that
        edge shrinks step by step to a minimum and grows back, by `edge_reversal` of the minimum each way (a
        walker's height does not change while they stay in view; a detector's single odd box is not a step).
        Where the two look alike, the colour-look veto cannot tell them apart; this can. None: no reversal."""
        r = self.cfg.edge_reversal
        boxes = tr.boxes
        if r <= 0 or len(boxes) < 4:
            return None
        h_img = self.frame_size[1]

        def edge(b: TrackBox) -> int:  # -1 top, 1 bottom, 0 neither
            return (
                -1 if b.xyxy[1] <= looks_mod.EDGE_PX else 1 if b.xyxy[3] >= h_img - looks_mod.EDGE_PX else 0
            )

        last = boxes[-1]
        side = edge(last)
        if side == 0:
            return None
        first = len(boxes) - 1
        while first > 0 and last.t - boxes[first - 1].t <= self.cfg.edge_reversal_s:
            first -= 1
        window = boxes[first:]  # only the window: a car parked at the edge keeps thousands of boxes
        hs = [b.xyxy[3] - b.xyxy[1] for b in window]
        inner = [i for i in range(1, len(window) - 1) if edge(window[i]) == side]
        if not inner:
            return None
        k = min(inner, key=lambda i: hs[i])
        low = (1.0 + r) * hs[k]
        if max(hs[:k]) >= low and hs[-1] >= low and hs[k - 1] < low and hs[k + 1] < low:
            return first + k
        return None

    def _split(self, tr: _Track, k: int) -> None:
        """Finish `tr`'s boxes up to k as the person who left; the rest go on under a new id, with no look
        yet (theirs is another person's). `pop_splits` tells whoever keeps per-track state (the crop bank)."""
        if k + 1 >= self._min_len():
            self._finish(_Track(tr.id, tr.class_id, tr.kf, boxes=tr.boxes[: k + 1], confirmed=True))
        old = tr.id
        tr.id, self._next_id = self._next_id, self._next_id + 1
        tr.boxes = tr.boxes[k + 1 :]
        tr.hits = len(tr.boxes)
        tr.look, tr.looks, tr.look_height, tr.feat = None, 0, 0.0, None
        # A tracker restored from a checkpoint written before splits existed has no list yet.
        self.__dict__.setdefault("_splits", []).append((old, tr.id, tr.boxes[0].frame))

    def pop_splits(self) -> list[tuple[int, int, int]]:
        """(old track id, new track id, first frame of the new one) of the tracks split since the last call."""
        done, self._splits = self.__dict__.get("_splits", []), []
        return done

    def _lost_too_long(self, tr: _Track, t: float) -> bool:
        return tr.lost_since is not None and t - tr.lost_since > self.cfg.max_lost_s

    def _min_len(self) -> int:
        """Boxes a tracklet needs: `min_len` is counted at the full rate; at a low analysed rate that many
        boxes would take seconds, and a person crossing a corner leaves two (`low_rate_min_len`)."""
        if self._dt >= self.cfg.low_rate_s:
            return min(self.cfg.min_len, self.cfg.low_rate_min_len)
        return self.cfg.min_len

    def _finish(self, tr: _Track) -> None:
        if not tr.confirmed or len(tr.boxes) < self._min_len():
            return
        w, h = self.frame_size
        entry, exit_, heading, speed = edges_and_heading(
            [b.xyxy for b in tr.boxes], [b.t for b in tr.boxes], w, h, self.cfg.edge_margin
        )
        self._finished.append(
            Tracklet(
                track_id=tr.id,
                camera=self.camera,
                class_name=COCO_CLASSES[tr.class_id],
                boxes=tr.boxes,
                entry_edge=entry,
                exit_edge=exit_,
                heading_deg=heading,
                speed_px_s=speed,
            )
        )

    def pop_finished(self) -> list[Tracklet]:
        done, self._finished = self._finished, []
        return done

    def flush(self) -> list[Tracklet]:
        """End of source: finish every live track."""
        for tr in self._tracks:
            self._finish(tr)
        self._tracks = []
        return self.pop_finished()

    def live_tracklets(self, min_boxes: int = 1) -> list[Tracklet]:
        """Confirmed tracks still in view as provisional tracklets (entry edge and heading so far; the exit
        edge is what the track's last boxes touch): live pursuit scores an arrival before it leaves."""
        w, h = self.frame_size
        out = []
        for tr in self._tracks:
            if not tr.confirmed or len(tr.boxes) < min_boxes:
                continue
            entry, exit_, heading, speed = edges_and_heading(
                [b.xyxy for b in tr.boxes], [b.t for b in tr.boxes], w, h, self.cfg.edge_margin
            )
            out.append(Tracklet(track_id=tr.id, camera=self.camera, class_name=COCO_CLASSES[tr.class_id],
                                boxes=list(tr.boxes), entry_edge=entry, exit_edge=exit_, heading_deg=heading,
                                speed_px_s=speed))  # fmt: skip
        return out

    @property
    def live(self) -> int:
        return len(self._tracks)

    def live_ids(self) -> list[int]:
        return [tr.id for tr in self._tracks]

    def active_ids(self) -> list[int]:
        return [tr.id for tr in self._tracks if tr.confirmed]

    def oldest_live_frame(self) -> int | None:
        frames = [tr.boxes[0].frame for tr in self._tracks if tr.boxes]
        return min(frames) if frames else None
