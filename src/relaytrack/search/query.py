"""Free-text suspect descriptions (Korean and English) parsed into one structure, `Query`.

The parser is a lexicon plus a few adjacency rules, not a language model: every word it understands is
listed below, so what it did can be shown back to the user and checked. "빨간 상의에 검은 바지, 백팩" and
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
from datetime import datetime, timedelta, timezone
from typing import Any

from relaytrack.describe.colors import NAMES as COLOR_NAMES  # noqa: F401  (part of this module's API)
from relaytrack.describe.colors import PALETTE
from relaytrack.errors import InputError

KST = timezone(timedelta(hours=9))
MAX_TEXT = 500

# (surface forms, category, value). Korean forms match anywhere (words take particles: 상의에, 바지는);
# ASCII forms match whole words only. Longest form wins where forms overlap (검은색 before 은색).
_LEXICON: list[tuple[tuple[str, ...], str, str]] = [
    (
        (
            "빨간",
            "빨강",
            "빨간색",
            "빨강색",
            "붉은",
            "붉은색",
            "적색",
            "레드",
            "red",
            "crimson",
            "scarlet",
            "maroon",
        ),
        "color",
        "red",
    ),
    (
        ("검은", "검은색", "검정", "검정색", "까만", "까만색", "흑색", "블랙", "black", "dark"),
        "color",
        "black",
    ),
    (("흰", "흰색", "하얀", "하얀색", "백색", "화이트", "white", "ivory", "cream"), "color", "white"),
    (("회색", "쥐색", "은색", "그레이", "grey", "gray", "silver", "charcoal"), "color", "gray"),
    (("주황", "주황색", "오렌지", "오렌지색", "orange"), "color", "orange"),
    (
        ("노란", "노랑", "노란색", "노랑색", "황색", "옐로", "옐로우", "yellow", "gold", "golden", "mustard"),
        "color",
        "yellow",
    ),
    (
        (
            "초록",
            "초록색",
            "녹색",
            "연두",
            "연두색",
            "카키",
            "카키색",
            "올리브",
            "그린",
            "green",
            "khaki",
            "olive",
        ),
        "color",
        "green",
    ),
    (
        (
            "파란",
            "파랑",
            "파란색",
            "파랑색",
            "청색",
            "남색",
            "하늘색",
            "곤색",
            "네이비",
            "블루",
            "blue",
            "navy",
            "denim",
            "teal",
        ),
        "color",
        "blue",
    ),
    (("보라", "보라색", "자주색", "퍼플", "purple", "violet", "lilac", "burgundy"), "color", "purple"),
    (("분홍", "분홍색", "핑크", "핑크색", "pink", "magenta"), "color", "pink"),
    (
        ("갈색", "밤색", "고동색", "베이지", "베이지색", "브라운", "brown", "beige", "tan", "camel"),
        "color",
        "brown",
    ),
    (
        (
            "상의",
            "윗옷",
            "웃옷",
            "셔츠",
            "티셔츠",
            "티",
            "자켓",
            "재킷",
            "점퍼",
            "잠바",
            "코트",
            "후드",
            "후드티",
            "맨투맨",
            "패딩",
            "니트",
            "스웨터",
            "블라우스",
            "조끼",
            "가디건",
            "외투",
            "옷",
            "top",
            "shirt",
            "t-shirt",
            "tshirt",
            "tee",
            "jacket",
            "coat",
            "hoodie",
            "hoody",
            "sweater",
            "sweatshirt",
            "jumper",
            "blouse",
            "vest",
            "parka",
            "cardigan",
            "upper",
            "overcoat",
            "windbreaker",
            "clothes",
            "outfit",
        ),
        "upper",
        "",
    ),
    (
        (
            "하의",
            "바지",
            "청바지",
            "치마",
            "스커트",
            "반바지",
            "슬랙스",
            "레깅스",
            "trousers",
            "pants",
            "jeans",
            "skirt",
            "shorts",
            "slacks",
            "leggings",
            "bottoms",
            "lower",
            "chinos",
        ),
        "lower",
        "",
    ),
    (("백팩", "배낭", "책가방", "backpack", "rucksack", "knapsack"), "item", "backpack"),
    (
        ("가방", "핸드백", "숄더백", "크로스백", "토트백", "손가방", "handbag", "bag", "purse", "tote"),
        "item",
        "handbag",
    ),
    (("캐리어", "여행가방", "트렁크", "수트케이스", "suitcase", "luggage", "trolley"), "item", "suitcase"),
    (("우산", "양산", "umbrella"), "item", "umbrella"),
    (
        ("휴대폰", "핸드폰", "휴대전화", "스마트폰", "phone", "cellphone", "smartphone", "mobile"),
        "item",
        "cell phone",
    ),
    (("승용차", "자동차", "택시", "세단", "suv", "car", "sedan", "taxi", "van"), "vehicle", "car"),
    (("버스", "bus"), "vehicle", "bus"),
    (("트럭", "화물차", "트럭차", "truck", "lorry", "pickup"), "vehicle", "truck"),
    (
        ("오토바이", "바이크", "스쿠터", "이륜차", "motorcycle", "motorbike", "scooter", "moped"),
        "vehicle",
        "motorcycle",
    ),
    (("자전거", "bicycle", "bike", "cyclist"), "vehicle", "bicycle"),
    (("차량", "vehicle"), "vehicle", ""),
    (
        (
            "남자",
            "여자",
            "남성",
            "여성",
            "사람",
            "보행자",
            "학생",
            "person",
            "man",
            "woman",
            "pedestrian",
            "guy",
            "boy",
            "girl",
            "male",
            "female",
            "someone",
            "suspect",
        ),
        "person",
        "",
    ),
]
# Words that may stand between a colour and its garment without breaking the pairing.
_FILLER = {
    "색",
    "의",
    "는",
    "은",
    "이",
    "가",
    "을",
    "를",
    "로",
    "으로",
    "색의",
    "색깔",
    "계열",
    "a",
    "an",
    "the",
    "in",
    "is",
    "was",
    "of",
    "colour",
    "color",
    "coloured",
    "colored",
    "wearing",
    "with",
    ":",
    "=",
    "-",
}
# Colour words that are modifiers when another colour follows ("dark blue"); dropped in that case.
_MODIFIER_ONLY = {"dark"}
_IMPLIED_COLOR = {"청바지": "blue", "jeans": "blue", "denim": "blue"}

SEOUL_DISTRICTS: dict[str, tuple[str, ...]] = {
    "종로구": ("종로", "jongno"),
    "중구": ("jung-gu",),
    "용산구": ("용산", "yongsan"),
    "성동구": ("성동", "seongdong"),
    "광진구": ("광진", "gwangjin"),
    "동대문구": ("동대문", "dongdaemun"),
    "중랑구": ("중랑", "jungnang"),
    "성북구": ("성북", "seongbuk"),
    "강북구": ("강북", "gangbuk"),
    "도봉구": ("도봉", "dobong"),
    "노원구": ("노원", "nowon"),
    "은평구": ("은평", "eunpyeong"),
    "서대문구": ("서대문", "seodaemun"),
    "마포구": ("마포", "mapo"),
    "양천구": ("양천", "yangcheon"),
    "강서구": ("강서", "gangseo"),
    "구로구": ("구로", "guro"),
    "금천구": ("금천", "geumcheon"),
    "영등포구": ("영등포", "yeongdeungpo"),
    "동작구": ("동작", "dongjak"),
    "관악구": ("관악", "gwanak"),
    "서초구": ("서초", "seocho"),
    "강남구": ("강남", "gangnam"),
    "송파구": ("송파", "songpa"),
    "강동구": ("강동", "gangdong"),
}


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
                d[key] = datetime.fromtimestamp(d[key], KST).isoformat()
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


@dataclass
class _Tok:
    start: int
    end: int
    cat: str
    value: str
    surface: str


def _build_lexicon() -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    table: dict[str, tuple[str, str]] = {}
    for forms, cat, value in _LEXICON:
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
    return all(w in _FILLER for w in words) and not re.search(r"[,;/.]|그리고|and", text)


def parse_text(text: str, *, now: datetime | None = None) -> Query:
    """Parse a Korean or English description into a Query. Raises InputError on empty or oversize text."""
    if not text or not text.strip():
        raise InputError(
            "empty description: say what the suspect looks like, e.g. '빨간 상의에 검은 바지, 백팩'"
        )
    if len(text) > MAX_TEXT:
        raise InputError(f"description is {len(text)} characters; at most {MAX_TEXT}")
    q = Query(text=text)
    low = text.lower()

    # Absolute times and plates first: their digits must not be read as anything else.
    masked = low
    iso = [m for m in _ISO_RE.finditer(low)]
    stamps = []
    for m in iso:
        s = m.group(0).replace(" ", "T").replace("z", "+00:00")
        dt = datetime.fromisoformat(s)
        stamps.append((dt if dt.tzinfo else dt.replace(tzinfo=KST)).timestamp())
        masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]
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
    pm = _PLATE_RE.search(masked)
    if pm:
        q.plate = "".join(g for g in pm.groups() if g)
        masked = masked[: pm.start()] + " " * (pm.end() - pm.start()) + masked[pm.end() :]
    else:
        pw = _PLATE_WORD_RE.search(masked)
        if pw:
            q.plate = pw.group(1)
            masked = masked[: pw.start(1)] + " " * len(pw.group(1)) + masked[pw.end(1) :]

    for m in _CAMERA_RE.finditer(text):
        ids = m.group(1) or m.group(2)
        for cid in re.split(r"\s*(?:,|and|및|와|과|/)\s*", ids):
            if cid and cid not in q.cameras:
                q.cameras.append(cid)
        masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]

    times = _times(masked)
    if times:
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
            masked = masked[:s] + " " * (e - s) + masked[e:]

    toks = [_Tok(m.start(), m.end(), *_LEX[m.group(0)], m.group(0)) for m in _LEX_RE.finditer(masked)]
    for t in toks:
        if t.cat == "district" and t.value not in q.districts:
            q.districts.append(t.value)
    toks = [t for t in toks if t.cat != "district"]

    # Drop modifiers ("dark" blue, "navy" blue): a colour followed directly by another colour.
    colors = [t for t in toks if t.cat == "color"]
    drop = set()
    for a, b in zip(colors, colors[1:], strict=False):
        if _gap_is_filler(masked[a.end : b.start]) or a.surface in _MODIFIER_ONLY:
            if toks.index(b) == toks.index(a) + 1:
                drop.add(id(a))
    toks = [t for t in toks if id(t) not in drop]

    targets = [t for t in toks if t.cat in ("upper", "lower", "vehicle", "item")]
    owner: dict[int, _Tok] = {}  # colour token id -> target token
    taken: set[int] = set()
    for i, t in enumerate(toks):
        if t.cat != "color":
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        prv = toks[i - 1] if i > 0 else None
        if (
            nxt
            and nxt.cat in ("upper", "lower", "vehicle", "item")
            and id(nxt) not in taken
            and _gap_is_filler(masked[t.end : nxt.start])
        ):
            owner[id(t)] = nxt
            taken.add(id(nxt))
        elif (
            prv
            and prv.cat in ("upper", "lower", "vehicle", "item")
            and id(prv) not in taken
            and _gap_is_filler(masked[prv.end : t.start])
        ):
            owner[id(t)] = prv
            taken.add(id(prv))

    has_person = any(t.cat in ("person", "upper", "lower", "item") for t in toks)
    has_vehicle = any(t.cat == "vehicle" for t in toks) or (q.plate is not None and not has_person)
    for t in targets:
        if t.cat == "vehicle" and t.value and q.vehicle_type is None:
            q.vehicle_type = t.value
        if t.cat == "item" and t.value not in q.items:
            q.items.append(t.value)
    for t in toks:
        if t.cat != "color":
            continue
        tgt = owner.get(id(t))
        slot = tgt.cat if tgt else None
        if (
            slot is None
        ):  # a colour on its own: the vehicle's when describing one, else the top's, then bottom's
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
    for t in targets:  # 청바지 / jeans without a colour word are blue
        if t.cat == "lower" and q.lower is None and t.surface in _IMPLIED_COLOR:
            q.lower = _IMPLIED_COLOR[t.surface]

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
