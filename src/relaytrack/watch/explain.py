"""The operator's explanation of a courier score: one reason per signal that fired, with its measured value,
and a one-line summary (split from signals.py, which measures the signals)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relaytrack.watch.signals import Stop

ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}


def ordinal(n: int) -> str:
    return ORDINAL.get(n, f"{n}th")


def explain(s: Stop, signals: dict, strengths: dict) -> tuple[list[str], str]:
    """Reasons (one phrase per signal that fired, with its measured value) and a one-line explanation."""
    reasons = [f"stopped {signals['dwell_s']:.0f} s at {s.zone.label}"]
    acts = []
    if strengths["crouch"]:
        what = "bent over" if (s.torso_max or 0) > (180 - (s.knee_min or 180)) else "crouched"
        detail = []
        if s.knee_min is not None:
            detail.append(f"knee {s.knee_min:.0f}°")
        if s.torso_max is not None:
            detail.append(f"torso {s.torso_max:.0f}°")
        if s.box_ratio_min is not None:
            detail.append(f"height x{s.box_ratio_min:.2f}")
        reasons.append(f"{what} ({', '.join(detail)})" if detail else what)
        acts.append(what)
    if strengths["reach"]:
        # The spot's kind without its id: "gas meter", not "gas".
        reasons.append(f"hand into the {s.zone.label.rsplit(' ', 1)[0]} ({s.reach_frames} frames)")
        acts.append("reached in")
    if strengths.get("photo"):  # callers built before the photo signal pass no such key
        reasons.append(f"photo of the spot after the hand ({s.photo_frames} frames)")
        acts.append("then photographed the spot")
    elif strengths["phone"]:
        reasons.append(f"phone raised towards the spot ({s.phone_frames} frames)")
        acts.append("then phone raised" if acts else "phone raised")
    if strengths.get("stay"):
        reasons.append(f"stayed at the spot {signals['after_hand_s']:.0f} s after the hand")
        acts.append("stayed there")
    tail = []
    n = signals["stops_in_window"]
    if n >= 2:
        mins = max(1, math.ceil(signals["route_span_s"] / 60.0))
        txt = f"{ordinal(n)} stop in {mins} min"
        reasons.append(txt)
        tail.append(txt)
    if strengths["revisit"]:
        txt = f"back at the same spot after {signals['revisit_gap_s']:.0f} s"
        reasons.append(txt)
        tail.append(txt)
    if strengths["night"]:
        h = signals["local_hour"]
        txt = f"at night ({int(h):02d}:{int(round((h % 1) * 60)) % 60:02d})"
        reasons.append(txt)
        tail.append(txt)
    head = ", ".join([reasons[0], *acts])
    return reasons, head + ("; " + "; ".join(tail) if tail else "")
