"""Tracklets as sets of crops: the unit that re-identification describes, learns from and is scored on.

Two sources: a store (what `reid train`/`apply` learn from: the stored best crops of every sighting, or crops
cut again from the source video where a store predates stored crops) and MOTChallenge ground truth beside a
video or image folder (what `bench reid` scores on). A ground-truth identity rides along for scoring only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.errors import InputError


@dataclass(frozen=True, slots=True)
class TrackletCrops:
    """One tracklet: its camera, its frames and up to a few of its best crops (BGR)."""

    key: str  # unique within a set, e.g. "C01/17" or a sighting id
    camera: str
    frames: tuple[int, int]  # first and last frame (analysed-frame numbers of the source)
    t: tuple[float, float]  # start and end, seconds on a clock common to the set's cameras
    crops: tuple[np.ndarray, ...] = field(repr=False)
    identity: str | None = None  # ground truth, for scoring only; never read by training

    def __post_init__(self) -> None:
        if not self.crops:
            raise InputError(f"tracklet {self.key}: no crops")
        for c in self.crops:
            if c.ndim != 3 or c.shape[2] != 3 or c.shape[0] < 8 or c.shape[1] < 4:
                raise InputError(f"tracklet {self.key}: crop of shape {c.shape}, expected (H>=8, W>=4, 3)")


def co_occurring(tracklets: list[TrackletCrops]) -> list[tuple[int, int]]:
    """Index pairs of tracklets seen at the same time on the same camera: two different people, for free."""
    by_cam: dict[str, list[int]] = defaultdict(list)
    for i, tr in enumerate(tracklets):
        by_cam[tr.camera].append(i)
    pairs = []
    for idx in by_cam.values():
        idx.sort(key=lambda i: tracklets[i].frames[0])
        for a_pos, a in enumerate(idx):
            fa = tracklets[a].frames
            for b in idx[a_pos + 1 :]:
                fb = tracklets[b].frames
                if fb[0] > fa[1]:
                    break
                pairs.append((a, b))
    return pairs


def pick_frames(rows: np.ndarray, k: int, min_gap: int) -> np.ndarray:
    """Up to k rows of one tracklet's boxes (frame, x, y, w, h, vis): the tallest, well visible, spread in time."""
    order = np.argsort(-(rows[:, 4] * np.clip(rows[:, 5], 0.2, 1.0)))
    chosen: list[int] = []
    for i in order:
        if all(abs(rows[i, 0] - rows[j, 0]) >= min_gap for j in chosen):
            chosen.append(int(i))
            if len(chosen) == k:
                break
    return rows[sorted(chosen, key=lambda i: rows[i, 0])]


def _segments(rows: np.ndarray, max_gap: int) -> list[np.ndarray]:
    rows = rows[np.argsort(rows[:, 0])]
    cut = np.nonzero(np.diff(rows[:, 0]) > max_gap)[0] + 1
    return np.split(rows, cut)


def read_gt(path: Path, *, mot15: bool = False) -> dict[int, np.ndarray]:
    """MOTChallenge gt: identity -> rows (frame, x, y, w, h, visibility); rows with conf 0 are ignored.
    MOT15 files carry world coordinates where MOT16+ carry class and visibility (`mot15=True`)."""
    if not path.exists():
        raise InputError(f"{path}: no ground truth file")
    raw = np.loadtxt(path, delimiter=",", ndmin=2)
    if raw.size == 0:
        return {}
    if raw.shape[1] < 7:
        raise InputError(f"{path}: {raw.shape[1]} columns, MOTChallenge gt has at least 7")
    keep = raw[:, 6] != 0
    if raw.shape[1] >= 8 and not mot15:
        keep &= raw[:, 7] == 1  # class 1 = pedestrian where the file names classes
    raw = raw[keep]
    vis = raw[:, 8] if raw.shape[1] >= 9 and not mot15 else np.ones(len(raw))
    rows = np.column_stack([raw[:, 0], raw[:, 2:6], vis])
    return {int(i): rows[raw[:, 1] == i] for i in np.unique(raw[:, 1])}


