"""CLI: `relaytrack demo` (the whole job on a synthetic town; `relaytrack.demo` runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import DbOpt
from relaytrack.ui import console, progress


def demo_cmd(
    seed: Annotated[int, typer.Option(help="Town seed")] = 7,
    cameras: Annotated[int, typer.Option(help="Cameras in the town")] = 8,
    minutes: Annotated[float | None, typer.Option(help="Minutes of footage per camera")] = None,
    db: DbOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the town, store and report")] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write the figures to this JSON file")
    ] = None,
    fps: Annotated[float, typer.Option(help="Analysed frames per second")] = 5.0,
    watch: Annotated[bool, typer.Option(help="Run the courier watch on residential cameras")] = True,
    decoys: Annotated[
        int,
        typer.Option(min=0, max=20, help="Look-alikes of the suspect in the town (same clothes' colours)"),
    ] = 2,
    links: Annotated[
        str,
        typer.Option(
            help="truth: import the town's links-truth.yaml after its register (oracle links) | "
            "register: only the links inferred from the register's positions and headings"
        ),
    ] = "register",
    operator: Annotated[
        bool,
        typer.Option(
            "--operator/--unattended",
            help="Relay from the first search hit that is the suspect, as an investigator confirms it (the demo "
            "reads the truth for this one judgement, as bench relay does; the unattended pick is scored beside "
            "it) | only the unattended pick: the best-supported route from the top three hits",
        ),
    ] = True,
) -> None:
    """The whole job on a synthetic town: ingest, search from a Korean description, relay route, courier
    watch, and an accuracy summary against ground truth (the route also by identity: precision, recall and
    F1 of hops that are the suspect)."""
    from relaytrack.demo import DemoOptions, run_demo, summary_lines, write_json

    res = run_demo(
        DemoOptions(
            seed=seed,
            cameras=cameras,
            minutes=minutes,
            db=db,
            out=out,
            fps=fps,
            watch=watch,
            decoys=decoys,
            links=links,
            operator=operator,
        ),
        say=lambda m: console.print(m),
        progress_factory=progress,
    )
    console.rule("relaytrack demo: accuracy against the town's ground truth")
    for line in summary_lines(res.figures):
        console.print(line)
    if json_file:
        write_json(json_file, res.figures)
        console.print(f"figures: {json_file}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
