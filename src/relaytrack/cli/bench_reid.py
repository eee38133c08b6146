"""CLI: `relaytrack bench reid`, every embedder side by side on held-out rendered towns and the real crops
(`relaytrack.bench.reid`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.bench import bench
from relaytrack.paths import home_dir
from relaytrack.ui import console, console_err, print_json


@bench.command("reid")
def bench_reid(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Work folder (towns, model, reid.json; default .relaytrack/bench/reid)"),
    ] = None,
    towns: Annotated[
        int, typer.Option("--towns", min=1, max=6, help="Held-out towns scored (501-506; 504-506 added in session 22)")
    ] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Cross-camera rank-1/rank-5/mAP of the ImageNet embedder, colour histograms, part features and the
    model learned without labels, on held-out towns and real footage, with ms per tracklet."""
    from rich.table import Table

    from relaytrack.bench.reid import run

    out = out or home_dir() / "bench" / "reid"
    echo = (lambda m: console_err.print(f"[dim]{m}[/dim]")) if json_out else console.print
    res = run(out, towns=towns, echo=echo)
    (out / "reid.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    if json_out:
        print_json(res)
        return
    for k, v in res["protocol"].items():
        console.print(f"[dim]{k}: {v}[/dim]")
    table = Table("set", "embedder", "rank-1", "rank-5", "mAP", "queries", "chance r-1", title="bench reid")
    for set_name, by in res["results"].items():
        for name, r in by.items():
            table.add_row(
                set_name,
                name,
                f"{r['rank1']:.3f}",
                f"{r['rank5']:.3f}",
                f"{r['mAP']:.3f}",
                str(r["queries"]),
                f"{r['chance_rank1']:.3f}",
            )
    console.print(table)
    k = res["protocol"]["crops_per_tracklet"]
    speeds = ", ".join(f"{n} {v}" for n, v in res["ms_per_tracklet"].items())
    console.print(f"ms per tracklet ({k} crops): {speeds}")
    console.print(f"written: {out / 'reid.json'}")


@bench.command("colours")
def bench_colours(
    towns: Annotated[int, typer.Option("--towns", min=1, max=6, help="Relay-bench towns scored")] = 3,
    tuning: Annotated[
        bool, typer.Option("--tuning", help="The relay bench's TUNING towns instead of its held-out ones")
    ] = False,
    work: Annotated[
        Path | None,
        typer.Option("--work", help="The relay bench's work folder (default .relaytrack/bench/relay-towns)"),
    ] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the figures to this file")] = None,
) -> None:
    """How often the stored upper and lower clothing colours are the person's own, on the towns `bench relay`
    rendered and ingested (their truth.json gives every person's colours), by what the person carries."""
    from rich.table import Table

    from relaytrack.bench.colours import run
    from relaytrack.seeds import HELD_OUT, TUNING

    seeds = list((TUNING if tuning else HELD_OUT)["relay-towns"][:towns])
    res = run(
        seeds, work or home_dir() / "bench" / "relay-towns", say=lambda m: console.print(f"[dim]{m}[/dim]")
    )
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(res, indent=2), encoding="utf-8")
    table = Table("town", "carries", "sightings", "upper right", "lower right", title="bench colours")
    # Each town, then the pooled figures: a row per group of what people carry, then everyone.
    for label, t in [*((str(seed), t) for seed, t in res["towns"].items()), ("pooled", res["pooled"])]:
        for group, g in t["by_carried"].items():
            table.add_row(label, group, str(g["sightings"]), f"{g['upper_accuracy']:.3f}",
                          f"{g['lower_accuracy']:.3f}")  # fmt: skip
        table.add_row(label, "all", str(t["sightings"]), f"{t['upper_accuracy'] or 0:.3f}",
                      f"{t['lower_accuracy'] or 0:.3f}", end_section=True)  # fmt: skip
    console.print(table)
    for seed, t in res["towns"].items():
        console.print(
            f"town {seed} upper misread: "
            + ", ".join(f"{k} ({v})" for k, v in t["confusions"]["upper"].items())
        )
