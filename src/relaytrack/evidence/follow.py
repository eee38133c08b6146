"""Following the target through the exported frames where its sighting has no stored box.

An exported clip runs from before the sighting's first stored box (the pre-roll) to after its last (the
post-roll), and the sighting itself may end while the person is still in view (the tracker lost them, a
window ends). There the export used to know no target box and masked everybody, the target too (issue 18
finding 7). The export's own detection pass sees every frame, so from the nearest stored box the target is
followed frame by frame, forwards after the last box and backwards before the first: the person box that
overlaps the previous target box best, when it overlaps enough and still looks like the target (colour
histogram of the boxes the sighting stored); when another person box overlaps nearly as much, only the one
that looks clearly more like the target. Never on from a last stored box that no longer looks like the
target. When no box is taken for more than `coast` frames (and at once before any was) the target is lost.

Lost, it is re-acquired only through the pipeline's own tracks (`relink_gap_s`, 0: never): the tracker
fragments a person at an occlusion, so a new track that starts where the target was heading, within the gap,
at the target's size and looking like it (clearly more than any other candidate) takes it on, and the export
follows along that track while it keeps looking like the target. A track ever seen in a frame beside the
target's box (stored or followed) is another person and never taken, not even when its box passes over the
target's (a crossing, where trackers swap identities), nor is anything at the picture's edge, where the target
may have left and whoever comes in is new. Otherwise those frames are masked whole, since a wrong pick would
leave a bystander unmasked.

Every followed frame is recorded as `followed` in frames.json (beside `analysed`, `interpolated`, `unknown`),
so a reader of the package can tell boxes the pipeline stored from boxes the export inferred.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from relaytrack.evidence.mask import Box, FollowSettings, Masker, TrackBoxes, iou
from relaytrack.records import Detections

FOLLOWED = "followed"


def _hist(img: np.ndarray, box: Box) -> np.ndarray | None:
    """Hue-saturation histogram of the box's core (a fifth trimmed off each side: background and neighbours
    sit at the edges), L1-normalised; None for a box too small to say anything."""
    h, w = img.shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    x1, x2 = int(max(0, box[0] + 0.2 * bw)), int(min(w, box[2] - 0.2 * bw))
    y1, y2 = int(max(0, box[1] + 0.1 * bh)), int(min(h, box[3] - 0.2 * bh))
    if x2 - x1 < 3 or y2 - y1 < 6:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(img[y1:y2, x1:x2]), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).astype(np.float32)
    s = float(hist.sum())
    return hist / s if s > 0 else None


def similarity(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    return float(cv2.compareHist(a, b, cv2.HISTCMP_CORREL))


@dataclass
class Follower:
    """The target's look (mean histogram of its stored boxes seen so far) and one direction's walk."""

    settings: FollowSettings = field(default_factory=FollowSettings)
    look: np.ndarray | None = None  # mean histogram of the stored boxes
    _n: int = 0
    _latest: np.ndarray | None = None  # the histogram of the latest stored box
    _good: tuple[int, Box] | None = None  # the latest stored box that looked like the target, with its frame
    # Tracks seen beside the target's stored boxes (not on them): other people, never its continuation.
    beside: set[int] = field(default_factory=set)
    # Frame and centre of the last stored boxes: the target's motion where the walk starts.
    _recent: list[tuple[int, float, float]] = field(default_factory=list)
    gap: int = 0  # settings.relink_gap_s in frames of the footage

    def learn(self, img: np.ndarray, box: Box, frame: int | None = None) -> None:
        """Add a stored (analysed) box of the target to its look."""
        hist = _hist(img, box)
        if hist is None:
            return
        self._n += 1
        self.look = hist if self.look is None else self.look + (hist - self.look) / min(self._n, 20)
        self._latest = hist
        if frame is not None:
            self._recent = [*self._recent[-9:], (frame, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2)]
        sim = similarity(hist, self.look)
        if frame is not None and (sim is None or sim >= self.settings.min_similarity):
            self._good = (frame, box)

    def saw_beside(self, target: Box, tracks: dict[int, Box]) -> None:
        """Note the tracks in a frame with a stored target box that are not on the target: two tracks of
        one camera in one frame are two people."""
        self.beside.update(k for k, b in tracks.items() if _apart(b, target))

    def walk(self, start: Box) -> Walk:
        return Walk(self, start, gap=self.gap)

    def walk_on(self, start: Box, frame: int | None = None) -> Walk:
        """Following on after the last stored box, only when that box still looks like the target: a track
        often ends where the tracker got confused, and its last boxes may already be someone else's. Another
        track may still be taken on (`relink_gap_s`) near the last stored box that looked like the target;
        `frame` is the frame the walk starts at."""
        sim = similarity(self._latest, self.look)
        v = self.velocity()
        if sim is None or sim >= self.settings.min_similarity:
            return Walk(self, start, velocity=v, gap=self.gap)
        if self._good is None or frame is None:
            return Walk(self, None)
        since = max(0, frame - self._good[0] - 1)
        return Walk(self, None, anchor=self._good[1], since=since, velocity=v, gap=self.gap)

    def velocity(self) -> tuple[float, float]:
        """Pixels per frame of the last stored boxes' centre (0 with fewer than two)."""
        if len(self._recent) < 2 or self._recent[-1][0] <= self._recent[0][0]:
            return (0.0, 0.0)
        (f0, x0, y0), (f1, x1, y1) = self._recent[0], self._recent[-1]
        return ((x1 - x0) / (f1 - f0), (y1 - y0) / (f1 - f0))

    def looks_like(self, img: np.ndarray, box: Box) -> float | None:
        return similarity(_hist(img, box), self.look)