class FrameReader:
    """Random access to frames of a video file or a MOTChallenge image folder (1-based frame numbers)."""

    def __init__(self, source: Path) -> None:
        import cv2

        self.source = Path(source)
        self._cv2 = cv2
        if self.source.is_dir():
            img = self.source / "img1" if (self.source / "img1").is_dir() else self.source
            self.images = sorted(p for p in img.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
            if not self.images:
                raise InputError(f"{source}: no images")
            self.cap = None
        else:
            self.cap = cv2.VideoCapture(str(self.source))
            if not self.cap.isOpened():
                raise InputError(f"{source}: not a readable video")
            self._next = 1

    def frames(self, wanted: Iterable[int]) -> dict[int, np.ndarray]:
        want = sorted(set(int(f) for f in wanted))
        out: dict[int, np.ndarray] = {}
        if self.cap is None:
            for f in want:
                if 1 <= f <= len(self.images):
                    im = self._cv2.imread(str(self.images[f - 1]))
                    if im is not None:
                        out[f] = im
            return out
        # Sequential decode: mp4v seeks land on key frames, so reading forward is both exact and fast.
        wanted_set = set(want)
        if want and want[0] < self._next:
            self.cap.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
            self._next = 1
        last = want[-1] if want else 0
        while self._next <= last:
            ok, im = self.cap.read()
            if not ok:
                break
            if self._next in wanted_set:
                out[self._next] = im
            self._next += 1
        return out


def crop(image: np.ndarray, x: float, y: float, w: float, h: float) -> np.ndarray | None:
    H, W = image.shape[:2]
    x1, y1 = max(0, int(round(x))), max(0, int(round(y)))
    x2, y2 = min(W, int(round(x + w))), min(H, int(round(y + h)))
    if x2 - x1 < 4 or y2 - y1 < 8:
        return None
    return image[y1:y2, x1:x2].copy()


def from_mot(
    source: Path,
    gt: Path,
    camera: str,
    *,
    fps: float,
    t0: float = 0.0,
    k: int = 5,
    min_height: float = 40.0,
    min_vis: float = 0.6,
    max_gap_s: float = 2.0,
    frame_range: tuple[int, int] | None = None,
    mot15: bool = False,
) -> list[TrackletCrops]:
    """Tracklets of a camera's ground truth: each identity's visits (split where it is unseen > max_gap_s),
    up to k crops each from boxes at least `min_height` px tall and `min_vis` visible."""
    per_id = read_gt(gt, mot15=mot15)
    plan: list[tuple[str, int, np.ndarray, tuple[int, int]]] = []
    for ident, rows in per_id.items():
        if frame_range is not None:
            rows = rows[(rows[:, 0] >= frame_range[0]) & (rows[:, 0] <= frame_range[1])]
        good = rows[(rows[:, 4] >= min_height) & (rows[:, 5] >= min_vis)]
        if len(good) < 2:
            continue
        for n, seg in enumerate(_segments(good, max(1, int(max_gap_s * fps)))):
            if len(seg) >= 2:
                span = (int(seg[0, 0]), int(seg[-1, 0]))
                plan.append((str(ident), n, pick_frames(seg, k, max(1, int(0.4 * fps))), span))
    if not plan:
        return []
    images = FrameReader(source).frames(int(f) for _, _, rows, _ in plan for f in rows[:, 0])
    out = []
    for ident, n, rows, (f0, f1) in plan:
        crops = [c for r in rows if int(r[0]) in images
                 for c in [crop(images[int(r[0])], *r[1:5])] if c is not None]
        if crops:
            out.append(TrackletCrops(f"{camera}/{ident}/{n}", camera, (f0, f1),
                                     (t0 + (f0 - 1) / fps, t0 + (f1 - 1) / fps), tuple(crops), ident))
    return out
