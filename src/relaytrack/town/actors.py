"""People and vehicles of the town: appearance, routes through the sidewalk graph, stops and poses.

A person's motion is a piecewise-linear track (times, positions) plus "actions" (intervals with a pose and a
facing); between actions the pose is the walk cycle (or standing when the track does not move).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from relaytrack.town.humanoid import Look, pose_joints, to_world, walk_phase
from relaytrack.town.world import World

# Palette colours (BGR) for the 11 clothing names; people's clothes are drawn near these with jitter.
PALETTE_BGR: dict[str, tuple[int, int, int]] = {
    "black": (32, 32, 34), "white": (232, 234, 236), "gray": (128, 128, 130), "red": (40, 35, 195),
    "orange": (30, 125, 235), "yellow": (40, 205, 230), "green": (55, 135, 45), "blue": (165, 85, 30),
    "purple": (125, 45, 105), "pink": (175, 135, 240), "brown": (40, 70, 115),
}  # fmt: skip
UPPER_P = {"black": 0.2, "white": 0.16, "gray": 0.14, "blue": 0.1, "red": 0.06, "green": 0.06, "brown": 0.06,
           "yellow": 0.05, "pink": 0.05, "orange": 0.05, "purple": 0.03, "navy_blue": 0.04}  # fmt: skip
LOWER_P = {"black": 0.34, "blue": 0.26, "gray": 0.16, "brown": 0.08, "white": 0.06, "green": 0.04, "red": 0.02,
           "pink": 0.02, "purple": 0.02}  # fmt: skip
SKINS = ((150, 185, 225), (125, 165, 210), (105, 145, 195), (95, 130, 175), (70, 100, 145), (55, 75, 110))
HAIRS = ((20, 20, 24), (22, 28, 40), (25, 40, 70), (40, 60, 100), (120, 120, 125), (40, 90, 160))
HAIR_P = (0.5, 0.2, 0.12, 0.07, 0.06, 0.05)
ITEM_P = {"backpack": 0.25, "handbag": 0.2, "suitcase": 0.05, "umbrella": 0.06}
VEHICLE_COLORS = {"car": {"white": 0.32, "black": 0.2, "gray": 0.26, "blue": 0.08, "red": 0.06, "brown": 0.04,
                          "yellow": 0.04},
                  "bus": {"blue": 0.5, "green": 0.4, "yellow": 0.1},
                  "motorcycle": {"black": 0.3, "red": 0.2, "white": 0.2, "gray": 0.2, "blue": 0.1}}  # fmt: skip
VEHICLE_LENGTH = {"car": 4.5, "truck": 5.1, "bus": 11.0, "motorcycle": 2.0}


def _jitter(rng: np.random.Generator, col: tuple[int, int, int], amount: float = 14) -> tuple[int, int, int]:
    c = np.clip(np.asarray(col, np.float32) + rng.normal(0, amount, 3), 0, 255)
    return tuple(int(v) for v in c)


def _choice(rng: np.random.Generator, probs: dict[str, float]) -> str:
    names = list(probs)
    p = np.array([probs[n] for n in names], np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


@dataclass(slots=True)
class Person:
    id: int
    look: Look
    upper: str  # palette name
    lower: str
    role: str  # pedestrian | suspect | courier | decoy
    times: np.ndarray  # (K,)
    xy: np.ndarray  # (K, 2)
    actions: list[tuple[float, float, str, float, tuple[float, float] | None]] = field(default_factory=list)
    # (start, end, pose, facing_deg, reach)
    stops: list[dict] = field(default_factory=list)  # courier stops: spot id, start, end, photo window
    cum: np.ndarray | None = None  # cumulative distance along the track (cached)

    def active(self, t: float) -> bool:
        return self.times[0] <= t <= self.times[-1]

    def state(self, t: float) -> tuple[float, float, float, str, float, tuple[float, float] | None]:
        """(x, y, heading, pose, phase, reach) at time t."""
        x = float(np.interp(t, self.times, self.xy[:, 0]))
        y = float(np.interp(t, self.times, self.xy[:, 1]))
        for a0, a1, pose, facing, reach in self.actions:
            if a0 <= t < a1:
                return x, y, facing, pose, 0.0, reach
        k = int(np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.times) - 2))
        d = self.xy[k + 1] - self.xy[k]
        seg = float(np.hypot(*d))
        if seg < 1e-6:
            return x, y, self._facing_at(k), "stand", 0.0, None
        heading = math.degrees(math.atan2(d[0], d[1])) % 360
        dist = self._cum[k] + seg * (t - self.times[k]) / max(self.times[k + 1] - self.times[k], 1e-9)
        return x, y, heading, "walk", walk_phase(dist, self.look.height) + self.id, None

    def _facing_at(self, k: int) -> float:
        for j in range(k, -1, -1):
            d = self.xy[j + 1] - self.xy[j] if j + 1 < len(self.xy) else np.zeros(2)
            if np.hypot(*d) > 1e-6:
                return math.degrees(math.atan2(d[0], d[1])) % 360
        return 0.0

    @property
    def _cum(self) -> np.ndarray:
        if self.cum is None or len(self.cum) != len(self.xy):
            seg = np.hypot(*np.diff(self.xy, axis=0).T)
            self.cum = np.concatenate([[0.0], np.cumsum(seg)])
        return self.cum

    def joints(self, t: float) -> tuple[dict[str, np.ndarray], bool]:
        x, y, heading, pose, phase, reach = self.state(t)
        j = pose_joints(self.look, pose, phase, reach)
        return to_world(j, x, y, heading), pose == "phone"

    def attributes(self) -> dict:
        return {
            "upper": self.upper,
            "lower": self.lower,
            "items": list(self.look.items),
            "kind": "person",
            "role": self.role,
            "sex": "female" if self.look.female else "male",
            "height_m": round(self.look.height, 2),
        }


@dataclass(slots=True)
class Vehicle:
    id: str
    kind: str  # car | truck | bus | motorcycle
    color: str
    bgr: tuple[int, int, int]
    start: tuple[float, float]
    end: tuple[float, float]
    t0: float  # on the map from t0 (at `start`)
    speed: float
    rider: Look | None = None  # a motorcycle's rider (drawn, not one of the town's people)
    plate: str = ""
    plate_style: str = ""  # white | yellow | moto (town/plates.py)
    depart: float | None = None  # parked at `start` from t0 until it drives off at `depart`
    riders: list[int] = field(default_factory=list)  # ids of the town's people who ride in it
    boarding: list[dict] = field(default_factory=list)  # {person, time, x, y}: where they got in

    @property
    def length(self) -> float:
        return VEHICLE_LENGTH[self.kind]

    def pose(self, t: float) -> tuple[float, float, float] | None:
        """(x, y, heading) at t, None when not on the map."""
        sx, sy = self.start
        ex, ey = self.end
        total = math.hypot(ex - sx, ey - sy)
        if t < self.t0:
            return None
        d = (t - self.t0 if self.depart is None else max(0.0, t - self.depart)) * self.speed
        if d > total:
            return None
        f = d / total
        return sx + f * (ex - sx), sy + f * (ey - sy), math.degrees(math.atan2(ex - sx, ey - sy)) % 360

    def moving(self, t: float) -> bool:
        return self.depart is None or t >= self.depart

    @property
    def t_end(self) -> float:
        """When it leaves the map."""
        total = math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])
        return (self.t0 if self.depart is None else self.depart) + total / self.speed


def random_look(
    rng: np.random.Generator,
    *,
    upper: str | None = None,
    lower: str | None = None,
    items: tuple[str, ...] | None = None,
    female: bool | None = None,
) -> tuple[Look, str, str]:
    female = bool(rng.random() < 0.5) if female is None else female
    height = float(np.clip(rng.normal(1.61 if female else 1.74, 0.06), 1.45, 1.95))
    up = upper or _choice(rng, UPPER_P)
    if up == "navy_blue":
        up_bgr, up = (90, 45, 25), "blue"
    else:
        up_bgr = PALETTE_BGR[up]
    lo = lower or _choice(rng, LOWER_P)
    its = items if items is not None else tuple(k for k, p in ITEM_P.items() if rng.random() < p)
    if "suitcase" in its and "umbrella" in its:
        its = tuple(i for i in its if i != "umbrella")
    look = Look(
        height=height,
        build=float(np.clip(rng.normal(1.0, 0.09), 0.85, 1.25)),
        female=female,
        skin=_jitter(rng, SKINS[int(rng.integers(len(SKINS)))], 8),
        hair=HAIRS[int(rng.choice(len(HAIRS), p=HAIR_P))],
        long_hair=bool(rng.random() < (0.6 if female else 0.05)),
        upper=_jitter(rng, up_bgr, 10),
        lower=_jitter(rng, PALETTE_BGR[lo], 8),
        shoes=_jitter(rng, ((30, 30, 30), (220, 220, 220), (60, 70, 90))[int(rng.integers(3))], 8),
        long_sleeves=bool(rng.random() < 0.7),
        shorts=bool(rng.random() < 0.1),
        items=its,
        item_color=_jitter(
            rng, ((35, 35, 35), (60, 70, 100), (120, 60, 30), (40, 40, 150))[int(rng.integers(4))]
        ),
    )
    return look, up, lo


def route_points(world: World, nodes: list[int], jitter: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    pts = np.array([world.graph.nodes[n] for n in nodes], np.float64)
    return pts + np.asarray(jitter)


def timed(points: np.ndarray, t0: float, speed: float) -> tuple[np.ndarray, np.ndarray]:
    """Times at which a walker starting at t0 reaches each point, dropping repeated points."""
    keep = [0]
    for i in range(1, len(points)):
        if np.hypot(*(points[i] - points[keep[-1]])) > 1e-6:
            keep.append(i)
    pts = points[keep]
    seg = np.hypot(*np.diff(pts, axis=0).T) if len(pts) > 1 else np.zeros(0)
    times = t0 + np.concatenate([[0.0], np.cumsum(seg) / speed])
    if len(pts) == 1:
        pts = np.vstack([pts, pts])
        times = np.array([t0, t0 + 1.0])
    return times, pts


def pedestrian(world: World, rng: np.random.Generator, pid: int, t_start: float) -> Person:
    g = world.graph
    a, b = int(rng.integers(len(g.nodes))), int(rng.integers(len(g.nodes)))
    nodes = g.shortest(a, b)
    if len(nodes) < 3:
        nodes = g.shortest(a, int(rng.integers(len(g.nodes))))
    look, up, lo = random_look(rng)
    speed = float(np.clip(rng.normal(1.35, 0.15), 0.9, 1.8))
    pts = route_points(world, nodes, tuple(rng.uniform(-0.7, 0.7, 2)))
    times, pts = timed(pts, t_start, speed)
    return Person(pid, look, up, lo, "pedestrian", times, pts)


def add_stop(
    person_pts: list[np.ndarray],
    person_times: list[float],
    stand: tuple[float, float],
    speed: float,
    stay: float,
) -> tuple[float, float]:
    """Append a walk to `stand` and a stay there; returns (arrival, departure)."""
    last = person_pts[-1]
    d = float(np.hypot(stand[0] - last[0], stand[1] - last[1]))
    arrive = person_times[-1] + d / speed
    person_pts.append(np.array(stand))
    person_times.append(arrive)
    person_pts.append(np.array(stand))
    person_times.append(arrive + stay)
    return arrive, arrive + stay


def vehicle(world: World, rng: np.random.Generator, vid: str, t0: float) -> Vehicle:
    kind = _choice(rng, {"car": 0.72, "bus": 0.1, "motorcycle": 0.18})
    color = _choice(rng, VEHICLE_COLORS[kind])
    bgr = {"white": (225, 228, 230), "black": (28, 28, 30), "gray": (150, 150, 152)}.get(
        color, PALETTE_BGR[color]
    )
    if kind == "bus":
        bgr = {"blue": (175, 95, 20), "green": (70, 160, 60), "yellow": (30, 185, 225)}[color]
    start, end = world.lanes[int(rng.integers(len(world.lanes)))]
    speed = float(rng.uniform(6.0, 10.0) if kind != "bus" else rng.uniform(5.0, 7.0))
    rider = random_look(rng, items=())[0] if kind == "motorcycle" else None
    return Vehicle(vid, kind, color, _jitter(rng, bgr, 6), start, end, t0, speed, rider)


def person_box_world(p: Person, t: float) -> np.ndarray:
    """A person's 3D extent at t (for quick visibility checks): feet centre and head top."""
    x, y, *_ = p.state(t)
    return np.array([[x, y, 0.0], [x, y, p.look.height]])
