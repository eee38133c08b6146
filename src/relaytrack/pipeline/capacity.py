"""Capacity planning: the CPU cores (and GPUs, where a GPU cost is known) and the storage per day that
indexing N cameras at F analysed frames per second with motion gating needs, from costs measured here.

The arithmetic, per second of city time:

    sampled frames  = cameras × fps                      (each decoded and put through the motion gate)
    analysed frames = sampled × (1 - gated share)        (each detected, tracked and described, then stored)
    decoded frames  = cameras × source fps               (the source decodes every frame of the stream it reads)
    core-seconds    = decoded × decode + sampled × gate + analysed × (detect + track + describe + store)
    CPU cores       = ceil(core-seconds / utilisation)   (headroom: a machine run flat out falls behind)
    storage per day = cameras × sightings per camera-hour × 24 × bytes per sighting

Costs are core-seconds per frame (`StageCosts`), measured by `relaytrack bench scaling` (every worker on one
ONNX thread, so CPU seconds are core-seconds) or by `relaytrack plan capacity --calibrate`, both writing
`costs_path()`. Without that file the embedded `DEFAULT_COSTS` are used, and the plan says where they were
measured.
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from relaytrack.errors import RelaytrackError
from relaytrack.paths import home_dir

COSTS_FILE = "ingest-costs.json"


@dataclass(frozen=True)
class StageCosts:
    """Measured costs of the ingest pipeline on one machine. Seconds are CPU core-seconds per frame."""

    detect_s: float  # per analysed frame: the detector (ONNX, one thread)
    track_s: float  # per analysed frame: the tracker
    describe_s: float  # per analysed frame: crop bank, embedding, colours, thumbnail (spread over frames)
    store_s: float  # per analysed frame: the rest of the worker's CPU time (storing, checkpoints, Python)
    decode_s: float  # per decoded source frame
    gate_s: float  # per sampled frame: the motion gate's check
    gated_share: dict[float, float]  # analysed fps -> share of sampled frames the motion gate skipped
    sightings_per_camera_hour: float
    bytes_per_sighting: float  # store growth per sighting (rows, indexes, thumbnail, crops, vector, boxes)
    bytes_breakdown: dict[str, float] = field(default_factory=dict)  # per sighting: thumbnail, crops, ...
    gpu_detect_s: float | None = None  # per analysed frame on a GPU, where one was measured
    provenance: dict = field(default_factory=dict)  # measured_at, host, cores, command, load, footage

    @property
    def analysed_s(self) -> float:
        """Core-seconds of one analysed frame past the gate."""
        return self.detect_s + self.track_s + self.describe_s + self.store_s

    def gated_at(self, fps: float) -> float:
        """The gate's skipped share at `fps`: linear between the measured rates, the nearest one outside."""
        pts = sorted(self.gated_share.items())
        if not pts:
            return 0.0
        if fps <= pts[0][0]:
            return pts[0][1]
        for (f0, s0), (f1, s1) in zip(pts, pts[1:], strict=False):
            if fps <= f1:
                return s0 + (s1 - s0) * (fps - f0) / (f1 - f0)
        return pts[-1][1]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["gated_share"] = {f"{k:g}": v for k, v in sorted(self.gated_share.items())}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> StageCosts:
        required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
        missing = [k for k in required if k not in d]
        if missing:
            raise RelaytrackError(f"costs: not a costs record (missing {', '.join(missing)})")
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        try:
            kw["gated_share"] = {float(k): float(v) for k, v in (d.get("gated_share") or {}).items()}
        except (TypeError, ValueError, AttributeError) as err:
            raise RelaytrackError(f"costs: gated_share is not a map of rate to share ({err})") from err
        return cls(**kw)


