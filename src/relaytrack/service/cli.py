"""CLI: `relaytrack serve` (API + console) and `relaytrack bench service` (load on loopback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.clikit import DbOpt, JsonFlag
from relaytrack.ui import console, print_json


def serve(db: Path | None = None, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    import uvicorn

    from relaytrack.service.app import create_app

    uvicorn.run(create_app(db), host=host, port=port, log_level=log_level, timeout_graceful_shutdown=3)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        db: DbOpt = None,
        host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")] = 8000,
        log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level")] = "info",
    ) -> None:
        """Serve the HTTP API (OpenAPI at /openapi.json) and the web console at / ."""
        from relaytrack.paths import default_db

        console.print(f"relaytrack console: http://{host}:{port}/  (store {db or default_db()})")
        serve(db, host, port, log_level)

    @bench.command("service")
    def bench_service_cmd(
        users: Annotated[int, typer.Option("--users", min=1, max=200, help="Concurrent console users")] = 8,
        subscribers: Annotated[
            int, typer.Option("--subscribers", min=0, max=1000, help="Live alert (SSE) subscribers")
        ] = 20,
        duration: Annotated[float, typer.Option("--duration", min=2, max=600, help="Seconds of load")] = 20.0,
        people: Annotated[int, typer.Option("--people", min=10, help="People in the synthetic town")] = 1500,
        alert_rate: Annotated[
            float, typer.Option("--alert-rate", min=0, help="Alerts written per second")
        ] = 2.0,
        db: DbOpt = None,
        out: Annotated[Path | None, typer.Option("--out", help="Also write the figures as JSON here")] = None,
        json_out: JsonFlag = False,
    ) -> None:
        """N console users searching + M live alert subscribers against `relaytrack serve` on loopback:
        p50/p95 latency, errors, alert delivery latency; the in-process search as the baseline."""
        from relaytrack.service.bench import print_report, run_bench

        res = run_bench(
            users=users,
            subscribers=subscribers,
            duration_s=duration,
            people=people,
            alert_rate=alert_rate,
            db=db,
        )
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print_json(res) if json_out else print_report(res)
