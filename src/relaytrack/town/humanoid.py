"""Articulated humanoids: pose geometry (walk cycle, stand, crouch, bend, phone raise, ride) and drawing.

Body frame: origin on the ground between the feet, x to the body's right, y forward, z up; lengths are
shares of the body height H (adult proportions: head 1/7.5 H, hips at 0.53 H, shoulders at 0.82 H).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from relaytrack.town.camera import PinholeCamera

POSES = ("walk", "stand", "crouch", "bend", "phone", "ride")
THIGH, SHIN, ANKLE_Z = 0.245, 0.245, 0.04
UPPER_ARM, FOREARM = 0.175, 0.19


@dataclass(frozen=True, slots=True)
class Look:
    """What a person looks like (BGR colours)."""

    height: float
    build: float  # width factor, 0.85 (slim) .. 1.25 (broad)
    female: bool
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    long_hair: bool
    upper: tuple[int, int, int]
    lower: tuple[int, int, int]
    shoes: tuple[int, int, int]
    long_sleeves: bool
    shorts: bool
    items: tuple[str, ...]  # backpack, handbag, suitcase, umbrella
    item_color: tuple[int, int, int]


def _ik(
    root: np.ndarray, target: np.ndarray, l1: float, l2: float, pole: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two-bone inverse kinematics: (middle joint, end) reaching towards target, bending towards pole."""
    v = target - root
    d = float(np.linalg.norm(v))
    u = v / max(d, 1e-9)
    d = min(max(d, abs(l1 - l2) + 1e-4), l1 + l2 - 1e-4)
    cos_a = (l1 * l1 + d * d - l2 * l2) / (2 * l1 * d)
    sin_a = math.sqrt(max(0.0, 1 - cos_a * cos_a))
    w = pole - (pole @ u) * u
    n = float(np.linalg.norm(w))
    w = w / n if n > 1e-9 else np.array([0.0, 1.0, 0.0])
    mid = root + l1 * (cos_a * u + sin_a * w)
    return mid, root + d * u


