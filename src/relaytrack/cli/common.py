"""Option types and helpers shared by the command modules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.config import Config, load_config
from relaytrack.evidence.access import AccessContext, authorize, identity
from relaytrack.store import Store
from relaytrack.ui import progress

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store: a SQLite file or postgresql://USER@HOST[:PORT]/DB (default: RELAYTRACK_DB or"
        " .relaytrack/relaytrack.db)",
    ),
]
UserOpt = Annotated[str | None, typer.Option("--user", help="Acting user (or RELAYTRACK_USER)")]
CaseOpt = Annotated[
    str | None, typer.Option("--case", help="Case number the action is for (or RELAYTRACK_CASE)")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]
# `--json` alone prints JSON; `--json F` writes it to file F. Click cannot say "optional value", so the entry
# point gives a bare `--json` of these commands the value "-" (`optional_json_value`).
JsonOutOpt = Annotated[
    str | None, typer.Option("--json", help="`--json` prints JSON; `--json F` writes it to file F")
]
OPTIONAL_JSON_COMMANDS = (("bench", "relay"), ("bench", "search"))


def optional_json_value(argv: list[str]) -> list[str]:
    """argv with "-" after a bare `--json` of the commands in OPTIONAL_JSON_COMMANDS."""
    if not any(tuple(argv[i : i + 2]) in OPTIONAL_JSON_COMMANDS for i in range(len(argv))):
        return argv
    out = list(argv)
    for i, a in enumerate(out):
        if a == "--json" and (i + 1 == len(out) or out[i + 1].startswith("-")):
            out.insert(i + 1, "-")
            break
    return out
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="YAML config overriding the embedded defaults")
]


def open_store(db: str | Path | None, *, readonly: bool = False) -> Store:
    return Store(db, readonly=readonly)


def access(
    store: Store, user: str | None, case: str | None, action: str, detail: dict | None = None
) -> AccessContext:
    u, c = identity(user, case)
    return authorize(store.conn, store.path, user=u, case=c, action=action, detail=detail)


def log_maintenance(store: Store, user: str | None, action: str, detail: dict) -> None:
    """Audit a store-wide maintenance action that belongs to no case (merge, reid train/apply)."""
    from relaytrack.evidence.audit import append

    u, _ = identity(user, None)
    append(store.conn, store.path, user=u, case=None, action=action, detail=detail)


def emit_json(res: dict, json_out: str | None, out: Path | None, report: Callable[[dict], None]) -> None:
    """For JsonOutOpt commands: `--json` prints JSON, `--json F` writes it to F and prints the report;
    `--out F` also writes."""
    import json

    from relaytrack.ui import print_json

    for dest in (out, Path(json_out) if json_out and json_out != "-" else None):
        if dest is not None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if json_out == "-":
        print_json(res)
    else:
        report(res)


def cli_config(path: Path | None, fps: float | None = None, start: str | None = None) -> Config:
    """The pipeline config from --config with --fps / --start on top."""
    overrides = {}
    if fps is not None:
        overrides["source.analyse_fps"] = fps
    if start is not None:
        overrides["source.start_time"] = start
    return load_config(path, overrides)


def progress_callback(label: str):
    """A progress bar and a `cb(done, total, msg)` that drives one task on it (created on the first call)."""
    bar = progress()
    task = {"id": None}

    def cb(done: int, total: int, _msg: str) -> None:
        if task["id"] is None:
            task["id"] = bar.add_task(label, total=total)
        bar.update(task["id"], completed=done, total=total)

    return bar, cb
