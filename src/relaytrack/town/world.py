"""The town's static world: street grid, sidewalks, buildings, park, street furniture and hiding spots.

World coordinates are metres, x east, y north, z up. Streets run along x = i * pitch_x and y = j * pitch_y;
blocks lie between them. People walk on a sidewalk graph (corner nodes, sidewalk and crosswalk edges, park
paths); vehicles drive straight along the road lanes (Korea drives on the right).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

ROAD_HALF = 3.5  # half the carriageway width
SIDEWALK = 2.5
STREET_HALF = ROAD_HALF + SIDEWALK  # 6 m: street centre to the block edge
WALK_OFF = ROAD_HALF + SIDEWALK / 2  # sidewalk centre line
SETBACK = 1.6  # front strip between sidewalk and façades, where AC units, meters and mailboxes stand

# Seoul neighbourhoods the town is placed in (a real location; local metres -> lat/lon around it).
ANCHORS = (
    ("Mangwon-dong", "마포구", 37.5558, 126.9036),
    ("Sillim-dong", "관악구", 37.4842, 126.9297),
    ("Huam-dong", "용산구", 37.5477, 126.9790),
    ("Myeonmok-dong", "중랑구", 37.5868, 127.0875),
    ("Hwagok-dong", "강서구", 37.5417, 126.8405),
)

SPOT_KINDS = ("mailbox", "ac_unit", "utility_box", "gas_meter", "flower_pot", "bench")


@dataclass(frozen=True, slots=True)
class Box3:
    """An axis-aligned box on the ground (or raised by z0), with a BGR colour and a style tag for drawing."""

    x0: float
    y0: float
    x1: float
    y1: float
    z0: float
    z1: float
    color: tuple[int, int, int]
    style: str = "plain"  # plain | building | mailbox | ac_unit | utility_box | bench | foliage | pole | lamp

    @property
    def centre(self) -> np.ndarray:
        return np.array([(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, (self.z0 + self.z1) / 2])


@dataclass(frozen=True, slots=True)
class Spot:
    """A hiding place for a dead drop: an object with a front the courier stands at and reaches into."""

    id: str
    kind: str
    x: float
    y: float
    facing_deg: float  # compass direction the spot's front faces (towards where the courier stands)
    box: Box3
    hand_z: float  # height the hand goes to

    @property
    def stand_point(self) -> tuple[float, float]:
        a = math.radians(self.facing_deg)
        d = 0.75 + max(self.box.x1 - self.box.x0, self.box.y1 - self.box.y0) * 0.3
        return self.x + d * math.sin(a), self.y + d * math.cos(a)


@dataclass(slots=True)
class WalkGraph:
    nodes: list[tuple[float, float]] = field(default_factory=list)
    adj: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    edges: list[tuple[int, int]] = field(default_factory=list)

    def add_node(self, x: float, y: float) -> int:
        self.nodes.append((x, y))
        self.adj[len(self.nodes) - 1] = []
        return len(self.nodes) - 1

    def add_edge(self, a: int, b: int) -> None:
        d = math.dist(self.nodes[a], self.nodes[b])
        self.adj[a].append((b, d))
        self.adj[b].append((a, d))
        self.edges.append((a, b))

    def shortest(self, a: int, b: int) -> list[int]:
        """Dijkstra; node list from a to b."""
        dist = {a: 0.0}
        prev: dict[int, int] = {}
        heap = [(0.0, a)]
        while heap:
            d, u = heapq.heappop(heap)
            if u == b:
                break
            if d > dist.get(u, math.inf):
                continue
            for v, w in self.adj[u]:
                nd = d + w
                if nd < dist.get(v, math.inf):
                    dist[v], prev[v] = nd, u
                    heapq.heappush(heap, (nd, v))
        if b not in dist:
            return [a]
        path = [b]
        while path[-1] != a:
            path.append(prev[path[-1]])
        return path[::-1]

    def nearest_edge(self, x: float, y: float) -> tuple[int, int, tuple[float, float]]:
        """The sidewalk edge closest to (x, y) and the closest point on it."""
        best = (math.inf, 0, 0, (x, y))
        for a, b in self.edges:
            (ax, ay), (bx, by) = self.nodes[a], self.nodes[b]
            dx, dy = bx - ax, by - ay
            t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / max(dx * dx + dy * dy, 1e-9)))
            px, py = ax + t * dx, ay + t * dy
            d = math.hypot(px - x, py - y)
            if d < best[0]:
                best = (d, a, b, (px, py))
        return best[1], best[2], best[3]


@dataclass(slots=True)
class World:
    nx: int
    ny: int
    pitch_x: float
    pitch_y: float
    park: tuple[int, int]  # block index of the park
    anchor: tuple[str, str, float, float]
    buildings: list[Box3] = field(default_factory=list)
    props: list[Box3] = field(default_factory=list)  # street furniture, trees, poles (non-hiding)
    spots: list[Spot] = field(default_factory=list)
    lights: list[tuple[float, float]] = field(default_factory=list)  # street-light positions
    graph: WalkGraph = field(default_factory=WalkGraph)
    lanes: list[tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=list)  # start, end

    @property
    def extent(self) -> tuple[float, float, float, float]:
        m = STREET_HALF + SETBACK + 16  # room for the ring of buildings around the grid
        return -m, -m, self.nx * self.pitch_x + m, self.ny * self.pitch_y + m

    def block_rect(self, i: int, j: int) -> tuple[float, float, float, float]:
        return (
            i * self.pitch_x + STREET_HALF,
            j * self.pitch_y + STREET_HALF,
            (i + 1) * self.pitch_x - STREET_HALF,
            (j + 1) * self.pitch_y - STREET_HALF,
        )

    def inside_building(self, x: float, y: float, margin: float = 0.0) -> bool:
        return any(
            b.x0 - margin <= x <= b.x1 + margin and b.y0 - margin <= y <= b.y1 + margin
            for b in self.buildings
        )

    def latlon(self, x: float, y: float) -> tuple[float, float]:
        lat0, lon0 = self.anchor[2], self.anchor[3]
        lat = lat0 + y / 111_320.0
        lon = lon0 + x / (111_320.0 * math.cos(math.radians(lat0)))
        return round(float(lat), 7), round(float(lon), 7)

    def occluded_2d(self, ax: float, ay: float, az: float, bx: float, by: float, bz: float) -> bool:
        """Does the 3D segment a->b pass through a building? (sampled)"""
        n = max(4, int(math.dist((ax, ay), (bx, by)) / 0.5))
        for k in range(1, n):
            t = k / n
            x, y, z = ax + t * (bx - ax), ay + t * (by - ay), az + t * (bz - az)
            for b in self.buildings:
                if b.x0 < x < b.x1 and b.y0 < y < b.y1 and z < b.z1:
                    return True
        return False


FACADE_COLORS = (
    (150, 170, 190),
    (95, 105, 150),
    (200, 205, 210),
    (120, 140, 165),
    (80, 90, 120),
    (175, 185, 190),
    (140, 150, 160),
    (110, 125, 175),
)  # fmt: skip  (BGR: beige, brick, white…)


def build_world(rng: np.random.Generator, nx: int = 4, ny: int = 3) -> World:
    """Lay out a residential grid with one park block; deterministic for the generator's state."""
    anchor = ANCHORS[int(rng.integers(len(ANCHORS)))]
    w = World(
        nx=nx,
        ny=ny,
        pitch_x=50.0,
        pitch_y=44.0,
        park=(int(rng.integers(nx)), int(rng.integers(ny))),
        anchor=anchor,
    )
    spot_no = 0

    def new_spot(kind: str, x: float, y: float, facing: float, box: Box3, hand_z: float) -> None:
        nonlocal spot_no
        spot_no += 1
        w.spots.append(Spot(f"Z{spot_no:02d}", kind, x, y, facing, box, hand_z))

    for i in range(nx):
        for j in range(ny):
            x0, y0, x1, y1 = w.block_rect(i, j)
            if (i, j) == w.park:
                _park(w, rng, (x0, y0, x1, y1), new_spot)
                continue
            # Two rows of lots (south and north half), 3 lots along x; alleys between buildings.
            cols = 3
            lot_w = (x1 - x0) / cols
            for row, (ly0, ly1, facing) in enumerate(((y0, (y0 + y1) / 2, 180.0), ((y0 + y1) / 2, y1, 0.0))):
                for c in range(cols):
                    bx0 = x0 + c * lot_w + 0.9
                    bx1 = x0 + (c + 1) * lot_w - 0.9
                    by0 = ly0 + (SETBACK if row == 0 else 0.6)
                    by1 = ly1 - (0.6 if row == 0 else SETBACK)
                    h = float(rng.uniform(8.5, 15.0))
                    col = FACADE_COLORS[int(rng.integers(len(FACADE_COLORS)))]
                    w.buildings.append(Box3(bx0, by0, bx1, by1, 0.0, h, col, "building"))
                    # The façade that faces the street (south for row 0, north for row 1).
                    fy = by0 if row == 0 else by1
                    out = -1.0 if row == 0 else 1.0
                    _facade_spots(w, rng, bx0, bx1, fy, out, facing, new_spot)
    _outer_ring(w, rng)
    # Street lights every ~25 m on alternate curbs; utility boxes on some sidewalks.
    for j in range(ny + 1):
        y = j * w.pitch_y
        for k, x in enumerate(np.arange(8.0, nx * w.pitch_x, 24.0)):
            side = 1 if k % 2 else -1
            w.lights.append((float(x), y + side * (ROAD_HALF + 0.3)))
    for i in range(nx + 1):
        x = i * w.pitch_x
        for k, y in enumerate(np.arange(10.0, ny * w.pitch_y, 24.0)):
            side = 1 if k % 2 else -1
            w.lights.append((x + side * (ROAD_HALF + 0.3), float(y)))
    for lx, ly in w.lights:
        w.props.append(Box3(lx - 0.08, ly - 0.08, lx + 0.08, ly + 0.08, 0.0, 6.2, (70, 75, 80), "pole"))
        w.props.append(Box3(lx - 0.35, ly - 0.2, lx + 0.35, ly + 0.2, 6.0, 6.25, (60, 60, 65), "lamp"))
    for i in range(nx):
        for j in range(ny + 1):
            if rng.random() < 0.35:
                x = i * w.pitch_x + float(rng.uniform(12, w.pitch_x - 12))
                side = 1 if rng.random() < 0.5 else -1
                y = j * w.pitch_y + side * (ROAD_HALF + 0.55)
                box = Box3(x - 0.35, y - 0.22, x + 0.35, y + 0.22, 0.0, 1.25, (95, 120, 105), "utility_box")
                new_spot("utility_box", x, y, 0.0 if side > 0 else 180.0, box, 0.7)
    _graph(w)
    for j in range(ny + 1):
        y = j * w.pitch_y
        w.lanes.append(((w.extent[0], y - 1.75), (w.extent[2], y - 1.75)))  # eastbound
        w.lanes.append(((w.extent[2], y + 1.75), (w.extent[0], y + 1.75)))  # westbound
    for i in range(nx + 1):
        x = i * w.pitch_x
        w.lanes.append(((x + 1.75, w.extent[1]), (x + 1.75, w.extent[3])))  # northbound
        w.lanes.append(((x - 1.75, w.extent[3]), (x - 1.75, w.extent[1])))  # southbound
    return w