def _centre_gap(a: Box, b: Box, shift: tuple[float, float] = (0.0, 0.0)) -> float:
    """Distance between the centres of `a` moved by `shift` and of `b`."""
    return float(
        np.hypot((a[0] + a[2] - b[0] - b[2]) / 2 + shift[0], (a[1] + a[3] - b[1] - b[3]) / 2 + shift[1])
    )


@dataclass
class Walk:
    """Following from one box in one direction, a frame at a time: on the detection pass's and the other
    tracks' person boxes by overlap and look, and, where the box taken is another track's (the tracker
    fragmented the target or swapped it with someone), along that track while it still looks like the target.
    Where the target is lost, another track within `relink_jump` target heights of where it was last placed,
    no more than `relink_gap_s` before, that looks like it (clearly more than any other track there) is
    taken on: the tracker's new track for the same person after an occlusion."""

    follower: Follower
    prev: Box | None
    missed: int = 0
    matched: bool = False  # coasting only once the walk has found the target itself at least once
    anchor: Box | None = None  # the last box placed on the target (stored, followed or along a track)
    since: int = 0  # frames since the anchor was placed
    riding: int | None = None  # the other track being followed along (its key in the frame's tracks)
    velocity: tuple[float, float] = (0.0, 0.0)  # pixels per frame the target moved, in the walk's direction
    gap: int = 0  # frames after the last placed box during which another track may take the target on
    _off: int = 0  # frames in a row the track followed along did not look like the target

    def __post_init__(self) -> None:
        if self.anchor is None:
            self.anchor = self.prev

    def step(self, img: np.ndarray, people: list[Box], tracks: dict[int, Box] | None = None) -> Box | None:
        """The target's box in this frame among `people` (person boxes) and `tracks` (other person tracks'
        boxes by key), or None once the target is lost."""
        tracks = tracks or {}
        s = self.follower.settings
        if self.riding is not None:
            box = tracks.get(self.riding)
            if box is not None:
                held = self._still_target(img, box)
                if self._off == 0:
                    return self._placed(box, tracks)
                if held:  # a frame or two that does not look like the target: held, the anchor stays put
                    self.since += 1
                    return box
                self.prev = None  # the track turned into someone else: never walk on from its box
            self.riding = None
        pick = self._pick(img, people) if self.prev is not None else None
        if pick is not None:
            key = max(tracks, key=lambda k: iou(tracks[k], pick), default=None)
            if key is not None and iou(tracks[key], pick) >= 0.5 and key not in self.follower.beside:
                # Along a track only where it is new: one seen beside the target and now over its box is another
                # person crossing it, where trackers swap identities.
                self.riding, self._off = key, 0
            self.missed, self.matched = 0, True
            return self._placed(pick, tracks)
        if self.gap > 0 and self.anchor is not None and self.since < self.gap:
            found = self._relink(img, tracks)
            if found is not None:
                self.riding, self._off, self.missed, self.matched = found, 0, 0, True
                return self._placed(tracks[found], tracks)
        self.since += 1
        self.missed += 1
        if self.prev is None:
            return None
        if not self.matched or self.missed > s.coast:
            self.prev = None
            return None
        return self.prev  # a frame the detector missed: the person has hardly moved in it

    def _placed(self, box: Box, tracks: dict[int, Box] | None = None) -> Box:
        if tracks:  # the other tracks in a frame where the target is placed are other people
            self.follower.saw_beside(box, {k: b for k, b in tracks.items() if k != self.riding})
        if self.anchor is not None:  # the target's motion, smoothed: where to look for it once lost
            a, n = self.anchor, self.since + 1
            dx, dy = ((box[0] + box[2] - a[0] - a[2]) / 2 / n, (box[1] + box[3] - a[1] - a[3]) / 2 / n)
            self.velocity = (0.8 * self.velocity[0] + 0.2 * dx, 0.8 * self.velocity[1] + 0.2 * dy)
        self.prev, self.anchor, self.since = box, box, 0
        return box

    def _still_target(self, img: np.ndarray, box: Box) -> bool:
        sim = self.follower.looks_like(img, box)
        self._off = 0 if sim is None or sim >= self.follower.settings.relink_similarity else self._off + 1
        return self._off <= self.follower.settings.coast

    def _pick(self, img: np.ndarray, people: list[Box]) -> Box | None:
        s = self.follower.settings
        scored = sorted(((iou(b, self.prev), b) for b in people), key=lambda t: t[0], reverse=True)
        if not scored or scored[0][0] < s.min_iou:
            return None
        close = [b for v, b in scored if v >= s.ambiguity * scored[0][0]]
        sims = sorted(((self.follower.looks_like(img, b), b) for b in close), key=lambda t: t[0] or 0.0)[::-1]
        if len(close) == 1:
            return close[0] if sims[0][0] is None or sims[0][0] >= s.min_similarity else None
        if s.look_margin is not None and sims[0][0] is not None and sims[1][0] is not None:
            # Two people where the target was: only a clearly better look tells them apart.
            if sims[0][0] >= s.min_similarity and sims[0][0] - sims[1][0] >= s.look_margin:
                return sims[0][1]
        return None

    def _relink(self, img: np.ndarray, tracks: dict[int, Box]) -> int | None:
        """The track that takes the target on near the anchor, or None: a size like the anchor's (a person
        at the same depth), within reach, looking like the target and clearly more than any rival there."""
        s, a = self.follower.settings, self.anchor
        ah = a[3] - a[1]
        ih, iw = img.shape[:2]
        m = 0.02 * max(iw, ih)
        if a[0] <= m or a[1] <= m or a[2] >= iw - m or a[3] >= ih - m:
            return None  # at the picture's edge the target may have left it, and whoever comes in there next is new
        cands = []
        n = self.since + 1
        shift = (self.velocity[0] * n, self.velocity[1] * n)  # where the target was heading
        for key, b in tracks.items():
            if key in self.follower.beside:
                continue
            bh = b[3] - b[1]
            if ah <= 0 or not (ah / 1.5 <= bh <= ah * 1.5) or _centre_gap(a, b, shift) > s.relink_jump * ah:
                continue
            sim = self.follower.looks_like(img, b)
            cands.append((sim if sim is not None else -1.0, key))
        cands.sort(reverse=True)
        if not cands or cands[0][0] < s.relink_similarity:
            return None
        if len(cands) > 1 and (s.look_margin is None or cands[0][0] - cands[1][0] < s.look_margin):
            return None
        return cands[0][1]


