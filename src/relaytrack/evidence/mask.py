"""Masking of everyone but the target in exported frames.

Three sources of regions, united per frame:
1. tracks: boxes of the other sightings of the same source (the boxes table), interpolated between the
   analysed frames and padded;
2. a fresh detection pass (relaytrack.detect.Detector, low thresholds) for people and vehicles nobody tracked;
3. faces: BlazeFace short-range on the upper part of every person box; a face outside the target's head
   region is masked (a bystander's face next to or behind the target).

The target's box is protected (issue 18 finding 7): a bystander's region is clipped to what lies outside the
target's box, except the bystander's head (the top `head_share` of a person box) and detected faces, which stay
masked inside it too; the target's own head region is never masked by a bystander's head strip. Before, a large
detector box that contained the target was masked whole. A frame whose target box is unknown (before the first
or after the last stored box of the sighting, where the export could not follow the target: evidence/follow.py)
protects nothing: everybody there is masked, the target too, and the export says so. `FrameMask.target_visible`
is the share of the target's box left unaltered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from relaytrack.records import CLASS_ID, TRACKED_CLASSES, Detections

Box = tuple[float, float, float, float]  # xyxy pixels

MASK_CLASS_IDS = frozenset(CLASS_ID[c] for c in TRACKED_CLASSES)


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def pad(box: Box, frac: float, w: int, h: int) -> tuple[int, int, int, int]:
    bw, bh = box[2] - box[0], box[3] - box[1]
    x1 = int(np.floor(max(0.0, box[0] - frac * bw)))
    y1 = int(np.floor(max(0.0, box[1] - frac * bh)))
    x2 = int(np.ceil(min(float(w), box[2] + frac * bw)))
    y2 = int(np.ceil(min(float(h), box[3] + frac * bh)))
    return x1, y1, x2, y2


class TrackBoxes:
    """One sighting's boxes by frame, linearly interpolated between analysed frames (no extrapolation)."""

    def __init__(
        self, rows: list[tuple[int, float, float, float, float]], sighting: int | None = None
    ) -> None:
        self.sighting = sighting  # the stored sighting these boxes are of (None: not stored as one)
        rows = sorted(rows)
        self.frames = np.array([r[0] for r in rows], dtype=np.int64)
        self.xyxy = np.array(
            [(r[1], r[2], r[1] + r[3], r[2] + r[4]) for r in rows], dtype=np.float64
        ).reshape(-1, 4)

    def at(self, frame: int) -> Box | None:
        f = self.frames
        if len(f) == 0 or frame < f[0] or frame > f[-1]:
            return None
        j = int(np.searchsorted(f, frame))
        if f[j] == frame:
            return tuple(self.xyxy[j])
        a = (frame - f[j - 1]) / (f[j] - f[j - 1])
        return tuple((1 - a) * self.xyxy[j - 1] + a * self.xyxy[j])

    def state(self, frame: int) -> str:
        """ "analysed" (a stored box), "interpolated" (between two) or "unknown" (outside the stored frames)."""
        f = self.frames
        if len(f) == 0 or frame < f[0] or frame > f[-1]:
            return "unknown"
        j = int(np.searchsorted(f, frame))
        return "analysed" if f[j] == frame else "interpolated"


def is_target(box: Box, target: Box | None, thr: float = 0.5, part: float = 0.0) -> bool:
    """A box is the target when it overlaps the target's box like the same object would, or (with `part`)
    when at least that share of it lies inside the target's box with its centre there too: a detection of
    the target's upper body or legs, which would otherwise mask the target itself."""
    if target is None:
        return False
    if iou(box, target) >= thr:
        return True
    if part <= 0:
        return False
    ix = max(0.0, min(box[2], target[2]) - max(box[0], target[0]))
    iy = max(0.0, min(box[3], target[3]) - max(box[1], target[1]))
    area = (box[2] - box[0]) * (box[3] - box[1])
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    inside = target[0] <= cx <= target[2] and target[1] <= cy <= target[3]
    return area > 0 and inside and ix * iy / area >= part


