"""`relaytrack bench mot`: relaytrack's tracker against peer trackers on the same detections, scored by
TrackEval (HOTA, IDF1, MOTA), plus stage speeds.

Every tracker gets exactly the same detection boxes per frame: relaytrack's own NanoDet detections (computed
once per sequence) and, where the sequence ships them, the public detections (det/det.txt) restricted to the
frames present. Ground truth is rewritten into MOT17 layout (pedestrian class, ignore rows dropped) so that
MOT15 and MOT17 sequences are evaluated alike.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.config import Config
from relaytrack.records import PERSON, Detections
from relaytrack.source.motio import load_detections, read_mot, seqinfo, sequences


@dataclass
class SeqData:
    name: str
    path: Path
    frames: list[Path]
    fps: float
    size: tuple[int, int]
    gt: np.ndarray
    dets: dict[str, dict[int, Detections]] = field(default_factory=dict)


def _images(seq: Path) -> list[Path]:
    return sorted(p for p in (seq / "img1").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def load_sequence(seq: Path) -> SeqData:
    import cv2

    info = seqinfo(seq)
    frames = _images(seq)
    first = cv2.imread(str(frames[0]))
    h, w = first.shape[:2]
    gt = read_mot(seq / "gt" / "gt.txt")
    gt = gt[gt[:, 0] <= len(frames)]
    return SeqData(seq.name, seq, frames, float(info.get("frameRate", 25) or 25), (w, h), gt)


# -- trackers -------------------------------------------------------------------------------------------
def run_relaytrack(seq: SeqData, dets: dict[int, Detections], cfg: Config) -> np.ndarray:
    from relaytrack.track import Tracker

    tracker = Tracker(cfg.track, seq.size, seq.name, classes=("person",))
    finished = []
    for f in range(1, len(seq.frames) + 1):
        tracker.update(dets.get(f, Detections.empty()), f, (f - 1) / seq.fps)
        finished.extend(tracker.pop_finished())
    finished.extend(tracker.flush())
    rows = []
    for tl in finished:
        for b in tl.boxes:
            x1, y1, x2, y2 = b.xyxy
            rows.append([b.frame, tl.track_id, x1, y1, x2 - x1, y2 - y1])
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


def _peer_factory(name: str, fps: float):
    import trackers

    if name == "bytetrack":
        return trackers.ByteTrackTracker(frame_rate=fps)
    if name == "ocsort":
        return trackers.OCSORTTracker(frame_rate=fps)
    raise ValueError(f"unknown peer tracker {name!r}; known: bytetrack, ocsort")


def run_peer(name: str, seq: SeqData, dets: dict[int, Detections]) -> np.ndarray:
    import supervision as sv

    tracker = _peer_factory(name, seq.fps)
    rows = []
    for f in range(1, len(seq.frames) + 1):
        d = dets.get(f, Detections.empty())
        out = tracker.update(sv.Detections(xyxy=d.xyxy.astype(np.float32), confidence=d.confidence,
                                           class_id=d.class_id))
        if out.tracker_id is None:
            continue
        for box, tid in zip(out.xyxy, out.tracker_id, strict=True):
            if tid is None or tid < 0:
                continue
            rows.append([f, int(tid), box[0], box[1], box[2] - box[0], box[3] - box[1]])
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


TRACKERS: dict[str, Callable] = {
    "relaytrack": lambda seq, dets, cfg: run_relaytrack(seq, dets, cfg),
    "bytetrack": lambda seq, dets, cfg: run_peer("bytetrack", seq, dets),
    "ocsort": lambda seq, dets, cfg: run_peer("ocsort", seq, dets),
}


# -- evaluation -----------------------------------------------------------------------------------------
def is_mot17_gt(gt: np.ndarray) -> bool:
    """MOT16/17 GT has 9 columns (…, class, visibility); MOT15 has 10 (…, world x, y, z), all pedestrians."""
    return gt.shape[1] == 9


def _write_gt(root: Path, seq: SeqData) -> None:
    d = root / "gt" / seq.name
    (d / "gt").mkdir(parents=True, exist_ok=True)
    gt = seq.gt
    keep = gt[:, 6] != 0
    if is_mot17_gt(gt):
        keep &= gt[:, 7] == 1
    lines = [f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},1,1,1" for r in gt[keep]]
    (d / "gt" / "gt.txt").write_text("".join(line + "\n" for line in lines))
    (d / "seqinfo.ini").write_text(
        f"[Sequence]\nname={seq.name}\nimDir=img1\nframeRate={seq.fps}\nseqLength={len(seq.frames)}\n"
        f"imWidth={seq.size[0]}\nimHeight={seq.size[1]}\nimExt=.jpg\n"
    )


def trackeval_scores(root: Path, seq_names: list[str], tracker_names: list[str]) -> dict[str, dict[str, float]]:
    """HOTA, IDF1, MOTA (and friends) per tracker over all sequences combined, from TrackEval."""
    import trackeval

    eval_cfg = trackeval.Evaluator.get_default_eval_config()
    eval_cfg.update({"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
                     "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False,
                     "DISPLAY_LESS_PROGRESS": True, "OUTPUT_EMPTY_CLASSES": False})
    ds_cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    ds_cfg.update({"GT_FOLDER": str(root / "gt"), "TRACKERS_FOLDER": str(root / "trackers"),
                   "TRACKERS_TO_EVAL": tracker_names, "SEQ_INFO": {s: None for s in seq_names},
                   "SKIP_SPLIT_FOL": True, "GT_LOC_FORMAT": "{gt_folder}/{seq}/gt/gt.txt", "BENCHMARK": "MOT17",
                   "PRINT_CONFIG": False, "DO_PREPROC": True})
    # TrackEval prints its configuration and progress; the benchmark prints its own table instead.
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = trackeval.Evaluator(eval_cfg)
        dataset = trackeval.datasets.MotChallenge2DBox(ds_cfg)
        metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]
        res, _ = evaluator.evaluate([dataset], metrics)
    out = {}
    for tr in tracker_names:
        comb = res["MotChallenge2DBox"][tr]["COMBINED_SEQ"]["pedestrian"]
        out[tr] = {
            "HOTA": float(np.mean(comb["HOTA"]["HOTA"])) * 100,
            "IDF1": float(comb["Identity"]["IDF1"]) * 100,
            "MOTA": float(comb["CLEAR"]["MOTA"]) * 100,
            "IDSW": int(comb["CLEAR"]["IDSW"]),
            "FP": int(comb["CLEAR"]["CLR_FP"]),
            "FN": int(comb["CLEAR"]["CLR_FN"]),
        }
    return out


def _write_tracks(root: Path, tracker: str, seq: str, rows: np.ndarray) -> None:
    d = root / "trackers" / tracker / "data"
    d.mkdir(parents=True, exist_ok=True)
    lines = [f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},1,-1,-1,-1" for r in rows]
    (d / f"{seq}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))


# -- speed ----------------------------------------------------------------------------------------------
def own_detections(seq: SeqData, cfg: Config, timings: dict[str, float]) -> dict[int, Detections]:
    import cv2

    from relaytrack.detect import Detector

    det = Detector(cfg.detect)
    out = {}
    for f, p in enumerate(seq.frames, 1):
        t0 = time.perf_counter()
        img = cv2.imread(str(p))
        t1 = time.perf_counter()
        d = det.detect(img)
        t2 = time.perf_counter()
        timings["decode_s"] = timings.get("decode_s", 0.0) + t1 - t0
        timings["detect_s"] = timings.get("detect_s", 0.0) + t2 - t1
        timings["frames"] = timings.get("frames", 0) + 1
        out[f] = d.select(d.class_id == PERSON)
    return out


def speed_720p(frames: list[Path], cfg: Config, n: int = 60) -> dict[str, float]:
    """Analysed frames per second of detect + track + describe on frames resized to 1280x720."""
    import cv2

    from relaytrack.pipeline.session import CameraSession, Stages
    from relaytrack.records import Frame

    stages = Stages.load(cfg)
    imgs = [cv2.resize(cv2.imread(str(p)), (1280, 720)) for p in (frames * (n // max(len(frames), 1) + 1))[:n]]
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


def run(folder: Path, cfg: Config, trackers: list[str], out_file: Path | None, progress=None,
        speed: bool = True) -> dict:
    seqs = [load_sequence(s) for s in sequences(folder)]
    if not seqs:
        from relaytrack.errors import InputError

        raise InputError(f"{folder}: no MOTChallenge sequences (folders with img1/ and gt/gt.txt)")
    timings: dict[str, float] = {}
    for seq in seqs:
        if progress:
            progress(f"detect {seq.name}")
        seq.dets["nanodet"] = own_detections(seq, cfg, timings)
        public = seq.path / "det" / "det.txt"
        if public.is_file():
            table = load_detections(public)
            seq.dets["public"] = {f: d for f, d in table.items() if f <= len(seq.frames)}
    result: dict = {"folder": str(folder), "sequences": [s.name for s in seqs],
                    "frames": sum(len(s.frames) for s in seqs), "detections": {}}
    for det_name in ("nanodet", "public"):
        use = [s for s in seqs if det_name in s.dets]
        if not use:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            track_time: dict[str, float] = {}
            for seq in use:
                _write_gt(root, seq)
                for tr in trackers:
                    if progress:
                        progress(f"{tr} on {seq.name} ({det_name})")
                    t0 = time.perf_counter()
                    rows = TRACKERS[tr](seq, seq.dets[det_name], cfg)
                    track_time[tr] = track_time.get(tr, 0.0) + time.perf_counter() - t0
                    _write_tracks(root, tr, seq.name, rows)
            scores = trackeval_scores(root, [s.name for s in use], trackers)
            n = sum(len(s.frames) for s in use)
            for tr in trackers:
                scores[tr]["track_fps"] = n / max(track_time[tr], 1e-9)
            result["detections"][det_name] = scores
    if timings.get("frames"):
        result["speed"] = {
            "decode_fps": timings["frames"] / max(timings["decode_s"], 1e-9),
            "detect_fps": timings["frames"] / max(timings["detect_s"], 1e-9),
        }
    if speed:
        if progress:
            progress("speed at 1280x720")
        result.setdefault("speed", {}).update({f"720p_{k}": v for k, v in speed_720p(seqs[0].frames, cfg).items()})
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(result, indent=2))
    return result
