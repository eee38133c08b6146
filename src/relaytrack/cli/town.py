"""CLI: `relaytrack town generate|scenario`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import progress_callback
from relaytrack.ui import console, print_json


def register(app: typer.Typer) -> None:
    town = typer.Typer(
        help="Synthetic town: rendered multi-camera footage with ground truth.", no_args_is_help=True
    )
    app.add_typer(town, name="town")

    @town.command("generate")
    def generate_cmd(
        out: Annotated[Path, typer.Option("--out", help="Town folder to write (reused if complete)")],
        seed: Annotated[int, typer.Option("--seed")] = 0,
        cameras: Annotated[int, typer.Option("--cameras", min=1, max=40)] = 8,
        minutes: Annotated[float, typer.Option("--minutes", min=0.05, max=30)] = 1.5,
        lighting: Annotated[str, typer.Option("--lighting", help="day | dusk | night")] = "day",
        force: Annotated[bool, typer.Option("--force", help="Render again even if complete")] = False,
        json_out: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Plan and render a town: videos/, mot/<cam>/gt, cameras.yaml, truth.json."""
        from relaytrack.town import generate

        bar, cb = progress_callback("render")
        with bar:
            path = generate(seed, cameras, minutes, out, progress=cb, lighting=lighting, force=force)
        meta = json.loads((path / "town.json").read_text(encoding="utf-8"))
        if json_out:
            print_json({"out": str(path), **meta})
        else:
            console.print(
                f"town: {path}  cameras={meta['cameras']} frames={meta['frames']} "
                f"gt_rows={meta['gt_rows']} suspect_cameras={meta['suspect_cameras']} "
                f"render_fps={meta['render_fps']}"
            )

    @town.command("scenario")
    def scenario_cmd(
        name: Annotated[str, typer.Argument(help="mailbox-night | courier-stops | decoys")],
        out: Annotated[Path, typer.Option("--out")],
        seed: Annotated[int | None, typer.Option("--seed")] = None,
    ) -> None:
        """Render a training clip with its answer key (answer.json)."""
        from relaytrack.town import scenario

        bar, cb = progress_callback(name)
        with bar:
            path = scenario(name, out, progress=cb, seed=seed)
        console.print(f"scenario {name}: {path} (answer key: {path / 'answer.json'})")

