"""Records passed between stages. Dependencies point one way: every stage imports these, never the reverse.

Arrays in a batch are aligned on their first axis and validated when the batch is built; stage outputs are
new objects, inputs are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from relaytrack.clock import maybe_iso

# COCO-80 class names in NanoDet's output order.
COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip
CLASS_ID = {name: i for i, name in enumerate(COCO_CLASSES)}
PERSON = CLASS_ID["person"]
VEHICLE_CLASSES = ("car", "bus", "truck", "motorcycle", "bicycle")
ITEM_CLASSES = ("backpack", "handbag", "suitcase", "umbrella", "cell phone")
TRACKED_CLASSES = ("person", *VEHICLE_CLASSES)

# Frame edges a track can enter or leave by; "inside" means it appeared or vanished within the view.
EDGES = ("left", "right", "top", "bottom", "inside")


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame. `index` is the 1-based frame number within its source, `t` seconds from the
    source's start, `wall` epoch seconds (camera start time + t, or stream time)."""

    camera: str
    index: int
    t: float
    wall: float
    image: np.ndarray  # HxWx3 BGR uint8

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.image.shape[:2]
        return w, h


def _check_len(name: str, arr: np.ndarray, n: int, record: str = "Detections") -> None:
    if len(arr) != n:
        raise ValueError(f"{record}.{name} has {len(arr)} rows, expected {n} (aligned with xyxy)")


@dataclass(frozen=True, slots=True)
class Detections:
    """Boxes of one frame: xyxy (N,4) in pixels, confidence (N,), class_id (N,) COCO ids."""

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", np.asarray(self.confidence, dtype=np.float32).reshape(-1))
        object.__setattr__(self, "class_id", np.asarray(self.class_id, dtype=np.int32).reshape(-1))
        _check_len("confidence", self.confidence, len(xyxy))
        _check_len("class_id", self.class_id, len(xyxy))

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))

    def __len__(self) -> int:
        return len(self.xyxy)

    def select(self, mask: np.ndarray) -> Detections:
        return Detections(self.xyxy[mask], self.confidence[mask], self.class_id[mask])

    def of_classes(self, names: tuple[str, ...] | list[str]) -> Detections:
        ids = [CLASS_ID[n] for n in names]
        return self.select(np.isin(self.class_id, ids))

    @property
    def xywh(self) -> np.ndarray:
        out = self.xyxy.copy()
        out[:, 2:] -= out[:, :2]
        return out


# What a reported track did this frame: just confirmed (first time reported), followed on from the previous
# frame, or found again after it was lost (an occlusion). A live pursuit reacts to "new" and "recovered".
TRACK_STATES = ("new", "tracked", "recovered")
NEW, TRACKED, RECOVERED = range(len(TRACK_STATES))


