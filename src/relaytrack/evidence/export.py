"""Evidence export: per hop of a route (or a set of sightings, or an alert) a clip cut from the original
footage with everyone but the target masked, plus a viewing copy; sealed into a signed package with a
chain-of-custody record. The export is authorised (action "export" on an open case the user is assigned to),
refused for another case's sightings, logged in the audit chain, and the exported sightings are put on the
case's legal hold.

Files per hop (hops/NN_<camera>/):
    evidence.avi   masked clip, full resolution and frame rate (Motion-JPEG, high quality; every frame intact)
    view.mp4       viewing copy: masked, at most 960 px wide, target outlined, camera and time burnt in
    frames.json    per exported frame: frame number, wall time, target box and its target_state (analysed,
                   interpolated, followed: found by the export's detection pass, evidence/follow.py; unknown,
                   none), counts of masked regions, target_visible (share of the box
                   unaltered; null: box unknown). manifest.json's `target_visibility` has the same per hop.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.clock import to_seoul_iso
from relaytrack.errors import AccessDenied, InputError, NotFound
from relaytrack.evidence import access as acc
from relaytrack.evidence import witness
from relaytrack.evidence.follow import FOLLOWED, frame_targets
from relaytrack.evidence.guard import file_token, safe_join
from relaytrack.evidence.mask import (
    FrameMask,
    Masker,
    MaskSettings,
    TrackBoxes,
    visibility_record,
    visible_summary,
)
from relaytrack.evidence.package import seal, sha256_file
from relaytrack.relay.route import NO_SIGHTING, Route

MAX_HOPS = 64
MAX_HOP_FRAMES = 20_000  # about 11 minutes at 30 fps: an export is a few clips, not a day of footage


@dataclass
class Hop:
    """One clip to export: the target sighting (or None: mask everybody) on a camera, frames [first, last]."""

    camera: str
    first: int
    last: int
    sighting: int | None = None
    source_id: int | None = None
    target_boxes: list[tuple[int, float, float, float, float]] | None = (
        None  # (frame, x, y, w, h) w/o sighting
    )
    uri: str | None = (
        None  # footage not recorded in sources (an alert of a watch run that stored no sightings)
    )


@dataclass
class HopResult:
    camera: str
    sighting: int | None
    first: int
    last: int
    frames: int
    masked_regions: int
    faces: int
    dir: str
    masks: list[FrameMask] = field(default_factory=list, repr=False)
    # Frames with the target's box known / unknown (everybody masked there), its unaltered share over the known.
    target_frames: int = 0
    target_unknown_frames: int = 0
    target_followed_frames: int = 0  # of the known: found by following (evidence/follow.py), not stored
    target_relinked_frames: int = 0  # of the followed: along another stored sighting (follow.py's relink)
    target_relinked_sightings: list[int] = field(default_factory=list)  # those sightings
    target_visible_min: float | None = None
    target_visible_mean: float | None = None
    target_frames_below_half: int = 0
    visibility: list[list] = field(default_factory=list, repr=False)  # [frame, share or None] per frame


@dataclass
class ExportResult:
    path: Path
    manifest_sha256: str
    hops: list[HopResult]
    audit_seq: int
    export_id: int

    def as_dict(self) -> dict:
        return {
            "package": str(self.path),
            "manifest_sha256": self.manifest_sha256,
            "audit_seq": self.audit_seq,
            "export_id": self.export_id,
            "hops": [_hop_dict(h) for h in self.hops],
        }


def _hop_dict(h: HopResult) -> dict:
    return {k: v for k, v in h.__dict__.items() if k not in ("masks", "visibility")}


# ---- what to export ------------------------------------------------------------------------------------------


def hops_from_route(conn, route: Route) -> list[Hop]:
    """One hop per route hop: the hop's sighting, its frames widened to the hop's own frame span where the route
    gives one (frames count from 1, so [0, 0] is none); a hand-written hop naming only a camera and frames
    (no sighting) is that span with everybody masked. Read a route file with relay.persist.read_route_json."""
    out = []
    for h in route.hops:
        s = h.sighting
        if s.id != NO_SIGHTING:
            hop = _hop_of_sighting(conn, s.id)
            if s.last_frame > 0:
                hop.first, hop.last = min(hop.first, s.first_frame), max(hop.last, s.last_frame)
            out.append(hop)
        else:
            out.append(Hop(s.camera, s.first_frame, s.last_frame))
    return out


def _hop_of_sighting(conn, sid: int) -> Hop:
    row = conn.execute(
        "SELECT camera_id, first_frame, last_frame, source_id FROM sightings WHERE id=?", (sid,)
    ).fetchone()
    if row is None:
        raise NotFound(f"sighting {sid} not found")
    return Hop(row[0], int(row[1]), int(row[2]), sid, row[3])


def hops_from_sightings(conn, ids: list[int]) -> list[Hop]:
    return [_hop_of_sighting(conn, int(i)) for i in ids]


def hops_from_alert(conn, alert_id: int) -> list[Hop]:
    """An alert of the watch stage: its sighting(s), or its camera and time span when it names none."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%alert%'"
            " AND name NOT LIKE '%audit%'"
        )
    ]
    if not tables:
        raise NotFound("this store has no alerts table")
    table = "alerts" if "alerts" in tables else tables[0]
    row = conn.execute(f'SELECT * FROM "{table}" WHERE id=?', (int(alert_id),)).fetchone()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    rec = dict(zip(row.keys(), tuple(row), strict=True))
    ids: list[int] = []
    for key in ("sighting_id", "sighting"):
        if rec.get(key) is not None:
            ids.append(int(rec[key]))
    for key in ("sighting_ids", "sightings"):
        if rec.get(key):
            val = rec[key]
            ids.extend(int(v) for v in (json.loads(val) if isinstance(val, str) else val))
    if ids:
        return hops_from_sightings(conn, list(dict.fromkeys(ids)))
    cam = rec.get("camera_id") or rec.get("camera")
    if rec.get("source_id") is not None:
        src = conn.execute(
            "SELECT id, fps, start_wall FROM sources WHERE id=?", (rec["source_id"],)
        ).fetchone()
    else:
        src = conn.execute(
            "SELECT id, fps, start_wall FROM sources WHERE camera_id=? ORDER BY id DESC LIMIT 1", (cam,)
        ).fetchone()
    # The watch stage stores the alerted track's boxes as JSON [[frame, t, x, y, w, h], ...]: that is the target.
    track = []
    try:
        track = [
            (int(b[0]), float(b[2]), float(b[3]), float(b[4]), float(b[5]))
            for b in json.loads(rec.get("boxes") or "[]")
        ]
    except (ValueError, TypeError, IndexError):
        track = []
    if src is None and not rec.get("source_uri"):
        raise InputError(f"alert {alert_id}: no recorded source for camera {cam}")
    src_id, uri = (src[0], None) if src is not None else (None, rec["source_uri"])
    if track:
        return [Hop(cam, min(b[0] for b in track), max(b[0] for b in track), None, src_id, track, uri)]
    if src is None:
        from relaytrack.source.open import probe

        src = (None, probe(uri).fps, 0.0)
    start = rec.get("start_s", rec.get("start"))
    end = rec.get("end_s", rec.get("end"))
    if start is None or end is None:
        raise InputError(f"alert {alert_id} names no sighting, track or time span to export")
    fps = src[1] or 25.0
    return [Hop(cam, int(float(start) * fps) + 1, int(float(end) * fps) + 1, None, src_id, None, uri)]


