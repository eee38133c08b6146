"""Splitting a plate crop into glyph boxes, as hypotheses the character classifier then scores.

A crop is binarised several ways (global Otsu and local mean thresholds, dark text on a light plate and light
text on a dark one). In each, the main text line is the largest set of connected components of one height
on one (possibly tilted) line: the serial digits. Components in that band that overlap horizontally are
merged (a stacked syllable such as 노 or 고 is 2-3 pieces), and the groups are laid out in every way the
plate grammar allows: 2 or 3 type digits, a syllable of 1-3 side-by-side groups (가 is ㄱ and ㅏ), 4 serial
digits, with bolts and frame pieces left over at the ends. A two-line plate (old green plates: `07라`
over `5334`) has only four large digits; its type digits and syllable are read from the smaller line above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass
class Layout:
    """One way to read a crop: a box per plate character (None for the syllable position's kind test),
    which positions are digits, and the ends' left-over groups."""

    dark_text: bool
    boxes: list[Box]
    kinds: str  # 'd' digit or 'H' syllable per position
    skipped: list[Box]
    two_line: bool = False


def binarisations(gray: np.ndarray) -> list[tuple[bool, np.ndarray]]:
    import cv2

    h = gray.shape[0]
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    block = max(15, int(0.6 * h)) | 1
    out = []
    # The plate's frame often touches the characters once binarised: long lines removed, they come apart.
    hor = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, gray.shape[1] // 5), 1))
    ver = cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(0.85 * h)))
    for dark in (True, False):
        mode = cv2.THRESH_BINARY_INV if dark else cv2.THRESH_BINARY
        for b in (
            cv2.threshold(blur, 0, 255, mode + cv2.THRESH_OTSU)[1],
            cv2.adaptiveThreshold(blur, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, block, 7),
        ):
            out.append((dark, b))
            lines = cv2.morphologyEx(b, cv2.MORPH_OPEN, hor) | cv2.morphologyEx(b, cv2.MORPH_OPEN, ver)
            if lines.any():
                out.append((dark, cv2.subtract(b, cv2.dilate(lines, np.ones((3, 3), np.uint8)))))
    return out


def components(binary: np.ndarray, min_area: int = 12) -> list[Box]:
    import cv2

    n, _, st, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return [tuple(int(v) for v in st[i, :4]) for i in range(1, n) if st[i, 4] >= min_area]  # type: ignore[misc]


def main_row(comps: list[Box], lo: float, hi: float) -> tuple[list[Box], float, np.ndarray] | None:
    """The most supported row of same-height, character-shaped components with heights in [lo, hi]:
    (its members left to right, their height, the line through their centres as polyfit coefficients)."""
    tall = [c for c in comps if lo <= c[3] <= hi and 0.08 * c[3] <= c[2] <= 1.3 * c[3]]
    best: list[Box] = []
    for r in tall:
        cy = r[1] + r[3] / 2
        sup = [c for c in tall if abs(c[3] - r[3]) < 0.2 * r[3] and abs(c[1] + c[3] / 2 - cy) < 0.35 * r[3]]
        if len(sup) > len(best) or (
            len(sup) == len(best) and best and r[3] > np.median([b[3] for b in best])
        ):
            best = sup
    if len(best) < 4:
        return None
    xs = np.array([c[0] + c[2] / 2 for c in best])
    ys = np.array([c[1] + c[3] / 2 for c in best])
    fit = np.polyfit(xs, ys, 1) if np.ptp(xs) > 0 else np.array([0.0, ys.mean()])
    hs = float(np.median([c[3] for c in best]))
    return sorted(best), hs, fit


