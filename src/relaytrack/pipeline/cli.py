"""CLI: detect, track, ingest (and the demo)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    pass