# ---- footage -------------------------------------------------------------------------------------------------


@dataclass
class SourceRow:
    id: int
    camera: str
    uri: str
    fps: float
    start_wall: float
    frames: int | None


def _source_for(conn, hop: Hop) -> SourceRow:
    if hop.source_id is None and hop.uri:
        from relaytrack.source.open import probe

        info = probe(hop.uri)
        return SourceRow(0, hop.camera, hop.uri, info.fps, 0.0, info.frames)
    if hop.source_id is not None:
        row = conn.execute(
            "SELECT id, camera_id, uri, fps, start_wall, frames_total FROM sources WHERE id=?",
            (hop.source_id,),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT id, camera_id, uri, fps, start_wall, frames_total FROM sources WHERE camera_id=?"
            " ORDER BY id DESC LIMIT 1",
            (hop.camera,),
        ).fetchone()
    if row is None:
        raise NotFound(f"no recorded source for camera {hop.camera} (sighting {hop.sighting})")
    return SourceRow(row[0], row[1], row[2], float(row[3] or 25.0), float(row[4]), row[5])


def _read_frames(src: SourceRow, first: int, last: int):
    from relaytrack.config import SourceConfig
    from relaytrack.source.open import open_source, probe

    info = probe(src.uri)
    for fr in open_source(src.uri, src.camera, SourceConfig(), src.start_wall, info=info, start_index=first):
        if fr.index > last:
            break
        yield fr


