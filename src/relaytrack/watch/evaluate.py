"""Event-level evaluation of courier alerts against a town's truth (couriers' drop events).

Two matchings are reported. The strict one (headline) counts an event as found only when an alert names the
hiding spot the courier used (same camera, same zone, overlapping time): an investigator sent to the wrong
spot finds nothing. The lenient one (camera and time only) is kept beside it, as the figure earlier reports
gave.
"""

from __future__ import annotations

from typing import Any


def _get(a: Any, k: str, default=None):
    return a.get(k, default) if isinstance(a, dict) else getattr(a, k, default)


def truth_events(truth: dict) -> list[dict]:
    return [dict(e, courier=c.get("id")) for c in truth.get("couriers") or [] for e in c.get("events") or []]


def _match(events: list[dict], cand: list, tolerance_s: float, zone: bool) -> tuple[list[dict], set[int]]:
    """One-to-one, events in time order, the earliest-deciding alert first; `zone` also requires the alert's
    zone to be the event's hiding spot."""
    used: set[int] = set()
    matches = []
    for ei, e in enumerate(sorted(events, key=lambda e: e["start"])):
        for ai, a in enumerate(cand):
            if ai in used or _get(a, "camera") != e["camera"]:
                continue
            if zone and _get(a, "zone") != e.get("zone"):
                continue
            if _get(a, "end") >= e["start"] - tolerance_s and _get(a, "start") <= e["end"] + tolerance_s:
                used.add(ai)
                decided = _get(a, "decided", None)
                decided = _get(a, "start") if decided is None else decided
                hand = e.get("hand")
                matches.append(
                    {
                        "event": ei,
                        "camera": e["camera"],
                        "zone": e.get("zone"),
                        "alert_zone": _get(a, "zone"),
                        "latency": round(decided - e["start"], 2),
                        "latency_action": round(decided - hand[0], 2) if hand else None,
                        "score": _get(a, "score"),
                    }
                )
                break
    return matches, used


def _med(v: list[float]) -> float | None:
    return round(v[len(v) // 2], 2) if v else None


def _candidates(alerts: list) -> list:
    """The courier alerts, earliest-deciding first (the order the matching takes them in)."""
    cand = [a for a in alerts if (_get(a, "kind", "courier") or "courier") == "courier"]
    cand.sort(
        key=lambda a: _get(a, "decided", None) if _get(a, "decided", None) is not None else _get(a, "start")
    )
    return cand


def unmatched_alerts(alerts: list, truth: dict | list, tolerance_s: float = 2.0) -> list:
    """The courier alerts the lenient matching of `evaluate_events` leaves unmatched: its false alarms (a
    second alert on a drop already matched is one too, as precision counts it)."""
    events = truth_events(truth) if isinstance(truth, dict) else list(truth)
    cand = _candidates(alerts)
    _, used = _match(events, cand, tolerance_s, zone=False)
    return [a for i, a in enumerate(cand) if i not in used]


def evaluate_events(alerts: list, truth: dict | list, tolerance_s: float = 2.0) -> dict[str, Any]:
    """Match alerts to drop events one-to-one: same camera, alert [start, end] overlapping the event's
    [start - tol, end + tol]; the earliest-deciding alert wins. Lenient (camera and time): recall = matched /
    events, precision = matched alerts / courier alerts. Strict (the right hiding spot too): found_zone,
    recall_zone, precision_zone. Time-to-alert = alert decision time - event start (source seconds), and
    - the hand action start where the truth gives it (from the lenient matching)."""
    events = truth_events(truth) if isinstance(truth, dict) else list(truth)
    cand = _candidates(alerts)
    matches, used = _match(events, cand, tolerance_s, zone=False)
    strict, used_z = _match(events, cand, tolerance_s, zone=True)
    n_e, n_a = len(events), len(cand)
    lat = sorted(m["latency"] for m in matches)
    lat_act = sorted(m["latency_action"] for m in matches if m["latency_action"] is not None)
    lat_z = sorted(m["latency"] for m in strict)
    return {
        "events": n_e,
        "alerts": n_a,
        "matched": len(matches),
        "recall": round(len(matches) / n_e, 3) if n_e else None,
        "precision": round(len(used) / n_a, 3) if n_a else None,
        "zone_correct": sum(1 for m in matches if m["zone"] == m["alert_zone"]),
        "found_zone": len(strict),
        "recall_zone": round(len(strict) / n_e, 3) if n_e else None,
        "precision_zone": round(len(used_z) / n_a, 3) if n_a else None,
        "latency": _med(lat),
        "latency_max": lat[-1] if lat else None,
        "latency_zone": _med(lat_z),
        "latency_action": _med(lat_act),
        "matches": matches,
        "matches_zone": strict,
    }
