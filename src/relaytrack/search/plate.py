"""Search by plate: full or partial patterns, tolerant to the characters CCTV and OCR confuse.

Pattern language: `?` is one character, `*` any run; a pattern without wildcards may sit anywhere in the plate
("3456" finds 12가3456). Typed Latin letters are read as what they usually stand for on a plate (B~8, O/D~0).
Matching is an alignment with substitution costs: an exact character costs 0, a usual confusion (8/B, 0/O/D,
가/거, 나/너, ...) CONFUSION_COST, anything else rules the plate out when more than MAX_MISSES characters
differ. The score is 1 - cost / characters named, so an exact match ranks above a confused one, and a stored
alternative reading matches at ALT_DISCOUNT of its score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from relaytrack.describe.plate_grammar import normalise
from relaytrack.errors import InputError
from relaytrack.search.engine import Hit

CONFUSION_COST = 0.35
MISS_COST = 1.0
MAX_MISSES = 1  # a wholly different character, once, still counts (OCR swaps one digit for another)
ALT_DISCOUNT = 0.8
_GROUPS = (
    "8B3", "0ODQ", "1I7L", "5S", "2Z", "6G", "4A",
    "가거", "나너", "다더", "라러", "마머", "바버배", "사서", "아어", "자저", "하허호",
    "고구", "노누", "도두", "로루", "모무", "보부", "소수", "오우", "조주",
)  # fmt: skip
CONFUSABLE: dict[str, set[str]] = {}
for _g in _GROUPS:
    for _c in _g:
        CONFUSABLE.setdefault(_c, set()).update(set(_g) - {_c})


@dataclass
class PlateMatch:
    score: float  # in [0, 1]
    matched: str  # the stored text that matched (the plate or one of its alternatives)
    notes: list[str] = field(default_factory=list)  # why it is not exact, e.g. "B~8 at 5"


def _sub(p: str, c: str) -> tuple[float, str | None]:
    if p == "?" or p == c:
        return 0.0, None
    if c in CONFUSABLE.get(p, ()):
        return CONFUSION_COST, f"{p}~{c}"
    return MISS_COST, f"{p}≠{c}"


def check_pattern(pattern: str) -> str:
    pat = normalise(pattern)
    if not pat or not pat.strip("*"):
        raise InputError(f"--plate {pattern!r}: give some of the plate, e.g. 3456, '12가*' or '??가3456'")
    if len(pat) > 16:
        raise InputError(f"--plate {pattern!r}: a plate has at most 9 characters")
    return pat


@lru_cache(maxsize=4096)
def match(pattern: str, plate: str) -> PlateMatch | None:
    """How well `plate` fits `pattern` (already normalised), or None when it does not."""
    pat, text = normalise(pattern), normalise(plate)
    if not text:
        return None
    if "*" not in pat and "?" not in pat:
        pat = f"*{pat}*"
    named = sum(ch not in "*" for ch in pat) or 1
    # DP over (pattern position, text position): best (cost, misses, notes). Small strings: plain tables.
    inf = (float("inf"), 99, ())
    n, m = len(pat), len(text)
    dp = [[inf] * (m + 1) for _ in range(n + 1)]
    dp[0][0] = (0.0, 0, ())
    for i in range(1, n + 1):
        p = pat[i - 1]
        for j in range(m + 1):
            best = inf
            if p == "*":
                best = min(dp[i - 1][j], dp[i][j - 1] if j else inf)
            elif j:
                cost, misses, notes = dp[i - 1][j - 1]
                c, note = _sub(p, text[j - 1])
                if note is not None:
                    notes = (*notes, f"{note} at {j}")
                cand = (cost + c, misses + (c >= MISS_COST), notes)
                best = min(best, cand, key=lambda t: (t[0], t[1]))
            dp[i][j] = min(dp[i][j], best, key=lambda t: (t[0], t[1]))
    cost, misses, notes = dp[n][m]
    if cost == float("inf") or misses > MAX_MISSES or (misses and named < 4):
        return None
    return PlateMatch(max(0.0, 1.0 - cost / named), text, list(notes))


def best_match(pattern: str, plate: str | None, alternatives: str | list | None) -> PlateMatch | None:
    """The stored plate's match, or an alternative reading's (discounted) when that fits better."""
    best = match(pattern, plate) if plate else None
    alts = json.loads(alternatives) if isinstance(alternatives, str) else (alternatives or [])
    for a in alts:
        text = a[0] if isinstance(a, list | tuple) else a
        m = match(pattern, text)
        if m is not None:
            m = PlateMatch(m.score * ALT_DISCOUNT, m.matched, [*m.notes, "alternative reading"])
            if best is None or m.score > best.score:
                best = m
    return best


def explain(pattern: str, m: PlateMatch, plate_conf: float | None) -> str:
    how = "exact" if not m.notes else ", ".join(m.notes)
    conf = f", read with confidence {plate_conf:.2f}" if plate_conf is not None else ""
    return f"plate {m.matched} ~ {pattern} ({how}; {m.score:.2f}{conf})"


def search_plate(conn, pattern: str, *, top: int = 20, filters=None):
    """Sightings whose plate (or an alternative reading of it) fits `pattern`, best first; each hit's
    public form carries `plate` and the reasons say how it matched."""
    from relaytrack.search.engine import Filters, SearchResult
    from relaytrack.store.sightings import get_sightings

    pat = check_pattern(pattern)
    f = filters or Filters()
    where, params = f.sql()
    cols = {r[1] for r in conn.execute("PRAGMA table_info(sightings)")}
    extra = ", plate_conf, plate_alts" if "plate_conf" in cols else ", NULL, NULL"
    # Plates are few (vehicles whose plate was read): scoring them all is cheap and exact.
    rows = conn.execute(
        f"SELECT id, plate{extra} FROM sightings WHERE plate IS NOT NULL AND {where}", params
    ).fetchall()
    scored = []
    for sid, plate, conf, alts in rows:
        m = best_match(pat, plate, alts)
        if m is not None and m.score > 0:
            scored.append((m.score, conf or 0.0, -sid, m, plate, conf))
    scored.sort(key=lambda t: (t[0], t[1], t[2]), reverse=True)
    scored = scored[:top]
    found = {s.id: s for s in get_sightings(conn, [-t[2] for t in scored])}
    hits = []
    for score, _, nsid, m, plate, conf in scored:
        s = found.get(-nsid)
        if s is not None:
            hits.append(PlateHit(s, score, [explain(pat, m, conf)], plate, conf))
    msg = None if hits else (
        "no sighting has a read plate" if not rows else f"no read plate fits {pat!r}"
    )
    return SearchResult(hits, {"plate": pat}, msg, {"rows_scored": len(rows), "strategy": "plates"})


@dataclass
class PlateHit(Hit):
    """A search hit with its plate, for the `search --plate` JSON contract (search keys plus `plate`)."""

    plate: str = ""
    plate_conf: float | None = None

    def public(self) -> dict:
        return {**super().public(), "plate": self.plate, "plate_confidence": self.plate_conf}
