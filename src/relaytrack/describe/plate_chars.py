"""A small character classifier for plate glyphs: the ten digits, the class syllables the plate grammar
allows, and a "not a character" class (bolts, frame edges, dirt).

It is a one-hidden-layer perceptron in NumPy over a 32x32 grey patch of the glyph stretched to fill it, the
patch's stroke directions in 4x4-pixel cells and the glyph box's aspect, trained on characters
rendered from the fonts on the machine (Noto Sans CJK for Hangul and digits, DejaVu Sans for digits) under
augmentations that imitate plate photographs: condensed and widened shapes, stroke weight, rotation, shear
and perspective, low resolution, blur, noise, JPEG, contrast, and the loose boxes a glyph split gives. Nothing
from the dev photographs is needed; `train(extra=...)` adds glyphs cut from the *tune* half of the
korean-plates-dev set when asked (`relaytrack plate train --dev-tune`; never the held-out half).

The model is a generated file (`plate-chars.npz` in the project's models folder, about 0.8 MB), built by
`relaytrack plate train` or on first use; a given seed gives the same file.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from relaytrack.describe.plate_grammar import CLASS_SYLLABLES

DIGITS = "0123456789"
JUNK = "#"
CLASSES = DIGITS + CLASS_SYLLABLES + JUNK
SIZE = 32  # patch side
ORIENT, CELL = 8, 4  # stroke directions and cell side (pixels) of the orientation features
DIM = SIZE * SIZE + ORIENT * (SIZE // CELL) ** 2 + 1  # pixels, orientations, aspect
MODEL_FILE = "plate-chars.npz"
VERSION = 4  # bump when the patch or the training changes: an older file is rebuilt
_NOTO = "/usr/share/fonts/opentype/noto/"
_DEJAVU = "/usr/share/fonts/truetype/dejavu/"
# (file, ttc index, used for Hangul too)
_FONTS = (
    (_NOTO + "NotoSansCJK-Bold.ttc", 1, True),
    (_NOTO + "NotoSansCJK-Regular.ttc", 1, True),
    (_DEJAVU + "DejaVuSans-Bold.ttf", 0, False),
    (_DEJAVU + "DejaVuSansCondensed-Bold.ttf", 0, False),
    (_DEJAVU + "DejaVuSansCondensed.ttf", 0, False),
)


def fonts_status() -> str | None:
    """None when the fonts the classifier is trained from are installed, else a one-line reason."""
    if not any(os.path.exists(f) for f, _, hangul in _FONTS if hangul):
        return f"plate character model needs the Noto CJK fonts in {_NOTO} (apt-get install fonts-noto-cjk)"
    return None


def patch(
    gray: np.ndarray, box: tuple[int, int, int, int], dark_text: bool = True, margin: float = 0.08
) -> np.ndarray:
    """The classifier's input for the glyph in `box` of a grey image: a margin around the box, dark text on
    light, stretched to fill a SIZE x SIZE square (zero mean, unit variance), then the stroke directions of
    that square (`_orientations`) and the box's aspect (a stretched 1 and a stretched 8 differ in it)."""
    import cv2

    x, y, w, h = box
    m = max(1, round(margin * max(w, h)))
    x0, y0 = max(0, x - m), max(0, y - m)
    g = gray[y0 : y + h + m, x0 : x + w + m].astype(np.float32)
    if g.size == 0:
        g = np.full((4, 4), 255.0, np.float32)
    if not dark_text:
        g = 255.0 - g
    # Filling the square (rather than keeping the glyph's aspect inside it) gives a tall plate syllable's
    # short vowel stroke the room that tells 머 from 마 and 보 from 모.
    p = cv2.resize(g, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return features(p, w / max(h, 1))


def features(p: np.ndarray, aspect: float) -> np.ndarray:
    """The input vector for a SIZE x SIZE grey patch (any scale) of a box of width/height `aspect`."""
    p = p - p.mean()
    p = p / (p.std() + 1e-3)
    return np.concatenate([p.ravel(), _orientations(p), [3.0 * np.log(max(aspect, 0.05))]]).astype(np.float32)


def _orientations(p: np.ndarray) -> np.ndarray:
    """Where strokes run which way: gradient magnitude split over ORIENT signed directions, pooled in
    CELL x CELL cells (a histogram of oriented gradients), scaled to unit mean square."""
    import cv2

    gx = cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(p, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.sqrt(gx * gx + gy * gy)
    b = (np.arctan2(gy, gx) + np.pi) * (ORIENT / (2 * np.pi))
    d = np.abs(b[None] - np.arange(ORIENT, dtype=np.float32)[:, None, None])
    d = np.minimum(d, ORIENT - d)
    ch = mag[None] * np.maximum(0.0, 1.0 - d)  # each gradient shared between its two nearest directions
    n = SIZE // CELL
    out = np.stack(
        [
            cv2.resize(cv2.GaussianBlur(c, (0, 0), CELL / 2), (n, n), interpolation=cv2.INTER_AREA)
            for c in ch.astype(np.float32)
        ]
    ).ravel()
    return out * (np.sqrt(out.size) / (np.linalg.norm(out) + 1e-3))


# --- synthetic glyphs ---------------------------------------------------------------------------------------


@functools.cache
def _font(path: str, index: int, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size, index=index)


def _render(ch: str, rng: np.random.Generator) -> np.ndarray:
    """A character as an ink mask (uint8 0/1) at about 64 px high, in a random font, width and weight."""
    import cv2
    from PIL import Image, ImageDraw

    if ch == "1" and rng.random() < 0.4:
        return _plate_one(rng)
    if ch == "3" and rng.random() < 0.5:
        return _plate_three(rng)
    fonts = [(f, i) for f, i, hangul in _FONTS if os.path.exists(f) and (hangul or ch in DIGITS)]
    f, i = fonts[rng.integers(len(fonts))]
    font = _font(f, i, 64)
    im = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(im).text((20, 10), ch, 255, font=font)
    a = (np.asarray(im) > 127).astype(np.uint8)
    ys, xs = np.nonzero(a)
    a = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    # Plate fonts are condensed; some are wide. Stroke weight varies with the font and with blur.
    sx = rng.uniform(0.55, 1.15) if ch in DIGITS else rng.uniform(0.7, 1.25)
    a = cv2.resize(a, None, fx=sx, fy=rng.uniform(0.9, 1.1), interpolation=cv2.INTER_NEAREST)
    k = int(rng.integers(-2, 5))
    a = np.pad(a, 6)
    if k > 0:
        a = cv2.dilate(a, np.ones((k, k), np.uint8))
    elif k < 0:
        a = cv2.erode(a, np.ones((-k + 1, -k + 1), np.uint8))
    return a


def _plate_one(rng: np.random.Generator) -> np.ndarray:
    """The plate font's 1: a bare bar with a flag at the top left, no foot (the fonts' 1s have feet or
    short flags, and read as 7 on plates)."""
    import cv2

    w = int(rng.integers(6, 13))
    flag = int(rng.integers(6, 16))
    a = np.zeros((64, 40), np.uint8)
    cv2.rectangle(a, (24 - w // 2, 2), (24 + w // 2, 61), 1, -1)
    cv2.line(
        a, (24 - w // 2, 4), (24 - w // 2 - flag, 4 + int(flag * rng.uniform(0.4, 0.9))), 1, max(3, w - 2)
    )
    return np.pad(a, 6)


def _plate_three(rng: np.random.Generator) -> np.ndarray:
    """The plate font's 3: a flat top bar, a diagonal down to the middle, a round lower bowl (the fonts'
    round-topped 3s made real plate 3s read as 5)."""
    import cv2

    t = int(rng.integers(5, 11))
    w = int(rng.integers(30, 40))
    a = np.zeros((64, w + 8), np.uint8)
    top, mid = 3 + t // 2, int(rng.integers(24, 30))
    cv2.line(a, (4, top), (w, top), 1, t)
    cv2.line(a, (w, top), (w // 2, mid), 1, t)
    ry = (60 - t // 2 - mid) // 2
    cv2.ellipse(a, (w // 2 + 2, mid + ry), (w // 2 - 1, ry), 0, -100, 150, 1, t)
    return np.pad(a, 6)


def _junk(rng: np.random.Generator) -> np.ndarray:
    """Something a glyph split picks up that is no character: a bolt, a frame edge, a dash, a smear."""
    import cv2

    a = np.zeros((64, 64), np.uint8)
    kind = rng.integers(5)
    if kind == 0:  # bolt
        cv2.circle(a, (32, 32), int(rng.integers(8, 22)), 1, -1 if rng.random() < 0.5 else 4)
    elif kind == 1:  # frame edge: a bar, straight or curved, at a side
        t = int(rng.integers(4, 14))
        cv2.ellipse(a, (int(rng.integers(-20, 10)), 32), (40, 60), 0, -60, 60, 1, t)
    elif kind == 2:  # dash or dot
        w, h = int(rng.integers(6, 40)), int(rng.integers(4, 14))
        cv2.rectangle(a, (32 - w // 2, 32 - h // 2), (32 + w // 2, 32 + h // 2), 1, -1)
    elif kind == 3:  # random blob strokes
        for _ in range(int(rng.integers(1, 4))):
            p = rng.integers(4, 60, 4)
            cv2.line(a, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), 1, int(rng.integers(3, 10)))
    else:  # two half characters (a split between glyphs)
        lf, r = _render(str(rng.integers(10)), rng), _render(str(rng.integers(10)), rng)
        h = min(lf.shape[0], r.shape[0])
        a = np.hstack([lf[:h, lf.shape[1] // 2 :], r[:h, : r.shape[1] // 2]])
    return a


def synth(ch: str, rng: np.random.Generator) -> np.ndarray:
    """One augmented training patch of character `ch` (JUNK for a non-character)."""
    import cv2

    a = _junk(rng) if ch == JUNK else _render(ch, rng)
    a = np.pad(a, 16).astype(np.float32)
    h, w = a.shape
    # Rotation, shear and a little perspective.
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = rng.normal(0, 0.03, (4, 2)) * [w, h]
    sh = rng.uniform(-0.12, 0.3) * h  # plates photographed from the side lean
    dst = (src + j + np.float32([[sh, 0], [sh, 0], [0, 0], [0, 0]])).astype(np.float32)
    M = cv2.getPerspectiveTransform(src, dst)
    ang = rng.normal(0, 3)
    R = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0), [0, 0, 1]])
    a = cv2.warpPerspective(a, R @ M, (w, h))
    # Grey levels: ink on plate, some contrast, a shading gradient.
    ink, paper = rng.uniform(0, 110), rng.uniform(140, 255)
    g = paper + (ink - paper) * a
    g += np.linspace(0, rng.normal(0, 25), w)[None, :]
    ys, xs = np.nonzero(a > 0.5)
    if len(ys) == 0:
        ys, xs = np.array([h // 2]), np.array([w // 2])
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    # Neighbouring glyphs or a frame just outside the box.
    if rng.random() < 0.3:
        gap = int(rng.integers(5, 12)) * (y1 - y0) // 60
        side = int(x0 - gap - 5) if rng.random() < 0.5 else int(x1 + gap)
        g[y0:y1, max(0, side) : max(0, side + 5)] = ink
    # Low resolution, blur, noise, JPEG.
    s = rng.uniform(12, 48) / (y1 - y0)
    small = cv2.resize(g, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.6:
        small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 1.3))
    small = small + rng.normal(0, rng.uniform(0, 12), small.shape)
    small = np.clip(small, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        small = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    # The box a glyph split would give: the ink's, a few pixels off.
    bx = np.array([x0, y0, x1 - x0, y1 - y0], np.float32) * s
    bx += rng.normal(0, 0.06, 4) * [bx[2], bx[3], bx[2], bx[3]]
    bx = np.maximum(bx.round().astype(int), [0, 0, 2, 2])
    return patch(small, (int(bx[0]), int(bx[1]), int(bx[2]), int(bx[3])))


def synth_set(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for ci, ch in enumerate(CLASSES):
        # Digits are most of a plate and the syllables' confusions are the hard part: both get more.
        n = n_per_class * (2 if ch in DIGITS else 1)
        for _ in range(n):
            xs.append(synth(ch, rng))
            ys.append(ci)
    return np.asarray(xs, np.float32), np.asarray(ys, np.int64)


def jitter(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Patches moved, scaled, turned and sometimes blurred a little (copies of real glyphs); the orientation
    features are recomputed from the moved pixels, the aspect kept."""
    import cv2

    out = np.empty_like(x)
    for i, v in enumerate(x):
        a = v[: SIZE * SIZE].reshape(SIZE, SIZE)
        M = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), rng.normal(0, 3), rng.uniform(0.9, 1.1))
        M[:, 2] += rng.normal(0, 1.2, 2)
        M[0, 1] += rng.normal(0, 0.08)
        b = cv2.warpAffine(a, M, (SIZE, SIZE), borderMode=cv2.BORDER_REPLICATE)
        if rng.random() < 0.3:
            b = cv2.GaussianBlur(b, (0, 0), rng.uniform(0.4, 1.0))
        b = b + rng.normal(0, 0.1, b.shape).astype(np.float32)
        out[i] = features(b, float(np.exp(v[-1] / 3.0)))
    return out


# --- the classifier ----------------------------------------------------------------------------------------


class CharModel:
    def __init__(self, params: dict[str, np.ndarray]):
        self.w1, self.b1 = params["w1"].astype(np.float32), params["b1"].astype(np.float32)
        self.w2, self.b2 = params["w2"].astype(np.float32), params["b2"].astype(np.float32)
        self.classes = str(params["classes"])

    def probs(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for patches x [N, SIZE*SIZE] (rows follow `classes`)."""
        h = np.maximum(x @ self.w1 + self.b1, 0)
        z = h @ self.w2 + self.b2
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def fit(
    x: np.ndarray, y: np.ndarray, *, hidden: int = 256, epochs: int = 30, seed: int = 0, say=None
) -> dict[str, np.ndarray]:
    """Softmax MLP by mini-batch Adam with weight decay; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    d, k = x.shape[1], len(CLASSES)
    p = {
        "w1": rng.normal(0, np.sqrt(2 / d), (d, hidden)).astype(np.float32),
        "b1": np.zeros(hidden, np.float32),
        "w2": rng.normal(0, np.sqrt(1 / hidden), (hidden, k)).astype(np.float32),
        "b2": np.zeros(k, np.float32),
    }
    m = {n: np.zeros_like(v) for n, v in p.items()}
    v2 = {n: np.zeros_like(v) for n, v in p.items()}
    step, bs, wd = 0, 128, 1e-4
    n = len(x)
    for ep in range(epochs):
        lr = 2e-3 * 0.5 * (1 + np.cos(np.pi * ep / epochs))
        order = rng.permutation(n)
        loss = 0.0
        for s in range(0, n, bs):
            idx = order[s : s + bs]
            xb, yb = x[idx], y[idx]
            # Input dropout: a glyph cut from a photo often misses pieces.
            xb = xb * (rng.random(xb.shape, dtype=np.float32) > 0.1)
            hpre = xb @ p["w1"] + p["b1"]
            h = np.maximum(hpre, 0)
            z = h @ p["w2"] + p["b2"]
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            pr = e / e.sum(axis=1, keepdims=True)
            loss += float(-np.log(pr[np.arange(len(yb)), yb] + 1e-9).sum())
            dz = pr
            dz[np.arange(len(yb)), yb] -= 1
            dz /= len(yb)
            g = {"w2": h.T @ dz, "b2": dz.sum(0)}
            dh = (dz @ p["w2"].T) * (hpre > 0)
            g["w1"], g["b1"] = xb.T @ dh, dh.sum(0)
            step += 1
            for name in p:
                gi = g[name] + (wd * p[name] if name[0] == "w" else 0)
                m[name] = 0.9 * m[name] + 0.1 * gi
                v2[name] = 0.999 * v2[name] + 0.001 * gi * gi
                mh, vh = m[name] / (1 - 0.9**step), v2[name] / (1 - 0.999**step)
                p[name] -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        if say:
            say(f"epoch {ep + 1}/{epochs}: loss {loss / n:.3f}")
    return p


def train(
    out: Path,
    *,
    n_per_class: int = 400,
    epochs: int = 15,
    seed: int = 0,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
    say: Callable[[str], None] | None = None,
) -> Path:
    """Render, train and write the character model to `out`; returns the path. `extra`: real glyph
    patches and their class indices to train on as well (repeated to about a fifth of the set)."""
    t0 = time.perf_counter()
    x, y = synth_set(n_per_class, seed)
    if extra is not None:
        xr, yr = extra
        if len(xr):
            reps = max(1, len(x) // (4 * len(xr)))  # about a fifth of the training set, each copy jittered
            rng = np.random.default_rng(seed + 1)
            x = np.vstack([x, xr] + [jitter(xr, rng) for _ in range(reps - 1)])
            y = np.concatenate([y] + [yr] * reps)
    if say:
        say(f"{len(x)} training patches in {time.perf_counter() - t0:.0f} s; training")
    p = fit(x, y, epochs=epochs, seed=seed, say=say)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(
        tmp,
        w1=p["w1"].astype(np.float16),
        b1=p["b1"],
        w2=p["w2"].astype(np.float16),
        b2=p["b2"],
        classes=np.array(CLASSES),
        version=np.array(VERSION),
        real_glyphs=np.array(0 if extra is None else len(extra[0])),
    )
    os.replace(tmp, out)
    if say:
        say(f"wrote {out} in {time.perf_counter() - t0:.0f} s")
    return out


def model_path() -> Path:
    from relaytrack.paths import models_dir

    env = os.environ.get("RELAYTRACK_PLATE_CHARS")
    return Path(env) if env else models_dir() / MODEL_FILE


_cached: tuple[str, float, CharModel] | None = None


def is_current(path: Path | None = None) -> bool:
    """Whether the model file exists and is of this version with these classes (else `load` retrains it)."""
    path = path or model_path()
    if not path.exists():
        return False
    try:
        with np.load(path) as z:
            return int(z["version"]) == VERSION and str(z["classes"]) == CLASSES
    except (OSError, ValueError, KeyError):  # a truncated or foreign file: rebuilt like an old one
        return False


def load(path: Path | None = None) -> CharModel:
    """The character model, trained first (a few minutes) when its file is missing or from an older version."""
    global _cached
    path = path or model_path()
    if not is_current(path):
        import logging

        logging.getLogger(__name__).warning("plate character model missing or old: training %s", path)
        train(path)
    mt = path.stat().st_mtime
    if _cached is None or _cached[0] != str(path) or _cached[1] != mt:
        with np.load(path) as z:
            _cached = (str(path), mt, CharModel({k: z[k] for k in z.files}))
    return _cached[2]