def _merge(boxes: list[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def band_groups(comps: list[Box], hs: float, fit: np.ndarray, rel: tuple[float, float]) -> list[Box]:
    """Components whose box lies in the band rel (in units of hs, from the line's centre) around the fitted
    line, merged where they overlap horizontally, left to right."""
    band = []
    for c in comps:
        cy = float(np.polyval(fit, c[0] + c[2] / 2))
        top, bot = (c[1] - cy) / hs, (c[1] + c[3] - cy) / hs
        big_enough = c[3] > 0.12 * hs or c[2] > 0.3 * hs
        # A syllable may stand a little taller than the digits; its centre stays on the line.
        mid = (top + bot) / 2
        inside = top >= rel[0] - 0.2 and bot <= rel[1] + 0.2 and rel[0] + 0.25 <= mid <= rel[1] - 0.25
        if inside and big_enough and c[2] < 1.4 * hs:
            band.append(c)
    groups: list[Box] = []
    for c in sorted(band):
        if groups:
            g = groups[-1]
            overlap = g[0] + g[2] - c[0]
            if overlap > 0.3 * min(c[2], g[2]):
                groups[-1] = _merge([g, c])
                continue
        groups.append(c)
    return groups


def _one_line(groups: list[Box], hs: float, dark: bool) -> list[Layout]:
    out = []
    n = len(groups)
    for s in range(0, min(3, n)):
        for e in range(n, max(s, n - 3), -1):
            for k in (2, 3):
                if e - 4 < s + k + 1:
                    continue
                mid = groups[s + k : e - 4]
                if not 1 <= len(mid) <= 3:
                    continue
                syl = _merge(mid)
                if syl[2] > 1.7 * hs:
                    continue
                digits = groups[s : s + k] + groups[e - 4 : e]
                if any(d[3] < 0.6 * hs or d[2] > 0.95 * hs for d in digits):
                    continue
                boxes = groups[s : s + k] + [syl] + groups[e - 4 : e]
                out.append(Layout(dark, boxes, "d" * k + "H" + "dddd", groups[:s] + groups[e:]))
    return out


def _two_line(comps: list[Box], serial: list[Box], hs: float, fit: np.ndarray, dark: bool) -> list[Layout]:
    """Type digits and syllable from the small line above four large serial digits."""
    above = band_groups(comps, hs, fit, (-1.45, -0.5))
    small = [g for g in above if 0.2 * hs <= g[3] <= 0.75 * hs]
    if len(small) < 3:
        return []
    hs2 = float(np.median([g[3] for g in small]))
    out = []
    n = len(small)
    for s in range(0, n - 2):
        for e in range(n, s + 2, -1):
            if e < n - 1:
                break
            mid = small[s + 2 : e]
            if not 1 <= len(mid) <= 3:
                continue
            digits = small[s : s + 2]
            if any(d[3] < 0.6 * hs2 for d in digits):
                continue
            syl = _merge(mid)
            out.append(Layout(dark, digits + [syl] + serial, "ddHdddd", small[:s] + small[e:], True))
    return out


def layouts(gray: np.ndarray) -> list[Layout]:
    """Every grammar-shaped way to split the crop's text into characters, over all binarisations."""
    h = gray.shape[0]
    out: list[Layout] = []
    seen: set[tuple[Box, ...]] = set()
    for dark, binary in binarisations(gray):
        comps = components(binary, int(12 * (h / 80) ** 2))
        row = main_row(comps, 0.25 * h, 0.95 * h)
        if row is None:
            continue
        _, hs, fit = row
        groups = band_groups(comps, hs, fit, (-0.65, 0.65))
        cands = _one_line(groups, hs, dark)
        big = [g for g in groups if g[3] > 0.75 * hs and g[2] < 0.95 * hs]
        # The serial is any four big groups in a row: a frame edge or a bolt at either end can be big too.
        for i in range(max(0, len(big) - 6), len(big) - 3):
            for lay in _two_line(comps, big[i : i + 4], hs, fit, dark):
                lay.skipped += big[:i] + big[i + 4 :]
                cands.append(lay)
        for c in cands:
            key = (*c.boxes, (int(dark), 0, 0, 0))
            if key not in seen:
                seen.add(key)
                out.append(c)
    return out


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def text_rows(gray: np.ndarray, limit: int = 8) -> list[Box]:
    """Plate-text-like rows in a scene: chains of 4 or more character-shaped components of one height side by
    side (either polarity), as boxes with a plate's margin around them, the longest chains first."""
    import cv2

    H, W = gray.shape[:2]
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    rows: list[tuple[int, Box]] = []
    for mode in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
        binary = cv2.adaptiveThreshold(blur, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, 31, 10)
        n, _, st, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        ok = (
            (st[:, 3] >= 10)
            & (st[:, 3] <= 0.2 * H)
            & (st[:, 2] >= 0.1 * st[:, 3])
            & (st[:, 2] <= 1.1 * st[:, 3])
            & (st[:, 4] >= 0.15 * st[:, 2] * st[:, 3])
            & (st[:, 4] <= 0.85 * st[:, 2] * st[:, 3])
        )
        ok[0] = False
        cs = st[ok, :4].astype(np.float64)
        if len(cs) < 4:
            continue
        cs = cs[np.argsort(cs[:, 0])]
        parent = list(range(len(cs)))

        for i in range(len(cs)):
            x, y, w, h = cs[i]
            for j in range(i + 1, len(cs)):
                x2, y2, w2, h2 = cs[j]
                if x2 > x + w + 1.2 * h:
                    break
                if abs(h2 - h) < 0.25 * h and abs((y2 + h2 / 2) - (y + h / 2)) < 0.3 * h:
                    parent[_find(parent, j)] = _find(parent, i)
        chains: dict[int, list[int]] = {}
        for i in range(len(cs)):
            chains.setdefault(_find(parent, i), []).append(i)
        for members in chains.values():
            if len(members) < 4 or len(members) > 12:
                continue
            m = cs[members]
            x0, y0 = m[:, 0].min(), m[:, 1].min()
            x1, y1 = (m[:, 0] + m[:, 2]).max(), (m[:, 1] + m[:, 3]).max()
            hs = float(np.median(m[:, 3]))
            if not 1.5 <= (x1 - x0) / hs <= 9:
                continue
            # Room for the type digits and syllable left of four serial digits, or above them (two lines).
            left = 0.6 if len(members) >= 6 else 2.8  # a chain of the serial digits only: the rest is left
            bx0, by0 = max(0, int(x0 - left * hs)), max(0, int(y0 - 0.9 * hs))
            bx1, by1 = min(W, int(x1 + 0.4 * hs)), min(H, int(y1 + 0.3 * hs))
            rows.append((len(members), (bx0, by0, bx1 - bx0, by1 - by0)))
    rows.sort(key=lambda r: -r[0])
    return [b for _, b in rows[:limit]]
