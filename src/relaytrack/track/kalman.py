"""Constant-velocity Kalman filter on box centre and size (cx, cy, w, h), velocities per second.

Noise scales with the box height, so a far, small person and a near, large one are trusted alike.
"""

from __future__ import annotations

import numpy as np

_POS_STD = 1.0 / 20
_VEL_STD = 1.0 / 8  # per second
_MEAS_STD = 1.0 / 20


def xyxy_to_z(b: np.ndarray) -> np.ndarray:
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]], dtype=np.float64)


def z_to_xyxy(z: np.ndarray) -> np.ndarray:
    cx, cy, w, h = z[:4]
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dtype=np.float64)


class Kalman:
    __slots__ = ("x", "P")

    def __init__(self, box_xyxy: np.ndarray) -> None:
        z = xyxy_to_z(box_xyxy)
        self.x = np.concatenate([z, np.zeros(4)])
        h = max(z[3], 1.0)
        std = np.array(
            [
                2 * _POS_STD * h,
                2 * _POS_STD * h,
                2 * _POS_STD * h,
                2 * _POS_STD * h,
                10 * _VEL_STD * h,
                10 * _VEL_STD * h,
                10 * _VEL_STD * h,
                10 * _VEL_STD * h,
            ]
        )
        self.P = np.diag(std**2)

    def predict(self, dt: float) -> None:
        dt = max(dt, 1e-3)
        F = np.eye(8)
        F[:4, 4:] = np.eye(4) * dt
        h = max(self.x[3], 1.0)
        q = (
            np.array(
                [
                    _POS_STD * h,
                    _POS_STD * h,
                    _POS_STD * h,
                    _POS_STD * h,
                    _VEL_STD * h,
                    _VEL_STD * h,
                    _VEL_STD * h,
                    _VEL_STD * h,
                ]
            )
            ** 2
        )
        self.x = F @ self.x
        if self.x[2] < 1:
            self.x[2] = 1
        if self.x[3] < 1:
            self.x[3] = 1
        self.P = F @ self.P @ F.T + np.diag(q * dt)

    def update(self, box_xyxy: np.ndarray, confidence: float = 1.0) -> None:
        z = xyxy_to_z(box_xyxy)
        h = max(self.x[3], 1.0)
        # Low-score boxes are noisier: inflate their measurement noise (as in NSA-Kalman).
        r = (_MEAS_STD * h * (1.0 + (1.0 - confidence))) ** 2
        R = np.diag([r, r, r, r])
        H = np.eye(4, 8)
        S = H @ self.P @ H.T + R
        K = self.P @ H.T @ np.linalg.inv(S)
        self.x = self.x + K @ (z - H @ self.x)
        self.P = (np.eye(8) - K @ H) @ self.P

    @property
    def box(self) -> np.ndarray:
        return z_to_xyxy(self.x)
