"""`relaytrack bench mot`: relaytrack's tracker against peer trackers on the same detections, tuned and scored
the community's way, by TrackEval's HOTA, IDF1 and MOTA; plus stage speeds.

Protocol (`bench.mot_protocol`): every tracker's thresholds (relaytrack's too) are chosen on sequences that
are then not scored (leave-one-sequence-out by default, or tune on one and score the others), from the same
number of random candidates in its search space. Every tracker gets exactly the same boxes: relaytrack's own
NanoDet detections of each sequence, computed once and cached (`bench.mot_data`). What is scored is each
tracker's **online** output: the boxes it reports at frame t knowing only frames <= t (for relaytrack, the
`Tracks` that `Tracker.update` returns, the same that ingest and the live watch act on). relaytrack's
**offline** output (finished tracklets, their boxes before confirmation included, tracklets shorter than
`min_len` dropped: what the store keeps) is tuned and scored separately as `relaytrack-offline`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.bench import mot_eval
from relaytrack.bench.mot_data import SeqData, cached_detections, load_sequence
from relaytrack.bench.mot_eval import trackeval_scores  # noqa: F401  (bench.truth uses it)
from relaytrack.bench.mot_protocol import (
    DET_MIN,
    RELAYTRACK_SPACE,
    Fold,
    Span,
    Tuned,
    View,
    make_folds,
    params_key,
    sample,
    tune,
    view,
)
from relaytrack.config import Config, TrackConfig
from relaytrack.records import Detections
from relaytrack.source.motio import sequences

PEERS = ("bytetrack", "ocsort")
SPLIT_WORDS = {
    "loso": "leave one sequence out",
    "halves": "per sequence: tune on the first half, score the second",
}
TRACKER_NAMES = ("relaytrack", "relaytrack-offline", *PEERS)


# -- trackers -------------------------------------------------------------------------------------------
def _cut(v: View, f: int, det_min: float) -> tuple[Detections, np.ndarray | None, np.ndarray | None]:
    """A frame's detections above `det_min`, with their appearance features and colour looks (None: absent)."""
    d = v.dets.get(f, Detections.empty())
    keep = d.confidence >= det_min
    feats, looks = v.feats.get(f), v.looks.get(f)
    return (
        d.select(keep),
        feats[keep] if feats is not None and len(feats) == len(d) else None,
        looks[keep] if looks is not None and len(looks) == len(d) else None,
    )


def track_config(params: dict[str, Any], base: TrackConfig | None = None) -> TrackConfig:
    base = base or TrackConfig()
    kw = {k: v for k, v in params.items() if k in TrackConfig.model_fields}
    return base.model_copy(update=TrackConfig(**{**base.model_dump(), **kw}).model_dump())


def run_relaytrack(params: dict[str, Any], v: View, online: bool = True) -> np.ndarray:
    """relaytrack on one span. online: the confirmed tracks `update` returns at each frame; offline: the
    boxes of the tracklets it finishes (what ingest stores)."""
    from relaytrack.track import Tracker

    tracker = Tracker(track_config(params), v.size, v.span.seq, classes=("person",))
    rows: list[list[float]] = []
    finished = []
    for f in range(v.span.first, v.span.last + 1):
        d, feats, looks = _cut(v, f, float(params.get("det_min", 0.0)))
        out = tracker.update(d, f, (f - 1) / v.fps, feats=feats, looks=looks)
        if online:
            for tid, b in zip(out.track_id, out.xyxy, strict=True):
                rows.append([f, int(tid), b[0], b[1], b[2] - b[0], b[3] - b[1]])
        else:
            finished.extend(tracker.pop_finished())
    if not online:
        finished.extend(tracker.flush())
        for tl in finished:
            for b in tl.boxes:
                x1, y1, x2, y2 = b.xyxy
                rows.append([b.frame, tl.track_id, x1, y1, x2 - x1, y2 - y1])
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


def _peer_class(name: str):
    import trackers

    if name == "bytetrack":
        return trackers.ByteTrackTracker
    if name == "ocsort":
        return trackers.OCSORTTracker
    raise ValueError(f"unknown peer tracker {name!r}; known: {', '.join(PEERS)}")


def run_peer(name: str, params: dict[str, Any], v: View) -> np.ndarray:
    """A `trackers` tracker on one span: its online output (ids it reports, -1 = not yet confirmed)."""
    import supervision as sv

    kw = {k: val for k, val in params.items() if k != "det_min"}
    tracker = _peer_class(name)(frame_rate=v.fps, **kw)
    rows = []
    for f in range(v.span.first, v.span.last + 1):
        d, _, _ = _cut(v, f, float(params.get("det_min", 0.0)))
        out = tracker.update(
            sv.Detections(xyxy=d.xyxy.astype(np.float32), confidence=d.confidence, class_id=d.class_id)
        )
        if out.tracker_id is None:
            continue
        for box, tid in zip(out.xyxy, out.tracker_id, strict=True):
            if tid is None or tid < 0:
                continue
            rows.append([f, int(tid), box[0], box[1], box[2] - box[0], box[3] - box[1]])
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


