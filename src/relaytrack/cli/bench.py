"""CLI: `relaytrack bench ingest|scaling|risk|masking|town|search|mot|relay|service|watch|reid|pursuit`; the benchmarks themselves
live in `relaytrack.bench`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import (
    ConfigOpt,
    DbOpt,
    JsonFlag,
    JsonOutOpt,
    cli_config,
    emit_json,
    progress_callback,
)
from relaytrack.cli.risk import ConfigOpt as RiskConfigOpt
from relaytrack.config import load_config
from relaytrack.paths import data_dir, home_dir
from relaytrack.ui import console, console_err, print_json, progress

bench = typer.Typer(
    help="Benchmarks that print figures (accuracy, speed) and write them to files.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    from relaytrack.cli import (  # noqa: F401  (each registers its commands)
        bench_cameras,
        bench_pursuit,
        bench_reid,
        bench_reprocess,
        bench_vehicles,
        bench_watch,
    )

    app.add_typer(bench, name="bench")


@bench.command("ingest")
def bench_ingest_cmd(
    sources: Annotated[int, typer.Option("--sources", help="Clips ingested in each mode")] = 4,
    frames: Annotated[int, typer.Option("--frames", help="Frames per clip (from the start of each)")] = 100,
    workers: Annotated[
        list[int],
        typer.Option("--workers", help="Pool sizes to compare with sequential (repeatable; 0 = cores)"),
    ] = [2],
    ray: Annotated[bool, typer.Option("--ray/--no-ray", help="Also run on a local Ray")] = True,
    ray_mode: Annotated[
        str, typer.Option("--ray-mode", help="shared (one store) or shards (merged)")
    ] = "shared",
    config: ConfigOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the figures to this JSON file")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Ingest the same short real clips sequentially, with a process pool and with Ray; analysed frames per
    second and speed-up over sequential."""
    import json

    from relaytrack.bench.ingest import bench_ingest

    res = bench_ingest(
        cli_config(config),
        sources=sources,
        frames=frames,
        workers=workers,
        ray=ray,
        ray_mode=ray_mode,
        say=lambda m: console_err.print(m),
    )
    figures = res.as_dict()
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2))
    if json_out:
        print_json(figures)
        return
    # Plain aligned lines: they stay readable in CI logs and narrow terminals.
    frames_n = figures["rows"][0]["frames"] if figures["rows"] else 0
    console.print(
        f"ingest of {len(res.clips)} clips ({frames_n} frames) on {res.cores} cores", highlight=False
    )
    console.print(
        f"{'mode':<14}{'procs':>6}{'ONNX thr':>10}{'wall s':>9}{'frames/s':>10}{'speed-up':>10}  failed"
    )
    for r in figures["rows"]:
        note = f"  (+{r['startup_s']:.1f} s Ray start, not counted)" if r["startup_s"] else ""
        console.print(
            f"{r['mode']:<14}{r['workers']:>6}{r['onnx_threads']:>10}{r['wall_s']:>9.1f}{r['fps']:>10.1f}"
            f"{r['speedup'] or 0.0:>9.2f}x  {r['failed']}{note}",
            highlight=False,
        )
    console.print(
        f"load average (1 min) before/after: {figures['load_before']:.1f}/{figures['load_after']:.1f}"
        " (other work on the machine takes CPU from every mode; compare on an idle machine)",
        highlight=False,
    )
    if out:
        console.print(f"figures: {out}")


@bench.command("scaling")
def bench_scaling_cmd(
    workers: Annotated[str, typer.Option("--workers", help="Worker counts to compare, e.g. 1,2,4")] = "1,2",
    engine: Annotated[str, typer.Option("--engine", help="ray (actors) or local (process pool)")] = "ray",
    sources: Annotated[int, typer.Option("--sources", help="Clips ingested at every count")] = 8,
    frames: Annotated[int, typer.Option("--frames", help="Real frames per clip")] = 60,
    repeat: Annotated[
        int, typer.Option("--repeat", help="Runs per count, interleaved; the fastest kept")
    ] = 1,
    costs: Annotated[
        bool, typer.Option("--costs/--no-costs", help="Write per-frame costs for `plan capacity`")
    ] = True,
    config: ConfigOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the figures to this JSON file")] = None,
    json_out: JsonFlag = False,
) -> None:
    """The same ingest work with 1, 2, ... workers (Ray actors or a process pool, one ONNX thread each):
    throughput, speed-up and efficiency = speed-up / workers; writes the per-frame costs `plan capacity`
    reads."""
    from relaytrack.bench.scaling import bench_scaling, parse_workers, print_report

    res = bench_scaling(
        cli_config(config), workers=parse_workers(workers), sources=sources, frames=frames, engine=engine,
        repeat=repeat, write_costs=costs, say=lambda m: console_err.print(m),
    )  # fmt: skip
    figures = res.as_dict()
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2))
    if json_out:
        print_json(figures)
    else:
        print_report(figures, lambda m: console.print(m, highlight=False, soft_wrap=True))


