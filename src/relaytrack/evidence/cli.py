"""CLI: users, cases and the audit chain."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from relaytrack.clikit import DbOpt, JsonFlag, open_store
from relaytrack.evidence import access as acc
from relaytrack.evidence import audit
from relaytrack.ui import console, print_json

audit_app = typer.Typer(help="Audit log: verify the hash chain, export a case's entries.", no_args_is_help=True)
users_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases (case number, legal basis, purpose) and their members.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(db: DbOpt = None, json_out: JsonFlag = False) -> None:
    """Check the audit chain; exit 0 when whole, 1 naming the first bad entry otherwise."""
    with open_store(db, readonly=True) as store:
        res = audit.verify(store.conn, store.path)
    if json_out:
        print_json({"ok": res.ok, "entries": res.entries, "problem": res.problem, "bad_seq": res.bad_seq})
    elif res.ok:
        console.print(f"audit chain whole: {res.entries} entries")
    else:
        console.print(f"[red]audit chain broken[/red] at entry {res.bad_seq}: {res.problem}")
    if not res.ok:
        sys.exit(1)


@users_app.command("add")
def users_add(name: str, role: Annotated[str, typer.Option(help=f"One of: {', '.join(acc.ROLES)}")],
              agency: Annotated[str | None, typer.Option()] = None, db: DbOpt = None) -> None:
    """Create or update a user."""
    with open_store(db) as store, store.tx() as conn:
        acc.create_user(conn, name, role, agency=agency)
        audit.append(conn, store.path, user=None, case=None, action="user_admin", detail={"user": name, "role": role})
    console.print(f"user {name} ({role})")


@cases_app.command("add")
def cases_add(case_no: str, legal_basis: Annotated[str, typer.Option("--basis")],
              purpose: Annotated[str, typer.Option()], member: Annotated[list[str], typer.Option()] = [],
              db: DbOpt = None) -> None:
    """Open a case and assign its members."""
    with open_store(db) as store, store.tx() as conn:
        acc.create_case(conn, case_no, legal_basis=legal_basis, purpose=purpose, members=member)
        audit.append(conn, store.path, user=None, case=case_no, action="case_admin", detail={"members": member})
    console.print(f"case {case_no}")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(users_app, name="users")
    app.add_typer(cases_app, name="cases")
