"""The record of one relay step's candidate (`relaytrack.relay.candidates` scores them, `relay.search` walks
them), apart so that the modules that add kinds of candidates need not import the finder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relaytrack.records import Sighting


@dataclass
class Candidate:
    """A scored candidate: `logit` against nobody, `conf` its softmax share, `t0`/`t1` its true start/end."""

    s: Sighting
    logit: float
    link: dict[str, Any]
    reasons: list[str]
    t0: float
    t1: float
    conf: float = 0.0
