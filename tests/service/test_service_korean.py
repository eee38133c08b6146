"""Korean throughout (issue 19 item 2): what the Korean console shows holds no English.

Two halves: the console's own labels (static/i18n.js: both languages have every key the pages use, the Korean
side is Korean, roles and states are named as the Python message table names them), and what the server
words for a person when asked in Korean (search reasons, the parsed query, relay reasons, stop reasons and
dead ends, alert reasons, audit sentences, errors naming the field). The browser walkthrough
(test_service_browser.py) scans the rendered pages as well.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from svc_world import CAMS, USERS, hdr

from relaytrack.bench.service import write_alert
from relaytrack.i18n import WORDS, ko
from relaytrack.store import Store

STATIC = Path(__file__).resolve().parents[2] / "src" / "relaytrack" / "service" / "static"
KO = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
# Latin words a Korean page may show: the product's name, codes and units people read as they are, and the
# language switch, which names the other language in that language.
ALLOWED = {"relaytrack", "KST", "UTC", "SHA", "ID", "JSON", "MJPEG", "ZIP", "English"}
DATA = [*USERS, *CAMS, "C-1", "C-2"]  # names and numbers in the data, not words of the interface


def english_words(text: str, data: list[str] = DATA) -> list[str]:
    """Latin words of two letters or more in `text` that are neither data nor allowed."""
    for d in sorted(data, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z]){re.escape(d)}(?![A-Za-z])", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED]


def console_tables() -> dict[str, dict[str, str]]:
    src = (STATIC / "i18n.js").read_text(encoding="utf-8")
    out = {}
    for lang_ in ("ko", "en"):
        block = re.search(rf"\n  {lang_}: \{{(.*?)\n  \}},", src, re.S)
        assert block, f"no {lang_} table in i18n.js"
        out[lang_] = dict(re.findall(r'"([\w.]+)": "((?:[^"\\]|\\.)*)"', block.group(1)))
    return out


def test_console_labels_are_korean_and_complete():
    tables = console_tables()
    assert tables["ko"].keys() == tables["en"].keys()
    bad = {k: v for k, v in tables["ko"].items() if english_words(re.sub(r"\{\w+\}", " ", v))}  # not {fields}
    assert not bad, f"English in the Korean console labels: {bad}"
    used: set[str] = set()
    for name in ("app.js", "search.js", "pursuit.js"):
        js = (STATIC / name).read_text(encoding="utf-8")
        used |= set(re.findall(r'\b(?:t|fill)\("([\w.]+)"', js))
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n(?:-ph|-title)?="([\w.]+)"', html))
    missing = sorted(k for k in used if k not in tables["ko"])
    assert not missing, f"keys the console uses but i18n.js lacks: {missing}"
    # Korean text written straight into the page (before the script runs) is Korean too.
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S))
    assert not english_words(visible), english_words(visible)


def test_console_terms_are_the_message_tables():
    """Roles and states read the same in the console as in the CLI and the server's sentences."""
    ko_ = console_tables()["ko"]
    for key, label in ko_.items():
        group, _, value = key.partition(".")
        if group in ("role", "status") and value in WORDS:
            assert label == WORDS[value], (key, label, WORDS[value])
    assert ko_["role.operator"] == "관제요원" and ko_["role.investigator"] == "수사관"


@pytest.mark.parametrize(
    "english",
    [
        "stopped 18 s at mailbox m1",
        "crouched (knee 80°, torso 40°, height x0.85)",
        "stopped 12 s at AC unit a2, bent over, reached in; 2nd stop in 3 min; at night (23:10)",
        "hand into the gas meter (5 frames)",
        "search refused: user 'kim' is not assigned to case 'C-2'",
        "search refused: no case given (use --case or RELAYTRACK_CASE); searches and exports need a case",
        "token refused: token expired",
        "best candidate 0.12 below 0.25",
        "appearance not scored (store too small to calibrate)",
    ],
)
def test_stage_phrases_have_korean(english):
    assert not english_words(ko(english)), ko(english)


