"""CLI: `relaytrack cameras import|list|show|links`, `relaytrack relay` (+ confirm/reject)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import CaseOpt, DbOpt, JsonFlag, UserOpt, access, open_store
from relaytrack.errors import InputError
from relaytrack.i18n import lang, tr
from relaytrack.ui import console, console_err, print_json

cameras_app = typer.Typer(
    help="Camera network: cameras, links between them, travel times.", no_args_is_help=True
)
relay_app = typer.Typer(
    help="Follow a sighting camera to camera (relay) and record operator verdicts.",
    invoke_without_command=True,
)


@cameras_app.command("import")
def cameras_import(
    file: Annotated[
        Path, typer.Argument(help="Network file: .yaml (shared format), .csv (cameras or links), .geojson")
    ],
    db: DbOpt = None,
    infer: Annotated[
        bool, typer.Option("--infer/--no-infer", help="Infer missing links from the map")
    ] = True,
    neighbours: Annotated[int, typer.Option(help="Map links per camera (nearest first)", min=1, max=50)] = 6,
    walk_radius: Annotated[float, typer.Option(help="Farthest walking link, metres")] = 300.0,
    drive_radius: Annotated[float, typer.Option(help="Farthest driving link, metres")] = 1500.0,
    json_out: JsonFlag = False,
) -> None:
    """Import cameras (and links) in one transaction; a bad row names the file and row, nothing is stored."""
    from relaytrack.relay.network import import_network

    with open_store(db) as store:
        summary = import_network(
            store,
            file,
            infer=infer,
            neighbours=neighbours,
            radius_m={"walk": walk_radius, "drive": drive_radius},
        )
    if json_out:
        print_json(summary)
    else:
        console.print(
            f"{summary['cameras']} cameras, {summary['links_given']} links given, "
            f"{summary['links_inferred']} inferred from the map ({file})"
        )
        if summary["without_links"]:
            console.print(f"[yellow]no links:[/yellow] {', '.join(summary['without_links'][:20])}")
        for key, what in (("without_heading", "heading"), ("without_fov", "field of view")):
            if summary.get(key):
                console.print(
                    f"[yellow]no {what}:[/yellow] {', '.join(summary[key][:20])}"
                    + (
                        " (linked by distance; their links accept any edge)"
                        if key == "without_heading"
                        else ""
                    )
                )


@cameras_app.command("list")
def cameras_list(db: DbOpt = None, json_out: JsonFlag = False) -> None:
    """All cameras with position, owner, purpose and link count."""
    from relaytrack.relay.network import CAMERA_FIELDS

    with open_store(db, readonly=True) as store:
        rows = store.query(
            "SELECT c.*, (SELECT COUNT(*) FROM camera_links l WHERE l.src=c.id) AS n_links,"
            " (SELECT COUNT(*) FROM sightings s WHERE s.camera_id=c.id) AS n_sightings"
            " FROM cameras c ORDER BY c.id"
        )
    out = [
        {**{k: r[k] for k in CAMERA_FIELDS}, "links": r["n_links"], "sightings": r["n_sightings"]}
        for r in rows
    ]
    if json_out:
        print_json(out)
        return
    from rich.table import Table

    t = Table("id", "name", "lat", "lon", "heading", "district", "owner", "purpose", "links", "sightings")
    for r in out:
        t.add_row(
            r["id"],
            r["name"] or "",
            f"{r['lat']:.5f}" if r["lat"] is not None else "",
            f"{r['lon']:.5f}" if r["lon"] is not None else "",
            "" if r["heading_deg"] is None else f"{r['heading_deg']:.0f}",
            r["district"] or "",
            r["owner"] or "",
            r["purpose"] or "",
            str(r["links"]),
            str(r["sightings"]),
        )
    console.print(t)


@cameras_app.command("show")
def cameras_show(camera_id: str, db: DbOpt = None, json_out: JsonFlag = False) -> None:
    """One camera: fields, extra (start_time, source, zones), links in and out."""
    from relaytrack.relay.network import camera_info

    with open_store(db, readonly=True) as store:
        info = camera_info(store.conn, camera_id)
    if json_out:
        print_json(info)
        return
    for k, v in info.items():
        if k not in ("links_out", "links_in"):
            console.print(
                f"[bold]{k}[/bold]: {json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v}"
            )
    for name in ("links_out", "links_in"):
        console.print(f"[bold]{name}[/bold]:")
        for ln in info[name]:
            console.print(
                f"  {ln['src']} -{ln['exit_edge'] or 'any'}-> {ln['dst']} ({ln['entry_edge'] or 'any'}) "
                f"{ln['mode']} {ln['mean_s']}±{ln['std_s']} s [{ln['min_s']}, {ln['max_s']}] {ln['source']}"
                f" n={ln['n_obs']}"
            )


@cameras_app.command("links")
def cameras_links(
    db: DbOpt = None,
    json_out: JsonFlag = False,
    refine: Annotated[
        bool, typer.Option("--refine", help="Update travel times from confirmed/confident hops")
    ] = False,
    min_conf: Annotated[
        float, typer.Option(help="Route hops at least this confident count as observations")
    ] = 0.8,
    learn: Annotated[
        bool,
        typer.Option(
            "--learn",
            help="Learn links from the stored sightings (no labels: appearance-matched transitions against a "
            "shuffled baseline) and store them as source=learned",
        ),
    ] = False,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="With --learn: compare the learned links with this links-truth.yaml"),
    ] = None,
) -> None:
    """List links (exit edge -> neighbour, travel-time distribution); --learn learns them from unlabelled
    traffic first, --refine updates travel times from confirmed hops."""
    from relaytrack.relay.network import all_links, refine_links

    if truth is not None and not learn:
        raise typer.BadParameter("--truth compares learned links: give --learn too")
    with open_store(db, readonly=not (refine or learn)) as store:
        summary = learned = None
        if learn:
            from relaytrack.relay.learn_links import learn_links, store_learned

            with store.tx() as conn:
                learned = learn_links(conn)
                stored = store_learned(conn, learned)
        if refine:
            with store.tx() as conn:
                summary = refine_links(conn, min_conf=min_conf)
        links = all_links(store.conn)
    if learn:
        _print_learned(learned, stored, truth, json_out)
        if json_out or not refine:
            return
    if json_out:
        print_json({"links": links, "refined": summary} if refine else links)
        return
    if summary:
        console.print(
            f"refined: {summary['observations']} observed transitions, {summary['links_updated']} links "
            f"updated, {len(summary['unlinked'])} transitions between unlinked cameras"
        )
    for ln in links:
        console.print(
            f"{ln['src']} -{ln['exit_edge'] or 'any'}-> {ln['dst']} ({ln['entry_edge'] or 'any'}) {ln['mode']} "
            f"{ln['mean_s']}±{ln['std_s']} s [{ln['min_s']}, {ln['max_s']}] {ln['source']} n={ln['n_obs']}"
        )


def _print_learned(learned, stored: dict, truth: Path | None, json_out: bool) -> None:
    from relaytrack.relay.link_truth import compare_links, read_truth_links

    cmp = compare_links(learned.links, read_truth_links(truth)).to_dict() if truth else None
    if json_out:
        print_json({**learned.to_dict(), "stored": stored, **({"truth": cmp} if cmp else {})})
        return
    console.print(
        f"learned {len(learned.links)} links from {learned.sightings} sightings on {learned.cameras} cameras "
        f"({stored['map_links_dropped']} map links replaced; {len(learned.explained_cameras)} cameras whose learned "
        f"exits hold most departures lost their other map links); {len(learned.indirect)} "
        f"two-hop peaks left to their relay camera; {learned.absent} neighbour pairs with traffic and no link"
    )
    for ln in learned.links:
        console.print(
            f"{ln.src} -{ln.exit_edge or 'any'}-> {ln.dst} ({ln.entry_edge or 'any'}) {ln.mean_s:.1f}±{ln.std_s:.1f} s "
            f"[{ln.min_s:.0f}, {ln.max_s:.0f}] support {ln.support:.1f} ({ln.observed} seen, "
            f"{ln.expected:.1f} by chance, z {ln.z:.1f})"
            + ("" if ln.method == "open" else ", inside the register's window")
        )
    if learned.unestimated:
        console.print(f"[yellow]could not estimate {len(learned.unestimated)} neighbour links:[/yellow]")
        for u in learned.unestimated[:40]:
            console.print(f"  {u.src} -> {u.dst}: {u.reason}")
    if cmp:
        console.print(
            f"against {truth}: precision {cmp['precision']:.2f}, recall {cmp['recall']:.2f} "
            f"({cmp['correct']} of {cmp['true']} true links), within 20 % travel time {cmp['within_20pct']} "
            f"(recall {cmp['recall_within_20pct']:.2f}), median time error {cmp['median_time_error']}"
        )


@relay_app.callback()
def relay_cmd(
    ctx: typer.Context,
    from_: Annotated[int | None, typer.Option("--from", help="Confirmed sighting id to start from")] = None,
    hops: Annotated[
        int, typer.Option("--hops", help="Most hops forwards and most hops backwards", min=0, max=200)
    ] = 10,
    out: Annotated[Path | None, typer.Option("--out", help="Route JSON file")] = None,
    geojson: Annotated[
        Path | None, typer.Option("--geojson", help="Also write GeoJSON (timed LineString + cameras)")
    ] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Also write an offline HTML report")] = None,
    mot: Annotated[
        Path | None, typer.Option("--mot", help="Also write per-camera MOTChallenge files here")
    ] = None,
    direction: Annotated[str, typer.Option(help="both | forward | backward")] = "both",
    beam: Annotated[int, typer.Option(help="Paths kept by the beam search", min=1, max=50)] = 4,
    stop_conf: Annotated[
        float, typer.Option(help="Stop where the best candidate is less likely than this")
    ] = 0.25,
    reprocess: Annotated[
        bool,
        typer.Option(
            "--reprocess",
            help="Re-process at full rate, from the retained footage, the candidate windows of cameras indexed "
            "at a lower rate (stored; the low-rate sightings they replace are kept, marked superseded)",
        ),
    ] = False,
    reprocess_fps: Annotated[
        float | None,
        typer.Option("--reprocess-fps", help="Rate of --reprocess (default: every frame)", min=0.1, max=120),
    ] = None,
    reprocess_around: Annotated[
        str,
        typer.Option(
            "--reprocess-around",
            help="What --reprocess analyses: origin (the origin's own span only, the route then runs from its "
            "full-rate tracklet; the default: it carried the whole gain on the tuning towns), missed (origin, "
            "then where the route stops the linked windows with nobody like the origin, adding only the people "
            "the index missed), or before each candidate window is read: window (all of it), sightings (the "
            "spans of its low-rate sightings), look (the spans of the --reprocess-top most like the origin)",
        ),
    ] = "origin",
    reprocess_top: Annotated[
        int, typer.Option("--reprocess-top", help="Sightings per window for --reprocess-around look", min=1)
    ] = 1,
    db: DbOpt = None,
    user: UserOpt = None,
    case: CaseOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Reconstruct a route from a sighting: `relaytrack relay --from ID [--hops N] --out route.json`."""
    if ctx.invoked_subcommand is not None:
        return
    if from_ is None:
        raise InputError("relay needs --from SIGHTING (or a subcommand: confirm, reject)")
    if out is None and not json_out:
        raise InputError("relay needs --out route.json (or --json to print the route)")
    from relaytrack.config import RelayConfig, validate
    from relaytrack.evidence.access import authorize_sightings, hidden_sightings, identity
    from relaytrack.relay.deadend import dead_end_hint
    from relaytrack.relay.engine import relay
    from relaytrack.relay.outputs import write_route_geojson, write_route_html, write_route_mot
    from relaytrack.relay.persist import save_route, write_route_json

    # A bound the option does not enforce (stop_conf in [0, 1]) is a one-line ConfigError, not a traceback.
    params = validate(RelayConfig, {"beam": beam, "stop_conf": stop_conf}, "relay options")

    # A mistyped --db must not create an empty store; --reprocess writes the windows it re-processes.
    with open_store(db, readonly=not reprocess) as store:
        refine = None
        if reprocess:
            from relaytrack.config import load_config
            from relaytrack.pipeline.reprocessor import AROUND, Reprocessor
            from relaytrack.store.sightings import get_sighting

            if reprocess_around not in AROUND:
                raise InputError(f"--reprocess-around takes {', '.join(AROUND)}, got {reprocess_around}")
            refine = Reprocessor(
                store,
                load_config(None),
                fps=reprocess_fps,
                around=reprocess_around,
                reference=get_sighting(store.conn, from_) if reprocess_around != "window" else None,
                top=reprocess_top,
            )
        acx = access(store, user, case, "relay", detail={"from": from_, "hops": hops})
        authorize_sightings(acx, [from_])  # another case's evidence is no origin (refused, logged)
        relay_kw = {
            "case": identity(user, case)[1],
            "direction": direction,
            "params": params,
            "hidden": hidden_sightings(store.conn, acx.case),
        }
        if refine is not None and reprocess_around in ("origin", "missed"):
            from relaytrack.pipeline.ondemand_relay import relay_on_demand

            route = relay_on_demand(store, from_, hops, refine, **relay_kw).route
        else:
            route = relay(store, from_, hops, refine=refine, **relay_kw)
        if refine is not None:
            # What was analysed again is on the record (audit) and said to the person (stderr: stdout is JSON).
            redo = {"frames": refine.frames, "windows": len(refine.windows), "origin": route.origin}
            if route.origin != from_:
                console_err.print(
                    f"sighting #{from_} analysed again at full rate: the route runs from #{route.origin}",
                    highlight=False,
                )
        authorize_sightings(acx, route.sighting_ids)  # every hop passes the same gate before it is shown
        hint = dead_end_hint(store.conn, route, route.case, identity(user, case)[0])
        written = []
        if out is not None:
            written.append(str(write_route_json(route, out)))
        if geojson is not None:
            written.append(str(write_route_geojson(route, store, geojson)))
        if html_out is not None:
            # titled "Relay route from #N" / "목격 #N에서 추적한 경로" in the person's language
            written.append(str(write_route_html(route, store, html_out, hint=hint)))
        if mot is not None:
            written += [str(p) for p in write_route_mot(route, store, mot)]
        with store.tx() as conn:
            save_route(conn, route, acx.user)
            acx.log(
                detail={"from": from_, "hops": len(route.hops), "files": written}
                | ({"reprocessed": redo} if refine is not None else {}),
                result_ids=route.sighting_ids,
            )
    if json_out:
        print_json(route.to_dict())
        if hint:  # the JSON on stdout stays the contract; the suggestion goes to the person on stderr
            console_err.print(f"[yellow]{hint}[/yellow]", highlight=False, soft_wrap=True)
    else:
        _print_route(route, written, hint)


