"""Korean registration-plate grammar: what a plate string may be, and voting over per-character reads.

Formats (spaces and hyphens ignored):
- current:  12가3456 (2 digits) and 123가4567 (3 digits, since 2019): type digits, one class syllable, 4 serial.
- regional: 서울12가3456 / 경기58더8365 (old plates printed the province, 1-2 type digits).
- motorbike: 서울강남가1234 (province, district, class syllable, 4 serial).
- diplomatic: 외교123-456 (외교/영사/준외/준영/국기/협정/대표, 3 + 3 digits).
- military/government: 05육2107, 12국1720 (육/해/공/국/합 in the class position).

The class syllable says the use: private 가..주 (32 syllables), commercial 바사아자 (배 for parcel trucks),
rental 하허호. A read that fits none of these is not a plate, whatever the OCR's confidence.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from relaytrack.errors import InputError

PRIVATE = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주"
COMMERCIAL = "바사아자배"
RENTAL = "하허호"
MILITARY = "육해공국합"
CLASS_SYLLABLES = PRIVATE + COMMERCIAL + RENTAL + MILITARY
REGIONS = (
    "서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원",
    "충북", "충남", "전북", "전남", "경북", "경남", "제주",
)  # fmt: skip
DIPLOMATIC = ("외교", "영사", "준외", "준영", "국기", "협정", "대표")
# Every character a plate may hold: what the reader's charset and the search's wildcards range over.
PLATE_CHARS = "0123456789" + CLASS_SYLLABLES

_REG = "|".join(REGIONS)
_CURRENT_RE = re.compile(rf"(?P<region>{_REG})?(?P<type>\d{{2,3}})(?P<cls>[가-힣])(?P<serial>\d{{4}})")
_MOTO_RE = re.compile(rf"(?P<region>{_REG})(?P<district>[가-힣]{{1,3}}?)(?P<cls>[가-힣])(?P<serial>\d{{4}})")
_DIPLO_RE = re.compile(rf"(?P<cls>{'|'.join(DIPLOMATIC)})(?P<type>\d{{3}})(?P<serial>\d{{3}})")


class PlateError(InputError):
    """The string is not a Korean plate; the message says which rule it breaks."""


@dataclass(frozen=True)
class Plate:
    text: str  # normalised: no spaces or hyphens
    kind: str  # private | commercial | rental | military | motorbike | diplomatic
    fmt: str  # current-2 | current-3 | regional | motorbike | diplomatic
    region: str | None
    type_digits: str
    cls: str
    serial: str


def normalise(text: str) -> str:
    """Spaces, hyphens and dots dropped; Latin letters upper-cased (a typed pattern may hold them)."""
    return re.sub(r"[\s\-.·]", "", text).upper()


def _kind(cls: str) -> str:
    if cls in COMMERCIAL:
        return "commercial"
    if cls in RENTAL:
        return "rental"
    if cls in MILITARY:
        return "military"
    return "private"


def parse_plate(text: str) -> Plate:
    """The plate a string names, or PlateError saying why it is none."""
    s = normalise(text)
    if not s:
        raise PlateError("empty plate")
    if m := _DIPLO_RE.fullmatch(s):
        return Plate(s, "diplomatic", "diplomatic", None, m["type"], m["cls"], m["serial"])
    if m := _CURRENT_RE.fullmatch(s):
        t, cls, region = m["type"], m["cls"], m["region"]
        if cls not in CLASS_SYLLABLES:
            raise PlateError(f"{s}: {cls!r} is not a plate class syllable (private 가-주, 바사아자배, 하허호)")
        if region and len(t) == 3:
            raise PlateError(f"{s}: a region-printed plate has 1-2 type digits, not 3")
        fmt = "regional" if region else f"current-{len(t)}"
        return Plate(s, _kind(cls), fmt, region, t, cls, m["serial"])
    if m := _MOTO_RE.fullmatch(s):
        if m["cls"] not in CLASS_SYLLABLES:
            raise PlateError(f"{s}: {m['cls']!r} is not a plate class syllable")
        return Plate(s, "motorbike", "motorbike", m["region"], "", m["cls"], m["serial"])
    if not re.search(r"[가-힣]", s):
        raise PlateError(f"{s}: no Hangul class syllable (a plate reads like 12가3456)")
    if re.fullmatch(r"\d{2,3}[가-힣]\d{1,3}|\d{2,3}[가-힣]\d{5,}", s):
        raise PlateError(f"{s}: the serial after the syllable has 4 digits")
    if re.fullmatch(r"\d{1}[가-힣]\d{4}|\d{4,}[가-힣]\d{4}", s):
        raise PlateError(f"{s}: 2 or 3 type digits come before the syllable")
    raise PlateError(f"{s}: not a Korean plate format (12가3456, 123가4567, 서울12가3456, 외교123456)")


def is_plate(text: str) -> bool:
    try:
        parse_plate(text)
    except PlateError:
        return False
    return True


@dataclass
class CharRead:
    """One character position of one read: the best character and the OCR's other candidates, all in [0, 1]."""

    char: str
    conf: float
    alternatives: dict[str, float] = field(default_factory=dict)


