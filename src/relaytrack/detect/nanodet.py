"""NanoDet decoding, tiling and NMS.

The network sees a 416x416 letterboxed image; each of its 3549 anchor points (strides 8/16/32) carries 80
sigmoid class scores and, per box side, an 11-bin distribution whose expectation times the stride is the
distance from the point's centre ((x + 0.5) * stride) to that side.
"""

from __future__ import annotations

import numpy as np

from relaytrack.config import DetectConfig
from relaytrack.errors import ModelError
from relaytrack.records import CLASS_ID, ITEM_CLASSES, PERSON, VEHICLE_CLASSES, Detections

MEAN = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD = np.array([57.375, 57.12, 58.395], dtype=np.float32)
STRIDES = (8, 16, 32)
REG_BINS = 11
# A person this tall in the whole-frame input is found there (recall ~0.9 from here up): tiles add smaller ones.
TILE_MAX_INPUT_PX = 40
SPLIT_MIN_GAIN = 1.5  # a split into halves must enlarge people at least this much to pay for its passes

_VEHICLE_IDS = np.array([CLASS_ID[c] for c in VEHICLE_CLASSES])
_ITEM_IDS = np.array([CLASS_ID[c] for c in ITEM_CLASSES])


def nms(xyxy: np.ndarray, scores: np.ndarray, class_id: np.ndarray, iou: float) -> np.ndarray:
    """Class-aware non-maximum suppression; returns kept indices, best first."""
    if len(xyxy) == 0:
        return np.zeros(0, dtype=np.int64)
    # Offsetting boxes by class keeps classes from suppressing one another in one pass.
    offset = class_id.astype(np.float32)[:, None] * (float(xyxy.max()) + 1.0)
    boxes = xyxy + offset
    order = np.argsort(-scores)
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        ov = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-6)
        order = rest[ov <= iou]
    return np.array(keep, dtype=np.int64)


def _anchor_centres(size: int) -> list[np.ndarray]:
    out = []
    for s in STRIDES:
        n = int(np.ceil(size / s))
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        out.append(np.stack([(xs.ravel() + 0.5) * s, (ys.ravel() + 0.5) * s], axis=1).astype(np.float32))
    return out