def _probe_frames(uri: str) -> int | None:
    from relaytrack.errors import SourceError
    from relaytrack.source.open import probe

    try:
        return probe(uri).frames
    except SourceError as err:
        raise NotFound(f"original footage of this hop is not readable: {err}") from err


def footage_digest(uri: str, first: int, last: int) -> dict:
    """SHA-256 of the original footage the clip was cut from (the whole video file, or the image files of the
    exported frame range), so a court can check the clip against the centre's original."""
    p = Path(uri)
    if p.is_file():
        return {"uri": uri, "kind": "video", "sha256": sha256_file(p), "size": p.stat().st_size}
    from relaytrack.source.open import IMAGE_EXTS

    img_dir = p / "img1" if (p / "img1").is_dir() else p
    files = sorted(f for f in img_dir.iterdir() if f.suffix.lower() in IMAGE_EXTS)[first - 1 : last]
    per = [{"file": f.name, "sha256": sha256_file(f)} for f in files]
    return {"uri": uri, "kind": "images", "frames": [first, last], "files": per}


class _Writers:
    def __init__(self, folder: Path, fps: float, w: int, h: int) -> None:
        import cv2

        self.evidence = cv2.VideoWriter(
            str(folder / "evidence.avi"), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h)
        )
        self.evidence.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
        scale = min(1.0, 960.0 / w)
        self.view_size = (int(w * scale) // 2 * 2, int(h * scale) // 2 * 2)
        self.scale = scale
        self.view = cv2.VideoWriter(
            str(folder / "view.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, self.view_size
        )
        if not self.evidence.isOpened() or not self.view.isOpened():
            raise InputError(f"{folder}: cannot write video files there")

    def write(self, img: np.ndarray, target, caption: str) -> None:
        import cv2

        self.evidence.write(img)
        view = cv2.resize(img, self.view_size, interpolation=cv2.INTER_AREA) if self.scale < 1 else img.copy()
        if target is not None:
            x1, y1, x2, y2 = (int(v * self.scale) for v in target)
            cv2.rectangle(view, (x1, y1), (x2, y2), (0, 0, 255), 2)
        cv2.rectangle(view, (0, 0), (view.shape[1], 22), (0, 0, 0), -1)
        cv2.putText(view, caption, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        self.view.write(view)

    def close(self) -> None:
        self.evidence.release()
        self.view.release()


def _others(conn, source_id: int, first: int, last: int, exclude: int | None) -> list[tuple[TrackBoxes, str]]:
    rows = conn.execute(
        "SELECT id, kind FROM sightings WHERE source_id=? AND last_frame>=? AND first_frame<=? AND id IS NOT ?",
        (source_id, first, last, exclude),
    ).fetchall()
    out = []
    for sid, kind in rows:
        boxes = conn.execute(
            "SELECT frame, x, y, w, h FROM boxes WHERE sighting_id=? AND frame BETWEEN ? AND ?",
            (sid, first - 1000, last + 1000),
        ).fetchall()
        if boxes:
            out.append((TrackBoxes([tuple(b) for b in boxes], sid), kind))
    return out


def export_hop(
    conn,
    hop: Hop,
    folder: Path,
    masker: Masker,
    *,
    pre_roll: float,
    post_roll: float,
    on_frame: Callable[[], None] | None = None,
    keep_masks: bool = False,
) -> tuple[HopResult, dict]:
    src = _source_for(conn, hop)
    first = max(1, hop.first - int(round(pre_roll * src.fps)))
    last = hop.last + int(round(post_roll * src.fps))
    total = src.frames or _probe_frames(src.uri)
    if total:
        last = min(last, int(total))
    if last - first + 1 > MAX_HOP_FRAMES or last < first:
        raise InputError(f"hop on {hop.camera}: frames {first}..{last} refused (1..{MAX_HOP_FRAMES} frames)")
    target_boxes = TrackBoxes(hop.target_boxes) if hop.target_boxes else None
    if hop.sighting is not None:
        rows = conn.execute(
            "SELECT frame, x, y, w, h FROM boxes WHERE sighting_id=?", (hop.sighting,)
        ).fetchall()
        target_boxes = TrackBoxes([tuple(r) for r in rows])
    others = _others(conn, src.id, first, last, hop.sighting)
    folder.mkdir(parents=True)
    writers = None
    log, masks, n_regions, n_faces, vis = [], [], 0, 0, []
    try:
        for ft in frame_targets(
            _read_frames(src, first, last), target_boxes, others, masker, masker.s.follow, src.fps
        ):
            fr, img, target, state = ft.frame, ft.image, ft.target, ft.state
            fm = masker.apply(img, fr.index, target, ft.others, ft.dets)
            if writers is None:
                writers = _Writers(folder, src.fps, img.shape[1], img.shape[0])
            stamp = to_seoul_iso(fr.wall, "milliseconds")
            writers.write(img, target, f"{hop.camera}  {stamp}  frame {fr.index}")
            log.append(
                {
                    "frame": fr.index,
                    "wall": round(fr.wall, 3),
                    "target": [round(v, 1) for v in target] if target is not None else None,
                    "masked": fm.n_tracked + fm.n_detected,
                    "faces": len(fm.faces),
                    "target_state": state,
                    "target_via": ft.via,
                    "target_visible": fm.target_visible,
                }
            )
            vis.append([fr.index, fm.target_visible])
            n_regions += fm.n_tracked + fm.n_detected
            n_faces += len(fm.faces)
            if keep_masks:
                masks.append(fm)
            if on_frame:
                on_frame()
    finally:
        if writers is not None:
            writers.close()
    if not log:
        raise NotFound(f"{src.uri}: frames {first}..{last} could not be read (footage deleted or moved?)")
    (folder / "frames.json").write_text(json.dumps(log, indent=0))
    res = HopResult(hop.camera, hop.sighting, first, last, len(log), n_regions, n_faces, folder.name, masks)
    res.visibility = vis
    res.target_unknown_frames = sum(1 for e in log if e["target_state"] == "unknown")
    res.target_followed_frames = sum(1 for e in log if e["target_state"] == FOLLOWED)
    res.target_relinked_frames = sum(1 for e in log if e["target_via"] is not None)
    res.target_relinked_sightings = sorted({e["target_via"] for e in log if e["target_via"] is not None})
    for k, v in visible_summary(vis).items():
        setattr(res, f"target_{k}", v)
    custody_src = {
        "camera": hop.camera,
        "source_id": src.id,
        "fps": src.fps,
        "start_wall": src.start_wall,
        "start_time": to_seoul_iso(src.start_wall),  # one clock: what a reader reads beside the epoch
        "original": footage_digest(src.uri, first, last),
    }
    return res, custody_src


def export_evidence(
    store,
    out: Path,
    hops: list[Hop],
    *,
    user: str | None,
    case: str | None,
    pre_roll: float = 2.0,
    post_roll: float = 2.0,
    settings: MaskSettings | None = None,
    export_root: Path | None = None,
    request_id: int | None = None,
    progress: Callable[[int], None] | None = None,
    keep_masks: bool = False,
) -> ExportResult:
    """Authorise, cut, mask, seal and log one export. `out` must not exist or be empty; with `export_root`
    it is a name that must stay inside that folder (service use). Returns the package and per-hop counts."""
    conn, db_path = store.conn, store.path
    ids = [h.sighting for h in hops if h.sighting is not None]
    ctx = acc.authorize(
        conn, db_path, user=user, case=case, action="export", detail={"sightings": ids, "out": str(out)}
    )
    if export_root is not None:
        out = safe_join(
            Path(export_root),
            str(out),
            "export folder",
            conn=conn,
            db_path=db_path,
            user=user,
            case=case,
            action="export",
        )
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        ctx.log(outcome="denied", detail={"reason": "output folder exists and is not empty", "out": str(out)})
        raise InputError(f"{out}: export folder exists and is not empty (a package is never overwritten)")
    if not hops or len(hops) > MAX_HOPS:
        raise InputError(f"export needs 1..{MAX_HOPS} hops, got {len(hops)}")
    if not 0 <= pre_roll <= 60 or not 0 <= post_roll <= 60:
        raise InputError("pre/post roll must be 0..60 seconds")
    if request_id is not None or ctx.role == "agency":
        _check_request(ctx, request_id, hops)
        if ctx.role == "agency":  # an agency gets the requested span, not seconds around it
            pre_roll = post_roll = 0.0
    acc.authorize_sightings(ctx, ids)
    crow = conn.execute("SELECT legal_basis, purpose FROM cases WHERE case_no=?", (case,)).fetchone()
    masker = Masker(settings or MaskSettings())
    created = time.time()
    out.mkdir(parents=True, exist_ok=True)
    results, sources = [], []
    for i, hop in enumerate(hops, start=1):
        folder = out / "hops" / f"{i:02d}_{file_token(hop.camera)}"
        res, src = export_hop(
            conn,
            hop,
            folder,
            masker,
            pre_roll=pre_roll,
            post_roll=post_roll,
            keep_masks=keep_masks,
            on_frame=(lambda: progress(1)) if progress else None,
        )
        results.append(res)
        sources.append({"hop": i, "sighting": hop.sighting, **src})
    head = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    from relaytrack import __version__ as version

    custody = {
        "case": case,
        "legal_basis": crow[0],
        "purpose": crow[1],
        "request_id": request_id,
        "exported_by": user,
        "role": ctx.role,
        "created": created,
        "created_iso": to_seoul_iso(created),
        "tool": f"relaytrack {version}",
        "host": platform.node(),
        "audit_head_before": {"seq": head[0], "hash": head[1]} if head else None,
        "masking": {
            "method": masker.s.method,
            "pad": masker.s.pad,
            "tracks": True,
            "detection_pass": masker.s.detect,
            "detection_threshold": masker.s.det_conf,
            "faces": masker.s.faces,
            "protect_target": masker.s.protect_target,
            "follow_target": asdict(masker.s.follow) if masker.s.follow is not None else None,
            "bystander_head_share": masker.s.head_share,
        },
        "pre_roll_s": pre_roll,
        "post_roll_s": post_roll,
        "hops": [_hop_dict(r) for r in results],
        "sources": sources,
        "events": [{"at": created, "at_time": to_seoul_iso(created), "event": "exported", "by": user}],
    }
    (out / "custody.json").write_text(json.dumps(custody, ensure_ascii=False, indent=1))
    (out / "README.txt").write_text(
        f"relaytrack evidence package for case {case}.\n"
        "Every file is listed with its SHA-256 in manifest.json, which is signed (Ed25519, manifest.sig) with the\n"
        "key in signing_key.pub. Check with: relaytrack evidence verify <this folder> --key SENDER.pub\n"
        "audit-head.json is the signed head of the centre's audit log: relaytrack audit verify --witness FILE.\n"
        "hops/NN_<camera>/evidence.avi is the masked clip at full resolution; view.mp4 a viewing copy.\n"
        "Everyone but the target is masked; custody.json records who exported what, why, and from which footage.\n"
    )
    signed_head = witness.current_head(conn)
    if signed_head is not None:
        # The recipient keeps a head the centre cannot take back (`audit verify --witness PACKAGE`).
        (out / witness.PACKAGE_FILE).write_text(signed_head.to_json() + "\n")
    digest = seal(out, case=case, created=created, extra={"target_visibility": visibility_record(results)})
    with store.tx():
        seq = ctx.log(
            detail={
                "package": str(out),
                "manifest_sha256": digest,
                "hops": len(hops),
                "request": request_id,
                "frames": sum(r.frames for r in results),
            },
            result_ids=ids,
        )
        cur = conn.execute(
            "INSERT INTO exports(case_no, user_name, path, manifest_digest, request_id, sightings)"
            " VALUES (?,?,?,?,?,?)",
            (case, user, str(out), digest, request_id, json.dumps(ids)),
        )
        acc.hold_sightings(conn, case, ids, note=f"export {cur.lastrowid}")
    return ExportResult(out, digest, results, seq, int(cur.lastrowid))


def _check_request(ctx: acc.AccessContext, request_id: int | None, hops: list[Hop]) -> None:
    """An export made for an agency request: the request is the acting case's and approved, an agency user's
    request is its own agency's, and every clip lies on the requested cameras and overlaps the requested time.
    An agency user exports nothing without such a request. Refusals are logged."""
    from relaytrack.evidence import requests as rq

    def deny(reason: str) -> AccessDenied:
        ctx.log(outcome="denied", detail={"reason": reason, "request": request_id})
        return AccessDenied(f"export refused: {reason}")

    if request_id is None:
        raise deny("an agency exports only for an approved request of its case (give the request id)")
    try:
        req = rq.get(ctx.conn, request_id)
    except NotFound:
        raise deny(f"request {request_id} does not exist") from None
    if req.case_no != ctx.case:
        raise deny(f"request {request_id} is for another case")
    if req.status != "approved":
        raise deny(f"request {request_id} is {req.status}; only an approved request is exported")
    if ctx.role == "agency":
        row = ctx.conn.execute("SELECT agency FROM users WHERE name=?", (ctx.user,)).fetchone()
        if row is None or row[0] != req.agency:
            raise deny(f"request {request_id} was made for agency {req.agency!r}, not yours")
    for h in hops:
        span = _hop_wall_span(ctx.conn, h)
        if h.camera not in req.cameras or span is None or span[1] < req.t_start or span[0] > req.t_end:
            raise deny(f"a clip on {h.camera} lies outside request {request_id}'s cameras or time range")


def _hop_wall_span(conn, hop: Hop) -> tuple[float, float] | None:
    """Wall-clock span of a hop's frames, from its recorded source (None: footage not in the store)."""
    if hop.source_id is None:
        row = conn.execute(
            "SELECT start_wall, fps FROM sources WHERE camera_id=? ORDER BY id DESC LIMIT 1", (hop.camera,)
        ).fetchone()
    else:
        row = conn.execute("SELECT start_wall, fps FROM sources WHERE id=?", (hop.source_id,)).fetchone()
    if row is None or hop.uri:
        return None
    fps = float(row[1] or 25.0)
    return float(row[0]) + (hop.first - 1) / fps, float(row[0]) + (hop.last - 1) / fps


__all__ = [
    "Hop",
    "HopResult",
    "ExportResult",
    "export_evidence",
    "hops_from_route",
    "hops_from_sightings",
    "hops_from_alert",
]


def hops_from_request(
    conn, cameras: list[str], t_start: float, t_end: float, targets: list[int] | None = None
) -> list[Hop]:
    """Hops for an agency request: the target sightings named (they must lie on the requested cameras and
    time range), or else the whole requested span of every requested camera with everybody masked."""
    if targets:
        hops = hops_from_sightings(conn, targets)
        for h, sid in zip(hops, targets, strict=True):
            row = conn.execute("SELECT wall_start, wall_end FROM sightings WHERE id=?", (sid,)).fetchone()
            if h.camera not in cameras or row[1] < t_start or row[0] > t_end:
                raise InputError(f"sighting {sid} is outside the request's cameras or time range")
        return hops
    hops = []
    for cam in cameras:
        for sid_, fps, start_wall, frames in conn.execute(
            "SELECT id, fps, start_wall, frames_total FROM sources WHERE camera_id=? ORDER BY start_wall",
            (cam,),
        ):
            fps = fps or 25.0
            end_wall = start_wall + (frames or 0) / fps if frames else float("inf")
            if end_wall < t_start or start_wall > t_end:
                continue
            first = max(1, int((t_start - start_wall) * fps) + 1)
            last = int((t_end - start_wall) * fps) + 1
            if frames:
                last = min(last, int(frames))
            if last >= first:
                hops.append(Hop(cam, first, last, None, sid_))
    if not hops:
        raise NotFound(f"no recorded footage of {', '.join(cameras)} in the requested time range")
    return hops
