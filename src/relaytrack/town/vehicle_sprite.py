"""Drawing one town vehicle as a sprite: a car body built from a side profile (hood and trunk below a cabin with a
sloped windscreen and rear window), reflective glass with pillars, tyres with lighter rims under wheel arches,
head and tail lights, grille and bumpers, lit by a sun from above so the faces read as one solid vehicle as a
CCTV camera 4-8 m up sees it; box trucks with a windscreened cab, buses with windows, and motorbikes with their
rider. The plates are painted onto the front and rear faces (town/plates.py)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from relaytrack.town.actors import Vehicle
from relaytrack.town.camera import PinholeCamera
from relaytrack.town.humanoid import Sprite, draw_person, pose_joints, to_world
from relaytrack.town.plates import paint_plates

WIDTH = {"car": 1.8, "truck": 1.75, "bus": 2.5, "motorcycle": 0.6}
TREAD = {"car": 0.21, "truck": 0.2, "bus": 0.28, "motorcycle": 0.1}  # tyre width, m
SUN = np.array([0.3, -0.35, 0.89]) / np.linalg.norm([0.3, -0.35, 0.89])
TYRE = (24, 24, 26)
RIM = (150, 153, 158)
GLASS_SKY = np.array([165, 150, 135], np.float32)  # BGR: the sky mirrored in tilted glass
GLASS_DARK = np.array([37, 34, 31], np.float32)
HEADLAMP = (215, 222, 228)
TAIL = (38, 36, 185)
GRILLE = (34, 34, 36)
BUMPER = (58, 58, 60)
HORIZON_Z = 0.55  # m: where a car's side turns from mirroring the ground to mirroring the sky

# A face: world points (n, 3), material ("body", "glass", "side_glass", "dark", a BGR tuple), outward normal.
Face = tuple[np.ndarray, object, np.ndarray]


def _shade(n: np.ndarray) -> float:
    return 0.6 + 0.45 * max(0.0, float(n @ SUN))


def _prism(
    profile: list[tuple[float, float]], hw: list[float], mats: list, side_mat, frame: tuple
) -> list[Face]:
    """A solid from a side profile (l along the vehicle, z up; counter-clockwise seen from the right side) with
    a half width per vertex: the two side polygons and one strip per profile edge (material mats[i])."""
    base, fwd, right = frame
    up = np.array([0.0, 0.0, 1.0])
    n = len(profile)
    L = [base + a * fwd - w * right + z * up for (a, z), w in zip(profile, hw, strict=True)]
    R = [base + a * fwd + w * right + z * up for (a, z), w in zip(profile, hw, strict=True)]
    centre = (np.mean(L, axis=0) + np.mean(R, axis=0)) / 2
    faces: list[Face] = [(np.array(L), side_mat, -right), (np.array(R), side_mat, right)]
    for i in range(n):
        j = (i + 1) % n
        if mats[i] is None:
            continue
        quad = np.array([L[i], R[i], R[j], L[j]])
        nrm = np.cross(quad[1] - quad[0], quad[3] - quad[0])
        nrm = nrm / max(np.linalg.norm(nrm), 1e-9)
        if nrm @ (quad.mean(axis=0) - centre) < 0:
            nrm = -nrm
        faces.append((quad, mats[i], nrm))
    return faces


def _loft(sections: list[tuple[float, list[tuple[float, float]]]], bottom: int, frame: tuple) -> list[Face]:
    """A convex solid through cross-sections (l along the vehicle; (w, z) polygons with the same number of
    vertices): one quad per polygon edge between neighbouring sections and the two end caps. Edge `bottom`
    (the underside) is dark."""
    base, fwd, right = frame
    up = np.array([0.0, 0.0, 1.0])
    rings = [np.array([base + a * fwd + w * right + z * up for w, z in poly]) for a, poly in sections]
    centre = np.mean(np.concatenate(rings), axis=0)
    m = len(sections[0][1])
    faces: list[Face] = []

    def add(pts: np.ndarray, mat) -> None:
        nrm = np.cross(pts[1] - pts[0], pts[-1] - pts[0])
        if np.linalg.norm(nrm) < 1e-6 and len(pts) > 3:
            nrm = np.cross(pts[2] - pts[1], pts[0] - pts[1])
        nrm = nrm / max(np.linalg.norm(nrm), 1e-9)
        if nrm @ (pts.mean(axis=0) - centre) < 0:
            nrm = -nrm
        faces.append((pts, mat, nrm))

    for k in range(len(rings) - 1):
        for i in range(m):
            j = (i + 1) % m
            add(
                np.array([rings[k][i], rings[k][j], rings[k + 1][j], rings[k + 1][i]]),
                "dark" if i == bottom else "body",
            )
    add(rings[0], "body")
    add(rings[-1], "body")
    return faces


def _section(hw: float, zb: float, zt: float) -> list[tuple[float, float]]:
    """A car body's cross-section: rounded in at the sill and at the shoulder."""
    return [(-hw * 0.9, zb), (hw * 0.9, zb), (hw, zb + 0.12), (hw, zt - 0.13), (hw * 0.86, zt),
            (-hw * 0.86, zt), (-hw, zt - 0.13), (-hw, zb + 0.12)]  # fmt: skip