def _strings(obj, keys: tuple[str, ...]) -> list[str]:
    """Every string under the given keys, anywhere in a JSON answer."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in keys:
                out += (
                    [v]
                    if isinstance(v, str)
                    else [x for x in v if isinstance(x, str)]
                    if isinstance(v, list)
                    else []
                )
            out += _strings(v, keys)
    elif isinstance(obj, list):
        for x in obj:
            out += _strings(x, keys)
    return out


PERSON_KEYS = (
    "parsed",
    "message_text",
    "reasons_text",
    "direction_text",
    "stopped_text",
    "text",
    "why",
    "advice",
    "explanation_text",
    "status_text",
    "kind_text",
    "summary_text",
    "action_text",
    "outcome_text",
    "detail",
    "message",
    "msg",
)


def test_korean_answers_hold_no_english(client, world):
    """Search, find-similar, relay (a full route and a dead end), alerts, audit and errors, asked in Korean."""
    h = {**hdr(world, "kim"), **KO}
    seen: list[str] = []
    res = client.post(
        "/api/search/text", json={"text": "빨간 상의에 검은 바지, 백팩", "top": 6}, headers=h
    ).json()
    assert res["parsed"].startswith("상의 빨강") and "{" not in res["parsed"]  # a sentence, not JSON
    assert res["hits"][0]["reasons_text"] and res["hits"][0]["reasons"][0].startswith(
        "upper"
    )  # contract kept
    seen += _strings(res, PERSON_KEYS)
    similar = client.post(
        "/api/search/sighting", json={"sighting": world.suspect[0], "top": 5}, headers=h
    ).json()
    assert similar["hits"], "find similar found nobody"
    seen += _strings(similar, PERSON_KEYS)

    route = client.post("/api/relay", json={"origin": world.suspect[0]}, headers=h).json()
    assert route["support"]["cameras"] == 4 and route["dead_end"] is None
    assert route["stopped_text"] and all("추적 중단" in x for x in route["stopped_text"])
    seen += _strings(route, PERSON_KEYS)

    with Store(world.db) as s:
        lone = s.conn.execute("SELECT id FROM sightings WHERE upper_color = 'gray'").fetchone()[0]
    client.post("/api/search/text", json={"text": "회색 상의에 회색 바지", "top": 6}, headers=h)
    first = client.post("/api/relay", json={"origin": lone}, headers=h).json()
    wrong = [x["sighting"] for x in first["hops"] if x["direction"] != "origin"]
    # The investigator rejects the hops proposed for the lone passer-by: nothing else fits, a dead end.
    dead = client.post(f"/api/relay/{lone}/reject", json={"sightings": wrong}, headers=h).json()
    assert dead["support"]["dead_end"] and dead["dead_end"]["why"] and dead["dead_end"]["next"]
    offered = {c["sighting"] for c in dead["dead_end"]["next"]}
    assert lone not in offered and not offered & set(wrong)  # never the origin nor what was just rejected
    assert world.held_c2 not in [
        c["sighting"] for c in dead["dead_end"]["next"]
    ]  # another case's: never offered
    seen += _strings(dead, PERSON_KEYS)

    with Store(world.db) as s, s.tx() as conn:
        write_alert(
            conn,
            "C03",
            start=1.0,
            end=3.0,
            score=0.9,
            reasons=[
                "stopped 18 s at mailbox m1",
                "crouched (knee 80°, torso 40°)",
                "hand into the mailbox (4 frames)",
            ],
            sighting=world.suspect[2],
        )
    alerts = client.get("/api/alerts", headers={**hdr(world, "op", None), **KO}).json()
    assert alerts[0]["reasons"][0].startswith("stopped") and alerts[0]["reasons_text"][0].startswith("우편함")
    seen += _strings(alerts, PERSON_KEYS)

    errors = [
        client.post("/api/search/text", json={"text": "x" * 600}, headers=h),
        client.post("/api/relay", json={"origin": 0, "hops": 99}, headers=h),
        client.post(
            "/api/search/text", json={"text": "빨간 상의"}, headers={**hdr(world, "kim", "C-2"), **KO}
        ),
        client.post("/api/search/text", json={"text": "빨간 상의"}, headers={**hdr(world, "aud"), **KO}),
        client.get("/api/alerts/999999", headers={**hdr(world, "op", None), **KO}),
        client.get("/api/me", headers=KO),
        client.get("/api/me?lang=ko", headers={"Authorization": "Bearer rt_not-a-real-token-at-all-xyz"}),
        client.post("/api/auth/login", json={"user": "kim", "password": "not-the-password"}, headers=KO),
    ]
    assert [r.status_code for r in errors] == [422, 422, 403, 403, 404, 401, 401, 401]
    assert "검색어" in errors[0].json()["message"]  # the field, named as a person calls it
    assert errors[2].json()["detail_en"].startswith("search refused")  # the English stays beside it
    for r in errors:
        seen += _strings(r.json(), PERSON_KEYS)

    rows = client.get("/api/audit?limit=200", headers={**hdr(world, "sup", None), **KO}).json()
    rows = [r for r in rows if not str(r["user"]).startswith("system:")]  # the test world's own setup entry
    sentences = [r["summary_text"] for r in rows]
    assert any("kim(수사관)" in x and "사건 C-1" in x and "검색" in x for x in sentences), sentences
    seen += _strings(rows, ("summary_text", "action_text", "outcome_text"))

    english = {x: english_words(x) for x in seen if english_words(x)}
    assert not english, f"English reached the Korean console: {english}"


def test_english_when_asked(client, world):
    h = {**hdr(world, "kim"), "Accept-Language": "en-GB,en;q=0.9"}
    res = client.post("/api/search/text", json={"text": "빨간 상의에 검은 바지", "top": 3}, headers=h).json()
    assert res["parsed"].startswith("person") and res["hits"][0]["reasons_text"][0].startswith("upper red")
    bad = client.post(
        "/api/search/text?lang=en", json={"text": "x" * 600}, headers={**hdr(world, "kim"), **KO}
    )
    assert bad.json()["message"] == "description: at most 500 characters"  # lang= wins over the header
