"""`relaytrack bench lowrate`: tracking at a low analysed rate on real footage, with and without matching by
distance (`track.low_rate_s`, `track.max_speed`, `track.low_rate_min_len`).

City cameras are indexed at about 1 analysed frame per second (issue 17); there a walker moves further than
their own box between two analysed frames, so IoU alone starts a new track at every frame and a store keeps
almost nobody. Protocol: each real MOTChallenge sequence is analysed on the frame grid the pipeline uses at
each rate (`source.open.analysed_indices`, no motion gating), relaytrack's own NanoDet person detections on
those frames only; the tracker runs with the default configuration ("distance") and with distance matching
switched off ("IoU only": `low_rate_s` beyond any interval, `low_rate_min_len` = `min_len`); what is scored is
what ingest stores (finished tracklets), by TrackEval HOTA / IDF1 / MOTA on the analysed frames only
(renumbered 1..n, so a rate is not charged for frames it never looked at), pooled over the sequences. Nothing
was tuned on these sequences (the rule's two settings were chosen on rendered tuning towns 7 and 11).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.config import Config, TrackConfig
from relaytrack.records import Detections

VARIANTS = ("distance", "IoU only")


def variant_config(base: TrackConfig, variant: str) -> TrackConfig:
    if variant == "distance":
        return base
    return base.model_copy(update={"low_rate_s": 1e9, "low_rate_min_len": base.min_len})


def stored_rows(
    cfg: TrackConfig,
    size: tuple[int, int],
    name: str,
    grid: list[int],
    fps: float,
    dets: dict[int, Detections],
    looks: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    """[analysed frame number, track id, x, y, w, h] of the tracklets the tracker finishes (what ingest
    stores) when it sees only the frames of `grid`."""
    from relaytrack.track import Tracker

    tracker = Tracker(cfg, size, name, classes=("person",))
    remap = {f: k for k, f in enumerate(grid, 1)}
    done = []
    for f in grid:
        tracker.update(dets.get(f, Detections.empty()), f, (f - 1) / fps, looks=(looks or {}).get(f))
        done.extend(tracker.pop_finished())
    done.extend(tracker.flush())
    rows = [
        [remap[b.frame], tl.track_id, b.xyxy[0], b.xyxy[1], b.xyxy[2] - b.xyxy[0], b.xyxy[3] - b.xyxy[1]]
        for tl in done
        for b in tl.boxes
    ]
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


def _detect(seq, frames: set[int], cfg: Config) -> tuple[dict[int, Detections], dict[int, np.ndarray]]:
    """Person detections of the frames, and their colour looks (what ingest gives the tracker)."""
    import cv2

    from relaytrack.detect import Detector
    from relaytrack.records import PERSON
    from relaytrack.track.look import person_looks

    det = Detector(cfg.detect)
    out: dict[int, Detections] = {}
    looks: dict[int, np.ndarray] = {}
    for f in sorted(frames):
        img = cv2.imread(str(seq.frames[f - 1]))
        d = det.detect(img)
        out[f] = d.select(d.class_id == PERSON)
        looks[f] = person_looks(img, out[f])
    return out, looks


def run(
    folders: list[Path], rates: list[float], cfg: Config, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Every MOTChallenge sequence under `folders`."""
    from relaytrack.errors import InputError
    from relaytrack.source.motio import sequences

    for folder in folders:
        if not Path(folder).is_dir():
            raise InputError(f"{folder}: no such folder")
    paths = [s for folder in folders for s in sequences(folder)]
    if not paths:
        raise InputError(f"{', '.join(map(str, folders))}: no MOTChallenge sequences (img1/ and gt/gt.txt)")
    return run_sequences(paths, rates, cfg, say)


def run_sequences(
    paths: list[Path], rates: list[float], cfg: Config, say: Callable[[str], None] = print
) -> dict[str, Any]:
    from relaytrack.bench.mot_data import load_sequence
    from relaytrack.bench.mot_eval import combine, evaluate, scored_gt, seq_data
    from relaytrack.source.open import analysed_indices

    seqs = [load_sequence(Path(p)) for p in paths]
    results: dict[tuple[float, str], list] = {}
    per_seq: list[dict[str, Any]] = []
    for seq in seqs:
        grids = {r: analysed_indices(seq.n_frames, seq.fps, r) for r in rates}
        needed = set().union(*grids.values())
        say(f"{seq.name}: {seq.n_frames} frames at {seq.fps:g} fps; detecting {len(needed)}")
        dets, looks = _detect(seq, needed, cfg)
        gt = scored_gt(seq.gt)
        for r, grid in grids.items():
            remap = {f: k for k, f in enumerate(grid, 1)}
            g = gt[np.isin(gt[:, 0].astype(int), grid)].copy()
            g[:, 0] = [remap[int(f)] for f in g[:, 0]]
            for v in VARIANTS:
                rows = stored_rows(
                    variant_config(cfg.track, v), seq.size, seq.name, grid, seq.fps, dets, looks
                )
                res = evaluate(seq_data(g, rows, 1, len(grid)))
                results.setdefault((r, v), []).append(res)
                per_seq.append(
                    {
                        "sequence": seq.name,
                        "fps": r,
                        "variant": v,
                        "frames": len(grid),
                        "tracks": int(len(np.unique(rows[:, 1]))) if len(rows) else 0,
                        **combine([res]),
                    }
                )
    table = [{"fps": r, "variant": v, **combine(results[(r, v)])} for r in rates for v in VARIANTS]
    return {
        "protocol": " ".join((__doc__ or "").split("\n\n", 1)[-1].split()),
        "sequences": {s.name: {"frames": s.n_frames, "fps": s.fps} for s in seqs},
        "rates": rates,
        "table": table,
        "per_sequence": per_seq,
    }