def _car_parts(L: float, W: float, frame: tuple) -> tuple[list[Face], list[Face], dict]:
    hw = W / 2
    body = _loft(
        [
            (-L / 2, _section(hw * 0.88, 0.36, 0.84)),
            (-L / 2 + 0.22, _section(hw, 0.3, 0.97)),
            (L / 2 - 1.3, _section(hw, 0.3, 0.96)),
            (L / 2 - 0.3, _section(hw, 0.3, 0.86)),
            (L / 2, _section(hw * 0.88, 0.34, 0.74)),
        ],
        0,
        frame,
    )
    rb, rr, fr, fb = -L / 2 + 0.85, -L / 2 + 1.45, L / 2 - 2.05, L / 2 - 1.3
    cabin = [(rb, 0.96), (fb, 0.96), (fr, 1.45), (rr, 1.45)]
    hw = [W / 2 * 0.93, W / 2 * 0.93, W / 2 * 0.8, W / 2 * 0.8]
    top = _prism(cabin, hw, [None, "glass", "body", "glass"], "side_glass", frame)
    return body, top, {"cabin": (cabin, hw)}


def _box_parts(v: Vehicle, L: float, W: float, frame: tuple) -> tuple[list[Face], list[Face], dict]:
    col = v.bgr
    if v.kind == "bus":
        prof = [
            (-L / 2, 0.3),
            (L / 2, 0.3),
            (L / 2, 3.0),
            (L / 2 - 0.15, 3.1),
            (-L / 2 + 0.1, 3.1),
            (-L / 2, 3.0),
        ]
        return (
            _prism(prof, [W / 2] * 6, ["dark", "body", "body", "body", "body", "body"], "body", frame),
            [],
            {},
        )
    if v.kind == "truck":  # a Porter-like box truck: chassis, cab with a windscreen, aluminium box
        chassis = [(-L / 2, 0.3), (L / 2, 0.3), (L / 2, 0.75), (-L / 2, 0.75)]
        c0 = L / 2 - 1.6
        cab = [(c0, 0.75), (L / 2, 0.75), (L / 2, 1.2), (L / 2 - 0.3, 1.85), (L / 2 - 0.5, 1.95), (c0, 1.95)]
        box = [(-L / 2 + 0.05, 0.75), (c0 - 0.1, 0.75), (c0 - 0.1, 2.2), (-L / 2 + 0.05, 2.2)]
        alu = (182, 184, 186)
        faces = _prism(chassis, [W * 0.475] * 4, [(48, 48, 50)] * 4, (48, 48, 50), frame)
        faces += _prism(box, [W / 2] * 4, [alu] * 4, alu, frame)
        cabf = _prism(cab, [W / 2] * 6, ["dark", "body", "glass", "body", "body", "body"], "body", frame)
        return faces, cabf, {"truck_cab": cab}
    prof = [(-L / 2 + 0.2, 0.3), (L / 2 - 0.2, 0.3), (L / 2 - 0.2, 0.85), (-L / 2 + 0.2, 0.85)]
    return _prism(prof, [W * 0.3] * 4, [col] * 4, col, frame), [], {}


def _fill(canvas, mask, pts, colour, P) -> None:
    p = P(pts)
    cv2.fillConvexPoly(canvas, p, tuple(float(c) for c in colour), cv2.LINE_AA, 3)
    if mask is not None:
        cv2.fillConvexPoly(mask, p, 1.0, cv2.LINE_AA, 3)