@dataclass
class FrameTarget:
    """One exported frame, ready to mask: the image (a copy of the footage's), its detection pass, the other
    sightings' boxes in it (with their keys), and the target's box with where it came from."""

    frame: Any  # relaytrack.source Frame: index, wall, image
    image: np.ndarray
    dets: Detections | None
    others: list[tuple[Box, str]]
    keys: list[int] = field(default_factory=list)  # others[i] is the box of track keys[i]
    target: Box | None = None
    state: str = "none"  # analysed, interpolated, followed, unknown (no box), none (no target)
    via: int | None = None  # a followed box that is another stored sighting's: that sighting (the relink)

    def people(self, masker: Masker) -> list[Box]:
        return masker.people(self.dets) + [b for b, kind in self.others if kind == "person"]

    def tracks(self) -> dict[int, Box]:
        """The other person tracks' boxes in this frame by key."""
        return {k: b for k, (b, kind) in zip(self.keys, self.others, strict=True) if kind == "person"}


def frame_targets(
    frames: Iterable,
    target_boxes: TrackBoxes | None,
    others: list[tuple[TrackBoxes, str]],
    masker: Masker,
    settings: FollowSettings | None,
    fps: float = 0.0,
) -> Iterator[FrameTarget]:
    """The exported frames in order, each with the target's box: stored (analysed or interpolated), followed
    (`settings`, None: never) or unknown. Frames before the first stored box wait (at most `max_back`, the
    oldest leaving unknown) until it is read, then are followed backwards from it."""
    stored = target_boxes is not None and len(target_boxes.frames) > 0
    follower = None
    if stored and settings is not None:
        follower = Follower(settings, gap=int(round(settings.relink_gap_s * fps)))
        for k, (tb, kind) in enumerate(others):
            if kind == "person":
                follower.beside.update(
                    k for f in target_boxes.frames if _apart(tb.at(int(f)), target_boxes.at(int(f)))
                )
    pending: list[FrameTarget] = []
    forward: Walk | None = None
    for fr in frames:
        img = fr.image.copy()
        keyed = [(k, b, kind) for k, (tb, kind) in enumerate(others) if (b := tb.at(fr.index)) is not None]
        ft = FrameTarget(
            fr, img, masker.detect(img), [(b, kind) for _, b, kind in keyed], [k for k, _, _ in keyed]
        )
        if target_boxes is not None:
            ft.state = target_boxes.state(fr.index)
            ft.target = target_boxes.at(fr.index)
        if follower is None or target_boxes is None:
            yield ft
            continue
        if ft.state == "unknown" and fr.index < target_boxes.frames[0]:
            pending.append(ft)
            if len(pending) > follower.settings.max_back:
                yield pending.pop(0)
            continue
        if ft.state == "unknown":  # after the last stored box
            if forward is None:
                forward = follower.walk_on(target_boxes.at(int(target_boxes.frames[-1])), fr.index)
            _step(ft, forward, masker, others)
        else:  # (the stored frames' tracks were noted up front; interpolated frames may add some)
            follower.saw_beside(ft.target, ft.tracks())
            if ft.state == "analysed":
                follower.learn(img, ft.target, fr.index)
        if pending:  # the first stored box: follow backwards through the frames held before it
            back = follower.walk(ft.target)
            for p in reversed(pending):
                _step(p, back, masker, others)
            yield from pending
            pending.clear()
        yield ft
    yield from pending  # the footage ended before the first stored box


def _apart(box: Box | None, target: Box | None) -> bool:
    """Two boxes of one frame that are not one person's."""
    return box is not None and target is not None and iou(box, target) < 0.5


def _step(ft: FrameTarget, walk: Walk, masker: Masker, others: list[tuple[TrackBoxes, str]]) -> None:
    _take(ft, walk.step(ft.image, ft.people(masker), ft.tracks()))
    if walk.riding is not None and walk.riding in ft.keys:
        # The track followed along is the target here: it is not masked as someone else, and the record says
        # which stored sighting the box came from.
        i = ft.keys.index(walk.riding)
        del ft.others[i], ft.keys[i]
        ft.via = others[walk.riding][0].sighting


def _take(ft: FrameTarget, box: Box | None) -> None:
    if box is not None:
        ft.target, ft.state = box, FOLLOWED
