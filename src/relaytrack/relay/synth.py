"""A small detection-level town for relay tests and `bench relay` when no rendered town is at hand.

Cameras sit on a street grid (real Seoul-like coordinates, headings in the four street directions). People walk
non-backtracking paths along the grid at their own pace; each camera they pass records one sighting (unless it
misses them: a blind spot) with entry/exit edges, a noisy embedding of their identity and noisy clothing
colours. Some people are look-alikes of others (close embeddings, same clothes) and start at the same time
nearby: crossing decoys. The truth (sighting -> identity, and the true links) is returned, never stored, so
the relay cannot peek at it.

Two edge models. edge_model="map" derives edges with the engine's own `edge_towards` from the registered
headings (topology is then right by construction: kept for the older tests). edge_model="street" is the
simulator's own: each camera's true heading differs from the register's (heading_noise_deg), each street
segment's direction is jittered (street_noise_deg), and the edge is where a straight walk from a random spot
in a 16:9 frame, foreshortened by the camera's tilt, crosses the border. Embeddings may carry a per-camera
domain shift and look-alike clusters (`SynthConfig.hard`).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from relaytrack.records import Sighting
from relaytrack.relay.geo import bearing_deg, edge_towards
from relaytrack.relay.netfile import link_from_gaps
from relaytrack.relay.network import import_network
from relaytrack.store.sightings import insert_sighting

COLOURS = ("black", "white", "gray", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")
LAT0, LON0 = 37.5563, 126.9220
T0 = 1_795_000_000.0  # a wall-clock origin (2026-11)


@dataclass
class SynthConfig:
    grid: tuple[int, int] = (4, 4)
    spacing_m: float = 120.0
    people: int = 40
    lookalike_share: float = 0.3  # share of people who copy another person's look
    dim: int = 64
    noise: float = 0.55  # per-sighting embedding noise (norm relative to the identity vector)
    lookalike_noise: float = 0.45  # how far a look-alike's identity vector is from the one it copies
    miss_rate: float = 0.1  # a camera misses a passer-by (blind spot)
    edge_noise: float = 0.1  # tracker gets the entry/exit edge wrong
    colour_noise: float = 0.15
    route_len: tuple[int, int] = (5, 10)
    start_spread_s: float = 240.0
    clock_jitter_s: float = 2.0  # camera clock offsets (known, stored) are drawn in +-this
    seed: int = 0
    edge_model: str = "map"  # map: the engine's edge_towards on registered headings | street: the simulator's own
    heading_noise_deg: float = 0.0  # street model: true heading - registered heading ~ N(0, this)
    street_noise_deg: float = 0.0  # street model: each walk's direction off the straight line ~ N(0, this)
    domain_shift: float = 0.0  # norm of each camera's own offset added to every embedding it sees
    clusters: int = 0  # look-alikes copy only the first `clusters` people: clusters of several look-alikes

    @classmethod
    def hard(cls, seed: int, people: int = 60, grid: tuple[int, int] = (5, 5)) -> SynthConfig:
        """The held-out benchmark's simulator: own edge model, noisy register headings, per-camera domain
        shift, look-alike clusters."""
        return cls(
            grid=grid,
            people=people,
            seed=seed,
            edge_model="street",
            heading_noise_deg=30.0,
            street_noise_deg=15.0,
            domain_shift=0.35,
            clusters=max(2, people // 12),
            lookalike_share=0.35,
            # A steady stream (about one new walker every 2 s), not everyone at once: a town's traffic.
            start_spread_s=2.0 * people,
        )


@dataclass
class SynthTruth:
    identity: dict[int, int] = field(default_factory=dict)  # sighting id -> person
    routes: dict[int, list[int]] = field(default_factory=dict)  # person -> sighting ids in time order
    paths: dict[int, list[str]] = field(default_factory=dict)  # person -> cameras walked (incl. missed)
    cameras: list[str] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)  # the true links, links-truth.yaml format


def _street_edge(rel_deg: float, u: float, v: float, aspect: float = 16 / 9, tilt: float = 0.55) -> str:
    """The frame border a walk crosses: from (u, v) in [0, 1]^2 moving along rel_deg off the optical axis;
    away from the camera is up the image, foreshortened by `tilt` (the simulator's own model, not the
    engine's quadrant rule)."""
    r = math.radians(rel_deg)
    dx, dy = math.sin(r) / aspect, -math.cos(r) * tilt
    best, edge = math.inf, "inside"
    for d, pos, lo_e, hi_e in ((dx, u, "left", "right"), (dy, v, "top", "bottom")):
        if abs(d) < 1e-9:
            continue
        t = (1 - pos) / d if d > 0 else -pos / d
        if t < best:
            best, edge = t, hi_e if d > 0 else lo_e
    return edge


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def camera_grid(cfg: SynthConfig, rng: np.random.Generator) -> list[dict[str, Any]]:
    rows, cols = cfg.grid
    dlat = cfg.spacing_m / 111_000.0
    dlon = cfg.spacing_m / (111_000.0 * math.cos(math.radians(LAT0)))
    cams = []
    for r in range(rows):
        for c in range(cols):
            cams.append(
                {
                    "id": f"C{r * cols + c + 1:02d}",
                    "name": f"grid {r},{c}",
                    "lat": LAT0 + r * dlat,
                    "lon": LON0 + c * dlon,
                    "heading_deg": float(rng.choice([0, 90, 180, 270])),
                    "fov_deg": 70,
                    "district": "마포구",
                    "owner": "자치구",
                    "purpose": "방범",
                    "width": 640,
                    "height": 360,
                    "clock_offset_s": float(rng.uniform(-cfg.clock_jitter_s, cfg.clock_jitter_s)),
                }
            )
    return cams


def write_network(cams: list[dict[str, Any]], path: Path) -> Path:
    path.write_text(yaml.safe_dump({"cameras": cams}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def generate(store: Any, cfg: SynthConfig | None = None) -> SynthTruth:
    """Fill `store` with the grid's cameras (links inferred from the map) and its people's sightings."""
    cfg = cfg or SynthConfig()
    rng = np.random.default_rng(cfg.seed)
    cams = camera_grid(cfg, rng)
    rows, cols = cfg.grid
    with tempfile.TemporaryDirectory() as tmp, store.tx() as conn:
        import_network(
            conn,
            write_network(cams, Path(tmp) / "cameras.yaml"),
            modes=("walk",),
            radius_m={"walk": cfg.spacing_m * 1.2},
            neighbours=4,
        )
    by_id = {c["id"]: c for c in cams}
    # Draws of the street model come from their own generator so that the map model's towns stay as they were.
    rng2 = np.random.default_rng(cfg.seed + 7919)
    true_heading = {cid: c["heading_deg"] + rng2.normal(0, cfg.heading_noise_deg) for cid, c in by_id.items()}
    shift = {
        cid: cfg.domain_shift * _unit(rng2.normal(0, 1, cfg.dim)) if cfg.domain_shift else 0.0 for cid in by_id
    }
    transitions: dict[tuple[str, str, str, str], list[float]] = {}

    def neighbours(cid: str) -> list[str]:
        i = int(cid[1:]) - 1
        r, c = divmod(i, cols)
        out = []
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            if 0 <= r + dr < rows and 0 <= c + dc < cols:
                out.append(f"C{(r + dr) * cols + c + dc + 1:02d}")
        return out

    protos: list[np.ndarray] = []
    looks: list[tuple[str, str]] = []
    starts: list[tuple[str, float]] = []
    for p in range(cfg.people):
        if p > 0 and rng.random() < cfg.lookalike_share:
            q = int(rng.integers(0, min(p, cfg.clusters) if cfg.clusters else p))
            protos.append(_unit(protos[q] + rng.normal(0, cfg.lookalike_noise / math.sqrt(cfg.dim), cfg.dim)))
            looks.append(looks[q])
            # A crossing decoy starts close to the one it resembles, at about the same time.
            cam0 = str(rng.choice(neighbours(starts[q][0]) + [starts[q][0]]))
            starts.append((cam0, starts[q][1] + float(rng.uniform(-20, 20))))
        else:
            protos.append(_unit(rng.normal(0, 1, cfg.dim)))
            looks.append((str(rng.choice(COLOURS)), str(rng.choice(COLOURS))))
            starts.append((str(rng.choice(list(by_id))), float(rng.uniform(0, cfg.start_spread_s))))
    truth = SynthTruth(cameras=list(by_id))
    items_of = [{"backpack": 0.8} if rng.random() < 0.3 else {} for _ in range(cfg.people)]
    pending: list[tuple[float, int, Sighting]] = []
    for p in range(cfg.people):
        n = int(rng.integers(cfg.route_len[0], cfg.route_len[1] + 1))
        path = [starts[p][0]]
        while len(path) < n:
            options = [x for x in neighbours(path[-1]) if len(path) < 2 or x != path[-2]]
            path.append(str(rng.choice(options)))
        truth.paths[p] = path
        speed = float(rng.uniform(0.9, 1.7))
        t = starts[p][1]
        for k, cid in enumerate(path):
            cam = by_id[cid]
            dwell = float(rng.uniform(4, 14))
            t_in, t_out = t, t + dwell
            if k + 1 < len(path):
                nxt = by_id[path[k + 1]]
                t = t_out + cfg.spacing_m * float(rng.uniform(1.05, 1.35)) / speed
            street = None
            if cfg.edge_model == "street":
                street = _street_edges(cam, by_id, path, k, true_heading[cid], cfg, rng2)
            if k + 1 < len(path):
                transitions.setdefault((cid, path[k + 1], "", ""), []).append(t - t_out)
            if rng.random() < cfg.miss_rate and 0 < k:
                continue
            entry = (
                edge_towards(
                    cam["lat"],
                    cam["lon"],
                    cam["heading_deg"],
                    by_id[path[k - 1]]["lat"],
                    by_id[path[k - 1]]["lon"],
                )
                if k > 0
                else "inside"
            )
            exit_ = (
                edge_towards(cam["lat"], cam["lon"], cam["heading_deg"], nxt["lat"], nxt["lon"])
                if k + 1 < len(path)
                else "inside"
            )
            if street is not None:
                entry, exit_ = street
            if rng.random() < cfg.edge_noise:
                entry = str(rng.choice(["left", "right", "top", "bottom", "inside"]))
            if rng.random() < cfg.edge_noise:
                exit_ = str(rng.choice(["left", "right", "top", "bottom", "inside"]))
            emb = _unit(protos[p] + rng.normal(0, cfg.noise / math.sqrt(cfg.dim), cfg.dim) + shift[cid]).astype(
                np.float32
            )
            up, lo = looks[p]
            if rng.random() < cfg.colour_noise:
                up = str(rng.choice(COLOURS))
            if rng.random() < cfg.colour_noise:
                lo = str(rng.choice(COLOURS))
            off = cam["clock_offset_s"]
            s = Sighting(
                id=0,
                camera=cid,
                source_id=None,
                track_id=0,
                kind="person",
                class_name="person",
                start=t_in,
                end=t_out,
                first_frame=int(t_in * 10) + 1,
                last_frame=int(t_out * 10) + 1,
                wall_start=T0 + t_in + off,
                wall_end=T0 + t_out + off,
                box=(100.0, 80.0, 40.0, 110.0),
                entry_edge=entry,
                exit_edge=exit_,
                upper_color=up,
                upper_conf=float(rng.uniform(0.5, 0.95)),
                lower_color=lo,
                lower_conf=float(rng.uniform(0.4, 0.9)),
                items=items_of[p],
                embedding=emb,
            )
            pending.append((t_in, p, s))
    pending.sort(key=lambda x: x[0])
    with store.tx() as conn:
        for i, (_, p, s) in enumerate(pending):
            s.track_id = i + 1
            frames = range(s.first_frame, s.last_frame + 1, 5)
            boxes = [(f, (f - 1) / 10.0, 100.0 + (f - s.first_frame), 80.0, 40.0, 110.0, 0.9) for f in frames]
            sid = insert_sighting(conn, s, boxes=boxes)
            truth.identity[sid] = p
            truth.routes.setdefault(p, []).append(sid)
    truth.links = _true_links(transitions, by_id, true_heading, cfg)
    return truth


def _street_edges(
    cam: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    path: list[str],
    k: int,
    heading: float,
    cfg: SynthConfig,
    rng: np.random.Generator,
) -> tuple[str, str]:
    """(entry, exit) edges of the k-th camera of a walk under the street model: the walk's direction along the
    street (jittered) against the camera's true heading, from a random spot in the frame."""
    u, v = float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.2, 0.9))
    entry = exit_ = "inside"
    if k > 0:
        a = by_id[path[k - 1]]
        came = bearing_deg(a["lat"], a["lon"], cam["lat"], cam["lon"]) + rng.normal(0, cfg.street_noise_deg)
        entry = _street_edge(came + 180.0 - heading, u, v)  # traced back from where the person is
    if k + 1 < len(path):
        b = by_id[path[k + 1]]
        goes = bearing_deg(cam["lat"], cam["lon"], b["lat"], b["lon"]) + rng.normal(0, cfg.street_noise_deg)
        exit_ = _street_edge(goes - heading, u, v)
    return entry, exit_


def _true_links(
    transitions: dict[tuple[str, str, str, str], list[float]],
    by_id: dict[str, dict[str, Any]],
    true_heading: dict[str, float],
    cfg: SynthConfig,
) -> list[dict[str, Any]]:
    """The oracle's links (links-truth.yaml format) from every walked transition, missed sightings included:
    per camera pair, the travel-time statistics and the edges the street model gives on average."""
    per_pair: dict[tuple[str, str], list[float]] = {}
    for (a, b, _ex, _en), gaps in transitions.items():
        per_pair.setdefault((a, b), []).extend(gaps)
    out = []
    for (a, b), gaps in sorted(per_pair.items()):
        if len(gaps) < 2:
            continue
        ca, cb = by_id[a], by_id[b]
        mid = (0.5, 0.55)
        ex = _street_edge(bearing_deg(ca["lat"], ca["lon"], cb["lat"], cb["lon"]) - true_heading[a], *mid)
        en = _street_edge(bearing_deg(ca["lat"], ca["lon"], cb["lat"], cb["lon"]) + 180 - true_heading[b], *mid)
        out.append(link_from_gaps(a, b, ex, en, gaps))
    return out