Rect = tuple[int, int, int, int]


def outside_parts(rect: Rect, target: Box) -> list[Rect]:
    """`rect` minus the target's box, as up to four strips: the part of a box matched to the target that
    sticks out of it (a merged box of the target and a bystander beside them)."""
    return subtract(rect, tuple(int(round(v)) for v in target))  # type: ignore[arg-type]


def subtract(rect: Rect, hole: Rect) -> list[Rect]:
    """`rect` minus `hole` as up to four rectangles (slivers under 2 px dropped)."""
    x1, y1, x2, y2 = rect
    tx1, ty1, tx2, ty2 = hole
    if tx1 >= x2 or tx2 <= x1 or ty1 >= y2 or ty2 <= y1:
        return [rect] if x2 - x1 >= 2 and y2 - y1 >= 2 else []
    out = []
    if x1 < tx1:
        out.append((x1, y1, min(x2, tx1), y2))
    if x2 > tx2:
        out.append((max(x1, tx2), y1, x2, y2))
    cx1, cx2 = max(x1, tx1), min(x2, tx2)
    if cx1 < cx2:
        if y1 < ty1:
            out.append((cx1, y1, cx2, min(y2, ty1)))
        if y2 > ty2:
            out.append((cx1, max(y1, ty2), cx2, y2))
    return [r for r in out if r[2] - r[0] >= 2 and r[3] - r[1] >= 2]


def intersect(a: Rect, b: Rect) -> Rect | None:
    r = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return r if r[2] > r[0] and r[3] > r[1] else None


def bystander_head(box: Box, share: float) -> Box:
    """The top `share` of a person box, less a tenth of its width on each side: where the head is."""
    w, h = box[2] - box[0], box[3] - box[1]
    return box[0] + 0.1 * w, box[1] - 0.05 * h, box[2] - 0.1 * w, box[1] + share * h


def covered_share(rects: list[Rect], region: Rect) -> float:
    """Share of `region`'s pixels under any of `rects`."""
    x1, y1, x2, y2 = region
    if x2 <= x1 or y2 <= y1:
        return 0.0
    m = np.zeros((y2 - y1, x2 - x1), bool)
    for r in rects:
        if (c := intersect(r, region)) is not None:
            m[c[1] - y1 : c[3] - y1, c[0] - x1 : c[2] - x1] = True
    return float(m.mean())


def head_region(target: Box) -> Box:
    w, h = target[2] - target[0], target[3] - target[1]
    return target[0] + 0.1 * w, target[1] - 0.05 * h, target[2] - 0.1 * w, target[1] + 0.3 * h


