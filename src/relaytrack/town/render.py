"""Rendering one camera's view: a static background (ground texture, boxes with a depth buffer) drawn once,
then per frame the people and vehicles as sprites in depth order, ground shadows, lighting, sensor noise and
an on-screen clock. The label buffer gives each person's visible share for the ground truth."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from relaytrack.town.actors import Person
from relaytrack.town.camera import PinholeCamera, cam_to_pixels, clip_polygon_near
from relaytrack.town.humanoid import Sprite, draw_person
from relaytrack.town.vehicle_sprite import draw_vehicle  # noqa: F401 (re-exported: render.draw_vehicle)
from relaytrack.town.world import Box3, World

LIGHTINGS = ("day", "dusk", "night")


@dataclass(frozen=True, slots=True)
class Lighting:
    name: str
    ambient: float
    tint: tuple[float, float, float]  # BGR
    lamp: float  # street-light strength
    lamp_tint: tuple[float, float, float]
    sky_top: tuple[int, int, int]
    sky_horizon: tuple[int, int, int]
    noise: float  # sensor noise sigma (grey levels)
    shadow: float  # darkening under people/vehicles


LIGHT = {
    "day": Lighting("day", 1.0, (1.0, 1.0, 1.0), 0.0, (1, 1, 1), (225, 185, 140), (235, 220, 205), 2.5, 0.55),
    "dusk": Lighting(
        "dusk", 0.55, (0.85, 0.93, 1.12), 0.45, (0.7, 0.9, 1.15), (120, 80, 95), (110, 150, 225), 4.0, 0.8
    ),
    "night": Lighting(
        "night", 0.2, (1.15, 1.0, 0.9), 1.1, (0.72, 0.92, 1.15), (28, 18, 14), (55, 45, 40), 6.0, 0.85
    ),
}


def light_field(world: World, lighting: Lighting, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """BGR illumination multiplier at ground points (...,) -> (...,3)."""
    base = np.asarray(lighting.tint, np.float32) * lighting.ambient
    out = np.broadcast_to(base, (*xs.shape, 3)).astype(np.float32).copy()
    if lighting.lamp > 0:
        pool = np.zeros(xs.shape, np.float32)
        for lx, ly in world.lights:
            d2 = (xs - lx) ** 2 + (ys - ly) ** 2
            pool += np.exp(-d2 / (2 * 5.5**2)).astype(np.float32)
        pool = np.minimum(pool, 1.4) * lighting.lamp
        out += pool[..., None] * np.asarray(lighting.lamp_tint, np.float32)
    return out


@dataclass(slots=True)
class View:
    """Everything static about one camera's picture."""

    cam: PinholeCamera
    background: np.ndarray  # uint8 HxWx3, lit
    occ_depth: np.ndarray  # float32 HxW, depth of boxes (buildings, furniture), inf elsewhere
    noise_pos: list[np.ndarray]
    noise_neg: list[np.ndarray]


def _box_faces(b: Box3) -> list[tuple[np.ndarray, np.ndarray, str]]:
    x0, y0, x1, y1, z0, z1 = b.x0, b.y0, b.x1, b.y1, b.z0, b.z1
    return [
        (np.array([[x0, y0, z0], [x1, y0, z0], [x1, y0, z1], [x0, y0, z1]]), np.array([0.0, -1, 0]), "s"),
        (np.array([[x1, y1, z0], [x0, y1, z0], [x0, y1, z1], [x1, y1, z1]]), np.array([0.0, 1, 0]), "n"),
        (np.array([[x0, y1, z0], [x0, y0, z0], [x0, y0, z1], [x0, y1, z1]]), np.array([-1.0, 0, 0]), "w"),
        (np.array([[x1, y0, z0], [x1, y1, z0], [x1, y1, z1], [x1, y0, z1]]), np.array([1.0, 0, 0]), "e"),
        (np.array([[x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]]), np.array([0.0, 0, 1]), "top"),
    ]


