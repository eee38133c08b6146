"""CLI: `relaytrack store merge SHARD... --db MAIN`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import DbOpt, JsonFlag, UserOpt, log_maintenance, open_store
from relaytrack.ui import console, print_json

store_app = typer.Typer(help="Store maintenance: merge shard stores.", no_args_is_help=True)


@store_app.command("merge")
def merge_cmd(
    shards: Annotated[list[Path], typer.Argument(help="Shard store files (from `ingest --engine ray --shards`)")],
    db: DbOpt = None,
    user: UserOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Copy cameras, sources, sightings, boxes, thumbnails and vectors of shard stores into the main store
    (ids remapped; merging the same shard twice adds nothing)."""
    from relaytrack.store.merge import merge_shard

    reports = []
    with open_store(db) as store:
        for shard in shards:
            rep = merge_shard(store, shard)
            reports.append(rep)
            log_maintenance(store, user, "store-merge", rep.as_dict())
    if json_out:
        print_json([r.as_dict() for r in reports])
        return
    for r in reports:
        console.print(
            f"{r.shard}: +{r.sightings} sightings ({r.skipped} already here), +{r.sources} sources, "
            f"+{r.cameras} cameras, {r.boxes} boxes, {r.thumbnails} thumbnails, {r.vectors} vectors"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")
