"""Body keypoints on a person crop (MoveNet MultiPose) and the posture measures the watch needs.

MoveNet contract (../shared/models/MODELS.md): int32 [1,H,W,3] RGB, H and W multiples of 32; output
[1,6,56] = 6 people x (17 x (y, x, score) normalised to the input, then ymin, xmin, ymax, xmax, score).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NOSE, L_EYE, R_EYE, L_SHO, R_SHO, L_ELB, R_ELB, L_WRI, R_WRI = 0, 1, 2, 5, 6, 7, 8, 9, 10
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANK, R_ANK = 11, 12, 13, 14, 15, 16


@dataclass(frozen=True)
class Keypoints:
    xy: np.ndarray  # (17, 2) image pixels
    score: np.ndarray  # (17,)
    person_score: float


def _ceil32(v: float) -> int:
    return max(32, int(math.ceil(v / 32.0)) * 32)


class PoseEstimator:
    """`estimate(image_bgr, xyxy) -> Keypoints | None` for the person in that box."""

    def __init__(self, model: str | None = None, long_side: int = 256, threads: int = 1) -> None:
        from relaytrack.models.registry import onnx_session

        self.session = onnx_session("movenet", model, threads=threads)
        self.input_name = self.session.get_inputs()[0].name
        self.long_side = _ceil32(long_side)
        self.runs = 0

    def estimate(self, image: np.ndarray, xyxy) -> Keypoints | None:
        import cv2

        H, W = image.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in xyxy)
        bw, bh = x2 - x1, y2 - y1
        if bw < 4 or bh < 8:
            return None
        # Some context around the box: MoveNet finds people better with their whole outline in view.
        cx1, cy1 = max(0, int(x1 - 0.2 * bw)), max(0, int(y1 - 0.1 * bh))
        cx2, cy2 = min(W, int(x2 + 0.2 * bw)), min(H, int(y2 + 0.1 * bh))
        crop = image[cy1:cy2, cx1:cx2]
        ch, cw = crop.shape[:2]
        if ch < 8 or cw < 4:
            return None
        s = self.long_side / max(ch, cw)
        rw, rh = max(1, round(cw * s)), max(1, round(ch * s))
        iw, ih = _ceil32(rw), _ceil32(rh)
        inp = np.zeros((ih, iw, 3), np.uint8)
        inp[:rh, :rw] = cv2.cvtColor(cv2.resize(crop, (rw, rh)), cv2.COLOR_BGR2RGB)
        out = self.session.run(None, {self.input_name: inp[None].astype(np.int32)})[0][0]
        self.runs += 1
        # The person whose box centre is nearest the crop's centre among confident ones.
        best, best_cost = None, 1e9
        for row in out:
            if row[55] < 0.1:
                continue
            ymin, xmin, ymax, xmax = row[51:55]
            cx, cy = (xmin + xmax) / 2 * iw, (ymin + ymax) / 2 * ih
            cost = math.hypot(cx - rw / 2, cy - rh / 2) / max(rw, rh) - 0.5 * float(row[55])
            if cost < best_cost:
                best, best_cost = row, cost
        if best is None:
            return None
        kp = best[:51].reshape(17, 3)
        xs = kp[:, 1] * iw / s + cx1
        ys = kp[:, 0] * ih / s + cy1
        return Keypoints(
            np.stack([xs, ys], 1).astype(np.float32), kp[:, 2].astype(np.float32), float(best[55])
        )


@dataclass(frozen=True)
class Posture:
    """Measured posture of one person in one frame; None where the keypoints were too weak to say."""

    knee_deg: float | None  # smallest hip-knee-ankle angle (180 = straight leg)
    torso_deg: float | None  # inclination of shoulders->hips from vertical (0 = upright)
    wrists: tuple[tuple[float, float], ...]  # confident wrist positions
    hips: tuple[float, float] | None  # midpoint of the confident hips
    phone_pose: bool  # a wrist raised in front of chest/face with the elbow bent
    # Where the head points, seen from the camera: "left" | "ahead" | "right" (face visible, nose left of,
    # over or right of the shoulders' middle) or "away" (shoulders seen, no face); None when unsure.
    head: str | None = None


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    v1, v2 = a - b, c - b
    n = float(np.linalg.norm(v1) * np.linalg.norm(v2))
    if n < 1e-6:
        return 180.0
    return math.degrees(math.acos(float(np.clip(np.dot(v1, v2) / n, -1.0, 1.0))))


def _mid(kp: Keypoints, a: int, b: int, thr: float) -> np.ndarray | None:
    pts = [kp.xy[i] for i in (a, b) if kp.score[i] >= thr]
    return np.mean(pts, axis=0) if pts else None


def posture(kp: Keypoints, min_score: float = 0.2) -> Posture:
    ok = kp.score >= min_score
    knees = [
        _angle(kp.xy[h], kp.xy[k], kp.xy[a])
        for h, k, a in ((L_HIP, L_KNEE, L_ANK), (R_HIP, R_KNEE, R_ANK))
        if ok[h] and ok[k] and ok[a]
    ]
    sho, hip = _mid(kp, L_SHO, R_SHO, min_score), _mid(kp, L_HIP, R_HIP, min_score)
    torso = None
    if sho is not None and hip is not None:
        d = sho - hip
        if np.hypot(*d) > 1e-3:
            torso = math.degrees(
                math.atan2(abs(float(d[0])), -float(d[1]))
            )  # 0 when shoulders straight above
    wrists = tuple((float(kp.xy[i][0]), float(kp.xy[i][1])) for i in (L_WRI, R_WRI) if ok[i])
    phone = False
    if sho is not None and hip is not None and ok[L_SHO] and ok[R_SHO]:
        sw = max(float(np.hypot(*(kp.xy[L_SHO] - kp.xy[R_SHO]))), 0.15 * float(np.hypot(*(hip - sho))), 2.0)
        torso_len = float(np.hypot(*(hip - sho)))
        for w, e in ((L_WRI, L_ELB), (R_WRI, R_ELB)):
            if not (ok[w] and ok[e]):
                continue
            wx, wy = kp.xy[w]
            raised = wy < sho[1] + 0.45 * torso_len  # chest height or above
            in_front = abs(wx - sho[0]) < 1.3 * sw
            bent = _angle(kp.xy[L_SHO if w == L_WRI else R_SHO], kp.xy[e], kp.xy[w]) < 135
            if raised and in_front and bent:
                phone = True
    return Posture(
        min(knees) if knees else None,
        torso,
        wrists,
        None if hip is None else (float(hip[0]), float(hip[1])),
        phone,
        head_direction(kp, min_score),
    )


HEAD_SIDE = 0.25  # nose this share of the shoulder width off the shoulders' middle = head turned that way


def head_direction(kp: Keypoints, min_score: float = 0.2) -> str | None:
    """Coarse head direction from the nose and eyes against the shoulders (both needed): a face not found
    over confident shoulders is turned away; else the nose's offset from the shoulders' middle, in shoulder
    widths, says left/ahead/right. Used to count head turns during a stop (looking around)."""
    ok = kp.score >= min_score
    if not (ok[L_SHO] and ok[R_SHO]):
        return None
    sw = float(np.hypot(*(kp.xy[L_SHO] - kp.xy[R_SHO])))
    if sw < 2.0:
        return None
    if not ok[NOSE] and not (ok[L_EYE] and ok[R_EYE]):
        return "away"
    nose = kp.xy[NOSE] if ok[NOSE] else (kp.xy[L_EYE] + kp.xy[R_EYE]) / 2
    off = (float(nose[0]) - float(kp.xy[L_SHO][0] + kp.xy[R_SHO][0]) / 2) / sw
    return "left" if off < -HEAD_SIDE else "right" if off > HEAD_SIDE else "ahead"
