"""Per-frame costs of the ingest pipeline on this machine, for capacity planning (`relaytrack plan capacity`).

What is measured, all in CPU seconds (core-seconds: workers run their ONNX sessions on one thread):
- per analysed frame: detector, tracker, describe (crop bank, embedding, colours, thumbnail) from the stage
  timers of real ingests, scaled to the worker's CPU time; `store` is the rest of that CPU time less decoding;
- per decoded frame: decoding the clips; per sampled frame: the motion gate's check;
- the gate's skipped share at 1, 2 and 5 analysed frames/s over the whole real sequences (static cameras);
- sightings per camera-hour (sightings over footage duration) and store growth per sighting.

`bench scaling` measures them under full load (its largest worker count) and `calibrate` in a quick
single-process run; both write `relaytrack.pipeline.capacity.costs_path()`.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from relaytrack.clock import now_iso
from relaytrack.config import Config, SourceConfig
from relaytrack.errors import RelaytrackError
from relaytrack.paths import data_dir
from relaytrack.pipeline.capacity import StageCosts
from relaytrack.pipeline.ingest import IngestResult

GATE_RATES = (1.0, 2.0, 5.0)


@dataclass(frozen=True)
class Clip:
    path: Path
    fps: float  # the footage's own rate, so that frames / fps is real time
    frames: int
    origin: str  # the sequence and frame window it was cut from


def static_sequences(root: Path | None = None) -> list[tuple[str, float]]:
    """Whole real sequences from fixed cameras (uri, fps): the two 768×576 ones first (clips are cut from
    them), then the TUD pair."""
    root = root or data_dir()
    out = []
    for name, fps in (("PETS09-S2L1", 7.0), ("TUD-Stadtmitte", 25.0), ("TUD-Campus", 25.0)):
        p = root / "mot15" / name / "img1"
        if p.is_dir():
            out.append((str(p), fps))
    vtest = root / "pedestrian-video" / "vtest.avi"
    if vtest.is_file():
        out.insert(1 if out else 0, (str(vtest), 10.0))
    return out


def window_clips(folder: Path, n: int, frames: int, root: Path | None = None) -> list[Clip]:
    """`n` mp4 clips of `frames` consecutive frames, cut in turn from PETS09-S2L1 and the pedestrian video
    (same size, fixed cameras, similar crowds: every job costs about the same, so worker counts compare
    fairly), each window after the last one cut from that sequence (wrapping round)."""
    import cv2

    seqs = static_sequences(root)[:2]
    if not seqs:
        raise RelaytrackError(f"{root or data_dir()}: no PETS09-S2L1 or pedestrian video to cut clips from")
    folder.mkdir(parents=True, exist_ok=True)
    cache: dict[str, list] = {}
    clips = []
    for k in range(n):
        uri, fps = seqs[k % len(seqs)]
        images = cache.setdefault(uri, _all_frames(uri))
        if len(images) < frames:
            raise RelaytrackError(f"{uri}: {len(images)} frames, fewer than --frames {frames}")
        start = ((k // len(seqs)) * frames) % (len(images) - frames + 1)
        name = Path(uri).parent.name if Path(uri).name == "img1" else Path(uri).stem
        out = folder / f"cam{k + 1:02d}-{name}-{start + 1}.mp4"
        h, w = images[0].shape[:2]
        vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        for im in images[start : start + frames]:
            vw.write(im)
        vw.release()
        clips.append(Clip(out, fps, frames, f"{name} frames {start + 1}-{start + frames}"))
    return clips


def _all_frames(uri: str) -> list:
    import cv2

    p = Path(uri)
    if p.is_dir():
        return [cv2.imread(str(f)) for f in sorted(p.glob("*.jpg"))]
    cap = cv2.VideoCapture(uri)
    out = []
    while True:
        ok, im = cap.read()
        if not ok:
            break
        out.append(im)
    cap.release()
    return out


def gated_shares(rates: tuple[float, ...] = GATE_RATES, root: Path | None = None) -> dict[float, float]:
    """Share of sampled frames the motion gate skips at each analysed rate, pooled over the whole static
    sequences (busy pedestrian scenes: a quiet street skips far more)."""
    from relaytrack.source import open_source, probe
    from relaytrack.source.open import analysed_indices

    seqs = static_sequences(root)
    out = {}
    for rate in rates:
        sampled = kept = 0
        for uri, _ in seqs:
            info = probe(uri)
            sampled += len(analysed_indices(info.frames, info.fps, rate))
            cfg = SourceConfig(analyse_fps=rate, motion_gate=True)
            kept += sum(1 for _ in open_source(uri, "gate", cfg, 0.0, info=info))
        out[rate] = round(1.0 - kept / sampled, 4) if sampled else 0.0
    return out


def decode_and_gate_s(clips: list[Clip]) -> tuple[float, float]:
    """CPU seconds per frame to decode the clips, and for the motion gate's check on a decoded frame."""
    # The gate's own helpers, timed alone: subtracting two decode passes would drown them in noise.
    from relaytrack.source import open_source
    from relaytrack.source.open import _changed_share, _small_gray

    n, c0 = 0, time.process_time()
    images = []
    for clip in clips:
        for frame in open_source(str(clip.path), "decode", SourceConfig(), 0.0):
            n += 1
            if len(images) < 200:
                images.append(frame.image)
    decode = (time.process_time() - c0) / max(1, n)
    c0, prev = time.process_time(), None
    for im in images:
        small = _small_gray(im)
        if prev is not None:
            _changed_share(prev, small)
        prev = small
    gate = (time.process_time() - c0) / max(1, len(images))
    return decode, gate


