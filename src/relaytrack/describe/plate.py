"""Reading Korean plates: find plate-like regions, split the text into glyphs, read each glyph.

Tesseract read whole plate lines poorly on real plates (about 1 in 10 exact on the tuning half of the dev
set: bolts, frames and the plate font throw it), and DejaVu digit templates with tesseract for the syllable
reached 0.37 exact. Now:
- the crop is split into glyph boxes every way the plate grammar allows (relaytrack.describe.plate_segment:
  several binarisations, the serial digits' line, a syllable of 1-3 pieces, bolts left at the ends, two-line
  plates);
- every glyph is read by a small character classifier trained on rendered characters
  (relaytrack.describe.plate_chars: digits, the class syllables and "no character"), each position
  restricted to what the grammar lets it be;
- the split whose characters the classifier is surest of wins; its per-character probabilities are the
  confidences and the runners-up the alternatives.
Plates the split cannot lay out (region prefixes) fall back to whole-line tesseract when it is installed, and
the grammar decides whether that is a plate.
"""

from __future__ import annotations

import functools
import html
import os
import re
import shutil
import subprocess

import numpy as np

from relaytrack.describe import plate_chars
from relaytrack.describe.plate_grammar import MILITARY, CharRead, PlateRead, is_plate, normalise
from relaytrack.describe.plate_segment import Layout, layouts, text_rows

LINE_H = 80  # plate crops are scaled to 1-2 times this height before splitting
MIN_CHAR_P = 0.01  # a read whose weakest character the classifier gives less than this is no plate
THREE_DIGIT_COST = 0.5  # 123가4567 plates are new and few; a bolt reads as 1
SYL_MAX_W = 1.2  # a syllable's width over the digits' height, at most
SKIP_C = 0.3  # a left-over group costs log(P(no character) + SKIP_C)
PATCH_MARGINS = (0.04, 0.08, 0.14)  # each glyph is read with these margins and the reads averaged
GEOMETRY_W = 20.0  # weight of the digits' irregularity against log-probabilities


@functools.cache
def tesseract_status() -> str | None:
    """None when tesseract with the Korean model is installed (the fallback for region-prefixed plates),
    else a one-line reason."""
    exe = shutil.which("tesseract")
    if exe is None:
        return "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-kor)"
    try:
        langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError) as err:
        return f"tesseract does not run ({err})"
    if "kor" not in langs.split():
        return "tesseract has no Korean model (apt-get install tesseract-ocr-kor)"
    return None


def status(*, trained: bool = False) -> str | None:
    """None when plates can be read (the character model exists or its fonts are there to train it on first
    use; with `trained`, only when it exists: ingest never stops minutes to train), else a one-line reason."""
    if plate_chars.is_current():
        return None
    if trained:
        # An old model file is as good as none: reading with it would retrain it in the middle of an ingest.
        what = (
            "an older plate character model"
            if plate_chars.model_path().exists()
            else "no plate character model"
        )
        return f"plate reading off: {what} at {plate_chars.model_path()} (relaytrack plate train)"
    if plate_chars.model_path().exists():
        return None
    why = plate_chars.fonts_status()
    return f"plate reading off: {why}" if why else None


def available() -> bool:
    return status() is None


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


_DIGIT_IDX = [plate_chars.CLASSES.index(c) for c in plate_chars.DIGITS]
_SYL_IDX = [i for i, c in enumerate(plate_chars.CLASSES) if c not in plate_chars.DIGITS + plate_chars.JUNK]
_JUNK_IDX = plate_chars.CLASSES.index(plate_chars.JUNK)


# Military and government syllables are rare on the road: a blurred civilian syllable must not become 합.
_PRIOR = np.array([0.1 if c in MILITARY else 1.0 for c in plate_chars.CLASSES], np.float32)


def _char(p: np.ndarray, kind: str) -> CharRead:
    """The best character of the kind a position allows, its probability, and two runners-up."""
    idx = _DIGIT_IDX if kind == "d" else _SYL_IDX
    p = p * _PRIOR
    order = sorted(idx, key=lambda i: -p[i])[:3]
    cls = plate_chars.CLASSES
    return CharRead(cls[order[0]], float(p[order[0]]), {cls[i]: round(float(p[i]), 4) for i in order})


