"""Reading Korean plates: find plate-like regions, split the text line into glyphs, read each glyph.

Tesseract read whole plate lines poorly on real plates (about 1 in 10 exact on the tuning half of the dev
set: bolts, frames and the plate font throw it), so the line is split into glyphs by connected components and
each glyph is read on its own, where the grammar says what it may be:
- digits by nearest templates rendered from the DejaVu sans fonts (Debian `fonts-dejavu-core`), stretched,
  thickened and thinned, because their shapes are close to the plate font and nothing learnt from the
  dev photographs ends up in the product;
- the class syllable by tesseract's Korean model (`tesseract-ocr-kor`) in single-character mode, restricted
  to plate syllables, with its per-character alternatives.
When the line does not split into 7-8 glyphs (two-line green plates, region prefixes), tesseract reads the
whole crop and the grammar decides whether it is a plate.
"""

from __future__ import annotations

import functools
import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from relaytrack.describe.plate_grammar import CLASS_SYLLABLES, CharRead, PlateRead, is_plate, normalise

LINE_H = 80  # plate crops are scaled to this height before binarising
_GW, _GH = 16, 24  # glyph template size
_FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
_FONTS = (
    "DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed.ttf",
    "DejaVuSans.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf",
)  # fmt: skip
_SOFT_T = 0.03  # template similarity -> probability temperature (similarities differ by a few hundredths)


@functools.cache
def tesseract_status() -> str | None:
    """None when tesseract with the Korean model is installed, else a one-line reason."""
    exe = shutil.which("tesseract")
    if exe is None:
        return "plate reading off: tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-kor)"
    try:
        langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError) as err:
        return f"plate reading off: tesseract does not run ({err})"
    if "kor" not in langs.split():
        return "plate reading off: tesseract has no Korean model (apt-get install tesseract-ocr-kor)"
    if not os.path.isdir(_FONT_DIR):
        return f"plate reading off: digit templates need the DejaVu fonts in {_FONT_DIR} (fonts-dejavu-core)"
    return None


def available() -> bool:
    return tesseract_status() is None


def _tesseract(img: np.ndarray, psm: int, whitelist: str | None) -> list[CharRead]:
    """Characters tesseract reads in `img`, each with its confidence and the choices it weighed."""
    import cv2

    ok, buf = cv2.imencode(".png", img)
    args = ["tesseract", "stdin", "stdout", "-l", "kor", "--psm", str(psm)]
    if whitelist:
        args += ["-c", f"tessedit_char_whitelist={whitelist}"]
    args += ["-c", "hocr_char_boxes=1", "-c", "lstm_choice_mode=2", "hocr"]
    # One thread: the pipeline already runs cameras in parallel, and OpenMP threads only contend.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        out = subprocess.run(args, input=buf.tobytes(), capture_output=True, env=env, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    text = out.decode("utf-8", "replace")
    reads: list[CharRead] = []
    # Each read character is followed by its lstm_choices block; split on the character spans.
    parts = re.split(r"<span class='ocrx_cinfo' title='x_bboxes [^;]*; x_conf ([\d.]+)'>([^<]*)</span>", text)
    for i in range(1, len(parts) - 1, 3):
        conf, ch, tail = float(parts[i]) / 100.0, html.unescape(parts[i + 1]), parts[i + 2]
        if not ch.strip():
            continue
        alts: dict[str, float] = {}
        for c, a in re.findall(r"x_confs ([\d.]+)'>([^<]*)<", tail):
            a = html.unescape(a)
            alts[a] = max(alts.get(a, 0.0), float(c) / 100.0)
        reads.append(CharRead(ch, min(1.0, conf), alts))
    return reads


def _norm_glyph(mask: np.ndarray) -> np.ndarray:
    """A binary glyph as a unit vector: cropped to its ink, scaled to _GH high, centred, softened."""
    import cv2

    ys, xs = np.nonzero(mask)
    v = np.zeros((_GH, _GW), np.float32)
    if len(ys) == 0:
        return v.ravel()
    b = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32)
    h, w = b.shape
    nw = max(1, min(_GW, round(w * _GH / h)))
    off = (_GW - nw) // 2
    v[:, off : off + nw] = cv2.resize(b, (nw, _GH), interpolation=cv2.INTER_AREA)
    v = cv2.GaussianBlur(v, (3, 3), 0).ravel()
    v -= v.mean()
    return v / (float(np.linalg.norm(v)) + 1e-6)


