"""Clothing and vehicle colour names: a fixed 11-colour palette with Korean names, and a pixel classifier.

Pixels are classified in HSV with hand-set boundaries (no training data for clothing colours exists here);
a region's colour is the palette name with most pixels, its confidence the share of those pixels among
the pixels that were classified.
"""

from __future__ import annotations

import numpy as np

PALETTE: dict[str, str] = {
    "black": "검정",
    "white": "흰색",
    "gray": "회색",
    "red": "빨강",
    "orange": "주황",
    "yellow": "노랑",
    "green": "초록",
    "blue": "파랑",
    "purple": "보라",
    "pink": "분홍",
    "brown": "갈색",
}
NAMES: tuple[str, ...] = tuple(PALETTE)
INDEX = {n: i for i, n in enumerate(NAMES)}

# Colours people confuse on CCTV: partial credit when matching a query (search and relay use it).
SIMILAR: dict[tuple[str, str], float] = {}
for a, b, s in [
    ("black", "gray", 0.5),
    ("gray", "white", 0.4),
    ("red", "pink", 0.4),
    ("red", "orange", 0.4),
    ("orange", "brown", 0.4),
    ("orange", "yellow", 0.4),
    ("blue", "purple", 0.3),
    ("pink", "purple", 0.3),
    ("brown", "black", 0.3),
    ("green", "blue", 0.2),
]:
    SIMILAR[(a, b)] = SIMILAR[(b, a)] = s


def similarity(a: str | None, b: str | None) -> float:
    if a is None or b is None:
        return 0.0
    return 1.0 if a == b else SIMILAR.get((a, b), 0.0)


def classify_pixels(bgr: np.ndarray) -> np.ndarray:
    """Palette index per pixel of an (N,3) or HxWx3 BGR uint8 array."""
    import cv2

    flat = np.ascontiguousarray(bgr.reshape(-1, 1, 3), dtype=np.uint8)
    hsv = cv2.cvtColor(flat, cv2.COLOR_BGR2HSV_FULL).reshape(-1, 3).astype(np.float32)
    h = hsv[:, 0] * (360.0 / 256.0)
    s = hsv[:, 1] / 255.0
    v = hsv[:, 2] / 255.0
    out = np.full(len(h), INDEX["gray"], dtype=np.int8)
    chroma = s * v
    achromatic = (s < 0.22) | (chroma < 0.12)
    out[achromatic & (v < 0.28)] = INDEX["black"]
    out[achromatic & (v >= 0.28) & (v < 0.72)] = INDEX["gray"]
    out[achromatic & (v >= 0.72)] = INDEX["white"]
    chrom = ~achromatic
    dark = v < 0.18
    out[chrom & dark] = INDEX["black"]
    c = chrom & ~dark
    hue_bins = [
        (0, 12, "red"),
        (12, 40, "orange"),
        (40, 70, "yellow"),
        (70, 170, "green"),
        (170, 255, "blue"),
        (255, 290, "purple"),
        (290, 335, "pink"),
        (335, 361, "red"),
    ]
    for lo, hi, name in hue_bins:
        out[c & (h >= lo) & (h < hi)] = INDEX[name]
    # Dark or desaturated orange/red reads as brown; light, desaturated red as pink.
    brownish = c & (h >= 5) & (h < 45) & ((v < 0.6) | (s < 0.5))
    out[brownish] = INDEX["brown"]
    pinkish = c & ((h < 12) | (h >= 335)) & (s < 0.5) & (v > 0.6)
    out[pinkish] = INDEX["pink"]
    return out


def dominant(bgr_region: np.ndarray, mask: np.ndarray | None = None) -> tuple[str | None, float]:
    """The palette name covering most of a region's pixels, with that share as confidence."""
    if bgr_region.size == 0:
        return None, 0.0
    pix = bgr_region.reshape(-1, 3)
    if mask is not None:
        pix = pix[mask.reshape(-1)]
    if len(pix) < 8:
        return None, 0.0
    counts = np.bincount(classify_pixels(pix), minlength=len(NAMES)).astype(np.float64)
    best = int(counts.argmax())
    return NAMES[best], float(counts[best] / counts.sum())