# Measured on this project's 2-core development machine (provenance says how and when); used when no costs
# file exists. Replace them by running `relaytrack bench scaling` or `relaytrack plan capacity --calibrate`.
DEFAULT_COSTS = StageCosts(
    detect_s=0.018482,
    track_s=0.002012,
    describe_s=0.00815,
    store_s=0.00034,
    decode_s=0.000818,
    gate_s=0.001405,
    gated_share={1.0: 0.0, 2.0: 0.0038, 5.0: 0.009},
    sightings_per_camera_hour=5497.1,
    bytes_per_sighting=71816.0,
    bytes_breakdown={"thumbnail": 1698, "crops": 15876, "vector": 10376, "boxes_rows": 44.3},
    provenance={
        "measured_at": "2026-12-08T02:48:58+09:00",
        "command": "relaytrack bench scaling --workers 1,2 --sources 8 --frames 60 --repeat 3",
        "cores": 2,
        "workers": 2,
        "onnx_threads": 1,
        "load_avg_1m": [1.2, 1.54],
        "frames": 480,
        "footage_s": 58.3,
        "sightings": 89,
        "footage": ["PETS09-S2L1", "vtest"],
        "note": "embedded defaults, measured on the project's 2-core development machine (session 23: "
        "ten crops per embedding, 1,550-d part features before a store learns its model); session 24 "
        "scaled describe by its same-machine before/after ratio (11.5 -> 7.1 ms on a slower machine: "
        "2,594-d part features on a 64 x 32 crop) and added the larger vector's bytes (6.2 -> 10.4 kB)",
    },
)


def costs_path() -> Path:
    return home_dir() / "bench" / COSTS_FILE


def save_costs(costs: StageCosts, path: Path | None = None) -> Path:
    path = path or costs_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(costs.as_dict(), indent=2))
    return path


def load_costs(path: Path | None = None) -> tuple[StageCosts, str]:
    """The costs to plan with and where they come from: `path` if given (it must exist), else the file the
    benches write, else the embedded defaults."""
    p = path or costs_path()
    if p.is_file():
        try:
            return StageCosts.from_dict(json.loads(p.read_text())), f"measured, {p}"
        except ValueError as err:  # JSON syntax
            raise RelaytrackError(f"{p}: not a costs file ({err})") from err
    if path is not None:
        raise RelaytrackError(f"{path}: no such costs file")
    return DEFAULT_COSTS, "embedded defaults (no costs file: run `relaytrack bench scaling` or --calibrate)"


@dataclass(frozen=True)
class CapacityRequest:
    cameras: int
    fps: float = 1.0  # analysed frames per second per camera, before gating
    source_fps: float | None = None  # the stream's own rate, all of it decoded; None = a stream at `fps`
    gated_share: float | None = None  # None = measured at `fps`
    utilisation: float = 0.75  # the busiest the cores are planned to run
    sightings_per_camera_hour: float | None = None  # None = measured
    footage_kbps: float | None = None  # retained footage per camera (for on-demand re-processing)

    def check(self) -> None:
        """Bad input is a RelaytrackError naming the option (the CLI turns it into exit 2)."""
        if self.cameras < 1:
            raise RelaytrackError(f"--cameras {self.cameras}: give 1 or more")
        if not (0 < self.fps <= 120) or math.isnan(self.fps):
            raise RelaytrackError(f"--fps {self.fps:g}: give a rate above 0 and up to 120")
        if self.source_fps is not None and not (self.fps <= self.source_fps <= 240):
            raise RelaytrackError(f"--source-fps {self.source_fps:g}: give a rate from --fps up to 240")
        if self.gated_share is not None and not (0 <= self.gated_share < 1):
            raise RelaytrackError(f"--gated-share {self.gated_share:g}: give a share from 0 up to (not) 1")
        if not (0 < self.utilisation <= 1):
            raise RelaytrackError(f"--utilisation {self.utilisation:g}: give a share above 0 and up to 1")
        if self.sightings_per_camera_hour is not None and self.sightings_per_camera_hour < 0:
            raise RelaytrackError(f"--sightings-per-hour {self.sightings_per_camera_hour:g}: give 0 or more")
        if self.footage_kbps is not None and self.footage_kbps < 0:
            raise RelaytrackError(f"--footage-kbps {self.footage_kbps:g}: give 0 or more")


