"""Innocent patterns at hiding spots: what an experienced operator uses to tell a resident, a postman or a
passer-by from a courier, measured on the same tracks the courier signals come from.

Each cue lowers the courier score by its (negative-acting) weight and adds a reason, so an operator sees why a
stop that looked like a drop was not raised, and every alert keeps its reasons:

- ``door``: the person disappeared next to the spot right after the stop, inside the image (a track that ends
  where nobody walks on is someone going in at a door of that building), rather than walking on down the
  street; the last foot point is within ``door_h`` standing heights of where the stop was and nobody appears
  there within ``door_s``;
- ``round``: the same person stopped at ``round_min_stops`` or more spots in a row within ``round_window_s``,
  each stop short (median at most ``round_dwell_s``): a postman's round, not a courier's few long stops;
- ``brief``: the stop ended within ``brief_s`` with no phone raised: a mailbox opened and shut, a parcel set
  down; a drop takes the hiding and usually a photo of the spot;
- ``linger``: at the spot ``linger_s`` or longer (this stop and the same person's stops at that spot just
  before it, a track broken in the dark being one stay) and no hand went into the spot: someone smoking,
  waiting or on the phone there; a drop is a hand into the spot, done in well under half a minute.

The cues need the end of the stop, so with ``alert.decide_on_departure`` the alert is decided once the person
left the spot (or after ``hold_max_s`` at it): the latency an operator pays for fewer false alarms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING

from pydantic import Field

from relaytrack.config import Strict

if TYPE_CHECKING:
    from relaytrack.watch.route import StopRecord


class InnocentConfig(Strict):
    """Thresholds of the innocent-pattern cues and their weights (each subtracted from the score)."""

    door_h: float = Field(
        1.2, ge=0, le=10, description="A track ending within this many heights of its stop went in at a door"
    )
    door_s: float = Field(
        2.5,
        ge=0.2,
        le=30,
        description="Unseen this long after a stop (nobody appearing there) = gone in at a door",
    )
    round_min_stops: int = Field(3, ge=2, le=50, description="Spots in a row that make a round")
    round_window_s: float = Field(150.0, gt=0, le=3600, description="Window in which a round's stops fall")
    round_dwell_s: float = Field(7.0, gt=0, le=120, description="Median stop length of a round, at most")
    brief_s: float = Field(7.0, ge=0, le=120, description="A stop ended this soon without a phone is brief")
    hold_max_s: float = Field(
        30.0, gt=0, le=600, description="Decide without waiting for the departure after this long at a spot"
    )
    linger_s: float = Field(
        30.0, gt=0, le=3600, description="At the spot this long without a hand into it = lingering (smoking)"
    )
    linger_gap_s: float = Field(
        10.0, ge=0, le=300, description="The same person's stops at the spot this close together are one stay"
    )
    # Weights set by replaying the tuning towns (seeds.TUNING "watch", "watch-drops", "watch-confusers"):
    # door 0.35 -> 0.6 and brief 0 -> 0.35 took the false alarms there from 8 to 4 (0.33 camera-hours) with
    # no drop lost (brief once cost a drop: it now needs the person seen leaving, and counts the stay's
    # pieces together, so a track broken mid-drop is not brief).
    w_door: float = Field(0.6, ge=0, le=2, description="Lowered by: went in at a door after the stop")
    w_round: float = Field(0.5, ge=0, le=2, description="Lowered by: a round of short stops (postman)")
    w_brief: float = Field(0.35, ge=0, le=2, description="Lowered by: a brief stop with no photo")
    w_linger: float = Field(
        0.35, ge=0, le=2, description="Lowered by: a long stay at the spot without a hand going into it"
    )


@dataclass(frozen=True, slots=True)
class Cues:
    """The innocent cues of one stop (strength 0 or 1 each) with what was measured."""

    door: float
    round: float
    brief: float
    round_stops: int
    round_dwell_s: float | None
    linger: float = 0.0
    stay_s: float = 0.0  # time at the spot: this stop and the same person's stops there just before it

    def penalty(self, cfg: InnocentConfig) -> float:
        return (
            cfg.w_door * self.door
            + cfg.w_round * self.round
            + cfg.w_brief * self.brief
            + cfg.w_linger * self.linger
        )

    def reasons(self, cfg: InnocentConfig) -> list[str]:
        """One reason per cue that fired and lowered the score (a cue with weight 0 lowers nothing)."""
        out = []
        if self.door and cfg.w_door:
            out.append("went in at a door right after (lowered)")
        if self.round and cfg.w_round:
            out.append(
                f"round of {self.round_stops} short stops, median {self.round_dwell_s:.0f} s (postman pattern, lowered)"
            )
        if self.brief and cfg.w_brief:
            out.append("brief stop, no photo (lowered)")
        if self.linger and cfg.w_linger:
            out.append(f"stayed {self.stay_s:.0f} s without a hand into the spot (lingering, lowered)")
        return out


def cues(
    cfg: InnocentConfig,
    dwell: float,
    closed: bool,
    left: str | None,
    phone: bool,
    prior: list[StopRecord],
    now: float,
    *,
    reached: bool = True,
    same_spot: list[StopRecord] | None = None,
) -> Cues:
    """The cues of a stop lasting `dwell` s (closed: the person left; left: how, 'door' or 'walked'), given the
    same person's earlier stops at other spots (`prior`, wall seconds) and the wall time `now`; `reached`:
    a hand went into the spot; `same_spot`: the same person's earlier stops at this spot (one stay when they
    follow each other within `linger_gap_s`)."""
    recent = [r for r in prior if now - r.end <= cfg.round_window_s]
    spots = {(r.camera, r.zone) for r in recent}
    dwells = [r.end - r.start for r in recent] + [dwell]
    n = len(spots) + 1
    med = float(median(dwells)) if dwells else None
    is_round = n >= cfg.round_min_stops and med is not None and med <= cfg.round_dwell_s
    stay = stay_at_spot(dwell, now - dwell, same_spot or [], cfg.linger_gap_s)
    return Cues(
        door=1.0 if left == "door" else 0.0,
        round=1.0 if is_round else 0.0,
        # Brief only when the person was seen to leave (a broken track says nothing of how long they stayed),
        # counting the same person's stops there just before (one stay in pieces is not brief).
        brief=1.0 if closed and left in ("walked", "door") and stay < cfg.brief_s and not phone else 0.0,
        round_stops=n,
        round_dwell_s=None if med is None else round(med, 1),
        linger=1.0 if stay >= cfg.linger_s and not reached else 0.0,
        stay_s=round(stay, 1),
    )


def stay_at_spot(dwell: float, start: float, earlier: list[StopRecord], gap_s: float) -> float:
    """Seconds at a spot: a stop of `dwell` s beginning at `start` (wall) plus the earlier stops there that
    lead up to it, each ending within `gap_s` of the next one's start (a broken track, a step aside)."""
    total, t0 = dwell, start
    for r in sorted(earlier, key=lambda r: r.end, reverse=True):
        if r.end > t0 + 1e-6:
            continue  # overlaps or follows: not a stop before this one
        if t0 - r.end > gap_s:
            break
        total += r.end - r.start
        t0 = r.start
    return total


def went_in(
    last_foot: tuple[float, float],
    stop_foot: tuple[float, float],
    stand_h: float,
    others_since: list[tuple[float, float, float, float]],
    cfg: InnocentConfig,
    same_place_h: float,
    speed_px_s: float = 0.0,
) -> bool:
    """A track that ended next to its stop with nobody appearing at that place since (`others_since`: foot
    points (seconds after it ended, x, y, box height) of other tracks): the person went in there, the track
    did not merely break (a broken track is picked up at the same place by a new one). Someone still walking
    when the track broke (`speed_px_s`) is picked up further on: the place grows with the distance they could
    have walked since, else a courier lost for half a second while walking on would have "gone in"."""
    if math.hypot(last_foot[0] - stop_foot[0], last_foot[1] - stop_foot[1]) / max(stand_h, 1.0) > cfg.door_h:
        return False
    for dt, x, y, h in others_since:
        reach = same_place_h * max(h, stand_h) + speed_px_s * min(max(dt, 0.0), cfg.door_s)
        if math.hypot(x - last_foot[0], y - last_foot[1]) <= reach:
            return False
    return True