@functools.cache
def _digit_templates() -> tuple[np.ndarray, np.ndarray]:
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    feats, labels = [], []
    for name in _FONTS:
        path = os.path.join(_FONT_DIR, name)
        if not os.path.exists(path):
            continue
        for size in (40, 56):
            font = ImageFont.truetype(path, size)
            for d in "0123456789":
                im = Image.new("L", (size * 2, size * 2), 0)
                ImageDraw.Draw(im).text((size // 2, size // 4), d, 255, font=font)
                a = (np.asarray(im) > 127).astype(np.uint8)
                # Plate digits are narrower or wider than any one font and vary in stroke weight with blur.
                for sx in (0.8, 1.0, 1.25):
                    for k in (-1, 0, 1):
                        b = cv2.resize(a, None, fx=sx, fy=1.0, interpolation=cv2.INTER_NEAREST)
                        if k > 0:
                            b = cv2.dilate(b, np.ones((3, 3), np.uint8))
                        elif k < 0:
                            b = cv2.erode(b, np.ones((2, 2), np.uint8))
                        feats.append(_norm_glyph(b))
                        labels.append(int(d))
    # The plate font's 1 is a bare bar with a short flag, no foot (DejaVu's has one): draw it.
    for w in (5, 7, 9):
        for flag in (0, 6, 10):
            b = np.zeros((48, 24), np.uint8)
            cv2.rectangle(b, (12 - w // 2, 2), (12 + w // 2, 45), 1, -1)
            if flag:
                cv2.line(b, (12 - w // 2, 3), (12 - w // 2 - flag, 3 + flag), 1, max(2, w - 2))
            feats.append(_norm_glyph(b))
            labels.append(1)
    return np.asarray(feats, np.float32), np.asarray(labels)


def read_digit(mask: np.ndarray) -> CharRead:
    """The digit a binary glyph shows, with the other digits' probabilities as alternatives."""
    feats, labels = _digit_templates()
    sim = feats @ _norm_glyph(mask > 0)
    best = np.array([sim[labels == d].max() for d in range(10)])
    p = np.exp((best - best.max()) / _SOFT_T)
    p /= p.sum()
    order = np.argsort(-p)
    return CharRead(str(order[0]), float(p[order[0]]), {str(d): float(p[d]) for d in order[:3]})


@dataclass
class _Line:
    binary: np.ndarray  # text white on black, LINE_H high
    glyphs: list[tuple[int, int, int, int]]  # x, y, w, h, left to right


def _binarise(gray: np.ndarray, dark_text: bool) -> np.ndarray:
    import cv2

    b = cv2.GaussianBlur(gray, (3, 3), 0)
    mode = cv2.THRESH_BINARY_INV if dark_text else cv2.THRESH_BINARY
    return cv2.threshold(b, 0, 255, mode + cv2.THRESH_OTSU)[1]


def _glyphs(binary: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Glyph boxes on the plate's main text line: the digits fix the line's height and band, and every
    component inside the band is merged with what it overlaps horizontally (a syllable is 2-3 pieces)."""
    import cv2

    n, _, st, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    hh, ww = binary.shape
    comps = [tuple(int(v) for v in st[i, :4]) for i in range(1, n) if st[i, 4] > 15]
    tall = [c for c in comps if 0.35 * hh <= c[3] <= 0.92 * hh and c[2] < 0.25 * ww and c[2] < 1.2 * c[3]]
    if len(tall) < 4:
        return []
    hs = float(np.median([c[3] for c in tall]))
    cy = float(np.median([c[1] + c[3] / 2 for c in tall]))
    digits = [c for c in tall if abs(c[3] - hs) < 0.2 * hs and abs(c[1] + c[3] / 2 - cy) < 0.25 * hs]
    if len(digits) < 4:
        return []
    top, bot = min(c[1] for c in digits), max(c[1] + c[3] for c in digits)
    band = sorted(
        c
        for c in comps
        if c[1] >= top - 0.15 * hs and c[1] + c[3] <= bot + 0.15 * hs and c[3] > 0.12 * hs and c[2] < 0.9 * hs
    )
    groups: list[tuple[int, int, int, int]] = []
    for x, y, w, h in band:
        if groups and x < groups[-1][0] + groups[-1][2] - 0.2 * w:
            gx, gy, gw, gh = groups[-1]
            nx, ny = min(gx, x), min(gy, y)
            groups[-1] = (nx, ny, max(gx + gw, x + w) - nx, max(gy + gh, y + h) - ny)
        else:
            groups.append((x, y, w, h))
    return [g for g in groups if g[3] > 0.5 * hs]


def _line(gray: np.ndarray) -> _Line:
    """The polarity (dark text on a light plate, or light on dark) that splits into plate-like glyphs."""
    best: _Line | None = None
    for dark in (True, False):
        b = _binarise(gray, dark)
        line = _Line(b, _glyphs(b))
        if best is None or abs(len(line.glyphs) - 7.5) < abs(len(best.glyphs) - 7.5):
            best = line
    assert best is not None
    return best


def _syllable(binary: np.ndarray, box: tuple[int, int, int, int]) -> CharRead:
    import cv2

    x, y, w, h = box
    glyph = 255 - binary[y : y + h, x : x + w]
    pad = h // 2
    img = cv2.copyMakeBorder(glyph, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    reads: list[CharRead] = []
    # Single-character mode first; the single-word and single-line modes find a blurred syllable it misses.
    for psm in (10, 8, 7):
        reads = [r for r in _tesseract(img, psm, CLASS_SYLLABLES) if r.char in CLASS_SYLLABLES]
        if reads:
            break
    if not reads:
        return CharRead("?", 0.0)
    r = max(reads, key=lambda c: c.conf)
    r.alternatives = {a: p for a, p in r.alternatives.items() if a in CLASS_SYLLABLES}
    return r


def read_crop(crop: np.ndarray) -> PlateRead | None:
    """The plate in a tight crop (a little bumper around it is fine), or None when it reads as no plate."""
    import cv2

    if crop is None or crop.size == 0 or min(crop.shape[:2]) < 8:
        return None
    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    s = LINE_H / gray.shape[0]
    gray = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    line = _line(gray)
    if len(line.glyphs) in (7, 8):
        hi = len(line.glyphs) - 5  # the syllable sits before the 4-digit serial
        chars = [
            _syllable(line.binary, g) if i == hi else read_digit(_crop(line.binary, g))
            for i, g in enumerate(line.glyphs)
        ]
        read = PlateRead(chars)
        if is_plate(read.text):
            return read
    # Two-line and region-prefixed plates: whole-crop tesseract, kept only when the grammar accepts it.
    for psm in (7, 6):
        chars = [c for c in _tesseract(gray, psm, None) if normalise(c.char)]
        read = PlateRead(chars)
        if chars and is_plate(read.text):
            return read
    return None


def _crop(binary: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return binary[y : y + h, x : x + w]


def plate_candidates(img: np.ndarray, limit: int = 6) -> list[tuple[int, int, int, int]]:
    """Plate-like boxes (x, y, w, h) in a vehicle crop or scene: the whole image when it is already
    plate-shaped, else bright-ish rectangles of plate aspect dense in vertical strokes (classical, no model)."""
    import cv2

    h, w = img.shape[:2]
    if 1.4 <= w / max(h, 1) <= 6.0 and w <= 700:
        return [(0, 0, w, h)]
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    # Characters are dark strokes on a light plate: black-hat picks them, closing joins them into a block.
    k = max(3, int(min(h, w) / 60)) | 1
    bh = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k * 3, k)))
    gx = np.abs(cv2.Sobel(bh, cv2.CV_32F, 1, 0, ksize=3))
    gx = cv2.normalize(gx, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    closed = cv2.morphologyEx(gx, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k * 5, k)))
    mask = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for c in contours:
        x, y, bw, bh_ = cv2.boundingRect(c)
        if bh_ < 10 or not 2.0 <= bw / bh_ <= 7.0 or bw > 0.8 * w:
            continue
        boxes.append((bw * bh_, (x, y, bw, bh_)))
    boxes.sort(reverse=True)
    out = []
    for _, (x, y, bw, bh_) in boxes[:limit]:
        # A margin: the closed block hugs the characters, the glyph split wants a little plate around them.
        mx, my = int(0.08 * bw), int(0.25 * bh_)
        x0, y0 = max(0, x - mx), max(0, y - my)
        out.append((x0, y0, min(w, x + bw + mx) - x0, min(h, y + bh_ + my) - y0))
    return out


def read_image(img: np.ndarray) -> list[PlateRead]:
    """Every plate read in an image (a plate crop, a vehicle crop or a scene), best first."""
    reads = []
    for x, y, w, h in plate_candidates(img):
        r = read_crop(img[y : y + h, x : x + w])
        if r is not None:
            r.box = (x, y, w, h)
            reads.append(r)
    reads.sort(key=lambda r: -r.confidence)
    seen, out = set(), []
    for r in reads:
        if r.text not in seen:
            seen.add(r.text)
            out.append(r)
    return out