def _outer_ring(w: World, rng: np.random.Generator) -> None:
    """Buildings beyond the outermost streets, so no view looks out into empty ground."""
    X, Y = w.nx * w.pitch_x, w.ny * w.pitch_y
    near, far = STREET_HALF + SETBACK, STREET_HALF + SETBACK + 13
    bands = [
        (-far, -far, X + far, -near, "x"),
        (-far, Y + near, X + far, Y + far, "x"),
        (-far, -near, -near, Y + near, "y"),
        (X + near, -near, X + far, Y + near, "y"),
    ]
    for x0, y0, x1, y1, axis in bands:
        lo, hi = (x0, x1) if axis == "x" else (y0, y1)
        a = lo
        while a < hi - 4:
            b = min(hi, a + float(rng.uniform(9, 15)))
            h = float(rng.uniform(8.5, 16.0))
            col = FACADE_COLORS[int(rng.integers(len(FACADE_COLORS)))]
            if axis == "x":
                w.buildings.append(Box3(a + 0.6, y0, b - 0.6, y1, 0.0, h, col, "building"))
            else:
                w.buildings.append(Box3(x0, a + 0.6, x1, b - 0.6, 0.0, h, col, "building"))
            a = b


def _facade_spots(
    w: World, rng: np.random.Generator, bx0: float, bx1: float, fy: float, out: float, facing: float, new_spot
) -> None:
    """AC units, gas meters, mailboxes and flower pots in the front strip of one building."""
    xs = list(rng.permutation(np.linspace(bx0 + 1.2, bx1 - 1.2, 5)))
    if rng.random() < 0.8:
        x = float(xs.pop())
        box = Box3(
            x - 0.42,
            min(fy, fy + out * 0.6),
            x + 0.42,
            max(fy, fy + out * 0.6),
            0.0,
            0.62,
            (200, 205, 205),
            "ac_unit",
        )
        new_spot("ac_unit", x, fy + out * 0.3, facing, box, 0.35)
    if rng.random() < 0.45:
        x = float(xs.pop())
        box = Box3(
            x - 0.22,
            min(fy, fy + out * 0.18),
            x + 0.22,
            max(fy, fy + out * 0.18),
            0.95,
            1.45,
            (150, 160, 165),
            "gas_meter",
        )
        new_spot("gas_meter", x, fy + out * 0.1, facing, box, 1.1)
    if rng.random() < 0.35:
        x = float(xs.pop())
        y = fy + out * (SETBACK - 0.3)
        box = Box3(x - 0.24, y - 0.2, x + 0.24, y + 0.2, 0.0, 1.15, (35, 35, 190), "mailbox")
        new_spot("mailbox", x, y, facing, box, 0.95)
    if rng.random() < 0.3:
        x = float(xs.pop())
        y = fy + out * 0.5
        box = Box3(x - 0.3, y - 0.3, x + 0.3, y + 0.3, 0.0, 0.55, (60, 90, 140), "flower_pot")
        new_spot("flower_pot", x, y, facing, box, 0.4)