def _print_route(route, written: list[str], hint: str | None) -> None:
    """The route for a person: Seoul wall-clock times (clip seconds after them), the stop reasons as
    sentences, and at a dead end the next search hits to relay from."""
    from relaytrack.clock import human_at
    from relaytrack.i18n import t, tr_all
    from relaytrack.relay.deadend import stop_sentences

    for h in route.hops:
        s = h.sighting
        console.print(
            f"{s.camera:>8}  #{s.id:<8} {human_at(s.wall_start, s.start, s.end)}"
            f"  {t('confidence')} {h.confidence:.2f} {tr(h.direction)}"
            + (
                f"  {t('alternatives')}: {', '.join(str(a['sighting']) for a in h.alternatives)}"
                if h.alternatives
                else ""
            )
            + (
                f"\n{'':>10}{'; '.join(tr_all(h.reasons))}"
                if h.reasons and h.direction not in ("origin", "confirmed")
                else ""
            ),
            highlight=False,
        )
    console.print(
        t("relay_summary", hops=len(route.hops), cameras=len(set(route.cameras)),
          files=", ".join(written) or t("nothing")),
        highlight=False,
    )  # fmt: skip
    for ho in route.handoffs:
        console.print(t(f"handoff_{ho['type']}", camera=ho["camera"], time=ho["time"], vehicle=ho["vehicle"]))
    for line in stop_sentences(route):
        console.print(line, highlight=False)
    if hint:
        console.print(f"[yellow]{hint}[/yellow]", highlight=False, soft_wrap=True)


