"""CLI: `relaytrack bench cameras`, Seoul's camera register imported with map links, timed
(`relaytrack.bench.camera_import`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.bench import bench
from relaytrack.paths import home_dir
from relaytrack.ui import console, print_json


@bench.command("cameras")
def bench_cameras(
    cameras: Annotated[
        int, typer.Option(help="Cameras in the register (Seoul's 176,371 by default)", min=2, max=1_000_000)
    ] = 176_371,
    fmt: Annotated[str, typer.Option("--format", help="Register file: yaml or geojson")] = "yaml",
    seed: Annotated[int, typer.Option(help="Seed of the camera layout and headings")] = 0,
    mounted: Annotated[
        bool,
        typer.Option("--mounted", help="Cameras give mounts (height 3-8 m, tilt 15-45°): view-to-view links"),
    ] = False,
    work: Annotated[Path | None, typer.Option(help="Folder for the register and the store")] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this file")
    ] = None,
) -> None:
    """Write Seoul's camera register and import it into a new store with map links: seconds to read, to work
    out the links (before the write lock) and with the write lock held; links stored."""
    from relaytrack.bench.camera_import import run
    from relaytrack.errors import InputError

    if fmt not in ("yaml", "geojson"):
        raise InputError(f"--format takes yaml or geojson, got {fmt!r}")
    res = run(
        cameras, seed=seed, fmt=fmt, work=work or home_dir() / "bench" / "cameras", mounted=mounted,
        say=console.print,
    )  # fmt: skip
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(res, indent=2), encoding="utf-8")
    s, what = res["seconds_by_step"], ", mounted" if mounted else ""
    console.print(
        f"{res['cameras']:,} cameras ({res['format']}{what}) imported with map links "
        f"in {res['seconds']:.1f} s: "
        f"read {s['read']:.1f} s, links worked out {s['infer']:.1f} s before the write lock, "
        f"write lock held {s['write']:.1f} s; {res['links_inferred']:,} links "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(res['links_by_mode'].items()))})"
        + ("" if res["inferred_before_lock"] else " [links worked out again inside the lock]")
    )
    if json_file is None:
        print_json(res)
