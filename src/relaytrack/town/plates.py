"""Korean registration plates on the town's vehicles: the plate text (a valid format from the plate grammar),
the plate picture (a Hangul font from the Debian fonts, white or yellow, one or two lines), and painting it
onto a vehicle's sprite through the camera's projection (a perspective warp of the plate picture onto the
plate's four projected corners), so its size, slant and blur follow the distance and angle like the body.

Plate randomness comes from its own generator (seeded from the town's seed), so adding plates leaves every
other draw of the town, and so its people, as they were.
"""

from __future__ import annotations

import functools
import math
import os

import cv2
import numpy as np

from relaytrack.describe.plate_chars import _FONTS
from relaytrack.describe.plate_grammar import COMMERCIAL, PRIVATE, RENTAL, parse_plate
from relaytrack.errors import RelaytrackError

PLATE_STREAM = 0x504C41  # "PLA": the plate generator's stream next to the town's seed
TRUCK_SHARE = 0.2  # of the planned cars that are vans/trucks (Porter-like box trucks), from the plate stream
# Plate size (m) and the height of its centre above the road, per vehicle kind; motorbikes carry one at the back.
PLATE_SIZE = {"car": (0.52, 0.11), "truck": (0.52, 0.11), "bus": (0.52, 0.11), "motorcycle": (0.21, 0.115)}
PLATE_Z = {"car": 0.5, "truck": 0.52, "bus": 0.62, "motorcycle": 0.72}
PX_PER_M = 1000  # the plate picture is drawn at 1 px per mm
WHITE = (246, 246, 244)
YELLOW = (30, 196, 240)  # BGR: commercial plates
INK = (22, 22, 24)
EXPOSURE_S = 1 / 200  # shutter time behind the motion blur
MOTO_DISTRICTS = {"서울": ("강남", "종로", "마포", "송파", "중구"), "경기": ("수원", "성남", "고양", "부천")}


class PlateFontError(RelaytrackError):
    pass


def hangul_font_path() -> tuple[str, int]:
    """The Hangul font (file, ttc index) the plate pictures are drawn in: the one the plate reader's character
    model is trained from (Noto Sans CJK, fonts-noto-cjk)."""
    for f, idx, hangul in _FONTS:
        if hangul and os.path.exists(f):
            return f, idx
    tried = ", ".join(f for f, _, hangul in _FONTS if hangul)
    raise PlateFontError(
        f"town vehicles' plates need a Hangul font and none is installed ({tried}): apt-get install "
        "fonts-noto-cjk, or render without vehicles (--vehicles 0)"
    )


# ------------------------------------------------------------------------------------------ plate text


def _digits(rng: np.random.Generator, lo: int, hi: int) -> str:
    return str(int(rng.integers(lo, hi + 1)))


def plate_text(rng: np.random.Generator, kind: str) -> str:
    """A valid Korean plate for a vehicle of `kind` (car, truck, bus, motorcycle)."""
    if kind == "motorcycle":
        region = ("서울", "경기")[int(rng.integers(2))]
        districts = MOTO_DISTRICTS[region]
        text = region + districts[int(rng.integers(len(districts)))]
        text += PRIVATE[int(rng.integers(len(PRIVATE)))] + _digits(rng, 1000, 9999)
    else:
        u = rng.random()
        if kind == "bus":
            cls, lo, hi = "자", 70, 79
        elif kind == "truck":
            cls = (
                COMMERCIAL[int(rng.integers(len(COMMERCIAL)))] if u < 0.45 else PRIVATE[int(rng.integers(20))]
            )
            lo, hi = 80, 97
        elif u < 0.1:
            cls, lo, hi = RENTAL[int(rng.integers(len(RENTAL)))], 11, 69
        elif u < 0.18:
            cls, lo, hi = "바사아자"[int(rng.integers(4))], 11, 69  # taxis
        else:
            cls, lo, hi = PRIVATE[int(rng.integers(len(PRIVATE)))], 11, 69
        head = _digits(rng, lo, hi) if rng.random() < 0.55 else _digits(rng, lo * 10, hi * 10 + 9)
        text = head + cls + _digits(rng, 1000, 9999)
    parse_plate(text)  # a generated plate that the grammar refuses is a bug here
    return text


