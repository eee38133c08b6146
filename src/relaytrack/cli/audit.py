"""CLI: `relaytrack audit verify|export|head` (the hash-chained audit log and its signed witnesses)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import CaseOpt, DbOpt, JsonFlag, UserOpt, open_store
from relaytrack.errors import InputError
from relaytrack.evidence import access as acc
from relaytrack.evidence import audit, witness
from relaytrack.ui import console, print_json

audit_app = typer.Typer(
    help="Audit log: verify the hash chain (against signed witnesses), export a case's entries, hand out the "
    "signed head.",
    no_args_is_help=True,
)


@audit_app.command("verify")
def audit_verify(
    db: DbOpt = None,
    witness_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--witness",
            help="A signed chain head held elsewhere (JSON/JSONL head file, witness folder or evidence package); "
            "repeatable",
        ),
    ] = None,
    no_key: Annotated[
        bool,
        typer.Option(
            "--no-key", help="Accept checking without the audit key (plain hash chain and witnesses)"
        ),
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Check the audit chain; exit 0 when whole, 1 naming the first bad entry otherwise. Without the audit key
    the MACs and the anchor cannot be checked, so that is a failure unless --no-key says it is expected."""
    with open_store(db, readonly=True) as store:
        res = audit.verify(store.conn, store.path, witnesses=list(witness_files or []))
    failed = not res.ok or (not res.keyed and not no_key)
    if res.ok and not res.keyed and not no_key:
        res.problem = f"{res.warning}; pass --no-key to accept a check without the key"
    if json_out:
        print_json({**res.__dict__, "ok": not failed})
    elif not failed:
        console.print(
            f"audit chain whole: {res.entries} entries"
            + (" (MACs checked)" if res.keyed else " (no key: MACs not checked)")
            + (f", {res.witnessed} witness head(s) agree" if res.witnessed else "")
        )
    else:
        where = f" at entry {res.bad_seq}" if res.bad_seq is not None else ""
        console.print(f"[red]audit chain NOT verified[/red]{where}: {res.problem}", highlight=False)
    if res.warning and not json_out and res.ok and no_key:
        console.print(f"[yellow]warning:[/yellow] {res.warning}")
    if failed:
        sys.exit(1)


@audit_app.command("head")
def audit_head(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the signed head here (else stdout)")
    ] = None,
    db: DbOpt = None,
) -> None:
    """The chain's current head, signed with the evidence key: hand it to a party outside this host; later
    `audit verify --witness FILE` proves no entry up to it was removed or changed."""
    with open_store(db, readonly=True) as store:
        head = witness.current_head(store.conn)
    if head is None:
        raise InputError("the audit log is empty: no head to sign yet")
    text = head.to_json() + "\n"
    if out:
        out.write_text(text)
        console.print(f"head {head.seq} of store {head.store} -> {out}")
    else:
        sys.stdout.write(text)


def _summary(e: dict) -> str:
    from relaytrack.i18n import lang, tr

    who, case, what = e.get("user") or "-", e.get("case") or "-", tr(str(e.get("action")))
    if e.get("host_account"):  # the claimed user and the OS account that actually ran the command
        who = f"{who} [{e['host_account']}]"
    n = len(e.get("result_ids") or [])
    if lang() == "ko":
        res = f", 결과 {n}건" if n else ""
        bad = {"denied": " (거부됨)", "error": " (오류)"}.get(str(e.get("outcome")), "")
        return f"{e.get('time')} {who}: 사건 {case}에서 {what}{res}{bad}"
    res = f", {n} results" if n else ""
    return f"{e.get('time')} {who}: {what} on case {case}{res} ({e.get('outcome')})"


@audit_app.command("export")
def audit_export(
    case: CaseOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSON file")] = None,
    user: UserOpt = None,
    db: DbOpt = None,
) -> None:
    """A case's audit entries as JSON (a supervisor for any case; an auditor, agency user or investigator for
    a case they are assigned to)."""
    u, c = acc.identity(user, case)
    with open_store(db) as store:
        role = store.one("SELECT role FROM users WHERE name=?", (u,)) if u else None
        if role is not None and role[0] in ("auditor", "supervisor", "agency"):
            ctx = acc.authorize_audit(store.conn, store.path, user=u, case=c, detail={"audit_export": c})
        else:
            ctx = acc.authorize(
                store.conn, store.path, user=u, case=c, action="view", detail={"audit_export": c}
            )
        if not c:
            raise InputError("audit export needs --case")
        entries = audit.export_case(store.conn, c)
        chain = audit.verify(store.conn, store.path)
        ctx.log(action="audit_export", detail={"entries": len(entries), "out": str(out) if out else None})
    doc = {
        "case": c,
        "exported_by": u,
        "chain_ok": chain.ok,
        "chain_problem": chain.problem,
        # `time` is Seoul time (ISO 8601, +09:00); `summary` says who did what on which case in the
        # chosen language (--lang), for the auditor who reads the file
        "entries": [{**e, "summary": _summary(e)} for e in entries],
    }
    if out:
        out.write_text(json.dumps(doc, ensure_ascii=False, indent=1))
        console.print(f"{len(entries)} entries of case {c} -> {out}")
    else:
        print_json(doc)