class Detector:
    """`detect(image_bgr) -> Detections` for all 80 classes (pixel xyxy), thresholds per class group."""

    def __init__(self, cfg: DetectConfig | None = None) -> None:
        from relaytrack.models.registry import onnx_session

        self.cfg = cfg or DetectConfig()
        self.session = onnx_session("nanodet", self.cfg.model, threads=self.cfg.threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        side = inp.shape[2] if isinstance(inp.shape[2], int) else self.cfg.input_size
        self.size = int(side)
        self.centres = _anchor_centres(self.size)
        outs = self.session.get_outputs()
        by_len: dict[tuple[int, int], str] = {}
        for o in outs:
            if not (isinstance(o.shape[1], int) and isinstance(o.shape[2], int)):
                raise ModelError(f"{self.cfg.model or 'nanodet'}: output {o.name} has no static shape")
            by_len[(o.shape[1], o.shape[2])] = o.name
        self.out_names = []
        for c in self.centres:
            n = len(c)
            if (n, 80) not in by_len or (n, 4 * REG_BINS) not in by_len:
                raise ModelError(
                    f"{self.cfg.model or 'nanodet'}: outputs do not match NanoDet "
                    f"(need [1,{n},80] and [1,{n},44]; have {sorted(by_len)})"
                )
            self.out_names.append((by_len[(n, 80)], by_len[(n, 4 * REG_BINS)]))
        self.min_conf = min(self.cfg.low_conf, self.cfg.item_conf, self.cfg.vehicle_conf)

    def _tiles(self, w: int, h: int) -> list[tuple[int, int, int, int]]:
        """Regions (x0, y0, x1, y1) to run on: the whole frame first, then any halves or tiles."""
        whole = [(0, 0, w, h)]
        spec = self.cfg.tiles
        if spec == "off":
            return whole
        long_side = max(w, h)
        if spec == "auto":
            # Each region costs one network pass, so the choice follows what a person shrinks to in the input.
            # Wide small streams (up to twice the input side, e.g. 640x360) add two overlapping halves along
            # the long side to the whole frame when that enlarges people at least SPLIT_MIN_GAIN (1.67x at
            # 640x360, where 20-32 px people went from 0.31 to 0.76 recall); 4:3 frames gain only 1.33x and run
            # in one pass, as does 720p (the 20 fps speed target). 1080p and larger views, where a distant
            # person shrinks below ~15 px, get 2x2 tiles plus the whole frame.
            if long_side <= self.size:
                return whole
            if long_side <= 2 * self.size:
                halves = _split(w, h, 2, 1, 0.2) if w >= h else _split(w, h, 1, 2, 0.2)
                half_side = max(max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in halves)
                if long_side / half_side >= SPLIT_MIN_GAIN:  # = half scale / whole-frame scale
                    return whole + halves
                return whole
            if long_side < 4 * self.size:
                return whole
            return whole + _split(w, h, 2, 2, 0.15)
        cols, rows = (int(v) for v in spec.split("x"))
        return whole + _split(w, h, cols, rows, 0.15)

    def _run(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import cv2

        h, w = image.shape[:2]
        if self.cfg.keep_ratio:
            sx = sy = self.size / max(w, h)
        else:
            sx, sy = self.size / w, self.size / h
        nw, nh = max(1, round(w * sx)), max(1, round(h * sy))
        canvas = np.zeros((self.size, self.size, 3), dtype=np.float32)
        canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        blob = ((canvas - MEAN) / STD).transpose(2, 0, 1)[None]
        names = [n for pair in self.out_names for n in pair]
        outs = dict(zip(names, self.session.run(names, {self.input_name: blob}), strict=True))
        boxes, scores, classes = [], [], []
        for (cls_name, reg_name), centres, stride in zip(self.out_names, self.centres, STRIDES, strict=True):
            cls = outs[cls_name][0]
            best = cls.max(axis=1)
            keep = best >= self.min_conf
            if not keep.any():
                continue
            cls = cls[keep]
            reg = outs[reg_name][0][keep].reshape(-1, 4, REG_BINS)
            reg = np.exp(reg - reg.max(axis=2, keepdims=True))
            reg /= reg.sum(axis=2, keepdims=True)
            dist = (reg * np.arange(REG_BINS, dtype=np.float32)).sum(axis=2) * stride
            c = centres[keep]
            xyxy = np.stack(
                [c[:, 0] - dist[:, 0], c[:, 1] - dist[:, 1], c[:, 0] + dist[:, 2], c[:, 1] + dist[:, 3]], 1
            )
            # A point may carry several classes (a person and her backpack); keep each above threshold.
            pi, ci = np.nonzero(cls >= self.min_conf)
            boxes.append(xyxy[pi] / np.array([sx, sy, sx, sy], dtype=np.float32))
            scores.append(cls[pi, ci])
            classes.append(ci)
        if not boxes:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32)
        xyxy = np.concatenate(boxes)
        xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, w)
        xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, h)
        return xyxy, np.concatenate(scores), np.concatenate(classes).astype(np.int32)

    def detect(self, image: np.ndarray) -> Detections:
        if image is None or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"detect() needs an HxWx3 BGR image, got {None if image is None else image.shape}"
            )
        h, w = image.shape[:2]
        parts = []
        regions = self._tiles(w, h)
        # What tiles add is the small objects: anything the whole-frame pass sees at least `TILE_MAX_INPUT_PX`
        # tall is left to it, since tiles only cut big objects up and add partial boxes of them.
        big = TILE_MAX_INPUT_PX * max(w, h) / self.size
        for x0, y0, x1, y1 in regions:
            xyxy, sc, cl = self._run(image[y0:y1, x0:x1])
            xyxy = xyxy + np.array([x0, y0, x0, y0], dtype=np.float32)
            if (x0, y0, x1, y1) != (0, 0, w, h):
                small = ((xyxy[:, 3] - xyxy[:, 1]) < big) & (sc >= self.cfg.person_conf)
                xyxy, sc, cl = xyxy[small], sc[small], cl[small]
            parts.append((xyxy, sc, cl, _cut_edges(xyxy, (x0, y0, x1, y1), w, h)))
        xyxy = np.concatenate([p[0] for p in parts])
        sc = np.concatenate([p[1] for p in parts])
        cl = np.concatenate([p[2] for p in parts])
        cut = np.concatenate([p[3] for p in parts])
        thr = np.full(len(cl), 1.0, dtype=np.float32)
        thr[cl == PERSON] = self.cfg.low_conf
        thr[np.isin(cl, _VEHICLE_IDS)] = self.cfg.vehicle_conf
        thr[np.isin(cl, _ITEM_IDS)] = self.cfg.item_conf
        other = ~((cl == PERSON) | np.isin(cl, _VEHICLE_IDS) | np.isin(cl, _ITEM_IDS))
        thr[other] = max(self.cfg.item_conf, 0.3)
        ok = (sc >= thr) & ((xyxy[:, 2] - xyxy[:, 0]) > 2) & ((xyxy[:, 3] - xyxy[:, 1]) > 2)
        xyxy, sc, cl, cut = xyxy[ok], sc[ok], cl[ok], cut[ok]
        if len(parts) > 1:
            xyxy, sc, cl = merge_cut(xyxy, sc, cl, cut)
        keep = nms(xyxy, sc, cl, self.cfg.nms_iou)
        return Detections(xyxy[keep], sc[keep], cl[keep])


