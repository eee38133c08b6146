"""Pinhole camera over the town's ground plane (world: x east, y north, z up, metres)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class PinholeCamera:
    """A pole-mounted camera: position, compass heading (0 = north, 90 = east), downward tilt, horizontal FOV."""

    x: float
    y: float
    z: float
    heading_deg: float
    tilt_deg: float
    fov_deg: float
    width: int
    height: int

    @cached_property
    def f(self) -> float:
        return (self.width / 2) / math.tan(math.radians(self.fov_deg) / 2)

    @cached_property
    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(right, down, forward) unit vectors in world coordinates."""
        h, t = math.radians(self.heading_deg), math.radians(self.tilt_deg)
        fwd = np.array([math.sin(h) * math.cos(t), math.cos(h) * math.cos(t), -math.sin(t)])
        right = np.array([math.cos(h), -math.sin(h), 0.0])
        up = np.cross(right, fwd)
        return right, -up, fwd

    @cached_property
    def centre(self) -> np.ndarray:
        return np.array([self.x, self.y, self.z])

    @cached_property
    def rotation(self) -> np.ndarray:
        return np.stack(self.basis, axis=1)  # world -> camera: rel @ rotation

    def to_cam(self, pts: np.ndarray) -> np.ndarray:
        """World points (...,3) -> camera coordinates (...,3): x right, y down, z depth."""
        return (np.asarray(pts, dtype=np.float64) - self.centre) @ self.rotation

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (...,3) -> pixel coordinates (...,2) and depth (...,). Depth <= 0 means behind."""
        c = self.to_cam(pts)
        z = c[..., 2]
        zs = np.where(z > 1e-3, z, 1e-3)
        uv = np.stack(
            [self.f * c[..., 0] / zs + self.width / 2, self.f * c[..., 1] / zs + self.height / 2], -1
        )
        return uv, z

    def rays(self) -> np.ndarray:
        """World direction of the ray through every pixel centre, (H, W, 3), not normalised."""
        r, d, f = self.basis
        u = (np.arange(self.width) + 0.5 - self.width / 2) / self.f
        v = (np.arange(self.height) + 0.5 - self.height / 2) / self.f
        uu, vv = np.meshgrid(u, v)
        return uu[..., None] * r + vv[..., None] * d + f

    def ground_point(self, u: float, v: float) -> tuple[float, float] | None:
        """Where the ray through pixel (u, v) meets the ground, or None above the horizon."""
        r, d, f = self.basis
        ray = (u - self.width / 2) / self.f * r + (v - self.height / 2) / self.f * d + f
        if ray[2] >= -1e-6:
            return None
        t = -self.z / ray[2]
        return float(self.x + t * ray[0]), float(self.y + t * ray[1])


def clip_polygon_near(cam_pts: np.ndarray, near: float = 0.2) -> np.ndarray:
    """Sutherland-Hodgman clip of a camera-space polygon (N,3) against the plane z = near."""
    out: list[np.ndarray] = []
    n = len(cam_pts)
    for i in range(n):
        a, b = cam_pts[i], cam_pts[(i + 1) % n]
        ina, inb = a[2] >= near, b[2] >= near
        if ina:
            out.append(a)
        if ina != inb:
            t = (near - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out) if out else np.zeros((0, 3))


def cam_to_pixels(cam: PinholeCamera, cam_pts: np.ndarray) -> np.ndarray:
    z = np.maximum(cam_pts[:, 2], 1e-3)
    return np.stack(
        [cam.f * cam_pts[:, 0] / z + cam.width / 2, cam.f * cam_pts[:, 1] / z + cam.height / 2], -1
    )