@bench.command("risk")
def bench_risk(
    repeat: Annotated[int, typer.Option("--repeat", min=1, max=10)] = 3,
    config: RiskConfigOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """구-level backtest (each year predicted from layers dated before it; index, last year's crime, combined
    model) under its protocol, and full-Seoul build time (target < 10 s on 2 cores)."""
    from relaytrack.bench.risk import print_report, run_bench
    from relaytrack.risk.config import load_config as load_risk_config

    figures = run_bench(load_risk_config(config), repeat)
    if figures is None:
        return
    if json_out:
        print_json(figures)
    else:
        print_report(figures, lambda m: console.print(m))
    path = home_dir() / "bench" / "risk.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")


@bench.command("masking")
def bench_masking(
    seq: Annotated[
        Path | None,
        typer.Option(help="MOT sequence folder with gt/gt.txt (default: the scored sets of the protocol)"),
    ] = None,
    video: Annotated[
        Path | None, typer.Option(help="Footage when the folder has no img1/ (town video)")
    ] = None,
    target: Annotated[int | None, typer.Option(help="GT id of the target (default: the longest)")] = None,
    frames: Annotated[int, typer.Option(help="Frames to export from --first (with --seq)")] = 100,
    first: Annotated[int, typer.Option("--first", min=1, help="First frame of the window (with --seq)")] = 1,
    tracks: Annotated[
        bool, typer.Option("--tracks/--no-tracks", help="Mask the pipeline's other tracks too")
    ] = True,
    detect: Annotated[bool, typer.Option("--detect/--no-detect")] = True,
    faces: Annotated[bool, typer.Option("--faces/--no-faces")] = True,
    threshold: Annotated[float, typer.Option(help="Share of a box that must be covered")] = 0.9,
    tune: Annotated[
        bool,
        typer.Option(
            "--tune",
            help="Search the target-match rule, the export's follower, its relink and the mask's pad on PETS09-S2L1"
            " frames 1-100 only",
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Also write the figures as JSON here")] = None,
    protect: Annotated[
        bool,
        typer.Option("--protect/--no-protect", help="--no-protect: mask as before finding 7 (comparison)"),
    ] = True,
    follow: Annotated[
        bool,
        typer.Option("--follow/--no-follow", help="--no-follow: frames with no stored target box masked whole"),
    ] = True,
) -> None:
    """Share of non-target GT person boxes masked in the exported frames, the target being what the pipeline
    tracked; pooled rate, worst frame and the target's unaltered share (mean, worst frame, frames >= 0.95),
    under the protocol (scored sets PETS09-S2L1 101-300, TUD-Stadtmitte, TUD-Campus; rule tuned on PETS09-S2L1
    1-100)."""
    from relaytrack.bench.evidence import measure_masking, print_masking
    from relaytrack.bench.masking_target import DEFAULT_RULE, SCORED_SETS, TUNE_SET
    from relaytrack.paths import data_dir

    if tune:
        from relaytrack.bench.evidence import tune_follow, tune_pad, tune_relink

        rel, f0, f1 = TUNE_SET
        print_json(measure_masking(data_dir() / rel, first=f0, frames=f1 - f0 + 1, tune=True))
        print_json(tune_follow(data_dir() / rel, f0, f1 - f0 + 1))
        print_json(tune_relink(data_dir() / rel, f0, f1 - f0 + 1))
        print_json(tune_pad(data_dir() / rel, f0, f1 - f0 + 1))
        return
    windows = [(seq, first, frames)] if seq else [
        (data_dir() / rel, f0, (f1 - f0 + 1) if f1 else 10_000) for rel, f0, f1 in SCORED_SETS
    ]  # fmt: skip
    console.print(f"[dim]data: {', '.join(f'{w[0].name} from frame {w[1]}' for w in windows)}[/dim]")
    console.print(f"[dim]tuning split: target-match rule {DEFAULT_RULE.__dict__} tuned on {TUNE_SET[0]} frames "
                  f"{TUNE_SET[1]}-{TUNE_SET[2]}; scored split: the windows above (disjoint)[/dim]")  # fmt: skip
    console.print(f"[dim]thresholds: a box is masked when >= {threshold} of it is covered; target = the "
                  "pipeline's tracklets from a click on the target's first box the system outlines, never the GT "
                  f"boxes; the export {'follows' if follow else 'does not follow'} it where they stored no box"
                  "[/dim]")  # fmt: skip
    runs = []
    configs = [(tracks, detect, faces)]
    if tracks and detect:
        configs.append((False, True, faces))  # peer: detection pass alone
    for path, f0, n in windows:
        for tr, de, fa in configs:
            with progress() as bar:
                task = bar.add_task(f"masking {path.name} tracks={tr} detect={de}", total=None)
                runs.append(
                    measure_masking(
                        path, target=target, frames=n, first=f0, tracks=tr, detect=de, faces=fa, video=video,
                        threshold=threshold, progress=lambda k, t=task: bar.advance(t, k), protect=protect,
                        follow=follow,
                    )
                )  # fmt: skip
    print_masking(runs, console)
    if out:
        out.write_text(json.dumps(runs, indent=1))


@bench.command("town")
def bench_town(
    out: Annotated[Path, typer.Option("--out", help="Folder for the bench towns")] = Path(
        ".relaytrack/bench-town"
    ),
    seed: Annotated[
        list[int] | None,
        typer.Option(
            "--seed", help="Town seed (repeatable; default: seeds.HELD_OUT['detect'], or TUNING with --tune)"
        ),
    ] = None,
    tune: Annotated[
        bool, typer.Option("--tune", help="Split-pass check on tuning seeds (refuses held-out seeds)")
    ] = False,
    cameras: Annotated[int, typer.Option("--cameras")] = 4,
    minutes: Annotated[float, typer.Option("--minutes")] = 1.0,
    frames: Annotated[
        int | None, typer.Option("--frames", help="Analysed frames per camera (default: the whole video)")
    ] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Analyse every n-th frame")] = 3,
    lightings: Annotated[
        str, typer.Option("--lighting", help="Comma list (default: the lighting each seed fixes)")
    ] = "",
    json_file: Annotated[Path | None, typer.Option("--json", help="Also write the figures here")] = None,
) -> None:
    """Detector recall (IoU 0.5) on held-out towns over whole videos: per town, pooled with a 95% interval,
    and by person height; the protocol above the tables."""
    from relaytrack.bench.town import print_report, run_bench

    lights = [x.strip() for x in lightings.split(",") if x.strip()] or None
    res = run_bench(
        out, seeds=seed or None, lightings=lights, tune=tune, every=every, max_frames=frames, cameras=cameras,
        minutes=minutes, progress=progress_callback,
    )  # fmt: skip
    print_report(res, lambda m: console.print(m))
    if json_file:
        json_file.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")


@bench.command("search")
def bench_search_cmd(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Simulated store (file or postgresql:// URL) to use, or to build when empty (default under /tmp)",
        ),
    ] = None,
    sightings: Annotated[int, typer.Option("--sightings", min=1000)] = 1_000_000,
    cameras: Annotated[int, typer.Option("--cameras", min=2)] = 10_000,
    queries: Annotated[int, typer.Option("--queries", min=1, max=2000, help="Queries of each type")] = 100,
    top: Annotated[int, typer.Option("--top", min=1, max=500)] = 20,
    nprobe: Annotated[
        int | None,
        typer.Option("--nprobe", min=1, help="Inverted lists probed per shard (default: 1/8 of them)"),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="Shard fan-out: threads (default) or ray (a local Ray)")
    ] = "threads",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write the figures here as JSON (the table is printed)")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the figures as JSON here")] = None,
) -> None:
    """Latency (p50/p95) and recall@K against exact NumPy search, on a simulated city store; search by example
    goes through the store's vector shards (built first when missing)."""
    from relaytrack.bench.search import print_report, run_bench

    res = run_bench(
        db, sightings=sightings, cameras=cameras, queries=queries, top=top, nprobe=nprobe, seed=seed,
        engine=engine,
    )  # fmt: skip
    for f in (json_file, out):
        if f:
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(res, indent=2, ensure_ascii=False), encoding="utf-8")
    print_report(res)