def _origin_of(route_or_sighting: str) -> int:
    from relaytrack.relay.persist import read_route_json

    p = Path(route_or_sighting)
    if p.suffix.lower() == ".json" or p.is_file():
        try:
            return read_route_json(p).origin
        except InputError as err:
            raise InputError(f"{err}: give a route file written by `relaytrack relay`") from None
    try:
        return int(route_or_sighting)
    except ValueError:
        raise InputError(
            f"{route_or_sighting!r} is neither a route JSON file nor an origin sighting id"
        ) from None


def _verdict_target(
    from_: int | None, route: Path | None, items: list[str]
) -> tuple[int, list[int], Path | None]:
    """The origin, the sightings and the route file of `relay confirm|reject`: `--from ID` or `--route F`
    as `relay` takes them (then every argument is a sighting), or the older form whose first argument is
    the route file or origin id."""
    if from_ is not None and route is not None:
        raise InputError("give --from ORIGIN or --route route.json, not both")
    if from_ is None and route is None:
        if not items:
            raise InputError("name the route: --from ORIGIN or --route route.json, then the sighting ids")
        first, items = items[0], items[1:]
        route = Path(first) if (Path(first).suffix.lower() == ".json" or Path(first).is_file()) else None
        origin = _origin_of(first)
    else:
        origin = from_ if from_ is not None else _origin_of(str(route))
    if not items:
        raise InputError("name the sighting ids the verdict is about")
    ids = []
    for x in items:
        try:
            ids.append(int(x))
        except ValueError:
            raise InputError(f"sighting id {x!r} is not a number") from None
    return origin, ids, route


