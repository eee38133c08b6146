"""Masking benchmark: how many non-target people (from ground truth) are masked in every exported frame.

A window of a MOTChallenge sequence (gt/gt.txt + img1/, or a video with `--video`) is exported through the
real export path. The target is what the pipeline itself tracked: an investigator's click on the target (its
first ground-truth box in the window) picks the pipeline sighting under it, and the target-match rule
(bench/masking_target.py, tuned on PETS09-S2L1 frames 1-100 only) chains the tracklets that continue it. The
other people are masked from what the system itself knows: tracks of the project's pipeline (ingest) and/or
the fresh detection pass and faces, never from GT. Each GT box of another person counts as masked when at
least `threshold` of its (clipped) area lies under the union of masked regions. The share of the target's GT
box left unaltered is reported beside it (mean over the target's GT frames, worst frame, share of frames with
at least 0.95 unaltered): masking the whole frame would score 100% and be useless. `protect=False` masks as
before issue 18 finding 7 (bystander boxes whole, even over the target) for the before/after comparison.
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


def _trimmed(uri: str, first: int, last: int, tmp: Path) -> str:
    """Frames first..last of an image sequence as their own sequence (renumbered from 1): the pipeline sees
    only the window, so nothing before it informs its tracks."""
    from relaytrack.source.open import IMAGE_EXTS

    src = Path(uri) / "img1" if (Path(uri) / "img1").is_dir() else Path(uri)
    files = sorted(p for p in src.iterdir() if p.suffix.lower() in IMAGE_EXTS)[first - 1 : last]
    dst = tmp / "trimmed" / "img1"
    dst.mkdir(parents=True)
    for p in files:
        (dst / p.name).symlink_to(p.resolve())
    ini = src.parent / "seqinfo.ini"
    if ini.is_file():
        import re

        text = re.sub(r"seqLength=\d+", f"seqLength={len(files)}", ini.read_text())
        (dst.parent / "seqinfo.ini").write_text(text)
    return str(dst.parent)


def _tracklets(conn, source_id: int):
    from relaytrack.bench.masking_target import Tracklet

    out = []
    for (sid,) in conn.execute(
        "SELECT id FROM sightings WHERE source_id=? AND kind='person' ORDER BY first_frame", (source_id,)
    ).fetchall():
        rows = conn.execute(
            "SELECT frame, x, y, w, h FROM boxes WHERE sighting_id=? ORDER BY frame", (sid,)
        ).fetchall()
        if rows:
            out.append(Tracklet(sid, [tuple(r) for r in rows]))
    return out


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
    first: int = 1,
    rule=None,
    tune: bool = False,
    protect: bool = True,
    mask_overrides: dict | None = None,
    follow: bool = True,
    cut: float | None = None,
    variants: list[dict] | None = None,
) -> dict | list[dict]:
    """Export frames first..first+frames-1 of `seq` with the pipeline's own target and score the masking.
    `tune` instead searches the target-match rule on this window and returns it (tuning windows only);
    `variants` (mask setting overrides) exports the one ingested window once per variant, a result each."""
    from relaytrack.bench.masking_target import (
        DEFAULT_RULE,
        first_click,
        select_target,
        target_agreement,
        tune_rule,
    )
    from relaytrack.config import Config
    from relaytrack.evidence import access as acc
    from relaytrack.evidence.export import Hop, export_evidence
    from relaytrack.evidence.mask import MaskSettings
    from relaytrack.pipeline.ingest import ingest
    from relaytrack.source.open import probe
    from relaytrack.store import Store

    rule = rule or DEFAULT_RULE
    seq = Path(seq)
    gt = load_gt(seq)
    uri = _footage(seq, video)
    info = probe(uri)
    end = min(int(gt[:, 0].max()), first + frames - 1, info.frames or first + frames - 1)
    if info.kind != "images" and first != 1:
        raise InputError(f"{uri}: a window not starting at frame 1 needs an image sequence")
    # The window is renumbered 1..n (the pipeline sees only it); GT frames follow.
    gt = gt[(gt[:, 0] >= first) & (gt[:, 0] <= end)]
    gt[:, 0] -= first - 1
    last = end - first + 1
    if target is None:
        ids, counts = np.unique(gt[:, 1].astype(int), return_counts=True)
        target = int(ids[np.argmax(counts)])
    tg = gt[gt[:, 1] == target]
    if len(tg) == 0:
        raise InputError(f"GT id {target} has no boxes in frames {first}..{end}")
    gt_target = {int(r[0]): (int(r[0]), r[2], r[3], r[4], r[5]) for r in tg}
    with tempfile.TemporaryDirectory(prefix="rt-maskbench-") as tmp:
        store = Store(Path(tmp) / "bench.db")
        with store.tx() as conn:
            acc.create_user(conn, "bench", "investigator")
            acc.create_case(
                conn, "BENCH-1", legal_basis="benchmark", purpose="masking measurement", members=["bench"]
            )
        # The pipeline runs even without --tracks: the target is what it tracked. It flushes its open tracks
        # only at the end of a source, so it gets a source that ends at the last measured frame.
        ingest_uri = _trimmed(uri, first, end, Path(tmp)) if info.kind == "images" else uri
        res = ingest(store, ingest_uri, "BENCH", Config())
        if res.status == "failed":
            raise InputError(f"ingest of {uri} failed: {res.error}")
        source_id = res.source_id
        n_tracks = res.sightings
        tracklets = _tracklets(store.conn, source_id)
        click = first_click(tracklets, gt_target, rule.click_iou)
        if tune:
            store.close()
            best, fig = tune_rule(tracklets, click, gt_target)
            return {"sequence": seq.name, "frames": f"{first}-{end}", "target_id": target,
                    "rule": best.__dict__, **fig}  # fmt: skip
        chosen = select_target(tracklets, click, rule)
        if cut is not None:  # tuning the follower: the target's sighting ends early, the export follows it
            chosen = chosen[: max(1, int(len(chosen) * cut))]
        agreement = target_agreement(chosen, gt_target)
        with store.tx() as conn:
            if not tracks:
                # Detection pass alone: the target's sighting sits on a source of its own, so the pipeline's
                # other tracks (on the ingest source) are not used for masking.
                source_id = conn.execute(
                    "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, width, height, frames_total)"
                    " VALUES ('BENCH',?,?,?,?,?,?,?)",
                    (ingest_uri, info.fingerprint + "-alone", 0.0, info.fps, info.width, info.height, last),
                ).lastrowid
            f0 = chosen[0][0] if chosen else 1
            f1 = chosen[-1][0] if chosen else 1
            sid = conn.execute(
                "INSERT INTO sightings(camera_id, source_id, track_id, kind, class_name, start_s, end_s, first_frame,"
                " last_frame, wall_start, wall_end) VALUES ('BENCH',?,?,?,?,?,?,?,?,?,?)",
                (source_id, 10_000_000 + target, "person", "person", (f0 - 1) / info.fps, (f1 - 1) / info.fps,
                 f0, f1, 0.0, 0.0),
            ).lastrowid  # fmt: skip
            conn.executemany(
                "INSERT INTO boxes(sighting_id, frame, t, x, y, w, h, conf) VALUES (?,?,?,?,?,?,?,?)",
                [(sid, int(r[0]), 0.0, r[1], r[2], r[3], r[4], 1.0) for r in chosen],
            )
            # The chosen tracklets' copied boxes leave them: in an export the target's own sighting is never
            # among the others, while here it stayed there too and its padded ring was masked around the target.
            picked = {tuple(r) for r in chosen}
            for t in tracklets:
                if any(tuple(r) in picked for r in t.rows):
                    conn.execute("DELETE FROM boxes WHERE sighting_id=? AND frame>=?", (t.sid, click[0]))
        hop = Hop("BENCH", 1, last, sid, source_id)
        exps = []
        for i, variant in enumerate(variants if variants is not None else [mask_overrides or {}]):
            overrides = dict(variant)
            if not follow:
                overrides["follow"] = None
            settings = MaskSettings(
                method=method, detect=detect, faces=faces, protect_target=protect, **overrides
            )
            exps.append(export_evidence(
                store,
                Path(tmp) / f"pkg-{i}",
                [hop],
                user="bench",
                case="BENCH-1",
                pre_roll=0,
                post_roll=0,
                settings=settings,
                keep_masks=True,
                progress=progress,
            ))  # fmt: skip
        store.close()
    scored = [
        _score(exp, gt, gt_target, target, info, first, threshold, seq=seq, uri=uri, end=end, rule=rule,
               agreement=agreement, n_tracks=n_tracks, tracks=tracks, detect=detect, faces=faces, method=method,
               protect=protect, follow=follow)
        for exp in exps
    ]  # fmt: skip
    return scored if variants is not None else scored[0]


def _score(exp, gt, gt_target, target, info, first, threshold, *, seq, uri, end, rule, agreement, n_tracks,
           tracks, detect, faces, method, protect, follow) -> dict:  # fmt: skip
    """The figures of one export of the window (see measure_masking)."""
    from relaytrack.evidence.mask import bystander_head, iou, pad

    masks = {m.frame: m for m in exp.hops[0].masks}
    w, h = info.width, info.height
    covered_n, total, cov_all, target_vis, target_worst = 0, 0, [], [], None
    vis_tracked, n_out, by_target, n_head = [], 0, 0, 0  # diagnostics: see the returned keys
    per_frame_min, worst_frame = 1.0, None
    boxed, boxed_wrong = 0, 0  # frames with an export target box; of them, not on the target (IoU < 0.3)
    for f in sorted(masks):
        m = masks[f].coverage_mask(w, h)
        tb = masks[f].target
        prot = np.zeros((h, w), bool)
        if tb is not None:
            g = gt_target.get(f)
            boxed += 1
            boxed_wrong += int(g is None or iou(tb, (g[1], g[2], g[1] + g[3], g[2] + g[4])) < 0.3)
            px1, py1, px2, py2 = pad(tb, 0.0, w, h)
            prot[py1:py2, px1:px2] = True
        rows = gt[gt[:, 0] == f]
        fr_tot = fr_cov = 0
        for r in rows:
            x1, y1 = int(max(0, r[2])), int(max(0, r[3]))
            x2, y2 = int(min(w, r[2] + r[4])), int(min(h, r[3] + r[5]))
            if (x2 - x1) * (y2 - y1) < 20:
                continue
            c = float(m[y1:y2, x1:x2].mean())
            if int(r[1]) == target:
                if tb is not None and iou(tb, (r[2], r[3], r[2] + r[4], r[3] + r[5])) >= 0.5:
                    vis_tracked.append(1.0 - c)
                target_vis.append(1.0 - c)
                if target_worst is None or 1.0 - c < target_worst[1]:
                    target_worst = (f + first - 1, 1.0 - c)
                continue
            cov_all.append(c)
            fr_tot += 1
            fr_cov += c >= threshold
            outside = ~prot[y1:y2, x1:x2]
            c_out = float(m[y1:y2, x1:x2][outside].mean()) if outside.any() else c
            n_out += c_out >= threshold
            by_target += c < threshold <= c_out
            hx1, hy1, hx2, hy2 = pad(bystander_head((r[2], r[3], r[2] + r[4], r[3] + r[5]), 0.2), 0.0, w, h)
            n_head += hx2 > hx1 and hy2 > hy1 and float(m[hy1:hy2, hx1:hx2].mean()) >= threshold
        total += fr_tot
        covered_n += fr_cov
        if fr_tot:
            if fr_cov / fr_tot < per_frame_min or worst_frame is None:
                # Frame number in the original sequence (the window was renumbered from 1).
                per_frame_min, worst_frame = min(per_frame_min, fr_cov / fr_tot), f + first - 1
    cov = np.array(cov_all) if cov_all else np.zeros(0)
    return {
        "sequence": seq.name,
        "footage": uri,
        "window": [first, end],
        "frames": len(masks),
        "target_id": target,
        "target_source": "pipeline tracking (click on the target's first outlined GT box, then the target-match"
        " rule; the export follows it where the tracklets stored no box)",
        "target_rule": rule.__dict__,
        "target_found": round(agreement["target_found"], 4),
        "target_wrong_person": round(agreement["wrong_person"], 4),
        "config": {
            "tracks": tracks,
            "detection_pass": detect,
            "faces": faces,
            "method": method,
            "threshold": threshold,
            "pipeline_tracks": n_tracks,
            "protect_target": protect,
            "follow_target": follow,
        },
        "non_target_boxes": total,
        "masked": covered_n,
        "masked_rate": round(covered_n / total, 4) if total else None,
        "masked_rate_at_0.5": round(float((cov >= 0.5).mean()), 4) if total else None,
        "masked_rate_at_0.99": round(float((cov >= 0.99).mean()), 4) if total else None,
        "mean_coverage": round(float(cov.mean()), 4) if total else None,
        "worst_frame_rate": round(per_frame_min, 4) if total else None,
        "worst_frame": worst_frame,
        # Pooled over the window's boxes: the masked count over all non-target boxes (masked_rate).
        "target_visible_min": round(float(np.min(target_vis)), 4) if target_vis else None,
        "target_visible_mean": round(float(np.mean(target_vis)), 4) if target_vis else None,
        # The target's GT box: frames scored, the worst one (original numbering), share of frames >= 0.95 unaltered.
        "target_frames": len(target_vis),
        "target_worst_frame": target_worst[0] if target_worst else None,
        "target_visible_ge_0.95": round(float(np.mean(np.array(target_vis) >= 0.95)), 4) if target_vis else None,
        # What the export itself recorded (share of the pipeline's target box unaltered, manifest figures).
        "export_target_frames": exp.hops[0].target_frames,
        "export_target_unknown_frames": exp.hops[0].target_unknown_frames,
        "export_target_visible_mean": exp.hops[0].target_visible_mean,
        "export_target_frames_below_half": exp.hops[0].target_frames_below_half,
        "export_target_followed_frames": exp.hops[0].target_followed_frames,
        "export_target_relinked_frames": exp.hops[0].target_relinked_frames,  # of those, along another track
        # Frames whose protected box is not on the target (IoU < 0.3 with its GT box, or the target not there):
        # a bystander left visible there, the cost of a wrong pick or a wrong follow.
        "export_target_boxed_frames": boxed,
        "export_target_wrong_frames": boxed_wrong,
        # Masking alone, tracking aside: the GT box's unaltered share in frames whose export box is the target
        # (IoU >= 0.5 with its GT box); bystander boxes masked over their part outside the export's target box,
        # and those left unmasked only inside it (behind or in front of the protected target).
        "target_tracked_frames": len(vis_tracked),
        "target_visible_mean_tracked": round(float(np.mean(vis_tracked)), 4) if vis_tracked else None,
        "target_visible_ge_0.95_tracked": round(float(np.mean(np.array(vis_tracked) >= 0.95)), 4)
        if vis_tracked else None,
        "masked_rate_outside_target": round(n_out / total, 4) if total else None,
        "unmasked_inside_target_only": by_target,
        "head_masked_rate": round(n_head / total, 4) if total else None,  # top fifth of the GT box covered
        "faces_masked": exp.hops[0].faces,
    }


def pooled(runs: list[dict]) -> list[dict]:
    """Per configuration (tracks on/off): bystander boxes masked pooled and the worst frame's rate; the target's
    unaltered share pooled over its GT frames (mean), its worst frame and the share of frames >= 0.95."""
    out = []
    for tr in sorted({r["config"]["tracks"] for r in runs}, reverse=True):
        sel = [r for r in runs if r["config"]["tracks"] == tr]
        k, n = sum(r["masked"] for r in sel), sum(r["non_target_boxes"] for r in sel)
        tf = sum(r["target_frames"] for r in sel)
        worst = [r for r in sel if r["target_visible_min"] is not None]
        out.append({
            "tracks": tr,
            "masked": k,
            "non_target_boxes": n,
            "masked_rate": round(k / n, 4) if n else None,
            "worst_frame_rate": min((r["worst_frame_rate"] for r in sel if r["worst_frame_rate"] is not None),
                                    default=None),
            "target_frames": tf,
            "target_visible_mean": round(sum(r["target_visible_mean"] * r["target_frames"] for r in worst) / tf, 4)
            if tf else None,
            "target_visible_min": min((r["target_visible_min"] for r in worst), default=None),
            "target_visible_ge_0.95": round(sum(r["target_visible_ge_0.95"] * r["target_frames"] for r in worst) / tf,
                                            4) if tf else None,
            **_pooled_diagnostics(sel, n),
        })  # fmt: skip
    return out


def _pooled_diagnostics(sel: list[dict], n: int) -> dict:
    tt = [r for r in sel if r.get("target_tracked_frames")]
    nt = sum(r["target_tracked_frames"] for r in tt)
    return {
        "target_tracked_frames": nt,
        "target_visible_mean_tracked": round(
            sum(r["target_visible_mean_tracked"] * r["target_tracked_frames"] for r in tt) / nt, 4) if nt else None,
        "target_visible_ge_0.95_tracked": round(
            sum(r["target_visible_ge_0.95_tracked"] * r["target_tracked_frames"] for r in tt) / nt, 4) if nt else None,
        "masked_rate_outside_target": round(
            sum(r["masked_rate_outside_target"] * r["non_target_boxes"] for r in sel) / n, 4) if n else None,
        "unmasked_inside_target_only": sum(r["unmasked_inside_target_only"] for r in sel),
        "head_masked_rate": round(sum(r["head_masked_rate"] * r["non_target_boxes"] for r in sel) / n, 4)
        if n else None,
        "export_target_followed_frames": sum(r.get("export_target_followed_frames", 0) for r in sel),
        "export_target_relinked_frames": sum(r.get("export_target_relinked_frames", 0) for r in sel),
        "export_target_boxed_frames": sum(r.get("export_target_boxed_frames", 0) for r in sel),
        "export_target_wrong_frames": sum(r.get("export_target_wrong_frames", 0) for r in sel),
    }  # fmt: skip


def print_masking(runs: list[dict], console) -> None:
    """The bench's table: per window and configuration, then pooled."""
    from rich.table import Table

    t = Table("sequence", "window", "tracks", "masked", "rate", "worst frame (rate)", "target unaltered mean",
              "target worst (frame)", "target >= 0.95", "target found", "target wrong", title="bench masking")  # fmt: skip
    for r in runs:
        t.add_row(r["sequence"], f"{r['window'][0]}-{r['window'][1]}", str(r["config"]["tracks"]),
                  f"{r['masked']}/{r['non_target_boxes']}", str(r["masked_rate"]),
                  f"{r['worst_frame']} ({r['worst_frame_rate']})", str(r["target_visible_mean"]),
                  f"{r['target_visible_min']} ({r['target_worst_frame']})", str(r["target_visible_ge_0.95"]),
                  str(r["target_found"]), str(r["target_wrong_person"]))  # fmt: skip
    for p in pooled(runs):
        t.add_row("pooled", "", str(p["tracks"]), f"{p['masked']}/{p['non_target_boxes']}", str(p["masked_rate"]),
                  str(p["worst_frame_rate"]), str(p["target_visible_mean"]), str(p["target_visible_min"]),
                  str(p["target_visible_ge_0.95"]), "", "")  # fmt: skip
    from rich.console import Console

    # Eleven columns: never squeezed into an 80-column pipe.
    (console if console.width >= 150 else Console(width=150, file=console.file)).print(t)
    for p in pooled(runs):
        console.print(f"tracks={p['tracks']}: in the {p['target_tracked_frames']} of {p['target_frames']} target "
                      f"frames where the export's target box is the target (IoU >= 0.5), its GT box unaltered "
                      f"{p['target_visible_mean_tracked']} (>= 0.95 in {p['target_visible_ge_0.95_tracked']}); "
                      f"bystanders masked outside the target's box {p['masked_rate_outside_target']}, "
                      f"{p['unmasked_inside_target_only']} unmasked only inside it; bystander heads (top fifth "
                      f"of the GT box) masked {p['head_masked_rate']}; the export protected a box in "
                      f"{p['export_target_boxed_frames']} frames ({p['export_target_followed_frames']} followed, "
                      f"{p['export_target_relinked_frames']} of them along another track), "
                      f"{p['export_target_wrong_frames']} of them not on the target")  # fmt: skip
    console.print("[dim]targets: >= 0.99 of bystander boxes masked, >= 0.95 of the target's box unaltered; "
                  "a target the pipeline did not track under the click is missed (its box masked with everyone)"
                  "[/dim]")  # fmt: skip