@dataclass(frozen=True, slots=True)
class Tracks:
    """Confirmed tracks matched in one frame (the tracker's per-frame output), aligned on the first axis:
    track_id (N,), class_id (N,) COCO ids, xyxy (N,4) pixels of the matched detection, confidence (N,) its
    score, state (N,) indices into TRACK_STATES.

    Boxes and scores are float64: the tracker's own precision, so that crop choice and the watch see exactly
    the values the tracker computed with."""

    track_id: np.ndarray
    class_id: np.ndarray
    xyxy: np.ndarray
    confidence: np.ndarray
    state: np.ndarray

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float64)
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise ValueError(f"Tracks.xyxy has shape {xyxy.shape}, expected (N, 4)")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "track_id", np.asarray(self.track_id, dtype=np.int64).reshape(-1))
        object.__setattr__(self, "class_id", np.asarray(self.class_id, dtype=np.int32).reshape(-1))
        object.__setattr__(self, "confidence", np.asarray(self.confidence, dtype=np.float64).reshape(-1))
        object.__setattr__(self, "state", np.asarray(self.state, dtype=np.int8).reshape(-1))
        n = len(xyxy)
        for name in ("track_id", "class_id", "confidence", "state"):
            _check_len(name, getattr(self, name), n, "Tracks")
        bad = (self.state < 0) | (self.state >= len(TRACK_STATES))
        if bad.any():
            raise ValueError(
                f"Tracks.state has {int(self.state[bad][0])}, expected 0..{len(TRACK_STATES) - 1} {TRACK_STATES}"
            )

    @classmethod
    def empty(cls) -> Tracks:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros((0, 4)), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return len(self.xyxy)

    def select(self, mask: np.ndarray) -> Tracks:
        return Tracks(self.track_id[mask], self.class_id[mask], self.xyxy[mask], self.confidence[mask],
                      self.state[mask])  # fmt: skip

    def of_class(self, class_id: int) -> Tracks:
        return self.select(self.class_id == class_id)

    def boxes_by_id(self) -> dict[int, tuple[float, float, float, float]]:
        """track id -> xyxy as plain floats (the shape the watch's behaviour logic and alerts keep)."""
        return {
            int(tid): (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
            for tid, b in zip(self.track_id, self.xyxy, strict=True)
        }


@dataclass(slots=True)
class TrackBox:
    frame: int
    t: float
    xyxy: tuple[float, float, float, float]
    confidence: float


@dataclass(slots=True)
class Tracklet:
    """A finished (or current) track in one camera, with its direction of movement."""

    track_id: int
    camera: str
    class_name: str
    boxes: list[TrackBox] = field(default_factory=list)
    entry_edge: str = "inside"
    exit_edge: str = "inside"
    heading_deg: float | None = None  # image-plane heading, 0 = right, 90 = down (image y grows down)
    speed_px_s: float | None = None

    @property
    def first(self) -> TrackBox:
        return self.boxes[0]

    @property
    def last(self) -> TrackBox:
        return self.boxes[-1]


@dataclass(slots=True)
class Description:
    """Appearance description of one tracklet."""

    embedding: np.ndarray | None = None  # float32, L2-normalised
    upper_color: str | None = None
    upper_conf: float = 0.0
    lower_color: str | None = None
    lower_conf: float = 0.0
    items: dict[str, float] = field(default_factory=dict)  # item class name -> confidence
    vehicle_type: str | None = None
    vehicle_color: str | None = None
    vehicle_conf: float = 0.0
    plate: str | None = None
    plate_conf: float = 0.0
    plate_alternatives: list[tuple[str, float]] = field(default_factory=list)
    best_frame: int | None = None
    best_box: tuple[float, float, float, float] | None = None  # xywh
    thumbnail_jpeg: bytes | None = None
    # The best crops (quality, frame, JPEG), best first: kept so that `reid train` can learn from the
    # store alone and `reid apply` can re-embed without the source video.
    crops_jpeg: list[tuple[float, int, bytes]] = field(default_factory=list)


@dataclass(slots=True)
class Sighting:
    """A stored tracklet: the unit that search, relay and evidence work on."""

    id: int
    camera: str
    source_id: int
    track_id: int
    kind: str  # "person" or "vehicle"
    class_name: str
    start: float  # seconds from the source's start
    end: float
    first_frame: int
    last_frame: int
    wall_start: float  # epoch seconds
    wall_end: float
    box: tuple[float, float, float, float]  # xywh of the best crop
    entry_edge: str = "inside"
    exit_edge: str = "inside"
    heading_deg: float | None = None
    speed_px_s: float | None = None
    upper_color: str | None = None
    upper_conf: float = 0.0
    lower_color: str | None = None
    lower_conf: float = 0.0
    items: dict[str, float] = field(default_factory=dict)
    vehicle_type: str | None = None
    vehicle_color: str | None = None
    plate: str | None = None
    embedding: np.ndarray | None = None

    def public(self) -> dict[str, Any]:
        """The JSON shape of the search/relay CLI contract: `start`/`end` are seconds into the clip,
        `start_time`/`end_time` the camera's wall-clock time in Seoul (ISO 8601, +09:00; None when unknown)."""
        return {
            "sighting": self.id,
            "camera": self.camera,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "frames": [self.first_frame, self.last_frame],
            "box": [round(float(v), 1) for v in self.box],
            **self.times(),
        }

    def times(self) -> dict[str, str | None]:
        """`start_time`/`end_time`: the camera's wall-clock time in Seoul, ISO 8601 with +09:00."""
        return {"start_time": maybe_iso(self.wall_start), "end_time": maybe_iso(self.wall_end)}


@dataclass(frozen=True, slots=True)
class Camera:
    id: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    heading_deg: float | None = None  # compass bearing the camera looks towards
    fov_deg: float | None = None
    district: str | None = None
    owner: str | None = None  # 본청, 사업소, 투출기관, 자치구
    purpose: str | None = None  # 방범, 어린이보호구역, ...
    stream_url: str | None = None
    clock_offset_s: float = 0.0
    width: int | None = None
    height: int | None = None

    def with_(self, **kw: Any) -> Camera:
        return replace(self, **kw)


@dataclass(frozen=True, slots=True)
class Link:
    """Leaving camera `src` by `exit_edge` leads to `dst` after a travel time ~ lognormal-ish(mean, std)."""

    src: str
    dst: str
    exit_edge: str | None  # None: any edge
    entry_edge: str | None
    mean_s: float
    std_s: float
    min_s: float = 0.0
    max_s: float | None = None
    mode: str = "walk"  # walk | drive
    source: str = "map"  # map | data | manual

    @property
    def upper_s(self) -> float:
        """The longest travel time the link allows: `max_s`, or mean + 3 std when not given."""
        return self.max_s if self.max_s is not None else self.mean_s + 3 * self.std_s
