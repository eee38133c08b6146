"""Online multi-object tracking: Kalman motion, two-stage (high/low score) association, track lifecycle,
and the direction of movement (entry/exit edge, heading, speed) that the relay stage needs."""

from relaytrack.track.direction import edges_and_heading
from relaytrack.track.tracker import Tracker

__all__ = ["Tracker", "edges_and_heading"]