# Ties go to the first setting: the stricter one (a wrong follow leaves a bystander visible).
FOLLOW_GRID = {"min_iou": (0.3,), "min_similarity": (0.7, 0.6, 0.5), "look_margin": (None, 0.25, 0.15, 0.1, 0.05)}
FOLLOW_CUT = 0.3  # the tuning target's sighting keeps its first 30 % of boxes; the export follows the rest
FOLLOW_MIN_FRAMES = 40  # tuning targets: every person in the window with at least this many GT boxes


def tune_follow(seq: Path, first: int, frames: int, progress=None) -> dict:
    """Grid search of the export's target follower on a tuning window: each person in it with enough GT boxes
    is the target in turn, its sighting cut to its first FOLLOW_CUT of boxes; a setting scores the target
    frames whose export box is the target (IoU >= 0.5 with its GT box) minus twice those whose box is on
    someone else (a bystander left visible), pooled over the targets."""
    from itertools import product

    from relaytrack.evidence.mask import FollowSettings

    gt = load_gt(seq)
    gt = gt[(gt[:, 0] >= first) & (gt[:, 0] < first + frames)]
    ids, counts = np.unique(gt[:, 1].astype(int), return_counts=True)
    targets = [int(i) for i, c in zip(ids, counts, strict=True) if c >= FOLLOW_MIN_FRAMES]
    settings = [None] + [FollowSettings(min_iou=mi, min_similarity=ms, look_margin=lm)
                         for mi, ms, lm in product(*FOLLOW_GRID.values())]  # fmt: skip
    rows = []
    for fs in settings:
        tot = {"target_frames": 0, "on_target": 0, "wrong": 0, "followed": 0}
        for tid in targets:
            r = measure_masking(seq, target=tid, first=first, frames=frames, faces=False, cut=FOLLOW_CUT,
                                progress=progress, follow=fs is not None, mask_overrides={"follow": fs})  # fmt: skip
            tot["target_frames"] += r["target_frames"]
            tot["on_target"] += r["target_tracked_frames"]
            tot["wrong"] += r["export_target_wrong_frames"]
            tot["followed"] += r["export_target_followed_frames"]
        score = (tot["on_target"] - 2 * tot["wrong"]) / max(tot["target_frames"], 1)
        rows.append({"follow": fs.__dict__ if fs is not None else None, **tot, "score": round(score, 4)})
    best = max(rows[1:], key=lambda x: x["score"])
    return {"sequence": seq.name, "frames": f"{first}-{first + frames - 1}", "cut": FOLLOW_CUT, "targets": targets,
            "grid": rows, "best": best}  # fmt: skip


