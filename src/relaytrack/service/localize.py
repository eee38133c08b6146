"""What a person reads in the service's answers, in the request's language (issue 19: Korean throughout).

The language of a request is its `lang` query parameter (`ko`/`en`), else its Accept-Language header, else
the process's (`relaytrack serve --lang`, RELAYTRACK_LANG, the locale): `LangMiddleware` sets it for the
request (`relaytrack.i18n.use_lang`), so every message rendered while answering it comes out in that
language. The keys of the API keep their meaning: `reasons`, `stopped`, `detail` of an audit entry stay the
stages' English (machine contracts); the person's text is added beside them (`reasons_text`, `stopped_text`,
`explanation_text`, `summary_text` ...). Errors are the exception: `detail` is the message for the person,
`detail_en` the English original.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from relaytrack.i18n import LANGS, MESSAGES, lang, t, tr, tr_all, use_lang

# API field names -> what a person calls them (validation errors name the field this way).
FIELDS: dict[str, tuple[str, str]] = {
    "text": ("검색어", "description"),
    "top": ("결과 수", "number of results"),
    "time_from": ("시작 시각", "from"),
    "time_to": ("끝 시각", "to"),
    "cameras": ("카메라", "cameras"),
    "kind": ("종류", "kind"),
    "sighting": ("목격 번호", "sighting"),
    "sightings": ("목격 번호", "sightings"),
    "origin": ("출발 목격", "origin"),
    "origins": ("출발 목격", "origins"),
    "hops": ("구간 수", "hops"),
    "direction": ("방향", "direction"),
    "user": ("사용자", "user"),
    "password": ("비밀번호", "password"),
    "hours": ("토큰 유효 시간", "token lifetime"),
    "case_no": ("사건 번호", "case number"),
    "legal_basis": ("법적 근거", "legal basis"),
    "purpose": ("목적", "purpose"),
    "members": ("담당자", "members"),
    "agency": ("기관", "agency"),
    "start": ("시작", "start"),
    "end": ("끝", "end"),
    "drug_related": ("마약 관련", "drug-related"),
    "reason": ("사유", "reason"),
    "note": ("메모", "note"),
    "verdict": ("판정", "verdict"),
    "pursuit_id": ("추적 번호", "pursuit"),
    "outcome": ("처리 결과", "outcome"),
    "export_id": ("반출 번호", "export"),
    "request_id": ("요청 번호", "request"),
    "pre_roll": ("앞 여유 시간", "pre-roll"),
    "post_roll": ("뒤 여유 시간", "post-roll"),
    "file": ("사진 파일", "photo"),
    "status": ("상태", "status"),
    "legal_hold": ("법적 보존", "legal hold"),
    "limit": ("개수", "limit"),
    "before": ("이전 번호", "before"),
    "after": ("이후 번호", "after"),
    "of_case": ("사건 번호", "case"),
    "of_user": ("사용자", "user"),
    "of_action": ("행위", "action"),
    "body": ("보낸 내용", "body"),
}


# ---- the request's language -----------------------------------------------------------------------------


def pick_lang(query_lang: str | None, accept_language: str | None) -> str | None:
    """`lang=` if it names a language, else the Accept-Language entry of highest weight that does."""
    if query_lang and query_lang.strip().lower() in LANGS:
        return query_lang.strip().lower()
    best: tuple[float, str] | None = None
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        if code not in LANGS:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        key = (q - i * 1e-6, code)  # equal weights: the earlier entry wins
        if best is None or key > best:
            best = key
    return best[1] if best else None


class LangMiddleware:
    """Pure ASGI middleware (streams stay streams): the language of each HTTP request for its duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qs

        qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        headers = dict(scope.get("headers") or [])
        chosen = pick_lang(
            (qs.get("lang") or [None])[0], headers.get(b"accept-language", b"").decode("latin-1")
        )
        with use_lang(chosen):
            await self.app(scope, receive, send)


# ---- errors -----------------------------------------------------------------------------------------------


def error_body(status: int, english: str, error: str | None = None) -> dict[str, Any]:
    """An error for the person: the English message rendered in the request's language; where no phrase of
    the message table fits, a plain sentence for the status (the English stays in `detail_en`)."""
    text = tr(english)
    if lang() == "ko" and text == english:
        text = t(f"err_{status}") if f"err_{status}" in MESSAGES else t("err_400")
    body: dict[str, Any] = {"detail": text, "detail_en": english}
    if error:
        body["error"] = error
    return body


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return JSONResponse(error_body(exc.status_code, detail), exc.status_code, headers=exc.headers)


