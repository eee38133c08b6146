"""Following the target through the exported frames where its sighting has no stored box.

An exported clip runs from before the sighting's first stored box (the pre-roll) to after its last (the
post-roll), and the sighting itself may end while the person is still in view (the tracker lost them, a
window ends). There the export used to know no target box and masked everybody, the target too (issue 18
finding 7). The export's own detection pass sees every frame, so from the nearest stored box the target is
followed frame by frame, forwards after the last box and backwards before the first: the person box that
overlaps the previous target box best, when it overlaps enough and still looks like the target (colour
histogram of the boxes the sighting stored); when another person box overlaps nearly as much, only the one
that looks clearly more like the target. Never on from a last stored box that no longer looks like the
target. When no box is taken for more than `coast` frames (and at once before any was) the target is lost for
the rest of that direction: those frames are masked whole as before and never re-acquired, since a wrong pick
would leave a bystander unmasked.

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

    def learn(self, img: np.ndarray, box: Box) -> None:
        """Add a stored (analysed) box of the target to its look."""
        hist = _hist(img, box)
        if hist is None:
            return
        self._n += 1
        self.look = hist if self.look is None else self.look + (hist - self.look) / min(self._n, 20)
        self._latest = hist

    def walk(self, start: Box) -> Walk:
        return Walk(self, start)

    def walk_on(self, start: Box) -> Walk:
        """Following on after the last stored box, only when that box still looks like the target: a track
        often ends where the tracker got confused, and its last boxes may already be someone else's."""
        sim = similarity(self._latest, self.look)
        return Walk(self, start if sim is None or sim >= self.settings.min_similarity else None)


@dataclass
class Walk:
    """Following from one stored box in one direction, a frame at a time."""

    follower: Follower
    prev: Box | None
    missed: int = 0
    matched: bool = False  # coasting only once the walk has found the target itself at least once

    def step(self, img: np.ndarray, people: list[Box]) -> Box | None:
        """The target's box in this frame among `people` (person boxes), or None once the target is lost."""
        if self.prev is None:
            return None
        s = self.follower.settings
        scored = sorted(((iou(b, self.prev), b) for b in people), key=lambda t: t[0], reverse=True)
        pick = None
        if scored and scored[0][0] >= s.min_iou:
            close = [b for v, b in scored if v >= s.ambiguity * scored[0][0]]
            look = self.follower.look
            sims = sorted(((similarity(_hist(img, b), look), b) for b in close), key=lambda t: t[0] or 0.0)[
                ::-1
            ]
            if len(close) == 1:
                if sims[0][0] is None or sims[0][0] >= s.min_similarity:
                    pick = close[0]
            elif s.look_margin is not None and sims[0][0] is not None and sims[1][0] is not None:
                # Two people where the target was: only a clearly better look tells them apart.
                if sims[0][0] >= s.min_similarity and sims[0][0] - sims[1][0] >= s.look_margin:
                    pick = sims[0][1]
        if pick is not None:
            self.prev, self.missed, self.matched = pick, 0, True
            return pick
        self.missed += 1
        if not self.matched or self.missed > s.coast:
            self.prev = None
            return None
        return self.prev  # a frame the detector missed: the person has hardly moved in it


@dataclass
class FrameTarget:
    """One exported frame, ready to mask: the image (a copy of the footage's), its detection pass, the other
    sightings' boxes in it, and the target's box with where it came from."""

    frame: Any  # relaytrack.source Frame: index, wall, image
    image: np.ndarray
    dets: Detections | None
    others: list[tuple[Box, str]]
    target: Box | None = None
    state: str = "none"  # analysed, interpolated, followed, unknown (no box), none (no target)

    def people(self, masker: Masker) -> list[Box]:
        return masker.people(self.dets) + [b for b, kind in self.others if kind == "person"]


def frame_targets(
    frames: Iterable,
    target_boxes: TrackBoxes | None,
    others: list[tuple[TrackBoxes, str]],
    masker: Masker,
    settings: FollowSettings | None,
) -> Iterator[FrameTarget]:
    """The exported frames in order, each with the target's box: stored (analysed or interpolated), followed
    (`settings`, None: never) or unknown. Frames before the first stored box wait (at most `max_back`, the
    oldest leaving unknown) until it is read, then are followed backwards from it."""
    stored = target_boxes is not None and len(target_boxes.frames) > 0
    follower = Follower(settings) if stored and settings is not None else None
    pending: list[FrameTarget] = []
    forward: Walk | None = None
    for fr in frames:
        img = fr.image.copy()
        ft = FrameTarget(
            fr, img, masker.detect(img), [(b, k) for tb, k in others if (b := tb.at(fr.index)) is not None]
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
                forward = follower.walk_on(target_boxes.at(int(target_boxes.frames[-1])))
            _take(ft, forward.step(img, ft.people(masker)))
        elif ft.state == "analysed":
            follower.learn(img, ft.target)
        if pending:  # the first stored box: follow backwards through the frames held before it
            back = follower.walk(ft.target)
            for p in reversed(pending):
                _take(p, back.step(p.image, p.people(masker)))
            yield from pending
            pending.clear()
        yield ft
    yield from pending  # the footage ended before the first stored box


def _take(ft: FrameTarget, box: Box | None) -> None:
    if box is not None:
        ft.target, ft.state = box, FOLLOWED
