"""CLI: `relaytrack watch`, `relaytrack alerts list|show|ack`."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import DbOpt, JsonFlag, UserOpt, open_store
from relaytrack.clock import human_at
from relaytrack.errors import InputError
from relaytrack.ui import console, console_err, print_json


def _specs(sources: list[str], camera: list[str], zones: Path | None, cameras_file: Path | None):
    from relaytrack.pipeline.ingest import default_camera_id
    from relaytrack.watch.service import CameraSpec, sources_from_network
    from relaytrack.watch.zones import load_zones, zones_for_camera

    specs = []
    if cameras_file is not None:
        specs.extend(sources_from_network(cameras_file, zones))
    if camera and len(camera) != len(sources):
        raise InputError(
            f"--camera given {len(camera)} times for {len(sources)} sources; give one per source"
        )
    table = load_zones(zones) if zones is not None else {}
    for k, uri in enumerate(sources):
        cam = camera[k] if camera else default_camera_id(uri)
        specs.append(CameraSpec(uri, cam, zones_for_camera(table, cam)))
    if not specs:
        raise InputError("watch: give SOURCE... or --cameras FILE")
    return specs


def register(app: typer.Typer) -> None:
    @app.command("watch")
    def watch_cmd(
        sources: Annotated[
            list[str] | None, typer.Argument(help="Video files, image-sequence folders or stream URLs")
        ] = None,
        camera: Annotated[
            list[str], typer.Option("--camera", help="Camera id per source (default: name)")
        ] = [],
        zones: Annotated[
            Path | None,
            typer.Option(
                "--zones", help="Zones: camera network YAML, a camera-id -> zones mapping, or a zone list"
            ),
        ] = None,
        cameras: Annotated[
            Path | None, typer.Option("--cameras", help="Camera network YAML (sources/stream_url, zones)")
        ] = None,
        once: Annotated[
            bool, typer.Option("--once", help="Run files/sequences to their end, then stop")
        ] = False,
        json_file: Annotated[
            Path | None, typer.Option("--json", help="Write every alert to this JSON file")
        ] = None,
        db: DbOpt = None,
        config: Annotated[Path | None, typer.Option("--config", help="Pipeline config YAML")] = None,
        watch_config: Annotated[
            Path | None, typer.Option("--watch-config", help="Watch config YAML (weights, thresholds)")
        ] = None,
        workers: Annotated[
            int | None, typer.Option("--workers", help="Analysis workers (0 = per core)")
        ] = None,
        fps: Annotated[float | None, typer.Option("--fps", help="Analysed frames per second")] = None,
        clips: Annotated[
            Path | None, typer.Option("--clips", help="Clips folder (default: beside DB/JSON)")
        ] = None,
        user: UserOpt = None,
    ) -> None:
        """Watch sources for dead-drop behaviour at hiding-spot zones and raise explained alerts."""
        from relaytrack.config import load_config
        from relaytrack.evidence.access import identity
        from relaytrack.watch.config import load_watch_config
        from relaytrack.watch.service import watch_sources

        specs = _specs(list(sources or []), camera, zones, cameras)
        overrides = {}
        if workers is not None:
            overrides["run.workers"] = workers
        if fps is not None:
            overrides["run.analyse_fps"] = fps
        wcfg = load_watch_config(watch_config, overrides)
        cfg = load_config(config)
        if clips is None and db is None and json_file is not None:
            clips = json_file.resolve().parent / "clips"
        for s in specs:
            if not s.zones:
                console_err.print(
                    f"[yellow]warning:[/yellow] camera {s.camera} has no zones: no courier alerts"
                )

        def show(a) -> None:
            if a.kind == "courier":
                console_err.print(
                    f"[bold red]ALERT[/bold red] {a.camera} {human_at(a.wall_decided or a.wall_start, a.start)} "
                    f"score={a.score:.2f}: {a.explanation}"
                )
            else:
                console_err.print(f"[yellow]OPERATOR[/yellow] {a.explanation}")

        stop = threading.Event()
        if not once:
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        res = watch_sources(
            specs, db, cfg, wcfg, once=once, clips_dir=clips, on_alert=show, stop=stop,
            store_sightings=db is not None,
        )  # fmt: skip
        if db is not None:
            from relaytrack.evidence.audit import append

            u, _ = identity(user, None)
            with open_store(db) as store:
                append(store.conn, store.path, user=u, case=None, action="watch", outcome="ok",
                       detail={"cameras": [s.camera for s in specs], "alerts": len(res.alerts)},
                       result_ids=[a.id for a in res.alerts])  # fmt: skip
        out = [a.public() for a in res.alerts]
        if json_file is not None:
            json_file.parent.mkdir(parents=True, exist_ok=True)
            json_file.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
        lat = res.latencies()
        for cam, r in res.cameras.items():
            console_err.print(
                f"{cam}: {r.state}, {r.frames} frames, {r.alerts} alerts ({r.suppressed} throttled), "
                f"pose runs {r.pose_runs}, dropped {r.dropped}, reconnects {r.reconnects}"
                + (f", error: {r.error}" if r.error else "")
            )
        console_err.print(
            f"{len(res.alerts)} alerts, {len(res.operator_alerts)} operator alerts, {res.workers} workers, "
            f"{res.wall_s:.1f} s" + (f", alert latency max {max(lat):.2f} s" if lat else "")
        )

    alerts = typer.Typer(
        help="Courier-watch alerts: list, show, acknowledge / mark false alarm.", no_args_is_help=True
    )
    app.add_typer(alerts, name="alerts")

    @alerts.command("list")
    def alerts_list(
        camera: Annotated[str | None, typer.Option("--camera")] = None,
        status: Annotated[str | None, typer.Option("--status", help="new | acked | false_alarm")] = None,
        kind: Annotated[str | None, typer.Option("--kind", help="courier | camera_down")] = None,
        all_: Annotated[bool, typer.Option("--all", help="Include throttled alerts")] = False,
        limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
        db: DbOpt = None,
        user: UserOpt = None,
        json_out: JsonFlag = False,
    ) -> None:
        """List alerts, newest first."""
        from relaytrack.cli.common import access
        from relaytrack.watch.alerts import list_alerts

        with open_store(db, readonly=True) as store:  # must exist (a typo must not create a store)
            ctx = access(store, user, None, "alerts", {"op": "list"})
            rows = list_alerts(store.conn, camera=camera, status=status, kind=kind, include_suppressed=all_,
                               limit=limit)  # fmt: skip
            _withhold(ctx, rows)
            ctx.log(
                detail={"op": "list", "camera": camera, "status": status}, result_ids=[a.id for a in rows]
            )
        if json_out:
            print_json([a.public() for a in rows])
            return
        for a in rows:
            console.print(
                f"#{a.id} {a.kind} {a.camera} {human_at(a.wall_start, a.start, a.end)} score={a.score:.2f} [{a.status}] "
                f"{a.explanation or '; '.join(a.reasons)}",
                highlight=False,
            )

    @alerts.command("show")
    def alerts_show(
        alert_id: Annotated[int, typer.Argument()],
        db: DbOpt = None,
        user: UserOpt = None,
        json_out: JsonFlag = False,
    ) -> None:
        """One alert with its measured signals, clip, key frames, track boxes and feedback."""
        from relaytrack.cli.common import access
        from relaytrack.watch.alerts import feedback, get_alert

        with open_store(db, readonly=True) as store:  # must exist (a typo must not create a store)
            ctx = access(store, user, None, "alerts", {"op": "show", "alert": alert_id})
            a = get_alert(store.conn, alert_id)
            _withhold(ctx, [a])
            fb = feedback(store.conn, alert_id)
            ctx.log(detail={"op": "show", "alert": alert_id}, result_ids=[alert_id])
        d = a.public() | {"boxes": a.boxes, "feedback": fb, "source_uri": a.source_uri}
        if json_out:
            print_json(d)
            return
        for k, v in d.items():
            if k == "boxes":
                v = f"{len(v)} boxes"
            console.print(f"{k}: {v}", highlight=False)

    @alerts.command("ack")
    def alerts_ack(
        alert_id: Annotated[int, typer.Argument()],
        false_alarm: Annotated[bool, typer.Option("--false-alarm", help="Mark as a false alarm")] = False,
        note: Annotated[str | None, typer.Option("--note")] = None,
        db: DbOpt = None,
        user: UserOpt = None,
        json_out: JsonFlag = False,
    ) -> None:
        """Acknowledge an alert, or mark it a false alarm (kept with its signals for tuning)."""
        from relaytrack.cli.common import access
        from relaytrack.watch.alerts import ack_alert

        with open_store(db, readonly=True) as store:  # must exist (a typo must not create a store)
            ctx = access(store, user, None, "alerts", {"op": "ack", "alert": alert_id})
            with store.tx() as conn:
                a = ack_alert(conn, alert_id, ctx.user, false_alarm=false_alarm, note=note)
                ctx.log(detail={"op": "ack", "alert": alert_id, "false_alarm": false_alarm},
                        result_ids=[alert_id])  # fmt: skip
        if json_out:
            print_json({"alert_id": a.id, "status": a.status})
        else:
            console.print(f"alert #{a.id}: {a.status}")


def _withhold(ctx, alerts: list) -> None:
    """Alerts belong to no case: a sighting any case holds (and its track's boxes) is left out of what is
    shown, through the same gate as every footage read (relaytrack.evidence.access.authorize_sightings)."""
    from relaytrack.evidence.access import authorize_sightings

    grant = authorize_sightings(ctx, [a.sighting for a in alerts if a.sighting is not None], partial=True)
    hidden = set(grant.withheld) | set(grant.missing)
    for a in alerts:
        if a.sighting in hidden:
            a.sighting, a.boxes = None, []
