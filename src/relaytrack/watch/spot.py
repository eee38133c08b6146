"""Before/after comparison of a hiding spot: did something appear or change there while a person stopped?

An operator who suspects a drop looks at the spot just before the person came and just after they left. The
watch does the same with small crops of each zone (with a margin), taken only while no person box covers the
zone (`SpotMemory`): clear views spread over the time before a stop began are its *before*, the first clear
views after it ended its *after*. The comparison (`compare`) is made robust to what changes a picture without
anything being left:

- lighting: each view is divided by its own median brightness (a global gain change cancels);
- sensor noise: the after views are averaged and the noise of one view is measured from the difference
  between two views of the same side (median absolute deviation), so a pixel counts as changed only when it
  moved by several noise sigmas *and* by at least `min_rel` of the brightness;
- passing things and people the detector missed (in the dark a person is often found only once they stand
  still, so a "clear" view may hold them): the before side is the pixelwise median of views taken every
  `ref_every_s` over the last ~`ref_views` x `ref_every_s` seconds, which a short passage does not move; the
  after views must agree with each other, else the verdict is "unknown", not "changed".

The verdict is the share of the zone's pixels that changed; `SpotConfig.change_share` (set on tuning towns
above what noise and shadows give there) makes it a cue that raises the courier score with its reason.
A spot that looks the same after is *not* evidence of innocence (a drop is usually hidden inside the spot).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from pydantic import Field

from relaytrack.config import Strict
from relaytrack.watch.zones import Zone

MAX_SIDE = 64  # crops are scaled down to this long side (cost; a zone is rarely larger in the image)


class SpotConfig(Strict):
    """The before/after comparison of a hiding spot and its weight (added to the score when it fires)."""

    enabled: bool = Field(True, description="Keep clear views of each zone and compare before/after a stop")
    pad: float = Field(0.15, ge=0, le=1, description="Margin around the zone's box, as a share of its size")
    clear_pad_h: float = Field(
        0.15, ge=0, le=2, description="A person box widened by this many of its heights still covers the zone"
    )
    sample_s: float = Field(0.4, gt=0, le=10, description="At most one clear view per zone this often")
    views: int = Field(3, ge=1, le=10, description="Clear views averaged after the stop")
    ref_every_s: float = Field(
        2.0, gt=0, le=60, description="The before side keeps one clear view this often"
    )
    ref_views: int = Field(9, ge=1, le=50, description="Views whose pixelwise median is the before side")
    before_max_s: float = Field(
        90.0, gt=0, le=3600, description="A before view older than this (before the stop began) is unknown"
    )
    after_max_s: float = Field(
        12.0, gt=0, le=300, description="Clear after views must come within this long of the stop's end"
    )
    noise_k: float = Field(4.0, gt=0, le=20, description="A pixel changed by this many noise sigmas counts")
    min_rel: float = Field(
        0.06,
        ge=0,
        le=1,
        description="...and by at least this share of the spot's brightness (gain-normalised)",
    )
    # Set on the tuning towns, where nothing is ever left at a spot: the largest changed share over 43
    # before/after comparisons there was 0.015 (most under 0.003); 0.04 keeps well above that.
    change_share: float = Field(
        0.04, gt=0, le=1, description="Share of the spot's pixels changed that makes the spot look different"
    )
    w_change: float = Field(
        0.15, ge=0, le=2, description="Raised by: the spot looks different after the stop"
    )


@dataclass(frozen=True, slots=True)
class Change:
    """The verdict of one before/after comparison. share: changed share of the pixels (None: unknown)."""

    share: float | None
    noise: float | None  # measured noise sigma of one view (gain-normalised units)
    why: str  # "compared" | "no before" | "no after" | "unsteady after"

    @property
    def known(self) -> bool:
        return self.share is not None


def zone_rect(zone: Zone, shape: tuple[int, ...], pad: float) -> tuple[int, int, int, int] | None:
    """Pixel rectangle (x1, y1, x2, y2) of the zone with a margin, inside an image of `shape`."""
    x1, y1, x2, y2 = zone.bbox
    w, h = x2 - x1, y2 - y1
    H, W = shape[:2]
    r = (
        max(0, math.floor(x1 - pad * w)),
        max(0, math.floor(y1 - pad * h)),
        min(W, math.ceil(x2 + pad * w)),
        min(H, math.ceil(y2 + pad * h)),
    )
    return r if r[2] - r[0] >= 3 and r[3] - r[1] >= 3 else None


def zone_crop(image: np.ndarray, zone: Zone, pad: float = 0.15) -> np.ndarray | None:
    """Grey crop of the zone with its margin (uint8), scaled down to MAX_SIDE; None outside the image."""
    import cv2

    r = zone_rect(zone, image.shape, pad)
    if r is None:
        return None
    crop = image[r[1] : r[3], r[0] : r[2]]
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    s = MAX_SIDE / max(crop.shape)
    if s < 1.0:
        crop = cv2.resize(crop, (max(3, round(crop.shape[1] * s)), max(3, round(crop.shape[0] * s))))
    return np.ascontiguousarray(crop)


def covered(zone: Zone, boxes: list[tuple[float, float, float, float]], pad: float, pad_h: float) -> bool:
    """Whether any person box (widened by `pad_h` of its height: limbs, shadow) overlaps the zone's crop."""
    x1, y1, x2, y2 = zone.bbox
    w, h = x2 - x1, y2 - y1
    zx1, zy1, zx2, zy2 = x1 - pad * w, y1 - pad * h, x2 + pad * w, y2 + pad * h
    for bx1, by1, bx2, by2 in boxes:
        m = pad_h * (by2 - by1)
        if bx1 - m < zx2 and bx2 + m > zx1 and by1 - m < zy2 and by2 + m > zy1:
            return True
    return False