def _park(w: World, rng: np.random.Generator, rect: tuple[float, float, float, float], new_spot) -> None:
    x0, y0, x1, y1 = rect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # Benches along the diagonal paths, facing the path.
    for k, (fx, fy) in enumerate(((0.3, 0.3), (0.7, 0.7), (0.3, 0.7), (0.7, 0.3))):
        bx, by = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
        by += 2.2 if k % 2 == 0 else -2.2
        facing = 180.0 if k % 2 == 0 else 0.0
        box = Box3(bx - 0.9, by - 0.25, bx + 0.9, by + 0.25, 0.0, 0.48, (60, 95, 140), "bench")
        new_spot("bench", bx, by, facing, box, 0.3)
    for _ in range(14):
        tx, ty = float(rng.uniform(x0 + 2, x1 - 2)), float(rng.uniform(y0 + 2, y1 - 2))
        # Keep trees off the diagonal paths.
        u, v = (tx - x0) / (x1 - x0), (ty - y0) / (y1 - y0)
        if abs(u - v) < 0.15 or abs(u + v - 1) < 0.15:
            continue
        w.props.append(Box3(tx - 0.15, ty - 0.15, tx + 0.15, ty + 0.15, 0.0, 2.6, (40, 60, 80), "pole"))
        r = float(rng.uniform(1.2, 2.0))
        w.props.append(Box3(tx - r, ty - r, tx + r, ty + r, 2.0, 2.0 + 2 * r, (50, 110, 60), "foliage"))
    w.lights.append((cx + 1.5, cy + 1.5))


