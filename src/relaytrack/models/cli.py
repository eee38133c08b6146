"""CLI: relaytrack models list|build|check."""

from __future__ import annotations

import typer

from relaytrack.models.registry import MODELS, candidates
from relaytrack.ui import console

models_app = typer.Typer(help="Offline ONNX models: list, build from registry packages, check.", no_args_is_help=True)


@models_app.command("list")
def models_list() -> None:
    """Each model, where it was found, and what it is."""
    from rich.table import Table

    table = Table("name", "file", "found at", "what")
    for name, spec in MODELS.items():
        found = next((str(p) for p in candidates(name) if p.is_file()), "[red]missing[/red]")
        table.add_row(name, spec.file, found, spec.what)
    console.print(table)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
