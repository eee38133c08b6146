"""The `relaytrack` command: a thin shell over the library.

Each stage registers its own commands (`register(app, bench)` in its `cli.py`), so this file only lists them.
"""

from __future__ import annotations

import importlib
import sys

import typer

from relaytrack.errors import RelaytrackError
from relaytrack.ui import console_err

app = typer.Typer(
    name="relaytrack",
    help="Multi-camera suspect search, relay tracking, courier watch and evidence for CCTV control rooms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
bench = typer.Typer(
    help="Benchmarks that print figures (accuracy, speed) and write them to files.", no_args_is_help=True
)
app.add_typer(bench, name="bench")

REGISTRARS = (
    "relaytrack.pipeline.cli",
    "relaytrack.risk.cli",
    "relaytrack.models.cli",
    "relaytrack.evidence.cli",
    "relaytrack.town.cli",
    "relaytrack.search.cli",
    "relaytrack.bench.cli",
    "relaytrack.relay.cli",
    "relaytrack.service.cli",
    "relaytrack.watch.cli",
    "relaytrack.store.cli",
)

for _name in REGISTRARS:
    importlib.import_module(_name).register(app, bench)


def main() -> None:
    try:
        app()
    except RelaytrackError as err:
        console_err.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
