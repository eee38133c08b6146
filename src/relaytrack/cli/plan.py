"""CLI: `relaytrack plan capacity`; the arithmetic lives in `relaytrack.pipeline.capacity`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import ConfigOpt, JsonFlag, cli_config
from relaytrack.errors import RelaytrackError
from relaytrack.ui import console, console_err, print_json

plan = typer.Typer(help="Capacity planning from costs measured on this machine.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(plan, name="plan")


@plan.command("capacity")
def capacity_cmd(
    cameras: Annotated[int, typer.Option("--cameras", help="Cameras to index")],
    fps: Annotated[float, typer.Option("--fps", help="Analysed frames per second per camera")] = 1.0,
    source_fps: Annotated[
        float | None,
        typer.Option("--source-fps", help="The streams' own rate, every frame decoded (default: --fps)"),
    ] = None,
    gated_share: Annotated[
        float | None,
        typer.Option("--gated-share", help="Share of frames the motion gate skips (default: measured)"),
    ] = None,
    utilisation: Annotated[
        float, typer.Option("--utilisation", help="Busiest the cores are planned to run (headroom)")
    ] = 0.75,
    sightings_per_hour: Annotated[
        float | None,
        typer.Option("--sightings-per-hour", help="Sightings per camera-hour (default: measured)"),
    ] = None,
    footage_kbps: Annotated[
        float | None,
        typer.Option("--footage-kbps", help="Also size retained footage at this bit rate per camera"),
    ] = None,
    costs_file: Annotated[
        Path | None, typer.Option("--costs", help="Costs file (default: the one `bench scaling` writes)")
    ] = None,
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="Measure the costs now on a few real frames, and keep them")
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """CPU cores (and GPUs where a GPU cost is measured) and storage per day to index N cameras at F
    analysed frames/s with motion gating, from per-frame costs measured on this machine."""
    from relaytrack.pipeline.capacity import CapacityRequest, load_costs, plan_capacity, save_costs

    req = CapacityRequest(
        cameras=cameras, fps=fps, source_fps=source_fps, gated_share=gated_share, utilisation=utilisation,
        sightings_per_camera_hour=sightings_per_hour, footage_kbps=footage_kbps,
    )  # fmt: skip
    try:
        req.check()  # before a calibration run: bad input is a usage error (exit 2), at once
    except RelaytrackError as err:
        console_err.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if calibrate:
        from relaytrack.bench.costs import calibrate as run_calibration

        costs = run_calibration(cli_config(config), say=lambda m: console_err.print(m))
        origin = f"calibrated now, kept in {save_costs(costs, costs_file)}"
    else:
        costs, origin = load_costs(costs_file)
    p = plan_capacity(req, costs, origin)
    figures = p.as_dict()
    if json_out:
        print_json(figures)
        return
    for line in report_lines(figures):
        console.print(line, highlight=False, soft_wrap=True)


def report_lines(f: dict) -> list[str]:
    c, ms = f["costs"], f["per_frame_ms"]
    rate = f"{f['fps']:g} analysed frame/s" + (
        f" (streams decoded at {f['source_fps']:g} fps)" if f["source_fps"] != f["fps"] else ""
    )
    lines = [
        f"{f['cameras']:,} cameras at {rate}, motion gate skipping {f['gated_share']:.1%} of sampled frames:",
        f"  CPU: {f['cpu_cores']:,} cores at {f['utilisation']:.0%} utilisation "
        f"({f['core_seconds_per_s']:,.0f} core-seconds per second: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in f["stage_cores"].items())
        + ")",
        "  per frame (ms): " + ", ".join(f"{k} {v}" for k, v in ms.items() if v is not None),
    ]
    if f["gpus"] is None:
        lines.append("  GPU: none measured (no GPU per-frame cost on this machine); the plan is CPU only")
    else:
        lines.append(f"  GPU: {f['gpus']:,} for the detector, leaving {f['cpu_cores_with_gpus']:,} CPU cores")
    lines.append(
        f"  storage: {f['sightings_per_day']:,} sightings per day ({f['sightings_per_camera_hour']:,.0f} per "
        f"camera-hour), {f['bytes_per_sighting'] / 1e3:.1f} kB each -> {f['storage_gb_per_day']:,.1f} GB per day"
    )
    if f["footage_gb_per_day"] is not None:
        lines.append(f"  retained footage: {f['footage_gb_per_day']:,.1f} GB per day")
    where = ", ".join(str(c[k]) for k in ("command", "measured_at", "host") if c.get(k))
    extra = (
        f", {c['cores']} cores, load {c['load_avg_1m']}" if c.get("cores") and c.get("load_avg_1m") else ""
    )
    lines.append(f"costs: {c['origin']} ({where}{extra})")
    if c.get("footage"):
        lines.append(
            f"  measured on {', '.join(c['footage'])} (768x576, busy pedestrian scenes): a quiet street gates "
            "more frames and has fewer sightings; 1080p H.264 streams cost more to decode"
        )
    return lines