@bench.command("mot")
def bench_mot(
    folder: Annotated[
        Path | None, typer.Argument(help="MOTChallenge folder (default: ../shared/data/mot15)")
    ] = None,
    trackers: Annotated[
        str, typer.Option(help="Comma-separated: relaytrack, relaytrack-offline, bytetrack, ocsort")
    ] = "relaytrack,relaytrack-offline,bytetrack,ocsort",
    split: Annotated[
        str,
        typer.Option(
            help="loso (leave one sequence out) or a sequence name to tune on (the others are scored)"
        ),
    ] = "loso",
    candidates: Annotated[
        int, typer.Option(help="Random configurations tried per tracker and fold, besides its defaults")
    ] = 24,
    seed: Annotated[int, typer.Option(help="Seed of the random search")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where the table is written (JSON and Markdown beside it; "
            "default .relaytrack/bench/mot.json)",
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config")] = None,
    speed: Annotated[bool, typer.Option(help="Also measure detect/track/describe speed at 1280x720")] = True,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """HOTA, IDF1, MOTA of relaytrack vs ByteTrack and OC-SORT on relaytrack's own detections: every tracker
    tuned on sequences that are not scored, every tracker's online output scored; the protocol is printed
    above the table."""
    from rich.table import Table

    from relaytrack.bench import mot

    folder = folder or data_dir() / "mot15"
    out = out or home_dir() / "bench" / "mot.json"
    cfg = load_config(config)
    names = [t.strip() for t in trackers.split(",") if t.strip()]
    for n in names:
        if n not in mot.TRACKER_NAMES:
            raise typer.BadParameter(f"unknown tracker {n!r}; known: {', '.join(mot.TRACKER_NAMES)}")
    try:
        res = mot.run(
            folder,
            cfg,
            names,
            out,
            cache_dir=home_dir() / "bench" / "mot-cache",
            split=split,
            n=candidates,
            seed=seed,
            progress=lambda msg: console_err.print(f"[dim]{msg}[/dim]"),
            speed=speed,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    protocol = mot.protocol_lines(res)
    md = ["# bench mot", "", "```", *protocol, "```", ""]
    md += [
        "| tracker | HOTA | IDF1 | MOTA | IDSW | FP | FN | track fps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tr, s in res["table"].items():
        md.append(
            f"| {tr} | {s['HOTA']:.1f} | {s['IDF1']:.1f} | {s['MOTA']:.1f} | {s['IDSW']} | "
            f"{s['FP']} | {s['FN']} | {s['track_fps']:.0f} |"
        )
    if "speed" in res:
        md += ["", "| speed | value |", "|---|---|"] + [f"| {k} | {v:.1f} |" for k, v in res["speed"].items()]
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    if json_out:
        print_json(res)
        return
    for line in protocol:
        console.print(line, markup=False, highlight=False)
    table = Table(
        "tracker",
        "HOTA",
        "IDF1",
        "MOTA",
        "IDSW",
        "FP",
        "FN",
        "track fps",
        title="scored spans only (each with thresholds tuned without it)",
    )
    for tr, s in res["table"].items():
        table.add_row(
            tr,
            f"{s['HOTA']:.1f}",
            f"{s['IDF1']:.1f}",
            f"{s['MOTA']:.1f}",
            str(s["IDSW"]),
            str(s["FP"]),
            str(s["FN"]),
            f"{s['track_fps']:.0f}",
        )
    console.print(table)
    if "speed" in res:
        sp = Table("speed", "value", title="frames per second (2 CPU threads)")
        for k, v in res["speed"].items():
            sp.add_row(k, f"{v:.1f}")
        console.print(sp)
    console.print(f"written: {out} and {out.with_suffix('.md')}")


@bench.command("relay")
def bench_relay(
    town: Annotated[
        list[Path] | None,
        typer.Option(
            help="Town folder (truth.json, mot/<cam>/gt/gt.txt) already ingested into --db; repeat "
            "--town/--db pairs for a per-town and mean table, legacy vs robust relay"
        ),
    ] = None,
    synth_people: Annotated[int, typer.Option(help="People in the ablation's synthetic grid town")] = 60,
    seeds: Annotated[
        int,
        typer.Option(
            help="Ablation on the older simulator (engine's own edge model) over TUNING seeds 0..N-1; 0: skip"
        ),
    ] = 0,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out/--no-held-out",
            help="Routes by identity on held-out towns: full relay on map/learned/oracle links, two baselines",
        ),
    ] = True,
    held_out_seeds: Annotated[
        int,
        typer.Option(help="Held-out detection-level towns (HELD_OUT['relay'], at most 10)", min=0, max=10),
    ] = 10,
    people: Annotated[int, typer.Option(help="People in each held-out detection-level town", min=10)] = 240,
    suspects: Annotated[int, typer.Option(help="Suspects relayed per detection-level town", min=1)] = 20,
    towns: Annotated[
        int,
        typer.Option(
            help="Held-out rendered hard towns (HELD_OUT['relay-towns'], seeds 601-612, at most 12; with --tuning "
            "the first N of the twenty TUNING towns), rendered and ingested here: several minutes each on 2 cores",
            min=0,
            max=20,
        ),
    ] = 1,
    town_cameras: Annotated[int, typer.Option(help="Cameras per rendered town", min=2, max=40)] = 12,
    town_minutes: Annotated[float, typer.Option(help="Minutes of video per rendered town", min=0.2)] = 1.0,
    town_decoys: Annotated[int, typer.Option(help="Look-alike decoys per rendered town", min=0)] = 3,
    town_crowd: Annotated[
        float, typer.Option(help="Pedestrian density factor of the rendered towns", min=0.1)
    ] = 2.0,
    work: Annotated[
        Path | None,
        typer.Option(
            help="Folder for rendered towns and their stores, reused by later runs "
            "(default .relaytrack/bench/relay-towns)"
        ),
    ] = None,
    tuning: Annotated[
        bool,
        typer.Option(
            "--tuning", help="Run the held-out part on TUNING seeds instead (development; never a result)"
        ),
    ] = False,
    epfl: Annotated[
        bool, typer.Option("--epfl/--no-epfl", help="Topology/time-only figures on EPFL GT")
    ] = True,
    scale_db: Annotated[
        Path | None,
        typer.Option("--scale-db", help="Large store (e.g. the city simulator's) for 10-hop latency"),
    ] = None,
    scale_queries: Annotated[int, typer.Option(help="Relay calls timed on --scale-db")] = 30,
    db: Annotated[
        list[str] | None,
        typer.Option(
            "--db",
            help="Store (file or postgresql:// URL): one per --town, in the same order; without --town, the "
            "large store whose --hops relay latency is measured (as --scale-db, nothing else runs)",
        ),
    ] = None,
    hops: Annotated[int, typer.Option("--hops", min=1, max=50, help="Hops of the timed relays")] = 10,
    json_out: JsonOutOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the figures as JSON here")] = None,
) -> None:
    """Relay accuracy (per-hop P/R, camera-sequence accuracy, rank-1/mAP) vs a colour-histogram baseline and
    ablations, on generated scenes and EPFL GT; 10-hop latency p50/p95 on a large store."""
    from relaytrack.bench.relay import bench_scale, print_report, run_bench
    from relaytrack.bench.relay_heldout import TownOptions, print_held_out, run_held_out

    if db and not town:  # the latency contract: `bench relay --db URL|PATH --hops 10 --json F`
        res = {"scale": bench_scale(db[0], scale_queries, hops=hops)}
        s = res["scale"]
        res["relay"] = {"p50_ms": s["latency_p50_s"] * 1000, "p95_ms": s["latency_p95_s"] * 1000}
        res.update({k: s[k] for k in ("sightings", "cameras", "hops", "backend")})
        emit_json(res, json_out, out, print_report)
        return
    held = None
    if held_out:
        held = run_held_out(
            synth_seeds=held_out_seeds,
            people=people,
            suspects=suspects,
            towns=towns,
            town_opts=TownOptions(town_cameras, town_minutes, town_decoys, town_crowd),
            work=work or home_dir() / "bench" / "relay-towns",
            tuning=tuning,
            say=(lambda m: None) if json_out else (lambda m: console_err.print(m)),
        )
    res = run_bench(
        town=town,
        db=db,
        synth_people=synth_people,
        seeds=seeds,
        epfl=epfl,
        scale_db=scale_db,
        scale_queries=scale_queries,
    )
    if held is not None:
        res = {"held_out": held, **res}

    def report(r: dict) -> None:
        if held is not None:
            print_held_out(held)
        print_report(r)

    emit_json(res, json_out, out, report)


@bench.command("service")
def bench_service_cmd(
    users: Annotated[int, typer.Option("--users", min=1, max=200, help="Concurrent console users")] = 8,
    subscribers: Annotated[
        int, typer.Option("--subscribers", min=0, max=1000, help="Live alert (SSE) subscribers")
    ] = 20,
    duration: Annotated[float, typer.Option("--duration", min=2, max=600, help="Seconds of load")] = 20.0,
    people: Annotated[int, typer.Option("--people", min=10, help="People in the synthetic town")] = 1500,
    alert_rate: Annotated[float, typer.Option("--alert-rate", min=0, help="Alerts written per second")] = 2.0,
    db: DbOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the figures as JSON here")] = None,
    json_out: JsonFlag = False,
) -> None:
    """N console users searching + M live alert subscribers against `relaytrack serve` on loopback:
    p50/p95 latency, errors, alert delivery latency; the in-process search as the baseline."""
    from relaytrack.bench.service import print_report, run_bench

    res = run_bench(
        users=users,
        subscribers=subscribers,
        duration_s=duration,
        people=people,
        alert_rate=alert_rate,
        db=db,
    )
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_json(res) if json_out else print_report(res)
