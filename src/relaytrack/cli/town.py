"""CLI: `relaytrack town generate|scenario` (rendered towns) and `relaytrack city simulate|index`
(detection-level city simulator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import DbOpt, JsonFlag, open_store, progress_callback
from relaytrack.ui import console, print_json, progress


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
        decoys: Annotated[
            int,
            typer.Option(
                "--decoys",
                min=0,
                max=20,
                help="Look-alikes in the suspect's top and trousers colours (every other one with the "
                "suspect's item), crossing the suspect's route near the suspect's time",
            ),
        ] = 0,
        crowd: Annotated[
            float, typer.Option("--crowd", min=0.0, max=5.0, help="Pedestrian density factor (1 = usual)")
        ] = 1.0,
        confusers: Annotated[
            int,
            typer.Option(
                "--confusers",
                min=0,
                max=200,
                help="Innocent people at hiding spots the cameras see (resident, postman, delivery rider, "
                "crouching passer-by, smoker, photographer), listed in truth.json 'confusers'",
            ),
        ] = 0,
        couriers: Annotated[
            int,
            typer.Option("--couriers", min=0, max=10, help="Couriers making drops (0: a drop-free street)"),
        ] = 1,
        vehicles: Annotated[
            int | None,
            typer.Option(
                "--vehicles",
                min=0,
                max=500,
                help="Vehicles on the roads (cars, vans/trucks, buses, motorbikes with Korean plates, listed in "
                "truth.json 'vehicles'); default: the usual traffic for the town's size",
            ),
        ] = None,
        plate_cameras: Annotated[
            int,
            typer.Option(
                "--plate-cameras",
                min=0,
                max=20,
                help="Traffic cameras (narrow field, over a lane: plates 10-40 px high) besides --cameras",
            ),
        ] = 0,
        suspect_drives: Annotated[
            bool,
            typer.Option(
                "--suspect-drives",
                help="The suspect gets into a parked car halfway through and it drives off (one more camera "
                "on the boarding place; the plate cameras watch the car's lane ahead)",
            ),
        ] = False,
        lighting: Annotated[str, typer.Option("--lighting", help="day | dusk | night")] = "day",
        force: Annotated[bool, typer.Option("--force", help="Render again even if complete")] = False,
        json_out: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Plan and render a town: videos/, mot/<cam>/gt, cameras.yaml (camera register, no links),
        links-truth.yaml (the true links, for oracle runs: import it after the register), truth.json."""
        from relaytrack.town import generate

        bar, cb = progress_callback("render")
        with bar:
            path = generate(
                seed,
                cameras,
                minutes,
                out,
                progress=cb,
                lighting=lighting,
                force=force,
                decoys=decoys,
                crowd=crowd,
                confusers=confusers,
                couriers=couriers,
                vehicles=vehicles,
                plate_cameras=plate_cameras,
                suspect_drives=suspect_drives,
            )
        meta = json.loads((path / "town.json").read_text(encoding="utf-8"))
        if json_out:
            print_json({"out": str(path), **meta})
        else:
            console.print(
                f"town: {path}  cameras={meta['cameras']} frames={meta['frames']} "
                f"gt_rows={meta['gt_rows']} suspect_cameras={meta['suspect_cameras']} "
                f"decoys={meta.get('decoys', 0)} confusers={meta.get('confusers', 0)} render_fps={meta['render_fps']}"
            )

    @town.command("scenario")
    def scenario_cmd(
        name: Annotated[str, typer.Argument(help="mailbox-night | courier-stops | decoys | suspect-drives")],
        out: Annotated[Path, typer.Option("--out")],
        seed: Annotated[int | None, typer.Option("--seed")] = None,
    ) -> None:
        """Render a training clip with its answer key (answer.json)."""
        from relaytrack.town import scenario

        bar, cb = progress_callback(name)
        with bar:
            path = scenario(name, out, progress=cb, seed=seed)
        console.print(f"scenario {name}: {path} (answer key: {path / 'answer.json'})")

    city = typer.Typer(
        help="Detection-level city simulator (real Seoul camera sites) and vector index upkeep.",
        no_args_is_help=True,
    )
    app.add_typer(city, name="city")

    @city.command("simulate")
    def simulate_cmd(
        db: Annotated[
            str,
            typer.Option(
                "--db", help="New store to fill: a file (put big ones on local disk) or a postgresql:// URL"
            ),
        ],
        cameras: Annotated[
            int,
            typer.Option(
                "--cameras",
                min=2,
                help="Cameras: real Seoul sites first (83,734); above that the rest are placed per district to "
                "match Seoul's 2023 inventory by owner and purpose (176,371 = the whole city)",
            ),
        ] = 10_000,
        sightings: Annotated[
            int, typer.Option("--sightings", min=1, help="Sightings to generate")
        ] = 1_000_000,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        dim: Annotated[
            int, typer.Option("--dim", min=8, max=4096, help="Embedding width (real embedder: 1280)")
        ] = 128,
        hours: Annotated[float, typer.Option("--hours", min=0.01, help="Simulated time span")] = 24.0,
        index: Annotated[
            bool,
            typer.Option(
                "--index/--no-index",
                help="Build the district x day vector shards afterwards (and leave the store's own vector table "
                "empty: the shards replace it)",
            ),
        ] = True,
        json_out: JsonFlag = False,
    ) -> None:
        """Fill a new store with a simulated city: people and vehicles moving between real camera sites."""
        from relaytrack.town.city import simulate_city

        with progress() as bar:
            tasks: dict[str, int] = {}

            def say(step: str, frac: float) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=100)
                bar.update(tasks[step], completed=int(frac * 100))

            summary = simulate_city(
                db, cameras, sightings, seed, dim, hours=hours, vec_index=not index, progress=say
            )
            if index:
                summary["shards"] = _build_shards(db, None, False, lambda f: say("vector shards", f))
        if json_out:
            print_json(summary)
        else:
            console.print(summary)

    @city.command("index")
    def index_cmd(
        db: DbOpt = None,
        shard_dir: Annotated[
            Path | None,
            typer.Option(
                "--shard-dir", help="Where the shards live (default: beside the store, STORE.shards/)"
            ),
        ] = None,
        rebuild: Annotated[
            bool, typer.Option("--rebuild", help="Start the shards over from the store")
        ] = False,
        ivf: Annotated[
            bool, typer.Option("--ivf", help="Also (re)build the store's own IVF vector index (sqlite-vec)")
        ] = False,
        nlist: Annotated[
            int | None,
            typer.Option("--nlist", min=1, help="IVF cells of --ivf (default: vectors/1000; implies --ivf)"),
        ] = None,
        json_out: JsonFlag = False,
    ) -> None:
        """Build or update the store's vector shards (district x Seoul day): every sighting not yet indexed is
        added; a shard file found unreadable is rebuilt from the store and reported."""
        with progress() as bar:
            task = bar.add_task("vector shards", total=100)
            out: dict = {
                "shards": _build_shards(
                    db, shard_dir, rebuild, lambda f: bar.update(task, completed=int(f * 100))
                )
            }
        if ivf or nlist:
            from relaytrack.store import vectors

            store = open_store(db, readonly=True)
            try:
                with store.tx() as conn:
                    out["ivf"] = vectors.build_ivf(conn, nlist=nlist)
            finally:
                store.close()
        print_json(out) if json_out else console.print(out)


def _build_shards(db: str | Path | None, shard_dir: Path | None, rebuild: bool, say) -> dict:
    from dataclasses import asdict

    from relaytrack.store import shard_store

    store = open_store(db, readonly=True)
    try:
        rep = shard_store.build(
            store, shard_dir, rebuild=rebuild, progress=lambda done, todo: say(done / max(todo, 1))
        )
    finally:
        store.close()
    for p in rep.problems:
        console.print(f"[yellow]shard {p.shard}: {p.error}; rebuilt from the store ({p.vectors} vectors)[/]")
    return asdict(rep)