def pixelate(img: np.ndarray, rect: tuple[int, int, int, int], block: int | None = None) -> None:
    import cv2

    x1, y1, x2, y2 = rect
    w, h = x2 - x1, y2 - y1
    if w <= 0 or h <= 0:
        return
    # Blocks of ~1/6 of the shorter side (>= 6 px): a face or body becomes a handful of colour cells.
    b = block or max(6, min(w, h) // 6)
    roi = img[y1:y2, x1:x2]
    small = cv2.resize(roi, (max(1, w // b), max(1, h // b)), interpolation=cv2.INTER_AREA)
    img[y1:y2, x1:x2] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def blur(img: np.ndarray, rect: tuple[int, int, int, int]) -> None:
    import cv2

    x1, y1, x2, y2 = rect
    w, h = x2 - x1, y2 - y1
    if w <= 0 or h <= 0:
        return
    k = max(3, (min(w, h) // 2) | 1)
    roi = img[y1:y2, x1:x2]
    for _ in range(2):
        roi = cv2.GaussianBlur(roi, (k, k), 0)
    img[y1:y2, x1:x2] = roi


METHODS = {"pixelate": pixelate, "blur": blur}


# ---- BlazeFace -----------------------------------------------------------------------------------------------


def _blazeface_anchors() -> np.ndarray:
    """896 anchor centres (x, y) in [0,1] of MediaPipe's short-range model: stride 8 (2 per cell) and
    stride 16 (6 per cell)."""
    out = []
    for stride, per in ((8, 2), (16, 6)):
        n = 128 // stride
        ys, xs = np.mgrid[0:n, 0:n]
        c = np.stack([(xs + 0.5) / n, (ys + 0.5) / n], -1).reshape(-1, 1, 2)
        out.append(np.repeat(c, per, axis=1).reshape(-1, 2))
    return np.concatenate(out).astype(np.float32)


class FaceDetector:
    """BlazeFace short-range (contract in shared/models/MODELS.md) on crops; returns face boxes in crop pixels."""

    def __init__(self, score: float = 0.5, threads: int = 1) -> None:
        from relaytrack.models.registry import onnx_session

        self.session = onnx_session("blazeface", threads=threads)
        self.input_name = self.session.get_inputs()[0].name
        outs = self.session.get_outputs()
        self.reg_name = next(o.name for o in outs if o.shape[-1] == 16)
        self.score_name = next(o.name for o in outs if o.shape[-1] == 1)
        self.anchors = _blazeface_anchors()
        self.score = score

    def detect(self, crop_bgr: np.ndarray) -> list[tuple[Box, float]]:
        import cv2

        h, w = crop_bgr.shape[:2]
        if h < 4 or w < 4:
            return []
        side = max(h, w)
        # Letterbox to a square, then 128x128 RGB in [-1, 1].
        canvas = np.zeros((side, side, 3), np.uint8)
        ox, oy = (side - w) // 2, (side - h) // 2
        canvas[oy : oy + h, ox : ox + w] = crop_bgr
        inp = cv2.resize(canvas, (128, 128), interpolation=cv2.INTER_LINEAR)[:, :, ::-1]
        x = (inp.astype(np.float32) / 127.5 - 1.0)[None]
        reg, logit = self.session.run([self.reg_name, self.score_name], {self.input_name: x})
        scores = 1.0 / (1.0 + np.exp(-np.clip(logit[0, :, 0].astype(np.float64), -50, 50)))
        keep = np.where(scores >= self.score)[0]
        if len(keep) == 0:
            return []
        r = reg[0, keep]
        cx = r[:, 0] / 128.0 + self.anchors[keep, 0]
        cy = r[:, 1] / 128.0 + self.anchors[keep, 1]
        bw, bh = r[:, 2] / 128.0, r[:, 3] / 128.0
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1) * side
        boxes -= np.array([ox, oy, ox, oy], np.float32)
        order = np.argsort(-scores[keep])
        out: list[tuple[Box, float]] = []
        for i in order:
            b = tuple(float(v) for v in boxes[i])
            if all(iou(b, o[0]) < 0.3 for o in out):
                out.append((b, float(scores[keep][i])))
        return out


def upper_crop(box: Box, w: int, h: int) -> tuple[int, int, int, int]:
    """The head-and-shoulders square at the top of a person box (where BlazeFace can see a face)."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    side = max(bw, 0.35 * bh) * 1.1
    cx = (box[0] + box[2]) / 2
    x1, y1 = int(max(0, cx - side / 2)), int(max(0, box[1] - 0.05 * bh))
    x2, y2 = int(min(w, cx + side / 2)), int(min(h, y1 + side))
    return x1, y1, x2, y2


@dataclass
class FrameMask:
    """What was masked in one frame (rectangles in pixels, after padding and clipping)."""

    frame: int
    target: Box | None
    tracked: list[tuple[int, int, int, int]]
    detected: list[tuple[int, int, int, int]]
    faces: list[tuple[int, int, int, int]]
    n_tracked: int = 0  # boxes behind `tracked` / `detected` (a clipped box gives several rectangles)
    n_detected: int = 0
    target_visible: float | None = None  # share of the target's box (pixels) left unaltered; None: no box

    @property
    def rects(self) -> list[tuple[int, int, int, int]]:
        return [*self.tracked, *self.detected, *self.faces]

    def coverage_mask(self, w: int, h: int) -> np.ndarray:
        m = np.zeros((h, w), bool)
        for x1, y1, x2, y2 in self.rects:
            m[y1:y2, x1:x2] = True
        return m


@dataclass(frozen=True)
class FollowSettings:
    """Chosen on the masking bench's tuning window only (`relaytrack bench masking --tune`: PETS09-S2L1 frames
    1-100, each of its 6 people with >= 40 boxes the target in turn, the sighting cut to its first 30 %), never
    on its scored windows. Target frames with the export's box on the target, of 523: no following 140; no
    look margin 263; look margin 0.25 / 0.15 263, 0.1 322, 0.05 322 (the stricter of the tie kept); with the
    margin 0.1, least look similarity 0.5 322, 0.6 297, 0.7 258, 0.8 253; no frame with the box on someone else
    in any setting."""

    min_iou: float = 0.3  # least overlap with the previous target box
    ambiguity: float = 0.7  # a rival overlapping at least this share of the best's overlap: two people there
    look_margin: float | None = 0.1  # ... then the one whose look is this much closer, else stop (None: stop)
    min_similarity: float = 0.5  # colour histogram correlation with the target's stored look
    coast: int = 2  # frames without a match during which the last box is kept before the target is lost
    # Where the target is lost, a new track that looks like it, within `relink_jump` heights of where the
    # target's last box was heading and at most `relink_gap_s` seconds after it, is taken as the target's
    # continuation (the tracker fragments a person at occlusions; evidence/follow.py). 0: never. Chosen by
    # `relaytrack bench masking --tune` (tune_relink: PETS09-S2L1 1-100 only, its 6 people the target in turn,
    # whole and cut to 30 %): target frames with the export's box on the target 730 of 1046 without, 787 with
    # these (gap 1.5-6 s, reach 1 height, similarity 0.3 or 0.2 tied; the shortest gap and the stricter look
    # kept), 747 at reach 0.5, 760 at similarity 0.4, 730 at 0.5; boxes on someone else 2 in all these, 26-42
    # at a 6 s gap with reach 2 or similarity 0.5 and reach 1.
    relink_gap_s: float = 1.5
    relink_jump: float = 1.0
    relink_similarity: float = 0.3  # least look similarity of a track taken on and followed along
    # Frames held in memory to follow the target backwards from its first stored box: the default 2 s pre-roll
    # at 30 fps fits (75 raw frames: 460 MB at 1080p).
    max_back: int = 75


@dataclass
class MaskSettings:
    method: str = "pixelate"
    # Fraction of box size added on each side of a masked box. Chosen by `relaytrack bench masking --tune`
    # (tune_pad, PETS09-S2L1 1-100 only, its 6 people the target in turn): bystanders masked / the target's box
    # unaltered 0.9388 / 0.9007 at 0.2, 0.9491 / 0.8937 at 0.3, 0.9541 / 0.8853 at 0.4 (the largest net gain).
    pad: float = 0.3
    detect: bool = True  # fresh detection pass on every exported frame
    faces: bool = True  # BlazeFace on person boxes
    det_conf: float = 0.2  # detection threshold for masking: recall matters more than precision here
    target_iou: float = 0.5
    target_part: float = 0.75  # a detection this much inside the target's box (centre inside) is the target
    # Finding 7: bystander regions are clipped to outside the target's box, but for their heads (top share of a
    # person box) and faces. False masks as before (bystander boxes whole): only for the bench's before figure.
    protect_target: bool = True
    head_share: float = 0.25
    target_margin: float = 0.0  # the protected box is the target's box padded by this share of its size
    # Pad of a box matched to the target before what sticks out of the target's box is masked (with protection).
    # 0: the padded ring was only the target's own margin; on PETS09 1-100 (tuning) 0 kept the target's GT box
    # 1.3 points more unaltered (0.2: 0.853, 0.1: 0.853, 0: 0.867) for the same bystanders masked (0.922).
    match_pad: float = 0.0
    # Follow the target with the detection pass where its sighting stored no box (pre/post-roll, a track that
    # ended early; evidence/follow.py); None: those frames are masked whole (the bench's before figure).
    follow: FollowSettings | None = field(default_factory=FollowSettings)


class Masker:
    def __init__(self, settings: MaskSettings) -> None:
        if settings.method not in METHODS:
            raise ValueError(f"mask method {settings.method!r}: use {', '.join(METHODS)}")
        self.s = settings
        self.detector = None
        self.faces = None
        if settings.detect:
            from relaytrack.config import DetectConfig
            from relaytrack.detect import Detector

            c = settings.det_conf
            self.detector = Detector(DetectConfig(person_conf=c, vehicle_conf=c, low_conf=min(0.1, c)))
        if settings.faces:
            self.faces = FaceDetector()

    def detect(self, img: np.ndarray) -> Detections | None:
        """The fresh detection pass of one frame (None without one), for `apply` and the target follower."""
        return self.detector.detect(img) if self.detector is not None else None

    def people(self, dets: Detections | None) -> list[Box]:
        """Person boxes of a detection pass at the masking threshold."""
        if dets is None:
            return []
        keep = (dets.class_id == CLASS_ID["person"]) & (dets.confidence >= self.s.det_conf)
        return [tuple(float(v) for v in b) for b in dets.xyxy[keep]]

    def apply(
        self,
        img: np.ndarray,
        frame: int,
        target: Box | None,
        others: list[tuple[Box, str]],
        dets: Detections | None = None,
    ) -> FrameMask:
        """Mask `img` in place. `others` = interpolated boxes of other tracked sightings with their kind;
        `dets` = this frame's detection pass when the caller already ran it (else run here)."""
        h, w = img.shape[:2]
        fm = FrameMask(frame, target, [], [], [])
        guard = pad(target, 0.0, w, h) if target is not None else None
        if guard is not None and (guard[2] <= guard[0] or guard[3] <= guard[1]):
            guard = None  # a target box outside the picture protects nothing
        protect = None
        if guard is not None and self.s.protect_target:
            protect = pad(target, self.s.target_margin, w, h)  # type: ignore[arg-type]
        own_head = pad(head_region(target), 0.0, w, h) if target is not None else None
        match_pad = self.s.pad if protect is None else self.s.match_pad
        person_boxes: list[Box] = []

        def bystander(box: Box, person: bool) -> list[Rect]:
            """The rectangles masking one bystander: whole, or clipped around the target but for the head."""
            rect = pad(box, self.s.pad, w, h)
            if protect is None:
                return [rect]
            out = subtract(rect, protect)
            # A box holding the target's whole box is a group or a false whole-scene detection (the demo town's
            # masked targets): its top is nobody's head over the target.
            tx1, ty1, tx2, ty2 = target  # type: ignore[misc]
            holds = box[0] <= tx1 and box[1] <= ty1 and box[2] >= tx2 and box[3] >= ty2
            if person and not holds:
                head = pad(bystander_head(box, self.s.head_share), self.s.pad / 2, w, h)
                inside = intersect(head, protect)
                if inside is not None:
                    out.extend(subtract(inside, own_head) if own_head is not None else [inside])
            return out

        for box, kind in others:
            # A duplicate or fragment track of the target itself: only what sticks out of the target's box. The
            # match is stricter than for detections: on PETS09 the looser rule kept the target 7 points more
            # visible but left 1.2 points more bystanders unmasked (bench masking, 100 frames).
            if is_target(box, target, 0.7):
                parts = outside_parts(pad(box, match_pad, w, h), target)  # type: ignore[arg-type]
                if protect is not None:
                    parts = [q for r in parts for q in subtract(r, protect)]
            else:
                parts = bystander(box, kind == "person")
                if kind == "person":
                    person_boxes.append(box)
            fm.tracked.extend(parts)
            fm.n_tracked += bool(parts)
        if self.detector is not None:
            dets = dets if dets is not None else self.detector.detect(img)
            for b, c, k in zip(dets.xyxy, dets.confidence, dets.class_id, strict=True):
                if int(k) not in MASK_CLASS_IDS or c < self.s.det_conf:
                    continue
                box = tuple(float(v) for v in b)
                person = int(k) == CLASS_ID["person"]
                if is_target(box, target, self.s.target_iou, self.s.target_part):
                    parts = outside_parts(pad(box, match_pad, w, h), target)  # type: ignore[arg-type]
                    if protect is not None:
                        parts = [q for r in parts for q in subtract(r, protect)]
                else:
                    parts = bystander(box, person)
                    if person:
                        person_boxes.append(box)
                fm.detected.extend(parts)
                fm.n_detected += bool(parts)
        if self.faces is not None:
            head = head_region(target) if target is not None else None
            for box in ([target] if target is not None else []) + person_boxes:
                x1, y1, x2, y2 = upper_crop(box, w, h)
                if x2 - x1 < 8 or y2 - y1 < 8:
                    continue
                for fb, _ in self.faces.detect(img[y1:y2, x1:x2]):
                    face = (fb[0] + x1, fb[1] + y1, fb[2] + x1, fb[3] + y1)
                    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
                    if head is not None and head[0] <= cx <= head[2] and head[1] <= cy <= head[3]:
                        continue  # the target's own face stays visible: it is the evidence
                    rect = pad(face, 0.25, w, h)
                    if protect is not None and face[2] - face[0] > target[2] - target[0]:  # type: ignore[index]
                        # A "face" wider than the target (BlazeFace on a whole-scene box): masked outside the
                        # target's box only; a real one that large in front of the target would hide it anyway.
                        fm.faces.extend(subtract(rect, protect))
                        continue
                    fm.faces.append(rect)
        if guard is not None:
            fm.target_visible = round(1.0 - covered_share(fm.rects, guard), 4)
        paint = METHODS[self.s.method]
        for rect in fm.rects:
            paint(img, rect)
        return fm


# ---- the target's visibility, as the export records it -----------------------------------------------------


def visible_summary(vis: list[list]) -> dict:
    """[frame, share or None] per frame -> frames (with a known box), visible_min, visible_mean and
    frames_below_half (share under 0.5)."""
    shares = [v for _, v in vis if v is not None]
    return {
        "frames": len(shares),
        "visible_min": round(min(shares), 4) if shares else None,
        "visible_mean": round(sum(shares) / len(shares), 4) if shares else None,
        "frames_below_half": sum(1 for v in shares if v < 0.5),
    }


def visibility_record(hops: list) -> dict:
    """The signed manifest's `target_visibility`: per hop (export HopResults) the target's unaltered share per
    frame and its summary."""
    return {
        "measure": "share of the target's box (pixels) left unaltered; null: no target box for the frame"
        " (before the sighting's first or after its last stored box where the export could not follow the"
        " target, or no target: everybody masked there)",
        "followed": "frames outside the stored boxes where the export's detection pass followed the target"
        " from its nearest stored box (target_state 'followed' in frames.json)",
        "relinked": "of the followed frames, those whose box is another stored sighting's, taken as the target's"
        " continuation where it was lost (target_via in frames.json names that sighting)",
        "protected": "bystander masks clipped to outside the target's box, but for their heads and faces",
        "hops": [
            {
                "hop": i,
                "dir": r.dir,
                "sighting": r.sighting,
                "frames_known": r.target_frames,
                "frames_unknown": r.target_unknown_frames,
                "frames_followed": r.target_followed_frames,
                "frames_relinked": r.target_relinked_frames,
                "relinked_sightings": r.target_relinked_sightings,
                "visible_min": r.target_visible_min,
                "visible_mean": r.target_visible_mean,
                "frames_below_half": r.target_frames_below_half,
                "per_frame": r.visibility,
            }
            for i, r in enumerate(hops, start=1)
        ],
    }
