"""Korean and English text for people, from one message table.

Machine outputs (JSON keys, the `reasons` strings of the CLI contracts, audit detail) stay English; what a
person reads in a table, a report or an explanation is rendered in the chosen language:

- the language is `--lang ko|en` (the global CLI option), else the `RELAYTRACK_LANG` environment variable,
  else Korean when the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`) is Korean (`ko_KR...`), else English;
- `t(msg_id, **fields)` renders one message of `MESSAGES` (Korean, English);
- `tr(text)` renders an English phrase the stages produce (a search, relay or alert reason, a relay stop
  reason) in the current language: each `PHRASES` entry is an English template, read back from the phrase,
  with its words (colours, items, edges, kinds) looked up in `WORDS`. A phrase no template fits is
  returned as it is, so nothing is lost.
"""

from __future__ import annotations

import os
import re
from functools import cache

from relaytrack.describe.colors import PALETTE

LANGS = ("ko", "en")
_current: str | None = None


def set_lang(lang: str | None) -> None:
    """Choose the language for this process (None: back to the environment's)."""
    global _current
    if lang is not None and lang not in LANGS:
        from relaytrack.errors import InputError

        raise InputError(f"--lang {lang!r}: use {' or '.join(LANGS)}")
    _current = lang


def lang() -> str:
    """The language people read: --lang, RELAYTRACK_LANG, a Korean locale, else English."""
    if _current:
        return _current
    env = (os.environ.get("RELAYTRACK_LANG") or "").strip().lower()
    if env in LANGS:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        v = os.environ.get(var)
        if v:
            return "ko" if v.lower().startswith("ko") else "en"
    return "en"


# Message id -> (Korean, English). Fields in braces.
MESSAGES: dict[str, tuple[str, str]] = {
    "time_kst": ("시각(KST)", "time (KST)"),
    "clip_s": ("영상 내 초", "clip s"),
    "sighting": ("목격", "sighting"),
    "camera": ("카메라", "camera"),
    "frames": ("프레임", "frames"),
    "score": ("점수", "score"),
    "reasons": ("근거", "reasons"),
    "query": ("검색 조건", "Query"),
    "confidence": ("신뢰도", "conf"),
    "alternatives": ("다른 후보", "alt"),
    "relay_summary": (
        "{hops}개 구간, 카메라 {cameras}대. 기록한 파일: {files}",
        "{hops} hops over {cameras} cameras; wrote {files}",
    ),
    "nothing": ("없음", "nothing"),
    "stopped": ("{side} 추적 중단: {why}", "{side} stopped: {why}"),
    "forward": ("이후 방향", "forward"),
    "backward": ("이전 방향", "backward"),
    "dead_end": (
        "경로가 카메라 한 대에서 끝났습니다: 출발 목격이 다른 사람(닮은 사람)일 수 있습니다. 다음 검색 결과에서"
        " 다시 추적해 보십시오: {next}",
        "The route ends at one camera: the starting sighting may be a look-alike. Try relaying from the next"
        " search hits: {next}",
    ),
    "dead_end_no_hits": (
        "경로가 카메라 한 대에서 끝났습니다: 출발 목격이 다른 사람(닮은 사람)일 수 있습니다. 검색 결과의 다음"
        " 후보에서 다시 추적해 보십시오(`relaytrack relay --from ID`).",
        "The route ends at one camera: the starting sighting may be a look-alike. Relay again from the next"
        " search hit (`relaytrack relay --from ID`).",
    ),
    "times_note": (
        "시각은 모두 서울 시각(KST, UTC+9)이며 영상 내 초는 작게 표시합니다.",
        "Times are Seoul time (KST, UTC+9); seconds into each clip in small print.",
    ),
}