def field_label(loc: tuple | list) -> str:
    """The field an error is about, as a person calls it ("검색어"), else its API name."""
    names = [str(x) for x in loc if isinstance(x, str) and x not in ("body", "query", "path", "header")]
    name = names[-1] if names else "body"
    ko_en = FIELDS.get(name)
    return (ko_en[0] if lang() == "ko" else ko_en[1]) if ko_en else name


_VALIDATION = {
    "missing": "v_missing",
    "string_too_long": "v_too_long",
    "string_too_short": "v_too_short",
    "too_long": "v_list_long",
    "too_short": "v_list_short",
    "greater_than_equal": "v_ge",
    "greater_than": "v_gt",
    "less_than_equal": "v_le",
    "less_than": "v_lt",
    "int_parsing": "v_int",
    "int_type": "v_int",
    "int_from_float": "v_int",
    "float_parsing": "v_number",
    "float_type": "v_number",
    "bool_parsing": "v_bool",
    "bool_type": "v_bool",
    "string_type": "v_text",
    "list_type": "v_list",
    "literal_error": "v_choice",
    "enum": "v_choice",
    "extra_forbidden": "v_extra",
    "json_invalid": "v_json",
}


def validation_message(err: dict[str, Any]) -> str:
    """One pydantic error as a sentence naming the field ("검색어: 500자 이하로 입력하십시오")."""
    ctx = err.get("ctx") or {}
    msg_id = _VALIDATION.get(str(err.get("type")), "v_other")
    n = next(
        (ctx[k] for k in ("max_length", "min_length", "ge", "gt", "le", "lt", "expected") if k in ctx), ""
    )
    return t(msg_id, f=field_label(err.get("loc") or ()), n=n, msg=err.get("msg", ""))


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        e = dict(e)
        e.pop("input", None)  # never echo what was sent (it may be large or hostile)
        e.pop("url", None)
        if "ctx" in e:
            e["ctx"] = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in e["ctx"].items()}
        e["msg_en"] = e.get("msg", "")
        e["msg"] = validation_message(e)
        errors.append(e)
    # `detail` keeps FastAPI's list (loc/type/msg); `message` is the one line a person reads.
    return JSONResponse({"detail": errors, "message": "; ".join(e["msg"] for e in errors)}, 422)


# ---- search, relay, alerts --------------------------------------------------------------------------------


def search_out(out: dict[str, Any], query: Any | None = None) -> dict[str, Any]:
    """A search answer with its reasons and message in the request's language and, for a description, the
    parsed query as a sentence (`parsed`)."""
    if query is not None:
        out["parsed"] = query.human_ko() if lang() == "ko" else query.human()
    out["message_text"] = tr(out["message"]) if out.get("message") else None
    for h in out.get("hits") or []:
        h["reasons_text"] = tr_all(list(h.get("reasons") or []))
    return out


def alert_out(alert: dict[str, Any]) -> dict[str, Any]:
    alert["reasons_text"] = tr_all(list(alert.get("reasons") or []))
    alert["explanation_text"] = tr(alert.get("explanation") or "")
    alert["status_text"] = tr(str(alert.get("status") or ""))
    alert["kind_text"] = tr(str(alert.get("kind") or ""))
    return alert


def pursuit_event_out(ev: dict[str, Any]) -> dict[str, Any]:
    """A pursuit event with what a person reads beside the stages' English: a hand-off's reasons and status,
    why a pursuit ended, a camera's trouble."""
    if ev.get("reasons"):
        ev["reasons_text"] = tr_all([str(r) for r in ev["reasons"]])
    if ev.get("status"):
        ev["status_text"] = tr(str(ev["status"]))
    if ev.get("reason"):
        ev["reason_text"] = tr(str(ev["reason"]))
    return ev


@dataclass(frozen=True)
class Support:
    """How well a route is supported: what an investigator compares routes by."""

    hops: int
    cameras: int
    mean_conf: float
    low_conf: float
    span_s: float
    confirmed: int
    dead_end: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "hops": self.hops,
            "cameras": self.cameras,
            "mean_confidence": round(self.mean_conf, 3),
            "lowest_confidence": round(self.low_conf, 3),
            "span_s": round(self.span_s, 1),
            "confirmed": self.confirmed,
            "dead_end": self.dead_end,
            "text": self.text(),
        }

    def text(self) -> str:
        m, s = divmod(int(round(self.span_s)), 60)
        span = t("span_min", m=m, s=s) if m else t("span_s", s=s)
        return t(
            "support",
            hops=self.hops,
            cameras=self.cameras,
            mean=f"{self.mean_conf:.2f}",
            low=f"{self.low_conf:.2f}",
            span=span,
        )


