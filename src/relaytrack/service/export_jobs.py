"""Evidence exports in the background, and packages downloaded from the browser (issue 19 item 5, part).

An export cuts, masks and seals every frame of every hop: minutes for a long route. The console no longer
waits on one request with a greyed button: `start` checks the request (the hops are selected at once, so a
bad request fails at once), then runs `relaytrack.evidence.export.export_evidence` on a thread with its own
store connection from the service's pool, counting frames as they are written; the console polls the job for
its progress and, when it is done, downloads the package as one ZIP (`zip_stream`, written as it is sent,
never held in memory or on disk whole). The exporter authorises and audits the export itself, as for the CLI.
Jobs live in the service's memory (a restart forgets running ones; their packages are the exporter's).
"""

from __future__ import annotations

import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relaytrack.errors import RelaytrackError
from relaytrack.evidence import export as ex
from relaytrack.evidence.guard import file_token
from relaytrack.service.redact import package_name


def export_answer(res: ex.ExportResult) -> dict[str, Any]:
    """What the client is told of a finished export (POST /api/exports and a job's result): the export, its
    package named by its folder only, and the package's files relative to it."""
    out = res.as_dict()
    out["package"] = package_name(out["package"])
    out["files"] = sorted(str(p.relative_to(res.path)) for p in res.path.rglob("*") if p.is_file())
    return out


KEEP_S = 3600.0  # a finished job is kept this long for the console to pick it up
CHUNK = 1 << 20


@dataclass
class ExportJob:
    """One background export: who, for which case, how far, and what came of it."""

    id: str
    user: str
    case: str
    total: int  # frames to write (an estimate: the hops' spans with their pre/post roll)
    done: int = 0
    state: str = "running"  # running | done | failed
    export_id: int | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def view(self) -> dict[str, Any]:
        pct = (
            100.0
            if self.state == "done"
            else min(99.0, 100.0 * self.done / self.total)
            if self.total
            else 0.0
        )
        return {
            "job": self.id,
            "state": self.state,
            "frames_done": self.done,
            "frames_total": self.total,
            "percent": round(pct, 1),
            "export_id": self.export_id,
            "result": self.result,
            "error": self.error,
            "elapsed_s": round((self.finished or time.time()) - self.started, 1),
        }


class ExportJobs:
    """The service's background exports (one registry per app)."""

    def __init__(self) -> None:
        self.jobs: dict[str, ExportJob] = {}
        self.lock = threading.Lock()

    def get(self, job_id: str, user: str, case: str | None) -> ExportJob | None:
        """The job, only for the user and case that started it."""
        with self.lock:
            job = self.jobs.get(job_id)
        return job if job is not None and job.user == user and job.case == case else None

    def start(self, pool: Any, cfg: Any, user: str, case: str, hops: list[ex.Hop], body: Any) -> ExportJob:
        with self.lock:
            now = time.time()
            for k in [k for k, j in self.jobs.items() if j.finished and now - j.finished > KEEP_S]:
                del self.jobs[k]
        with pool.lend() as store:
            total = estimate_frames(store.conn, hops, body.pre_roll, body.post_roll)
        job = ExportJob(uuid.uuid4().hex, user, case, total)
        with self.lock:
            self.jobs[job.id] = job
        threading.Thread(
            target=self._run, args=(job, pool, cfg, hops, body), name=f"export-{job.id[:8]}", daemon=True
        ).start()
        return job

    def _run(self, job: ExportJob, pool: Any, cfg: Any, hops: list[ex.Hop], body: Any) -> None:
        def advance(n: int) -> None:
            job.done += n

        name = f"{file_token(job.case)}-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 1_000_000:06d}"
        try:
            cfg.export_root.mkdir(parents=True, exist_ok=True)
            with pool.lend() as store:
                res = ex.export_evidence(
                    store,
                    Path(name),
                    hops,
                    user=job.user,
                    case=job.case,
                    pre_roll=body.pre_roll,
                    post_roll=body.post_roll,
                    settings=cfg.mask,
                    export_root=cfg.export_root,
                    request_id=body.request_id,
                    progress=advance,
                )
            out = export_answer(res)
            job.result, job.export_id, job.state = out, int(out["export_id"]), "done"
        except RelaytrackError as err:
            job.error, job.state = str(err), "failed"
        except Exception as err:  # noqa: BLE001 - a background job reports its failure instead of vanishing
            job.error, job.state = f"{type(err).__name__}: {err}", "failed"
        finally:
            job.finished = time.time()


def estimate_frames(conn: Any, hops: list[ex.Hop], pre_roll: float, post_roll: float) -> int:
    """Frames the export will write: each hop's span plus its pre/post roll at its source's frame rate."""
    total = 0
    for h in hops:
        fps = None
        if h.source_id is not None:
            row = conn.execute("SELECT fps FROM sources WHERE id = ?", (h.source_id,)).fetchone()
            fps = row[0] if row else None
        elif h.sighting is not None:
            row = conn.execute(
                "SELECT s.fps FROM sources s JOIN sightings g ON g.source_id = s.id WHERE g.id = ?",
                (h.sighting,),
            ).fetchone()
            fps = row[0] if row else None
        total += max(0, h.last - h.first + 1) + int(round((pre_roll + post_roll) * float(fps or 25.0)))
    return max(total, 1)


class _Chunks:
    """A write-only stream that keeps what was written until it is taken (zipfile writes, the response
    sends): a ZIP written as it is sent."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.pos = 0

    def write(self, b: bytes) -> int:
        self.parts.append(bytes(b))
        self.pos += len(b)
        return len(b)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def zip_stream(package: Path) -> Iterator[bytes]:
    """The package folder as a ZIP (stored, not compressed: the videos are compressed already), in chunks."""
    sink = _Chunks()
    root = package.name
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as zf:  # type: ignore[arg-type]
        for p in sorted(x for x in package.rglob("*") if x.is_file()):
            with (
                zf.open(f"{root}/{p.relative_to(package).as_posix()}", "w", force_zip64=True) as dst,
                p.open("rb") as src,
            ):
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()
