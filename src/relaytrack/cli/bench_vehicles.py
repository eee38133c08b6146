"""CLI: the vehicle benchmarks: `relaytrack bench plates` (plate reading on real photos and rendered town
vehicles, `relaytrack.bench.plates`, `bench.plates_town`) and `relaytrack bench drive` (the suspect who drives
off: vehicle route F1 by identity, `relaytrack.bench.drive`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.bench import bench
from relaytrack.cli.common import JsonFlag
from relaytrack.paths import data_dir, home_dir
from relaytrack.ui import console, console_err, print_json


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


@bench.command("plates")
def bench_plates_cmd(
    data: Annotated[
        Path | None, typer.Option("--data", help="korean-plates-dev folder (default: the shared data's)")
    ] = None,
    part: Annotated[str, typer.Option("--part", help="held-out (reported), tune, or all")] = "held-out",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N images")] = None,
    rendered: Annotated[
        bool, typer.Option("--rendered/--no-rendered", help="Also the plates of rendered town vehicles")
    ] = True,
    towns: Annotated[int, typer.Option("--towns", min=1, max=3, help="Rendered plate towns (801..)")] = 3,
    tuning: Annotated[bool, typer.Option("--tuning", help="Rendered TUNING towns (not a result)")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Plate-read accuracy (exact, <= 1 character wrong, per character) on the real Korean plate photos,
    on the part of the plate-grouped split that was never used for tuning, and on the plates of held-out
    rendered towns by plate height (work folder .relaytrack/bench/plate-towns); prints the protocols."""
    from relaytrack.bench.plates import run
    from relaytrack.bench.plates_town import print_rendered, run_rendered
    from relaytrack.errors import InputError

    if part not in ("held-out", "tune", "all"):
        raise InputError(f"--part {part!r}: use held-out, tune or all")
    res = run(data or data_dir() / "korean-plates-dev", part=part, limit=limit)
    say = lambda m: console_err.print(f"[dim]{m}[/dim]")  # noqa: E731
    work = home_dir() / "bench" / "plate-towns"
    ren = run_rendered(work, towns=towns, tuning=tuning, say=say) if rendered else None
    if json_out:
        print_json({**res.to_json(), **({"rendered": ren} if ren else {})})
        return
    console.print(f"[bold]protocol:[/bold] {res.protocol}", highlight=False)
    console.print(
        f"part {res.part}: {res.images} images of {res.plates} plates; exact {res.exact:.3f}, "
        f"<=1 wrong {res.within_one:.3f}, character accuracy {res.char_accuracy:.3f}, "
        f"read rate {res.read_rate:.3f}, {res.seconds_per_image:.2f} s/image",
        highlight=False,
    )
    for kind, v in res.by_kind.items():
        console.print(f"  {kind}: {v['images']} images, exact {v['exact']:.3f}", highlight=False)
    if ren:
        print_rendered(ren, lambda m: console.print(m, highlight=False, markup=False))
