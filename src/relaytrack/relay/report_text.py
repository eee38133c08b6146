"""The words of the HTML route report and its map, Korean and English (the report's part of the message
table: relaytrack.i18n holds the rest and chooses the language; `rt` renders in it)."""

from __future__ import annotations

from relaytrack.i18n import lang

REPORT: dict[str, tuple[str, str]] = {
    "title": ("경로 추적 보고서", "Relay route"),
    "title_from": ("목격 #{origin}에서 추적한 경로", "Relay route from #{origin}"),
    "summary": (
        "출발 목격 #{origin}{case}. 구간 {hops}개, 카메라 {cameras}대. {stopped}.",
        "Origin sighting #{origin}{case}; {hops} hops over {cameras} cameras. {stopped}.",
    ),
    "case": (", 사건 {case}", ", case {case}"),
    "generated": (
        "작성 시각 {now}. 인터넷 없이 열리는 문서입니다(지도 타일·스크립트 없음).",
        "Generated {now}. Works offline: no map tiles, no scripts.",
    ),
    "map": ("지도", "Map"),
    "timeline": ("시간 흐름", "Timeline"),
    "hops": ("구간", "Hops"),
    "col_no": ("순번", "#"),
    "col_thumb": ("사진", "thumbnail"),
    "col_camera": ("카메라", "camera"),
    "col_time": ("시각(KST)", "time (KST)"),
    "col_conf": ("신뢰도", "confidence"),
    "col_found": ("찾은 방식", "found"),
    "col_reasons": ("근거", "evidence"),
    "col_alts": ("다른 후보", "alternatives"),
    "no_thumb": ("사진 없음", "no thumbnail"),
    "confirmed": ("확인됨", "confirmed"),
    "via": ("경유 {cams}", "via {cams}"),
    "frames": ("프레임 {a}-{b}", "frames {a}-{b}"),
    "clip": ("영상 내 {a}-{b}초", "{a}-{b} s into the clip"),
    "hop_title": (
        "구간 {k}: 목격 #{s}, 신뢰도 {c}",
        "hop {k}: sighting {s}, confidence {c}",
    ),
    "sighting_alt": ("목격 #{s}", "sighting {s}"),
    # the map
    "no_cameras": (
        "저장소에 카메라 위치가 없어 지도를 그리지 않았습니다.",
        "No camera positions in the store: map not drawn.",
    ),
    "no_base": (
        "행정구역 경계 파일이 없어 카메라만 표시합니다 (RELAYTRACK_BOUNDARIES로 경계 폴더를 지정하십시오).",
        "No boundary files: cameras only (point RELAYTRACK_BOUNDARIES at the boundary folder).",
    ),
    "base_note": (
        "배경: 서울시 구·동 경계 (통계청 2013 센서스 경계, 간략화). 경로 주변만 표시.",
        "Base layer: Seoul district and dong boundaries (KOSTAT 2013 census, simplified), around the route only.",
    ),
    "route_legend": (
        "경로 (화살표: 이동 방향, 번호·시각: 구간)",
        "route (arrows: direction; number, time: hop)",
    ),
    "map_title": ("경로 지도", "Route map"),
    "purpose_none": ("목적 미상", "purpose unknown"),
    "north": ("북", "N"),
}

# Camera purposes (the register's Korean terms, relay.netfile.PURPOSES) in English, and their map colours
# (the console's static/map.js uses the same).
PURPOSE_EN = {
    "방범": "crime prevention",
    "어린이보호구역": "school zone",
    "도시공원·놀이터": "park, playground",
    "쓰레기무단투기": "illegal dumping",
    "시설안전·화재예방": "facility safety, fire",
    "교통단속": "traffic enforcement",
    "교통정보수집": "traffic information",
    "기타": "other",
}
PURPOSE_COLOURS = {
    "방범": "#d1495b",
    "어린이보호구역": "#edae49",
    "도시공원·놀이터": "#66a182",
    "쓰레기무단투기": "#8d6a9f",
    "시설안전·화재예방": "#e07a5f",
    "교통단속": "#30638e",
    "교통정보수집": "#00798c",
    "기타": "#6c757d",
}
NO_PURPOSE_COLOUR = "#a0a0a0"


def rt(msg_id: str, **fields: object) -> str:
    """A report message in the current language."""
    ko, en = REPORT[msg_id]
    return (ko if lang() == "ko" else en).format(**fields)


def purpose_name(purpose: str | None) -> str:
    if not purpose:
        return rt("purpose_none")
    return purpose if lang() == "ko" else PURPOSE_EN.get(purpose, purpose)


def purpose_colour(purpose: str | None) -> str:
    return PURPOSE_COLOURS.get(purpose or "", NO_PURPOSE_COLOUR)