FACE_SHADE = {"s": 0.92, "e": 0.8, "w": 0.7, "n": 0.62, "top": 1.05}


def build_view(
    world: World,
    cam: PinholeCamera,
    tex: np.ndarray,
    tex_origin: tuple[float, float],
    lighting: Lighting,
    rng: np.random.Generator,
    res: float = 0.1,
) -> View:
    H, W = cam.height, cam.width
    rays = cam.rays()
    rz = rays[..., 2]
    ground = rz < -1e-6
    t = np.where(ground, -cam.z / np.where(ground, rz, -1.0), np.inf)
    gx = cam.x + t * rays[..., 0]
    gy = cam.y + t * rays[..., 1]
    mapx = ((np.where(ground, gx, 0) - tex_origin[0]) / res).astype(np.float32)
    mapy = ((np.where(ground, gy, 0) - tex_origin[1]) / res).astype(np.float32)
    img = cv2.remap(
        tex, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(120, 135, 120)
    ).astype(np.float32)
    # Far ground fades into haze.
    haze = np.clip((t - 40) / 120, 0, 0.6)[..., None]
    img = img * (1 - haze) + np.asarray(lighting.sky_horizon, np.float32) * haze * 0.9
    lf = light_field(world, lighting, np.where(ground, gx, -1e4), np.where(ground, gy, -1e4))
    img *= lf
    # Sky gradient above the horizon.
    rows = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
    sky = (
        np.asarray(lighting.sky_top, np.float32) * (1 - rows)
        + np.asarray(lighting.sky_horizon, np.float32) * rows
    )
    img = np.where(ground[..., None], img, np.broadcast_to(sky, img.shape))
    depth = np.full((H, W), np.inf, np.float32)
    occ = np.full((H, W), np.inf, np.float32)
    boxes = [*world.buildings, *world.props, *(s.box for s in world.spots)]
    # Only boxes near enough to matter; far to near so nearer faces win where depth ties.
    cpos = cam.centre
    boxes = [b for b in boxes if np.hypot(*(b.centre[:2] - cpos[:2])) < 140]
    boxes.sort(key=lambda b: -float(np.hypot(*(b.centre[:2] - cpos[:2]))))
    for b in boxes:
        if b.style == "foliage":
            _draw_foliage(img, occ, cam, b, world, lighting, rng)
            continue
        for corners, normal, side in _box_faces(b):
            if float(normal @ (cpos - corners[0])) <= 0:
                continue  # back face
            cpts = clip_polygon_near(cam.to_cam(corners))
            if len(cpts) < 3:
                continue
            pix = cam_to_pixels(cam, cpts)
            if pix[:, 0].max() < 0 or pix[:, 1].max() < 0 or pix[:, 0].min() > W or pix[:, 1].min() > H:
                continue
            pix = np.clip(pix, -4 * W, 5 * W)
            mask = np.zeros((H, W), np.uint8)
            cv2.fillPoly(mask, [np.round(pix * 8).astype(np.int32)], 1, cv2.LINE_8, 3)
            ys, xs = np.nonzero(mask)
            if len(ys) == 0:
                continue
            # Exact per-pixel depth: ray/plane intersection.
            r = rays[ys, xs]
            denom = r @ normal
            tt = float(normal @ (corners[0] - cpos)) / np.where(np.abs(denom) > 1e-9, denom, 1e-9)
            nearer = tt < depth[ys, xs]
            ys, xs, tt = ys[nearer], xs[nearer], tt[nearer]
            depth[ys, xs] = tt
            occ[ys, xs] = tt
            shade = FACE_SHADE[side]
            wx, wy = cam.x + tt * rays[ys, xs, 0], cam.y + tt * rays[ys, xs, 1]
            wz = cam.z + tt * rays[ys, xs, 2]
            col = np.asarray(b.color, np.float32) * shade
            lit = light_field(world, lighting, wx, wy)
            if lighting.lamp > 0:
                # Street light reaches walls mostly low down.
                lit = lit * np.clip(1.2 - wz / 12, 0.5, 1.0)[:, None] + lighting.ambient * 0.1
            vals = col * lit
            if b.style == "building" and side != "top":
                vals = _windows(vals, wx, wy, wz, side, b, lighting)
            img[ys, xs] = vals
            _decorate(img, cam, b, side, corners, lighting, depth)
    img = np.clip(img, 0, 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (3, 3), 0.5)
    sigma = lighting.noise
    noise_pos, noise_neg = [], []
    for _ in range(6):
        n = rng.normal(0, sigma, (H, W, 1)) + rng.normal(0, sigma * 0.4, (H, W, 3))
        noise_pos.append(np.clip(n, 0, 255).astype(np.uint8))
        noise_neg.append(np.clip(-n, 0, 255).astype(np.uint8))
    return View(cam, img, occ, noise_pos, noise_neg)


