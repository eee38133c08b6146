"""CLI: `relaytrack bench pursuit`, the live pursuit on held-out hard towns played live
(`relaytrack.bench.pursuit`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.bench import bench
from relaytrack.ui import console, console_err


@bench.command("pursuit")
def bench_pursuit(
    towns: Annotated[
        int,
        typer.Option(
            "--towns", min=1, max=12, help="Towns: held-out seeds 701-706 (with --tuning: up to 11)"
        ),
    ] = 2,
    cameras: Annotated[int, typer.Option("--cameras", min=4, max=40, help="Cameras per town")] = 8,
    minutes: Annotated[float, typer.Option("--minutes", min=0.5, max=30, help="Footage per town")] = 1.0,
    decoys: Annotated[int, typer.Option("--decoys", min=0, help="Look-alike decoys per town")] = 2,
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline", help="Fixed-rate baseline")] = True,
    work: Annotated[Path | None, typer.Option("--work", help="Towns, stores and runs (reused)")] = None,
    tuning: Annotated[bool, typer.Option("--tuning", help="TUNING seeds instead (not a result)")] = False,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON here")] = None,
) -> None:
    """Live pursuit on held-out hard towns played live: next camera in the top-1/top-3, hand-off latency
    p50/p95, routes followed to the end, analysed frames/s against a fixed-rate baseline (work folder
    default .relaytrack/bench/pursuit-towns)."""
    from relaytrack.bench.pursuit import BenchOptions, default_work, print_report, run_bench

    opts = BenchOptions(towns, cameras, minutes, decoys, tuning=tuning, baseline=baseline)
    res = run_bench(opts, work or default_work(), say=lambda m: console_err.print(f"[dim]{m}[/dim]"))
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print_report(res, console.print)
