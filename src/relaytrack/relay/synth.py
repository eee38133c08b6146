"""A small detection-level town for relay tests and `bench relay` when no rendered town is at hand.

Cameras sit on a street grid (real Seoul-like coordinates, headings in the four street directions). People walk
non-backtracking paths along the grid at their own pace; each camera they pass records one sighting (unless it
misses them: a blind spot) with the entry/exit edges that the camera's heading implies, a noisy embedding of
their identity and noisy clothing colours. Some people are look-alikes of others (close embeddings, same
clothes) and start at the same time nearby: crossing decoys. The truth (sighting -> identity) is returned,
never stored, so the relay cannot peek at it.
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
from relaytrack.relay.geo import edge_towards
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


@dataclass
class SynthTruth:
    identity: dict[int, int] = field(default_factory=dict)  # sighting id -> person
    routes: dict[int, list[int]] = field(default_factory=dict)  # person -> sighting ids in time order
    paths: dict[int, list[str]] = field(default_factory=dict)  # person -> cameras walked (incl. missed)
    cameras: list[str] = field(default_factory=list)


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
            q = int(rng.integers(0, p))
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
            if rng.random() < cfg.edge_noise:
                entry = str(rng.choice(["left", "right", "top", "bottom", "inside"]))
            if rng.random() < cfg.edge_noise:
                exit_ = str(rng.choice(["left", "right", "top", "bottom", "inside"]))
            emb = _unit(protos[p] + rng.normal(0, cfg.noise / math.sqrt(cfg.dim), cfg.dim)).astype(np.float32)
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
    return truth
