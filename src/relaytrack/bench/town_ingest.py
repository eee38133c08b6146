"""A rendered town into a store, as the benches that relay on rendered footage need it: the register
imported (no links), every camera ingested with its start time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def ingest_cameras(store, tdir: Path, net: dict, cfg, say: Callable[[str], None]) -> int:
    """Import `tdir`'s cameras.yaml and ingest every camera of `net` (its parsed content) under `cfg`;
    returns the frames analysed."""
    from relaytrack.pipeline.ingest import Stages, ingest
    from relaytrack.relay.network import import_network
    from relaytrack.source.open import parse_time

    import_network(store, tdir / "cameras.yaml")
    stages = Stages.load(cfg)
    frames = 0
    for cam in net["cameras"]:
        r = ingest(
            store,
            str(tdir / cam["source"]),
            cam["id"],
            cfg,
            stages,
            start_wall=parse_time(cam.get("start_time")),
        )
        say(f"  {tdir.name} {cam['id']}: {r.frames} frames, {r.sightings} sightings ({r.status})")
        frames += r.frames
    return frames
