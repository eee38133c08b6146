"""CLI: `relaytrack bench drive`, the suspect who drives off: vehicle route F1 by identity
(`relaytrack.bench.drive`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.bench import bench
from relaytrack.paths import home_dir
from relaytrack.ui import console, console_err


@bench.command("drive")
def bench_drive(
    towns: Annotated[
        int, typer.Option("--towns", min=1, max=3, help="Held-out suspect-drives towns (901..)")
    ] = 1,
    work: Annotated[Path | None, typer.Option("--work", help="Towns and stores (reused)")] = None,
    tuning: Annotated[bool, typer.Option("--tuning", help="TUNING seeds instead (not a result)")] = False,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON here")] = None,
) -> None:
    """Vehicle route F1 on held-out towns where the suspect gets into a parked car and drives off: the relay
    must follow the person, the car from the boarding on (person -> vehicle hand-off) and the car's cameras
    (work folder default .relaytrack/bench/drive-towns)."""
    from relaytrack.bench.drive import run

    res = run(towns, work or home_dir() / "bench" / "drive-towns", lambda m: console_err.print(f"[dim]{m}[/dim]"),
              tuning=tuning)  # fmt: skip
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(
            json.dumps(res, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
        )
    console.print(f"[bold]protocol:[/bold] {res['protocol']}", highlight=False)
    for t in res["towns"]:
        route = " > ".join(f"{h['camera']}{'(car)' if h['kind'] == 'vehicle' else ''}" for h in t["route"])
        truth = " > ".join(f"{v['camera']}{'(car)' if v['kind'] == 'vehicle' else ''}" for v in t["truth"])
        console.print(f"town {t['seed']}: truth {truth}", highlight=False)
        console.print(
            f"  route {route or '-'}  (P {t['precision']:.2f} R {t['recall']:.2f} F1 {t['f1']:.2f}; "
            f"hand-offs {', '.join(h['type'] for h in t['handoffs']) or 'none'}; "
            f"car sightings stored {t.get('car_sightings', 0)})",
            highlight=False,
        )
    verdict = "met" if res["met"] else "missed"
    console.print(
        f"vehicle route by identity: P {res['precision']:.3f} R {res['recall']:.3f} F1 {res['f1']:.3f} "
        f"(target >= {res['target_f1']}: {verdict}); towns boarded: {res['boarded']} of {len(res['towns'])}",
        highlight=False,
    )
