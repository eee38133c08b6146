"""Option types and helpers shared by every stage's CLI module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.evidence.access import AccessContext, authorize, identity
from relaytrack.store import Store

DbOpt = Annotated[Path | None, typer.Option("--db", help="Store file (default: .relaytrack/relaytrack.db)")]
UserOpt = Annotated[str | None, typer.Option("--user", help="Acting user (or RELAYTRACK_USER)")]
CaseOpt = Annotated[
    str | None, typer.Option("--case", help="Case number the action is for (or RELAYTRACK_CASE)")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]


def open_store(db: Path | None, *, readonly: bool = False) -> Store:
    return Store(db, readonly=readonly)


def access(
    store: Store, user: str | None, case: str | None, action: str, detail: dict | None = None
) -> AccessContext:
    u, c = identity(user, case)
    return authorize(store.conn, store.path, user=u, case=c, action=action, detail=detail)