def _norm(v: np.ndarray) -> np.ndarray:
    """Gain-normalised and lightly blurred: divided by its median brightness (lighting cancels)."""
    import cv2

    f = cv2.GaussianBlur(v.astype(np.float32), (3, 3), 0)
    return f / max(float(np.median(f)), 4.0)


def _sigma(d: np.ndarray) -> float:
    """Robust standard deviation of a difference image (median absolute deviation)."""
    return 1.4826 * float(np.median(np.abs(d - np.median(d))))


def _share(a: np.ndarray, b: np.ndarray, noise: float, n_a: float, n_b: float, cfg: SpotConfig) -> float:
    """Share of pixels where a and b (means of n_a and n_b views) differ beyond noise and `min_rel`."""
    d = a - b
    d = d - float(np.median(d))
    thr = max(cfg.noise_k * noise * math.sqrt(1.0 / n_a + 1.0 / n_b), cfg.min_rel)
    return float(np.mean(np.abs(d) > thr))


def compare(before: list[np.ndarray], after: list[np.ndarray], cfg: SpotConfig) -> Change:
    """Changed share of the spot between the pixelwise median of the `before` views and the mean of the
    `after` views."""
    if not before:
        return Change(None, None, "no before")
    if not after:
        return Change(None, None, "no after")
    shape = before[-1].shape
    b = [_norm(v) for v in before if v.shape == shape]
    a = [_norm(v) for v in after if v.shape == shape]
    if not b or not a:
        return Change(None, None, "no after")
    # Noise of one view: two views of one side differ only by noise (when the scene held still).
    pairs = [x - y for side in (b, a) for x, y in zip(side, side[1:], strict=False)]
    noise = float(np.median([_sigma(p) for p in pairs])) / math.sqrt(2.0) if pairs else None
    if noise is None:
        noise = _sigma(a[0] - b[-1]) / math.sqrt(2.0)  # one view a side: the difference's own spread
    if len(a) >= 2 and _share(a[0], a[-1], noise, 1, 1, cfg) >= cfg.change_share:
        return Change(None, round(noise, 4), "unsteady after")
    # A median of n views is noisier than their mean (about 1.25 x); counted as 0.64 n views.
    mb, ma = np.median(b, axis=0), np.mean(a, axis=0)
    nb = max(1.0, 0.64 * len(b))
    return Change(round(_share(ma, mb, noise, len(a), nb, cfg), 4), round(noise, 4), "compared")


@dataclass
class _ZoneViews:
    recent: deque[tuple[float, np.ndarray]]  # clear views every sample_s, oldest first (after views)
    spread: deque[tuple[float, np.ndarray]]  # clear views every ref_every_s (before views)
    last_sample: float = -math.inf
    last_spread: float = -math.inf


@dataclass
class SpotWatch:
    """One stop's before views and, once the person left, its after views and verdict."""

    zone: str
    start: float
    before: list[np.ndarray]
    end: float | None = None
    after: list[np.ndarray] = field(default_factory=list)
    change: Change | None = None


class SpotMemory:
    """Clear views of one camera's zones, the before views of stops in progress and their verdicts."""

    def __init__(self, zones: list[Zone], cfg: SpotConfig) -> None:
        self.cfg = cfg
        self.zones = {z.id: z for z in zones}
        keep = max(cfg.views, 2) + 2
        self.views = {z.id: _ZoneViews(deque(maxlen=keep), deque(maxlen=cfg.ref_views)) for z in zones}

    def observe(self, t: float, boxes: list[tuple[float, float, float, float]], crop_fn) -> list[str]:
        """One analysed frame: a clear view of every uncovered zone (sampled); returns the zones seen clear."""
        cfg = self.cfg
        clear = []
        for zid, z in self.zones.items():
            if covered(z, boxes, cfg.pad, cfg.clear_pad_h):
                continue
            clear.append(zid)
            zv = self.views[zid]
            if t - zv.last_sample < cfg.sample_s:
                continue
            crop = crop_fn(z)
            if crop is None:
                continue
            zv.recent.append((t, crop))
            zv.last_sample = t
            if t - zv.last_spread >= cfg.ref_every_s:
                zv.spread.append((t, crop))
                zv.last_spread = t
        return clear

    def begin(self, zone: str, start: float) -> SpotWatch:
        """A stop at `zone` began at `start`: its before views are the spread clear ones, if recent enough."""
        zv = self.views.get(zone)
        views = [] if zv is None else [c for tc, c in zv.spread if start - tc <= self.cfg.before_max_s]
        return SpotWatch(zone, start, views)

    def follow(self, w: SpotWatch, end: float, now: float) -> bool:
        """The stop ended at `end`: gather clear views taken after it; returns True when the verdict is new."""
        if w.change is not None:
            return False
        w.end = end
        zv = self.views.get(w.zone)
        if zv is not None:
            w.after = [c for tc, c in zv.recent if tc > end][: self.cfg.views]
        if len(w.after) >= self.cfg.views or (now - end > self.cfg.after_max_s):
            w.change = compare(w.before, w.after, self.cfg)
            return True
        return False
