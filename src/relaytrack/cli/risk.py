"""CLI: `relaytrack risk build|top`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.errors import InputError
from relaytrack.paths import home_dir
from relaytrack.ui import console, console_err, print_json

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Risk config YAML/JSON (overrides defaults)")
]
By = Annotated[str, typer.Option("--by", help="cell | dong | district | camera | gap")]


def default_out() -> Path:
    return home_dir() / "risk"


def run_build(config: Path | None, out: Path, alerts: Path | None = None) -> dict:
    from relaytrack.risk.report import run_build as build_and_write

    with console_err.status("building the risk index…"):
        return build_and_write(config, out, alerts)


def register(app: typer.Typer) -> None:
    risk = typer.Typer(
        help="Crime-risk index, coverage gaps and camera priorities from Seoul open data.",
        no_args_is_help=True,
    )
    app.add_typer(risk, name="risk")

    @risk.command("build")
    def build_cmd(
        out: Annotated[Path, typer.Option("--out", help="Output folder")] = None,  # type: ignore[assignment]
        config: ConfigOpt = None,
        alerts: Annotated[
            Path | None, typer.Option("--alerts", help="Confirmed alerts (JSON/CSV) as incidents")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print summary.json")] = False,
    ) -> None:
        """Build the index for all of Seoul: cells.geojson, map.html, summary.json, CSV rankings."""
        out = out or default_out()
        s = run_build(config, out, alerts)
        if json_out:
            print_json(s)
            return
        bt = s["backtest"]
        console.print(
            f"{s['cells']} cells, {s['cameras']} cameras, {s['gaps']} coverage gaps, "
            f"{s['bad_rows_total']} bad rows skipped; {s['seconds']:.2f} s "
            f"(index {s['build_seconds']:.2f} s) -> {out}"
        )
        console.print(
            f"backtest (구, later crime counts): index Spearman {bt['spearman']}, "
            + ", ".join(f"{k} {v}" for k, v in bt["baselines"].items())
        )

    @risk.command("top")
    def top_cmd(
        n: Annotated[int, typer.Option("--n", min=1, help="How many")] = 20,
        by: By = "cell",
        out: Annotated[Path | None, typer.Option("--out", "--dir", help="Build folder to read")] = None,
        config: ConfigOpt = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    ) -> None:
        """Top N cells, 동, 구, cameras (courier watch) or coverage gaps with scores and reasons."""
        from relaytrack.risk.report import RANKING_FILES, read_ranking

        if by not in RANKING_FILES:
            raise InputError(f"--by {by!r}: choose one of {', '.join(RANKING_FILES)}")
        out = out or default_out()
        if not (out / "summary.json").exists() or config is not None:
            run_build(config, out)
        rows = read_ranking(out, by, n)
        if json_out:
            print_json({"by": by, "n": len(rows), "source": str(out), "top": rows})
            return
        for r in rows:
            name = r.get(by) or r.get("cell") or r.get("camera")
            console.print(
                f"{r['rank']:>4}  {r['score']:6.2f}  {name}  {'; '.join(r.get('reasons', []))}",
                highlight=False,
            )

