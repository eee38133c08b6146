"""Masking benchmark: how many non-target people (from ground truth) are masked in every exported frame.

A MOTChallenge sequence (gt/gt.txt + img1/, or a video with `--video`) is exported through the real export
path, with one GT id as the target (its GT boxes stand in for the route's target sighting). The other people
are masked from what the system itself knows: tracks of the project's pipeline (ingest) and/or the fresh
detection pass and faces, never from GT. Each GT box of another person counts as masked when at least
`threshold` of its (clipped) area lies under the union of masked regions. The target's own visibility is
reported too: masking the whole frame would score 100% and be useless.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from relaytrack.errors import InputError

PERSON_CLASSES_MOT17 = {
    1,
    2,
    7,
    -1,
}  # pedestrian, person on vehicle, static person; -1: unspecified (synthetic)


def load_gt(seq: Path) -> np.ndarray:
    """Rows (frame, id, x, y, w, h) of people, ignoring MOT15 conf=0 rows and non-person MOT17 classes."""
    path = seq / "gt" / "gt.txt"
    if not path.is_file():
        raise InputError(f"{path}: no ground truth (gt/gt.txt) in {seq}")
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    if rows.shape[1] == 9:  # MOT17/20: frame,id,x,y,w,h,conf,class,visibility
        rows = rows[(rows[:, 6] != 0) & np.isin(rows[:, 7].astype(int), list(PERSON_CLASSES_MOT17))]
    elif rows.shape[1] >= 7:  # MOT15: frame,id,x,y,w,h,conf,wx,wy,wz
        rows = rows[rows[:, 6] != 0]
    return rows[:, :6]


def _footage(seq: Path, video: Path | None) -> str:
    if video is not None:
        return str(video)
    img = seq / "img1"
    if not img.is_dir():
        raise InputError(f"{seq}: no img1/ folder; give the footage with --video")
    return str(seq)


def _trimmed(uri: str, last: int, tmp: Path) -> str:
    from relaytrack.source.open import IMAGE_EXTS

    src = Path(uri) / "img1" if (Path(uri) / "img1").is_dir() else Path(uri)
    files = sorted(p for p in src.iterdir() if p.suffix.lower() in IMAGE_EXTS)[:last]
    dst = tmp / "trimmed" / "img1"
    dst.mkdir(parents=True)
    for p in files:
        (dst / p.name).symlink_to(p.resolve())
    ini = src.parent / "seqinfo.ini"
    if ini.is_file():
        (dst.parent / "seqinfo.ini").write_text(ini.read_text())
    return str(dst.parent)


def measure_masking(
    seq: Path,
    *,
    target: int | None = None,
    frames: int = 100,
    tracks: bool = True,
    detect: bool = True,
    faces: bool = True,
    video: Path | None = None,
    threshold: float = 0.9,
    method: str = "pixelate",
    progress=None,
) -> dict:
    from relaytrack.evidence import access as acc
    from relaytrack.evidence.export import Hop, export_evidence
    from relaytrack.evidence.mask import MaskSettings
    from relaytrack.source.open import probe
    from relaytrack.store import Store

    seq = Path(seq)
    gt = load_gt(seq)
    uri = _footage(seq, video)
    info = probe(uri)
    last = min(int(gt[:, 0].max()), frames, info.frames or frames)
    gt = gt[gt[:, 0] <= last]
    if target is None:
        ids, counts = np.unique(gt[:, 1].astype(int), return_counts=True)
        target = int(ids[np.argmax(counts)])
    tg = gt[gt[:, 1] == target]
    if len(tg) == 0:
        raise InputError(f"GT id {target} has no boxes in frames 1..{last}")
    with tempfile.TemporaryDirectory(prefix="rt-maskbench-") as tmp:
        store = Store(Path(tmp) / "bench.db")
        with store.tx() as conn:
            acc.create_user(conn, "bench", "investigator")
            acc.create_case(
                conn, "BENCH-1", legal_basis="benchmark", purpose="masking measurement", members=["bench"]
            )
        source_id = None
        n_tracks = 0
        if tracks:
            from relaytrack.config import Config
            from relaytrack.pipeline.ingest import ingest

            # The pipeline flushes its open tracks only at the end of a source, so it gets a source that ends
            # at the last measured frame (links to the first frames), not an interrupted run.
            ingest_uri = _trimmed(uri, last, Path(tmp)) if info.kind == "images" else uri
            res = ingest(store, ingest_uri, "BENCH", Config())
            if res.status == "failed":
                raise InputError(f"ingest of {uri} failed: {res.error}")
            source_id = res.source_id
            n_tracks = res.sightings
        with store.tx() as conn:
            conn.execute("INSERT OR IGNORE INTO cameras(id) VALUES ('BENCH')")
            if source_id is None:
                source_id = conn.execute(
                    "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, width, height, frames_total)"
                    " VALUES ('BENCH',?,?,?,?,?,?,?)",
                    (uri, info.fingerprint, 0.0, info.fps, info.width, info.height, info.frames),
                ).lastrowid
            first_f, last_f = int(tg[0, 0]), int(tg[-1, 0])
            sid = conn.execute(
                "INSERT INTO sightings(camera_id, source_id, track_id, kind, class_name, start_s, end_s, first_frame,"
                " last_frame, wall_start, wall_end) VALUES ('BENCH',?,?,?,?,?,?,?,?,?,?)",
                (
                    source_id,
                    10_000_000 + target,
                    "person",
                    "person",
                    (first_f - 1) / info.fps,
                    (last_f - 1) / info.fps,
                    first_f,
                    last_f,
                    0.0,
                    0.0,
                ),
            ).lastrowid
            conn.executemany(
                "INSERT INTO boxes(sighting_id, frame, t, x, y, w, h, conf) VALUES (?,?,?,?,?,?,?,?)",
                [(sid, int(r[0]), 0.0, r[2], r[3], r[4], r[5], 1.0) for r in tg],
            )
        hop = Hop("BENCH", 1, last, sid, source_id)
        settings = MaskSettings(method=method, detect=detect, faces=faces)
        exp = export_evidence(
            store,
            Path(tmp) / "pkg",
            [hop],
            user="bench",
            case="BENCH-1",
            pre_roll=0,
            post_roll=0,
            settings=settings,
            keep_masks=True,
            progress=progress,
        )
        store.close()
    masks = {m.frame: m for m in exp.hops[0].masks}
    w, h = info.width, info.height
    covered_n, total, cov_all, target_vis = 0, 0, [], []
    per_frame_min = 1.0
    for f in sorted(masks):
        m = masks[f].coverage_mask(w, h)
        rows = gt[gt[:, 0] == f]
        fr_tot = fr_cov = 0
        for r in rows:
            x1, y1 = int(max(0, r[2])), int(max(0, r[3]))
            x2, y2 = int(min(w, r[2] + r[4])), int(min(h, r[3] + r[5]))
            if (x2 - x1) * (y2 - y1) < 20:
                continue
            c = float(m[y1:y2, x1:x2].mean())
            if int(r[1]) == target:
                target_vis.append(1.0 - c)
                continue
            cov_all.append(c)
            fr_tot += 1
            fr_cov += c >= threshold
        total += fr_tot
        covered_n += fr_cov
        if fr_tot:
            per_frame_min = min(per_frame_min, fr_cov / fr_tot)
    cov = np.array(cov_all) if cov_all else np.zeros(0)
    return {
        "sequence": seq.name,
        "footage": uri,
        "frames": len(masks),
        "target_id": target,
        "config": {
            "tracks": tracks,
            "detection_pass": detect,
            "faces": faces,
            "method": method,
            "threshold": threshold,
            "pipeline_tracks": n_tracks,
        },
        "non_target_boxes": total,
        "masked": covered_n,
        "masked_rate": round(covered_n / total, 4) if total else None,
        "masked_rate_at_0.5": round(float((cov >= 0.5).mean()), 4) if total else None,
        "masked_rate_at_0.99": round(float((cov >= 0.99).mean()), 4) if total else None,
        "mean_coverage": round(float(cov.mean()), 4) if total else None,
        "worst_frame_rate": round(per_frame_min, 4) if total else None,
        "target_visible_mean": round(float(np.mean(target_vis)), 4) if target_vis else None,
        "faces_masked": exp.hops[0].faces,
    }