def _graph(w: World) -> None:
    g = w.graph
    corner: dict[tuple[int, int, int, int], int] = {}
    for i in range(w.nx + 1):
        for j in range(w.ny + 1):
            for sx in (-1, 1):
                for sy in (-1, 1):
                    corner[(i, j, sx, sy)] = g.add_node(
                        i * w.pitch_x + sx * WALK_OFF, j * w.pitch_y + sy * WALK_OFF
                    )
    for i in range(w.nx + 1):
        for j in range(w.ny + 1):
            for s in (-1, 1):
                g.add_edge(corner[(i, j, -1, s)], corner[(i, j, 1, s)])  # crosswalk over street x_i
                g.add_edge(corner[(i, j, s, -1)], corner[(i, j, s, 1)])  # crosswalk over street y_j
                if i < w.nx:
                    g.add_edge(corner[(i, j, 1, s)], corner[(i + 1, j, -1, s)])
                if j < w.ny:
                    g.add_edge(corner[(i, j, s, 1)], corner[(i, j + 1, s, -1)])
    # Park: diagonal paths through a centre node.
    pi, pj = w.park
    x0, y0, x1, y1 = w.block_rect(pi, pj)
    centre = g.add_node((x0 + x1) / 2, (y0 + y1) / 2)
    for key in ((pi, pj, 1, 1), (pi + 1, pj, -1, 1), (pi, pj + 1, 1, -1), (pi + 1, pj + 1, -1, -1)):
        g.add_edge(corner[key], centre)


