"""CLI: users, tokens, cases, the audit chain, evidence export/verify, agency requests, retention."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.admin import require_admin
from relaytrack.cli.audit import audit_app
from relaytrack.cli.common import CaseOpt, DbOpt, JsonFlag, UserOpt, open_store
from relaytrack.errors import AccessDenied, InputError
from relaytrack.evidence import access as acc
from relaytrack.evidence import audit, auth
from relaytrack.evidence import requests as rq
from relaytrack.i18n import t, tr
from relaytrack.ui import console, print_json, progress

users_app = typer.Typer(help="Users, roles, passwords and API tokens.", no_args_is_help=True)
cases_app = typer.Typer(
    help="Cases (case number, legal basis, purpose) and their members.", no_args_is_help=True
)
evidence_app = typer.Typer(help="Masked, signed evidence packages: export and verify.", no_args_is_help=True)
requests_app = typer.Typer(
    help="Agency requests for footage: add, approve/refuse, deliver, outcome, statistics.",
    no_args_is_help=True,
)
retention_app = typer.Typer(help="Retention of footage-derived data.", no_args_is_help=True)


def _ids(value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError as err:
        raise InputError(f"ids {value!r}: give numbers separated by commas") from err


@contextmanager
def _admin_tx(store, what: str):
    """A write transaction for an administration command, after `require_admin` (see cli/admin.py)."""
    require_admin(store, what)
    with store.tx() as conn:
        yield conn


def _password(stdin: bool, env: str | None) -> str | None:
    import os

    if env:
        val = os.environ.get(env)
        if val is None:
            raise InputError(f"environment variable {env} is not set")
        return val
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return None


# ---- users and cases -----------------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(acc.ROLES)}")],
    agency: Annotated[str | None, typer.Option()] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read a password")] = False,
    password_env: Annotated[str | None, typer.Option(help="Take the password from this env var")] = None,
    db: DbOpt = None,
) -> None:
    """Create or update a user (optionally with a password, hashed with argon2id)."""
    pw = _password(password_stdin, password_env)
    with open_store(db) as store:
        adm = require_admin(store, "users add")
        with store.tx() as conn:
            acc.create_user(conn, name, role, agency=agency)
            if pw is not None:
                auth.set_password(conn, name, pw)
            audit.append(
                conn,
                store.path,
                user=adm.actor,
                case=None,
                action="user_admin",
                detail={"user": name, "role": role, "host_account": adm.host_account, "via": adm.via},
            )
    console.print(f"user {name} ({role})")


@users_app.command("passwd")
def users_passwd(
    name: str, password_env: Annotated[str | None, typer.Option()] = None, db: DbOpt = None
) -> None:
    """Set a user's password (read from stdin, or from --password-env VAR)."""
    pw = _password(True, password_env)
    with open_store(db) as store:
        require_admin(store, "users passwd")
        with store.tx() as conn:
            auth.set_password(conn, name, pw)
    console.print(f"password of {name} set")


@users_app.command("token")
def users_token(
    name: str,
    hours: Annotated[float, typer.Option(help="Lifetime")] = auth.DEFAULT_TOKEN_HOURS,
    label: Annotated[str, typer.Option()] = "cli",
    db: DbOpt = None,
) -> None:
    """Issue an API token for a user (printed once; stored only hashed)."""
    with open_store(db) as store:
        adm = require_admin(store, "users token")
        with store.tx() as conn:
            token = auth.issue_token(conn, name, hours=hours, label=f"{label} by {adm.actor}")
    sys.stdout.write(token + "\n")


@users_app.command("revoke-token")
def users_revoke(
    token_id: Annotated[int | None, typer.Argument()] = None,
    all_of: Annotated[str | None, typer.Option("--all-of", help="Revoke every token of a user")] = None,
    db: DbOpt = None,
) -> None:
    """Revoke one token by id, or all tokens of a user."""
    with open_store(db) as store, _admin_tx(store, "users revoke-token") as conn:
        if all_of:
            n = auth.revoke_user_tokens(conn, all_of)
            console.print(f"{n} token(s) of {all_of} revoked")
        elif token_id is not None:
            auth.revoke_token(conn, token_id)
            console.print(f"token {token_id} revoked")
        else:
            raise InputError("give a token id or --all-of USER")