def plate_style(text: str) -> str:
    """white (private, rental), yellow (commercial), moto (two-line motorbike plate)."""
    p = parse_plate(text)
    if p.kind == "motorbike":
        return "moto"
    return "yellow" if p.kind == "commercial" else "white"


def assign_plates(vehicles: list, seed: int) -> None:
    """Give each planned vehicle its plate and turn some cars into trucks, from the plate stream only."""
    rng = np.random.default_rng([seed, PLATE_STREAM])
    used: set[str] = set()
    for v in vehicles:
        if v.kind == "car" and rng.random() < TRUCK_SHARE:
            v.kind = "truck"
        text = plate_text(rng, v.kind)
        while text in used:
            text = plate_text(rng, v.kind)
        used.add(text)
        v.plate, v.plate_style = text, plate_style(text)


# ------------------------------------------------------------------------------------------ plate picture


@functools.cache
def _font(size: int):
    from PIL import ImageFont

    path, idx = hangul_font_path()
    return ImageFont.truetype(path, size, index=idx)


def _glyph(ch: str, h: int) -> np.ndarray:
    """One character's ink (uint8 0..255), tightly cropped, drawn about h px high."""
    from PIL import Image, ImageDraw

    font = _font(int(h * 1.25))
    im = Image.new("L", (int(h * 2.2), int(h * 2.2)), 0)
    ImageDraw.Draw(im).text((int(h * 0.2), 0), ch, 255, font=font)
    a = np.asarray(im)
    ys, xs = np.nonzero(a > 40)
    return a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _line(img: np.ndarray, text: str, x0: int, x1: int, y0: int, y1: int) -> None:
    """Characters of `text` laid out across [x0, x1) x [y0, y1) in condensed plate style (ink blended in)."""
    widths = [1.35 if not ch.isdigit() else 1.0 for ch in text]
    gap = 0.12
    unit = (x1 - x0) / (sum(widths) + gap * (len(text) - 1))
    x = float(x0)
    for ch, w in zip(text, widths, strict=True):
        cw, ch_h = max(2, int(unit * w)), y1 - y0
        g = cv2.resize(_glyph(ch, ch_h), (cw, ch_h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        roi = img[y0:y1, int(x) : int(x) + cw]
        g = g[:, : roi.shape[1]]
        roi[:] = roi * (1 - g[..., None]) + np.asarray(INK, np.float32) * g[..., None]
        x += unit * (w + gap)


@functools.cache
def plate_picture(text: str, style: str) -> np.ndarray:
    """The plate as a BGR float32 picture at 1 px per mm (520x110 for cars, 210x115 two-line for motorbikes)."""
    w, h = (210, 115) if style == "moto" else (520, 110)
    bg = YELLOW if style == "yellow" else WHITE
    img = np.empty((h, w, 3), np.float32)
    img[:] = bg
    cv2.rectangle(img, (2, 2), (w - 3, h - 3), INK, 3)
    if style == "moto":
        p = parse_plate(text)
        top = p.region + text[len(p.region) : len(text) - 5]
        _line(img, top, 40, w - 40, 10, 42)
        _line(img, text[-5:], 12, w - 12, 50, 105)
    else:
        _line(img, text, 26, w - 26, 14, h - 14)
    return img


# ------------------------------------------------------------------------------------------ painting


def plate_faces(v, x: float, y: float, heading: float) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(face, world corners TL TR BR BL as a viewer facing the plate sees them, outward normal) per plate."""
    h = math.radians(heading)
    fwd = np.array([math.sin(h), math.cos(h), 0.0])
    right = np.array([math.cos(h), -math.sin(h), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    pw, ph = PLATE_SIZE[v.kind]
    z = PLATE_Z[v.kind]
    base = np.array([x, y, z])
    out = []
    faces = (("rear", -1.0),) if v.kind == "motorcycle" else (("rear", -1.0), ("front", 1.0))
    for face, sgn in faces:
        c = base + sgn * (v.length / 2 + 0.02) * fwd
        side = -sgn * right  # the viewer's right
        corners = np.array(
            [
                c - side * pw / 2 + up * ph / 2,
                c + side * pw / 2 + up * ph / 2,
                c + side * pw / 2 - up * ph / 2,
                c - side * pw / 2 - up * ph / 2,
            ]
        )
        out.append((face, corners, sgn * fwd))
    return out


def paint_plates(
    canvas: np.ndarray,
    cam,
    v,
    x: float,
    y: float,
    heading: float,
    origin: tuple[int, int],
    light: np.ndarray,
    night: bool,
    speed: float,
) -> list[tuple[str, np.ndarray, float]]:
    """Warp the vehicle's plates that face the camera onto its sprite canvas (origin: the canvas's top-left
    in the image; speed: the vehicle's speed now, for the motion blur); returns (face, image corners (4, 2), depth) of each plate painted."""
    if not v.plate:
        return []
    pic = plate_picture(v.plate, v.plate_style)
    painted = []
    cpos = cam.centre
    for face, corners, normal in plate_faces(v, x, y, heading):
        centre = corners.mean(axis=0)
        to_cam = cpos - centre
        if float(normal @ to_cam) <= 0.12 * float(np.linalg.norm(to_cam)):
            continue  # seen from behind or edge-on
        uv, z = cam.project(corners)
        if z.min() < 0.8:
            continue
        dst = (uv - np.asarray(origin, np.float64)).astype(np.float32)
        lo = np.floor(dst.min(axis=0)).astype(int) - 2
        hi = np.ceil(dst.max(axis=0)).astype(int) + 3
        lo = np.maximum(lo, 0)
        hi = np.minimum(hi, [canvas.shape[1], canvas.shape[0]])
        if (hi - lo).min() < 1:
            continue
        # Bring the picture near its on-screen size first, so the warp does not alias the glyphs away.
        span = float(np.linalg.norm(dst[1] - dst[0]))
        s = min(1.0, max(2.5 * span, 8.0) / pic.shape[1])
        src_img = cv2.resize(pic, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else pic
        sh, sw = src_img.shape[:2]
        src = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
        H = cv2.getPerspectiveTransform(src, dst - lo.astype(np.float32))
        size = (int(hi[0] - lo[0]), int(hi[1] - lo[1]))
        warped = cv2.warpPerspective(src_img, H, size, flags=cv2.INTER_LINEAR)
        alpha = cv2.warpPerspective(np.ones((sh, sw), np.float32), H, size, flags=cv2.INTER_LINEAR)
        depth = float(z.mean())
        fwd = np.array([math.sin(math.radians(heading)), math.cos(math.radians(heading)), 0.0])
        warped, alpha = _blur(warped, alpha, cam, centre, fwd, speed, depth)
        lit = np.asarray(light, np.float32) * 0.92
        if night:
            lit = np.maximum(lit, 0.55)  # the plate lamp
        roi = canvas[lo[1] : hi[1], lo[0] : hi[0]]
        a = alpha[..., None]
        roi[:] = roi * (1 - a) + warped * lit * a
        painted.append((face, uv, depth))
    return painted


def _blur(
    img: np.ndarray, alpha: np.ndarray, cam, centre: np.ndarray, fwd: np.ndarray, speed: float, depth: float
) -> tuple[np.ndarray, np.ndarray]:
    """Motion blur along the vehicle's on-screen motion over the shutter time, and defocus growing with
    distance."""
    a, _ = cam.project(np.array([centre, centre + fwd * speed * EXPOSURE_S]))
    step = a[1] - a[0]
    length = float(np.hypot(*step))
    if length >= 1.2:
        n = int(math.ceil(length)) | 1
        k = np.zeros((n, n), np.float32)
        d = step / length
        for t in np.linspace(-length / 2, length / 2, 2 * n):
            k[int(round((n - 1) / 2 + t * d[1])), int(round((n - 1) / 2 + t * d[0]))] = 1.0
        k /= k.sum()
        img = cv2.filter2D(img * alpha[..., None], -1, k)
        alpha = cv2.filter2D(alpha, -1, k)
        img = img / np.maximum(alpha, 1e-3)[..., None]
    img = cv2.GaussianBlur(img, (0, 0), 0.3 + 0.012 * depth)
    return img, alpha
