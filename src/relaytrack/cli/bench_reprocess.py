"""CLI: `relaytrack bench reprocess`, low-rate indexing with on-demand re-processing against full rate
(`relaytrack.bench.reprocess`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.bench import bench
from relaytrack.paths import home_dir
from relaytrack.ui import console, print_json


@bench.command("reprocess")
def bench_reprocess(
    seed: Annotated[
        list[int] | None,
        typer.Option(help="Town seed (tuning relay-towns seeds only; repeat for more; default all six)"),
    ] = None,
    cameras: Annotated[int, typer.Option(help="Cameras per rendered town", min=2)] = 12,
    minutes: Annotated[float, typer.Option(help="Minutes of footage per camera", min=0.2)] = 1.0,
    decoys: Annotated[int, typer.Option(help="Look-alike decoys per town", min=0)] = 3,
    crowd: Annotated[float, typer.Option(help="Crowd multiplier", min=0.1)] = 2.0,
    full_fps: Annotated[
        float, typer.Option(help="The full analysed rate (reference and re-processing)")
    ] = 5.0,
    low_fps: Annotated[float, typer.Option(help="The low analysed rate of the index (motion-gated)")] = 1.0,
    around: Annotated[
        list[str] | None,
        typer.Option(
            help="Ways of re-processing compared: look (the spans of the --top low-rate sightings most like "
            "the origin), sightings (every low-rate sighting's span), window (whole windows), origin (the "
            "origin's span only, the route run from its full-rate tracklet), missed (origin, then where the route "
            "stops only: linked windows with nobody like the origin, the people the index missed added)"
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(help="Low-rate sightings re-processed per window with --around look", min=1)
    ] = 1,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out",
            help="Score the relay bench's held-out towns (601-606) instead: once, after every setting is fixed",
        ),
    ] = False,
    work: Annotated[Path | None, typer.Option(help="Folder for towns and stores")] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this file")
    ] = None,
) -> None:
    """Index at 1 fps + on-demand re-processing vs 5 fps: route F1 and analysed frames of each."""
    from relaytrack.bench.reprocess import AROUND, Options, run
    from relaytrack.errors import InputError

    if around and set(around) - set(AROUND):
        raise InputError(f"--around takes {', '.join(AROUND)}, got {', '.join(around)}")
    opts = Options(
        cameras=cameras,
        minutes=minutes,
        decoys=decoys,
        crowd=crowd,
        full_fps=full_fps,
        low_fps=low_fps,
        top=top,
    )
    if around:
        opts.around = tuple(around)
    # The relay bench's folder: its towns (same seeds and shape) and full-rate stores are reused.
    from relaytrack.bench.reprocess import REPROCESS_HELD_OUT, REPROCESS_TUNING

    if held_out and seed:
        raise InputError("--held-out scores the held-out towns; it takes no --seed")
    seeds = list(REPROCESS_HELD_OUT) if held_out else list(seed or REPROCESS_TUNING)
    res = run(seeds, opts, work or home_dir() / "bench" / "relay-towns", say=console.print, held_out=held_out)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(res, indent=2), encoding="utf-8")
    for r in res["conditions"].values():
        console.print(
            f"{r['method']:>20}: route F1 {r['f1']:.3f} (P {r['precision']:.2f} R {r['recall']:.2f}, "
            f"dF1 {r['f1_delta']:+.3f}), analysed frames {r['frames']} ({r['reprocess_frames']} re-processed, "
            f"{100 * r['frames_ratio']:.0f} % of full rate){'  target met' if r['met'] else ''}"
            f"{'  (no worse than full rate)' if r['no_worse'] and not r['met'] else ''}"
        )
    console.print(f"target: {res['target']}: {'met' if res['met'] else 'NOT met'}")
    if json_file is None:
        print_json({k: v for k, v in res.items() if k != "towns"})


@bench.command("lowrate")
def bench_lowrate(
    folders: Annotated[
        list[Path] | None,
        typer.Argument(
            help="MOTChallenge folders (default: ../shared/data/mot15; mot17-mini holds 4-8 frames)"
        ),
    ] = None,
    fps: Annotated[
        list[float] | None, typer.Option("--fps", help="Analysed rates compared (repeat; default 1 and 2)")
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this file")
    ] = None,
) -> None:
    """Tracking at a low analysed rate on real footage: HOTA/IDF1/MOTA of the stored tracklets with and
    without matching by distance, on the analysed frames only; the protocol is printed above the table."""
    from rich.table import Table

    from relaytrack.bench.lowrate import run
    from relaytrack.config import load_config
    from relaytrack.errors import InputError
    from relaytrack.paths import data_dir

    rates = list(fps or [1.0, 2.0])
    if any(r <= 0 for r in rates):
        raise InputError(f"--fps must be > 0, got {', '.join(f'{r:g}' for r in rates)}")
    res = run(list(folders or [data_dir() / "mot15"]), rates, load_config(None), say=console.print)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(res, indent=2), encoding="utf-8")
    console.print(res["protocol"])
    table = Table(title="tracking at low analysed rates, real footage (pooled)")
    for col in ("fps", "matching", "HOTA", "IDF1", "MOTA", "IDSW", "FP", "FN"):
        table.add_column(col)
    for r in res["table"]:
        table.add_row(
            f"{r['fps']:g}", r["variant"], *(f"{r[k]:.1f}" for k in ("HOTA", "IDF1", "MOTA")),
            *(str(r[k]) for k in ("IDSW", "FP", "FN")),
        )  # fmt: skip
    console.print(table)
    if json_file is None:
        print_json({k: v for k, v in res.items() if k != "per_sequence"})