@users_app.command("list")
def users_list(db: DbOpt = None, json_out: JsonFlag = False) -> None:
    """Every user: role, agency, whether active, live API tokens, when created (administrators only, as the
    other user commands; the listing is audited)."""
    import time

    from relaytrack.clock import to_seoul_iso

    with open_store(db, readonly=True) as store:
        adm = require_admin(store, "users list")
        rows = store.conn.execute(
            "SELECT u.name, u.role, u.agency, u.active, u.created_at,"
            " (SELECT COUNT(*) FROM api_tokens t WHERE t.user_name = u.name AND t.revoked_at IS NULL"
            " AND t.expires_at > ?) FROM users u ORDER BY u.name",
            (time.time(),),
        ).fetchall()
        out = [
            {
                "name": r[0],
                "role": r[1],
                "agency": r[2],
                "active": bool(r[3]),
                "tokens": int(r[5]),
                "created_time": to_seoul_iso(float(r[4])) if r[4] is not None else None,
            }
            for r in rows
        ]
        _log_listing(store, adm, "user_admin", len(out))
    if json_out:
        print_json(out)
        return
    _table(
        ("col_user", "col_role", "col_agency", "col_active", "col_tokens", "col_created"),
        [
            (u["name"], tr(u["role"]), u["agency"] or "", t("yes" if u["active"] else "no"), str(u["tokens"]),
             (u["created_time"] or "")[:19].replace("T", " "))
            for u in out
        ],
    )  # fmt: skip


def _log_listing(store, adm, action: str, listed: int) -> None:
    """An administrator's listing of users or cases is audited like any other administration."""
    with store.tx() as conn:
        audit.append(
            conn,
            store.path,
            user=adm.actor,
            case=None,
            action=action,
            detail={"listed": listed, "host_account": adm.host_account, "via": adm.via},
        )


@cases_app.command("list")
def cases_list(db: DbOpt = None, json_out: JsonFlag = False) -> None:
    """Every case: legal basis, purpose, status, legal hold, members (administrators only, as the other case
    commands; the listing is audited)."""
    from relaytrack.clock import to_seoul_iso

    with open_store(db, readonly=True) as store:
        adm = require_admin(store, "cases list")
        rows = store.conn.execute(
            "SELECT case_no, legal_basis, purpose, status, legal_hold, created_at FROM cases ORDER BY case_no"
        ).fetchall()
        members: dict[str, list[str]] = {}
        for c, u in store.conn.execute(
            "SELECT case_no, user_name FROM case_members ORDER BY case_no, user_name"
        ):
            members.setdefault(str(c), []).append(str(u))
        out = [
            {
                "case_no": r[0],
                "legal_basis": r[1],
                "purpose": r[2],
                "status": r[3],
                "legal_hold": bool(r[4]),
                "members": members.get(str(r[0]), []),
                "created_time": to_seoul_iso(float(r[5])) if r[5] is not None else None,
            }
            for r in rows
        ]
        _log_listing(store, adm, "case_admin", len(out))
    if json_out:
        print_json(out)
        return
    _table(
        ("col_case", "col_basis", "col_purpose", "col_status", "col_hold", "col_members"),
        [
            (c["case_no"], c["legal_basis"], c["purpose"], tr(c["status"]), t("yes" if c["legal_hold"] else "no"),
             ", ".join(c["members"]))
            for c in out
        ],
    )  # fmt: skip


