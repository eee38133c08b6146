"""`relaytrack bench town`: detector recall of rendered people on held-out towns, over whole videos.

Protocol: the scored towns are `seeds.HELD_OUT["detect"]` (fixed before the split passes were tuned, never
rendered while tuning), each in the lighting its seed fixes (`seeds.lighting_of`: the five seeds cover day,
dusk and night), small enough for 2 cores (4 cameras x 1 minute at 10 fps) and analysed on every 3rd frame
over the whole video: the first seconds of a town are its emptiest, so a capped run flatters. `tune=True`
is the split-pass check used while tuning: it renders tuning seeds only (`seeds.render_for_tuning`, which
refuses a held-out seed). Recall is pooled over every gt box of every scored town (IoU 0.5, one-to-one),
with a 95 % Wilson interval on the pooled boxes (boxes of one person in nearby frames are not independent, so
the interval is too narrow: the spread over towns is printed beside it) and the per-height table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relaytrack.bench.seeds import HELD_OUT, TUNING, check_tuning, lighting_of, render_for_tuning
from relaytrack.bench.stats import proportion

CAMERAS, MINUTES, EVERY = 4, 1.0, 3


@dataclass(frozen=True)
class TownRun:
    """One town to render and score: its seed, lighting and whether it is a tuning or a held-out town."""

    seed: int
    lighting: str
    split: str  # "tuning" | "held_out"

    @property
    def name(self) -> str:
        return f"s{self.seed}-{self.lighting}"


def plan_runs(seeds: list[int] | None, lightings: list[str] | None, tune: bool) -> list[TownRun]:
    """Held-out seeds by default; `tune` takes tuning seeds and refuses held-out ones before any rendering."""
    split = "tuning" if tune else "held_out"
    chosen = list(seeds) if seeds else list(TUNING["detect"] if tune else HELD_OUT["detect"])
    if tune:
        for s in chosen:
            check_tuning("detect", s)
    return [TownRun(s, light, split) for s in chosen for light in (lightings or [lighting_of(s)])]


def pool(rows: list[dict]) -> dict[str, Any]:
    """Recall figures pooled over several towns' gt boxes, from their counts."""
    gt = sum(r["gt_boxes"] for r in rows)
    hits = sum(r["hits"] for r in rows)
    vis_gt = sum(r["visible_gt"] for r in rows)
    det = sum(r["det_boxes"] for r in rows)
    heights: dict[str, dict[str, int]] = {}
    for r in rows:
        for b, v in r["by_height"].items():
            h = heights.setdefault(b, {"gt": 0, "hits": 0})
            h["gt"] += v["gt"]
            h["hits"] += v["hits"]
    order = ("20-32px", "32-64px", "64-128px", "128-maxpx")
    by_height = {
        b: {**heights[b], "recall": round(heights[b]["hits"] / heights[b]["gt"], 3)} for b in order if b in heights
    }
    per_town = [r["recall"] for r in rows if r["recall"] is not None]
    return {
        "towns": len(rows),
        "gt_boxes": gt,
        "hits": hits,
        "recall": round(hits / gt, 3) if gt else None,
        "recall_ci": proportion(hits, gt).as_dict(),
        "recall_low": round(sum(r["hits_low"] for r in rows) / gt, 3) if gt else None,
        "recall_visible": round(sum(r["visible_hits"] for r in rows) / vis_gt, 3) if vis_gt else None,
        "precision": round(sum(r["det_tp"] for r in rows) / det, 3) if det else None,
        "recall_town_min": min(per_town, default=None),
        "recall_town_max": max(per_town, default=None),
        "by_height": by_height,
    }


