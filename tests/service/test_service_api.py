"""The HTTP API on a throw-away store: auth on every data endpoint, case and role refusals, the
investigation flow (search, relay, confirm, export, audit), requests, alerts, video, hostile input."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from svc_world import PASSWORD, World, build_world, hdr

from relaytrack.bench.service import write_alert
from relaytrack.evidence import audit
from relaytrack.store import Store
from relaytrack.store.db import side_path

PUBLIC = {("POST", "/api/auth/login")}
SIDE_FILES = (".audit-anchor", ".audit-heads")  # the audit chain's anchor and signed-head journal


@pytest.fixture(scope="session")
def pg_world_template(tmp_path_factory, pg_cluster) -> World:
    """The service world built once in a PostgreSQL database, the template of each test's copy."""
    root = tmp_path_factory.mktemp("service-world-pg")
    url = pg_cluster.new_database()
    old = os.environ.get("RELAYTRACK_HOME")
    os.environ["RELAYTRACK_HOME"] = str(root / "home")
    try:
        return build_world(root, url)
    finally:
        if old is None:
            os.environ.pop("RELAYTRACK_HOME", None)
        else:
            os.environ["RELAYTRACK_HOME"] = old


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, world, monkeypatch) -> World:
    """The API on each backend: the conftest's private SQLite copy, or a private copy of the PostgreSQL world
    (CREATE DATABASE ... TEMPLATE, its side files copied along), dropped after the test."""
    if request.param == "sqlite":
        yield world
        return
    cluster = request.getfixturevalue("pg_cluster")
    tmpl = request.getfixturevalue("pg_world_template")
    monkeypatch.setenv("RELAYTRACK_HOME", str(tmpl.home))
    url = cluster.new_database(template=str(tmpl.db).rsplit("/", 1)[1])
    for suffix in SIDE_FILES:
        src = Path(str(side_path(tmpl.db)) + suffix)
        if src.exists():
            shutil.copy(src, Path(str(side_path(url)) + suffix))
    yield World(url, tmpl.home, list(tmpl.suspect), list(tmpl.others), tmpl.held_c2, dict(tmpl.tokens))
    cluster.drop_database(url)


def _fill(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: "C01" if m.group(1) in ("camera_id", "case_no") else "1", path)


def _api_routes(routes):
    # FastAPI keeps included routers as nodes whose original router holds the (prefixed) APIRoutes.
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        elif hasattr(r, "original_router"):
            yield from _api_routes(r.original_router.routes)


def _data_routes(app):
    for r in _api_routes(app.routes):
        if r.include_in_schema:
            for m in r.methods:
                if (m, r.path) not in PUBLIC:
                    yield m, r.path


def _audit(world, **where):
    with Store(world.db) as s:
        rows = s.query(
            "SELECT user_name, case_no, action, outcome, detail, result_ids FROM audit_log ORDER BY seq"
        )
    out = [dict(zip(("user", "case", "action", "outcome", "detail", "ids"), r, strict=True)) for r in rows]
    return [e for e in out if all(e[k] == v for k, v in where.items())]


def test_every_data_endpoint_needs_a_token(app, client, world):
    routes = list(_data_routes(app))
    assert len(routes) >= 35
    for method, path in routes:
        url = _fill(path)
        for headers in (
            {},
            {"Authorization": "Bearer rt_forged_token_abcdefghijklmnopqrstuvwxyz"},
            {"Authorization": "Basic a2ltOnB3"},
        ):
            r = client.request(method, url, headers={**headers, "X-Case": "C-1"}, json={})
            assert r.status_code == 401, (method, url, headers, r.status_code, r.text[:200])
            assert r.headers.get("www-authenticate") == "Bearer"
    # A forged token is refused and the refusal is in the audit chain.
    assert _audit(world, action="token", outcome="denied")