def _windows(
    vals: np.ndarray, wx: np.ndarray, wy: np.ndarray, wz: np.ndarray, side: str, b: Box3, lighting: Lighting
) -> np.ndarray:
    along = wx - b.x0 if side in ("s", "n") else wy - b.y0
    floor = np.floor((wz - 0.8) / 2.8)
    fz = (wz - 0.8) - floor * 2.8
    fa = np.mod(along - 0.8, 2.6)
    win = (fz > 0.7) & (fz < 2.0) & (fa > 0.4) & (fa < 1.9) & (wz > 3.0) & (wz < b.z1 - 0.8)
    out = vals.copy()
    glass = np.array([70, 60, 55], np.float32) * lighting.ambient * np.asarray(lighting.tint, np.float32)
    out[win] = glass
    if lighting.lamp > 0:
        # Some windows are lit at dusk and night (hash of the window's cell keeps it stable).
        cell = (np.floor((along - 0.8) / 2.6) * 7 + floor * 13 + int(b.x0 * 3 + b.y0)) % 10
        lit = win & (cell < 4)
        out[lit] = np.array([110, 200, 245], np.float32) * min(1.0, 0.5 + lighting.lamp * 0.45)
    return out


def _decorate(
    img: np.ndarray,
    cam: PinholeCamera,
    b: Box3,
    side: str,
    corners: np.ndarray,
    lighting: Lighting,
    depth: np.ndarray,
) -> None:
    """Small details that make furniture recognisable: AC fan grille, mailbox slot, building door."""
    if side == "top":
        return
    c = corners.mean(axis=0)
    k = lighting.ambient
    if b.style == "ac_unit":
        uv, z = cam.project(np.array([c, c + np.array([0, 0, 0.2])]))
        if z[0] > 0.5:
            r = max(1, int(abs(uv[1][1] - uv[0][1])))
            cv2.circle(img, (int(uv[0][0]), int(uv[0][1])), r, (70 * k, 70 * k, 72 * k), -1, cv2.LINE_AA)
    elif b.style == "mailbox":
        p = np.array([c + np.array([0, 0, 0.3]), c + np.array([0, 0, 0.33])])
        uv, z = cam.project(p)
        if z[0] > 0.5:
            w = max(1, int(cam.f * 0.25 / z[0]))
            cv2.line(
                img,
                (int(uv[0][0] - w / 2), int(uv[0][1])),
                (int(uv[0][0] + w / 2), int(uv[0][1])),
                (20, 20, 40),
                max(1, int(cam.f * 0.03 / z[0])),
            )


