"""Record the watch's model outputs once, replay the behaviour logic many times (tuning without re-running models).

`record_source(spec, cfg, wcfg)` runs the same detector/tracker path as the watch service over one source and
keeps, per analysed frame, the person boxes, the phone boxes, for every person close to a zone (generous
distance, any speed) the MoveNet posture and colour histogram, and a grey crop of every zone no person covers
(the before/after comparison of watch/spot.py; a replay with other `spot.pad`/`clear_pad_h` than the
recording's sees the recorded crops). `replay(recording, wcfg)` feeds those into
`CameraWatch` and `AlertBook` (no clips) exactly as the service does and returns the alerts. Poses of people
farther from a zone than recorded are missing in a replay, so a replay only stands in for a run with
`pose.near_factor` no larger than the recording's; the figures to report come from `relaytrack bench watch`.

This is the watch's tuning tool, so recording refuses footage of a held-out town (`seeds.check_tuning`):
the towns that score the watch are never replayed to tune it.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.config import Config
from relaytrack.records import CLASS_ID, PERSON
from relaytrack.watch.alerts import Alert, AlertBook
from relaytrack.watch.config import WatchConfig, pipeline_for_watch
from relaytrack.watch.pose import Posture
from relaytrack.watch.signals import CameraWatch, RouteMemory, appearance_hist
from relaytrack.watch.spot import covered, zone_crop
from relaytrack.watch.zones import Zone

PHONE = CLASS_ID["cell phone"]
RECORD_NEAR_H = 1.5  # poses recorded for people within this many box heights of a zone


@dataclass
class FrameRecord:
    index: int
    t: float
    wall: float
    persons: dict[int, tuple[float, float, float, float]]
    phones: np.ndarray
    poses: dict[int, Posture | None] = field(default_factory=dict)
    hists: dict[int, np.ndarray | None] = field(default_factory=dict)
    finished: list[int] = field(default_factory=list)  # tracks the tracker ended at this frame
    crops: dict[str, np.ndarray] = field(default_factory=dict)  # zone id -> grey crop, zones no one covers


@dataclass
class Recording:
    camera: str
    uri: str
    zones: list[Zone]
    frames: list[FrameRecord]
    kp_min_score: float

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @staticmethod
    def load(path: str | Path) -> Recording:
        return pickle.loads(Path(path).read_bytes())


def record_source(spec, cfg: Config | None = None, wcfg: WatchConfig | None = None) -> Recording:
    """One source (a service CameraSpec) through detection, tracking and posture, frame by frame. Refuses
    a camera of a held-out town (HeldOutSeedError): recordings exist to tune the watch."""
    from relaytrack.seeds import check_tuning_footage

    check_tuning_footage("watch", spec.uri)
    from relaytrack.pipeline.session import CameraSession, Stages
    from relaytrack.source import open_source, probe
    from relaytrack.watch.pose import PoseEstimator, posture

    wcfg = wcfg or WatchConfig()
    cfg = pipeline_for_watch(cfg or Config(), wcfg)
    cfg.detect.threads = 1
    stages = Stages.load(cfg, embed=False)
    pose = PoseEstimator(wcfg.pose.model, wcfg.pose.long_side, threads=1)
    info = probe(spec.uri)
    frames = open_source(spec.uri, spec.camera, cfg.source, spec.start_wall, info=info)
    out: list[FrameRecord] = []
    session: CameraSession | None = None
    for frame in frames:
        # Sized by the first frame, as the service does.
        session = session or CameraSession(stages, spec.camera, frame.size)
        step = session.step(frame)
        dets = step.detections
        persons = step.tracks.of_class(PERSON).boxes_by_id()
        phones = dets.xyxy[dets.class_id == PHONE] if len(dets) else np.zeros((0, 4), np.float32)
        rec = FrameRecord(frame.index, frame.t, frame.wall, persons, np.asarray(phones, np.float32))
        rec.finished = [tl.track_id for tl in step.finished]
        sp = wcfg.spot
        for z in spec.zones:
            if not covered(z, list(persons.values()), sp.pad, sp.clear_pad_h):
                crop = zone_crop(frame.image, z, sp.pad)
                if crop is not None:
                    rec.crops[z.id] = crop
        for tid, xyxy in persons.items():
            h = max(xyxy[3] - xyxy[1], 1.0)
            foot = ((xyxy[0] + xyxy[2]) / 2, xyxy[3])
            if any(z.distance(*foot) <= RECORD_NEAR_H * h for z in spec.zones):
                kp = pose.estimate(frame.image, xyxy)
                rec.poses[tid] = posture(kp, wcfg.signals.kp_min_score) if kp is not None else None
                rec.hists[tid] = appearance_hist(frame.image, xyxy)
        out.append(rec)
    return Recording(spec.camera, spec.uri, list(spec.zones), out, wcfg.signals.kp_min_score)


def record_town(
    town_dir: str | Path, cfg: Config | None = None, wcfg: WatchConfig | None = None
) -> list[Recording]:
    """Every camera with hiding-spot zones of a tuning town (seeds.TUNING["watch"]); a held-out town is
    refused before anything runs."""
    from relaytrack.errors import InputError
    from relaytrack.seeds import check_tuning, town_seed
    from relaytrack.watch.service import sources_from_network

    seed = town_seed(town_dir)
    if seed is None:
        raise InputError(f"{town_dir}: not a generated town (no town.json with its seed)")
    check_tuning("watch", seed)
    specs = [s for s in sources_from_network(Path(town_dir) / "cameras.yaml") if s.zones]
    return [record_source(s, cfg, wcfg) for s in specs]


def replay(
    rec: Recording, wcfg: WatchConfig, route: RouteMemory | None = None, trace: list | None = None
) -> list[Alert]:
    """The behaviour logic and the alert lifecycle of the service over a recording; `trace` (if given)
    collects every assessment as (t, track, zone, score, signals)."""
    watch = CameraWatch(rec.camera, rec.zones, wcfg, route)
    book = AlertBook(rec.camera, wcfg.alert.model_copy(update={"clips": False}), None)
    book.history_fn = lambda tid: list(watch.tracks[tid].boxes) if tid in watch.tracks else []
    blank = np.zeros((8, 8, 3), np.uint8)
    alerts: list[Alert] = []
    for fr in rec.frames:

        def pose_fn(tid, _xyxy, _fr=fr):
            return _fr.poses.get(tid)

        def hist_fn(xyxy, _fr=fr):
            for tid, b in _fr.persons.items():
                if b == tuple(float(v) for v in xyxy):
                    return _fr.hists.get(tid)
            return None

        def crop_fn(zone, _fr=fr):
            return _fr.crops.get(zone.id)

        assessed = watch.step(
            fr.index, fr.t, fr.wall, list(fr.persons.items()), fr.phones, pose_fn if wcfg.pose.enabled else None,
            hist_fn, crop_fn if getattr(fr, "crops", None) is not None else None,
        )  # fmt: skip
        if trace is not None:
            trace.extend((fr.t, a.track_id, a.zone.id, a.score, a.signals) for a in assessed)
        alerts.extend(book.on_frame(fr.index, fr.t, blank, assessed, fr.persons, 0.0))
        # As the service does with the tracker's finished tracklets.
        finals = [a for a in (watch.end_track(tid, fr.wall) for tid in fr.finished) if a is not None]
        alerts.extend(book.decide_pending(fr.finished, finals))
    alerts.extend(book.finish_all())
    return alerts
