"""Korean and English text for people, from one message table.

Machine outputs (JSON keys, the `reasons` strings of the CLI contracts, audit detail) stay English; what a
person reads in a table, a report or an explanation is rendered in the chosen language:

- the language is `--lang ko|en` (the global CLI option), else the `RELAYTRACK_LANG` environment variable,
  else Korean when the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`) is Korean (`ko_KR...`), else English;
- `t(msg_id, **fields)` renders one message of `MESSAGES` (Korean, English);
- `tr(text)` renders an English phrase the stages produce (a search, relay or alert reason, a relay stop
  reason, an error message) in the current language: each `PHRASES` entry is an English template, read back
  from the phrase, with its words (colours, items, edges, kinds, roles, spots) looked up in `WORDS`. A phrase
  no template fits is returned as it is, so nothing is lost.
- the service sets the language of one request (`use_lang`, from `lang=` or Accept-Language): it wins over the
  process's for that request only (a context variable, so concurrent requests never see each other's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from relaytrack.describe.colors import PALETTE

LANGS = ("ko", "en")
_current: str | None = None
_request: ContextVar[str | None] = ContextVar("relaytrack_request_lang", default=None)


def set_lang(lang: str | None) -> None:
    """Choose the language for this process (None: back to the environment's)."""
    global _current
    if lang is not None and lang not in LANGS:
        from relaytrack.errors import InputError

        raise InputError(f"--lang {lang!r}: use {' or '.join(LANGS)}")
    _current = lang


@contextmanager
def use_lang(lang: str | None) -> Iterator[None]:
    """Within the block (one service request), `lang` wins over the process's language (None: no change)."""
    token = _request.set(lang if lang in LANGS else None)
    try:
        yield
    finally:
        _request.reset(token)


def chosen_lang() -> str | None:
    """The language someone chose for this process (--lang, else RELAYTRACK_LANG); None when nobody did."""
    env = (os.environ.get("RELAYTRACK_LANG") or "").strip().lower()
    return _current or (env if env in LANGS else None)


def lang() -> str:
    """The language people read: the request's (service), --lang, RELAYTRACK_LANG, a Korean locale, else
    English."""
    req = _request.get()
    if req:
        return req
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
    "route_unchanged": (
        "다시 계산한 경로의 목격은 이전 경로와 같습니다.",
        "The re-scored route holds the same sightings as before.",
    ),
    "route_dropped": (
        "목격 #{id} ({camera}, {time}, 신뢰도 {conf})은(는) 더 이상 경로에 없습니다: {why}",
        "#{id} on {camera} at {time} (confidence {conf}) is no longer on the route: {why}",
    ),
    "route_dropped_replaced": (
        "그 구간에서는 목격 #{by} ({camera})이(가) 앞뒤 목격과 더 잘 맞습니다",
        "#{by} on {camera} now fits its neighbours there better",
    ),
    "route_dropped_unreached": (
        "다시 계산한 경로가 그 시각까지 이어지지 않습니다",
        "the re-scored route no longer reaches that time",
    ),
    "route_dropped_skipped": (
        "다시 계산한 경로는 그 앞뒤 목격을 바로 잇습니다",
        "the re-scored route links its neighbours directly",
    ),
    "route_dropped_rejected": (
        "목격 #{id} ({camera})은(는) 제외 요청대로 빠졌습니다.",
        "#{id} on {camera} was rejected, as asked.",
    ),
    "route_added": (
        "목격 #{id} ({camera}, {time}, 신뢰도 {conf})이(가) 경로에 새로 들어왔습니다.",
        "#{id} on {camera} at {time} (confidence {conf}) joins the route.",
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
    # an alert's key frames (relaytrack.watch.alerts.write_keyframes)
    "moment_crouch": ("웅크린 순간", "the crouch"),
    "moment_reach": ("손을 넣은 순간", "the reach"),
    "moment_phone": ("휴대전화를 든 순간", "the phone"),
    "moment_decision": ("경보 판단 시점", "the decision"),
    "moment_stop": ("멈춘 순간", "the stop"),
    # `users list`, `cases list`
    "col_user": ("사용자", "user"),
    "col_role": ("역할", "role"),
    "col_agency": ("기관", "agency"),
    "col_active": ("사용 가능", "active"),
    "col_tokens": ("유효 토큰", "tokens"),
    "col_created": ("등록 시각(KST)", "created (KST)"),
    "col_case": ("사건 번호", "case"),
    "col_basis": ("법적 근거", "legal basis"),
    "col_purpose": ("목적", "purpose"),
    "col_status": ("상태", "status"),
    "col_hold": ("법적 보존", "legal hold"),
    "col_members": ("담당자", "members"),
    "yes": ("예", "yes"),
    "no": ("아니요", "no"),
    # the console and the service (relaytrack.service.localize)
    "similar_to": ("#{sighting}와(과) 비슷한 사람", "People who look like #{sighting}"),
    "dead_end_why_none": (
        "{camera} 다음으로 연결된 카메라({linked})에서 예상 이동 시간 안에 비슷한 사람이 보이지 않았습니다.",
        "No one alike appeared on the cameras linked to {camera} ({linked}) within the expected travel time.",
    ),
    "dead_end_why_none_unlinked": (
        "{camera}에서 이어지는 카메라 연결이 없습니다.",
        "{camera} has no links to other cameras.",
    ),
    "dead_end_why_low": (
        "가장 비슷한 다음 후보의 신뢰도({conf})가 기준({min})보다 낮아 경로를 잇지 않았습니다.",
        "The best next candidate was too unlikely ({conf} below {min}) to continue the route.",
    ),
    "dead_end_next": (
        "출발 목격이 닮은 사람일 수 있습니다. 아래 다음 후보에서 다시 추적해 보십시오.",
        "The starting sighting may be a look-alike. Try relaying from the next candidates below.",
    ),
    "dead_end_no_next": (
        "출발 목격이 닮은 사람일 수 있습니다. 다른 검색 결과에서 다시 추적해 보십시오.",
        "The starting sighting may be a look-alike. Relay again from another search hit.",
    ),
    "support": (
        "구간 {hops}개 · 카메라 {cameras}대 · 평균 신뢰도 {mean} · 최저 {low} · {span}",
        "{hops} hops · {cameras} cameras · mean confidence {mean} · lowest {low} · {span}",
    ),
    "span_min": ("{m}분 {s}초 동안", "over {m} min {s} s"),
    "span_s": ("{s}초 동안", "over {s} s"),
    "audit_who": ("{user}({role})", "{user} ({role})"),
    "audit_case": ("{who}이(가) 사건 {case}로 {what}", "{who} {what} for case {case}"),
    "audit_nocase": ("{who}이(가) {what}", "{who} {what}"),
    "audit_results": (" · 결과 {n}건", " · {n} results"),
    "audit_denied": (" — 거부됨: {why}", " — refused: {why}"),
    "audit_error": (" — 오류: {why}", " — error: {why}"),
    "a_search_text": ("'{q}'(으)로 검색함", "searched for '{q}'"),
    "a_search_sighting": ("목격 #{s}와(과) 비슷한 사람을 찾음", "searched for people like sighting #{s}"),
    "a_search_photo": ("사진으로 검색함", "searched by photo"),
    "a_relay": ("목격 #{s}에서 경로를 추적함 (구간 {n}개)", "relayed from sighting #{s} ({n} hops)"),
    "a_verdict_confirm": ("경로 후보 {ids}을(를) 확인함", "confirmed route candidates {ids}"),
    "a_verdict_reject": ("경로 후보 {ids}을(를) 제외함", "rejected route candidates {ids}"),
    "a_view": ("목격 {ids}의 영상·사진을 봄", "viewed footage of sightings {ids}"),
    "a_view_camera": ("카메라 {camera}의 영상을 봄", "viewed footage of camera {camera}"),
    "a_view_alert": ("경보 {ids}의 영상을 봄", "viewed the clip of alert {ids}"),
    "a_export": ("증거를 반출함 (목격 {n}건)", "exported evidence ({n} sightings)"),
    "a_export_list": ("반출 기록 {n}건을 봄", "listed {n} exports"),
    "a_export_job": ("증거 반출을 시작함 (구간 {n}개)", "started an evidence export ({n} hops)"),
    "a_export_verify": ("반출 증거 {ids}을(를) 검증함", "verified export {ids}"),
    "a_export_file": ("반출 증거 {ids}의 파일을 내려받음", "downloaded a file of export {ids}"),
    "a_alerts": ("경보 {n}건을 봄", "looked at {n} alerts"),
    "a_alert_verdict": ("경보 #{id}에 판정 '{v}'을(를) 내림", "marked alert #{id} '{v}'"),
    "a_login": ("로그인함", "logged in"),
    "a_view_folder": ("사건 폴더를 봄 (기록 {n}건)", "viewed the case folder ({n} items)"),
    "a_case_note": ("사건 메모 #{id}을(를) 남김", "wrote case note #{id}"),
    "a_pursuits": ("실시간 추적 {n}건의 목록을 봄", "listed {n} live pursuits"),
    "a_pursuit": ("실시간 추적 #{p}을(를) 봄 (사건 기록 {n}건)", "viewed live pursuit #{p} ({n} events)"),
    "a_pursuit_stream": ("실시간 추적 #{p}을(를) 실시간으로 지켜봄", "watched live pursuit #{p} live"),
    "a_pursuit_confirm": (
        "실시간 추적 #{p}의 인계 {ids}을(를) 확인함",
        "confirmed hand-off {ids} of live pursuit #{p}",
    ),
    "a_pursuit_reject": (
        "실시간 추적 #{p}의 인계 {ids}을(를) 제외함",
        "rejected hand-off {ids} of live pursuit #{p}",
    ),
    "a_pursuit_start": (
        "목격 #{s}에서 실시간 추적 #{p}을(를) 시작함",
        "started live pursuit #{p} from sighting #{s}",
    ),
    "a_pursuit_stop": ("실시간 추적 #{p}을(를) 중지함", "stopped live pursuit #{p}"),
    "handoff_board": (
        "{camera}에서 {time}에 차량 #{vehicle}에 탐: 이후 경로는 그 차량",
        "got into vehicle #{vehicle} on {camera} at {time}: the route follows the vehicle from there",
    ),
    "handoff_alight": (
        "{camera}에서 {time}에 차량 #{vehicle}에서 내림: 이후 경로는 다시 사람",
        "got out of vehicle #{vehicle} on {camera} at {time}: the route follows the person again",
    ),
    "a_generic": ("{action}", "{action}"),
    "err_400": ("요청을 처리할 수 없습니다.", "The request cannot be processed."),
    "err_401": ("로그인이 필요합니다.", "Please sign in."),
    "err_403": ("권한이 없습니다.", "Not allowed."),
    "err_404": ("찾을 수 없습니다.", "Not found."),
    "err_409": ("지금은 처리할 수 없습니다.", "Cannot be done now."),
    "err_413": ("보낸 파일이나 내용이 너무 큽니다.", "What was sent is too large."),
    "err_422": ("입력값이 올바르지 않습니다.", "Invalid input."),
    "err_429": ("요청이 너무 많습니다. 잠시 후 다시 시도하십시오.", "Too many requests; try again shortly."),
    "err_500": ("서버 오류가 발생했습니다.", "Server error."),
    "err_503": ("저장소가 바쁩니다. 잠시 후 다시 시도하십시오.", "The store is busy; try again shortly."),
    "v_missing": ("{f}: 반드시 입력해야 합니다", "{f}: required"),
    "v_too_long": ("{f}: {n}자 이하로 입력하십시오", "{f}: at most {n} characters"),
    "v_too_short": ("{f}: {n}자 이상 입력하십시오", "{f}: at least {n} characters"),
    "v_list_long": ("{f}: {n}개 이하로 입력하십시오", "{f}: at most {n} items"),
    "v_list_short": ("{f}: {n}개 이상 입력하십시오", "{f}: at least {n} items"),
    "v_ge": ("{f}: {n} 이상이어야 합니다", "{f}: must be at least {n}"),
    "v_gt": ("{f}: {n}보다 커야 합니다", "{f}: must be greater than {n}"),
    "v_le": ("{f}: {n} 이하여야 합니다", "{f}: must be at most {n}"),
    "v_lt": ("{f}: {n}보다 작아야 합니다", "{f}: must be less than {n}"),
    "v_int": ("{f}: 정수를 입력하십시오", "{f}: a whole number is needed"),
    "v_number": ("{f}: 숫자를 입력하십시오", "{f}: a number is needed"),
    "v_bool": ("{f}: 예 또는 아니요여야 합니다", "{f}: true or false is needed"),
    "v_text": ("{f}: 글자로 입력하십시오", "{f}: text is needed"),
    "v_list": ("{f}: 목록이어야 합니다", "{f}: a list is needed"),
    "v_choice": ("{f}: 다음 중 하나여야 합니다: {n}", "{f}: must be one of {n}"),
    "v_extra": ("{f}: 알 수 없는 항목입니다", "{f}: unknown field"),
    "v_json": ("보낸 내용이 올바른 JSON이 아닙니다", "the body is not valid JSON"),
    "v_other": ("{f}: 값이 올바르지 않습니다", "{f}: {msg}"),
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
    "case_note": "사건 메모",
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
    "token_issue": "토큰 발급",
    "token": "토큰 확인",
    "session": "세션 확인",
    "password": "비밀번호 변경",
    "outcome": "처리 결과 기록",
    "deliver": "영상 제공",
    "admin": "관리 작업",
    # roles (the seed's vocabulary)
    "operator": "관제요원",
    "investigator": "수사관",
    "supervisor": "감독자",
    "auditor": "감사관",
    "agency": "기관 사용자",
    # states of cases, requests, alerts and audit entries
    "open": "진행 중",
    "closed": "종결",
    "requested": "접수",
    "approved": "승인",
    "refused": "거절",
    "delivered": "제공 완료",
    "new": "새 경보",
    "acked": "확인함",
    "ack": "확인함",
    "false_alarm": "오경보",
    "ok": "성공",
    "denied": "거부",
    "error": "오류",
    # hiding spots (relaytrack.watch.zones.KIND_LABEL) and the measures of a crouch
    "mailbox": "우편함",
    "AC unit": "에어컨 실외기",
    "bench": "벤치",
    "utility box": "배전함",
    "flower pot": "화분",
    "gas meter": "가스 계량기",
    "stairwell": "계단실",
    "spot": "은닉 장소",
    "knee": "무릎",
    "torso": "상체",
    "height": "키",
    "reached in": "손을 넣음",
    "phone raised": "휴대전화를 듦",
    "then phone raised": "이어서 휴대전화를 듦",
    "courier": "운반책",
    "forward": "이후 구간",  # a hop found after the origin in time
    "backward": "이전 구간",
    "camera_down": "카메라 장애",
}

# English phrase templates -> Korean, most specific first. {w} fields are translated word by word (parts
# joined by ~ / or , each looked up in WORDS); {n} fields are copied (numbers, ids, plates, zone names).
PHRASES: list[tuple[str, str]] = [
    # alert reasons with their measures and spots ({spot}: a hiding-spot label, {d}: "knee 80°, torso 40°")
    ("stopped {n} s at {spot}", "{spot} 앞에서 {n}초 멈춤"),
    ("bent over ({d})", "허리를 굽힘 ({d})"),
    ("crouched ({d})", "웅크려 앉음 ({d})"),
    ("hand into the {spot} ({n} frames)", "{spot} 안으로 손을 넣음 ({n}프레임)"),
    ("camera {n} down: {m}", "카메라 {n} 장애"),
    # reasons without a measure, and why a search found nothing (relay.candidates, search.engine, search.plate)
    ("appearance not scored (no embedding)", "외모 유사도 계산 안 함 (외모 특징 없음)"),
    (
        "appearance not scored (store too small to calibrate)",
        "외모 유사도 계산 안 함 (저장된 목격이 적어 보정 불가)",
    ),
    ("no thumbnail for colour histogram", "사진이 없어 색 분포를 비교하지 못함"),
    ("no sighting matches the description", "설명과 일치하는 목격이 없음"),
    ("the store has no embeddings to compare with", "저장소에 비교할 외모 특징이 없음"),
    (
        "no sighting within the filters has an embedding to compare",
        "조건에 맞는 목격 중 비교할 외모 특징이 있는 것이 없음",
    ),
    ("no sighting has a read plate", "번호판을 읽은 목격이 없음"),
    ("no read plate fits {n}", "{n}에 맞는 번호판이 없음"),
    ("unknown camera(s): {n}", "등록되지 않은 카메라: {n}"),
    (
        "the time window does not overlap the recordings in this store ({n} .. {m})",
        "검색 시간 범위가 저장된 영상의 시간({n} ~ {m})과 겹치지 않음",
    ),
    ("the store holds no sightings yet {n}", "저장소에 아직 목격이 없음 (먼저 영상을 등록하십시오)"),
    (
        "the description {n} names nothing to look for: {m}",
        "설명 {n}에서 찾을 특징을 읽지 못함: 옷 색, 소지품, 차종·차량 색 또는 번호판을 적으십시오 (예: '빨간 상의에 검은 바지, 백팩')",
    ),
    ("wrong password", "비밀번호가 틀림"),
    ("request body over {n} bytes refused", "보낸 내용이 {n}바이트를 넘어 거부됨"),
    # errors of the service and the access checks ({r}: a nested phrase)
    ("routes of case {n} refused: you act for case {m}", "사건 {n}의 경로는 볼 수 없음 (현재 사건: {m})"),
    ("{w} refused: {r}", "{w} 거부: {r}"),
    ("at least {n} characters", "{n}자 이상이어야 함"),
    ("no user given (use --user or RELAYTRACK_USER)", "사용자가 지정되지 않음"),
    ("unknown or inactive user {n}", "등록되지 않았거나 사용이 중지된 사용자 {n}"),
    ("role {w} may not {v}", "{w}에게는 '{v}' 권한이 없음"),
    (
        "no case given (use --case or RELAYTRACK_CASE); searches and exports need a case",
        "사건이 선택되지 않음: 검색, 경로 추적, 열람, 반출은 사건을 먼저 선택해야 함",
    ),
    ("no case given", "사건이 선택되지 않음"),
    ("unknown case {n}", "등록되지 않은 사건 {n}"),
    ("case {n} is {w}", "사건 {n}은(는) {w} 상태임"),
    ("user {n} is not assigned to case {m}", "사용자 {n}은(는) 사건 {m}의 담당자가 아님"),
    ("sighting(s) {n} do not exist", "목격 {n}이(가) 없음"),
    ("sighting(s) {n} belong to another case", "목격 {n}은(는) 다른 사건의 증거임"),
    ("wrong user name or password", "사용자 이름 또는 비밀번호가 틀림"),
    ("unknown user", "등록되지 않은 사용자"),
    ("account disabled", "사용이 중지된 계정"),
    ("account locked for {n} s after {m} failed logins", "로그인 {m}회 실패로 {n}초 동안 계정이 잠김"),
    ("no password set for this account", "이 계정에는 비밀번호가 설정되지 않음"),
    ("malformed token", "형식이 잘못된 토큰"),
    ("unknown or forged token", "알 수 없거나 위조된 토큰"),
    ("token was revoked", "폐기된 토큰 (다시 로그인하십시오)"),
    ("token expired", "만료된 토큰 (다시 로그인하십시오)"),
    ("user is disabled", "사용이 중지된 사용자"),
    ("authentication required: {n}", "로그인이 필요함"),
    ("alert {n} not found", "경보 {n}을(를) 찾을 수 없음"),
    ("alert {n} has no playable clip", "경보 {n}에는 재생할 영상이 없음"),
    ("export {n} not found", "반출 기록 {n}을(를) 찾을 수 없음"),
    ("export {n} belongs to another case", "반출 기록 {n}은(는) 다른 사건의 것임"),
    ("export {n} has no file {m}", "반출 기록 {n}에 파일 {m}이(가) 없음"),
    ("sighting {n} has no thumbnail", "목격 {n}의 사진이 없음"),
    ("sighting {n} has no recorded source to play", "목격 {n}의 원본 영상이 없음"),
    ("camera {n} has no recorded source", "카메라 {n}에 녹화된 영상이 없음"),
    ("case {n} already exists", "사건 {n}이(가) 이미 있음"),
    (
        "no route from sighting {n} in case {m}: run the relay first",
        "사건 {m}에 목격 {n}에서 시작한 경로가 없음: 먼저 경로 추적을 실행하십시오",
    ),
    ("no route from sighting {n} in case {m}", "사건 {m}에 목격 {n}에서 시작한 경로가 없음"),
    ("no sighting {n} in this store", "목격 {n}이(가) 저장소에 없음"),
    ("sighting {n} has no embedding to search with", "목격 {n}에는 비교할 외모 특징이 없음"),
    ("time window ends before it starts (--from is after --to)", "시간 범위의 끝이 시작보다 앞섬"),
    ("description is {n} characters; at most {m}", "설명이 {n}자임 (최대 {m}자)"),
    ("store busy, try again ({n})", "저장소가 바쁨: 잠시 후 다시 시도하십시오"),
    ("user {n} not found", "사용자 {n}을(를) 찾을 수 없음"),
    ("case {n} not found", "사건 {n}을(를) 찾을 수 없음"),
    ("pursuit {n} not found", "실시간 추적 {n}을(를) 찾을 수 없음"),
    ("pursuit {n} belongs to another case", "실시간 추적 {n}은(는) 다른 사건의 것임"),
    ("sighting {n} is not a hand-off of pursuit {m}", "목격 {n}은(는) 실시간 추적 {m}의 인계가 아님"),
    (
        "pursuit {n} is {r}: a verdict is applied only while it runs",
        "실시간 추적 {n}은(는) 이미 끝남 ({r}): 판정은 추적 중에만 반영됨",
    ),
    # starting and stopping a pursuit from the console (service/routers/pursuits.py, service/pursuit_runs.py)
    (
        "pursuit {n} is {r}: only a running pursuit can be stopped",
        "실시간 추적 {n}은(는) 추적 중이 아님 ({r}): 추적 중인 것만 중지할 수 있음",
    ),
    (
        "stale (no heartbeat for {n} s: its process is gone)",
        "응답 없음 ({n}초 동안 신호 없음: 추적 프로세스가 멈춤)",
    ),
    ("pursuit {n} is already being stopped (asked by {m})", "실시간 추적 {n}은(는) 이미 중지 요청됨 ({m})"),
    (
        "the body's case {n} is not the case of the request ({m})",
        "본문의 사건 {n}이(가) 요청의 사건({m})과 다름",
    ),
    (
        "this service has no cameras file for pursuits: start it with `relaytrack serve --cameras FILE`",
        "이 서비스에는 실시간 추적용 카메라 파일이 없음: `relaytrack serve --cameras 파일`로 시작하십시오",
    ),
    ("the service's cameras file {n} cannot be used: {r}", "서비스의 카메라 파일 {n}을(를) 쓸 수 없음: {r}"),
    (
        "{n} pursuits already run in this service: stop one before starting another",
        "이 서비스에서 실시간 추적 {n}건이 이미 진행 중: 하나를 중지한 뒤 시작하십시오",
    ),
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
    # person <-> vehicle hand-offs (relaytrack.relay.boarding)
    ("got into the {w} ({n} person heights away)", "{w}에 탐 (사람 키의 {n}배 거리)"),
    ("got out of the {w} ({n} person heights away)", "{w}에서 내림 (사람 키의 {n}배 거리)"),
    ("vanished inside the view", "화면 안에서 사라짐"),
    ("appeared inside the view", "화면 안에서 나타남"),
    ("track ended at the {w} edge", "{w} 가장자리에서 추적이 끝남"),
    ("track began at the {w} edge", "{w} 가장자리에서 추적이 시작됨"),
    ("the {w} moved off {n} s later", "{n}초 뒤 {w} 출발"),
    ("the {w} stopped {n} s before", "{n}초 전에 {w} 정차"),
    ("the {w}'s track ended {n} s later", "{n}초 뒤 {w} 추적이 끝남"),
    ("the {w}'s track began {n} s before", "{n}초 전에 {w} 추적이 시작됨"),
    # relay stop reasons (relaytrack.relay.search.beam_search)
    ("no candidate", "연결된 카메라에 시간 창 안의 후보가 없음"),
    ("best candidate {n} below {m}", "가장 유력한 후보도 신뢰도 {n}(으)로 기준 {m}에 못 미침"),
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
    # innocent patterns and the issue-22 cues (relaytrack.watch.innocent, watch.signals)
    ("went in at a door right after (lowered)", "멈춘 직후 그 건물 문으로 들어감 (낮춤)"),
    (
        "round of {n} short stops, median {m} s (postman pattern, lowered)",
        "짧은 멈춤 {n}곳 연속, 중앙값 {m}초 (우편배달 순회 유형, 낮춤)",
    ),
    ("brief stop, no photo (lowered)", "짧게 멈추고 사진 촬영 없음 (낮춤)"),
    (
        "stayed {n} s without a hand into the spot (lingering, lowered)",
        "{n}초 머물렀으나 그 자리에 손을 넣지 않음 (서성임·흡연 유형, 낮춤)",
    ),
    ("looked around ({n} head turns)", "주위를 살핌 (고개 돌림 {n}회)"),
    (
        "the spot looks different after they left ({n} % of it changed)",
        "떠난 뒤 그 자리 모습이 달라짐 ({n}% 변화)",
    ),
    # live pursuit hand-off reasons and ends (relaytrack.pursue.handoff, pursue.run)
    (
        "arrived {n} s after {c} (expected {m}±{s} via {p})",
        "{c}에서 {n}초 뒤 나타남 (예상 {m}±{s}초, {p} 경유)",
    ),
    ("arrived {n} s after {c} (expected {m}±{s})", "{c}에서 {n}초 뒤 나타남 (예상 {m}±{s}초)"),
    ("{n} was not predicted", "{n}은(는) 예측된 카메라가 아님"),
    ("{n} predicted next at p {m}", "{n}이(가) 다음 카메라로 예측됨 (확률 {m})"),
    ("rejected by the operator", "관제요원이 제외함"),
    ("stopped by the operator", "관제요원이 중지함"),
    ("could not start: {r}", "시작하지 못함: {r}"),
    ("stale", "응답 없음"),
    ("lost", "용의자를 놓침"),
    ("stopped", "중지됨"),
    ("running", "추적 중"),
    ("ended", "종료"),
    ("auto", "자동 인계"),
    ("offered", "확인 요청"),
    ("rejected", "제외됨"),
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
    """One English word (or a ~ / , joined group of them) in Korean; unknown words kept. A quoted word
    ('investigator', as errors quote names) is looked up without its quotes."""
    w = w.strip()
    if len(w) > 1 and w[0] == w[-1] and w[0] in "'\"" and w[1:-1] in WORDS:
        return WORDS[w[1:-1]]
    if w in WORDS:
        return WORDS[w]
    for sep in ("~", "/", ", "):
        if sep in w:
            return sep.join(word(p) for p in w.split(sep))
    return w


def spot(label: str) -> str:
    """A hiding spot's label ("AC unit z3") with its kind in Korean ("에어컨 실외기 z3")."""
    for kind in sorted((k for k in WORDS if " " in k or k.islower()), key=len, reverse=True):
        if label == kind or label.startswith(kind + " "):
            return WORDS[kind] + label[len(kind) :]
    return label


def _measures(text: str) -> str:
    """Words inside a list of measures ("knee 80°, torso 40°, height x0.85") in Korean."""
    text = re.sub(r"\bx(?=\d)", "×", text)
    return re.sub(r"[A-Za-z]+(?: [A-Za-z]+)*", lambda m: WORDS.get(m.group(0), m.group(0)), text)


@cache
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for en, ko in PHRASES:
        parts = re.split(r"(\{\w+\})", en)
        rx = "".join(f"(?P<{p[1:-1]}>.+?)" if p.startswith("{") else re.escape(p) for p in parts)
        out.append((re.compile(f"^{rx}$", re.S), ko))
    return out


def _field(name: str, value: str) -> str:
    if name in ("w", "v", "x"):
        return word(value)
    if name == "r":  # a phrase inside a phrase (an error's reason)
        return ko(value)
    if name == "spot":
        return spot(value)
    if name == "d":
        return _measures(value)
    if name == "o":  # an English ordinal: 2nd -> 2
        return re.sub(r"(\d+)(st|nd|rd|th)$", r"\1", value)
    return value


def _split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += ch in "([" and 1 or 0
        depth -= ch in ")]" and 1 or 0
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    return [*parts, text[start:]]


def ko(text: str) -> str:
    """An English phrase of the stages in Korean (unchanged when no template fits). A list of phrases joined
    by "; " or ", " (an alert's one-line explanation) is rendered phrase by phrase when every phrase is."""
    for sep in ("; ", ", "):
        parts = _split_top(text, sep)
        if len(parts) > 1:
            out = [ko(x) for x in parts]
            if all(o != x or not re.search("[A-Za-z]", x) for o, x in zip(out, parts, strict=True)):
                return sep.join(out)
            break
    for rx, tmpl in _compiled():
        m = rx.match(text)
        if m:
            return tmpl.format(**{k: _field(k, v) for k, v in m.groupdict().items()})
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
