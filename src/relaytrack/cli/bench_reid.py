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
    towns: Annotated[int, typer.Option("--towns", min=1, max=3, help="Held-out towns scored")] = 3,
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
    console.print(
        "ms per tracklet (5 crops): " + ", ".join(f"{k} {v}" for k, v in res["ms_per_tracklet"].items())
    )
    console.print(f"written: {out / 'reid.json'}")
