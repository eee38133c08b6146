"""Planning a town: world, cameras (route, courier, park and street cameras), suspect, couriers, crowd, traffic.

Everything here is drawn from one seeded generator, so a seed fixes the whole town.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from relaytrack.town.actors import Person, Vehicle, add_stop, pedestrian, random_look, timed, vehicle
from relaytrack.town.camera import PinholeCamera
from relaytrack.town.confusers import add_spot_cameras, plan_confusers, spot_cameras
from relaytrack.town.decoys import plan_decoys
from relaytrack.town.plates import assign_plates
from relaytrack.town.world import Spot, World, build_world

COLOR_ADJ_KO = {"black": "검은색", "white": "흰색", "gray": "회색", "red": "빨간색", "orange": "주황색",
                "yellow": "노란색", "green": "초록색", "blue": "파란색", "purple": "보라색", "pink": "분홍색",
                "brown": "갈색"}  # fmt: skip
ITEM_KO = {
    "backpack": "백팩을 멘",
    "handbag": "핸드백을 든",
    "suitcase": "여행가방을 끄는",
    "umbrella": "우산을 쓴",
}
ITEM_EN = {
    "backpack": "carrying a backpack",
    "handbag": "carrying a handbag",
    "suitcase": "pulling a suitcase",
    "umbrella": "holding an umbrella",
}


@dataclass(slots=True)
class TownSpec:
    seed: int = 0
    cameras: int = 8
    minutes: float = 1.5
    fps: float = 10.0
    width: int = 640
    height: int = 360
    lighting: str = "day"
    couriers: int = 1
    courier_stops: int = 2  # stops inside the footage (more follow after it)
    decoys: int = 0
    crowd: float = 1.0  # pedestrian density factor
    courier_spot: str | None = None  # kind of the first hiding spot (mailbox, ac_unit, ...); None = any
    confusers: int = 0  # innocent people at hiding spots (town/confusers.py)
    vehicles: int | None = None  # vehicles on the roads (None: the usual traffic for the town's size)
    plate_cameras: int = 0  # traffic cameras along a lane, near enough to read plates (town/driving.py)
    suspect_drives: bool = False  # the suspect gets into a parked car that drives off (town/driving.py)

    @property
    def duration(self) -> float:
        return self.minutes * 60.0

    def key(self) -> dict:
        # Fields at their defaults stay out of the key, so towns from before they existed stay complete.
        later = {"confusers": 0, "vehicles": None, "plate_cameras": 0, "suspect_drives": False}
        return {k: getattr(self, k) for k in self.__slots__ if k not in later or getattr(self, k) != later[k]}


@dataclass(slots=True)
class CamSpec:
    id: str
    name: str
    cam: PinholeCamera
    purpose: str
    role: str  # route | courier | park | street


@dataclass(slots=True)
class Town:
    spec: TownSpec
    world: World
    cameras: list[CamSpec]
    people: list[Person]
    vehicles: list[Vehicle]
    suspect: int
    couriers: list[int] = field(default_factory=list)
    decoys: list[int] = field(default_factory=list)
    confusers: dict[int, str] = field(default_factory=dict)  # person id -> confuser kind


def place_camera(
    world: World, rng: np.random.Generator, target: tuple[float, float], look_deg: float, spec: TownSpec
) -> PinholeCamera | None:
    z = float(rng.uniform(5.0, 7.0))
    tilt = float(rng.uniform(30.0, 37.0))
    fov = float(rng.uniform(62.0, 76.0))
    d = z / math.tan(math.radians(tilt))
    a = math.radians(look_deg)
    px, py = target[0] - d * math.sin(a), target[1] - d * math.cos(a)
    ex0, ey0, ex1, ey1 = world.extent
    if not (ex0 < px < ex1 and ey0 < py < ey1):
        return None
    if world.inside_building(px, py, margin=0.4):
        return None
    if world.occluded_2d(px, py, z, target[0], target[1], 1.2):
        return None
    return PinholeCamera(px, py, z, look_deg % 360, tilt, fov, spec.width, spec.height)


def _walk_route(world: World, rng: np.random.Generator, length: float) -> list[int]:
    """A wandering route without U-turns, about `length` metres long."""
    g = world.graph
    for _ in range(50):
        start = int(rng.integers(len(g.nodes)))
        route, total = [start], 0.0
        while total < length:
            nbrs = [(v, w) for v, w in g.adj[route[-1]] if len(route) < 2 or v != route[-2]]
            nbrs = [(v, w) for v, w in nbrs if v not in route[-6:]]
            if not nbrs:
                break
            # Prefer long sidewalk edges over crosswalks, so the route goes somewhere.
            weights = np.array([w for _, w in nbrs]) ** 1.5
            v, w = nbrs[int(rng.choice(len(nbrs), p=weights / weights.sum()))]
            route.append(v)
            total += w
        if total >= length:
            return route
    return route


def _arc(points: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])


def _at(points: np.ndarray, s: float) -> tuple[np.ndarray, float]:
    arc = _arc(points)
    k = int(np.clip(np.searchsorted(arc, s) - 1, 0, len(points) - 2))
    f = (s - arc[k]) / max(arc[k + 1] - arc[k], 1e-9)
    p = points[k] + f * (points[k + 1] - points[k])
    d = points[k + 1] - points[k]
    return p, math.degrees(math.atan2(d[0], d[1])) % 360


def _access(world: World, spot: Spot) -> tuple[int, int, np.ndarray]:
    a, b, p = world.graph.nearest_edge(*spot.stand_point)
    return a, b, np.array(p)


def _path_between(
    world: World, p: tuple[int, int, np.ndarray], q: tuple[int, int, np.ndarray]
) -> list[np.ndarray]:
    """Walk from an access point on one sidewalk edge to one on another (through graph nodes)."""
    if {p[0], p[1]} == {q[0], q[1]}:
        return [p[2], q[2]]
    g = world.graph
    best: tuple[float, list[np.ndarray]] = (math.inf, [])
    for u in (p[0], p[1]):
        for v in (q[0], q[1]):
            nodes = g.shortest(u, v)
            pts = [p[2]] + [np.array(g.nodes[n]) for n in nodes] + [q[2]]
            length = float(_arc(np.array(pts))[-1])
            if length < best[0]:
                best = (length, pts)
    return best[1]


def stop_actions(
    spot: Spot, arrive: float, leave: float
) -> list[tuple[float, float, str, float, tuple | None]]:
    """The dead-drop choreography at one spot: face it, crouch or bend and reach in, wait, photograph, go."""
    facing = (spot.facing_deg + 180) % 360
    stay = leave - arrive
    sx, sy = spot.stand_point
    reach_d = max(0.3, math.hypot(spot.x - sx, spot.y - sy) - 0.15)
    pose = "crouch" if spot.hand_z < 0.75 else "bend"
    hand = min(6.0, max(1.5, 0.35 * stay))
    photo = min(4.0, max(1.5, 0.3 * stay))
    t_hand = arrive + 0.6
    t_photo = leave - photo - 0.5
    return [
        (arrive, t_hand, "stand", facing, None),
        (t_hand, t_hand + hand, pose, facing, (reach_d, spot.hand_z)),
        (t_hand + hand, t_photo, "stand", facing, None),
        (t_photo, t_photo + photo, "phone", facing, None),
        (t_photo + photo, leave, "stand", facing, None),
    ]


def courier(
    world: World,
    rng: np.random.Generator,
    pid: int,
    spots: list[Spot],
    first_arrival: float,
    stays: list[float],
) -> Person:
    look, up, lo = random_look(rng, items=("backpack",) if rng.random() < 0.6 else ())
    speed = float(rng.uniform(1.15, 1.4))
    acc = [_access(world, s) for s in spots]
    # Lead-in: from a graph node a few edges away.
    lead_nodes = _walk_route(world, rng, 25.0)
    g = world.graph
    start_node = lead_nodes[-1]
    into = world.graph.shortest(start_node, acc[0][0])
    pts = [np.array(g.nodes[n]) for n in into] + [acc[0][2]]
    lead_len = float(_arc(np.array(pts))[-1])
    t0 = first_arrival - lead_len / speed - math.dist(acc[0][2], spots[0].stand_point) / speed
    times_, pts_ = timed(np.array(pts), t0, speed)
    P, T = list(pts_), list(times_)
    person = Person(pid, look, up, lo, "courier", np.zeros(0), np.zeros((0, 2)))
    for i, (spot, stay) in enumerate(zip(spots, stays, strict=True)):
        arrive, leave = add_stop(P, T, spot.stand_point, speed, stay)
        person.actions += stop_actions(spot, arrive, leave)
        person.stops.append({"spot": spot.id, "kind": spot.kind, "start": arrive, "end": leave})
        P.append(acc[i][2])
        T.append(leave + math.dist(spot.stand_point, acc[i][2]) / speed)
        nxt = acc[i + 1] if i + 1 < len(spots) else None
        if nxt is not None:
            leg = _path_between(world, acc[i], nxt)[1:]
        else:
            leg = [np.array(g.nodes[n]) for n in g.shortest(acc[i][1], int(rng.integers(len(g.nodes))))]
        for p in leg:
            T.append(T[-1] + float(np.hypot(*(p - P[-1]))) / speed)
            P.append(np.asarray(p))
    person.times, person.xy = np.array(T), np.array(P)
    return person


def _describe(p: Person) -> tuple[str, str]:
    sex_ko, sex_en = ("여성", "woman") if p.look.female else ("남성", "man")
    items = list(p.look.items)
    ko = f"{COLOR_ADJ_KO[p.upper]} 상의에 {COLOR_ADJ_KO[p.lower]} 하의"
    en = f"{sex_en} in a {p.upper} top and {p.lower} trousers"
    if items:
        ko += "를 입고 " + " ".join(ITEM_KO[i] for i in items) + f" {sex_ko}"
        en += ", " + " and ".join(ITEM_EN[i] for i in items)
    else:
        ko += f"를 입은 {sex_ko}"
    return ko, en


def describe(p: Person) -> tuple[str, str]:
    return _describe(p)


SUSPECT_UPPER = ("red", "yellow", "orange", "green", "pink", "purple", "white")


ROUTE_SPACING_M = 20.0  # least length of the suspect's route per route camera
OFF_ROUTE_M = 15.0  # in towns over 8 cameras, street cameras look at least this far from the suspect's path


def route_share(n: int) -> int:
    """How many of n cameras are placed on the suspect's route: 60 % up to 8 cameras (the towns the demo and
    tests were built on), then only 0.35 per further camera, so a large town has many cameras the suspect
    never passes (a real register is mostly cameras the suspect does not pass)."""
    return round(0.6 * n) if n <= 8 else round(4.8 + 0.35 * (n - 8))


def _near_path(pts: np.ndarray, x: float, y: float, radius: float) -> bool:
    """Whether (x, y) lies within radius of the polyline pts."""
    a, b = pts[:-1], pts[1:]
    d = b - a
    L2 = np.maximum((d**2).sum(1), 1e-9)
    f = np.clip(((np.array([x, y]) - a) * d).sum(1) / L2, 0, 1)
    q = a + f[:, None] * d
    return bool((np.hypot(q[:, 0] - x, q[:, 1] - y) < radius).any())


def plan_town(spec: TownSpec) -> Town:
    rng = np.random.default_rng(spec.seed)
    n_blocks = max(2, math.ceil(math.sqrt(max(spec.cameras, 4) * 1.5)))
    world = build_world(rng, nx=max(3, n_blocks), ny=max(2, n_blocks - 1))
    T = spec.duration
    people: list[Person] = []
    cams: list[CamSpec] = []

    def add_cam(cam: PinholeCamera, purpose: str, role: str, name: str) -> None:
        cid = f"C{len(cams) + 1:02d}"
        cams.append(CamSpec(cid, f"{world.anchor[0]} {name} {cid}", cam, purpose, role))

    # Suspect: a walk that crosses several cameras.
    speed = float(rng.uniform(1.35, 1.55))
    route_len = speed * max(T - 6.0, 10.0)
    nodes = _walk_route(world, rng, route_len)
    pts = np.array([world.graph.nodes[n] for n in nodes]) + rng.uniform(-0.4, 0.4, 2)
    arc = _arc(pts)
    # With couriers, one camera is kept for the courier's hiding spots: small towns (under 5 cameras, as in
    # the courier scenarios) would otherwise spend every camera on the suspect's route and record no drop.
    free = spec.cameras - (1 if spec.couriers > 0 and spec.cameras >= 2 else 0)
    n_spot = spot_cameras(spec)
    free -= n_spot
    n_route = min(free, max(4, route_share(spec.cameras))) if spec.cameras >= 4 else free
    # Blind stretches: route cameras at least ROUTE_SPACING_M of route apart (a long town with few minutes
    # would otherwise stack its route cameras into one continuous view).
    n_route = min(n_route, max(4, int(min(route_len, arc[-1]) // ROUTE_SPACING_M)))
    route_cam_arcs: list[float] = []  # where along the route each route camera looks (decoys cross there)
    for k in range(n_route):
        s = min(arc[-1] - 2, (k + 0.5) / n_route * min(route_len, arc[-1]) + float(rng.uniform(-3, 3)))
        placed = None
        for attempt in range(24):
            ss = float(np.clip(s + rng.uniform(-4, 4) * (attempt > 0), 1.0, arc[-1] - 1))
            p, tangent = _at(pts, ss)
            look = tangent + (180 if (k + attempt) % 2 else 0) + float(rng.uniform(-30, 30))
            placed = place_camera(world, rng, (p[0], p[1]), look, spec)
            if placed:
                break
        if placed:
            add_cam(placed, "방범" if k % 3 else "교통단속", "route", "route")
            route_cam_arcs.append(ss)
    look, up, lo = random_look(
        rng,
        upper=SUSPECT_UPPER[int(rng.integers(len(SUSPECT_UPPER)))],
        lower=("black", "blue", "gray")[int(rng.integers(3))],
        items=(("backpack",), ("handbag",), ())[int(rng.choice(3, p=[0.6, 0.2, 0.2]))],
    )
    times, tpts = timed(pts, 1.0, speed)
    suspect = Person(1, look, up, lo, "suspect", times, tpts)
    people.append(suspect)

    # Couriers: stops at hiding spots near each other, the first ones inside the footage.
    courier_ids: list[int] = []
    spots = [s for s in world.spots if s.kind != "bench"]
    for _c in range(spec.couriers):
        if len(cams) >= spec.cameras and _c > 0:
            break
        for _try in range(40):
            pool = [s for s in spots if spec.courier_spot in (None, s.kind)] or spots
            first = pool[int(rng.integers(len(pool)))]
            near = sorted(
                (s for s in spots if s.id != first.id),
                key=lambda s: math.dist((s.x, s.y), (first.x, first.y)),
            )
            chain = [first]
            for s in near:
                if len(chain) >= max(1, spec.courier_stops) + 2:
                    break
                if 4.0 < math.dist((s.x, s.y), (chain[-1].x, chain[-1].y)) < 22.0:
                    chain.append(s)
            inside = chain[: max(1, spec.courier_stops)]
            mx = float(np.mean([s.x for s in inside]))
            my = float(np.mean([s.y for s in inside]))
            facing = float(np.mean([s.facing_deg for s in inside[:1]]))
            cam = None
            if len(cams) < spec.cameras:
                for _k in range(12):
                    look_deg = facing + 180 + float(rng.choice([-1, 1]) * rng.uniform(15, 45))
                    cam = place_camera(world, rng, (mx, my), look_deg, spec)
                    if cam:
                        break
                if cam is None:
                    continue
                add_cam(cam, ("방범", "쓰레기무단투기")[int(rng.integers(2))], "courier", "alley")
            stays = [float(rng.uniform(10, 25)) for _ in chain]
            first_arrival = float(rng.uniform(6, 12))
            cid = len(people) + 1
            people.append(courier(world, rng, cid, chain, first_arrival, stays))
            courier_ids.append(cid)
            break

    # With confusers, some cameras watch rows of façade spots (what a courier watch is pointed at), so the
    # innocent people at those spots are on camera; from their own generator, as the confusers are.
    add_spot_cameras(world, spec, n_spot, lambda cam: add_cam(cam, "방범", "spots", "alley"))

    # Park and street cameras for the rest.
    off_tries = 0
    while len(cams) < spec.cameras:
        if not any(c.role == "park" for c in cams):
            x0, y0, x1, y1 = world.block_rect(*world.park)
            target, look_deg, role, purpose = (
                ((x0 + x1) / 2 + rng.uniform(-5, 5), (y0 + y1) / 2 + rng.uniform(-4, 4)),
                float(rng.uniform(0, 360)),
                "park",
                "도시공원·놀이터",
            )
        else:
            a, b = world.graph.edges[int(rng.integers(len(world.graph.edges)))]
            pa, pb = np.array(world.graph.nodes[a]), np.array(world.graph.nodes[b])
            p = pa + rng.uniform(0.2, 0.8) * (pb - pa)
            d = pb - pa
            tangent = math.degrees(math.atan2(d[0], d[1]))
            target, look_deg, role = (
                (p[0], p[1]),
                tangent + float(rng.choice([0, 180])) + rng.uniform(-35, 35),
                "street",
            )
            purpose = ("방범", "방범", "교통정보수집", "어린이보호구역", "시설안전·화재예방")[
                int(rng.integers(5))
            ]
            # Large towns: street cameras away from the suspect's path, so that many cameras are never
            # passed (small towns keep their old draw, which the demo and tests were built on).
            off_tries += 1
            if spec.cameras > 8 and off_tries < 400 and _near_path(pts, p[0], p[1], OFF_ROUTE_M):
                continue
        cam = place_camera(world, rng, target, look_deg, spec)
        if cam:
            add_cam(cam, purpose, role, role)

    # Decoys: look-alikes of the suspect on their own routes across the suspect's (town/decoys.py).
    node_times = 1.0 + arc / speed  # the suspect's clock at each route node (as timed() gives it)
    decoys = plan_decoys(
        world,
        spec.seed,
        spec.decoys,
        len(people) + 1,
        suspect,
        nodes,
        node_times,
        [1.0 + a / speed for a in route_cam_arcs],
        T,
    )
    people.extend(decoys)
    decoy_ids = [d.id for d in decoys]

    n_ped = int(0.42 * (T + 80) * spec.crowd * (world.nx * world.ny) / 12)
    for _ in range(n_ped):
        people.append(pedestrian(world, rng, len(people) + 1, float(rng.uniform(-80, T))))
    n_veh = default_vehicles(spec, world) if spec.vehicles is None else spec.vehicles
    vehicles = [vehicle(world, rng, f"V{i + 1:03d}", float(rng.uniform(-30, T))) for i in range(n_veh)]
    assign_plates(vehicles, spec.seed)  # their own generator: the draws above are unchanged
    # Confusers last, from their own generator: everyone else keeps the id and walk of the town without them.
    extra = plan_confusers(world, cams, spec.seed, spec.confusers, len(people) + 1, T)
    people.extend(p for p, _ in extra)
    confusers = {p.id: kind for p, kind in extra}
    town = Town(spec, world, cams, people, vehicles, suspect.id, courier_ids, decoy_ids, confusers)
    if spec.suspect_drives or spec.plate_cameras:
        from relaytrack.town.driving import plan_driving

        plan_driving(town)  # from its own generator, after everything else
    return town


def default_vehicles(spec: TownSpec, world: World) -> int:
    """The usual traffic: how many vehicles a town of this size and length gets without --vehicles."""
    return int(0.22 * (spec.duration + 30) * (world.nx + world.ny) / 7)