def run_tracker(name: str, params: dict[str, Any], v: View) -> np.ndarray:
    if name == "relaytrack":
        return run_relaytrack(params, v, online=True)
    if name == "relaytrack-offline":
        return run_relaytrack(params, v, online=False)
    return run_peer(name, params, v)


def search_space(name: str) -> dict[str, dict]:
    if name.startswith("relaytrack"):
        space = dict(RELAYTRACK_SPACE)
    else:
        space = dict(_peer_class(name).search_space)
    return {**space, **DET_MIN}


def defaults(name: str, cfg: Config) -> dict[str, Any]:
    """Candidate 0: the tracker as shipped (no detection cut beyond the detector's own)."""
    import inspect

    space = search_space(name)
    if name.startswith("relaytrack"):
        base = cfg.track.model_dump()
        p = {k: base[k] for k in space if k in base}
    else:
        sig = inspect.signature(_peer_class(name).__init__)
        p = {k: sig.parameters[k].default for k in space if k in sig.parameters}
    p["det_min"] = 0.0
    return p


def candidates(name: str, cfg: Config, n: int, seed: int) -> list[dict[str, Any]]:
    return [defaults(name, cfg), *sample(search_space(name), n, seed)]


# -- scoring --------------------------------------------------------------------------------------------
class Scorer:
    """Runs and scores (tracker, params, span), remembering per-span results so that a configuration tried
    in several folds is run once per span. It only ever scores the views it is handed."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str, Span], mot_eval.SeqResult] = {}
        self.runs = 0

    def span_result(self, name: str, params: dict[str, Any], v: View) -> mot_eval.SeqResult:
        key = (name, params_key(params), v.span)
        if key not in self._memo:
            rows = run_tracker(name, params, v)
            self.runs += 1
            self._memo[key] = mot_eval.evaluate(mot_eval.seq_data(v.gt, rows, v.span.first, v.span.last))
        return self._memo[key]

    def scores(self, name: str, params: dict[str, Any], views: list[View]) -> dict[str, float]:
        return mot_eval.combine([self.span_result(name, params, v) for v in views])


@dataclass(frozen=True)
class FoldResult:
    fold: Fold
    tracker: str
    tuned: Tuned
    scored: tuple[mot_eval.SeqResult, ...]
    seconds: float
    frames: int


def run_folds(
    seqs: list[SeqData],
    folds: list[Fold],
    names: list[str],
    cfg: Config,
    n: int,
    seed: int,
    tuner=tune,
    progress=None,
) -> list[FoldResult]:
    """Tune each tracker on each fold's tuning spans (only those reach `tuner`), then run it with the chosen
    thresholds on the fold's scored spans."""
    by_name = {s.name: s for s in seqs}
    scorer = Scorer()
    out = []
    for name in names:
        cands = candidates(name, cfg, n, seed)
        for fold in folds:
            fold.check()
            if progress:
                progress(f"{name}: tune on {', '.join(map(str, fold.tune))} ({len(cands)} candidates)")
            tuning_views = [view(by_name[s.seq], s) for s in fold.tune]
            tuned = tuner(cands, tuning_views, lambda p, vs, _n=name: scorer.scores(_n, p, vs))
            # Scored spans are viewed only now, after the thresholds are fixed.
            results, secs, frames = [], 0.0, 0
            for s in fold.score:
                v = view(by_name[s.seq], s)
                t0 = time.perf_counter()
                rows = run_tracker(name, tuned.params, v)
                secs += time.perf_counter() - t0
                frames += s.last - s.first + 1
                results.append(mot_eval.evaluate(mot_eval.seq_data(v.gt, rows, s.first, s.last)))
            out.append(FoldResult(fold, name, tuned, tuple(results), secs, frames))
    return out


def summarise(results: list[FoldResult], names: list[str]) -> dict[str, dict[str, float]]:
    """Each tracker's figures over every scored span of every fold together (each sequence scored once)."""
    table = {}
    for name in names:
        mine = [r for r in results if r.tracker == name]
        s = mot_eval.combine([x for r in mine for x in r.scored])
        s["track_fps"] = sum(r.frames for r in mine) / max(sum(r.seconds for r in mine), 1e-9)
        table[name] = s
    return table


