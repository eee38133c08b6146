"""Map labels that do not collide: greedy placement in priority order.

Each label is tried at a few spots around its anchor (right-above, right-below, left-above, ..., then
further out); the first spot inside the view that meets no label already placed (nor a reserved box, such
as a route's dots) wins; a label with no free spot is left out. The console's map (static/map.js) places its
labels the same way, with the same text-width estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (SVG pixels, y down)

# (dx, dy) steps of the label's corner from its anchor, in units of (gap, font size); tried in order.
SPOTS = ((1, -0.3), (1, 1.0), (-1, -0.3), (-1, 1.0), (0, -1.0), (0, 1.6), (2, -1.2), (2, 2.0), (-2, -1.2))


def text_width(text: str, size: float) -> float:
    """Estimated width of `text` at font size `size`: full-width for Hangul and CJK, about 0.6 em else."""
    return sum(size * (1.0 if ord(ch) >= 0x1100 else 0.62) for ch in text)


def text_box(text: str, x: float, y: float, size: float, anchor: str = "start") -> Box:
    """The box a `<text x y font-size text-anchor>` covers (baseline at y; ascent 0.9 em, descent 0.25 em)."""
    w = text_width(text, size)
    x0 = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
    return (x0, y - 0.9 * size, x0 + w, y + 0.25 * size)


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@dataclass
class Label:
    text: str
    x: float  # the anchor (the point the label names)
    y: float
    size: float = 11.0
    cls: str = "lbl"
    centred: bool = False  # an area's name: centred on its anchor first, then moved like the others


@dataclass
class Placed:
    label: Label
    x: float
    y: float
    anchor: str
    box: Box


def place(
    labels: list[Label], width: float, height: float, reserved: list[Box] | None = None, pad: float = 1.0
) -> list[Placed]:
    """Greedy placement of `labels` (highest priority first) in a `width` x `height` view."""
    taken: list[Box] = list(reserved or [])
    out: list[Placed] = []
    for lb in labels:
        gap = 4.0 + lb.size * 0.2
        tries: list[tuple[float, float, str]] = []
        if lb.centred:
            tries += [(lb.x, lb.y + lb.size * 0.35, "middle"), (lb.x, lb.y - lb.size, "middle")]
            tries += [(lb.x, lb.y + lb.size * 1.6, "middle")]
        for dx, dy in SPOTS:
            anchor = "start" if dx > 0 else "end" if dx < 0 else "middle"
            tries.append((lb.x + dx * gap, lb.y + dy * lb.size, anchor))
        for x, y, anchor in tries:
            b = text_box(lb.text, x, y, lb.size, anchor)
            grown = (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
            if b[0] < 0 or b[1] < 0 or b[2] > width or b[3] > height:
                continue
            if any(overlaps(grown, t) for t in taken):
                continue
            taken.append(b)
            out.append(Placed(lb, x, y, anchor, b))
            break
    return out
