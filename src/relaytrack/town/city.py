"""Detection-level city simulator: a store with millions of sightings on thousands of real Seoul camera sites.

No pixels. Cameras stand at the real positions of Seoul's 안심이 CCTVs (../shared/data/seoul/cctv,
83,734 rows, 40,070 distinct sites with their district) and, for more cameras than that, at positions placed per
district with owners and purposes matching Seoul's 2023 inventory (relaytrack.town.city_cameras); people and
vehicles walk/drive between nearby
cameras; each pass in front of a camera becomes a sighting with the fields a real ingest writes: time, frames,
box, entry/exit edge (from the bearing to the previous/next camera and the camera's heading), noisy clothing
colours with confidences, noisy carried items, vehicle type/colour and a sometimes-legible plate, and a noisy
embedding.

Embeddings: every identity has a prototype built from shared clothing/vehicle codes plus an individual part
(so people dressed alike look alike, as with a real embedder), each sighting adds per-camera bias (lighting)
and noise, then L2-normalises. `dim` defaults to 128 to keep 1M-sighting stores small; the real embedder
(relaytrack.describe.embed, MobileNetV2) is 1280-d, so latencies at 1280-d scale roughly with the width.

Ground truth stays beside the data: sim_identities (true attributes) and sim_truth(sighting_id, identity), so
recall and route accuracy can be measured. Camera links (walk and drive travel times between neighbouring
cameras, from map distance) are written to camera_links for relay.

Python API (used by `relaytrack city simulate`, `bench search` and `bench relay`):

    simulate_city(db_path, cameras=10_000, sightings=1_000_000, seed=0, dim=128, *, hours=24.0,
                  start="2026-11-25T00:00:00+09:00", links=True, vec_index=True, progress=None) -> dict
        Fills an empty store and returns a summary: {"db", "cameras", "sightings", "identities", "persons",
        "vehicles", "dim", "seed", "start", "hours", "links", "nlist", "vec_index", "seconds",
        "seconds_by_step"}. vec_index=False leaves the store's own vector table empty (about a third of the
        write time at 10^7 sightings), for stores searched through vector shards (relaytrack.store.shards).
        Raises StoreError if the store already holds sightings; InputError for impossible sizes.
"""

from __future__ import annotations

import csv
import importlib
import json
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.errors import InputError, StoreError
from relaytrack.paths import data_dir
from relaytrack.town.city_cameras import place_cameras