def test_login_me_logout(client, world):
    r = client.post("/api/auth/login", json={"user": "kim", "password": "wrong-password"})
    assert r.status_code == 401
    r = client.post("/api/auth/login", json={"user": "nobody", "password": "x"})
    assert r.status_code == 401 and "wrong user name or password" in r.json()["detail"]
    r = client.post("/api/auth/login", json={"user": "kim", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["role"] == "investigator" and [c["case_no"] for c in body["cases"]] == ["C-1"]
    h = {"Authorization": f"Bearer {body['token']}"}
    me = client.get("/api/me", headers=h).json()
    assert me["user"] == "kim" and "search" in me["permissions"] and "audit" not in me["permissions"]
    assert client.post("/api/auth/logout", headers=h).status_code == 200
    assert client.get("/api/me", headers=h).status_code == 401  # revoked
    assert _audit(world, action="login", outcome="denied")


def test_search_text_parses_ranks_and_logs(client, world):
    r = client.post(
        "/api/search/text", headers=hdr(world, "kim"), json={"text": "빨간 상의에 검은 바지", "top": 5}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "red" in body["parsed"] and "black" in body["parsed"]
    assert [h["sighting"] for h in body["hits"][:4]] == world.suspect
    assert body["hits"][0]["thumbnail"] == f"/api/sightings/{world.suspect[0]}/thumbnail"
    assert any("red" in x for x in body["hits"][0]["reasons"])
    logged = _audit(world, user="kim", case="C-1", action="search", outcome="ok")
    assert json.loads(logged[-1]["ids"])[:4] == world.suspect
    # English gives the same ranking.
    r2 = client.post("/api/search/text", headers=hdr(world, "kim"), json={"text": "red top, black trousers"})
    assert [h["sighting"] for h in r2.json()["hits"][:4]] == world.suspect


@pytest.mark.parametrize(
    ("user", "case", "status"),
    [
        ("kim", None, 403),
        ("kim", "C-2", 403),
        ("kim", "NO-SUCH", 403),
        ("aud", "C-1", 403),
        ("pol", "C-1", 403),
        ("op", "C-1", 200),
        ("sup", "C-1", 200),
        ("lee", "C-2", 200),
    ],
)
def test_search_case_and_role_checks(client, world, user, case, status):
    r = client.post("/api/search/text", headers=hdr(world, user, case), json={"text": "red top"})
    assert r.status_code == status, r.text
    if status == 403:
        assert _audit(world, user=user, action="search", outcome="denied")


def test_case_query_parameter_works_like_header(client, world):
    h = {"Authorization": f"Bearer {world.tokens['kim']}"}
    r = client.post("/api/search/text?case=C-1", headers=h, json={"text": "red top"})
    assert r.status_code == 200


def test_other_cases_evidence_is_refused(client, world):
    sid = world.held_c2
    for url in (
        f"/api/sightings/{sid}",
        f"/api/sightings/{sid}/thumbnail",
        f"/api/video/sighting/{sid}.mjpeg",
    ):
        r = client.get(url, headers=hdr(world, "kim"))
        assert r.status_code == 403, url
        assert "another case" in r.json()["detail"]
    assert client.get(f"/api/sightings/{sid}", headers=hdr(world, "lee", "C-2")).status_code == 200
    # Searches leave it out for C-1 and show it to C-2.
    body = {"text": "blue top, gray trousers", "top": 20}
    assert sid not in [
        h["sighting"]
        for h in client.post("/api/search/text", headers=hdr(world, "kim"), json=body).json()["hits"]
    ]
    assert sid in [
        h["sighting"]
        for h in client.post("/api/search/text", headers=hdr(world, "lee", "C-2"), json=body).json()["hits"]
    ]
    assert client.get("/api/sightings/999999", headers=hdr(world, "kim")).status_code == 403  # unknown id


def test_sighting_thumbnail_and_boxes(client, world):
    sid = world.suspect[1]
    r = client.get(f"/api/sightings/{sid}/thumbnail", headers=hdr(world, "kim"))
    assert (
        r.status_code == 200
        and r.headers["content-type"] == "image/jpeg"
        and r.content[:3] == b"\xff\xd8\xff"
    )
    s = client.get(f"/api/sightings/{sid}", headers=hdr(world, "kim")).json()
    assert s["camera"] == "C02" and s["upper_color"] == "red" and s["boxes"] == 26
    # An <img> cannot send headers: media URLs carry a short-lived grant, never the token itself.
    r = client.get(f"/api/sightings/{sid}/thumbnail?access_token={world.tokens['kim']}&case=C-1")
    assert r.status_code == 401
    grant = client.post("/api/auth/media-grant", headers=hdr(world, "kim")).json()["grant"]
    r = client.get(f"/api/sightings/{sid}/thumbnail", params={"mg": grant, "case": "C-1"})
    assert r.status_code == 200


def test_mjpeg_stream_has_frames_with_boxes(client, world):
    sid = world.suspect[0]
    with client.stream(
        "GET", f"/api/video/sighting/{sid}.mjpeg?speed=16&pad_s=0", headers=hdr(world, "kim")
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("multipart/x-mixed-replace")
        data = b"".join(r.iter_bytes())
    parts = data.count(b"Content-Type: image/jpeg")
    assert parts == 26  # frames 5..30 of the sighting
    import cv2
    import numpy as np

    first = data.index(b"\xff\xd8\xff")
    img = cv2.imdecode(np.frombuffer(data[first : data.index(b"\r\n--", first)], np.uint8), cv2.IMREAD_COLOR)
    # The target's box is drawn in red (BGR ~ (40, 40, 230)) somewhere in the frame.
    red = (img[..., 2] > 180) & (img[..., 0] < 90) & (img[..., 1] < 90)
    assert red.sum() > 20
    r = client.get("/api/video/camera/C03.mjpeg?seconds=1&speed=16", headers=hdr(world, "op"))
    assert r.status_code == 200 and r.content.count(b"Content-Type: image/jpeg") == 10
    assert client.get("/api/video/camera/NOPE.mjpeg", headers=hdr(world, "op")).status_code == 404


def test_relay_confirm_reject_export_audit(client, world, tmp_path):
    h = hdr(world, "kim")
    origin = world.suspect[0]
    r = client.post("/api/relay", headers=h, json={"origin": origin, "hops": 4})
    assert r.status_code == 200, r.text
    route = r.json()
    assert [x["sighting"] for x in route["hops"]] == world.suspect
    assert all(not x["confirmed"] for x in route["hops"])
    for sid in world.suspect[1:3]:
        r = client.post(f"/api/relay/{origin}/confirm", headers=h, json={"sightings": [sid], "hops": 4})
        assert r.status_code == 200, r.text
    route = r.json()
    assert route["anchors"] == world.suspect[1:3]
    assert [x["confirmed"] for x in route["hops"]] == [False, True, True, False]
    # Rejecting the last hop removes it from the re-scored route.
    r = client.post(
        f"/api/relay/{origin}/reject", headers=h, json={"sightings": [world.suspect[3]], "hops": 4}
    )
    assert world.suspect[3] not in [x["sighting"] for x in r.json()["hops"]]
    assert client.get(f"/api/relay/{origin}", headers=h).json()["rejected"] == [world.suspect[3]]
    # The origin cannot be "confirmed"; another case's sighting cannot be pulled in.
    assert (
        client.post(f"/api/relay/{origin}/confirm", headers=h, json={"sightings": [origin]}).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/relay/{origin}/confirm", headers=h, json={"sightings": [world.held_c2]}
        ).status_code
        == 403
    )
    # Export the route: masked clips, signed manifest, verified, listed, logged.
    r = client.post("/api/exports", headers=h, json={"origin": origin, "pre_roll": 0, "post_roll": 0})
    assert r.status_code == 201, r.text
    exp = r.json()
    assert len(exp["hops"]) == 3 and "manifest.json" in exp["files"]
    exports = client.get("/api/exports", headers=h).json()
    assert exports[0]["id"] == exp["export_id"]
    # The package is named, never located: no server path in what the client is told.
    assert exp["package"] == exports[0]["package"] and "/" not in exp["package"]
    assert str(tmp_path) not in r.text and str(tmp_path) not in json.dumps(exports)  # export_root's parent
    v = client.get(f"/api/exports/{exp['export_id']}/verify", headers=h).json()
    assert v["ok"] is True
    f = client.get(f"/api/exports/{exp['export_id']}/file", params={"name": "manifest.json"}, headers=h)
    assert f.status_code == 200 and "files" in f.json()
    for bad in ("../svc.db", "/etc/passwd", "hops/../../x", "..", "a\\b"):
        r = client.get(f"/api/exports/{exp['export_id']}/file", params={"name": bad}, headers=h)
        assert r.status_code == 422, bad
    # Another case cannot read this case's export.
    assert (
        client.get(f"/api/exports/{exp['export_id']}/verify", headers=hdr(world, "lee", "C-2")).status_code
        == 403
    )
    # The auditor sees the export in the case's chain, and the chain verifies.
    chain = client.get("/api/audit/case/C-1", headers=hdr(world, "aud", None)).json()
    assert any(e["action"] == "export" and e["outcome"] == "ok" for e in chain)
    assert any(e["action"] == "relay" and "verdict" in e["detail"] for e in chain)
    assert client.get("/api/audit/verify", headers=hdr(world, "aud", None)).json()["ok"] is True
    assert client.get("/api/audit", headers=hdr(world, "kim")).status_code == 403
    with Store(world.db) as s:
        assert audit.verify(s.conn, s.path).ok


def test_cases_admin(client, world):
    body = {"case_no": "C-9", "legal_basis": "warrant 9", "purpose": "courier watch", "members": ["kim"]}
    assert client.post("/api/cases", headers=hdr(world, "kim"), json=body).status_code == 403
    r = client.post("/api/cases", headers=hdr(world, "sup", None), json=body)
    assert r.status_code == 201 and r.json()["members"] == ["kim"]
    assert client.post("/api/cases", headers=hdr(world, "sup", None), json=body).status_code == 409
    r = client.post("/api/cases/C-9/members", headers=hdr(world, "sup", None), json={"user": "op"})
    assert r.json()["members"] == ["kim", "op"]
    assert (
        client.post(
            "/api/cases/C-9/members", headers=hdr(world, "sup", None), json={"user": "ghost"}
        ).status_code
        == 404
    )
    bad = {**body, "case_no": "C-10", "purpose": "x'; DROP TABLE cases; --"}
    assert client.post("/api/cases", headers=hdr(world, "sup", None), json=bad).status_code == 422
    r = client.post("/api/cases/C-9/status", headers=hdr(world, "sup", None), json={"status": "closed"})
    assert r.json()["status"] == "closed"
    # A closed case refuses searches.
    assert (
        client.post(
            "/api/search/text", headers=hdr(world, "kim", "C-9"), json={"text": "red top"}
        ).status_code
        == 403
    )
    listed = [c["case_no"] for c in client.get("/api/cases", headers=hdr(world, "sup", None)).json()]
    assert listed[0] == "C-9" and sorted(listed) == ["C-1", "C-2", "C-9"]
    assert client.get("/api/users", headers=hdr(world, "kim", None)).status_code == 403


def test_agency_request_lifecycle(client, world):
    req = {
        "agency": "police",
        "purpose": "robbery near C02",
        "cameras": ["C02", "C03"],
        "start": "2026-11-18T00:00:00+09:00",
        "end": "2026-11-18T23:00:00+09:00",
        "drug_related": True,
    }
    assert client.post("/api/requests", headers=hdr(world, "aud"), json=req).status_code == 403
    r = client.post("/api/requests", headers=hdr(world, "pol"), json=req)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert client.post(f"/api/requests/{rid}/approve", headers=hdr(world, "kim"), json={}).status_code == 403
    r = client.post(
        f"/api/requests/{rid}/approve", headers=hdr(world, "sup"), json={"note": "warrant checked"}
    )
    assert r.json()["status"] == "approved"
    r = client.post(
        "/api/exports", headers=hdr(world, "sup"), json={"request_id": rid, "pre_roll": 0, "post_roll": 0}
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/requests/{rid}/deliver", headers=hdr(world, "sup"), json={"export_id": r.json()["export_id"]}
    )
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    assert r.json()["package_path"] and "/" not in r.json()["package_path"]  # a name, not the server's path
    r = client.post(f"/api/requests/{rid}/outcome", headers=hdr(world, "pol"), json={"outcome": "arrest"})
    assert r.json()["outcome"] == "arrest"
    listed = client.get("/api/requests", headers=hdr(world, "pol")).json()
    assert [x["id"] for x in listed] == [rid] and "/" not in listed[0]["package_path"]
    stats = client.get("/api/requests/stats", headers=hdr(world, "aud")).json()
    total = [s for s in stats if s["agency"] == "ALL"]
    assert total and total[0]["delivered"] == 1 and total[0]["arrests"] == 1
    csv = client.get("/api/requests/stats?fmt=csv", headers=hdr(world, "aud"))
    assert csv.text.startswith("month,agency")
    r = client.post(f"/api/requests/{rid}/refuse", headers=hdr(world, "sup"), json={"reason": "too late"})
    assert r.status_code == 422  # delivered requests cannot be refused


def test_alert_wall_and_live_stream(client, world):
    with Store(world.db) as s, s.tx() as conn:
        first = write_alert(
            conn,
            "C02",
            start=1.0,
            end=3.0,
            score=0.91,
            reasons=["stopped 18 s at mailbox"],
            sighting=world.suspect[1],
        )
    alerts = client.get("/api/alerts", headers=hdr(world, "op", None)).json()
    assert alerts[0]["id"] == first and alerts[0]["reasons"] == ["stopped 18 s at mailbox"]
    assert alerts[0]["camera"] == "C02" and alerts[0]["sightings"] == [world.suspect[1]]
    assert client.get("/api/alerts", headers=hdr(world, "aud", None)).status_code == 403

    def later():
        time.sleep(0.8)
        with Store(world.db) as s, s.tx() as conn:
            write_alert(conn, "C03", start=2.0, end=4.0, score=0.7, reasons=["crouched at AC unit"])

    t = threading.Thread(target=later)
    t.start()
    events = []
    with client.stream(
        "GET", "/api/alerts/stream?limit=2&max_s=8&after=" + str(first - 1), headers=hdr(world, "op", None)
    ) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: ") and '"reasons"' in line:
                events.append(json.loads(line[6:]))
    t.join()
    assert [e["reasons"][0] for e in events] == ["stopped 18 s at mailbox", "crouched at AC unit"]
    r = client.post(
        f"/api/alerts/{first}/verdict", headers=hdr(world, "op", None), json={"verdict": "false_alarm"}
    )
    assert r.status_code == 200 and r.json()["status"] == "false_alarm"
    with Store(world.db) as s:
        row = s.one("SELECT verdict, user_name FROM alert_feedback WHERE alert_id=?", (first,))
        assert tuple(row) == ("false_alarm", "op")
    with client.stream(
        "GET", f"/api/video/alert/{first}.mjpeg?speed=16", headers=hdr(world, "op", None)
    ) as r:
        assert r.status_code == 200 and b"image/jpeg" in b"".join(r.iter_bytes())


def test_hostile_input(client, world):
    h = hdr(world, "kim")
    assert (
        client.post("/api/search/text", headers=h, json={"text": "<script>alert(1)</script>"}).status_code
        == 422
    )
    assert client.post("/api/search/text", headers=h, json={"text": "red' OR 1=1 --"}).status_code == 422
    assert client.post("/api/search/text", headers=h, json={"text": "red", "top": 10**9}).status_code == 422
    assert client.post("/api/search/text", headers=h, json={"text": "red", "extra": 1}).status_code == 422
    assert client.get("/api/sightings/99999999999999999999999", headers=h).status_code == 422
    r = client.post(
        "/api/search/photo", headers=h, files={"file": ("x.jpg", b"GIF89a not a photo", "image/jpeg")}
    )
    assert r.status_code == 422 and "not a jpeg or png" in r.json()["detail"]
    big = b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024)
    r = client.post("/api/search/photo", headers=h, files={"file": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413
    assert _audit(world, user="kim", action="search", outcome="denied")
    # Nothing stored changed: still 9 sightings, 2 cases.
    with Store(world.db) as s:
        assert s.one("SELECT COUNT(*) FROM sightings")[0] == 9
        assert s.one("SELECT COUNT(*) FROM cases")[0] == 2


def test_cameras_map_data(client, world):
    cams = client.get("/api/cameras", headers=hdr(world, "op", None)).json()
    assert [c["id"] for c in cams] == ["C01", "C02", "C03", "C04"]
    assert (
        cams[1]["status"] == "recorded"
        and cams[1]["sightings"] == 3
        and cams[1]["purpose"] == "어린이보호구역"
    )
    one = client.get("/api/cameras/C02", headers=hdr(world, "op", None)).json()
    assert [ln["dst"] for ln in one["links_out"]] == ["C03"] and one["sources"][0]["frames"] == 40
    assert client.get("/api/cameras/NOPE", headers=hdr(world, "op", None)).status_code == 404
    assert client.get("/api/cameras", headers=hdr(world, "aud", None)).status_code == 403
    assert len(client.get("/api/links", headers=hdr(world, "op", None)).json()) == 3


def test_console_is_self_contained(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    from relaytrack.service.app import STATIC

    for f in STATIC.rglob("*"):
        if f.is_file() and f.suffix in (".html", ".js", ".css"):
            text = f.read_text(encoding="utf-8")
            # Nothing is loaded from elsewhere (the SVG namespace name is an identifier, not a fetch).
            remote = re.findall(r"(?:src|href|url|fetch|EventSource)\W{1,3}(?:https?:)?//", text)
            assert not remote, f"{f.name} loads a remote resource: {remote}"
            assert "cdn" not in text.lower() and "tile" not in text.lower()
            assert client.get(f"/static/{f.relative_to(STATIC).as_posix()}").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def _models_in(annotation) -> list:
    """The pydantic models an annotation names, at any depth (list[X], X | None, nested fields)."""
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation] + [m for f in annotation.model_fields.values() for m in _models_in(f.annotation)]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def test_every_json_route_declares_its_response_model(tmp_path):
    """The OpenAPI spec documents what a client gets: a JSON route names a pydantic response model (or a list of
    one) whose models all keep undeclared keys (a key a stage adds still reaches the console); a route that
    streams or sends a file names its response class and documents its media type."""
    from fastapi.datastructures import DefaultPlaceholder
    from fastapi.responses import JSONResponse

    from relaytrack.service.app import create_app

    app = create_app(tmp_path / "spec.db", export_root=tmp_path / "exports")
    missing, closed, undocumented = [], [], []
    routes = [r for r in _api_routes(app.routes) if r.include_in_schema]
    assert len(routes) >= 40
    for r in routes:
        name = f"{sorted(r.methods)} {r.path}"
        cls = r.response_class.value if isinstance(r.response_class, DefaultPlaceholder) else r.response_class
        if issubclass(cls, JSONResponse):
            models = _models_in(r.response_model)
            if not models:
                missing.append(name)
            closed += [f"{name}: {m.__name__}" for m in models if m.model_config.get("extra") != "allow"]
        elif not (r.responses.get(200) or {}).get("content"):
            undocumented.append(name)
    assert not missing, f"JSON routes without a response model: {missing}"
    assert not closed, f"response models that would drop keys: {closed}"
    assert not undocumented, f"non-JSON routes without a documented 200 media type: {undocumented}"
    spec = app.openapi()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok and ok.get("content"), f"{method.upper()} {path} documents no success response"
