"""Sequences and cached detections for `relaytrack bench mot`.

Every tracker is fed relaytrack's own NanoDet detections (what `relaytrack detect` gives, persons only), run
once per sequence and cached to a file keyed by the detector settings, so that tuning sweeps (tens of tracker
configurations per fold) never re-run the detector. Each cached box also carries its part-colour embedding
(`Embedder(model="parts")`, L2-normalised) so that appearance-aware association can be measured without
cutting crops again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.config import Config
from relaytrack.records import PERSON, Detections
from relaytrack.source.motio import read_mot, seqinfo

CACHE_VERSION = 1


@dataclass
class SeqData:
    """One MOTChallenge sequence: frames, ground truth (scoring only) and detections per frame."""

    name: str
    path: Path
    frames: list[Path]
    fps: float
    size: tuple[int, int]
    gt: np.ndarray
    dets: dict[int, Detections] = field(default_factory=dict)
    # Per frame, the (N, D) appearance embedding of each box in `dets` (same order); empty when not computed.
    feats: dict[int, np.ndarray] = field(default_factory=dict)
    # Per frame, the colour look of each box in `dets` (`track.look.box_looks`, same order).
    looks: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return len(self.frames)


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


def cache_key(cfg: Config, seq: SeqData, embedder: str | None) -> str:
    """Detector settings, sequence identity and embedder: any change makes a new cache file. The embedder
    counts by its weights' hash, not its name: the built-in part features changed in sessions 24 and 25
    under the same name, and a cache of the old ones must not be read as the new."""
    from relaytrack.describe.embed import Embedder

    blob = json.dumps(
        {
            "v": CACHE_VERSION,
            "detect": cfg.detect.model_dump(mode="json"),
            "seq": seq.name,
            "n": seq.n_frames,
            "first": seq.frames[0].stat().st_size,
            "embed": embedder,
            "embed_id": Embedder(cfg.describe, model=embedder).identity if embedder else None,
        },
        sort_keys=True,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def _crops(img: np.ndarray, xyxy: np.ndarray) -> list[np.ndarray]:
    h, w = img.shape[:2]
    out = []
    for x1, y1, x2, y2 in xyxy:
        a, b = int(max(0, np.floor(x1))), int(max(0, np.floor(y1)))
        c, d = int(min(w, np.ceil(x2))), int(min(h, np.ceil(y2)))
        out.append(img[b : max(d, b + 2), a : max(c, a + 2)])
    return out


def detect_sequence(
    seq: SeqData, cfg: Config, embedder: str | None = "parts", timings: dict[str, float] | None = None
) -> tuple[dict[int, Detections], dict[int, np.ndarray]]:
    """Run the detector (and the embedder on every person box) over every frame of the sequence."""
    import cv2

    from relaytrack.describe import Embedder
    from relaytrack.detect import Detector

    timings = timings if timings is not None else {}
    det = Detector(cfg.detect)
    emb = Embedder(cfg.describe, model=embedder) if embedder else None
    dets: dict[int, Detections] = {}
    feats: dict[int, np.ndarray] = {}
    for f, p in enumerate(seq.frames, 1):
        t0 = time.perf_counter()
        img = cv2.imread(str(p))
        t1 = time.perf_counter()
        d = det.detect(img)
        d = d.select(d.class_id == PERSON)
        t2 = time.perf_counter()
        dets[f] = d
        if emb is not None:
            feats[f] = emb.embed(_crops(img, d.xyxy)) if len(d) else np.zeros((0, emb.dim), np.float32)
        t3 = time.perf_counter()
        timings["decode_s"] = timings.get("decode_s", 0.0) + t1 - t0
        timings["detect_s"] = timings.get("detect_s", 0.0) + t2 - t1
        timings["embed_s"] = timings.get("embed_s", 0.0) + t3 - t2
        timings["frames"] = timings.get("frames", 0) + 1
    return dets, feats


def cached_detections(
    seq: SeqData,
    cfg: Config,
    cache_dir: Path,
    embedder: str | None = "parts",
    progress=None,
    timings: dict[str, float] | None = None,
) -> Path:
    """Fill seq.dets / seq.feats from the cache file, computing and writing it first when missing."""
    path = cache_dir / f"{seq.name}-{cache_key(cfg, seq, embedder)}.npz"
    if not path.is_file():
        if progress:
            progress(f"detect {seq.name} ({seq.n_frames} frames; cached to {path})")
        dets, feats = detect_sequence(seq, cfg, embedder, timings)
        frames = np.concatenate(
            [np.full(len(d), f, np.int32) for f, d in dets.items()] or [np.zeros(0, np.int32)]
        )
        arrays = {
            "frame": frames,
            "xyxy": np.concatenate([d.xyxy for d in dets.values()] or [np.zeros((0, 4), np.float32)]),
            "conf": np.concatenate([d.confidence for d in dets.values()] or [np.zeros(0, np.float32)]),
        }
        if feats:
            arrays["feat"] = np.concatenate(list(feats.values())).astype(np.float16)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)
    z = np.load(path)
    frame, xyxy, conf = z["frame"], z["xyxy"], z["conf"]
    feat = z["feat"].astype(np.float32) if "feat" in z else None
    seq.dets, seq.feats = {}, {}
    for f in range(1, seq.n_frames + 1):
        m = frame == f
        seq.dets[f] = Detections(xyxy[m], conf[m], np.full(int(m.sum()), PERSON))
        if feat is not None:
            seq.feats[f] = feat[m]
    _cached_looks(seq, path)
    return path


LOOKS_VERSION = 2  # bump when `track.look.box_looks` changes


def _cached_looks(seq: SeqData, det_path: Path) -> None:
    """Fill seq.looks (the tracker's colour looks of every detection), cached beside the detections."""
    import cv2

    from relaytrack.track.look import DIM, box_looks

    path = det_path.with_name(f"{det_path.stem}-looks{LOOKS_VERSION}.npz")
    if not path.is_file():
        rows = [
            box_looks(cv2.imread(str(p)), seq.dets[f].xyxy) if len(seq.dets[f]) else np.zeros((0, DIM))
            for f, p in enumerate(seq.frames, 1)
        ]
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, look=np.concatenate(rows).astype(np.float32))
        tmp.replace(path)
    look = np.load(path)["look"]
    if look.shape[1:] != (DIM,):  # written by another version of the looks: compute them again
        path.unlink()
        return _cached_looks(seq, det_path)
    counts = np.cumsum([0] + [len(seq.dets[f]) for f in range(1, seq.n_frames + 1)])
    seq.looks = {f: look[counts[f - 1] : counts[f]] for f in range(1, seq.n_frames + 1)}
