"""Shared record factory for the relay tests: one person sighting with a known embedding and attributes."""

from __future__ import annotations

import math

import numpy as np

from relaytrack.records import Sighting
from relaytrack.store import Store
from relaytrack.store.sightings import insert_sighting

DIM = 32
T0 = 1_795_000_000.0


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def noisy(rng: np.random.Generator, proto: np.ndarray, scale: float = 0.25) -> np.ndarray:
    return unit(proto + rng.normal(0, scale / math.sqrt(DIM), DIM))


def add_person(store: Store, cam: str, t: float, emb: np.ndarray, *, track_id: int, dur: float, entry: str,
               exit_: str, upper: str, lower: str, clock_offset_s: float = 0.0,
               thumbnail_jpeg: bytes | None = None) -> int:
    """Store a person seen in `cam` from t to t + dur seconds (source time); wall times carry the camera's
    clock offset. Returns the sighting id."""
    s = Sighting(
        id=0, camera=cam, source_id=None, track_id=track_id, kind="person", class_name="person",
        start=t, end=t + dur, first_frame=int(t * 10) + 1, last_frame=int((t + dur) * 10) + 1,
        wall_start=T0 + t + clock_offset_s, wall_end=T0 + t + dur + clock_offset_s, box=(10.0, 20.0, 30.0, 90.0),
        entry_edge=entry, exit_edge=exit_, upper_color=upper, upper_conf=0.9, lower_color=lower, lower_conf=0.8,
        embedding=emb,
    )
    with store.tx() as conn:
        return insert_sighting(conn, s, boxes=[(s.first_frame, t, 10.0, 20.0, 30.0, 90.0, 0.9)],
                               thumbnail_jpeg=thumbnail_jpeg)
