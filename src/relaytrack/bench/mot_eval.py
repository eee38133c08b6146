"""TrackEval's HOTA, CLEAR (MOTA) and Identity (IDF1) metrics computed in memory.

The file-based TrackEval run (`MotChallenge2DBox`) writes and parses text files for every evaluation, which
a tuning sweep (hundreds of tracker runs) cannot afford. Here the same metric classes are fed the same
per-frame data their MOT17 preprocessing would give: ground truth restricted to pedestrians that are not
zero-marked (the "ignore" rows, dropped before scoring as `_write_gt` always did), tracker boxes as they are
(every GT row is a pedestrian, so there are no distractor matches to remove), IoU similarity, ids relabelled
to 0..n-1. `tests/bench/test_mot_protocol.py` checks this against the file-based run.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of xywh boxes (N,4) x (M,4), as TrackEval computes it."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    a2, b2 = a[:, :2] + a[:, 2:], b[:, :2] + b[:, 2:]
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a2[:, None, 0], b2[None, :, 0])
    y2 = np.minimum(a2[:, None, 1], b2[None, :, 1])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = a[:, 2] * a[:, 3]
    area_b = b[:, 2] * b[:, 3]
    union = area_a[:, None] + area_b[None, :] - inter
    out = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
    return np.clip(out, 0, 1)


def scored_gt(gt: np.ndarray) -> np.ndarray:
    """GT rows that count: not zero-marked and (MOT16/17 layout, 9 columns) of the pedestrian class."""
    keep = gt[:, 6] != 0
    if gt.shape[1] == 9:
        keep &= gt[:, 7] == 1
    return gt[keep]


def seq_data(gt: np.ndarray, rows: np.ndarray, first: int, last: int) -> dict:
    """TrackEval's preprocessed data of one sequence span (frames first..last) from GT rows (MOT layout) and
    tracker rows [frame, id, x, y, w, h]."""
    gt = scored_gt(gt)
    gt = gt[(gt[:, 0] >= first) & (gt[:, 0] <= last)]
    rows = rows[(rows[:, 0] >= first) & (rows[:, 0] <= last)] if len(rows) else rows.reshape(0, 6)
    gt_u, gt_inv = np.unique(gt[:, 1].astype(int), return_inverse=True) if len(gt) else (np.zeros(0), np.zeros(0))
    tr_u, tr_inv = (np.unique(rows[:, 1].astype(int), return_inverse=True) if len(rows)
                    else (np.zeros(0), np.zeros(0)))
    gt_ids, tr_ids, sims = [], [], []
    gt_f, tr_f = gt[:, 0].astype(int), rows[:, 0].astype(int)
    for f in range(first, last + 1):
        gm, tm = gt_f == f, tr_f == f
        gt_ids.append(np.asarray(gt_inv[gm], dtype=int))
        tr_ids.append(np.asarray(tr_inv[tm], dtype=int))
        if len(tr_ids[-1]) != len(np.unique(tr_ids[-1])):
            raise ValueError(f"tracker output repeats an id within frame {f}")
        sims.append(box_iou(gt[gm, 2:6], rows[tm, 2:6]))
    return {"num_timesteps": last - first + 1, "num_gt_ids": len(gt_u), "num_tracker_ids": len(tr_u),
            "num_gt_dets": len(gt), "num_tracker_dets": len(rows), "gt_ids": gt_ids, "tracker_ids": tr_ids,
            "similarity_scores": sims}


def _metrics():
    import trackeval

    with contextlib.redirect_stdout(io.StringIO()):
        return [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]


@dataclass(frozen=True)
class SeqResult:
    """Raw TrackEval results of one tracker on one span, combinable with others over any set of spans."""

    per_metric: tuple[dict, ...]


def evaluate(data: dict) -> SeqResult:
    with contextlib.redirect_stdout(io.StringIO()):
        return SeqResult(tuple(m.eval_sequence(data) for m in _metrics()))


def combine(results: list[SeqResult]) -> dict[str, float]:
    """HOTA / IDF1 / MOTA (percent) and counts over several spans together, as TrackEval's COMBINED_SEQ."""
    if not results:
        raise ValueError("nothing to combine")
    ms = _metrics()
    with contextlib.redirect_stdout(io.StringIO()):
        comb = [m.combine_sequences({str(i): r.per_metric[k] for i, r in enumerate(results)})
                for k, m in enumerate(ms)]
    hota, clear, ident = comb
    return {
        "HOTA": float(np.mean(hota["HOTA"])) * 100,
        "IDF1": float(ident["IDF1"]) * 100,
        "MOTA": float(clear["MOTA"]) * 100,
        "IDSW": int(clear["IDSW"]),
        "FP": int(clear["CLR_FP"]),
        "FN": int(clear["CLR_FN"]),
    }


def trackeval_scores(root: Path, seq_names: list[str], tracker_names: list[str]) -> dict[str, dict[str, float]]:
    """The file-based TrackEval run (root/gt/<seq>/gt/gt.txt in MOT17 layout, root/trackers/<name>/data/
    <seq>.txt): HOTA, IDF1, MOTA (and friends) per tracker over all sequences combined."""
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
        res, _ = evaluator.evaluate([dataset], _metrics())
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


def write_trackeval_files(root: Path, seq: str, gt: np.ndarray, rows: np.ndarray, n_frames: int,
                          tracker: str) -> None:
    """GT (scored rows, MOT17 layout) and tracker rows of one sequence in the layout `trackeval_scores` reads."""
    d = root / "gt" / seq
    (d / "gt").mkdir(parents=True, exist_ok=True)
    lines = [f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},1,1,1" for r in scored_gt(gt)]
    (d / "gt" / "gt.txt").write_text("".join(line + "\n" for line in lines))
    (d / "seqinfo.ini").write_text(f"[Sequence]\nname={seq}\nseqLength={n_frames}\n")
    t = root / "trackers" / tracker / "data"
    t.mkdir(parents=True, exist_ok=True)
    lines = [f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},1,-1,-1,-1" for r in rows]
    (t / f"{seq}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