# -- speed ----------------------------------------------------------------------------------------------
def speed_720p(frames: list[Path], cfg: Config, n: int = 60) -> dict[str, float]:
    """Analysed frames per second of detect + track + describe on frames resized to 1280x720."""
    import cv2

    from relaytrack.pipeline.session import CameraSession, Stages
    from relaytrack.records import Frame

    stages = Stages.load(cfg)
    imgs = [
        cv2.resize(cv2.imread(str(p)), (1280, 720)) for p in (frames * (n // max(len(frames), 1) + 1))[:n]
    ]
    timings: dict[str, float] = {}
    fr = (Frame("bench", i + 1, i / 10.0, i / 10.0, im) for i, im in enumerate(imgs))
    t0 = time.perf_counter()
    session = CameraSession(stages, "bench", (1280, 720), timings=timings)
    for frame in fr:
        session.step(frame)
    t_embed0 = time.perf_counter()
    tls = session.finish()
    session.describe(tls)
    t_embed = time.perf_counter() - t_embed0
    wall = time.perf_counter() - t0
    return {
        "frames": len(imgs),
        "detect_track_fps": len(imgs) / max(timings.get("detect", 0) + timings.get("track", 0), 1e-9),
        "detect_fps": len(imgs) / max(timings.get("detect", 0), 1e-9),
        "track_fps": len(imgs) / max(timings.get("track", 0), 1e-9),
        "tracklets_described_per_s": len(tls) / max(t_embed, 1e-9) if tls else 0.0,
        "pipeline_fps": len(imgs) / max(wall, 1e-9),
    }


def load(
    folder: Path, cfg: Config, cache_dir: Path, progress=None, timings: dict[str, float] | None = None
) -> tuple[list[SeqData], list[str]]:
    seqs = [load_sequence(s) for s in sequences(folder)]
    if not seqs:
        from relaytrack.errors import InputError

        raise InputError(f"{folder}: no MOTChallenge sequences (folders with img1/ and gt/gt.txt)")
    files = [str(cached_detections(s, cfg, cache_dir, progress=progress, timings=timings)) for s in seqs]
    return seqs, files


def run(
    folder: Path,
    cfg: Config,
    names: list[str],
    out_file: Path | None,
    *,
    cache_dir: Path,
    split: str = "loso",
    n: int = 24,
    seed: int = 0,
    progress=None,
    speed: bool = True,
) -> dict:
    """Tune and score every tracker under the protocol; returns the protocol, the chosen thresholds and the
    table (written as JSON to out_file when given)."""
    for name in names:
        if name not in TRACKER_NAMES:
            raise ValueError(f"unknown tracker {name!r}; known: {', '.join(TRACKER_NAMES)}")
    timings: dict[str, float] = {}
    seqs, files = load(folder, cfg, cache_dir, progress, timings)
    folds = make_folds(seqs, split)
    results = run_folds(seqs, folds, names, cfg, n, seed, progress=progress)
    result: dict = {
        "protocol": {
            "data": str(folder),
            "sequences": {s.name: s.n_frames for s in seqs},
            "detections": {
                "source": "relaytrack NanoDet (relaytrack detect), persons",
                "cache": files,
                "detect": cfg.detect.model_dump(mode="json"),
            },
            "split": split,
            "folds": [
                {"name": f.name, "tune": [str(s) for s in f.tune], "score": [str(s) for s in f.score]}
                for f in folds
            ],
            "search": {
                "candidates": n + 1,
                "seed": seed,
                "objective": "mean of HOTA, IDF1, MOTA on tuning spans",
                "spaces": {name: search_space(name) for name in names},
            },
            "output": "online (boxes reported at frame t from frames <= t); relaytrack-offline: finished "
            "tracklets",
        },
        "chosen": [
            {
                "fold": r.fold.name,
                "tracker": r.tracker,
                "params": r.tuned.params,
                "tuning_objective": r.tuned.objective,
            }
            for r in results
        ],
        "table": summarise(results, names),
    }
    if timings.get("frames"):
        result["speed"] = {
            "decode_fps": timings["frames"] / max(timings["decode_s"], 1e-9),
            "detect_fps": timings["frames"] / max(timings["detect_s"], 1e-9),
        }
    if speed:
        if progress:
            progress("speed at 1280x720")
        result.setdefault("speed", {}).update(
            {f"720p_{k}": v for k, v in speed_720p(seqs[0].frames, cfg).items()}
        )
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(result, indent=2))
    return result


def protocol_lines(res: dict) -> list[str]:
    """The protocol in words, printed above the table."""
    p = res["protocol"]
    seqs = ", ".join(f"{k} ({v} frames)" for k, v in p["sequences"].items())
    lines = [
        f"data: {p['data']}: {seqs}",
        f"detections: {p['detections']['source']}, cached per sequence; every tracker gets the same boxes",
        f"split: {p['split']} ({SPLIT_WORDS.get(p['split'], 'tune on one sequence, score the others')})",
    ]
    for f in p["folds"]:
        lines.append(f"  {f['name']}: tune on {', '.join(f['tune'])}; score {', '.join(f['score'])}")
    s = p["search"]
    lines.append(
        f"tuning: {s['candidates']} candidates per tracker (defaults + random sample, seed {s['seed']}), "
        f"objective {s['objective']}"
    )
    lines.append(f"scored output: {p['output']}")
    lines.append("thresholds chosen:")
    for c in res["chosen"]:
        ps = ", ".join(f"{k}={v}" for k, v in sorted(c["params"].items()))
        lines.append(f"  {c['tracker']} / {c['fold']}: {ps} (tuning objective {c['tuning_objective']:.1f})")
    return lines
