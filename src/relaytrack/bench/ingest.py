"""`relaytrack bench ingest`: many sources at once, sequential vs a process pool vs Ray, in one run.

The clips are real footage: the first `frames` frames of the shared MOT15 sequences and the OpenCV pedestrian
video, written as mp4 files into a temporary folder (cycled under new camera ids when more sources are asked
for than there are sequences). Every mode ingests the same clips into its own fresh store, so none is skipped
as already ingested. Wall times are end to end (process start, model loading, decoding, storing); for Ray the
cluster start is reported apart, since a real deployment starts it once.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from relaytrack.config import Config
from relaytrack.errors import RelaytrackError
from relaytrack.paths import data_dir
from relaytrack.pipeline.parallel import Job, cores, import_ray, run_local, run_ray, threads_per_worker


@dataclass
class BenchRow:
    mode: str
    workers: int
    onnx_threads: int
    frames: int
    wall_s: float
    startup_s: float = 0.0
    failed: int = 0
    sightings: int = 0

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


@dataclass
class BenchResult:
    cores: int
    clips: list[str]
    rows: list[BenchRow] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0

    def as_dict(self) -> dict:
        base = self.rows[0].fps if self.rows else 0.0
        return {
            "cores": self.cores,
            "clips": self.clips,
            "load_before": round(self.load_before, 2),
            "load_after": round(self.load_after, 2),
            "rows": [
                {
                    "mode": r.mode,
                    "workers": r.workers,
                    "onnx_threads": r.onnx_threads,
                    "frames": r.frames,
                    "wall_s": round(r.wall_s, 2),
                    "startup_s": round(r.startup_s, 2),
                    "fps": round(r.fps, 2),
                    "speedup": round(r.fps / base, 2) if base else None,
                    "sightings": r.sightings,
                    "failed": r.failed,
                }
                for r in self.rows
            ],
        }


def clip_sources(root: Path | None = None) -> list[Path]:
    """Real footage to cut clips from: MOT15 image sequences and the pedestrian video."""
    root = root or data_dir()
    out = sorted(p / "img1" for p in (root / "mot15").glob("*") if (p / "img1").is_dir())
    vtest = root / "pedestrian-video" / "vtest.avi"
    if vtest.is_file():
        out.append(vtest)
    return out


def make_clips(folder: Path, n: int, frames: int = 100, root: Path | None = None) -> list[Path]:
    """Write `n` mp4 clips of the first `frames` frames of the shared footage into `folder`."""
    import cv2

    sources = clip_sources(root)
    if not sources:
        raise RelaytrackError(
            f"{root or data_dir()}: no MOT15 sequences or pedestrian video to cut clips from"
        )
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for k in range(n):
        src = sources[k % len(sources)]
        name = (src.parent.name if src.name == "img1" else src.stem).replace(" ", "_")
        out = folder / f"clip{k + 1:02d}-{name}.mp4"
        images = _first_frames(src, frames)
        h, w = images[0].shape[:2]
        vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w, h))
        for im in images:
            vw.write(im)
        vw.release()
        clips.append(out)
    return clips


def _first_frames(src: Path, frames: int) -> list:
    import cv2

    if src.is_dir():
        files = sorted(p for p in src.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:frames]
        return [cv2.imread(str(p)) for p in files]
    cap = cv2.VideoCapture(str(src))
    out = []
    while len(out) < frames:
        ok, im = cap.read()
        if not ok:
            break
        out.append(im)
    cap.release()
    if not out:
        raise RelaytrackError(f"{src}: could not read frames for a benchmark clip")
    return out


def _sequential(db: Path, jobs: list[Job], cfg: Config) -> list:
    """Today's `relaytrack ingest` without --workers: one process, models loaded once, one source at a time."""
    from relaytrack.pipeline.ingest import Stages, ingest
    from relaytrack.store import Store

    stages = Stages.load(cfg)
    with Store(db) as store:
        return [ingest(store, j.uri, j.camera, cfg, stages) for j in jobs]


def bench_ingest(
    cfg: Config,
    *,
    sources: int = 4,
    frames: int = 100,
    workers: list[int] = [2],
    ray: bool = True,
    ray_mode: str = "shared",
    say=lambda m: None,
) -> BenchResult:
    """Ingest the same clips sequentially, with each pool size in `workers`, and with a local Ray."""
    from relaytrack.store import Store

    if sources < 1 or frames < 1:
        raise RelaytrackError("bench ingest: --sources and --frames must be 1 or more")
    if ray:
        import_ray()
    with tempfile.TemporaryDirectory(prefix="relaytrack-bench-ingest-") as tmp:
        tmp_p = Path(tmp)
        clips = make_clips(tmp_p / "clips", sources, frames)
        jobs = [Job(str(c), c.stem.split("-", 1)[0], start_wall=1_700_000_000.0) for c in clips]
        res = BenchResult(cores=cores(), clips=[c.name for c in clips], load_before=os.getloadavg()[0])

        def run(mode: str, n: int, threads: int, fn, startup: float = 0.0) -> None:
            db = tmp_p / f"{mode}-{n}.db"
            Store(db).close()  # migrated once, before any worker opens it
            say(f"{mode} (workers={n}, ONNX threads={threads}) ...")
            t0 = time.perf_counter()
            out = fn(db)
            wall = time.perf_counter() - t0
            res.rows.append(
                BenchRow(
                    mode=mode,
                    workers=n,
                    onnx_threads=threads,
                    frames=sum(r.frames for r in out),
                    wall_s=wall,
                    startup_s=startup,
                    failed=sum(r.status == "failed" for r in out),
                    sightings=sum(r.sightings for r in out),
                )
            )

        run("sequential", 1, cfg.detect.threads, lambda db: _sequential(db, jobs, cfg))
        for n in workers:
            n_eff = min(n if n > 0 else cores(), len(jobs))
            run("local pool", n_eff, threads_per_worker(n_eff), lambda db, n=n: run_local(db, jobs, cfg, n))
        if ray:
            rmod = import_ray()
            n = max([w if w > 0 else cores() for w in workers] or [cores()])
            t0 = time.perf_counter()
            rmod.init(num_cpus=n, include_dashboard=False, log_to_driver=False, configure_logging=False)
            startup = time.perf_counter() - t0
            try:
                run(
                    f"ray ({ray_mode})",
                    n,
                    1,
                    lambda db: run_ray(db, jobs, cfg, mode=ray_mode, shard_dir=tmp_p / "shards"),
                    startup,
                )
            finally:
                rmod.shutdown()
    res.load_after = os.getloadavg()[0]
    return res