def store_pages(db: Path) -> dict[str, int]:
    """Bytes of pages per table and index of a closed SQLite bench store (SQLite's dbstat table)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            name: int(size)
            for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        }
    finally:
        conn.close()


def bytes_per_sighting(db: Path, empty: dict[str, int], sightings: int) -> float:
    """Store growth per sighting: the pages every table and index gained over the empty store, the vector
    index's excepted (sqlite-vec allocates its vectors a chunk of a thousand at a time, which a short bench
    would count many times over), for which the vector's own bytes count once more."""
    if sightings < 1:
        return 0.0
    pages = store_pages(db)
    grown = sum(
        max(0, size - empty.get(name, 0)) for name, size in pages.items() if not name.startswith("vec_")
    )
    vec = bytes_breakdown(db, sightings).get("vector", 0)
    return grown / sightings + vec


def bytes_breakdown(db: Path, sightings: int) -> dict[str, float]:
    """What one sighting stores, on average: thumbnail, best crops, vector (bytes), boxes (rows)."""
    from relaytrack.store import Store

    if sightings < 1:
        return {}
    with Store(db, readonly=True) as s:
        thumb = s.one("SELECT COALESCE(SUM(LENGTH(jpeg)), 0) FROM thumbnails")[0]
        crops = s.one("SELECT COALESCE(SUM(LENGTH(jpeg)), 0) FROM crops")[0]
        vec = s.one("SELECT COALESCE(SUM(LENGTH(embedding)), 0) FROM sightings")[0]
        boxes = s.one("SELECT count(*) FROM boxes")[0]
    return {
        "thumbnail": round(thumb / sightings),
        "crops": round(crops / sightings),
        "vector": round(vec / sightings),
        "boxes_rows": round(boxes / sightings, 1),
    }


def costs_from_run(
    results: list[IngestResult],
    clips: list[Clip],
    db: Path,
    empty: dict[str, int],
    *,
    decode_s: float,
    gate_s: float,
    gated: dict[float, float],
    provenance: dict,
) -> StageCosts:
    """Per-frame costs from one run's ingest results (every frame analysed) and its closed store."""
    ok = [r for r in results if r.status == "complete" and r.frames]
    frames = sum(r.frames for r in ok)
    if not frames:
        raise RelaytrackError("costs: no source was ingested, nothing to measure")
    cpu = sum(r.timings.get("cpu", 0.0) for r in ok)
    wall = sum(r.timings.get("wall", 0.0) for r in ok)
    # Stage timers are wall clock; scaled by the worker's CPU/wall they become core-seconds (equal when the
    # machine is not shared, smaller when other work took turns on the cores).
    scale = cpu / wall if wall > 0 else 1.0

    def stage(*names: str) -> float:
        return sum(r.timings.get(k, 0.0) for r in ok for k in names) * scale / frames

    detect, track, describe = stage("detect"), stage("track"), stage("describe", "embed+colour")
    fps_of = {str(c.path): c.fps for c in clips}
    seconds = sum(r.frames / fps_of.get(r.uri, 10.0) for r in ok)
    sightings = sum(r.sightings for r in ok)
    return StageCosts(
        detect_s=round(detect, 6),
        track_s=round(track, 6),
        describe_s=round(describe, 6),
        store_s=round(max(0.0, cpu / frames - detect - track - describe - decode_s), 6),
        decode_s=round(decode_s, 6),
        gate_s=round(gate_s, 6),
        gated_share=gated,
        sightings_per_camera_hour=round(sightings / seconds * 3600.0, 1) if seconds else 0.0,
        bytes_per_sighting=round(bytes_per_sighting(db, empty, sightings)),
        bytes_breakdown=bytes_breakdown(db, sightings),
        gpu_detect_s=None,
        provenance={
            "measured_at": now_iso(),
            "host": socket.gethostname(),
            "cores": len(os.sched_getaffinity(0)),
            "frames": frames,
            "footage_s": round(seconds, 1),
            "sightings": sightings,
            "footage": sorted({c.origin.split(" frames")[0] for c in clips}),
            **provenance,
        },
    )


def calibrate(cfg: Config, *, sources: int = 2, frames: int = 40, say=lambda m: None) -> StageCosts:
    """A quick measurement in this process, one ONNX thread: `sources` clips of `frames` real frames, the
    motion gate over the whole sequences. Uncontended, so a little cheaper than under full load."""
    from relaytrack.pipeline.ingest import Stages
    from relaytrack.pipeline.parallel import Job, ingest_job, with_threads
    from relaytrack.store import Store

    wcfg = with_threads(cfg, 1)
    with tempfile.TemporaryDirectory(prefix="relaytrack-calibrate-") as tmp:
        clips = window_clips(Path(tmp) / "clips", sources, frames)
        db = Path(tmp) / "calibrate.db"
        Store(db).close()
        empty = store_pages(db)
        say(f"calibrating on {len(clips)} clips of {frames} real frames (one ONNX thread) ...")
        stages = Stages.load(wcfg)
        load = os.getloadavg()[0]
        results = [
            ingest_job(db, Job(str(c.path), c.path.stem.split("-")[0], 1_700_000_000.0), wcfg, None, 0,
                       stages=stages)
            for c in clips
        ]  # fmt: skip
        say("timing decode and the motion gate ...")
        decode, gate = decode_and_gate_s(clips)
        gated = gated_shares()
        return costs_from_run(
            results, clips, db, empty, decode_s=decode, gate_s=gate, gated=gated,
            provenance={"command": "relaytrack plan capacity --calibrate", "workers": 1, "onnx_threads": 1,
                        "load_avg_1m": [round(load, 2), round(os.getloadavg()[0], 2)]},
        )  # fmt: skip
