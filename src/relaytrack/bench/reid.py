"""`relaytrack bench reid`: cross-camera re-identification, every embedder side by side in one run.

Protocol (printed with the table):
- scored towns: the held-out seeds of `bench.seeds.HELD_OUT["reid"]`, fixed in code before any tuning, rendered
  with look-alike decoys (suspect's colours) and a doubled crowd; tracklets from their ground truth (each
  person's visit to a camera, up to `describe.embed_crops` (10) crops 0.4 s apart from boxes >= 40 px tall and
  >= 60 % visible: as many as the pipeline embeds a sighting from; 5 before session 23);
- training: the learned model is fitted on the tracklets of the *training* towns (`TUNING["reid"]`) exactly as
  `reid train` fits a store: tracklet = one person, co-occurring tracklets = two people, then one round of
  joining mutual nearest tracklets across cameras; no identity read;
- scores: each tracklet queries the tracklets of the other cameras (same camera left out); rank-1, rank-5, mAP;
- real data: Market-1501 crops (3 cameras), MOT17-derived crops (two scenes, one camera each: a frame is a
  "camera"), PETS09-S2L1 / TUD people re-appearing after a gap (each visit its own group);
- speed: milliseconds to embed one tracklet of that many crops on the configured threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.bench.seeds import TUNING, check_tuning, held_out
from relaytrack.config import DescribeConfig
from relaytrack.paths import data_dir
from relaytrack.reid.crops import TrackletCrops, from_mot
from relaytrack.reid.metrics import cross_camera

Echo = Callable[[str], None]
TOWN_CAMERAS, TOWN_MINUTES, TOWN_DECOYS, TOWN_CROWD = 8, 2.0, 3, 2.0
CROPS = DescribeConfig().embed_crops  # crops per ground-truth tracklet: as many as the pipeline embeds


def colour_histogram(crops: list[np.ndarray]) -> np.ndarray:
    """Baseline: HSV histograms (8x4x4) of the upper and lower body halves, the classic re-id colour cue."""
    import cv2

    out = []
    for c in crops:
        hsv = cv2.cvtColor(cv2.resize(c, (32, 64)), cv2.COLOR_BGR2HSV)
        hs = [cv2.calcHist([hsv[y0:y1, 6:26]], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
              for y0, y1 in ((8, 32), (32, 60))]
        v = np.sqrt(np.concatenate(hs) / max(1.0, float(sum(h.sum() for h in hs))))
        out.append(v)
    return np.asarray(out, np.float32)


def town_tracklets(seed: int, root: Path, echo: Echo, *, train: bool) -> list[TrackletCrops]:
    from relaytrack.town import generate

    if train:
        check_tuning("reid", seed)
    light = ("day", "dusk", "night")[seed % 3]
    echo(f"town seed {seed} ({light}, {TOWN_CAMERAS} cameras, {TOWN_MINUTES} min, {TOWN_DECOYS} decoys, "
         f"crowd x{TOWN_CROWD}) ...")
    path = generate(seed, cameras=TOWN_CAMERAS, minutes=TOWN_MINUTES, out_dir=root / f"town-s{seed}",
                    lighting=light, decoys=TOWN_DECOYS, crowd=TOWN_CROWD)
    out = []
    for cam in sorted((path / "mot").iterdir()):
        video = path / "videos" / f"{cam.name}.mp4"
        for t in from_mot(video, cam / "gt" / "gt.txt", cam.name, fps=10.0, k=CROPS):
            out.append(TrackletCrops(f"{seed}:{t.key}", f"{seed}:{t.camera}", t.frames, t.t, t.crops,
                                     None if train else f"{seed}:{t.identity}"))
    return out


def real_sets(echo: Echo) -> dict[str, list[TrackletCrops]]:
    import csv

    import cv2

    sets: dict[str, list[TrackletCrops]] = {}
    market = data_dir() / "reid-samples" / "market1501-crops"
    if market.is_dir():
        trs = []
        for f in sorted(market.glob("*.jpg")):
            pid, cam = f.name.split("_")[0], f.name.split("_")[1][:2]
            trs.append(TrackletCrops(f.stem, cam, (0, 0), (0.0, 0.0), (cv2.imread(str(f)),), pid))
        sets["market1501-crops"] = trs
    mot17 = data_dir() / "reid-samples" / "mot17-derived-crops"
    if (mot17 / "labels.csv").exists():
        trs = []
        with open(mot17 / "labels.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                im = cv2.imread(str(mot17 / row["path"]))
                if im is not None and im.shape[0] >= 40:
                    trs.append(TrackletCrops(row["path"], f"{row['sequence']}:{row['frame']}", (0, 0), (0.0, 0.0),
                                             (im,), row["pid"]))
        sets["mot17-crops"] = trs
    for seq, fps in (("PETS09-S2L1", 7.0), ("TUD-Stadtmitte", 25.0), ("TUD-Campus", 25.0)):
        d = data_dir() / "mot15" / seq
        if (d / "gt" / "gt.txt").exists():
            trs = from_mot(d, d / "gt" / "gt.txt", seq, fps=fps, max_gap_s=1.0, mot15=True, k=CROPS)
            # Each visit is its own group: a person matches only their other visits, after a gap.
            sets[f"{seq}-reappear"] = [TrackletCrops(t.key, t.key, t.frames, t.t, t.crops, t.identity) for t in trs]
    echo("real sets: " + ", ".join(f"{k} ({len(v)} tracklets)" for k, v in sets.items()))
    return sets


def _embed_all(fn: Callable[[list[np.ndarray]], np.ndarray], trs: list[TrackletCrops]) -> np.ndarray:
    out = []
    for t in trs:
        e = np.asarray(fn(list(t.crops)), np.float32)
        e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        m = e.mean(axis=0)
        out.append(m / max(float(np.linalg.norm(m)), 1e-12))
    return np.stack(out)


def run(out_dir: Path, *, towns: int = 3, train_towns: int = 2, echo: Echo = print) -> dict[str, Any]:
    from relaytrack.describe.embed import Embedder
    from relaytrack.reid import train as reid_train

    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = DescribeConfig()
    train_seeds = TUNING["reid"][:train_towns]
    scored_seeds = held_out("reid", towns)
    train_trs = [t for s in train_seeds for t in town_tracklets(s, out_dir, echo, train=True)]
    echo(f"training the projection on {len(train_trs)} tracklets of towns {list(train_seeds)} (no identities)")
    t0 = time.perf_counter()
    model, info = reid_train.train_tracklets(train_trs)
    train_s = time.perf_counter() - t0
    from relaytrack.reid import model as reid_model

    model_path = reid_model.write(model, out_dir / "reid-bench.onnx")
    embedders = {"imagenet": Embedder(cfg, model="imagenet"), "parts": Embedder(cfg, model="parts"),
                 "trained": Embedder(cfg, model=str(model_path))}
    methods: dict[str, Callable[[list[np.ndarray]], np.ndarray]] = {
        "imagenet (a)": embedders["imagenet"].embed,
        "colour histogram (b)": colour_histogram,
        "part features (c)": embedders["parts"].embed,
        "trained (d)": embedders["trained"].embed,
    }
    sets: dict[str, list[TrackletCrops]] = {}
    scored = [t for s in scored_seeds for t in town_tracklets(s, out_dir, echo, train=False)]
    sets[f"held-out towns {list(scored_seeds)}"] = scored
    sets.update(real_sets(echo))
    results: dict[str, dict[str, Any]] = {}
    empty: list[str] = []
    for set_name, trs in sets.items():
        if not trs:
            continue
        by = {}
        for name, fn in methods.items():
            emb = _embed_all(fn, trs)
            by[name] = cross_camera(emb, [t.identity for t in trs], [t.camera for t in trs]).to_dict()
        if not any(r["queries"] for r in by.values()):
            empty.append(set_name)  # nobody seen twice under the set's rule: nothing to score
            continue
        results[set_name] = by
        echo(f"scored {set_name}")
    speed = {}
    k = CROPS
    probe = [t for t in scored if len(t.crops) >= k][:20] or scored[:20]
    for name, fn in methods.items():
        fn(list(probe[0].crops))  # warm-up
        t1 = time.perf_counter()
        for t in probe:
            fn(list(t.crops[:k]))
        speed[name] = round(1000 * (time.perf_counter() - t1) / max(1, len(probe)), 2)
    return {
        "protocol": {
            "scored_towns": list(scored_seeds),
            "training_towns": list(train_seeds),
            "town": {"cameras": TOWN_CAMERAS, "minutes": TOWN_MINUTES, "decoys": TOWN_DECOYS, "crowd": TOWN_CROWD},
            "tracklets": f"ground-truth visits, <= {k} crops 0.4 s apart, boxes >= 40 px tall, "
            ">= 60 % visible",
            "crops_per_tracklet": k,
            "training": "tracklet = one person, co-occurring tracklets = two people; identities never read",
            "scoring": "cross-camera: same-camera gallery entries left out; queries seen on no other camera skipped",
            "threads": cfg.threads,
            "sets_without_queries": empty,
        },
        "training": {**info, "seconds": round(train_s, 1), "model": str(model_path)},
        "results": results,
        "ms_per_tracklet": speed,
    }
