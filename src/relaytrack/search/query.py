"""Free-text suspect descriptions (Korean and English) parsed into one structure, `Query`.

The parser is a lexicon plus a few adjacency rules, not a language model: every word it understands is
listed in `search.lexicon`, so what it did can be shown back to the user and checked. "빨간 상의에 검은 바지, 백팩" and
"red top, black trousers, backpack" give the same Query.

How colours find their garment: a colour belongs to the garment (or vehicle, or item) right after it
("red top", "빨간 상의"), or failing that to the one right before it ("top in red", "상의는 빨간색"), where
"right" means only spaces and filler words/particles lie between. A colour followed directly by another
colour is a modifier ("navy blue", "dark red") and dropped. A colour that belongs to nothing goes to the
upper garment of a person, or to the vehicle when the description is of a vehicle.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from relaytrack.clock import KST, to_seoul_iso
from relaytrack.describe.colors import NAMES as COLOR_NAMES  # noqa: F401  (part of this module's API)
from relaytrack.describe.colors import PALETTE
from relaytrack.errors import InputError
from relaytrack.search.lexicon import FILLER, IMPLIED_COLOR, LEXICON, MODIFIER_ONLY, SEOUL_DISTRICTS

MAX_TEXT = 500


@dataclass
class Query:
    """What is known about the target. None / empty means "not said" (not "absent")."""

    kind: str | None = None  # person | vehicle
    upper: str | None = None  # palette colour names (English keys)
    lower: str | None = None
    items: list[str] = field(default_factory=list)  # COCO item class names
    vehicle_type: str | None = None  # car | bus | truck | motorcycle | bicycle
    vehicle_color: str | None = None
    plate: str | None = None  # fragment, spaces removed
    time_from: float | None = None  # epoch seconds (absolute window)
    time_to: float | None = None
    tod_from: int | None = None  # seconds after local (KST) midnight: a time-of-day window
    tod_to: int | None = None
    cameras: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    text: str = ""

    def structure(self) -> dict[str, Any]:
        """The parsed content without the original text: equal for equivalent KO/EN descriptions."""
        d = asdict(self)
        d.pop("text")
        return d

    def has_attributes(self) -> bool:
        return bool(
            self.upper or self.lower or self.items or self.vehicle_type or self.vehicle_color or self.plate
        )

    def to_json(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if v not in (None, [], "")}
        for key in ("time_from", "time_to"):
            if key in d:
                d[key] = to_seoul_iso(d[key])
        for key in ("tod_from", "tod_to"):
            if key in d:
                d[key] = f"{d[key] // 3600:02d}:{d[key] % 3600 // 60:02d}"
        return d

    def human(self) -> str:
        """One line for the operator, English with the Korean colour names in brackets."""
        parts = [self.kind or "any kind"]
        if self.upper:
            parts.append(f"upper {self.upper} ({PALETTE.get(self.upper, '')})")
        if self.lower:
            parts.append(f"lower {self.lower} ({PALETTE.get(self.lower, '')})")
        if self.items:
            parts.append("carrying " + ", ".join(self.items))
        if self.vehicle_type or self.vehicle_color:
            parts.append("vehicle " + " ".join(x for x in (self.vehicle_color, self.vehicle_type) if x))
        if self.plate:
            parts.append(f"plate ~{self.plate}")
        j = self.to_json()
        if self.time_from is not None or self.time_to is not None:
            parts.append(f"between {j.get('time_from', 'start')} and {j.get('time_to', 'end')}")
        if self.tod_from is not None:
            parts.append(f"time of day {j['tod_from']}-{j.get('tod_to', '24:00')}")
        if self.cameras:
            parts.append("cameras " + ", ".join(self.cameras))
        if self.districts:
            parts.append("in " + ", ".join(self.districts))
        return " · ".join(parts)

    def human_ko(self) -> str:
        """The same line in Korean, as a sentence for the Korean console and CLI (no raw JSON)."""
        from relaytrack.i18n import word

        who = {"person": "사람", "vehicle": "차량"}.get(self.kind or "", "사람 또는 차량")
        parts = []
        if self.upper:
            parts.append(f"상의 {word(self.upper)}")
        if self.lower:
            parts.append(f"하의 {word(self.lower)}")
        if self.items:
            parts.append(", ".join(word(i) for i in self.items) + " 소지")
        if self.vehicle_type or self.vehicle_color:
            parts.append(" ".join(word(x) for x in (self.vehicle_color, self.vehicle_type) if x))
        if self.plate:
            parts.append(f"번호판 ~{self.plate}")
        j = self.to_json()
        if self.time_from is not None or self.time_to is not None:
            parts.append(f"{j.get('time_from', '처음')}부터 {j.get('time_to', '끝')}까지")
        if self.tod_from is not None:
            parts.append(f"하루 중 {j['tod_from']}-{j.get('tod_to', '24:00')}")
        if self.cameras:
            parts.append("카메라 " + ", ".join(self.cameras))
        if self.districts:
            parts.append(", ".join(self.districts) + "에서")
        return (", ".join(parts) + "인 " if parts else "") + who


@dataclass
class _Tok:
    start: int
    end: int
    cat: str
    value: str
    surface: str


def _build_lexicon() -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    table: dict[str, tuple[str, str]] = {}
    for forms, cat, value in LEXICON:
        for f in forms:
            table[f] = (cat, value)
    for gu, aliases in SEOUL_DISTRICTS.items():
        for f in (gu, *aliases):
            table[f] = ("district", gu)
    alts = []
    for f in sorted(table, key=len, reverse=True):
        esc = re.escape(f)
        alts.append(rf"(?<![a-z]){esc}(?![a-z])" if f.isascii() else esc)
    # A bare 차 (car) only as a word of its own: it is part of 주차, 옷차림, 차이 ...
    alts.append(r"(?<![가-힣])차(?=$|[\s,.;]|[를가는로에와도])")
    table["차"] = ("vehicle", "car")
    return re.compile("|".join(alts)), table


_LEX_RE, _LEX = _build_lexicon()
_PLATE_RE = re.compile(
    r"(?<!\d)(\d{2,3})\s?([가-힣])\s?(\d{1,4})(?!\d)|(?<!\d)(\d{2,3})([가-힣])(?![가-힣\d])"
)
_PLATE_WORD_RE = re.compile(r"(?:번호판|번호|plate|license|licence|reg)\D{0,12}?(\d{3,4})(?!\d)", re.I)
# "3456으로 끝나는" / "ending 3456" / "ends in 3456", and "12가로 시작하는" / "starting 12가": partial plates.
_PLATE_END_RE = re.compile(
    r"(\d{2,4})\s*(?:으로|로)\s*끝나|(?:ending|ends?)\s*(?:in|with)?\s*(\d{2,4})", re.I
)
_PLATE_START_RE = re.compile(r"(\d{2,3}\s?[가-힣]?)\s*(?:으로|로)\s*시작|(?:starting|starts?)\s*(?:with)?\s*(\d{2,3}[가-힣]?)", re.I)
_PLATE_GLOB_RE = re.compile(r"[\d가-힣?*]*[?*][\d가-힣?*]*\d[\d가-힣?*]*|[\d가-힣?*]*\d[\d가-힣?*]*[?*][\d가-힣?*]*")
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?")
_TIME_RE = re.compile(
    r"(?P<ampm_ko>오전|오후|새벽|저녁|밤)?\s*(?P<h>\d{1,2})(?:(?::(?P<m>\d{2}))|\s*시(?:\s*(?P<mk>\d{1,2})\s*분|\s*(?P<half>반))?)"
    r"(?:\s*(?P<ampm_en>am|pm|a\.m\.|p\.m\.))?"
    r"|(?P<h2>\d{1,2})\s*(?P<ampm_en2>am|pm)",
    re.I,
)
_CAMERA_RE = re.compile(
    r"(?:cameras?|cams?|카메라|cctv)\s*[:#]?\s*((?:[A-Za-z][\w-]*\d[\w-]*)(?:\s*(?:,|and|및|와|과|/)\s*[A-Za-z][\w-]*\d[\w-]*)*)"
    r"|([A-Za-z][\w-]*\d[\w-]*)\s*(?:번\s*)?(?:카메라|camera)",
    re.I,
)


def _times(text: str) -> list[tuple[int, int, int]]:
    """Times of day in the text: (seconds after midnight, start, end)."""
    out = []
    for m in _TIME_RE.finditer(text):
        if m.group("h2"):
            h, mi, ampm = int(m.group("h2")), 0, m.group("ampm_en2").lower()
        else:
            ko = m.group("ampm_ko")
            en = (m.group("ampm_en") or "").lower().replace(".", "")
            colon = m.group("m") is not None
            is_si = "시" in m.group(0)
            if not (colon or is_si):
                continue
            h = int(m.group("h"))
            mi = int(m.group("m") or m.group("mk") or (30 if m.group("half") else 0))
            ampm = "pm" if ko in ("오후", "저녁", "밤") or en == "pm" else ("am" if ko or en == "am" else "")
        if ampm == "pm" and h < 12:
            h += 12
        elif ampm == "am" and h == 12:
            h = 0
        if h > 24 or mi > 59:
            continue
        out.append((min(h * 3600 + mi * 60, 86400), m.start(), m.end()))
    return out


def _gap_is_filler(text: str) -> bool:
    words = re.findall(r"[a-z]+|[가-힣]+|[^\s\w]", text.lower())
    return all(w in FILLER for w in words) and not re.search(r"[,;/.]|그리고|and", text)


# Parsing runs as named passes over the text. Absolute times, plates, camera ids and times of day go first,
# each blanking what it read in `masked` (same length as the text, so positions stay valid) so that their
# digits and letters are not read again as anything else; the lexicon passes then read the words left.
_TARGETS = ("upper", "lower", "vehicle", "item")


def _blank(masked: str, start: int, end: int) -> str:
    """`masked` with [start, end) replaced by spaces."""
    return masked[:start] + " " * (end - start) + masked[end:]


def _check_text(text: str) -> None:
    if not text or not text.strip():
        raise InputError(
            "empty description: say what the suspect looks like, e.g. '빨간 상의에 검은 바지, 백팩'"
        )
    if len(text) > MAX_TEXT:
        raise InputError(f"description is {len(text)} characters; at most {MAX_TEXT}")


def _parse_stamps(q: Query, low: str, masked: str) -> str:
    """ISO times: two make a window; one is its start, or its end when "before"/"until" is next to it."""
    iso = list(_ISO_RE.finditer(low))
    stamps = []
    for m in iso:
        s = m.group(0).replace(" ", "T").replace("z", "+00:00")
        dt = datetime.fromisoformat(s)
        stamps.append((dt if dt.tzinfo else dt.replace(tzinfo=KST)).timestamp())
        masked = _blank(masked, m.start(), m.end())
    if len(stamps) >= 2:
        q.time_from, q.time_to = min(stamps), max(stamps)
    elif len(stamps) == 1:
        before = re.search(
            r"(before|until|이전|전까지|까지)",
            low[iso[0].end() : iso[0].end() + 8] + low[: iso[0].start()][-8:],
        )
        if before:
            q.time_to = stamps[0]
        else:
            q.time_from = stamps[0]
    return masked


def _parse_plate(q: Query, masked: str) -> str:
    """A Korean plate (12가3456, or a fragment 12가), a pattern with ? / * ("??가3456"), "ends with 3456"
    ("3456으로 끝나는" -> *3456), "starts with 12가" (-> 12가*), else digits after a plate word ("plate 3456")."""
    for rx, fmt in ((_PLATE_END_RE, "*{}"), (_PLATE_START_RE, "{}*")):
        m = rx.search(masked)
        if m:
            q.plate = fmt.format(next(g for g in m.groups() if g).replace(" ", ""))
            return _blank(masked, m.start(), m.end())
    pg = _PLATE_GLOB_RE.search(masked)
    if pg:
        q.plate = pg.group(0).replace(" ", "")
        return _blank(masked, pg.start(), pg.end())
    pm = _PLATE_RE.search(masked)
    if pm:
        q.plate = "".join(g for g in pm.groups() if g)
        return _blank(masked, pm.start(), pm.end())
    pw = _PLATE_WORD_RE.search(masked)
    if pw:
        q.plate = pw.group(1)
        return _blank(masked, pw.start(1), pw.end(1))
    return masked


def _parse_cameras(q: Query, text: str, masked: str) -> str:
    """Camera ids named as such ("camera A1, B2", "cam3 카메라"), matched on the original case."""
    for m in _CAMERA_RE.finditer(text):
        ids = m.group(1) or m.group(2)
        for cid in re.split(r"\s*(?:,|and|및|와|과|/)\s*", ids):
            if cid and cid not in q.cameras:
                q.cameras.append(cid)
        masked = _blank(masked, m.start(), m.end())
    return masked


def _parse_time_of_day(q: Query, low: str, masked: str) -> str:
    """Times of day: two make a window; one is a start ("after 3pm"), an end ("by 3pm") or its half hour
    either side ("around 2pm")."""
    times = _times(masked)
    if not times:
        return masked
    t0 = times[0][0]
    if len(times) >= 2:
        t1 = times[1][0]
        if t1 < t0 and t1 + 43200 <= 86400:  # "오후 2시부터 3시": the second time keeps the first's pm
            t1 += 43200
        q.tod_from, q.tod_to = t0, t1
    else:
        after = low[times[0][2] : times[0][2] + 10]
        if re.search(
            r"(이후|부터|넘어|after|from|since)", after + low[max(0, times[0][1] - 8) : times[0][1]]
        ):
            q.tod_from, q.tod_to = t0, 86400
        elif re.search(
            r"(이전|까지|전에|before|until|by)", after + low[max(0, times[0][1] - 8) : times[0][1]]
        ):
            q.tod_from, q.tod_to = 0, t0
        else:  # "around 2pm": half an hour either side
            q.tod_from, q.tod_to = max(0, t0 - 1800), min(86400, t0 + 1800)
    for _, s, e in times:
        masked = _blank(masked, s, e)
    return masked


def _parse_districts(q: Query, toks: list[_Tok]) -> list[_Tok]:
    """Seoul districts into q.districts; the other tokens are returned."""
    for t in toks:
        if t.cat == "district" and t.value not in q.districts:
            q.districts.append(t.value)
    return [t for t in toks if t.cat != "district"]


def _drop_modifiers(toks: list[_Tok], masked: str) -> list[_Tok]:
    """Drop modifiers ("dark" blue, "navy" blue): a colour followed directly by another colour."""
    colors = [t for t in toks if t.cat == "color"]
    drop = set()
    for a, b in zip(colors, colors[1:], strict=False):
        if _gap_is_filler(masked[a.end : b.start]) or a.surface in MODIFIER_ONLY:
            if toks.index(b) == toks.index(a) + 1:
                drop.add(id(a))
    return [t for t in toks if id(t) not in drop]


def _colour_owners(toks: list[_Tok], masked: str) -> dict[int, _Tok]:
    """Colour token id -> the garment/vehicle/item it describes: the one right after it, else right before,
    with only filler between; each target takes one colour."""
    owner: dict[int, _Tok] = {}
    taken: set[int] = set()
    for i, t in enumerate(toks):
        if t.cat != "color":
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        prv = toks[i - 1] if i > 0 else None
        if nxt and nxt.cat in _TARGETS and id(nxt) not in taken and _gap_is_filler(masked[t.end : nxt.start]):
            owner[id(t)] = nxt
            taken.add(id(nxt))
        elif (
            prv and prv.cat in _TARGETS and id(prv) not in taken and _gap_is_filler(masked[prv.end : t.start])
        ):
            owner[id(t)] = prv
            taken.add(id(prv))
    return owner


def _parse_targets(q: Query, targets: list[_Tok]) -> None:
    """The first vehicle type, and every item once."""
    for t in targets:
        if t.cat == "vehicle" and t.value and q.vehicle_type is None:
            q.vehicle_type = t.value
        if t.cat == "item" and t.value not in q.items:
            q.items.append(t.value)


def _parse_colours(q: Query, toks: list[_Tok], owner: dict[int, _Tok], has_vehicle: bool) -> None:
    """Each colour fills its owner's slot (first one wins); a colour on its own goes to the vehicle when the
    description is of one, else to the top, then the bottom."""
    for t in toks:
        if t.cat != "color":
            continue
        tgt = owner.get(id(t))
        slot = tgt.cat if tgt else None
        if slot is None:
            if has_vehicle and not any(x.cat in ("upper", "lower") for x in toks):
                slot = "vehicle"
            else:
                slot = "upper" if q.upper is None else "lower"
        if slot == "upper" and q.upper is None:
            q.upper = t.value
        elif slot == "lower" and q.lower is None:
            q.lower = t.value
        elif slot == "vehicle" and q.vehicle_color is None:
            q.vehicle_color = t.value


def _parse_implied_colours(q: Query, targets: list[_Tok]) -> None:
    """청바지 / jeans without a colour word are blue."""
    for t in targets:
        if t.cat == "lower" and q.lower is None and t.surface in IMPLIED_COLOR:
            q.lower = IMPLIED_COLOR[t.surface]


def parse_text(text: str, *, now: datetime | None = None) -> Query:
    """Parse a Korean or English description into a Query. Raises InputError on empty or oversize text."""
    _check_text(text)
    q = Query(text=text)
    low = text.lower()
    masked = _parse_stamps(q, low, low)
    masked = _parse_plate(q, masked)
    masked = _parse_cameras(q, text, masked)
    masked = _parse_time_of_day(q, low, masked)

    toks = [_Tok(m.start(), m.end(), *_LEX[m.group(0)], m.group(0)) for m in _LEX_RE.finditer(masked)]
    toks = _drop_modifiers(_parse_districts(q, toks), masked)
    targets = [t for t in toks if t.cat in _TARGETS]
    owner = _colour_owners(toks, masked)
    has_person = any(t.cat in ("person", "upper", "lower", "item") for t in toks)
    has_vehicle = any(t.cat == "vehicle" for t in toks) or (q.plate is not None and not has_person)
    _parse_targets(q, targets)
    _parse_colours(q, toks, owner, has_vehicle)
    _parse_implied_colours(q, targets)

    if has_vehicle and not any(t.cat in ("person", "upper", "lower") for t in toks):
        q.kind = "vehicle"
    elif has_person:
        q.kind = "person"
    return q


def parse_iso(value: str, what: str = "time") -> float:
    """An ISO time (naive = Asia/Seoul) as epoch seconds; InputError naming the option otherwise."""
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise InputError(
            f"{what}: {value!r} is not an ISO time like 2026-11-25T14:00 or 2026-11-25T14:00+09:00"
        ) from err
    return (dt if dt.tzinfo else dt.replace(tzinfo=KST)).timestamp()
