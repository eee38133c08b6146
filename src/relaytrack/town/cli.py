"""CLI: `relaytrack town generate|scenario|info` and `relaytrack bench town`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.ui import console, print_json, progress


def _bar(label: str):
    bar = progress()
    task = {"id": None}

    def cb(done: int, total: int, _msg: str) -> None:
        if task["id"] is None:
            task["id"] = bar.add_task(label, total=total)
        bar.update(task["id"], completed=done, total=total)

    return bar, cb


def register(app: typer.Typer, bench: typer.Typer) -> None:
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

        bar, cb = _bar("render")
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

        bar, cb = _bar(name)
        with bar:
            path = scenario(name, out, progress=cb, seed=seed)
        console.print(f"scenario {name}: {path} (answer key: {path / 'answer.json'})")

    @bench.command("town")
    def bench_town(
        out: Annotated[Path, typer.Option("--out", help="Folder for the bench towns")] = Path(
            ".relaytrack/bench-town"
        ),
        seed: Annotated[int, typer.Option("--seed")] = 3,
        cameras: Annotated[int, typer.Option("--cameras")] = 4,
        minutes: Annotated[float, typer.Option("--minutes")] = 0.25,
        frames: Annotated[int, typer.Option("--frames", help="Analysed frames per camera")] = 40,
        lightings: Annotated[str, typer.Option("--lighting", help="Comma list")] = "day,dusk,night",
        json_file: Annotated[Path | None, typer.Option("--json", help="Also write the figures here")] = None,
    ) -> None:
        """Render small towns per lighting and print detector recall (IoU 0.5) per camera and lighting."""
        from relaytrack.town import generate, measure_detector_recall

        results = {}
        for light in [x.strip() for x in lightings.split(",") if x.strip()]:
            bar, cb = _bar(f"render {light}")
            with bar:
                path = generate(seed, cameras, minutes, out / light, progress=cb, lighting=light)
            meta = json.loads((path / "town.json").read_text(encoding="utf-8"))
            bar, cb = _bar(f"detect {light}")
            with bar:
                r = measure_detector_recall(path, max_frames=frames, every=2, progress=cb)
            r["render_fps"] = meta["render_fps"]
            results[light] = r
            console.print(
                f"[bold]{light}[/bold]: recall@{r['person_conf']}={r['recall']} "
                f"recall@low={r['recall_low']} recall(vis>=0.5,h>=32)={r['recall_visible']} "
                f"precision={r['precision']} gt={r['gt_boxes']} render_fps={meta['render_fps']} "
                f"det_ms={r['det_ms']}"
            )
            for cam, c in r["per_camera"].items():
                console.print(f"   {cam}: recall={c['recall']} low={c['recall_low']} gt={c['gt_boxes']}")
            console.print(f"   by height: {r['by_height']}")
        if json_file:
            json_file.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