def _glass(canvas, cam, quad, lit, tilt: float, P) -> None:
    """Glass in three bands, the sky's reflection brighter towards the top edge (quad: bottom edge first)."""
    b0, b1, t1, t0 = quad
    for k in range(3):
        a0, a1 = k / 3, (k + 1) / 3
        band = np.array([b0 + (t0 - b0) * a0, b1 + (t1 - b1) * a0, b1 + (t1 - b1) * a1, b0 + (t0 - b0) * a1])
        uv, _ = cam.project(band)
        mix = tilt * (0.35 + 0.3 * k)
        col = (GLASS_DARK * (1 - mix) + GLASS_SKY * mix) * lit
        _fill(canvas, None, uv, col, P)


def _on_face(origin, u, v, pts) -> np.ndarray:
    return np.array([origin + a * u + b * v for a, b in pts])


def draw_vehicle(
    cam: PinholeCamera,
    v: Vehicle,
    x: float,
    y: float,
    heading: float,
    light: np.ndarray,
    lighting,
    speed: float | None = None,
    plates: list | None = None,
) -> list[Sprite]:
    """A vehicle with its plates (plus its rider for motorcycles); empty when off-screen.
    `speed`: now (0 while parked; default the vehicle's); `plates` gets (face, image corners, depth) of each
    plate painted."""
    depth_c = float(cam.to_cam(np.array([x, y, 0.8]))[2])
    if depth_c < 2.0 or depth_c > 90:
        return []
    h = math.radians(heading)
    fwd = np.array([math.sin(h), math.cos(h), 0.0])
    right = np.array([math.cos(h), -math.sin(h), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    L = v.length
    Wd = WIDTH[v.kind]
    base = np.array([x, y, 0.0])
    frame = (base, fwd, right)
    if v.kind == "car":
        lower, upper, extra = _car_parts(L, Wd, frame)
    else:
        lower, upper, extra = _box_parts(v, L, Wd, frame)
    all_pts = np.concatenate([f[0] for f in lower + upper])
    wheel_r = 0.33 if v.kind != "motorcycle" else 0.32
    uv_all, z_all = cam.project(all_pts)
    if z_all.min() < 0.5:
        return []
    lo = uv_all.min(axis=0) - 6
    hi = uv_all.max(axis=0) + 6
    if hi[0] < 0 or hi[1] < 0 or lo[0] > cam.width or lo[1] > cam.height:
        return []
    x0, y0 = int(lo[0]), int(lo[1])
    w, hgt = int(hi[0]) - x0 + 1, int(hi[1]) - y0 + 1
    if w * hgt > 4 * cam.width * cam.height:
        # A vehicle right under a narrow-field camera projects far past the frame: the canvas covers the
        # picture and a margin only (not for smaller ones, whose edges would rasterise a little differently).
        x0, y0 = max(x0, -8), max(y0, -8)
        w = min(int(hi[0]), cam.width + 8) - x0 + 1
        hgt = min(int(hi[1]), cam.height + 8) - y0 + 1
    canvas = np.zeros((hgt, w, 3), np.float32)
    mask = np.zeros((hgt, w), np.float32)
    lit = np.asarray(light, np.float32)
    cpos = cam.centre
    night = lighting.lamp > 0

    def P(p: np.ndarray) -> np.ndarray:
        return np.round((p - [x0, y0]) * 8).astype(np.int32)

    def wheel(c: np.ndarray, r: float, colour, with_mask: bool, tread: float = 0.0) -> None:
        """A tyre: its side disc, or with `tread` (m) the solid of both faces, so that a camera behind or in
        front of the vehicle sees the tread's dark block under the bumper, not an edge-on sliver."""
        ring = np.array(
            [
                c + dw * right + r * (math.cos(q) * fwd + math.sin(q) * up)
                for dw in ((-tread / 2, tread / 2) if tread else (0.0,))
                for q in np.linspace(0, 2 * np.pi, 14, endpoint=False)
            ]
        )
        ruv, _ = cam.project(ring)
        hull = cv2.convexHull(P(ruv))
        cv2.fillConvexPoly(canvas, hull, colour, cv2.LINE_AA, 3)
        if with_mask:
            cv2.fillConvexPoly(mask, hull, 1.0, cv2.LINE_AA, 3)

    if v.kind == "motorcycle":
        axles, sides = (-L / 2 + 0.35, L / 2 - 0.35), (0.0,)
    elif v.kind == "bus":
        axles, sides = (-L / 2 + 2.6, L / 2 - 2.2), (-Wd / 2 + 0.12, Wd / 2 - 0.12)
    else:
        axles, sides = (-L / 2 + 0.85, L / 2 - 0.8), (-Wd / 2 + 0.12, Wd / 2 - 0.12)
    # Wheels first (the far ones show under the body).
    for a in axles:
        for s in sides:
            wheel(base + a * fwd + s * right + up * wheel_r, wheel_r, TYRE, True, TREAD[v.kind])

    def colour_of(mat, n: np.ndarray) -> np.ndarray:
        sh = _shade(n)
        if mat == "body":
            gloss = 30 + 40 * max(0.0, float(n @ SUN)) ** 4  # clear coat: the sky's sheen on up-facing panels
            return (np.asarray(v.bgr, np.float32) * sh + gloss) * lit
        if mat == "dark":
            return np.asarray(BUMPER, np.float32) * sh * lit
        return np.asarray(mat, np.float32) * sh * lit

    todo: dict = {}

    def draw_faces(faces: list[Face]) -> None:
        vis = [f for f in faces if float(f[2] @ (cpos - f[0].mean(axis=0))) > 0]
        vis.sort(key=lambda f: -float(np.linalg.norm(f[0].mean(axis=0) - cpos)))
        for pts, mat, n in vis:
            uv, _ = cam.project(pts)
            if mat == "glass":
                _fill(canvas, mask, uv, GLASS_DARK * lit, P)
                _glass(canvas, cam, pts, lit, 0.5 + 0.5 * max(0.0, float(n[2])), P)
                continue
            if mat == "side_glass":
                _fill(canvas, mask, uv, colour_of("body", n), P)
                cabin_side(pts)
                continue
            _fill(canvas, mask, uv, colour_of(mat, n), P)
            if abs(float(n @ right)) > 0.9:
                todo[("side", float(np.sign(n @ right)))] = (side_details, pts, n)
            elif float(n @ fwd) > 0.9:
                todo[("end", 1.0)] = (end_details, n, 1.0)
            elif float(n @ fwd) < -0.9:
                todo[("end", -1.0)] = (end_details, n, -1.0)
        for fn, *args in todo.values():
            fn(*args)
        todo.clear()

    def side_details(pts: np.ndarray, n: np.ndarray) -> None:
        sgn = 1.0 if float(n @ right) > 0 else -1.0
        if v.kind == "motorcycle":
            return
        s = sgn * (Wd / 2 + 0.01)
        if v.kind == "bus":  # window band, door and a dark skirt
            band = _on_face(base + s * right, fwd, up, [(-L / 2 + 0.4, 1.45), (L / 2 - 0.3, 1.45),
                                                        (L / 2 - 0.3, 2.7), (-L / 2 + 0.4, 2.7)])  # fmt: skip
            _glass(canvas, cam, band, lit, 0.45, P)
        elif v.kind == "truck":
            cab = extra["truck_cab"]
            win = _on_face(base + s * right, fwd, up, [(cab[0][0] + 0.15, 1.25), (L / 2 - 0.35, 1.25),
                                                       (L / 2 - 0.55, 1.8), (cab[0][0] + 0.15, 1.8)])  # fmt: skip
            if float(np.mean(pts[:, 2])) < 1.5 and float(pts[:, 2].max()) > 1.7:
                _glass(canvas, cam, win, lit, 0.4, P)
        if v.kind == "car":
            # The ground mirrored in the lower side, the sky in the upper, apart at a bright horizon line: the
            # side reads as a curved panel rather than a flat slab.
            body = np.asarray(v.bgr, np.float32) * _shade(n)
            for zs, col in (((0.3, HORIZON_Z), body * 0.7), ((HORIZON_Z, HORIZON_Z + 0.05), body + 40)):
                band = _on_face(base + s * right, fwd, up, [(-L / 2 + 0.02, zs[0]), (L / 2 - 0.1, zs[0]),
                                                            (L / 2 - 0.1, zs[1]), (-L / 2 + 0.02, zs[1])])  # fmt: skip
                buv, _ = cam.project(band)
                _fill(canvas, None, buv, col * lit, P)
        if v.kind in ("car",):
            sill = _on_face(base + s * right, fwd, up, [(-L / 2 + 0.3, 0.3), (L / 2 - 0.3, 0.3),
                                                        (L / 2 - 0.3, 0.4), (-L / 2 + 0.3, 0.4)])  # fmt: skip
            suv, _ = cam.project(sill)
            _fill(canvas, None, suv, np.asarray(BUMPER, np.float32) * 0.7 * lit, P)
        for a in axles:
            c = base + a * fwd + s * right + up * wheel_r
            wheel(c, wheel_r * 1.18, tuple(float(q) for q in np.asarray(TYRE, np.float32) * 1.2), False)
            wheel(c, wheel_r, TYRE, True)
            wheel(
                c + sgn * 0.01 * right, wheel_r * 0.58, tuple(float(q) for q in np.asarray(RIM) * lit), False
            )
            wheel(c + sgn * 0.02 * right, wheel_r * 0.18, (70.0, 70.0, 72.0), False)

    def end_details(n: np.ndarray, sgn: float) -> None:
        if v.kind == "motorcycle":
            return
        c = base + sgn * (L / 2 + 0.01) * fwd
        u = -sgn * right  # the viewer's right
        bump = _on_face(c, u, up, [(-Wd / 2, 0.3), (Wd / 2, 0.3), (Wd / 2, 0.42), (-Wd / 2, 0.42)])
        buv, _ = cam.project(bump)
        _fill(canvas, None, buv, np.asarray(BUMPER, np.float32) * lit, P)
        if sgn > 0:
            lamp_col = np.asarray(HEADLAMP, np.float32) * (1.0 if night else lit)
            zl = (0.6, 0.72) if v.kind == "car" else (0.55, 0.7)
            if v.kind in ("car", "truck"):
                g = _on_face(c, u, up, [(-0.4, 0.56), (0.4, 0.56), (0.4, 0.68), (-0.4, 0.68)])
                guv, _ = cam.project(g)
                _fill(canvas, None, guv, np.asarray(GRILLE, np.float32) * lit, P)
        else:
            lamp_col = np.asarray(TAIL, np.float32) * (1.3 if night else lit)
            zl = (0.62, 0.78) if v.kind == "car" else (0.5, 0.68)
        for side in (-1, 1):
            q = _on_face(c, u, up, [(side * Wd * 0.28, zl[0]), (side * Wd * 0.46, zl[0]),
                                    (side * Wd * 0.46, zl[1]), (side * Wd * 0.28, zl[1])])  # fmt: skip
            quv, _ = cam.project(q)
            _fill(canvas, None, quv, lamp_col, P)
        if v.kind == "bus" and sgn > 0:
            ws = _on_face(c, u, up, [(-Wd / 2 + 0.1, 1.2), (Wd / 2 - 0.1, 1.2), (Wd / 2 - 0.1, 2.8),
                                     (-Wd / 2 + 0.1, 2.8)])  # fmt: skip
            _glass(canvas, cam, ws, lit, 0.6, P)

    def cabin_side(pts: np.ndarray) -> None:
        """Side windows between the pillars of a car's cabin side (pts: rear-bottom, front-bottom, front-top,
        rear-top)."""
        p0, p1, p2, p3 = pts

        def at(s: float, t: float) -> np.ndarray:
            return (1 - t) * (p0 + (p1 - p0) * s) + t * (p3 + (p2 - p3) * s)

        for s0, s1 in ((0.1, 0.47), (0.53, 0.9)):
            win = np.array([at(s0, 0.1), at(s1, 0.1), at(s1, 0.86), at(s0, 0.86)])
            _glass(canvas, cam, win, lit, 0.15, P)

    draw_faces(lower)
    draw_faces(upper)
    # Softened like a real CCTV picture of a curved, glossy body (before the plates, which keep their sharpness).
    canvas = cv2.GaussianBlur(canvas, (0, 0), 1.5)
    painted = paint_plates(
        canvas, cam, v, x, y, heading, (x0, y0), lit, night, v.speed if speed is None else speed
    )
    if plates is not None:
        plates.extend(painted)
    canvas = cv2.GaussianBlur(canvas, (3, 3), 0.5)
    mask = cv2.GaussianBlur(mask, (3, 3), 0.5)
    canvas = np.clip(canvas / np.maximum(mask, 1e-3)[..., None], 0, 255) * (mask[..., None] > 1e-3)
    out = [Sprite(x0, y0, canvas, np.clip(mask, 0, 1), np.zeros_like(mask), float(cam.to_cam(base)[2]))]
    if v.rider is not None:
        j = to_world(pose_joints(v.rider, "ride"), x - 0.25 * fwd[0], y - 0.25 * fwd[1], heading)
        s = draw_person(cam, v.rider, j, light)
        if s is not None:
            s.depth = out[0].depth - 0.05
            s.body[:] = 0  # riders are not pedestrians in the ground truth
            out.append(s)
    return out