def pose_joints(
    look: Look, pose: str, phase: float = 0.0, reach: tuple[float, float] | None = None
) -> dict[str, np.ndarray]:
    """Joint positions (body frame, metres). `phase` drives the walk cycle (radians); `reach` = (forward
    distance, height) of the point the right hand goes to in crouch/bend poses."""
    if pose not in POSES:
        raise ValueError(f"unknown pose {pose!r}; valid: {', '.join(POSES)}")
    H, b = look.height, look.build
    hip_w = (0.095 if look.female else 0.085) * H * b
    sh_w = (0.105 if look.female else 0.122) * H * b
    fwd, up, right = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
    j: dict[str, np.ndarray] = {}
    lean = 0.05
    pelvis_z = 0.53 * H
    feet: dict[str, np.ndarray] = {}
    if pose == "walk":
        amp = 0.2 * H
        for side, ph in (("l", phase), ("r", phase + math.pi)):
            sx = -1 if side == "l" else 1
            y = amp * math.sin(ph)
            lift = 0.07 * H * max(0.0, math.cos(ph)) ** 2
            feet[side] = np.array([sx * hip_w * 0.8, y, ANKLE_Z * H + lift])
        # The pelvis drops at full stride so the stance leg (length 0.49 H) still reaches the ground.
        reach_y = amp * abs(math.sin(phase))
        pelvis_z = min(0.525 * H, ANKLE_Z * H + 0.995 * math.sqrt(((THIGH + SHIN) * H) ** 2 - reach_y**2))
    elif pose in ("stand", "phone"):
        for side in ("l", "r"):
            sx = -1 if side == "l" else 1
            feet[side] = np.array([sx * hip_w * 1.0, 0.02 * H * sx, ANKLE_Z * H])
        pelvis_z = 0.528 * H
        lean = 0.02
    elif pose == "crouch":
        for side in ("l", "r"):
            sx = -1 if side == "l" else 1
            feet[side] = np.array([sx * hip_w * 1.5, 0.06 * H, ANKLE_Z * H])
        pelvis_z = 0.3 * H
        lean = 0.55
    elif pose == "bend":
        for side in ("l", "r"):
            sx = -1 if side == "l" else 1
            feet[side] = np.array([sx * hip_w * 1.1, 0.0, ANKLE_Z * H])
        pelvis_z = 0.51 * H
        lean = 1.0
    elif pose == "ride":
        for side in ("l", "r"):
            sx = -1 if side == "l" else 1
            feet[side] = np.array([sx * hip_w * 1.6, 0.32 * H, 0.2 * H])
        pelvis_z = 0.45 * H
        lean = 0.3
    pelvis = np.array([0.0, -0.02 * H if pose == "crouch" else 0.0, pelvis_z])
    spine = np.array([0.0, math.sin(lean), math.cos(lean)])
    chest = pelvis + 0.29 * H * spine
    neck = chest + 0.045 * H * spine
    head = neck + 0.075 * H * (0.6 * spine + 0.4 * up) / np.linalg.norm(0.6 * spine + 0.4 * up)
    j.update(pelvis=pelvis, chest=chest, neck=neck, head=head)
    for side in ("l", "r"):
        sx = -1 if side == "l" else 1
        hip = pelvis + sx * hip_w * right
        knee, ankle = _ik(hip, feet[side], THIGH * H, SHIN * H, fwd + 0.05 * sx * right)
        toe = ankle + np.array([0.0, 0.12 * H, -0.025 * H])
        j[f"hip_{side}"], j[f"knee_{side}"], j[f"ankle_{side}"], j[f"toe_{side}"] = hip, knee, ankle, toe
        sh = chest + sx * sh_w * right - 0.015 * H * spine
        j[f"shoulder_{side}"] = sh
        # Arms: swing opposite to the leg on the same side while walking.
        if pose == "walk":
            swing = -0.32 * math.sin(phase if side == "l" else phase + math.pi)
            elbow = sh + UPPER_ARM * H * np.array([sx * 0.12, math.sin(swing), -math.cos(swing)])
            bend = swing + 0.25 + 0.2 * max(0.0, math.sin(-swing * 3))
            wrist = elbow + FOREARM * H * np.array([sx * 0.05, math.sin(bend), -math.cos(bend)])
        elif pose == "ride":
            elbow, wrist = _ik(
                sh,
                np.array([sx * 0.2 * H, 0.38 * H, 0.62 * H]),
                UPPER_ARM * H,
                FOREARM * H,
                -fwd + sx * right - up,
            )
        elif pose == "phone" and side == "r":
            target = head + np.array([-0.02 * H, 0.14 * H, -0.01 * H])
            elbow, wrist = _ik(sh, target, UPPER_ARM * H, FOREARM * H, -up + sx * right * 0.8)
        elif pose in ("crouch", "bend") and side == "r" and reach is not None:
            target = np.array([0.04 * H, reach[0], reach[1]])
            elbow, wrist = _ik(sh, target, UPPER_ARM * H, FOREARM * H, -fwd + sx * right * 0.5 + up * 0.3)
        else:
            hang = (
                pelvis + sx * (hip_w + 0.06 * H) * right + np.array([0.0, 0.03 * H, 0.0]) + 0.06 * H * spine
            )
            if pose in ("crouch", "bend"):
                hang = np.array([sx * (hip_w + 0.03 * H), 0.18 * H, max(0.2 * H, pelvis_z - 0.02 * H)])
            elbow, wrist = _ik(sh, hang, UPPER_ARM * H, FOREARM * H, -fwd + 0.3 * sx * right)
        j[f"elbow_{side}"], j[f"wrist_{side}"] = elbow, wrist
    return j


def to_world(joints: dict[str, np.ndarray], x: float, y: float, heading_deg: float) -> dict[str, np.ndarray]:
    """Body frame -> world frame (heading is the compass direction the body faces)."""
    h = math.radians(heading_deg)
    fwd = np.array([math.sin(h), math.cos(h), 0.0])
    right = np.array([math.cos(h), -math.sin(h), 0.0])
    rot = np.stack([right, fwd, np.array([0.0, 0.0, 1.0])], axis=1)  # columns: body x, y, z in world
    names = list(joints)
    pts = np.stack([joints[n] for n in names]) @ rot.T + np.array([x, y, 0.0])
    return dict(zip(names, pts, strict=True))


