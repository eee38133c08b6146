"""The `relaytrack` command: a thin shell over the library, one module per command group.

`ingest` (detect, track, ingest, sightings), `demo`, `bench` (every benchmark), `risk`, `models`, `evidence`
(audit, users, cases, evidence, requests, retention), `town` (town, city), `search`, `plate` (plate read, plate train), `relay` (cameras, relay), `reid` (train, apply),
`service` (serve), `watch` (watch, alerts), `store` and `plan` (capacity) each add their commands in `register(app)`; this file
only lists them, in the order `relaytrack --help` shows them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

import relaytrack.evidence  # noqa: F401  (registers the audit anchor's store commit hook)
from relaytrack.errors import RelaytrackError
from relaytrack.ui import console_err


def _quiet_flag_types() -> None:
    """Help lists an on/off flag by its name and meaning only: Typer (0.2x) prints every option's type, and
    "<bool>" beside each flag is noise. Options that take a value keep their type."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_quiet_flag_types()

app = typer.Typer(
    name="relaytrack",
    help="Multi-camera suspect search, relay tracking, courier watch and evidence for CCTV control rooms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global_options(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of what people read (tables, reasons, explanations): ko or en. Default: "
            "RELAYTRACK_LANG, else ko under a Korean locale, else en. JSON keys and reasons stay English.",
        ),
    ] = None,
) -> None:
    """Multi-camera suspect search, relay tracking, courier watch and evidence for CCTV control rooms."""
    from relaytrack.i18n import set_lang

    set_lang(lang)


GROUPS = (
    "demo",
    "ingest",
    "bench",
    "risk",
    "models",
    "evidence",
    "town",
    "search",
    "plate",
    "relay",
    "pursue",
    "reid",
    "service",
    "watch",
    "store",
    "plan",
)

for _name in GROUPS:
    importlib.import_module(f"relaytrack.cli.{_name}").register(app)


def main() -> None:
    from relaytrack.cli.common import optional_json_value

    try:
        app(args=optional_json_value(sys.argv[1:]))
    except RelaytrackError as err:
        console_err.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