# English words of the stages' phrases -> Korean (colours, clothing slots, items, vehicles, edges, kinds).
WORDS: dict[str, str] = {
    **PALETTE,  # the clothing colours' Korean names, from the one palette
    "upper": "상의",
    "lower": "하의",
    "backpack": "배낭",
    "handbag": "핸드백",
    "suitcase": "여행 가방",
    "umbrella": "우산",
    "hat": "모자",
    "cap": "모자",
    "helmet": "헬멧",
    "mask": "마스크",
    "bottle": "병",
    "cell phone": "휴대전화",
    "car": "승용차",
    "bus": "버스",
    "truck": "트럭",
    "motorcycle": "오토바이",
    "bicycle": "자전거",
    "type": "차종",
    "colour": "색상",
    "color": "색상",
    "left": "왼쪽",
    "right": "오른쪽",
    "top": "위쪽",
    "bottom": "아래쪽",
    "inside": "화면 안",
    "any": "아무 쪽",
    "person": "사람",
    "vehicle": "차량",
    "exact": "정확히 일치",
    "origin": "출발 목격",
    "confirmed": "확인됨",
    # audit actions: what was done
    "search": "검색",
    "relay": "경로 추적",
    "view": "열람",
    "export": "증거 반출",
    "ingest": "영상 등록",
    "cameras": "카메라 관리",
    "watch": "실시간 감시",
    "alerts": "경보 확인",
    "request": "영상 제공 요청",
    "approve": "요청 승인",
    "case_admin": "사건 관리",
    "user_admin": "사용자 관리",
    "purge": "보존기간 경과 삭제",
    "audit": "감사 기록 열람",
    "audit_export": "감사 기록 반출",
    "stats": "통계 열람",
    "login": "로그인",
    "token_revoke": "토큰 폐기",
}

# English phrase templates -> Korean, most specific first. {w} fields are translated word by word (parts
# joined by ~ / or , each looked up in WORDS); {n} fields are copied (numbers, ids, plates, zone names).
PHRASES: list[tuple[str, str]] = [
    # search reasons (relaytrack.search.score.reasons, search.plate.explain, appearance)
    ("appearance {n} (z {z})", "외모 유사도 {n} (z {z})"),
    ("appearance {n}", "외모 유사도 {n}"),
    ("colour histogram {n}", "색 분포 유사도 {n}"),
    ("vehicle colour {w} ({n})", "차량 색상 {w} ({n})"),
    ("vehicle {w} agrees", "차량 {w} 일치"),
    ("vehicle {w} differs", "차량 {w} 불일치"),
    ("vehicle {w} ({n})", "차량 {w} ({n})"),
    ("plate {n} ~ {p} ({w}; {s}, read with confidence {c})", "번호판 {n} ≈ {p} ({w}; {s}, 판독 신뢰도 {c})"),
    ("plate {n} ~ {p} ({w}; {s})", "번호판 {n} ≈ {p} ({w}; {s})"),
    ("plate {n} ~ {p} ({s})", "번호판 {n} ≈ {p} ({s})"),
    ("plate agrees", "번호판 일치"),
    ("plate differs", "번호판 불일치"),
    ("{w} {v} vs {x} (confusable)", "{w} {v}/{x} (혼동하기 쉬운 색)"),
    ("{w} {v} vs {x}", "{w} {v}, 앞 구간은 {x} (불일치)"),
    ("upper {w} ({n})", "상의 {w} ({n})"),
    ("lower {w} ({n})", "하의 {w} ({n})"),
    # relay hop reasons (relaytrack.relay.terms, relay.candidates, relay.engine)
    ("confirmed by operator", "관제요원이 확인함"),
    ("{w} {v} agrees", "{w} {v} 일치"),
    ("{w} in both", "양쪽 모두 {w}"),
    ("entered by {w} as expected", "예상대로 {w}으로 들어옴"),
    ("entered by {w}, expected {v}", "{w}으로 들어옴 (예상: {v})"),
    ("left by {w} as expected", "예상대로 {w}으로 나감"),
    ("left by {w}, expected {v}", "{w}으로 나감 (예상: {v})"),
    ("travel {n} s (expected {m}±{s})", "이동 {n}초 (예상 {m}±{s}초)"),
    ("via unseen {n}", "보이지 않은 {n} 경유"),
    ("same camera, tracklet resumes {n} s apart", "같은 카메라, {n}초 뒤 다시 보임"),
    ("same camera, tracklet began {n} s apart", "같은 카메라, {n}초 앞서 보임"),
    ("fits between the neighbouring hops", "앞뒤 구간 사이에 들어맞음"),
    # relay stop reasons (relaytrack.relay.search.beam_search)
    ("no candidate", "연결된 카메라에 시간 창 안의 후보가 없음"),
    ("best candidate {n} below {m}", "가장 유력한 후보의 신뢰도 {n}가 기준 {m}보다 낮음"),
    ("reached anchor", "확인된 목격까지 이어짐"),
    ("hop limit {n}", "구간 수 한도 {n}에 도달"),
    # alert reasons (relaytrack.watch.explain)
    ("stopped {n} s at {p}", "{p}에서 {n}초 멈춤"),
    ("bent over ({n})", "허리를 굽힘 ({n})"),
    ("crouched ({n})", "웅크려 앉음 ({n})"),
    ("bent over", "허리를 굽힘"),
    ("crouched", "웅크려 앉음"),
    ("hand into the {p} ({n} frames)", "{p} 안으로 손을 넣음 ({n}프레임)"),
    ("phone raised towards the spot ({n} frames)", "그 자리를 향해 휴대전화를 듦 ({n}프레임)"),
    ("back at the same spot after {n} s", "{n}초 뒤 같은 자리로 돌아옴"),
    ("at night ({n})", "야간 ({n})"),
    ("{o} stop in {m} min", "{m}분 안에 {o}번째 멈춤"),
    ("{w} ({n})", "{w} ({n})"),  # an item of the description: "backpack (0.80)"
]