def _draw_foliage(
    img: np.ndarray,
    occ: np.ndarray,
    cam: PinholeCamera,
    b: Box3,
    world: World,
    lighting: Lighting,
    rng: np.random.Generator,
) -> None:
    c = b.centre
    uv, z = cam.project(c)
    if z < 1.0:
        return
    r = (b.x1 - b.x0) / 2 * cam.f / z
    if uv[0] + r < 0 or uv[0] - r > cam.width or uv[1] + r < 0 or uv[1] - r > cam.height:
        return
    mask = np.zeros(occ.shape, np.uint8)
    for _ in range(6):
        off = rng.normal(0, 0.35, 2) * r
        cv2.circle(mask, (int(uv[0] + off[0]), int(uv[1] + off[1] * 0.8)), max(1, int(r * 0.7)), 1, -1)
    ys, xs = np.nonzero(mask & (occ > z))
    lit = light_field(world, lighting, np.array([c[0]]), np.array([c[1]]))[0]
    shade = 0.75 + 0.35 * rng.random(len(ys))
    img[ys, xs] = np.asarray(b.color, np.float32) * lit * shade[:, None]
    occ[ys, xs] = z


# ----------------------------------------------------------------------------------------- frames


def ground_shadow(
    frame: np.ndarray,
    cam: PinholeCamera,
    x: float,
    y: float,
    rx: float,
    ry: float,
    heading: float,
    strength: float,
) -> None:
    h = math.radians(heading)
    fwd = np.array([math.sin(h), math.cos(h)])
    right = np.array([math.cos(h), -math.sin(h)])
    a = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    pts = np.array([[x, y]]) + np.outer(np.cos(a) * rx, right) + np.outer(np.sin(a) * ry, fwd) + 0.15
    uv, z = cam.project(np.concatenate([pts, np.zeros((12, 1))], axis=1))
    if z.min() < 0.5:
        return
    lo = np.floor(uv.min(axis=0)).astype(int) - 2
    hi = np.ceil(uv.max(axis=0)).astype(int) + 2
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [cam.width, cam.height])
    if (hi <= lo).any():
        return
    m = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.float32)
    cv2.fillConvexPoly(m, np.round((uv - lo) * 8).astype(np.int32), 1.0, cv2.LINE_AA, 3)
    m = cv2.GaussianBlur(m, (5, 5), 1.5) * (1 - strength)
    roi = frame[lo[1] : hi[1], lo[0] : hi[0]]
    roi[:] = (roi * (1 - m[..., None])).astype(np.uint8)


def composite(frame: np.ndarray, labels: np.ndarray, view: View, sprites: list[tuple[int, Sprite]]) -> None:
    """Paint sprites far to near; labels get the index of the object on top where it is opaque."""
    H, W = frame.shape[:2]
    for idx, s in sorted(sprites, key=lambda p: -p[1].depth):
        h, w = s.alpha.shape
        xa, ya = max(0, s.x0), max(0, s.y0)
        xb, yb = min(W, s.x0 + w), min(H, s.y0 + h)
        if xb <= xa or yb <= ya:
            continue
        sy, sx = slice(ya - s.y0, yb - s.y0), slice(xa - s.x0, xb - s.x0)
        a = s.alpha[sy, sx] * (view.occ_depth[ya:yb, xa:xb] > s.depth)
        roi = frame[ya:yb, xa:xb]
        roi[:] = (roi * (1 - a[..., None]) + s.color[sy, sx] * a[..., None]).astype(np.uint8)
        labels[ya:yb, xa:xb][a > 0.5] = idx


def finish(frame: np.ndarray, view: View, k: int, stamp: str) -> np.ndarray:
    out = cv2.add(frame, view.noise_pos[k % len(view.noise_pos)])
    out = cv2.subtract(out, view.noise_neg[(k * 7 + 3) % len(view.noise_neg)])
    cv2.putText(out, stamp, (8, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, stamp, (8, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (235, 235, 235), 1, cv2.LINE_AA)
    return out


def person_light(world: World, lighting: Lighting, x: float, y: float) -> np.ndarray:
    lf = light_field(world, lighting, np.array([x]), np.array([y]))[0]
    return np.minimum(lf, 1.35)


def person_sprite(
    cam: PinholeCamera, p: Person, joints: dict[str, np.ndarray], phone: bool, light: np.ndarray
) -> Sprite | None:
    return draw_person(cam, p.look, joints, light, {"phone": phone})