CCTV_CSV = "seoul/cctv/seoul_ansimi_cctv_latlon_only.csv"
COLORS = ("black", "white", "gray", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")
# Street clothing in a Seoul winter is mostly dark: rough shares, not measured.
UPPER_P = (0.30, 0.12, 0.12, 0.05, 0.02, 0.03, 0.05, 0.14, 0.03, 0.04, 0.10)
LOWER_P = (0.40, 0.05, 0.12, 0.01, 0.01, 0.01, 0.03, 0.27, 0.01, 0.02, 0.07)
VEH_COLOR_P = (0.25, 0.35, 0.20, 0.05, 0.01, 0.02, 0.02, 0.06, 0.01, 0.01, 0.02)
ITEMS = (("backpack", 0.25), ("handbag", 0.20), ("suitcase", 0.04), ("umbrella", 0.08), ("cell phone", 0.30))
VEHICLES = (("car", 0.78), ("bus", 0.04), ("truck", 0.10), ("motorcycle", 0.05), ("bicycle", 0.03))
PLATE_SYLLABLES = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주하허호"
CONFUSE = {
    "black": ("gray", "blue", "brown"),
    "white": ("gray",),
    "gray": ("black", "white"),
    "red": ("pink", "orange"),
    "orange": ("red", "brown", "yellow"),
    "yellow": ("orange",),
    "green": ("blue",),
    "blue": ("black", "purple"),
    "purple": ("blue", "pink"),
    "pink": ("red", "purple"),
    "brown": ("black", "orange"),
}
FPS = 10.0
MEAN_ROUTE = 8  # sightings per identity on average
NEIGHBOURS = 8
BULK_LOAD = 1_000_000  # sightings from which a store is filled without its secondary indexes
PG_INDEX_MEMORY = "512MB"  # PostgreSQL's sort memory for rebuilding them (the default 64 MB spills to disk)
PERSON_SHARE = 0.7


def load_sites(path: Path | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Distinct camera sites: lat, lon arrays and district names (rows outside Seoul's box dropped)."""
    path = path or data_dir() / CCTV_CSV
    if not path.exists():
        raise InputError(
            f"{path}: Seoul CCTV positions not found (set RELAYTRACK_SHARED to the shared folder)"
        )
    seen: dict[tuple[float, float], str] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rd = csv.reader(fh)
        next(rd, None)
        for row in rd:
            try:
                lat, lon = float(row[1]), float(row[2])
            except (ValueError, IndexError):
                continue
            if 37.40 < lat < 37.72 and 126.76 < lon < 127.19:
                seen.setdefault((round(lat, 4), round(lon, 4)), row[0].strip())
    keys = sorted(seen)
    return (np.array([k[0] for k in keys]), np.array([k[1] for k in keys]), [seen[k] for k in keys])


def _edges(rel_deg: np.ndarray) -> np.ndarray:
    # Same convention as relaytrack.relay.geo.edge_for_relative_bearing (ahead = top, behind = bottom).
    rel = np.mod(rel_deg, 360.0)
    out = np.full(rel.shape, "left", dtype=object)
    out[(rel <= 45) | (rel >= 315)] = "top"
    out[(rel > 45) & (rel < 135)] = "right"
    out[(rel >= 135) & (rel <= 225)] = "bottom"
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def _noisy_colors(rng: np.random.Generator, true: np.ndarray, p_ok: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(true)
    obs = true.copy()
    r = rng.random(n)
    confuse = (r >= p_ok) & (r < p_ok + (1 - p_ok) * 0.75)
    rand = r >= p_ok + (1 - p_ok) * 0.75
    for i in np.flatnonzero(confuse):
        obs[i] = COLORS.index(rng.choice(CONFUSE[COLORS[true[i]]]))
    obs[rand] = rng.integers(0, len(COLORS), int(rand.sum()))
    conf = np.where(obs == true, rng.uniform(0.45, 0.97, n), rng.uniform(0.25, 0.65, n))
    return obs, conf.round(3)


def _sighting_indexes() -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of every index the migrations put on the sightings table."""
    from relaytrack.store.db import SCHEMA_MODULES

    out = []
    for mod in SCHEMA_MODULES:
        for _, sql in importlib.import_module(mod).MIGRATIONS:
            if isinstance(sql, str):
                for m in re.finditer(r"CREATE INDEX (?:IF NOT EXISTS )?(\w+) (ON sightings\b[^;]*)", sql):
                    out.append((m.group(1), f"CREATE INDEX IF NOT EXISTS {m.group(1)} {m.group(2).strip()}"))
    return out


def _pg_sighting_indexes(conn: Any) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the sightings table's plain indexes in a PostgreSQL store, as the
    server defines them (the migrations' SQLite text is translated there); keys and unique indexes stay."""
    rows = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = 'sightings' AND t.relnamespace ="
        " to_regnamespace(current_schema())::oid AND NOT x.indisprimary AND NOT x.indisunique"
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


@contextmanager
def _bulk_load(store: Any, enabled: bool, steps: dict[str, float]) -> Iterator[None]:
    """A load of millions of sightings runs without the sightings' secondary indexes, which are built again
    after it (also when the load fails): one sorted build per index is several times faster than updating 13
    B-trees at random places for every row once they outgrow the page cache. On SQLite the statements come
    from the migrations; on PostgreSQL from the server's own definitions, rebuilt with more sort memory."""
    pg = getattr(store, "backend", "sqlite") != "sqlite"
    ddl = (_pg_sighting_indexes(store.conn) if pg else _sighting_indexes()) if enabled else []
    for name, _ in ddl:
        store.conn.execute(f"DROP INDEX IF EXISTS {name}")
    try:
        yield
    finally:
        t = time.perf_counter()
        if pg and ddl:
            store.conn.execute(f"SET maintenance_work_mem = '{PG_INDEX_MEMORY}'")
        for _, stmt in ddl:
            store.conn.execute(stmt)
        if pg and ddl:
            store.conn.execute("RESET maintenance_work_mem")
        if ddl:  # only a load that dropped indexes reports their build
            steps["build_indexes"] = time.perf_counter() - t


def _link_rows(
    cam_ids: list[str], xy: np.ndarray, heading: np.ndarray, nbr: np.ndarray, dist_nb: np.ndarray
) -> list[tuple]:
    """Walk and drive links from every camera to its map neighbours, travel times from street distance."""
    n, k = nbr.shape
    src, dst = np.repeat(np.arange(n), k), nbr.reshape(-1)
    d = dist_nb.reshape(-1) * 1.3  # streets are not straight lines
    dv = xy[dst] - xy[src]
    ex = _edges(np.degrees(np.arctan2(dv[:, 0], dv[:, 1])) - heading[src])
    en = _edges(np.degrees(np.arctan2(-dv[:, 0], -dv[:, 1])) - heading[dst])
    rows = []
    for i, j, e_x, e_n, dd in zip(
        src.tolist(), dst.tolist(), ex.tolist(), en.tolist(), d.tolist(), strict=True
    ):
        for mode, v, vlo, vhi in (("walk", 1.3, 0.9, 1.7), ("drive", 9.0, 5.0, 13.0)):
            mean = dd / v
            rows.append(
                (cam_ids[i], cam_ids[j], e_x, e_n, mode, mean, 0.3 * mean, dd / vhi * 0.75, dd / vlo * 1.4, "map",
                 mean, 0.3 * mean, round(dd / 1.3, 1))
            )  # fmt: skip
    return rows


def simulate_city(
    db_path: str | Path,
    cameras: int = 10_000,
    sightings: int = 1_000_000,
    seed: int = 0,
    dim: int = 128,
    *,
    hours: float = 24.0,
    start: str = "2026-11-25T00:00:00+09:00",
    links: bool = True,
    vec_index: bool = True,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Fill an empty store at db_path with a simulated city; see the module docstring."""
    from relaytrack.store import Store, vectors

    if cameras < 2 or sightings < 1 or dim < 8 or hours <= 0:
        raise InputError("city simulate needs >= 2 cameras, >= 1 sighting, dim >= 8 and hours > 0")
    say = progress or (lambda step, frac: None)
    t_all = time.perf_counter()
    steps: dict[str, float] = {}
    rng = np.random.default_rng(seed)

    # --- cameras at real sites -------------------------------------------------------------------------
    t = time.perf_counter()
    plan = place_cameras(cameras, rng, seed=seed)
    lat, lon, district = plan.lat, plan.lon, list(plan.district)
    lat0, lon0 = float(lat.mean()), float(lon.mean())
    xy = np.stack(
        [
            np.radians(lon - lon0) * 6_371_008.8 * math.cos(math.radians(lat0)),
            np.radians(lat - lat0) * 6_371_008.8,
        ],
        axis=1,
    )
    heading = rng.integers(0, 360, cameras).astype(np.float64)
    cam_ids = [f"SC{i:05d}" for i in range(cameras)]
    from scipy.spatial import cKDTree

    k = min(NEIGHBOURS, cameras - 1)
    dist_nb, nbr = cKDTree(xy).query(xy, k=k + 1)
    dist_nb, nbr = dist_nb[:, 1:].reshape(cameras, k), nbr[:, 1:].reshape(cameras, k)
    steps["cameras"] = time.perf_counter() - t
    say("cameras", 1.0)

    # --- identities --------------------------------------------------------------------------------------
    t = time.perf_counter()
    lengths = 1 + rng.poisson(MEAN_ROUTE - 1, size=sightings // MEAN_ROUTE + 16)
    while lengths.sum() < sightings:  # a short draw (seen at 10^7 sightings): more routes, same ones first
        lengths = np.concatenate([lengths, 1 + rng.poisson(MEAN_ROUTE - 1, size=sightings // 1000 + 16)])
    csum = np.cumsum(lengths)
    n_id = int(np.searchsorted(csum, sightings) + 1)
    lengths = lengths[:n_id].copy()
    lengths[-1] -= int(csum[n_id - 1] - sightings)
    is_person = rng.random(n_id) < PERSON_SHARE
    upper = rng.choice(len(COLORS), n_id, p=np.array(UPPER_P) / sum(UPPER_P))
    lower = rng.choice(len(COLORS), n_id, p=np.array(LOWER_P) / sum(LOWER_P))
    carries = np.stack([rng.random(n_id) < p for _, p in ITEMS], axis=1) & is_person[:, None]
    vtype = rng.choice(len(VEHICLES), n_id, p=np.array([p for _, p in VEHICLES]))
    vcolor = rng.choice(len(COLORS), n_id, p=np.array(VEH_COLOR_P) / sum(VEH_COLOR_P))
    plates = [
        f"{rng.integers(10, 1000)}{PLATE_SYLLABLES[rng.integers(len(PLATE_SYLLABLES))]}{rng.integers(0, 10000):04d}"
        if not p and VEHICLES[v][0] not in ("bicycle",)
        else None
        for p, v in zip(is_person, vtype, strict=True)
    ]
    # Prototypes: shared codes for what people wear / what vehicles look like, plus an individual part.
    code_u, code_l = rng.standard_normal((len(COLORS), dim)), rng.standard_normal((len(COLORS), dim))
    code_vt, code_vc = rng.standard_normal((len(VEHICLES), dim)), rng.standard_normal((len(COLORS), dim))
    indiv = rng.standard_normal((n_id, dim))
    proto = (
        np.where(
            is_person[:, None],
            0.45 * code_u[upper] + 0.30 * code_l[lower],
            0.35 * code_vt[vtype] + 0.40 * code_vc[vcolor],
        )
        + 0.85 * indiv
    )
    proto = _unit(proto / math.sqrt(dim))
    steps["identities"] = time.perf_counter() - t
    say("identities", 1.0)

    # --- routes: walk/drive between neighbouring cameras ---------------------------------------------
    t = time.perf_counter()
    span = hours * 3600.0
    speed = np.where(is_person, rng.uniform(0.9, 1.7, n_id), rng.uniform(5.0, 13.0, n_id))
    cur = rng.integers(0, cameras, n_id)
    prev = np.full(n_id, -1)
    clock = rng.uniform(0, span, n_id)
    ident = np.repeat(np.arange(n_id), lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    cam_of = np.empty(sightings, np.int64)
    start_of = np.empty(sightings, np.float64)
    end_of = np.empty(sightings, np.float64)
    prev_of = np.empty(sightings, np.int64)
    for j in range(int(lengths.max())):
        alive = np.flatnonzero(lengths > j)
        rows = offsets[alive] + j
        dwell = np.where(
            is_person[alive], rng.uniform(3.0, 20.0, len(alive)), rng.uniform(1.5, 8.0, len(alive))
        )
        cam_of[rows], start_of[rows], end_of[rows], prev_of[rows] = (
            cur[alive],
            clock[alive],
            clock[alive] + dwell,
            prev[alive],
        )
        # Next camera: a random neighbour, re-drawn once if it leads straight back.
        c = rng.integers(0, k, len(alive))
        nxt = nbr[cur[alive], c]
        back = nxt == prev[alive]
        nxt[back] = nbr[cur[alive][back], rng.integers(0, k, int(back.sum()))]
        d = np.linalg.norm(xy[nxt] - xy[cur[alive]], axis=1) * 1.3  # streets are not straight lines
        travel = d / speed[alive] * rng.lognormal(0.0, 0.15, len(alive))
        prev[alive] = cur[alive]
        clock[alive] = clock[alive] + dwell + travel
        cur[alive] = nxt
    next_of = np.full(sightings, -1)
    has_next = np.ones(sightings, bool)
    has_next[np.cumsum(lengths) - 1] = False
    next_of[has_next] = cam_of[np.flatnonzero(has_next) + 1]
    steps["routes"] = time.perf_counter() - t
    say("routes", 1.0)

    # --- observations ------------------------------------------------------------------------------------
    t = time.perf_counter()
    person_s = is_person[ident]
    up_obs, up_conf = _noisy_colors(rng, upper[ident], 0.8)
    lo_obs, lo_conf = _noisy_colors(rng, lower[ident], 0.75)
    vc_obs, _ = _noisy_colors(rng, vcolor[ident], 0.85)
    vt_obs = vtype[ident].copy()
    flip = rng.random(sightings) < 0.08
    vt_obs[flip] = rng.integers(0, len(VEHICLES), int(flip.sum()))
    item_conf = np.where(
        carries[ident] & (rng.random((sightings, len(ITEMS))) < 0.75),
        rng.uniform(0.35, 0.95, (sightings, len(ITEMS))),
        0.0,
    )
    false_item = (rng.random((sightings, len(ITEMS))) < 0.03) & person_s[:, None] & (item_conf == 0)
    item_conf[false_item] = rng.uniform(0.25, 0.5, int(false_item.sum()))
    legible = (rng.random(sightings) < 0.35) & ~person_s

    def bearing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        dv = xy[b] - xy[a]
        return np.degrees(np.arctan2(dv[:, 0], dv[:, 1]))

    exit_edge = np.full(sightings, "inside", dtype=object)
    m = next_of >= 0
    exit_edge[m] = _edges(bearing(cam_of[m], next_of[m]) - heading[cam_of[m]])
    entry_edge = np.full(sightings, "inside", dtype=object)
    m = prev_of >= 0
    entry_edge[m] = _edges(bearing(cam_of[m], prev_of[m]) - heading[cam_of[m]])
    img_heading = {"right": 0.0, "bottom": 90.0, "left": 180.0, "top": 270.0, "inside": None}
    bw = np.where(person_s, rng.uniform(28, 80, sightings), rng.uniform(80, 220, sightings))
    bh = np.where(person_s, bw * rng.uniform(2.0, 2.8, sightings), bw * rng.uniform(0.5, 0.8, sightings))
    bx, by = rng.uniform(0, 640 - bw), rng.uniform(0, np.maximum(360 - bh, 1))
    cam_bias = rng.standard_normal((cameras, dim)) / math.sqrt(dim)
    steps["observations"] = time.perf_counter() - t
    say("observations", 1.0)

    # --- write --------------------------------------------------------------------------------------------
    t = time.perf_counter()
    t0 = datetime.fromisoformat(start).timestamp()
    order = np.argsort(start_of, kind="stable")  # ids grow with time, as in a live store
    sid_of = np.empty(sightings, np.int64)
    sid_of[order] = np.arange(1, sightings + 1)
    store = Store(db_path)
    conn = store.conn
    try:
        if conn.execute("SELECT 1 FROM sightings LIMIT 1").fetchone() is not None:
            raise StoreError(f"{store.path}: already holds sightings; simulate into a new store")
        # Page cache for the sightings' indexes (14 of them): ~0.3 kB per sighting, 0.4-3 GB.
        conn.execute(f"PRAGMA cache_size=-{int(np.clip(sightings * 0.3, 400_000, 3_000_000))}")
        conn.execute("PRAGMA temp_store=MEMORY")
        with store.tx():
            conn.executemany(
                "INSERT INTO cameras(id, name, lat, lon, heading_deg, fov_deg, district, owner, purpose, width,"
                " height, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"
                " name = excluded.name, lat = excluded.lat, lon = excluded.lon, heading_deg = excluded.heading_deg,"
                " fov_deg = excluded.fov_deg, district = excluded.district, owner = excluded.owner,"
                " purpose = excluded.purpose, width = excluded.width, height = excluded.height, extra = excluded.extra",
                [
                    (
                        cam_ids[i],
                        f"{district[i]} {'안심이' if plan.real[i] else plan.purpose[i]} {i}",
                        float(lat[i]),
                        float(lon[i]),
                        float(heading[i]),
                        90.0,
                        district[i],
                        plan.owner[i],
                        plan.purpose[i],
                        640,
                        360,
                        '{"simulated": true, "real_site": true}' if plan.real[i] else '{"simulated": true}',
                    )
                    for i in range(cameras)
                ],
            )
            conn.executemany(
                "INSERT INTO sources(id, camera_id, uri, fingerprint, start_wall, fps, analysed_fps, width, height,"
                " status) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        i + 1,
                        cam_ids[i],
                        f"sim://{cam_ids[i]}",
                        f"sim-{seed}",
                        t0,
                        FPS,
                        FPS,
                        640,
                        360,
                        "complete",
                    )
                    for i in range(cameras)
                ],
            )
            if links:
                conn.executemany(
                    "INSERT INTO camera_links(src, dst, exit_edge, entry_edge, mode, mean_s, std_s, min_s, max_s,"
                    " source, prior_mean_s, prior_std_s, distance_m) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT DO NOTHING",
                    _link_rows(cam_ids, xy, heading, nbr, dist_nb),
                )
            conn.executemany(
                "INSERT INTO sim_identities(identity, kind, upper_color, lower_color, items, vehicle_type,"
                " vehicle_color, plate) VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        i + 1,
                        "person" if is_person[i] else "vehicle",
                        COLORS[upper[i]] if is_person[i] else None,
                        COLORS[lower[i]] if is_person[i] else None,
                        json.dumps([ITEMS[x][0] for x in np.flatnonzero(carries[i])]),
                        None if is_person[i] else VEHICLES[vtype[i]][0],
                        None if is_person[i] else COLORS[vcolor[i]],
                        plates[i],
                    )
                    for i in range(n_id)
                ],
            )
        steps["write_meta"] = time.perf_counter() - t
        say("cameras written", 1.0)

        # IVF centroids from a sample, so every vector goes straight into its cell.
        t = time.perf_counter()
        sample_rows = rng.choice(sightings, min(65536, sightings), replace=False)
        emb_rng = np.random.default_rng(seed + 1)

        def embed(rows: np.ndarray) -> np.ndarray:
            e = (
                proto[ident[rows]]
                + 0.25 * cam_bias[cam_of[rows]]
                + 0.6 * emb_rng.standard_normal((len(rows), dim)).astype(np.float32) / math.sqrt(dim)
            )
            return _unit(e)

        nlist = vectors.default_nlist(sightings) if sightings >= 50_000 else 0
        cents = None
        with store.tx():
            vectors.ensure_index(conn, dim)
            if nlist and vectors.partitioned(conn):
                sample = embed(sample_rows)  # drawn either way: the same seed gives the same city
                if vec_index:
                    cents = vectors.train_centroids(sample, nlist, seed=seed)
                    vectors.save_centroids(conn, cents)
        steps["train_ivf"] = time.perf_counter() - t

        t = time.perf_counter()
        chunk = 100_000
        cols = (
            "camera_id, source_id, track_id, kind, class_name, start_s, end_s, first_frame, last_frame, wall_start,"
            " wall_end, box_x, box_y, box_w, box_h, best_frame, entry_edge, exit_edge, heading_deg, speed_px_s,"
            " upper_color, upper_conf, lower_color, lower_conf, items, vehicle_type, vehicle_color, plate, embedding"
        )
        track_no = np.zeros(cameras, np.int64)
        cam_arr = np.array(cam_ids, dtype=object)
        veh_names = np.array([v for v, _ in VEHICLES], dtype=object)
        color_arr = np.array(COLORS, dtype=object)
        with _bulk_load(store, sightings >= BULK_LOAD, steps):
            for c0 in range(0, sightings, chunk):
                rows = order[c0 : c0 + chunk]
                emb = embed(rows)
                # Column by column (NumPy), then zipped into rows: the same values a row-by-row loop gives, with the
                # random draws in the same order, at a fraction of the Python time (10^7-row cities).
                cams = cam_of[rows]
                srt = np.argsort(cams, kind="stable")
                cs = cams[srt]
                first = np.r_[True, cs[1:] != cs[:-1]]
                rank = np.empty(len(rows), np.int64)
                rank[srt] = np.arange(len(rows)) - np.maximum.accumulate(
                    np.where(first, np.arange(len(rows)), 0)
                )
                track = track_no[cams] + rank + 1
                track_no += np.bincount(cams, minlength=cameras)
                person = person_s[rows]
                vt = veh_names[vt_obs[rows]]
                st, en = start_of[rows], end_of[rows]
                items = [
                    "{" + ", ".join(f'"{ITEMS[x][0]}": {round(v, 3)!r}' for x, v in enumerate(row) if v) + "}"
                    if p
                    else "{}"
                    for p, row in zip(person.tolist(), item_conf[rows].tolist(), strict=True)
                ]
                plate: list[str | None] = [None] * len(rows)
                for i in np.flatnonzero(legible[rows]).tolist():
                    pl = plates[ident[rows[i]]]
                    if not pl:
                        continue
                    if emb_rng.random() < 0.1:  # a misread character
                        pos = int(emb_rng.integers(len(pl)))
                        if pl[pos].isdigit():
                            pl = pl[:pos] + str(int(emb_rng.integers(10))) + pl[pos + 1 :]
                    plate[i] = pl
                ex = exit_edge[rows]
                speed = np.round(rng.uniform(20, 120, len(rows)), 1)
                columns = [
                    sid_of[rows].tolist(),
                    cam_arr[cams].tolist(),
                    (cams + 1).tolist(),
                    track.tolist(),
                    np.where(person, "person", "vehicle").tolist(),
                    np.where(person, "person", vt).tolist(),
                    np.round(st, 3).tolist(),
                    np.round(en, 3).tolist(),
                    ((st * FPS).astype(np.int64) + 1).tolist(),
                    ((en * FPS).astype(np.int64) + 1).tolist(),
                    (t0 + st).tolist(),
                    (t0 + en).tolist(),
                    np.round(bx[rows], 1).tolist(),
                    np.round(by[rows], 1).tolist(),
                    np.round(bw[rows], 1).tolist(),
                    np.round(bh[rows], 1).tolist(),
                    (((st + en) / 2 * FPS).astype(np.int64) + 1).tolist(),
                    entry_edge[rows].tolist(),
                    ex.tolist(),
                    [img_heading[e] for e in ex.tolist()],
                    speed.tolist(),
                    np.where(person, color_arr[up_obs[rows]], None).tolist(),
                    np.where(person, up_conf[rows], 0.0).tolist(),
                    np.where(person, color_arr[lo_obs[rows]], None).tolist(),
                    np.where(person, lo_conf[rows], 0.0).tolist(),
                    items,
                    np.where(person, None, vt).tolist(),
                    np.where(person, None, color_arr[vc_obs[rows]]).tolist(),
                    plate,
                    [e.tobytes() for e in emb],
                ]
                data = list(zip(*columns, strict=True))
                with store.tx():
                    conn.executemany(f"INSERT INTO sightings(id, {cols}) VALUES ({','.join('?' * 30)})", data)
                    conn.executemany(
                        "INSERT INTO sim_truth(sighting_id, identity) VALUES (?, ?)",
                        zip(sid_of[rows].tolist(), (ident[rows] + 1).tolist(), strict=True),
                    )
                    if vec_index:
                        vectors.add_many(conn, sid_of[rows].tolist(), emb, cents=cents, replace=False)
                say("sightings", min(1.0, (c0 + chunk) / sightings))
        steps["write_sightings"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("ANALYZE")
        summary = {
            "db": str(store.path),
            "cameras": cameras,
            "sightings": sightings,
            "identities": n_id,
            "persons": int(is_person.sum()),
            "vehicles": int((~is_person).sum()),
            "dim": dim,
            "seed": seed,
            "start": start,
            "hours": hours,
            "links": bool(links),
            "nlist": int(nlist if cents is not None else 0),
            "vec_index": bool(vec_index),
        }
        store.set_meta("sim_city", json.dumps(summary))
        steps["analyze"] = time.perf_counter() - t
    finally:
        store.close()
    summary["seconds"] = round(time.perf_counter() - t_all, 1)
    summary["seconds_by_step"] = {k_: round(v, 1) for k_, v in steps.items()}
    return summary
