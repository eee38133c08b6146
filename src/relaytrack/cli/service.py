"""CLI: `relaytrack serve` (API + console)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import DbOpt
from relaytrack.ui import console


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        db: DbOpt = None,
        host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")] = 8000,
        log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level")] = "info",
        cameras: Annotated[
            Path | None,
            typer.Option(
                "--cameras",
                help="Camera file (YAML, as `pursue --cameras`) for pursuits started from the console",
                exists=True,
                dir_okay=False,
            ),
        ] = None,
    ) -> None:
        """Serve the HTTP API (OpenAPI at /openapi.json) and the web console at / ."""
        from relaytrack.paths import default_db

        console.print(f"relaytrack console: http://{host}:{port}/  (store {db or default_db()})")
        from relaytrack.service.app import serve

        serve(db, host, port, log_level, cameras=cameras.resolve() if cameras else None)