def _table(heads: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    from rich.table import Table

    table = Table(*(t(h) for h in heads))
    for r in rows:
        table.add_row(*r)
    console.print(table)


@cases_app.command("add")
def cases_add(
    case_no: str,
    legal_basis: Annotated[str, typer.Option("--basis")],
    purpose: Annotated[str, typer.Option()],
    member: Annotated[list[str] | None, typer.Option()] = None,
    db: DbOpt = None,
) -> None:
    """Open a case and assign its members."""
    with open_store(db) as store, _admin_tx(store, "cases add") as conn:
        acc.create_case(conn, case_no, legal_basis=legal_basis, purpose=purpose, members=member or [])
        audit.append(
            conn, store.path, user=None, case=case_no, action="case_admin", detail={"members": member or []}
        )
    console.print(f"case {case_no}")


@cases_app.command("assign")
def cases_assign(case_no: str, user_name: str, db: DbOpt = None) -> None:
    """Assign a user to a case."""
    with open_store(db) as store, _admin_tx(store, "cases assign") as conn:
        acc.assign(conn, case_no, user_name)
        audit.append(
            conn, store.path, user=None, case=case_no, action="case_admin", detail={"assign": user_name}
        )
    console.print(f"{user_name} assigned to {case_no}")


@cases_app.command("close")
def cases_close(
    case_no: str,
    release_hold: Annotated[bool, typer.Option(help="Also lift the legal hold")] = False,
    db: DbOpt = None,
) -> None:
    """Close a case (no more searches or exports on it); --release-hold lets retention purge its data."""
    with open_store(db) as store, _admin_tx(store, "cases close") as conn:
        acc.set_case_status(conn, case_no, status="closed", legal_hold=False if release_hold else None)
        audit.append(
            conn,
            store.path,
            user=None,
            case=case_no,
            action="case_admin",
            detail={"closed": True, "hold_released": release_hold},
        )
    console.print(f"case {case_no} closed")


# ---- evidence ------------------------------------------------------------------------------------------------


@evidence_app.command("export")
def evidence_export(
    out: Annotated[Path, typer.Option("--out", help="Package folder to create (must not exist or be empty)")],
    route: Annotated[Path | None, typer.Option("--route", help="route.json from the relay stage")] = None,
    sightings: Annotated[
        str | None, typer.Option("--sightings", help="Sighting ids, comma separated")
    ] = None,
    alert: Annotated[int | None, typer.Option("--alert", help="An alert id of the watch stage")] = None,
    pre_roll: Annotated[float, typer.Option("--pre", help="Seconds before each hop")] = 2.0,
    post_roll: Annotated[float, typer.Option("--post", help="Seconds after each hop")] = 2.0,
    method: Annotated[str, typer.Option("--mask", help="pixelate | blur")] = "pixelate",
    detect: Annotated[
        bool, typer.Option("--detect/--no-detect", help="Fresh detection pass for masking")
    ] = True,
    faces: Annotated[bool, typer.Option("--faces/--no-faces", help="BlazeFace face masking")] = True,
    user: UserOpt = None,
    case: CaseOpt = None,
    db: DbOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Export masked clips of a route, sightings or an alert as a signed evidence package."""
    from relaytrack.evidence.export import export_evidence
    from relaytrack.evidence.hops import check_source, select_hops
    from relaytrack.evidence.mask import MaskSettings
    from relaytrack.relay.persist import read_route_json

    names = {"route": "--route", "sightings": "--sightings", "alert": "--alert"}
    check_source(names, route=route, sightings=sightings, alert=alert)
    u, c = acc.identity(user, case)
    with open_store(db) as store:
        acc.authorize(
            store.conn, store.path, user=u, case=c, action="export"
        )  # refuse before reading anything
        doc = read_route_json(route) if route is not None else None
        ids = _ids(sightings) if sightings is not None else None
        hops = select_hops(store.conn, route=doc, sightings=ids, alert=alert, names=names)
        with progress() as bar:
            task = bar.add_task("export", total=None)
            res = export_evidence(
                store,
                out,
                hops,
                user=u,
                case=c,
                pre_roll=pre_roll,
                post_roll=post_roll,
                settings=MaskSettings(method=method, detect=detect, faces=faces),
                progress=lambda n: bar.advance(task, n),
            )
    if json_out:
        print_json(res.as_dict())
    else:
        frames = sum(h.frames for h in res.hops)
        console.print(
            f"package {res.path}: {len(res.hops)} hop(s), {frames} frames, "
            f"{sum(h.masked_regions for h in res.hops)} masked regions, "
            f"{sum(h.faces for h in res.hops)} faces; manifest sha256 {res.manifest_sha256}"
        )
        for i, h in enumerate(res.hops, start=1):
            # The target's unaltered share (issue 18 finding 7), and where its box is unknown (masked with all).
            if h.sighting is not None:
                console.print(
                    f"  hop {i} {h.camera}: target box unaltered mean {h.target_visible_mean}, min "
                    f"{h.target_visible_min}, {h.target_frames_below_half} frame(s) below 0.5; box unknown in "
                    f"{h.target_unknown_frames} of {h.frames} frames (everybody masked there, the target too)"
                )


@evidence_app.command("verify")
def evidence_verify(
    package: Path,
    key: Annotated[Path | None, typer.Option("--key", help="Trusted public key of the sender (PEM)")] = None,
    untrusted: Annotated[
        bool,
        typer.Option(
            "--untrusted", help="Accept a signer no trusted key vouches for (checks consistency only)"
        ),
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Check a package: signature, signer, and every file against the manifest. Exit 1 when anything differs
    or when the signer is not a trusted key (--key, this installation's key or the trust store)."""
    from relaytrack.evidence.package import verify_package

    if key is not None and untrusted:
        raise InputError("give --key FILE or --untrusted, not both")
    res = verify_package(package, key, untrusted=untrusted)
    if json_out:
        print_json(res.as_dict())
    elif res.ok:
        console.print(f"package {package} verified: {res.files} files, case {res.case}, key {res.key_id}")
    else:
        console.print(f"[red]package {package} does NOT verify[/red]:")
        for p in res.problems:
            console.print(f"  - {p}", highlight=False)
    for w in res.warnings if not json_out else []:
        console.print(f"[yellow]warning:[/yellow] {w}")
    if not res.ok:
        sys.exit(1)


# ---- agency requests -----------------------------------------------------------------------------------------


@requests_app.command("add")
def requests_add(
    agency: Annotated[str, typer.Option(help="police | fire | prosecution | ...")],
    purpose: Annotated[str, typer.Option()],
    cameras: Annotated[str, typer.Option(help="Camera ids, comma separated")],
    start: Annotated[str, typer.Option(help="ISO time (KST when no zone) or epoch seconds")],
    end: Annotated[str, typer.Option()],
    drug: Annotated[bool, typer.Option("--drug/--no-drug", help="Drug-related monitoring")] = False,
    user: UserOpt = None,
    case: CaseOpt = None,
    db: DbOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """File an agency request for footage (waits for a supervisor's decision)."""
    u, c = acc.identity(user, case)
    with open_store(db) as store:
        rid = rq.add(
            store.conn,
            store.path,
            user=u,
            case=c,
            agency=agency,
            purpose=purpose,
            cameras=[x.strip() for x in cameras.split(",") if x.strip()],
            start=start,
            end=end,
            drug_related=drug,
        )
    print_json({"request": rid, "status": "requested"}) if json_out else console.print(f"request {rid} filed")


@requests_app.command("approve")
def requests_approve(
    request_id: int, note: Annotated[str, typer.Option()] = "", user: UserOpt = None, db: DbOpt = None
) -> None:
    """Approve a request (supervisor, not the requester)."""
    u, _ = acc.identity(user, None)
    with open_store(db) as store:
        rq.approve(store.conn, store.path, request_id, user=u, note=note)
    console.print(f"request {request_id} approved")


@requests_app.command("refuse")
def requests_refuse(
    request_id: int, reason: Annotated[str, typer.Option()], user: UserOpt = None, db: DbOpt = None
) -> None:
    """Refuse a request with a reason (supervisor)."""
    u, _ = acc.identity(user, None)
    with open_store(db) as store:
        rq.refuse(store.conn, store.path, request_id, user=u, reason=reason)
    console.print(f"request {request_id} refused")


@requests_app.command("deliver")
def requests_deliver(
    request_id: int,
    package: Annotated[
        Path | None, typer.Option(help="An existing package to deliver (verified first)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Build the package here from the request's cameras/time")
    ] = None,
    targets: Annotated[
        str | None, typer.Option(help="Target sighting ids (else everybody is masked)")
    ] = None,
    user: UserOpt = None,
    db: DbOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Deliver an approved request: export (or take) a signed package and record the delivery."""
    from relaytrack.evidence.export import export_evidence
    from relaytrack.evidence.hops import select_hops

    if (package is None) == (out is None):
        raise InputError("give exactly one of --package or --out")
    u, _ = acc.identity(user, None)
    with open_store(db) as store:
        req = rq.get(store.conn, request_id)
        # The state is checked (and a refusal logged) by the exporter and by rq.deliver themselves.
        if out is not None:
            hops = select_hops(
                store.conn, request_id=request_id, sightings=_ids(targets) if targets else None
            )
            package = export_evidence(
                store, out, hops, user=u, case=req.case_no, request_id=request_id, pre_roll=0.0, post_roll=0.0
            ).path
        digest = rq.deliver(store.conn, store.path, request_id, user=u, package=package)
    if json_out:
        print_json(
            {"request": request_id, "status": "delivered", "package": str(package), "manifest_sha256": digest}
        )
    else:
        console.print(f"request {request_id} delivered: {package} (manifest sha256 {digest})")


@requests_app.command("outcome")
def requests_outcome(
    request_id: int,
    outcome: Annotated[str, typer.Option(help=" | ".join(rq.OUTCOMES))],
    note: Annotated[str, typer.Option()] = "",
    user: UserOpt = None,
    db: DbOpt = None,
) -> None:
    """Record what a request led to (e.g. arrest), reported later by the agency."""
    u, _ = acc.identity(user, None)
    with open_store(db) as store:
        rq.record_outcome(store.conn, store.path, request_id, user=u, outcome=outcome, note=note)
    console.print(f"request {request_id}: outcome {outcome}")


@requests_app.command("stats")
def requests_stats(
    month: Annotated[str | None, typer.Option(help="YYYY-MM (Korea time); all months when omitted")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write CSV here")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write an HTML report here")] = None,
    user: UserOpt = None,
    db: DbOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Requests and deliveries per month by agency, drug-related counts, outcomes (CSV and HTML)."""
    u, _ = acc.identity(user, None)
    with open_store(db) as store:
        ctx = acc.authorize(store.conn, store.path, user=u, case=None, action="stats")
        rows = rq.stats(store.conn, month)
        ctx.log(detail={"month": month, "rows": len(rows)})
    if csv_out:
        csv_out.write_text(rq.stats_csv(rows))
    if html_out:
        html_out.write_text(rq.stats_html(rows, f"CCTV footage requests {month or ''}".strip()))
    if json_out:
        print_json(rows)
    elif not csv_out and not html_out:
        sys.stdout.write(rq.stats_csv(rows))
    else:
        console.print(
            f"{len(rows)} rows"
            + (f" -> {csv_out}" if csv_out else "")
            + (f" -> {html_out}" if html_out else "")
        )


# ---- retention -----------------------------------------------------------------------------------------------


@retention_app.command("purge")
def retention_purge(
    days: Annotated[
        float | None, typer.Option(help="Retention period (default: configured, 30 days)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; delete nothing")] = False,
    user: UserOpt = None,
    db: DbOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Purge sightings, boxes, crops and embeddings older than the period unless a case holds them."""
    from relaytrack.evidence import retention

    u, _ = acc.identity(user, None)
    with open_store(db) as store:
        require_admin(store, "retention purge")  # the scheduled job runs as the store's owner account
        if u:  # a person purging needs the right too
            acc.authorize(store.conn, store.path, user=u, case=None, action="purge")
        res = retention.purge(store.conn, store.path, days=days, dry_run=dry_run, user=u)
    if json_out:
        print_json(res.as_dict())
    else:
        verb = "would purge" if dry_run else "purged"
        console.print(
            f"{verb} {res.sightings} sightings ({res.boxes} boxes, {res.thumbnails} crops, "
            f"{res.embeddings} embeddings) older than {res.days:g} days; {res.held} held by cases"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(users_app, name="users")
    app.add_typer(cases_app, name="cases")
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(requests_app, name="requests")
    app.add_typer(retention_app, name="retention")


__all__ = ["register", "AccessDenied"]