def _feedback(
    verdict: str,
    origin: int,
    sightings: list[int],
    route_file: Path | None,
    out: Path | None,
    hops: int,
    db,
    user,
    case,
    json_out: bool,
) -> None:
    """Record the verdict, then re-score the route around it and write it (to --out, else over the --route
    file it came from), as `relay` would."""
    from relaytrack.evidence.access import authorize_sightings, hidden_sightings, identity
    from relaytrack.relay.changes import change_sentences, route_changes
    from relaytrack.relay.deadend import dead_end_hint
    from relaytrack.relay.engine import relay
    from relaytrack.relay.persist import (
        latest_route,
        read_route_json,
        record_feedback,
        save_route,
        write_route_json,
    )

    dest = out or route_file
    before = read_route_json(route_file) if route_file is not None and route_file.is_file() else None
    params = before.params if before is not None else None
    with open_store(db, readonly=True) as store:  # must exist; writes still allowed
        acx = access(store, user, case, "relay", detail={"verdict": verdict, "origin": origin})
        authorize_sightings(acx, [origin, *sightings])  # as the service: another case's evidence is refused
        if before is None:  # the route the verdict was given on: the latest one from this origin in the case
            before = latest_route(store.conn, identity(user, case)[1], origin)
        with store.tx() as conn:
            n = record_feedback(conn, identity(user, case)[1], origin, sightings, verdict, acx.user)
            acx.log(detail={"verdict": verdict, "origin": origin}, result_ids=list(sightings))
        route = relay(
            store,
            origin,
            hops,
            case=identity(user, case)[1],
            params=params,
            hidden=hidden_sightings(store.conn, acx.case),
        )
        authorize_sightings(acx, route.sighting_ids)
        changes = route_changes(before, route, set(sightings) if verdict == "reject" else set())
        hint = dead_end_hint(store.conn, route, route.case, identity(user, case)[0])
        written = [str(write_route_json(route, dest))] if dest is not None else []
        with store.tx() as conn:
            save_route(conn, route, acx.user)
            acx.log(
                detail={"from": origin, "hops": len(route.hops), "files": written, "rescored": verdict},
                result_ids=route.sighting_ids,
            )
    if json_out:
        print_json(
            {
                "origin": origin,
                "verdict": verdict,
                "sightings": sightings,
                "stored": n,
                "route": written[0] if written else None,
                "hops": len(route.hops),
                "changes": changes.to_dict(),
                "changes_explained": change_sentences(changes) if before is not None else [],
            }
        )
        return
    console.print(
        f"{verdict}ed {n} sighting(s) for the route from #{origin}; re-scored:"
        if lang() == "en"
        else f"출발 목격 #{origin}의 경로에서 목격 {n}건을 {'확인' if verdict == 'confirm' else '제외'}함. 다시 계산한 경로:",
        highlight=False,
    )
    if before is not None:
        for line in change_sentences(changes):
            console.print(f"  {line}", highlight=False)
    _print_route(route, written, hint)