def support_of(route: dict[str, Any]) -> Support:
    hops = route.get("hops") or []
    found = [h for h in hops if h.get("direction") not in ("origin",)]
    confs = [float(h.get("confidence") or 0.0) for h in found] or [1.0]
    starts = [float(h.get("true_start") or 0.0) for h in hops]
    ends = [float(h.get("true_end") or 0.0) for h in hops]
    return Support(
        hops=len(found),
        cameras=len(set(route.get("cameras") or [])),
        mean_conf=sum(confs) / len(confs),
        low_conf=min(confs),
        span_s=(max(ends) - min(starts)) if hops else 0.0,
        confirmed=sum(1 for h in hops if h.get("confirmed") and h.get("direction") != "origin"),
        dead_end=len(set(route.get("cameras") or [])) <= 1,
    )


def _linked(conn: Any, camera: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT dst FROM camera_links WHERE src = ? ORDER BY dst", (camera,)
    ).fetchall()
    return [str(r[0]) for r in rows]


def _why_stopped(conn: Any, route: dict[str, Any]) -> str:
    """Why a route never left its first camera, in plain words."""
    camera = (route.get("cameras") or ["?"])[0]
    reasons = [str(v) for v in (route.get("stopped") or {}).values() if v]
    low = next((r for r in reasons if r.startswith("best candidate ")), None)
    if low:
        parts = low.split()
        return t("dead_end_why_low", conf=parts[2], min=parts[-1])
    linked = _linked(conn, camera)
    if not linked:
        return t("dead_end_why_none_unlinked", camera=camera)
    return t("dead_end_why_none", camera=camera, linked=", ".join(linked))


def next_candidates(
    conn: Any, route: dict[str, Any], case: str | None, user: str | None, n: int = 3
) -> list[int]:
    """The next best hits to relay from: those ranked after the origin in the case's latest search that
    listed it (relaytrack.relay.deadend), else the people who look most like the origin; never the route's
    own hops nor what the case rejected."""
    from relaytrack.relay.deadend import next_hits

    origin = int(route["origin"])
    skip = {origin, *(int(i) for i in route.get("rejected") or [])}
    skip |= {int(h["sighting"]) for h in route.get("hops") or []}
    nxt = next_hits(conn, origin, case, user, n=n + len(skip)) or next_hits(
        conn, origin, case, n=n + len(skip)
    )
    if not nxt:
        try:
            from relaytrack.search.engine import search_sighting

            nxt = [h.sighting.id for h in search_sighting(conn, origin, top=n + len(skip)).hits]
        except Exception:  # noqa: BLE001 - no embedding, no index: then there is simply no suggestion
            return []
    return [i for i in nxt if i not in skip][:n]


def _sighting_cards(conn: Any, ids: list[int]) -> list[dict[str, Any]]:
    from relaytrack.clock import to_seoul_iso

    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {
        int(r[0]): r
        for r in conn.execute(f"SELECT id, camera_id, wall_start FROM sightings WHERE id IN ({marks})", ids)
    }
    return [
        {
            "sighting": i,
            "camera": rows[i][1],
            "start_time": to_seoul_iso(float(rows[i][2])) if rows[i][2] is not None else None,
            "thumbnail": f"/api/sightings/{i}/thumbnail",
        }
        for i in ids
        if i in rows
    ]


def route_out(
    route: dict[str, Any],
    conn: Any,
    case: str | None,
    user: str | None,
    allowed: Any = None,
) -> dict[str, Any]:
    """A route with its reasons and stop reasons as sentences, its support and, at a dead end, why in plain
    words with the next best candidates (`allowed(ids) -> ids`: the case gate, so a candidate another case
    holds is never offered)."""
    from relaytrack.i18n import stop_sentence

    for h in route.get("hops") or []:
        h["reasons_text"] = tr_all(list(h.get("reasons") or []))
        h["direction_text"] = tr(str(h.get("direction") or ""))
        for alt in h.get("alternatives") or []:
            if isinstance(alt, dict) and alt.get("reasons"):
                alt["reasons_text"] = tr_all(list(alt["reasons"]))
    route["stopped_text"] = [stop_sentence(side, why) for side, why in (route.get("stopped") or {}).items()]
    sup = support_of(route)
    route["support"] = sup.to_dict()
    route["dead_end"] = None
    if sup.dead_end:
        ids = next_candidates(conn, route, case, user)
        if allowed is not None:
            ids = list(allowed(ids))
        route["dead_end"] = {
            "why": _why_stopped(conn, route),
            "advice": t("dead_end_next") if ids else t("dead_end_no_next"),
            "next": _sighting_cards(conn, ids),
        }
    return route


