"""The records of the watch's behaviour state: one stop at a zone with its evidence, a track's recent history,
and the assessment (score, signals, reasons) of a stop (split from signals.py, which measures them)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from relaytrack.watch.spot import SpotWatch
from relaytrack.watch.zones import Zone


@dataclass
class Stop:
    """One stop of a track near one zone, with the evidence gathered during it (and its phone window)."""

    zone: Zone
    start: float
    last: float
    start_frame: int
    foot: tuple[float, float] = (0.0, 0.0)  # where the person stood when the stop began
    # Box bottom (image y) where the person last stood upright during the stop: crouch evidence needs the feet
    # to stay there. None until the first box of the stop.
    plant_y: float | None = None
    crouch_frames: int = 0
    pose_low_frames: int = 0  # of those, frames where the keypoints (knees, torso) said low too
    low_s: float = 0.0
    hand_t: float | None = None  # the last analysed moment of the hand action (crouched, bent or reaching)
    reach_frames: int = 0
    posed_frames: int = 0  # analysed frames with a posture during the stop (the share of them with a reach)
    phone_frames: int = 0
    # Phone frames after the hand went in (reach or crouch seen), held upright: the photo a courier takes of
    # the hiding place for the buyer. A phone seen while still crouched is mostly hands in front of the chest.
    photo_frames: int = 0
    # Posed frames whose knees or torso said low while the box could not confirm it yet: a person found only
    # once crouched (in the dark, behind others) has no standing height until they stand up again. Each is
    # (frame, t, box height, wrist at the spot), confirmed or not once the standing height is known.
    unsure_low: list[tuple[int, float, float, bool]] = field(default_factory=list)
    sitting: bool = False
    knee_min: float | None = None
    torso_max: float | None = None
    box_ratio_min: float | None = None
    closed: bool = False
    left: str | None = None  # how the person left the spot: walked (on) | door (went in) | lost (track broke)
    key: dict[str, tuple[int, float]] = field(default_factory=dict)  # moment -> (frame index, t)
    head_last: str | None = None  # head direction of the last posed frame, and for how many frames in a row
    head_run: int = 0
    head_held: str | None = None  # the last direction held for 2 posed frames (a glance, not noise)
    head_turns: int = 0
    spot: SpotWatch | None = None  # the spot's before views and, after the stop, its before/after verdict
    gone_move_h: float | None = None  # a track that vanished: how far from the stop (heights) and how fast
    gone_speed_h_s: float | None = None
    continued_by: int | None = None  # lost while another track stays at the spot: that track goes on with it

    @property
    def dwell(self) -> float:
        return self.last - self.start

    def hand_at(self, t: float) -> None:
        """The hand action was seen at `t`: `hand_t` keeps the latest such moment."""
        self.hand_t = t if self.hand_t is None else max(self.hand_t, t)

    def hand_over(self, to: Stop) -> None:
        """This stop's evidence goes on with `to`, the stop of the track that stays at the same spot (a track
        broken or doubled on one person): the larger count of each kind (a doubled track saw the same frames)
        and the earlier start."""
        to.start = min(to.start, self.start)
        for k in (
            "crouch_frames",
            "pose_low_frames",
            "reach_frames",
            "phone_frames",
            "photo_frames",
            "head_turns",
        ):
            setattr(to, k, max(getattr(to, k), getattr(self, k)))
        to.low_s = max(to.low_s, self.low_s)
        if self.hand_t is not None:
            to.hand_at(self.hand_t)
        to.sitting = to.sitting or self.sitting
        for k, pick in (("knee_min", min), ("torso_max", max), ("box_ratio_min", min)):
            mine, theirs = getattr(self, k), getattr(to, k)
            setattr(to, k, theirs if mine is None else mine if theirs is None else pick(mine, theirs))
        for k, v in self.key.items():
            to.key.setdefault(k, v)
        if to.spot is not None and self.spot is not None and self.spot.start < to.spot.start:
            to.spot = self.spot  # the earlier before views


class Seen(NamedTuple):
    """One analysed frame of a watched track's recent history. A tuple, so that the alert book can take a
    history as (frame, t, xyxy) rows."""

    frame: int
    t: float
    xyxy: tuple[float, float, float, float]


@dataclass
class TrackState:
    track_id: int
    boxes: deque[Seen]  # the last `run.track_history_s` seconds
    heights: deque  # box heights for the standing height
    stop: Stop | None = None
    stops: list[Stop] = field(default_factory=list)
    hist: np.ndarray | None = None
    last_t: float = 0.0
    first_foot: tuple[float, float] | None = None
    first_t: float = 0.0  # when the track was first seen
    box_low: bool = False  # this frame's box is much lower than the standing height
    travelled_h: float = 0.0  # farthest the foot point got from where the track began, in standing heights
    planted: bool = False  # this frame's box bottom is where the current stop began
    arrived: bool = False  # appeared at a place seen empty just before (or took over such a track)

    def stand_h(self) -> float:
        h = np.fromiter(self.heights, float)
        return float(np.percentile(h, 85)) if len(h) else 1.0


@dataclass
class Assessment:
    """The score of one track's stop with its measured signals and the operator's explanation."""

    track_id: int
    zone: Zone
    score: float
    signals: dict[str, float]
    strengths: dict[str, float]
    reasons: list[str]
    explanation: str
    stop: Stop
    final: bool = True  # the stop ended (or lasted hold_max_s): departure cues are known
    superseded: bool = False  # the stop goes on under another track (Stop.continued_by): decided there
