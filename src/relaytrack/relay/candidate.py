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


def hop_link(
    src: str | None,
    dst: str | None,
    mode: str,
    source: str,
    *,
    exit_edge: str | None = None,
    entry_edge: str | None = None,
    mean_s: float = 0.0,
    std_s: float = 0.0,
    travel_s: float = 0.0,
    via: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """A hop's `link` as routes carry it, keys in the route JSON's order: the cameras and edges it joins, the
    expected and the measured travel, the cameras skipped on the way, and what kind of step it was."""
    return {
        "src": src,
        "dst": dst,
        "exit_edge": exit_edge,
        "entry_edge": entry_edge,
        "mean_s": mean_s,
        "std_s": std_s,
        "mode": mode,
        "travel_s": travel_s,
        "via": list(via),
        "source": source,
    }