def _split(w: int, h: int, cols: int, rows: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """cols x rows regions covering the frame, each widened by `overlap` of a cell on its inner sides."""
    tw, th = w / cols, h / rows
    ox, oy = tw * overlap, th * overlap
    out = []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = max(0, int(c * tw - ox)), max(0, int(r * th - oy))
            x1, y1 = min(w, int((c + 1) * tw + ox)), min(h, int((r + 1) * th + oy))
            out.append((x0, y0, x1, y1))
    return out


_CUT_TOL = 2.0  # px: a box this close to a region's inner border was cut off by it


def _cut_edges(xyxy: np.ndarray, region: tuple[int, int, int, int], w: int, h: int) -> np.ndarray:
    """[N,4] bool: the box touches the region's left/top/right/bottom border where that border is inside the
    frame (so the object may go on beyond it)."""
    x0, y0, x1, y1 = region
    return np.stack(
        [
            (xyxy[:, 0] - x0 <= _CUT_TOL) & (x0 > 0),
            (xyxy[:, 1] - y0 <= _CUT_TOL) & (y0 > 0),
            (x1 - xyxy[:, 2] <= _CUT_TOL) & (x1 < w),
            (y1 - xyxy[:, 3] <= _CUT_TOL) & (y1 < h),
        ],
        axis=1,
    ).reshape(-1, 4)


def merge_cut(
    xyxy: np.ndarray, scores: np.ndarray, class_id: np.ndarray, cut: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mend objects cut by region borders before NMS.

    A cut box mostly covered by an uncut box of the same class is the same object seen whole in a neighbouring
    region: it goes. Two cut boxes of one class cut on facing sides (right/left or bottom/top), overlapping and
    aligned across the cut, are the two halves of an object wider than the overlap: they become their union.
    """
    n = len(xyxy)
    is_cut = cut.any(axis=1)
    if n == 0 or not is_cut.any():
        return xyxy, scores, class_id
    area = np.maximum(xyxy[:, 2] - xyxy[:, 0], 0) * np.maximum(xyxy[:, 3] - xyxy[:, 1], 0)
    ix1 = np.maximum(xyxy[:, None, 0], xyxy[None, :, 0])
    iy1 = np.maximum(xyxy[:, None, 1], xyxy[None, :, 1])
    ix2 = np.minimum(xyxy[:, None, 2], xyxy[None, :, 2])
    iy2 = np.minimum(xyxy[:, None, 3], xyxy[None, :, 3])
    inter = np.maximum(ix2 - ix1, 0) * np.maximum(iy2 - iy1, 0)
    same = class_id[:, None] == class_id[None, :]
    covered = inter / np.maximum(area[:, None], 1e-6)  # share of row box inside column box
    drop = is_cut & ((covered >= 0.6) & same & ~is_cut[None, :]).any(axis=1)
    boxes, sc, cl = xyxy.copy(), scores.copy(), class_id.copy()
    alive = ~drop
    for a in np.flatnonzero(alive & is_cut):
        if not alive[a]:
            continue
        for axis, (lo, hi) in ((0, (0, 2)), (1, (1, 3))):
            # a is cut on its far side (right/bottom), b on its near side (left/top) of the same border.
            if not cut[a, hi]:
                continue
            other = 1 - axis
            span_a = boxes[a, other + 2] - boxes[a, other]
            for b in np.flatnonzero(alive & cut[:, lo] & same[a]):
                if b == a or inter[a, b] <= 0:
                    continue
                lo_o = max(boxes[a, other], boxes[b, other])
                hi_o = min(boxes[a, other + 2], boxes[b, other + 2])
                span_b = boxes[b, other + 2] - boxes[b, other]
                if (hi_o - lo_o) / max(span_a, span_b, 1e-6) < 0.7:
                    continue
                boxes[a] = [
                    min(boxes[a, 0], boxes[b, 0]),
                    min(boxes[a, 1], boxes[b, 1]),
                    max(boxes[a, 2], boxes[b, 2]),
                    max(boxes[a, 3], boxes[b, 3]),
                ]
                sc[a] = max(sc[a], sc[b])
                alive[b] = False
                break
    return boxes[alive], sc[alive], cl[alive]