FromOpt = Annotated[
    int | None, typer.Option("--from", help="Origin sighting of the route (as `relay --from`)")
]
RouteOpt = Annotated[
    Path | None, typer.Option("--route", help="Route JSON written by `relay --out` (re-written re-scored)")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write the re-scored route here (default: --route)")
]
HopsOpt = Annotated[
    int, typer.Option("--hops", help="Most hops forwards and backwards when re-scoring", min=0, max=200)
]


@relay_app.command("confirm")
def relay_confirm(
    sightings: Annotated[list[str], typer.Argument(help="Sighting ids that are the person")],
    from_: FromOpt = None,
    route: RouteOpt = None,
    out: OutOpt = None,
    hops: HopsOpt = 10,
    db: DbOpt = None,
    user: UserOpt = None,
    case: CaseOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Confirm candidates: `relay confirm --from ID SIGHTING...` (or `--route route.json`); they become anchors
    and the route, re-scored through them, is written (to --out, else over --route) and printed."""
    origin, ids, route_file = _verdict_target(from_, route, sightings)
    _feedback("confirm", origin, ids, route_file, out, hops, db, user, case, json_out)


@relay_app.command("reject")
def relay_reject(
    sightings: Annotated[list[str], typer.Argument(help="Sighting ids that are not the person")],
    from_: FromOpt = None,
    route: RouteOpt = None,
    out: OutOpt = None,
    hops: HopsOpt = 10,
    db: DbOpt = None,
    user: UserOpt = None,
    case: CaseOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Reject candidates: `relay reject --from ID SIGHTING...` (or `--route route.json`); the route is
    re-scored without them (never proposed again for this case), written and printed."""
    origin, ids, route_file = _verdict_target(from_, route, sightings)
    _feedback("reject", origin, ids, route_file, out, hops, db, user, case, json_out)


def register(app: typer.Typer) -> None:
    app.add_typer(cameras_app, name="cameras")
    app.add_typer(relay_app, name="relay")