@dataclass
class PlateRead:
    """One frame's read of one plate, position by position."""

    chars: list[CharRead]
    box: tuple[int, int, int, int] | None = None  # x, y, w, h in the image read

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars)

    @property
    def confidence(self) -> float:
        # The weakest character bounds the plate: one wrong digit is a different car.
        return min((c.conf for c in self.chars), default=0.0)


@dataclass
class PlateVote:
    text: str
    confidence: float
    char_conf: list[float]
    alternatives: list[tuple[str, float]]  # other valid plates and their share of the vote, best first
    frames: int  # reads that agreed with the winning format


def vote(reads: list[PlateRead], *, n_alternatives: int = 3) -> PlateVote | None:
    """The plate a tracklet's reads agree on, or None when no read is a valid plate.

    Reads are grouped by their grammar layout (digits/syllable positions), the layout with the most
    confidence wins, and each position takes the character with the highest summed confidence over the
    group's reads (alternatives counted at their own confidence), so a digit misread in one frame is outvoted
    by the others. The result must itself be a valid plate; the runner-up characters make the alternatives.
    """
    groups: dict[str, list[PlateRead]] = defaultdict(list)
    for r in reads:
        if r.chars and is_plate(r.text):
            groups[_layout(r.text)].append(r)
    if not groups:
        return None
    layout, members = max(groups.items(), key=lambda kv: sum(r.confidence + 1e-3 for r in kv[1]))
    n = len(members[0].chars)
    tallies: list[dict[str, float]] = [defaultdict(float) for _ in range(n)]
    for r in members:
        for i, c in enumerate(r.chars):
            tallies[i][c.char] += c.conf
            for a, p in c.alternatives.items():
                if a != c.char:
                    tallies[i][a] += p
    total = len(members)
    best = [max(t.items(), key=lambda kv: kv[1]) for t in tallies]
    text = "".join(ch for ch, _ in best)
    char_conf = [min(1.0, v / total) for _, v in best]
    alts: list[tuple[str, float]] = []
    # One-character swaps at the least certain positions, kept only when they are plates too.
    for i in sorted(range(n), key=lambda k: char_conf[k]):
        for ch, v in sorted(tallies[i].items(), key=lambda kv: -kv[1]):
            if ch == text[i]:
                continue
            cand = text[:i] + ch + text[i + 1 :]
            if is_plate(cand) and _layout(cand) == layout:
                alts.append((cand, round(min(1.0, v / total), 3)))
    alts.sort(key=lambda a: -a[1])
    if not is_plate(text):  # positions voted apart into a non-plate: fall back to the best single read
        top = max(members, key=lambda r: r.confidence)
        text, char_conf = top.text, [c.conf for c in top.chars]
    return PlateVote(text, min(char_conf), char_conf, alts[:n_alternatives], total)


def _layout(text: str) -> str:
    """A plate's shape: 'd' for a digit, 'H' for a Hangul syllable (12가3456 -> ddHdddd)."""
    return "".join("d" if ch.isdigit() else "H" for ch in text)