def protocol(
    runs: list[TownRun], every: int, max_frames: int | None, person_conf: float | None, cameras: int, minutes: float
) -> dict:
    held = [r for r in runs if r.split == "held_out"]
    return {
        "data": f"generated towns, {cameras} cameras x {minutes:g} min at 10 fps, lighting fixed by the seed",
        "tuning split": f"seeds.TUNING['detect'] = {TUNING['detect']} (split passes tuned on them; not scored "
        "here unless --tune)",
        "scored split": ", ".join(r.name for r in runs)
        + (" (held out: seeds.HELD_OUT['detect'], fixed before tuning)" if held else " (TUNING seeds: a check, "
           "not a score)"),
        "frames": f"every {every}th frame over the whole video"
        if max_frames is None
        else f"every {every}th frame, first {max_frames} analysed per camera",
        "thresholds": f"IoU 0.5 one-to-one; recall at person_conf {person_conf}; recall_low at low_conf; "
        "visible = gt visibility >= 0.5 and height >= 32 px",
    }


def run_bench(
    out: Path,
    seeds: list[int] | None = None,
    lightings: list[str] | None = None,
    tune: bool = False,
    every: int = EVERY,
    max_frames: int | None = None,
    cameras: int = CAMERAS,
    minutes: float = MINUTES,
    progress: Callable[[str], tuple[Any, Callable]] | None = None,
) -> dict[str, Any]:
    """Render (or reuse) each planned town, measure detector recall on it, pool the scored towns."""
    from relaytrack.town import generate, measure_detector_recall

    runs = plan_runs(seeds, lightings, tune)
    towns: dict[str, dict] = {}
    for r in runs:
        d = Path(out) / r.name
        bar, cb = progress(f"render {r.name}") if progress else (None, None)
        kw = {"cameras": cameras, "minutes": minutes, "lighting": r.lighting, "progress": cb}
        with bar or _Null():
            path = render_for_tuning("detect", r.seed, d, **kw) if tune else generate(r.seed, out_dir=d, **kw)
        meta = json.loads((path / "town.json").read_text(encoding="utf-8"))
        bar, cb = progress(f"detect {r.name}") if progress else (None, None)
        with bar or _Null():
            rec = measure_detector_recall(path, max_frames=max_frames, every=every, progress=cb)
        rec.update(seed=r.seed, split=r.split, render_fps=meta["render_fps"])
        towns[r.name] = rec
    rows = list(towns.values())
    res: dict[str, Any] = {
        "protocol": protocol(
            runs, every, max_frames, rows[0]["person_conf"] if rows else None, cameras, minutes
        ),
        "towns": towns,
        "pooled": pool(rows) if rows else None,
    }
    # Per lighting, pooled over its towns (also the top-level keys the earlier single-seed JSON had).
    for light in sorted({r.lighting for r in runs}):
        sel = [towns[r.name] for r in runs if r.lighting == light]
        res[light] = pool(sel)
    return res


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def print_report(res: dict, echo: Callable[[str], None]) -> None:
    from rich.table import Table

    from relaytrack.ui import console

    for k, v in res["protocol"].items():
        echo(f"[dim]{k}: {v}[/dim]")
    t = Table("town", "split", "gt boxes", "recall", "recall low", "recall visible", "precision", "det ms",
              title="bench town: detector recall per town")  # fmt: skip
    for name, r in res["towns"].items():
        t.add_row(name, r["split"], str(r["gt_boxes"]), str(r["recall"]), str(r["recall_low"]),
                  str(r["recall_visible"]), str(r["precision"]), str(r["det_ms"]))  # fmt: skip
    console.print(t)
    p = res["pooled"]
    if not p:
        return
    ci = proportion(p["recall_ci"]["k"], p["recall_ci"]["n"]).text()
    echo(f"pooled over {p['towns']} towns: recall {ci} (towns {p['recall_town_min']}-{p['recall_town_max']}), "
         f"low {p['recall_low']}, visible {p['recall_visible']}, precision {p['precision']}")  # fmt: skip
    h = Table("height", "gt boxes", "found", "recall", title="pooled recall by person height")
    for b, v in p["by_height"].items():
        h.add_row(b, str(v["gt"]), str(v["hits"]), str(v["recall"]))
    console.print(h)
