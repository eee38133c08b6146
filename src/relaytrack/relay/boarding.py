"""Person <-> vehicle hand-offs on one camera: the suspect gets into a vehicle, or gets out of one.

A courier walks to a parked car, vanishes beside it, and the car drives off: from then on the route is the
car's, on driving links, identified by its plate, type and colour; where the car stops and someone appears
beside it, the route may be the person's again. What the relay sees of that is one camera's boxes:

- board: a person track ends inside the view (not at an edge: they did not walk out of it) within reach of
  a vehicle that stands still at that moment and moves off within `handoff_gap_s` (or leaves the view);
- alight: a person track starts inside the view within reach of a vehicle that came to a stop shortly
  before (or whose track ended there) and stands still while the person appears.

A person hidden by a passing car also vanishes "inside" next to a vehicle; the vehicle standing still at
that moment is what tells boarding from occlusion (a passing car is moving), and the person not coming back
on that camera is left to the competition with the same-camera fragment candidates and "nobody".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from relaytrack.config import RelayConfig
from relaytrack.records import Sighting
from relaytrack.relay.candidate import hop_link
from relaytrack.relay.route import HANDOFF_SOURCES
from relaytrack.store.sightings import SIGHTING_COLUMNS, boxes_of, row_to_sighting

STILL_FRAC = 0.2  # a vehicle whose box centre moves less than this share of its width in STILL_S stands still
STILL_S = 1.5
# A detector often loses a car the moment it moves off (motion blur, a new angle) and finds it only once it has
# stopped: a standing vehicle's track ending (beginning) this soon after the person vanished (before they
# appeared) counts as leaving (arriving), at a cost, since a flickering detection of a parked car looks alike.
LOST_S = 5.0
LOST_COST = 0.5


@dataclass(frozen=True)
class Track:
    """A sighting's boxes on its camera's wall clock: times (n,), centres (n, 2), sizes (n, 2)."""

    t: np.ndarray
    centre: np.ndarray
    size: np.ndarray

    @classmethod
    def of(cls, s: Sighting, rows: Sequence[tuple]) -> Track | None:
        """From `store.sightings.boxes_of` rows (frame, t, x, y, w, h, conf), t seconds into the source."""
        if not rows:
            return None
        a = np.asarray([r[1:6] for r in rows], np.float64)
        t = s.wall_start + (a[:, 0] - s.start)
        return cls(t, a[:, 1:3] + a[:, 3:5] / 2, a[:, 3:5])

    def at(self, when: float) -> tuple[np.ndarray, np.ndarray]:
        """Centre and size of the box nearest in time to `when`."""
        i = int(np.argmin(np.abs(self.t - when)))
        return self.centre[i], self.size[i]

    def moved(self, t0: float, t1: float) -> float:
        """Largest centre displacement between boxes in [t0, t1], as a share of the box width."""
        m = (self.t >= t0) & (self.t <= t1)
        if m.sum() < 2:
            return 0.0
        c = self.centre[m]
        return float(np.max(np.linalg.norm(c - c[0], axis=1)) / max(float(np.median(self.size[m, 0])), 1.0))

    def still_at(self, when: float) -> bool:
        return self.moved(when - STILL_S, when + STILL_S / 3) < STILL_FRAC

    def move_time(self, after: float, horizon: float) -> float | None:
        """First time in (after, after + horizon] at which the box has left its place at `after` by more than
        STILL_FRAC of its width; None if it never does."""
        c0, size = self.at(after)
        m = (self.t > after) & (self.t <= after + horizon)
        d = np.linalg.norm(self.centre[m] - c0, axis=1) / max(float(size[0]), 1.0)
        hit = np.nonzero(d > STILL_FRAC)[0]
        return float(self.t[m][hit[0]]) if len(hit) else None

    def stop_time(self, before: float, horizon: float) -> float | None:
        """Last time in [before - horizon, before) at which the box was still away from its place at `before`
        (it was moving then), None if it stood there all along."""
        c0, size = self.at(before)
        m = (self.t < before) & (self.t >= before - horizon)
        d = np.linalg.norm(self.centre[m] - c0, axis=1) / max(float(size[0]), 1.0)
        hit = np.nonzero(d > STILL_FRAC)[0]
        return float(self.t[m][hit[-1]]) if len(hit) else None


def reach(person_box: tuple[np.ndarray, np.ndarray], vehicle_box: tuple[np.ndarray, np.ndarray]) -> float:
    """Distance from the person's feet to the vehicle's box, in person heights (0: the feet are on it)."""
    (pc, ps), (vc, vs) = person_box, vehicle_box
    feet = np.array([pc[0], pc[1] + ps[1] / 2])
    lo, hi = vc - vs / 2, vc + vs / 2
    gap = np.maximum(np.maximum(lo - feet, feet - hi), 0.0)
    return float(np.linalg.norm(gap) / max(float(ps[1]), 1.0))


@dataclass(frozen=True)
class Handoff:
    kind: str  # board | alight
    person: int
    vehicle: int
    at: float  # wall time (the camera's clock) the person vanished into / came out of the vehicle
    logit: float
    reasons: list[str]

    def link(self, mode: str) -> dict:
        """The hop's `link`: a hand-off on one camera, no travel; `source` board | alight names it."""
        return {
            **hop_link(None, None, mode, self.kind),
            "person": self.person,
            "vehicle": self.vehicle,
            "at_wall": round(self.at, 3),
        }