@dataclass(slots=True)
class Sprite:
    """A drawn object: top-left corner in the frame, BGR patch, alpha (all) and body alpha (for GT boxes)."""

    x0: int
    y0: int
    color: np.ndarray  # float32 HxWx3
    alpha: np.ndarray  # float32 HxW in [0, 1]
    body: np.ndarray  # float32 HxW: the part that counts for the person's box
    depth: float


def _shade(col: tuple[int, int, int] | np.ndarray, k: float) -> tuple[float, float, float]:
    c = np.asarray(col, dtype=np.float32) * k
    return tuple(float(v) for v in np.clip(c, 0, 255))


def draw_person(
    cam: PinholeCamera,
    look: Look,
    joints_w: dict[str, np.ndarray],
    light: np.ndarray,
    extras: dict | None = None,
) -> Sprite | None:
    """Render one person (world joints) into a sprite; None when it is behind the camera or off-screen.

    `light` is a BGR multiplier for this person's position (ambient x tint + nearby street lights).
    """
    names = list(joints_w)
    pts = np.stack([joints_w[n] for n in names])
    cam_pts = cam.to_cam(pts)
    if cam_pts[:, 2].min() < 0.5:
        return None
    H = look.height
    # Extra points: top of the head, item corners, so the canvas holds everything.
    uv_all, z_all = cam.project(pts)
    uv = dict(zip(names, uv_all, strict=True))
    zc = dict(zip(names, z_all, strict=True))
    depth = float(cam.to_cam(np.array([(joints_w["ankle_l"] + joints_w["ankle_r"]) / 2]))[0, 2])
    scale = cam.f / depth  # pixels per metre at the person
    head_r = 0.066 * H * scale
    lo = uv_all.min(axis=0) - head_r * 2.5 - 0.5 * scale * ("umbrella" in look.items) - 4
    hi = uv_all.max(axis=0) + head_r * 2.5 + 0.5 * scale * ("umbrella" in look.items) + 4
    if hi[0] < 0 or hi[1] < 0 or lo[0] > cam.width or lo[1] > cam.height:
        return None
    if (hi - lo).max() > 4 * max(cam.width, cam.height):
        return None
    ss = 4 if hi[1] - lo[1] < 60 else (2 if hi[1] - lo[1] < 160 else 1)  # supersampling for small people
    x0, y0 = int(math.floor(lo[0])), int(math.floor(lo[1]))
    w, h = int(math.ceil(hi[0])) - x0 + 1, int(math.ceil(hi[1])) - y0 + 1
    canvas = np.zeros((h * ss, w * ss, 3), np.float32)
    mask = np.zeros((h * ss, w * ss), np.float32)
    body = np.zeros((h * ss, w * ss), np.float32)
    sh = 3  # fixed-point bits for cv2 drawing
    mul = ss * (1 << sh)

    def P(p: np.ndarray) -> tuple[int, int]:
        return int(round((p[0] - x0) * mul)), int(round((p[1] - y0) * mul))

    lit = np.asarray(light, np.float32)
    # Screen-space light direction (upper left): the lit side of each limb.
    ldir = np.array([-0.45, -0.6])

    def limb(
        a: str | np.ndarray, b: str | np.ndarray, r_m: float, col, is_body: bool = True, k: float = 1.0
    ) -> None:
        pa = uv[a] if isinstance(a, str) else a
        pb = uv[b] if isinstance(b, str) else b
        r = max(0.6, r_m * scale)
        base = np.asarray(col, np.float32) * lit * k
        t = max(1, int(round(2 * r * ss)))
        cv2.line(canvas, P(pa), P(pb), _shade(base, 0.72), t, cv2.LINE_AA, sh)
        cv2.line(mask, P(pa), P(pb), 1.0, t, cv2.LINE_AA, sh)
        if is_body:
            cv2.line(body, P(pa), P(pb), 1.0, t, cv2.LINE_AA, sh)
        off = ldir * r * 0.35
        t2 = max(1, int(round(1.1 * r * ss)))
        cv2.line(canvas, P(pa + off), P(pb + off), _shade(base, 1.0), t2, cv2.LINE_AA, sh)
        t3 = max(1, int(round(0.45 * r * ss)))
        cv2.line(canvas, P(pa + off * 1.6), P(pb + off * 1.6), _shade(base, 1.18), t3, cv2.LINE_AA, sh)

    def blob(p: np.ndarray, r: float, col, is_body: bool = True, k: float = 1.0, hl: bool = True) -> None:
        base = np.asarray(col, np.float32) * lit * k
        rr = max(1, int(round(r * mul)))
        cv2.circle(canvas, P(p), rr, _shade(base, 0.8 if hl else 1.0), -1, cv2.LINE_AA, sh)
        cv2.circle(mask, P(p), rr, 1.0, -1, cv2.LINE_AA, sh)
        if is_body:
            cv2.circle(body, P(p), rr, 1.0, -1, cv2.LINE_AA, sh)
        if hl:
            cv2.circle(
                canvas,
                P(p + ldir * r * 0.25),
                max(1, int(rr * 0.68)),
                _shade(base, 1.05),
                -1,
                cv2.LINE_AA,
                sh,
            )

    def poly(points_uv: np.ndarray, col, is_body: bool = True, k: float = 1.0, shade_in: bool = True) -> None:
        hull = cv2.convexHull(np.array([P(p) for p in points_uv], np.int32))
        base = np.asarray(col, np.float32) * lit * k
        cv2.fillConvexPoly(canvas, hull, _shade(base, 0.75 if shade_in else 1.0), cv2.LINE_AA, sh)
        cv2.fillConvexPoly(mask, hull, 1.0, cv2.LINE_AA, sh)
        if is_body:
            cv2.fillConvexPoly(body, hull, 1.0, cv2.LINE_AA, sh)
        if shade_in:
            c = points_uv.mean(axis=0)
            inner = c + (points_uv - c) * 0.72 + ldir * 0.12 * (points_uv.max(0) - points_uv.min(0)).mean()
            hull2 = cv2.convexHull(np.array([P(p) for p in inner], np.int32))
            cv2.fillConvexPoly(canvas, hull2, _shade(base, 1.02), cv2.LINE_AA, sh)

    # Body axes in the world, for the torso's elliptic cross-sections.
    right_w = joints_w["shoulder_r"] - joints_w["shoulder_l"]
    right_w /= max(np.linalg.norm(right_w), 1e-9)
    spine_w = joints_w["chest"] - joints_w["pelvis"]
    spine_w /= np.linalg.norm(spine_w)
    fwd_w = np.cross(spine_w, right_w)
    fwd_w /= max(np.linalg.norm(fwd_w), 1e-9)
    b = look.build

    def ring(c: np.ndarray, hw: float, hd: float) -> np.ndarray:
        a = np.linspace(0, 2 * np.pi, 10, endpoint=False)
        return c + np.outer(np.cos(a) * hw, right_w) + np.outer(np.sin(a) * hd, fwd_w)

    shw = (0.105 if look.female else 0.125) * H * b
    torso3d = np.concatenate(
        [
            ring(joints_w["chest"] + 0.01 * H * spine_w, shw * 0.92, 0.07 * H * b),
            ring(joints_w["chest"] - 0.03 * H * spine_w, shw, 0.075 * H * b),
            ring(
                0.5 * (joints_w["chest"] + joints_w["pelvis"]),
                0.1 * H * b * (0.88 if look.female else 1.0),
                0.07 * H * b,
            ),
            ring(
                joints_w["pelvis"] - 0.02 * H * spine_w,
                (0.105 if look.female else 0.095) * H * b,
                0.07 * H * b,
            ),
        ]
    )
    torso_uv, _ = cam.project(torso3d)
    hips3d = np.concatenate(
        [
            ring(joints_w["pelvis"] + 0.02 * H * spine_w, 0.1 * H * b, 0.068 * H * b),
            ring(joints_w["pelvis"] - 0.06 * H * spine_w, 0.1 * H * b, 0.07 * H * b),
        ]
    )
    hips_uv, _ = cam.project(hips3d)
    cam_dir = joints_w["pelvis"] - cam.centre
    facing_cam = float(fwd_w @ cam_dir) < 0  # chest towards the camera
    right_far = float(right_w @ cam_dir) > 0  # body's right side is the far side
    lower_k = 1.0
    sleeve = look.upper
    forearm_col = look.upper if look.long_sleeves else look.skin
    shin_col = look.skin if look.shorts else look.lower

    parts: list[tuple[float, callable]] = []

    def add(zkey: float, fn) -> None:
        parts.append((zkey, fn))

    for side in ("l", "r"):
        far = (side == "r") == right_far
        k = 0.82 if far else 1.0
        zl = min(zc[f"knee_{side}"], zc[f"hip_{side}"]) + (0.02 if far else -0.02)
        add(
            zl,
            lambda s=side, k=k: (
                limb(f"hip_{s}", f"knee_{s}", 0.055 * H * b, look.lower, k=k * lower_k),
                limb(f"knee_{s}", f"ankle_{s}", 0.04 * H * b, shin_col, k=k),
                limb(f"ankle_{s}", f"toe_{s}", 0.028 * H, look.shoes, k=k),
            ),
        )
        za = min(zc[f"shoulder_{side}"], zc[f"elbow_{side}"], zc[f"wrist_{side}"]) + (0.03 if far else -0.03)
        add(
            za if far else za - 0.05,
            lambda s=side, k=k: (
                limb(f"shoulder_{s}", f"elbow_{s}", 0.038 * H * b, sleeve, k=k),
                limb(f"elbow_{s}", f"wrist_{s}", 0.03 * H * b, forearm_col, k=k),
                blob(
                    uv[f"wrist_{s}"] + (uv[f"wrist_{s}"] - uv[f"elbow_{s}"]) * 0.22,
                    0.032 * H * scale,
                    look.skin,
                    k=k,
                ),
            ),
        )
    zt = zc["pelvis"]
    add(zt, lambda: (poly(hips_uv, look.lower), poly(torso_uv, look.upper)))

    head_uv = uv["head"]
    hair_pt, _ = cam.project(joints_w["head"] + 0.028 * H * spine_w - 0.022 * H * fwd_w)
    face_pt, _ = cam.project(joints_w["head"] + 0.03 * H * fwd_w - 0.006 * H * spine_w)

    def head() -> None:
        limb("neck", "head", 0.03 * H, look.skin)
        r = head_r
        # An ellipse a little taller than wide.
        blob(head_uv, r, look.hair if not facing_cam else look.skin, hl=True)
        if facing_cam:
            blob(hair_pt, r * 0.93, look.hair, hl=False)
            blob(face_pt, r * 0.78, look.skin, hl=True)
        else:
            blob(hair_pt, r * 1.0, look.hair, hl=True)
        if look.long_hair:
            nape = joints_w["neck"] - 0.05 * H * fwd_w - 0.05 * H * spine_w
            nape_uv, _ = cam.project(nape)
            if facing_cam:
                return
            limb(head_uv, nape_uv, 0.06 * H, look.hair)

    add(zc["head"] - 0.01, head)

    items = set(look.items)
    if "backpack" in items:
        c = joints_w["chest"] - 0.13 * H * spine_w - 0.1 * H * fwd_w
        corners = np.array(
            [
                c + sx * 0.09 * H * right_w + sy * 0.05 * H * fwd_w + sz * 0.13 * H * spine_w
                for sx in (-1, 1)
                for sy in (-1, 1)
                for sz in (-1, 1)
            ]
        )
        cuv, cz = cam.project(corners)
        add(float(cz.mean()), lambda: poly(cuv, look.item_color, is_body=False))
    if "handbag" in items:
        c = joints_w["hip_l"] - 0.06 * H * right_w + 0.02 * H * spine_w
        corners = np.array(
            [
                c + sx * 0.025 * H * right_w + sy * 0.07 * H * fwd_w + sz * 0.06 * H * spine_w
                for sx in (-1, 1)
                for sy in (-1, 1)
                for sz in (-1, 1)
            ]
        )
        cuv, cz = cam.project(corners)
        strap, _ = cam.project(np.array([joints_w["shoulder_l"], c + 0.05 * H * spine_w]))
        add(
            float(cz.mean()),
            lambda: (
                limb(strap[0], strap[1], 0.006 * H, look.item_color, is_body=False),
                poly(cuv, look.item_color, is_body=False),
            ),
        )
    if "suitcase" in items:
        c = joints_w["wrist_r"] - 0.25 * H * fwd_w + 0.06 * H * right_w
        c = np.array([c[0], c[1], 0.2 * H])
        corners = np.array(
            [
                c + sx * 0.06 * H * right_w + sy * 0.12 * H * fwd_w + np.array([0, 0, sz * 0.18 * H])
                for sx in (-1, 1)
                for sy in (-1, 1)
                for sz in (-1, 1)
            ]
        )
        cuv, cz = cam.project(corners)
        handle, _ = cam.project(np.array([joints_w["wrist_r"], c + np.array([0, 0, 0.18 * H])]))
        add(
            float(cz.mean()),
            lambda: (
                limb(handle[0], handle[1], 0.006 * H, (40, 40, 40), is_body=False),
                poly(cuv, look.item_color, is_body=False),
            ),
        )
    if "umbrella" in items:
        top = joints_w["head"] + np.array([0.0, 0.0, 0.22 * H]) + 0.05 * H * fwd_w
        a = np.linspace(0, 2 * np.pi, 12, endpoint=False)
        rim = top + np.stack([np.cos(a) * 0.5, np.sin(a) * 0.5, np.full_like(a, -0.16)], 1)
        cuv, cz = cam.project(np.concatenate([rim, top[None]]))
        shaft, _ = cam.project(np.array([joints_w["wrist_r"], top]))
        add(
            float(cz.min()) - 0.3,
            lambda: (
                limb(shaft[0], shaft[1], 0.008 * H, (30, 30, 30), is_body=False),
                poly(cuv, look.item_color, is_body=False),
            ),
        )
    if extras and extras.get("phone"):
        add(
            zc["wrist_r"] - 0.1,
            lambda: blob(
                uv["wrist_r"] + (uv["wrist_r"] - uv["elbow_r"]) * 0.3,
                0.03 * H * scale,
                (25, 25, 25),
                is_body=False,
                hl=False,
            ),
        )

    for _, fn in sorted(parts, key=lambda p: -p[0]):
        fn()
    if ss > 1:
        # The area average over ss x ss subpixels is already the lens/pixel blur of a small person; a second
        # Gaussian on top made small people softer than the background (blurred once, sigma 0.5) and cost the
        # detector their limbs and head outline (recall of 20-64 px people measured up by 0.02-0.07).
        canvas = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
        body = cv2.resize(body, (w, h), interpolation=cv2.INTER_AREA)
    else:
        # Optics: a little blur so the edges of large, not supersampled people are not razor sharp.
        canvas = cv2.GaussianBlur(canvas, (3, 3), 0.6)
        mask = cv2.GaussianBlur(mask, (3, 3), 0.6)
    safe = np.maximum(mask, 1e-3)[..., None]
    canvas = canvas / safe * (mask[..., None] > 1e-3)  # un-premultiply after the blur of a premultiplied edge
    return Sprite(x0, y0, canvas, np.clip(mask, 0, 1), body, depth)


def walk_phase(distance_m: float, height: float) -> float:
    """Walk-cycle phase after walking a distance: one cycle = two steps of about 0.42 H."""
    return 2 * math.pi * distance_m / (0.84 * height)
