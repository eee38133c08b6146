"""CLI: `relaytrack pursue --from SIGHTING --cameras cameras.yaml` (+ confirm/reject of a hand-off, the case's
pursuits with their live state, and stopping one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import CaseOpt, ConfigOpt, DbOpt, JsonFlag, UserOpt, access, open_store
from relaytrack.errors import InputError
from relaytrack.ui import console, print_json

pursue_app = typer.Typer(
    help="Live pursuit: follow a suspect across live cameras while they move.", invoke_without_command=True
)


@pursue_app.callback()
def pursue_cmd(
    ctx: typer.Context,
    from_: Annotated[int | None, typer.Option("--from", help="Confirmed sighting id to start from")] = None,
    cameras: Annotated[
        Path | None, typer.Option("--cameras", help="Camera file (YAML): `source` files or `stream_url`s")
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write one JSON event per line here")
    ] = None,
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Play files at their real pace, all cameras starting together")
    ] = False,
    until_lost: Annotated[
        float,
        typer.Option("--until-lost", help="Seconds without a sighting before the suspect is lost", min=1),
    ] = 120.0,
    budget: Annotated[
        float,
        typer.Option("--budget", help="Analysed frames per second across all streams", min=0.5, max=500),
    ] = 8.0,
    floor: Annotated[float, typer.Option("--floor", help="Analysed fps every camera keeps", min=0.0)] = 0.25,
    db: DbOpt = None,
    config: ConfigOpt = None,
    user: UserOpt = None,
    case: CaseOpt = None,
) -> None:
    """Follow a suspect live: predictions with ETA windows, hand-offs, lost, ended (one JSON line each)."""
    if ctx.invoked_subcommand is not None:
        return
    if from_ is None:
        raise InputError("pursue needs --from SIGHTING (or a subcommand: confirm, reject)")
    if cameras is None:
        raise InputError("pursue needs --cameras cameras.yaml (the cameras' files or streams)")
    from dataclasses import replace

    from relaytrack.cli.common import cli_config
    from relaytrack.evidence.access import identity
    from relaytrack.pursue.budget import BudgetConfig
    from relaytrack.pursue.run import PursuitConfig
    from relaytrack.pursue.service import run_pursuit
    from relaytrack.watch.service import sources_from_network

    sources_from_network(cameras)  # a file naming no stream: a one-line error before anything starts
    pcfg = replace(PursuitConfig(), until_lost_s=until_lost,
                   budget=BudgetConfig(total_fps=budget, floor_fps=floor))  # fmt: skip
    with open_store(db, readonly=True) as store:  # a mistyped --db must not create an empty store
        acx = access(store, user, case, "relay", detail={"pursue_from": from_, "cameras": str(cameras)})
        from relaytrack.evidence.access import authorize_sightings

        # Unknown or another case's sighting: one line (logged), before the models load.
        authorize_sightings(acx, [from_])

        def show(ev) -> None:
            d = ev.to_dict()
            if ev.type == "prediction":
                top = ", ".join(f"{c['camera']} {c['p']:.2f}" for c in d["cameras"][:3])
                console.print(f"{d['time']}  prediction from #{d['from']}: {top}", highlight=False)
            elif ev.type == "handoff":
                console.print(f"{d['time']}  [bold]hand-off[/bold] {d['status']} #{d['sighting']} on {d['camera']}"
                              f" conf {d['confidence']:.2f}: {'; '.join(d['reasons'][:4])}", highlight=False)  # fmt: skip
            else:
                console.print(f"{d['time']}  {ev.type} {d.get('camera') or ''} "
                              f"{d.get('reason') or d.get('message') or ''}", highlight=False)  # fmt: skip

        res = run_pursuit(store, from_, cameras, cfg=cli_config(config), pcfg=pcfg, json_path=json_file,
                          realtime=realtime, user=acx.user, case=identity(user, case)[1], on_event=show)  # fmt: skip
        with store.tx():
            acx.log(detail={"pursuit": res.pursuit_id, "state": res.state, "events": len(res.events)},
                    result_ids=sorted({e.data["sighting"] for e in res.events if e.type == "handoff"}))  # fmt: skip
    console.print(
        f"pursuit {res.pursuit_id}: {res.state}; {sum(res.analysed.values())} frames analysed "
        f"({res.analysed_fps:.1f}/s of footage, budget {budget:g}/s) in {res.wall_s:.1f} s"
        + (f"; events: {json_file}" if json_file else "")
    )


def _same_case(acx, pursuit: int, case_no: str | None) -> None:
    """Another case's pursuit is not steered from this one: refused, and the refusal is audited."""
    from relaytrack.errors import AccessDenied

    if case_no != acx.case:
        acx.log(outcome="denied", detail={"reason": f"pursuit {pursuit} belongs to another case"})
        raise AccessDenied(f"relay refused: pursuit {pursuit} belongs to another case")