def find(
    conn: sqlite3.Connection, cur: Sighting, direction: str, cfg: RelayConfig, skip: set[int]
) -> list[tuple[Sighting, Handoff]]:
    """The hand-offs from `cur` on its camera: forward from a person, into a vehicle (board); forward from a
    vehicle, a person getting out (alight); backward the reverse. `skip`: sighting ids not to consider."""
    person_now = cur.kind == "person"
    boarding = person_now == (direction == "forward")
    if boarding:
        at = cur.wall_end if person_now else cur.wall_start
    else:
        at = cur.wall_start if person_now else cur.wall_end
    gap = cfg.handoff_gap_s
    rows = conn.execute(
        f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE camera_id=? AND kind=? AND wall_start<=? AND wall_end>=?"
        " AND superseded_by IS NULL",
        (cur.camera, "vehicle" if person_now else "person", at + gap, at - gap),
    ).fetchall()
    if not rows:
        return []
    cur_track = Track.of(cur, boxes_of(conn, cur.id))
    if cur_track is None:
        return []
    out = []
    for r in rows:
        s = row_to_sighting(r)
        if s.id in skip:
            continue
        s_track = Track.of(s, boxes_of(conn, s.id))
        if s_track is None:
            continue
        args = (cur, cur_track, s, s_track) if person_now else (s, s_track, cur, cur_track)
        h = board(*args, cfg) if boarding else alight(*args, cfg)
        if h is not None:
            out.append((s, h))
    return out


def board(
    person: Sighting, p_track: Track, vehicle: Sighting, v_track: Track, cfg: RelayConfig
) -> Handoff | None:
    """The person got into the vehicle, or None when the boxes do not say so."""
    at = person.wall_end
    if not (v_track.t[0] - 1.0 <= at <= v_track.t[-1] - 0.5):
        return None  # the vehicle was not there when the person vanished, or left before
    d = reach(p_track.at(at), v_track.at(at))
    if d > cfg.handoff_dist or not v_track.still_at(at):
        return None
    moves = v_track.move_time(at, cfg.handoff_gap_s)
    lost = moves is None and vehicle.exit_edge == "inside" and vehicle.wall_end - at <= LOST_S
    if (
        moves is None
        and not lost
        and not (vehicle.exit_edge != "inside" and vehicle.wall_end - at <= cfg.handoff_gap_s)
    ):
        return None  # it stays put: someone walked behind a parked car
    left_at = moves if moves is not None else vehicle.wall_end
    logit = cfg.handoff_logit + (1.0 - d) - (LOST_COST if lost else 0.0)
    why = [f"got into the {vehicle.class_name} ({d:.1f} person heights away)"]
    if person.exit_edge == "inside":
        logit += 1.0
        why.append("vanished inside the view")
    else:
        logit -= 1.5
        why.append(f"track ended at the {person.exit_edge} edge")
    if lost:
        why.append(f"the {vehicle.class_name}'s track ended {max(0.0, left_at - at):.0f} s later")
    else:
        why.append(f"the {vehicle.class_name} moved off {max(0.0, left_at - at):.0f} s later")
    return Handoff("board", person.id, vehicle.id, at, logit, why)


def alight(
    person: Sighting, p_track: Track, vehicle: Sighting, v_track: Track, cfg: RelayConfig
) -> Handoff | None:
    """The person got out of the vehicle, or None when the boxes do not say so."""
    at = person.wall_start
    if not (v_track.t[0] + 0.5 <= at <= v_track.t[-1] + 1.0):
        return None
    d = reach(p_track.at(at), v_track.at(at))
    if d > cfg.handoff_dist or not v_track.still_at(min(at, v_track.t[-1])):
        return None
    stopped = v_track.stop_time(at, cfg.handoff_gap_s)
    found = stopped is None and vehicle.entry_edge == "inside" and at - vehicle.wall_start <= LOST_S
    if (
        stopped is None
        and not found
        and not (vehicle.entry_edge != "inside" and at - vehicle.wall_start <= cfg.handoff_gap_s)
    ):
        return None  # it stood there all along: someone stepping out from behind a parked car
    since = stopped if stopped is not None else vehicle.wall_start
    logit = cfg.handoff_logit + (1.0 - d) - (LOST_COST if found else 0.0)
    why = [f"got out of the {vehicle.class_name} ({d:.1f} person heights away)"]
    if person.entry_edge == "inside":
        logit += 1.0
        why.append("appeared inside the view")
    else:
        logit -= 1.5
        why.append(f"track began at the {person.entry_edge} edge")
    if found:
        why.append(f"the {vehicle.class_name}'s track began {max(0.0, at - since):.0f} s before")
    else:
        why.append(f"the {vehicle.class_name} stopped {max(0.0, at - since):.0f} s before")
    return Handoff("alight", person.id, vehicle.id, at, logit, why)


def clamp_spans(hops: list) -> None:
    """A vehicle hop next to a hand-off holds the suspect only from boarding (or until alighting): its true
    span is cut there, so that the route's time order puts the person before the car they got into."""
    by_id = {h.sighting.id: h for h in hops}
    for h in hops:
        link = h.link or {}
        if link.get("source") not in HANDOFF_SOURCES:
            continue
        veh = by_id.get(link.get("vehicle"))
        if veh is None:
            continue
        off = veh.sighting.wall_start - veh.true_start  # the camera's clock offset
        at = float(link["at_wall"]) - off
        if link["source"] == "board":
            veh.true_start = min(max(veh.true_start, at), veh.true_end)
        else:
            veh.true_end = max(min(veh.true_end, at), veh.true_start)