def _score(lay: Layout, probs: dict, kinds: str) -> tuple[float, list[CharRead]]:
    chars = [_char(probs[(b, lay.dark_text)], k) for b, k in zip(lay.boxes, kinds, strict=True)]
    s = sum(float(np.log(c.conf + 1e-4)) for c in chars)
    # A left-over group the classifier takes for a character costs: dropping a real digit is a wrong plate.
    s += sum(float(np.log(probs[(b, lay.dark_text)][_JUNK_IDX] + SKIP_C)) for b in lay.skipped)
    # Digits are printed alike (one height, the serial at even steps); the syllable is about one glyph wide,
    # not a digit and a syllable run together.
    digits = [b for b, k in zip(lay.boxes, kinds, strict=True) if k == "d"]
    serial = digits[-4:]
    hs = np.array([b[3] for b in (serial if lay.two_line else digits)], np.float32)
    steps = np.diff([b[0] + b[2] / 2 for b in serial])
    syl = lay.boxes[kinds.index("H")]
    wide = max(0.0, syl[2] / max(1.0, float(np.median(hs))) - SYL_MAX_W)
    irregular = float((((hs - hs.mean()) / hs.mean()) ** 2).sum() + np.var(steps / steps.mean())) + wide**2
    # The type digits stand at the serial's pitch: a frame edge or bolt beside them reads as a leading 1 at
    # another distance (53어1144 read 153어1144).
    if not lay.two_line:
        head = digits[: len(digits) - 4]
        if len(head) >= 2:
            head_steps = np.diff([b[0] + b[2] / 2 for b in head])
            irregular += float(((head_steps / steps.mean() - 1.0) ** 2).sum())
    s -= GEOMETRY_W * irregular
    if kinds.startswith("ddd"):
        s -= THREE_DIGIT_COST
    return s, chars


def scaled(gray: np.ndarray) -> np.ndarray:
    """A crop brought to between LINE_H and 2 LINE_H pixels high (a two-line plate's upper line is small)."""
    import cv2

    h = gray.shape[0]
    s = min(max(h, LINE_H), 2 * LINE_H) / h
    return gray if s == 1 else cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)


def read_crop(crop: np.ndarray, *, tesseract: bool = True) -> PlateRead | None:
    """The plate in a tight crop (a little bumper around it is fine), or None when it reads as no plate.
    `tesseract`: try whole-line tesseract (when installed) on a crop the split cannot lay out."""
    import cv2

    if crop is None or crop.size == 0 or min(crop.shape[:2]) < 8:
        return None
    gray = scaled(crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY))
    lays = layouts(gray)
    if lays:
        model = plate_chars.load()
        keys = sorted({(b, lay.dark_text) for lay in lays for b in lay.boxes + lay.skipped})
        x = np.stack([plate_chars.patch(gray, b, dark, m) for m in PATCH_MARGINS for b, dark in keys])
        p = model.probs(x).reshape(len(PATCH_MARGINS), len(keys), -1).mean(axis=0)
        probs = dict(zip(keys, p, strict=True))
        best: tuple[float, list[CharRead]] | None = None
        for lay in lays:
            sc = _score(lay, probs, lay.kinds)
            if best is None or sc[0] > best[0]:
                best = sc
        if best is not None:
            read = PlateRead(best[1])
            if is_plate(read.text) and read.confidence >= MIN_CHAR_P:
                return read
    if tesseract and tesseract_status() is None:
        # Region-prefixed plates: whole-crop tesseract, kept only when the grammar accepts it.
        for psm in (7, 6):
            chars = [c for c in _tesseract(gray, psm, None) if normalise(c.char)]
            read = PlateRead(chars)
            if chars and is_plate(read.text):
                return read
    return None


def looks_like_plate_crop(img: np.ndarray) -> bool:
    """Plate-shaped, or small enough to be a plate crop (two-line plates with a bumper are nearly square); a
    vehicle crop from a 640x360 stream is often this small too, so this is a first guess, not a verdict."""
    h, w = img.shape[:2]
    return 1.4 <= w / max(h, 1) <= 6.0 and w <= 700 or (w <= 400 and h <= 300)


def plate_candidates(img: np.ndarray, limit: int = 6) -> list[tuple[int, int, int, int]]:
    """Plate-like boxes (x, y, w, h) in a vehicle crop or scene: bright-ish rectangles of plate aspect dense
    in vertical strokes (classical, no model), and text rows."""
    import cv2

    h, w = img.shape[:2]
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    rows = text_rows(gray)
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
    out = list(rows)
    for _, (x, y, bw, bh_) in boxes[:limit]:
        # A margin: the closed block hugs the characters, the glyph split wants a little plate around them.
        mx, my = int(0.08 * bw), int(0.25 * bh_)
        x0, y0 = max(0, x - mx), max(0, y - my)
        out.append((x0, y0, min(w, x + bw + mx) - x0, min(h, y + bh_ + my) - y0))
    return out


def read_image(img: np.ndarray) -> list[PlateRead]:
    """Every plate read in an image (a plate crop, a vehicle crop or a scene), best first."""
    reads = []
    h, w = img.shape[:2]
    if looks_like_plate_crop(img):
        # Whole-line tesseract only for a plate crop: in a scene it costs a second a region for little.
        r = read_crop(img, tesseract=True)
        if r is not None:
            r.box = (0, 0, w, h)
            return [r]
        # Not a plate after all: a small vehicle crop (a car at a traffic camera), where the plate is found.
    for x, y, bw, bh in plate_candidates(img):
        r = read_crop(img[y : y + bh, x : x + bw], tesseract=False)
        if r is not None:
            r.box = (x, y, bw, bh)
            reads.append(r)
    reads.sort(key=lambda r: -r.confidence)
    seen, out = set(), []
    for r in reads:
        if r.text not in seen:
            seen.add(r.text)
            out.append(r)
    return out
