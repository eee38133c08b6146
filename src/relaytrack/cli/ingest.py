"""CLI: `relaytrack detect|track|ingest|sightings`."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import (
    ConfigOpt,
    DbOpt,
    JsonFlag,
    UserOpt,
    cli_config,
    log_maintenance,
    open_store,
    progress_callback,
)
from relaytrack.config import Config
from relaytrack.errors import RelaytrackError, SourceError
from relaytrack.ui import console, console_err, print_json, progress

FpsOpt = Annotated[
    float | None, typer.Option("--fps", help="Analysed frames per second (default: every frame)")
]


def _frames_with_progress(uri: str, camera: str, cfg: Config, label: str):
    from relaytrack.source import open_source, probe

    info = probe(uri)
    bad: list[str] = []
    frames = open_source(uri, camera, cfg.source, 0.0, info=info, on_bad_frame=lambda i, m: bad.append(m))
    return info, frames, bad


def detect_cmd(
    source: Annotated[
        str, typer.Argument(help="Video file, image-sequence folder (MOT img1 layout) or stream URL")
    ],
    out: Annotated[Path, typer.Option("--out", help="MOTChallenge detection file to write")],
    config: ConfigOpt = None,
    fps: FpsOpt = None,
    min_conf: Annotated[
        float | None, typer.Option(help="Lowest person score written (default: detect.low_conf)")
    ] = None,
) -> None:
    """Detect persons and write MOTChallenge detection lines (frame,-1,x,y,w,h,conf,-1,-1,-1)."""
    from relaytrack.detect import Detector
    from relaytrack.pipeline.ingest import frame_dets_rows

    cfg = cli_config(config, fps)
    info, frames, bad = _frames_with_progress(source, "cli", cfg, "detect")
    detector = Detector(cfg.detect)
    thr = cfg.detect.low_conf if min_conf is None else min_conf
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(out, "w") as f, progress() as bar:
        task = bar.add_task(f"detect {Path(source).name}", total=info.frames)
        try:
            for frame in frames:
                for line in frame_dets_rows(frame, detector.detect(frame.image), thr):
                    f.write(line + "\n")
                n += 1
                bar.update(task, completed=frame.index)
        except SourceError as err:
            console_err.print(f"[red]error:[/red] {err} (partial results kept in {out})")
            sys.exit(1)
    for msg in bad[:5]:
        console_err.print(f"[yellow]warning:[/yellow] {msg}")
    console_err.print(f"{n} frames -> {out}")


def track_cmd(
    source: Annotated[str, typer.Argument(help="Video file, image-sequence folder or stream URL")],
    out: Annotated[Path, typer.Option("--out", help="MOTChallenge tracking file to write")],
    config: ConfigOpt = None,
    fps: FpsOpt = None,
    dets: Annotated[
        Path | None, typer.Option("--dets", help="Use these MOT detections instead of the detector")
    ] = None,
) -> None:
    """Track persons and write MOTChallenge tracking lines (frame,id,x,y,w,h,conf,-1,-1,-1)."""
    from relaytrack.pipeline.ingest import tracklet_rows
    from relaytrack.pipeline.session import CameraSession, Stages
    from relaytrack.track import Tracker

    cfg = cli_config(config, fps)
    info, frames, bad = _frames_with_progress(source, "cli", cfg, "track")
    finished = []
    error = None
    with progress() as bar:
        task = bar.add_task(f"track {Path(source).name}", total=info.frames)
        try:
            if dets is not None:
                from relaytrack.source.motio import load_detections

                table = load_detections(dets)
                tracker = Tracker(cfg.track, (info.width, info.height), "cli", classes=("person",))
                for frame in frames:
                    d = table.get(frame.index, _empty())
                    tracker.update(d, frame.index, frame.t, looks=tracker.looks_for(frame.image, d, frame.t))
                    finished.extend(tracker.pop_finished())
                    bar.update(task, completed=frame.index)
                finished.extend(tracker.flush())
            else:
                session = CameraSession(Stages.load(cfg, embed=False), "cli", (info.width, info.height))
                for frame in frames:
                    finished.extend(session.step(frame).finished)
                    bar.update(task, completed=frame.index)
                finished.extend(session.finish())
        except SourceError as err:
            error = err
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = tracklet_rows(finished)
    out.write_text("".join(r[1] + "\n" for r in rows))
    for msg in bad[:5]:
        console_err.print(f"[yellow]warning:[/yellow] {msg}")
    console_err.print(
        f"{len({t.track_id for t in finished if t.class_name == 'person'})} tracks, {len(rows)} boxes -> {out}"
    )
    if error is not None:
        console_err.print(f"[red]error:[/red] {error} (partial results kept in {out})")
        sys.exit(1)


def _empty():
    from relaytrack.records import Detections

    return Detections.empty()


def audit_ingest(store, user: str | None, res) -> None:
    """One audit entry per ingested source, whatever its outcome."""
    from relaytrack.evidence.audit import append

    append(
        store.conn,
        store.path,
        user=user,
        case=None,
        action="ingest",
        outcome="ok" if res.status != "failed" else "error",
        detail={
            "uri": res.uri,
            "camera": res.camera,
            "status": res.status,
            "sightings": res.sightings,
            "error": res.error,
        },
    )


def learn_if_due(store, cfg: Config, user: str | None, json_out: bool) -> None:
    """The store learns its appearance model once it holds enough tracklets (`relaytrack.reid.auto`)."""
    from relaytrack.reid.auto import maybe_learn, readiness

    ready = readiness(store, cfg)
    if not ready.due:
        return
    bar, cb = progress_callback("learning the store's appearance model")
    with bar:
        res = maybe_learn(store, cfg, progress=cb, ready=ready)
    if res is None:
        return
    log_maintenance(store, user, "reid-auto", res)
    out = console_err if json_out else console
    if res["learned"]:
        out.print(
            f"learned the store's appearance model from {res['tracklets']} tracklets on {res['cameras']} "
            f"cameras in {res['train_s']} s; re-embedded {res['embedded']} sightings with it"
        )
    else:
        out.print(f"[yellow]note:[/yellow] the store's appearance model was not learned: {res['reason']}")


def learn_links_if_due(store, cfg: Config, user: str | None, json_out: bool) -> None:
    """The store learns its camera links once it holds enough traffic (`relaytrack.relay.auto_links`)."""
    from relaytrack.relay.auto_links import maybe_learn, readiness

    ready = readiness(store, cfg)
    if not ready.due:
        return
    with console_err.status("learning camera links from the store's traffic"):
        res = maybe_learn(store, cfg, ready=ready)
    if res is None:
        return
    log_maintenance(store, user, "links-auto", res)
    out = console_err if json_out else console
    if res["learned"]:
        out.print(
            f"learned {res['links']} camera links from {res['sightings']} person sightings "
            f"({res['map_links_dropped']} map guesses replaced, {res['unestimated']} neighbours unsettled)"
        )
    else:
        out.print(
            f"[yellow]note:[/yellow] no camera link could be learned from {res['sightings']} person "
            "sightings; the links stay as they were"
        )


def ingest_cmd(
    sources: Annotated[list[str], typer.Argument(help="Video files, image-sequence folders or stream URLs")],
    camera: Annotated[
        list[str], typer.Option("--camera", help="Camera id per source (default: file name)")
    ] = [],
    start: Annotated[str | None, typer.Option("--start", help="ISO wall time of the first frame")] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    fps: FpsOpt = None,
    user: UserOpt = None,
    json_out: JsonFlag = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Sources ingested at once: local processes (default 1; 0 = one per core), or the CPUs of a "
            "local Ray (default: all; one actor per CPU), or the actors on a --ray-address cluster (default: "
            "as many as its free CPUs)",
        ),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="local (process pool) or ray")] = "local",
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray cluster address (default: start a local Ray)")
    ] = None,
    shards: Annotated[
        bool,
        typer.Option(
            "--shards/--shared-store",
            help="Ray: each task writes a shard store on its node, merged here (machines sharing no disk)",
        ),
    ] = False,
    shard_dir: Annotated[
        str | None,
        typer.Option("--shard-dir", help="Ray shards: folder on each node (default ~/.relaytrack/shards)"),
    ] = None,
) -> None:
    """Run the pipeline (detect, track, describe) and store sightings. Re-ingesting a source adds nothing;
    an interrupted ingest resumes from its last checkpoint. --workers N / --engine ray ingest many at once."""
    from relaytrack.evidence.access import identity
    from relaytrack.pipeline.ingest import Stages, default_camera_id, ingest

    if camera and len(camera) != len(sources):
        raise RelaytrackError(
            f"--camera given {len(camera)} times for {len(sources)} sources; give one per source"
        )
    if engine not in ("local", "ray"):
        raise RelaytrackError(f"--engine {engine!r}: use 'local' or 'ray'")
    cfg = cli_config(config, fps, start)
    results = []
    parallel = engine == "ray" or (workers is not None and workers != 1)
    with open_store(db) as store:
        if parallel:
            results = _ingest_many(
                store, sources, camera, cfg, workers, engine, ray_address, shards, shard_dir, user
            )
        stages = None
        with progress() as bar:
            for k, uri in enumerate([] if parallel else sources):
                cam = camera[k] if camera else default_camera_id(uri)
                task = bar.add_task(f"ingest {cam}", total=None)
                if stages is None:
                    stages = Stages.load(cfg)
                t0 = time.perf_counter()
                res = ingest(
                    store,
                    uri,
                    cam,
                    cfg,
                    stages,
                    progress=lambda i, n, task=task: bar.update(task, completed=i, total=n),
                )
                res.timings["wall"] = time.perf_counter() - t0
                bar.update(task, visible=False)
                results.append(res)
                audit_ingest(store, identity(user, None)[0], res)
        if any(r.status != "failed" for r in results):
            learn_if_due(store, cfg, user, json_out)
            # After the appearance model: links are learned from the embeddings it gave.
            learn_links_if_due(store, cfg, user, json_out)
    failed = [r for r in results if r.status == "failed"]
    if json_out:
        print_json(
            [
                {
                    "uri": r.uri,
                    "camera": r.camera,
                    "status": r.status,
                    "sightings": r.sightings,
                    "frames": r.frames,
                    "resumed_from": r.resumed_from,
                    "error": r.error,
                    "bad_frames": len(r.bad_frames),
                }
                for r in results
            ]
        )
    else:
        for r in results:
            if r.status == "failed":
                console_err.print(f"[red]error:[/red] {r.error}")
            else:
                extra = f", resumed at frame {r.resumed_from}" if r.resumed_from else ""
                console.print(
                    f"{r.camera}: {r.status}, {r.sightings} sightings from {r.frames} analysed frames{extra}"
                )
            for msg in r.bad_frames[:3]:
                console_err.print(f"[yellow]warning:[/yellow] {msg}")
    if failed:
        sys.exit(1)


def _ingest_many(store, sources, camera, cfg, workers, engine, ray_address, shards, shard_dir, user) -> list:
    """Many sources at once (relaytrack.pipeline.parallel); the audit entries are written here, by the one
    driver process, as each source finishes (so a run killed half-way has the entries of those done)."""
    from relaytrack.evidence.access import identity
    from relaytrack.pipeline.ingest import default_camera_id
    from relaytrack.pipeline.parallel import Job, import_ray, run_local, run_ray

    jobs = [Job(uri, camera[k] if camera else default_camera_id(uri)) for k, uri in enumerate(sources)]
    u, _ = identity(user, None)
    with progress() as bar:
        tasks = [bar.add_task(f"ingest {j.camera}", total=None) for j in jobs]

        def done(k, res):
            bar.update(tasks[k], visible=False)
            audit_ingest(store, u, res)

        if engine == "ray":
            import_ray()  # fails with the extra to install before anything starts
            return run_ray(
                store.path,
                jobs,
                cfg,
                address=ray_address,
                num_cpus=workers or None,
                actors=(workers or None) if ray_address else None,
                mode="shards" if shards else "shared",
                shard_dir=shard_dir,
                on_done=done,
            )
        return run_local(
            store.path,
            jobs,
            cfg,
            1 if workers is None else workers,
            progress=lambda k, i, n: bar.update(tasks[k], completed=i, total=n),
            on_done=done,
        )


def sightings_cmd(
    camera: Annotated[str | None, typer.Option("--camera")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 20,
    db: DbOpt = None,
    user: UserOpt = None,
    case: Annotated[str | None, typer.Option("--case")] = None,
    json_out: JsonFlag = False,
) -> None:
    """List stored sightings (needs a case: they are personal data; other cases' evidence is left out)."""
    from relaytrack.cli.common import access
    from relaytrack.evidence.access import authorize_sightings, visible_params, visible_sql
    from relaytrack.store.sightings import SIGHTING_COLUMNS, row_to_sighting

    with open_store(db, readonly=True) as store:
        ctx = access(store, user, case, "view", {"what": "sightings", "camera": camera})
        # What the case may read is chosen in the query (the limit counts visible rows), then passed through
        # the one gate every footage read takes.
        sql = f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE {visible_sql()}"
        params: tuple = visible_params(ctx.case)
        if camera:
            sql += " AND camera_id=?"
            params = (*params, camera)
        rows = [
            row_to_sighting(r) for r in store.query(sql + " ORDER BY wall_start LIMIT ?", (*params, limit))
        ]
        grant = authorize_sightings(ctx, [s.id for s in rows], partial=True)
        rows = [s for s in rows if s.id in set(grant.allowed)]
        ctx.log(detail={"what": "sightings", "camera": camera}, result_ids=[s.id for s in rows])
    show_sightings(rows, json_out)


def show_sightings(rows, json_out: bool) -> None:
    if json_out:
        print_json(
            [
                {
                    **s.public(),
                    "kind": s.class_name,
                    "upper": s.upper_color,
                    "lower": s.lower_color,
                    "items": s.items,
                    "entry": s.entry_edge,
                    "exit": s.exit_edge,
                }
                for s in rows
            ]
        )
        return
    from rich.table import Table

    table = Table("id", "camera", "class", "time (s)", "frames", "upper", "lower", "items", "in→out")
    for s in rows:
        table.add_row(
            str(s.id),
            s.camera,
            s.class_name,
            f"{s.start:.1f}-{s.end:.1f}",
            f"{s.first_frame}-{s.last_frame}",
            f"{s.upper_color or '-'} {s.upper_conf:.2f}",
            f"{s.lower_color or '-'} {s.lower_conf:.2f}",
            ", ".join(s.items) or "-",
            f"{s.entry_edge}→{s.exit_edge}",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("detect")(detect_cmd)
    app.command("track")(track_cmd)
    app.command("ingest")(ingest_cmd)
    app.command("sightings")(sightings_cmd)
