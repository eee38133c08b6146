"""CLI: `relaytrack bench mot` (other benchmarks register themselves from their own stages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.config import load_config
from relaytrack.paths import data_dir, home_dir
from relaytrack.ui import console, console_err, print_json


def bench_mot(
    folder: Annotated[Path | None, typer.Argument(help="MOTChallenge folder (default: ../shared/data/mot17-mini)")] = None,
    trackers: Annotated[str, typer.Option(help="Comma-separated: relaytrack, bytetrack, ocsort")] = "relaytrack,bytetrack,ocsort",
    out: Annotated[Path | None, typer.Option("--out", help="Where the table is written (JSON and Markdown beside it; "
                                             "default .relaytrack/bench/mot.json)")] = None,
    config: Annotated[Path | None, typer.Option("--config")] = None,
    speed: Annotated[bool, typer.Option(help="Also measure detect/track/describe speed at 1280x720")] = True,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """HOTA, IDF1, MOTA of relaytrack vs ByteTrack and OC-SORT on the same detections, plus stage speeds."""
    from rich.table import Table

    from relaytrack.bench import mot

    folder = folder or data_dir() / "mot17-mini"
    out = out or home_dir() / "bench" / "mot.json"
    cfg = load_config(config)
    names = [t.strip() for t in trackers.split(",") if t.strip()]
    for n in names:
        if n not in mot.TRACKERS:
            raise typer.BadParameter(f"unknown tracker {n!r}; known: {', '.join(mot.TRACKERS)}")
    res = mot.run(folder, cfg, names, out, progress=lambda msg: console_err.print(f"[dim]{msg}[/dim]"), speed=speed)
    md = [f"# bench mot: {folder} ({', '.join(res['sequences'])}; {res['frames']} frames)", ""]
    md += ["| detections | tracker | HOTA | IDF1 | MOTA | IDSW | FP | FN | track fps |", "|---|---|---|---|---|---|---|---|---|"]
    for det_name, scores in res["detections"].items():
        for tr, s in scores.items():
            md.append(f"| {det_name} | {tr} | {s['HOTA']:.1f} | {s['IDF1']:.1f} | {s['MOTA']:.1f} | {s['IDSW']} | "
                      f"{s['FP']} | {s['FN']} | {s['track_fps']:.0f} |")
    if "speed" in res:
        md += ["", "| speed | value |", "|---|---|"] + [f"| {k} | {v:.1f} |" for k, v in res["speed"].items()]
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    if json_out:
        print_json(res)
        return
    table = Table("detections", "tracker", "HOTA", "IDF1", "MOTA", "IDSW", "FP", "FN", "track fps",
                  title=f"{folder.name}: {', '.join(res['sequences'])} ({res['frames']} frames)")
    for det_name, scores in res["detections"].items():
        for tr, s in scores.items():
            table.add_row(det_name, tr, f"{s['HOTA']:.1f}", f"{s['IDF1']:.1f}", f"{s['MOTA']:.1f}", str(s["IDSW"]),
                          str(s["FP"]), str(s["FN"]), f"{s['track_fps']:.0f}")
    console.print(table)
    if "speed" in res:
        sp = Table("speed", "value", title="frames per second (2 CPU threads)")
        for k, v in res["speed"].items():
            sp.add_row(k, f"{v:.1f}")
        console.print(sp)
    console.print(f"written: {out} and {out.with_suffix('.md')}")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    bench.command("mot")(bench_mot)
