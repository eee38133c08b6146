"""One clock for everything a person reads: the camera's wall-clock time in Asia/Seoul.

Sightings, alerts, routes and audit entries store epoch seconds; every output shows them here, in Seoul
time: machine outputs (JSON, GeoJSON, CSV) as ISO 8601 with the +09:00 offset (`to_seoul_iso`), tables,
reports and burn-ins as "YYYY-MM-DD HH:MM:SS" (`human`). Seconds into a clip stay a secondary detail.
Korea has kept standard time without daylight saving since 1988, so a fixed offset is exact for footage.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")


def seoul(wall: float) -> datetime:
    """Epoch seconds as an aware datetime in Seoul time."""
    return datetime.fromtimestamp(float(wall), KST)


def to_seoul_iso(wall: float, timespec: str = "seconds") -> str:
    """Epoch seconds as ISO 8601 in Seoul time, e.g. 2026-03-14T21:05:07+09:00 (`timespec` as for
    datetime.isoformat: "seconds", "milliseconds", ...)."""
    return seoul(wall).isoformat(timespec=timespec)


def maybe_iso(wall: float | None, timespec: str = "seconds") -> str | None:
    """`to_seoul_iso`, or None for an unknown time (None or 0: a hand-written hop without wall time)."""
    return to_seoul_iso(wall, timespec) if wall else None


def human(wall: float, *, seconds: bool = True) -> str:
    """Epoch seconds for a person: "2026-03-14 21:05:07" in Seoul time (no zone suffix: every human time in
    relaytrack is Seoul time; the report headers say so)."""
    return seoul(wall).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def human_span(start: float, end: float) -> str:
    """A span for a person: "2026-03-14 21:05:07–21:05:19" (the date once when both ends share it)."""
    a, b = seoul(start), seoul(end)
    tail = b.strftime("%H:%M:%S") if a.date() == b.date() else b.strftime("%Y-%m-%d %H:%M:%S")
    return f"{a.strftime('%Y-%m-%d %H:%M:%S')}–{tail}"


def now_iso() -> str:
    """The present moment in Seoul time, ISO 8601."""
    return datetime.now(KST).isoformat(timespec="seconds")


def human_at(wall: float | None, clip_start: float, clip_end: float | None = None) -> str:
    """A time for a table or a line: the Seoul wall-clock time first, seconds into the clip after it in
    brackets ("2026-03-14 21:05:07 (12.0-18.5 s)"); only the clip seconds when the wall time is unknown."""
    clip = f"{clip_start:.1f} s" if clip_end is None else f"{clip_start:.1f}-{clip_end:.1f} s"
    return f"{human(wall)} ({clip})" if wall else clip