# The relink's grid, the follower's own settings as chosen above. Ties go to the first setting: the shortest
# gap, the nearest reach and the strictest look (a wrong continuation leaves a bystander visible).
RELINK_GRID = {"relink_gap_s": (1.5, 3.0, 6.0), "relink_jump": (0.5, 1.0, 2.0), "relink_similarity": (0.5, 0.4, 0.3, 0.2)}


def _over_targets(seq: Path, first: int, frames: int, variants: list[dict], cuts: tuple, progress=None) -> tuple:
    """Each person of a tuning window with at least FOLLOW_MIN_FRAMES GT boxes the target in turn (its sighting
    whole, or cut to a share of its boxes, per `cuts`), exported once per variant of the mask settings: the
    targets and, per variant, the pooled target frames, those with the export's box on the target and on
    someone else, followed frames, bystander boxes masked and the target's unaltered share summed."""
    from itertools import product

    gt = load_gt(seq)
    gt = gt[(gt[:, 0] >= first) & (gt[:, 0] < first + frames)]
    ids, counts = np.unique(gt[:, 1].astype(int), return_counts=True)
    targets = [int(i) for i, c in zip(ids, counts, strict=True) if c >= FOLLOW_MIN_FRAMES]
    keys = ("target_frames", "on_target", "wrong", "followed", "masked", "non_target_boxes", "visible_sum")
    tot = [dict.fromkeys(keys, 0) for _ in variants]
    for tid, cut in product(targets, cuts):
        runs = measure_masking(seq, target=tid, first=first, frames=frames, faces=False, cut=cut, progress=progress,
                               variants=variants)  # fmt: skip
        for t, r in zip(tot, runs, strict=True):
            t["target_frames"] += r["target_frames"]
            t["on_target"] += r["target_tracked_frames"]
            t["wrong"] += r["export_target_wrong_frames"]
            t["followed"] += r["export_target_followed_frames"]
            t["masked"] += r["masked"]
            t["non_target_boxes"] += r["non_target_boxes"]
            t["visible_sum"] += (r["target_visible_mean"] or 0.0) * r["target_frames"]
    return targets, tot