def ground_texture(w: World, rng: np.random.Generator, res: float = 0.1) -> tuple[np.ndarray, float, float]:
    """Top-down BGR ground image of the town (res metres per pixel) and its world origin (x, y of pixel 0,0).

    Row 0 is the SOUTH edge (y grows with the row index) so that world -> pixel is a plain affine map.
    """
    import cv2

    ex0, ey0, ex1, ey1 = w.extent
    W, H = int((ex1 - ex0) / res), int((ey1 - ey0) / res)

    def px(x: float, y: float) -> tuple[int, int]:
        return int(round((x - ex0) / res)), int(round((y - ey0) / res))

    def rect(x0: float, y0: float, x1: float, y1: float, col, img=None) -> None:
        cv2.rectangle(img if img is not None else tex, px(x0, y0), px(x1, y1), col, -1)

    tex = np.empty((H, W, 3), np.uint8)
    tex[:] = (150, 158, 160)  # paved block interiors
    # Sidewalks over whole town, then roads on top.
    for j in range(w.ny + 1):
        y = j * w.pitch_y
        rect(ex0, y - STREET_HALF, ex1, y + STREET_HALF, (150, 150, 172))
    for i in range(w.nx + 1):
        x = i * w.pitch_x
        rect(x - STREET_HALF, ey0, x + STREET_HALF, ey1, (150, 150, 172))
    # Paving-block joints on sidewalks.
    side = tex.copy()
    step = int(0.4 / res)
    side[::step, :] = (120, 120, 140)
    side[:, ::step] = (120, 120, 140)
    sidewalk_mask = np.all(tex == (150, 150, 172), axis=2)
    tex[sidewalk_mask] = side[sidewalk_mask]
    for j in range(w.ny + 1):
        y = j * w.pitch_y
        rect(ex0, y - ROAD_HALF - 0.15, ex1, y + ROAD_HALF + 0.15, (175, 178, 180))  # curb
        rect(ex0, y - ROAD_HALF, ex1, y + ROAD_HALF, (68, 68, 70))
    for i in range(w.nx + 1):
        x = i * w.pitch_x
        rect(x - ROAD_HALF - 0.15, ey0, x + ROAD_HALF + 0.15, ey1, (175, 178, 180))
        rect(x - ROAD_HALF, ey0, x + ROAD_HALF, ey1, (68, 68, 70))
    # Yellow centre lines (dashed) and crosswalks.
    for j in range(w.ny + 1):
        y = j * w.pitch_y
        for x in np.arange(ex0, ex1, 6.0):
            rect(x, y - 0.08, x + 3.0, y + 0.08, (40, 190, 215))
    for i in range(w.nx + 1):
        x = i * w.pitch_x
        for y in np.arange(ey0, ey1, 6.0):
            rect(x - 0.08, y, x + 0.08, y + 3.0, (40, 190, 215))
    for i in range(w.nx + 1):
        for j in range(w.ny + 1):
            cx, cy = i * w.pitch_x, j * w.pitch_y
            # Clear the junction box, then stripes on each arm.
            rect(cx - ROAD_HALF, cy - ROAD_HALF, cx + ROAD_HALF, cy + ROAD_HALF, (68, 68, 70))
            for s in (-1, 1):
                base = s * (ROAD_HALF + 1.8)
                for k in np.arange(-ROAD_HALF + 0.3, ROAD_HALF, 1.0):
                    rect(cx + base - 1.5, cy + k, cx + base + 1.5, cy + k + 0.5, (225, 228, 230))
                    rect(cx + k, cy + base - 1.5, cx + k + 0.5, cy + base + 1.5, (225, 228, 230))
    # Park: grass with diagonal paths.
    x0, y0, x1, y1 = w.block_rect(*w.park)
    rect(x0, y0, x1, y1, (70, 135, 85))
    cv2.line(tex, px(x0, y0), px(x1, y1), (150, 180, 200), int(2.2 / res))
    cv2.line(tex, px(x1, y0), px(x0, y1), (150, 180, 200), int(2.2 / res))
    noise = rng.normal(0, 6, (H // 4 + 1, W // 4 + 1)).astype(np.float32)
    noise = cv2.resize(noise, (W, H), interpolation=cv2.INTER_LINEAR)
    fine = rng.normal(0, 4, (H, W)).astype(np.float32)
    tex = np.clip(tex.astype(np.float32) + (noise + fine)[..., None], 0, 255).astype(np.uint8)
    # Far ground is seen through few pixels; a light blur stands in for mip-mapping.
    tex = cv2.GaussianBlur(tex, (3, 3), 0)
    return tex, ex0, ey0
