"""CLI: `relaytrack bench watch`, the courier watch on held-out towns and confuser streets
(`relaytrack.bench.watch`, `bench.watch_confusers`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.bench import bench
from relaytrack.ui import console


@bench.command("watch")
def bench_watch(
    out: Annotated[Path, typer.Option("--out", help="Work folder (scenes, clips)")] = Path(
        ".relaytrack/bench-watch"
    ),
    town: Annotated[
        list[Path], typer.Option("--town", help="Town folder(s) to evaluate (default: render scenarios)")
    ] = [],
    scenes: Annotated[
        int, typer.Option("--scenes", help="Tuning towns rendered (seeds.TUNING['watch']; 0: none)")
    ] = 3,
    real: Annotated[bool, typer.Option("--real/--no-real", help="False alarms on real footage")] = True,
    watch_config: Annotated[Path | None, typer.Option("--watch-config")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Also write the figures here")] = None,
    held_out: Annotated[
        list[Path],
        typer.Option(
            "--held-out",
            help="Town folder(s) never used for tuning (default: render seeds.HELD_OUT['watch'])",
        ),
    ] = [],
    held_out_towns: Annotated[
        int, typer.Option("--held-out-towns", min=0, max=5, help="Held-out towns rendered and scored")
    ] = 5,
    real_held_out: Annotated[
        bool,
        typer.Option("--real-held-out", help="Also false alarms on vtest frames 301-795 (held out)"),
    ] = False,
    confuser_towns: Annotated[
        int,
        typer.Option(
            "--confuser-towns",
            min=0,
            max=5,
            help="Held-out watch seeds rendered drop-free with confusers: false alarms per camera-hour (95% "
            "upper bound) and per confuser kind",
        ),
    ] = 3,
    confuser_minutes: Annotated[
        float,
        typer.Option(
            "--confuser-minutes",
            min=0.1,
            max=30,
            help="Minutes of each confuser town (12: the three default streets give 2 camera-hours of cameras "
            "with zones, the exposure issue 22 asks for)",
        ),
    ] = 12.0,
    drop_confusers: Annotated[
        int,
        typer.Option(
            "--drop-confusers",
            min=0,
            max=60,
            help="Innocent people at the hiding spots of each held-out drop town (0: the drop towns alone)",
        ),
    ] = 6,
) -> None:
    """Courier events found at the right hiding spot (k/n, 95% CI) and time-to-alert on tuning and held-out
    towns; false alarms per camera-hour (95% upper bound) on real footage with defined zones; one table."""
    from relaytrack.bench.watch import run_bench

    res = run_bench(
        out, towns=town, scenes=scenes, real=real, watch_config=watch_config, echo=console.print,
        held_out=held_out, real_held_out=real_held_out, held_out_towns_n=held_out_towns,
        confuser_towns=confuser_towns, confuser_minutes=confuser_minutes, drop_confusers=drop_confusers,
    )  # fmt: skip
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    if res.get("failed"):
        sys.exit(1)
