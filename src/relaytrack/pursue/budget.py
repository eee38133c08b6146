"""The pursuit's budget of analysed frames per second across every stream, and how it is shared.

A fixed-rate watch analyses every camera equally; the pursuit spends the same (or a smaller) total where the
suspect is expected. Every camera keeps a floor (an arrival nobody predicted must still be detectable, and a
camera that went quiet is noticed); the rest goes in proportion to the predicted probability, doubled while
the camera's ETA window is open (that is when latency matters), nothing beyond the floor while the window
opens more than `soon_s` from now (frames there would find nobody yet), capped at what the stream delivers. Capped
shares are handed on to the others (water filling), so the allocation sums to the budget whenever the
streams can take it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BudgetConfig:
    total_fps: float = 8.0  # analysed frames per second across all streams
    # Every camera, whatever the prediction: an arrival nobody predicted is still seen within a few seconds.
    floor_fps: float = 0.25
    max_fps: float = 10.0  # no camera above this (nor above its stream's own rate)
    open_boost: float = 2.0  # weight multiplier while a camera's ETA window is open
    soon_s: float = 5.0  # a window opening later than this from now ...
    later_factor: float = 0.0  # ... multiplies the camera's weight by this (its floor watches it meanwhile)


def allocate(
    weights: dict[str, float], cfg: BudgetConfig, caps: dict[str, float] | None = None
) -> dict[str, float]:
    """Analysed fps per camera: `weights` (camera -> predicted probability, boost applied by the caller;
    cameras absent from the prediction get 0), `caps` (camera -> stream fps). Sums to cfg.total_fps unless
    every camera is at its cap."""
    cams = sorted(weights)
    if not cams:
        return {}
    cap = {c: min(cfg.max_fps, (caps or {}).get(c, cfg.max_fps)) for c in cams}
    floor = min(cfg.floor_fps, cfg.total_fps / len(cams))
    out = {c: min(floor, cap[c]) for c in cams}
    left = cfg.total_fps - sum(out.values())
    open_ = [c for c in cams if out[c] < cap[c] - 1e-9]
    # Water filling: share what is left by weight (evenly when no camera has weight), cap, repeat with
    # what the capped cameras could not take.
    for _ in range(len(cams) + 1):
        if left <= 1e-9 or not open_:
            break
        w = {c: max(0.0, weights[c]) for c in open_}
        tw = sum(w.values())
        if tw <= 0:
            w = {c: 1.0 for c in open_}
            tw = float(len(open_))
        spill = 0.0
        for c in open_:
            give = left * w[c] / tw
            room = cap[c] - out[c]
            out[c] += min(give, room)
            spill += max(0.0, give - room)
        left = spill
        open_ = [c for c in open_ if out[c] < cap[c] - 1e-9]
    return out