def _verdict(verdict: str, pursuit: int, sighting: int, db, user, case, json_out: bool) -> None:
    from relaytrack.pursue.events import record_verdict

    with open_store(db, readonly=True) as store:
        acx = access(store, user, case, "relay", detail={"pursuit": pursuit, "verdict": verdict})
        from relaytrack.evidence.access import authorize_sightings

        row = store.one("SELECT case_no FROM pursuits WHERE id=?", (pursuit,))
        if row is not None:
            _same_case(acx, pursuit, row[0])
        authorize_sightings(acx, [sighting])
        with store.tx() as conn:
            vid = record_verdict(conn, pursuit, sighting, verdict, acx.user)
            acx.log(detail={"pursuit": pursuit, "verdict": verdict}, result_ids=[sighting])
    if json_out:
        print_json({"pursuit": pursuit, "sighting": sighting, "verdict": verdict, "id": vid})
    else:
        console.print(f"{verdict}ed #{sighting} for pursuit {pursuit}; the running pursuit applies it")


@pursue_app.command("confirm")
def pursue_confirm(
    pursuit: Annotated[int, typer.Argument(help="Pursuit id (printed when it ends, stored in the events)")],
    sighting: Annotated[int, typer.Argument(help="The hand-off's sighting id")],
    db: DbOpt = None,
    user: UserOpt = None,
    case: CaseOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Confirm an offered hand-off: the pursuit continues from it."""
    _verdict("confirm", pursuit, sighting, db, user, case, json_out)


@pursue_app.command("reject")
def pursue_reject(
    pursuit: Annotated[int, typer.Argument(help="Pursuit id")],
    sighting: Annotated[int, typer.Argument(help="The hand-off's sighting id")],
    db: DbOpt = None,
    user: UserOpt = None,
    case: CaseOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Reject a hand-off: the pursuit continues from the sighting before it."""
    _verdict("reject", pursuit, sighting, db, user, case, json_out)


@pursue_app.command("list")
def pursue_list(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="Newest pursuits shown")] = 20,
    db: DbOpt = None,
    user: UserOpt = None,
    case: CaseOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """The case's pursuits, newest first; a running one whose process died (no heartbeat) shows as stale."""
    from relaytrack.clock import to_seoul_iso
    from relaytrack.evidence.access import authorize_sightings
    from relaytrack.i18n import tr
    from relaytrack.pursue.control import case_pursuits

    with open_store(db, readonly=True) as store:
        acx = access(store, user, case, "relay", detail={"command": "pursue list"})
        rows = case_pursuits(store.conn, acx.case, limit)
        # Origins another case holds are left out, as the console's list leaves them out (the one gate).
        hidden = set(authorize_sightings(acx, [r.origin for r in rows], partial=True, record=False).withheld)
        rows = [r for r in rows if r.origin not in hidden]
        with store.tx():
            acx.log(
                detail={"command": "pursue list", "pursuits": len(rows)}, result_ids=[r.origin for r in rows]
            )
    if json_out:
        print_json([{"id": r.id, "case": r.case, "user": r.user, "origin": r.origin, "status": r.status,
                     "stored_status": r.stored_status, "started": to_seoul_iso(r.created_at),
                     "heartbeat_age_s": round(r.silent_s, 1), "stop_by": r.stop_by} for r in rows])  # fmt: skip
        return
    if not rows:
        console.print("no pursuits in this case")
    for r in rows:
        stale = f"stale (no heartbeat for {int(r.silent_s)} s: its process is gone)"
        state = tr(stale if r.status == "stale" else r.status)
        console.print(f"#{r.id}  {to_seoul_iso(r.created_at)}  {r.user or '-'}  from #{r.origin}  {state}"
                      + (f"  stop asked by {r.stop_by}" if r.stop_by and r.running else ""), highlight=False)  # fmt: skip


@pursue_app.command("stop")
def pursue_stop(
    pursuit: Annotated[int, typer.Argument(help="Pursuit id")],
    db: DbOpt = None,
    user: UserOpt = None,
    case: CaseOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Stop a running pursuit (wherever it runs): it ends at its next heartbeat, naming who stopped it."""
    from relaytrack.errors import InputError
    from relaytrack.evidence.access import authorize_sightings
    from relaytrack.pursue.control import read_pursuit, request_stop

    with open_store(db, readonly=True) as store:
        acx = access(store, user, case, "relay", detail={"pursuit": pursuit, "stop": True})
        r = read_pursuit(store.conn, pursuit)
        if r is None:
            raise InputError(f"pursuit {pursuit} not found")
        _same_case(acx, pursuit, r.case)
        authorize_sightings(acx, [r.origin])
        if not r.running:
            raise InputError(f"pursuit {pursuit} is {r.status}: only a running pursuit can be stopped")
        with store.tx() as conn:
            if not request_stop(conn, pursuit, acx.user):
                raise InputError(f"pursuit {pursuit} is already being stopped (asked by {r.stop_by or '?'})")
            acx.log(detail={"pursuit": pursuit, "stop": True}, result_ids=[r.origin])
    if json_out:
        print_json({"pursuit": pursuit, "stop_by": acx.user})
    else:
        console.print(f"asked pursuit {pursuit} to stop; it ends at its next heartbeat (within 5 s)")


def register(app: typer.Typer) -> None:
    app.add_typer(pursue_app, name="pursue")
