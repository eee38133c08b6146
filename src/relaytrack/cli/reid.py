"""CLI: `relaytrack reid train|apply`: learn the store's own appearance model, re-embed the store with it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import DbOpt, JsonFlag, UserOpt, log_maintenance, open_store, progress_callback
from relaytrack.ui import console, print_json

reid_app = typer.Typer(
    help="Re-identification learned from the store's own tracklets (no labels, nothing leaves the store).",
    no_args_is_help=True,
)


@reid_app.command("train")
def train_cmd(
    db: DbOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Model file to write (default: beside the store, "
                                             "STORE.reid.onnx)")] = None,
    user: UserOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Learn an appearance embedding from the store's person tracklets (same tracklet = same person,
    same camera and time = two people) and write it as an ONNX model that describe.embedder loads."""
    from relaytrack.reid import train

    with open_store(db) as store:
        bar, cb = progress_callback("reid features")
        with bar:
            rep = train.train(store, out, progress=cb)
        log_maintenance(store, user, "reid-train", rep.to_dict())
    if json_out:
        print_json(rep.to_dict())
        return
    console.print(f"model: {rep.model}  dim={rep.dim} tracklets={rep.tracklets} crops={rep.crops} "
                  f"pairs={rep.negative_pairs} ({rep.co_occurring_pairs} co-occurring) in {rep.seconds:.1f} s")
    console.print("next: relaytrack reid apply --db ... (re-embeds the store with it)")


@reid_app.command("apply")
def apply_cmd(
    db: DbOpt = None,
    model: Annotated[Path | None, typer.Option("--model", help="Model file (default: the one `reid train` "
                                               "wrote beside the store)")] = None,
    user: UserOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Re-embed every stored sighting with the trained model (resumable; the index never mixes models);
    later ingests into this store use the same model."""
    from relaytrack.reid import train

    with open_store(db) as store:
        bar, cb = progress_callback("re-embed")
        with bar:
            res = train.apply(store, model, progress=cb)
        log_maintenance(store, user, "reid-apply", res)
    if json_out:
        print_json(res)
        return
    if res.get("already"):
        console.print(f"the store is already embedded with {res['model']}")
    else:
        console.print(f"re-embedded {res['embedded']} sightings with {res['model']} (dim {res['dim']}); "
                      f"{res['skipped']} without crops kept without embedding")


def register(app: typer.Typer) -> None:
    app.add_typer(reid_app, name="reid")