# Sentence-level phrases the English side of the stop reasons gets (not their raw form).
STOP_EN = {
    "no candidate": "no candidate on the linked cameras within their travel-time windows",
    "reached anchor": "reached the confirmed sighting",
}


def t(msg_id: str, **fields: object) -> str:
    """Message `msg_id` in the current language."""
    ko, en = MESSAGES[msg_id]
    return (ko if lang() == "ko" else en).format(**fields)


def word(w: str) -> str:
    """One English word (or a ~ / , joined group of them) in Korean; unknown words kept."""
    w = w.strip()
    if w in WORDS:
        return WORDS[w]
    for sep in ("~", "/", ", "):
        if sep in w:
            return sep.join(word(p) for p in w.split(sep))
    return w


@cache
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for en, ko in PHRASES:
        parts = re.split(r"(\{\w+\})", en)
        rx = "".join(f"(?P<{p[1:-1]}>.+?)" if p.startswith("{") else re.escape(p) for p in parts)
        out.append((re.compile(f"^{rx}$"), ko))
    return out


def ko(text: str) -> str:
    """An English phrase of the stages in Korean (unchanged when no template fits)."""
    for rx, tmpl in _compiled():
        m = rx.match(text)
        if m:
            g = m.groupdict()
            g = {k: (word(v) if k in ("w", "v", "x") else v) for k, v in g.items()}
            if "o" in g:  # an English ordinal: 2nd -> 2
                g["o"] = re.sub(r"(\d+)(st|nd|rd|th)$", r"\1", g["o"])
            return tmpl.format(**g)
    return word(text) if text in WORDS else text


def tr(text: str) -> str:
    """An English phrase of the stages (reason, stop reason, action) in the current language."""
    return ko(text) if lang() == "ko" else text


def tr_all(texts: list[str]) -> list[str]:
    return [tr(x) for x in texts]


def stop_sentence(side: str, why: str) -> str:
    """Why the relay ended in one direction, as a sentence: "이후 방향 추적 중단: …" / "forward stopped: …"."""
    if lang() == "ko":
        return t("stopped", side=t(side) if side in MESSAGES else side, why=ko(why) if why else "-")
    return t("stopped", side=side, why=STOP_EN.get(why, why) or "-")
