"""Detector recall of the rendered people: the real detector (relaytrack.detect) on a town's videos vs its gt."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from relaytrack.errors import NotFound
from relaytrack.records import PERSON
from relaytrack.track.tracker import iou_matrix


class GtBox(NamedTuple):
    """One ground-truth person in one frame: id, box (xyxy, 0-based pixels) and visible share."""

    id: int
    xyxy: np.ndarray
    visibility: float


def load_gt(path: Path) -> dict[int, list[GtBox]]:
    """frame -> the people in it, from a MOTChallenge gt.txt (1-based boxes)."""
    out: dict[int, list[GtBox]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        f, pid, x, y, w, h, conf, cls, vis = line.split(",")[:9]
        if int(float(cls)) != 1 or float(conf) == 0:
            continue
        x0, y0 = float(x) - 1, float(y) - 1
        out.setdefault(int(f), []).append(
            GtBox(int(pid), np.array([x0, y0, x0 + float(w), y0 + float(h)]), float(vis))
        )
    return out


def greedy_match(iou: np.ndarray, thr: float) -> np.ndarray:
    """Boolean per gt row: matched one-to-one to a detection at IoU >= thr (highest IoU first)."""
    hit = np.zeros(iou.shape[0], bool)
    if iou.size == 0:
        return hit
    used = np.zeros(iou.shape[1], bool)
    for flat in np.argsort(-iou, axis=None):
        g, d = np.unravel_index(flat, iou.shape)
        if iou[g, d] < thr:
            break
        if not hit[g] and not used[d]:
            hit[g], used[d] = True, True
    return hit


def measure_detector_recall(
    town_dir: str | Path,
    max_frames: int | None = None,
    every: int = 3,
    cameras: list[str] | None = None,
    detector=None,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Recall of gt people at IoU 0.5 by relaytrack.detect.Detector on a town's videos.

    Runs the detector on every `every`-th frame over the whole video (or up to `max_frames` analysed frames
    per camera: the start of a town is emptier than the rest, so a capped run flatters). Returns
    {"recall" (at the detector's person_conf), "recall_low" (at low_conf), "recall_visible" (gt with
    visibility >= 0.5 and height >= 32 px), "gt_boxes", "frames", "lighting", "per_camera": {cam: {...}},
    "by_height": {bucket: recall}, "precision", "det_ms"}.
    """
    from relaytrack.config import DetectConfig
    from relaytrack.detect import Detector

    town = Path(town_dir)
    truth_path = town / "truth.json"
    if not truth_path.exists():
        raise NotFound(f"{town}: no truth.json (not a generated town folder)")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    det = detector or Detector(DetectConfig())
    person_conf = det.cfg.person_conf
    cams = cameras or sorted(p.name for p in (town / "mot").iterdir() if p.is_dir())
    per_cam: dict[str, dict] = {}
    heights: list[float] = []
    hits_hi: list[bool] = []
    hits_lo: list[bool] = []
    vis_ok: list[bool] = []
    n_det_hi = n_tp_hi = 0
    det_time, n_frames = 0.0, 0
    total = 0
    for cam in cams:
        cap = cv2.VideoCapture(str(town / "videos" / f"{cam}.mp4"))
        n = (int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) + every - 1) // every
        cap.release()
        total += n if max_frames is None else min(n, max_frames)
    done = 0
    for cam in cams:
        gt = load_gt(town / "mot" / cam / "gt" / "gt.txt")
        cap = cv2.VideoCapture(str(town / "videos" / f"{cam}.mp4"))
        if not cap.isOpened():
            raise NotFound(f"{town / 'videos' / cam}.mp4: cannot open video")
        c_hi = c_lo = c_n = 0
        frame_no, analysed = 0, 0
        while max_frames is None or analysed < max_frames:
            ok, img = cap.read()
            if not ok:
                break
            frame_no += 1
            if (frame_no - 1) % every:
                continue
            analysed += 1
            rows = gt.get(frame_no, [])
            t = time.perf_counter()
            dets = det.detect(img)
            det_time += time.perf_counter() - t
            n_frames += 1
            people = dets.select(dets.class_id == PERSON)
            boxes_gt = np.array([r.xyxy for r in rows]).reshape(-1, 4)
            hi = people.select(people.confidence >= person_conf)
            m_hi = greedy_match(iou_matrix(boxes_gt, hi.xyxy), 0.5)
            m_lo = greedy_match(iou_matrix(boxes_gt, people.xyxy), 0.5)
            n_det_hi += len(hi)
            n_tp_hi += int(m_hi.sum())
            for r, a, b in zip(rows, m_hi, m_lo, strict=True):
                height = r.xyxy[3] - r.xyxy[1]
                heights.append(float(height))
                hits_hi.append(bool(a))
                hits_lo.append(bool(b))
                vis_ok.append(r.visibility >= 0.5 and height >= 32)
            c_hi += int(m_hi.sum())
            c_lo += int(m_lo.sum())
            c_n += len(rows)
            done += 1
            if progress:
                progress(done, total, cam)
        cap.release()
        per_cam[cam] = {
            "gt_boxes": c_n,
            "recall": round(c_hi / c_n, 3) if c_n else None,
            "recall_low": round(c_lo / c_n, 3) if c_n else None,
            "frames": analysed,
        }
    hh, hi_arr, lo_arr, vv = np.array(heights), np.array(hits_hi), np.array(hits_lo), np.array(vis_ok)
    n = len(hh)
    buckets = {}
    for lo, hi in ((20, 32), (32, 64), (64, 128), (128, 10_000)):
        sel = (hh >= lo) & (hh < hi)
        if sel.any():
            buckets[f"{lo}-{hi if hi < 10_000 else 'max'}px"] = {
                "gt": int(sel.sum()),
                "hits": int(hi_arr[sel].sum()),
                "recall": round(float(hi_arr[sel].mean()), 3),
            }
    return {
        "town": str(town),
        "lighting": truth.get("lighting"),
        "gt_boxes": n,
        "frames": n_frames,
        "person_conf": person_conf,
        "recall": round(float(hi_arr.mean()), 3) if n else None,
        "recall_low": round(float(lo_arr.mean()), 3) if n else None,
        "recall_visible": round(float(hi_arr[vv].mean()), 3) if vv.any() else None,
        "precision": round(n_tp_hi / n_det_hi, 3) if n_det_hi else None,
        "det_ms": round(1000 * det_time / max(n_frames, 1), 1),
        # Counts, so that several towns can be pooled (bench town).
        "hits": int(hi_arr.sum()),
        "hits_low": int(lo_arr.sum()),
        "visible_gt": int(vv.sum()),
        "visible_hits": int(hi_arr[vv].sum()) if n else 0,
        "det_boxes": n_det_hi,
        "det_tp": n_tp_hi,
        "every": every,
        "by_height": buckets,
        "per_camera": per_cam,
    }