def tune_relink(seq: Path, first: int, frames: int, progress=None) -> dict:
    """Grid search of the export's relink (another track taken as the target's continuation where it was lost)
    on a tuning window: each person with enough GT boxes is the target in turn, once with its whole sighting
    (the tracker's own fragments and swaps) and once cut to its first FOLLOW_CUT of boxes (the rest of that
    track then gone); scored as tune_follow (target frames with the export's box on the target minus twice
    those on someone else, pooled)."""
    from dataclasses import asdict
    from itertools import product

    from relaytrack.evidence.mask import FollowSettings

    settings = [FollowSettings(relink_gap_s=0.0)] + [
        FollowSettings(relink_gap_s=g, relink_jump=j, relink_similarity=m) for g, j, m in product(*RELINK_GRID.values())
    ]
    targets, tot = _over_targets(seq, first, frames, [{"follow": fs} for fs in settings], (None, FOLLOW_CUT),
                                 progress)  # fmt: skip
    rows = [{"follow": asdict(fs), **t, "score": round((t["on_target"] - 2 * t["wrong"]) / max(t["target_frames"], 1), 4)}
            for fs, t in zip(settings, tot, strict=True)]  # fmt: skip
    best = max(rows, key=lambda x: x["score"])
    return {"sequence": seq.name, "frames": f"{first}-{first + frames - 1}", "cut": [None, FOLLOW_CUT],
            "targets": targets, "grid": rows, "best": best}  # fmt: skip