# ---- audit --------------------------------------------------------------------------------------------------


def _ids(ids: list[Any], n: int = 5) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:n])
    return shown + (f" … (+{len(ids) - n})" if len(ids) > n else "")


def _what(e: dict[str, Any]) -> str:
    """What an entry did, as a verb phrase."""
    d, action, ids = e.get("detail") or {}, str(e.get("action")), list(e.get("result_ids") or [])
    endpoint = str(d.get("endpoint") or "")
    if action == "search":
        if d.get("text"):
            return t("a_search_text", q=str(d["text"])[:80])
        if d.get("sighting"):
            return t("a_search_sighting", s=d["sighting"])
        if d.get("bytes") or d.get("image"):
            return t("a_search_photo")
    if action == "relay" and d.get("pursuit") is not None:  # the live pursuit (routers/pursuits.py)
        if d.get("verdict") in ("confirm", "reject"):
            return t(f"a_pursuit_{d['verdict']}", p=d["pursuit"], ids=_ids(ids))
        if endpoint == "POST /api/pursuits":
            return t("a_pursuit_start", p=d["pursuit"], s=d.get("from", "?"))
        if d.get("stop") or endpoint.endswith("/stop"):  # the console's stop or `pursue stop`
            return t("a_pursuit_stop", p=d["pursuit"])
        if endpoint.endswith("/events"):
            return t("a_pursuit_stream", p=d["pursuit"])
        if endpoint.startswith("GET"):
            return t("a_pursuit", p=d["pursuit"], n=d.get("events", 0))
    if action == "relay" and (endpoint == "GET /api/pursuits" or d.get("command") == "pursue list"):
        return t("a_pursuits", n=d.get("pursuits", len(ids)))
    if action == "relay":
        if d.get("verdict") in ("confirm", "reject"):
            return t(f"a_verdict_{d['verdict']}", ids=_ids(ids))
        if d.get("from") is not None:
            return t("a_relay", s=d["from"], n=d.get("hops", len(ids)))
    if action == "view":
        if endpoint.endswith("/folder"):
            return t("a_view_folder", n=d.get("items", 0))
        if d.get("camera"):
            return t("a_view_camera", camera=d["camera"])
        if "/alert/" in endpoint and ids:
            return t("a_view_alert", ids=_ids(ids))
        if ids:
            return t("a_view", ids=_ids(ids))
    if action == "export":
        if endpoint.endswith("/verify"):
            return t("a_export_verify", ids=_ids(ids))
        if endpoint.endswith(("/file", "/download")):
            return t("a_export_file", ids=_ids(ids))
        if endpoint.endswith("/jobs"):
            return t("a_export_job", n=d.get("hops", 0))
        if endpoint.startswith("GET"):
            return t("a_export_list", n=len(ids))
        return t("a_export", n=len(d.get("sightings") or ids))
    if action == "alerts":
        if d.get("verdict"):
            return t("a_alert_verdict", id=_ids(ids).lstrip("#"), v=tr(str(d["verdict"])))
        return t("a_alerts", n=len(ids))
    if action == "login":
        return t("a_login")
    if action == "case_note" and ids:
        return t("a_case_note", id=ids[0])
    return t("a_generic", action=tr(action))


def audit_sentence(e: dict[str, Any], roles: dict[str, str]) -> str:
    """The entry as "누가 어떤 사건으로 무엇을 봤는지": who (with their role), for which case, did or saw what, how many
    results, and whether it was refused."""
    user = e.get("user") or "-"
    role = roles.get(user)
    who = t("audit_who", user=user, role=tr(role)) if role else user
    what = _what(e)
    out = (
        t("audit_case", who=who, case=e["case"], what=what)
        if e.get("case")
        else t("audit_nocase", who=who, what=what)
    )
    n = len(e.get("result_ids") or [])
    d = e.get("detail") or {}
    if e.get("outcome") == "denied":
        out += t("audit_denied", why=tr(str(d.get("reason") or "")))
    elif e.get("outcome") == "error":
        out += t("audit_error", why=tr(str(d.get("error") or "")))
    elif n and e.get("action") == "search":
        out += t("audit_results", n=n)
    return out


def audit_rows(conn: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit rows with `summary_text` (a sentence), `action_text` and `outcome_text` in the request's
    language."""
    roles = {str(r[0]): str(r[1]) for r in conn.execute("SELECT name, role FROM users").fetchall()}
    for e in rows:
        e["summary_text"] = audit_sentence(e, roles)
        e["action_text"] = tr(str(e.get("action")))
        e["outcome_text"] = tr(str(e.get("outcome")))
    return rows