@dataclass(frozen=True)
class CapacityPlan:
    request: CapacityRequest
    gated_share: float
    sampled_per_s: float
    analysed_per_s: float
    decoded_per_s: float
    core_seconds_per_s: float  # CPU demand before headroom
    cpu_cores: int
    stage_cores: dict[str, float]  # the demand per stage, in cores
    gpus: int | None  # None: no GPU cost measured
    cpu_cores_with_gpus: int | None  # the cores left when the detector runs on the GPUs
    sightings_per_camera_hour: float
    sightings_per_day: float
    bytes_per_sighting: float
    storage_gb_per_day: float
    footage_gb_per_day: float | None
    costs_origin: str
    costs: StageCosts

    def as_dict(self) -> dict:
        r = self.request
        return {
            "cameras": r.cameras,
            "fps": r.fps,
            "cpu_cores": self.cpu_cores,
            "storage_gb_per_day": round(self.storage_gb_per_day, 1),
            "gpus": self.gpus,
            "cpu_cores_with_gpus": self.cpu_cores_with_gpus,
            "source_fps": r.source_fps if r.source_fps is not None else r.fps,
            "gated_share": round(self.gated_share, 4),
            "utilisation": r.utilisation,
            "sampled_frames_per_s": round(self.sampled_per_s, 1),
            "analysed_frames_per_s": round(self.analysed_per_s, 1),
            "core_seconds_per_s": round(self.core_seconds_per_s, 1),
            "stage_cores": {k: round(v, 1) for k, v in self.stage_cores.items()},
            "per_frame_ms": {
                "detect": round(self.costs.detect_s * 1e3, 2),
                "track": round(self.costs.track_s * 1e3, 2),
                "describe": round(self.costs.describe_s * 1e3, 2),
                "store": round(self.costs.store_s * 1e3, 2),
                "decode": round(self.costs.decode_s * 1e3, 2),
                "gate": round(self.costs.gate_s * 1e3, 2),
                "gpu_detect": None
                if self.costs.gpu_detect_s is None
                else round(self.costs.gpu_detect_s * 1e3, 2),
            },
            "sightings_per_camera_hour": round(self.sightings_per_camera_hour, 1),
            "sightings_per_day": round(self.sightings_per_day),
            "bytes_per_sighting": round(self.bytes_per_sighting),
            "footage_gb_per_day": None
            if self.footage_gb_per_day is None
            else round(self.footage_gb_per_day, 1),
            "costs": {"origin": self.costs_origin, **self.costs.provenance},
        }


def plan_capacity(req: CapacityRequest, costs: StageCosts, costs_origin: str = "given") -> CapacityPlan:
    req.check()
    g = costs.gated_at(req.fps) if req.gated_share is None else req.gated_share
    sampled = req.cameras * req.fps
    analysed = sampled * (1.0 - g)
    decoded = req.cameras * (req.source_fps if req.source_fps is not None else req.fps)
    stage_cores = {
        "decode": decoded * costs.decode_s,
        "gate": sampled * costs.gate_s,
        "detect": analysed * costs.detect_s,
        "track": analysed * costs.track_s,
        "describe": analysed * costs.describe_s,
        "store": analysed * costs.store_s,
    }
    demand = sum(stage_cores.values())
    cores = max(1, math.ceil(demand / req.utilisation - 1e-9))
    gpus = cores_with_gpus = None
    if costs.gpu_detect_s is not None:
        gpus = max(1, math.ceil(analysed * costs.gpu_detect_s / req.utilisation - 1e-9))
        cores_with_gpus = max(1, math.ceil((demand - stage_cores["detect"]) / req.utilisation - 1e-9))
    sph = (
        costs.sightings_per_camera_hour
        if req.sightings_per_camera_hour is None
        else req.sightings_per_camera_hour
    )
    per_day = req.cameras * sph * 24.0
    footage = None if req.footage_kbps is None else req.cameras * req.footage_kbps * 1e3 / 8 * 86400 / 1e9
    return CapacityPlan(
        request=req,
        gated_share=g,
        sampled_per_s=sampled,
        analysed_per_s=analysed,
        decoded_per_s=decoded,
        core_seconds_per_s=demand,
        cpu_cores=cores,
        stage_cores=stage_cores,
        gpus=gpus,
        cpu_cores_with_gpus=cores_with_gpus,
        sightings_per_camera_hour=sph,
        sightings_per_day=per_day,
        bytes_per_sighting=costs.bytes_per_sighting,
        storage_gb_per_day=per_day * costs.bytes_per_sighting / 1e9,
        footage_gb_per_day=footage,
        costs_origin=costs_origin,
        costs=costs,
    )