PAD_GRID = (0.2, 0.3, 0.4)  # MaskSettings.pad: the share of a bystander's box added on each side of its mask


def tune_pad(seq: Path, first: int, frames: int, progress=None) -> dict:
    """MaskSettings.pad on a tuning window, each person with enough GT boxes the target in turn (whole
    sighting): per setting, bystander boxes masked and the target's GT box unaltered (mean), pooled. The rule,
    fixed before it ran: the setting whose gain in bystanders masked over the first (points of the rate) minus
    its loss in the target's unaltered mean (points) is largest and positive, else the first."""
    targets, tot = _over_targets(seq, first, frames, [{"pad": v} for v in PAD_GRID], (None,), progress)
    rows = [{"pad": v, "masked_rate": round(t["masked"] / max(t["non_target_boxes"], 1), 4),
             "target_visible_mean": round(t["visible_sum"] / max(t["target_frames"], 1), 4), **t}
            for v, t in zip(PAD_GRID, tot, strict=True)]  # fmt: skip
    base = rows[0]
    for r in rows:
        gain = (r["masked_rate"] - base["masked_rate"]) + (r["target_visible_mean"] - base["target_visible_mean"])
        r["net"] = round(gain, 4)
    best = max(rows, key=lambda r: r["net"])
    return {"sequence": seq.name, "frames": f"{first}-{first + frames - 1}", "targets": targets, "grid": rows,
            "best": best if best["net"] > 0 else base}  # fmt: skip
