"""`relaytrack bench cameras`: a city-sized camera register imported with map links, timed.

The register is Seoul's: `n` cameras at the positions `relaytrack city simulate` uses (the real 안심이 sites of
../shared/data, then cameras placed per district to the 2023 inventory's 176,371; relaytrack.town.city_cameras)
with the simulator's ids (SC00000...), random headings, a 90° field of view, district, owner and purpose. It is
written as the YAML register (or GeoJSON) that `relaytrack cameras import FILE --db PATH` reads, and imported
into a new store the way that command does (`relay.network.import_network`, walk and drive links inferred
from the map). Figures: seconds to read the file, to work out the links (before the write transaction), and
inside the transaction (the time the store's write lock is held), cameras and links stored. With `mounted`
every camera also gives a mount (height 3-8 m, tilt 15-45°, uniform), so its links are worked out view to
view through ground footprints (`relay.viewgaps`) instead of pole to pole.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

SEOUL_CAMERAS = 176_371  # Seoul's public CCTVs at the end of 2023 (the inventory city_cameras scales to)


def write_register(path: Path, n: int, seed: int = 0, mounted: bool = False) -> Path:
    """Seoul's register of n cameras as YAML (one flow mapping per camera) or GeoJSON, by the file's suffix;
    `mounted`: each with a random mount (the same layout and headings as without)."""
    from relaytrack.town.city_cameras import place_cameras

    rng = np.random.default_rng(seed)
    plan = place_cameras(n, rng, seed=seed)
    heading = rng.integers(0, 360, n).astype(float)
    if mounted:  # drawn after the headings: a seed's layout and headings stay those of the unmounted register
        mount_h = np.round(rng.uniform(3.0, 8.0, n), 1)
        mount_t = np.round(rng.uniform(15.0, 45.0, n), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cams = [
        {
            "id": f"SC{i:05d}",
            "name": f"{plan.district[i]} {'안심이' if plan.real[i] else plan.purpose[i]} {i}",
            "lat": round(float(plan.lat[i]), 6),
            "lon": round(float(plan.lon[i]), 6),
            "heading_deg": float(heading[i]),
            "fov_deg": 90.0,
            "district": str(plan.district[i]),
            "owner": str(plan.owner[i]),
            "purpose": str(plan.purpose[i]),
            "width": 640,
            "height": 360,
            **({"mount": {"height_m": float(mount_h[i]), "tilt_deg": float(mount_t[i])}} if mounted else {}),
        }
        for i in range(n)
    ]
    if path.suffix.lower() in (".geojson", ".json"):
        feats = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.pop("lon"), c.pop("lat")]},
                "properties": c,
            }
            for c in cams
        ]
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False))
    else:
        with path.open("w", encoding="utf-8") as f:
            what = ", mounted" if mounted else ""
            f.write(f"# Seoul camera register for bench cameras: {n} cameras{what}, seed {seed}\ncameras:\n")
            for c in cams:  # JSON flow mappings are YAML
                f.write(f"  - {json.dumps(c, ensure_ascii=False)}\n")
    return path


def run(
    n: int = SEOUL_CAMERAS,
    *,
    seed: int = 0,
    fmt: str = "yaml",
    work: Path,
    neighbours: int | None = None,
    mounted: bool = False,
    say=print,
) -> dict[str, Any]:
    """Write the register, import it into a new store with map links; the figures (module docstring)."""
    from relaytrack.relay.network import DEFAULT_NEIGHBOURS, import_network
    from relaytrack.store import Store

    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    stem = f"seoul-{n}" + ("-mounted" if mounted else "")
    reg = write_register(work / f"{stem}.{fmt}", n, seed, mounted)
    t_reg = time.perf_counter() - t
    db = work / f"{stem}.db"
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    say(f"register: {n} cameras written to {reg} in {t_reg:.1f} s; importing with map links")
    store = Store(db)
    try:
        t = time.perf_counter()
        summary = import_network(store, reg, neighbours=neighbours or DEFAULT_NEIGHBOURS)
        total = time.perf_counter() - t
        links = store.conn.execute("SELECT mode, COUNT(*) FROM camera_links GROUP BY mode").fetchall()
    finally:
        store.close()
    return {
        "cameras": summary["cameras"],
        "format": fmt,
        "mounted": mounted,
        "register": str(reg),
        "db": str(db),
        "seconds": round(total, 2),
        "seconds_by_step": summary["seconds"],
        "links_inferred": summary["links_inferred"],
        "links_by_mode": {r[0]: r[1] for r in links},
        "without_links": len(summary["without_links"]),
        "inferred_before_lock": summary["inferred_before_lock"],
        "neighbours": neighbours or DEFAULT_NEIGHBOURS,
    }
