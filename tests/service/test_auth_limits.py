"""Finding 6 of issue 18 on the HTTP service: failed logins delayed per client (429, never an account
lock-out), one answer for every failed login, no token in any URL (short-lived media grants instead), no
absolute server paths in error messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from svc_world import PASSWORD, hdr

from relaytrack.evidence import throttle
from relaytrack.evidence.auth import User
from relaytrack.service import media
from relaytrack.service.redact import scrub_paths
from relaytrack.store import Store

STATIC = Path(__file__).resolve().parents[2] / "src" / "relaytrack" / "service" / "static"


def _client(app, host: str) -> TestClient:
    """Another client address on the same app (not entered: the `client` fixture owns the app's lifespan)."""
    return TestClient(app, raise_server_exceptions=False, client=(host, 40000))


def test_login_floods_are_delayed_per_client_not_per_account(client, world):
    attacker, desk = _client(client.app, "203.0.113.5"), _client(client.app, "10.0.0.8")
    for _ in range(throttle.FREE_FAILURES + 1):
        r = attacker.post("/api/auth/login", json={"user": "sup", "password": "guess-guess"})
        assert r.status_code == 401
    r = attacker.post("/api/auth/login", json={"user": "sup", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # The supervisor at their own desk logs in: nobody can lock them out.
    r = desk.post("/api/auth/login", json={"user": "sup", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token"].startswith("rt_")


def test_every_failed_login_gets_the_same_answer(client, world):
    with Store(world.db) as s, s.tx() as conn:
        conn.execute("UPDATE users SET password_hash=NULL WHERE name='op'")
        conn.execute("UPDATE users SET active=0 WHERE name='lee'")
    answers = set()
    for user, pw in (("nobody", PASSWORD), ("kim", "wrong-password"), ("op", PASSWORD), ("lee", PASSWORD)):
        c = _client(client.app, f"10.9.0.{len(user)}{len(pw)}")  # a client of its own each: no delay
        r = c.post("/api/auth/login", json={"user": user, "password": pw})
        answers.add((r.status_code, r.json()["detail"]))
    assert len(answers) == 1 and next(iter(answers))[0] == 401


MEDIA = [
    "/api/sightings/{s}/thumbnail",
    "/api/video/sighting/{s}.mjpeg?speed=16",
    "/api/alerts/stream?limit=1",
]


def test_no_token_in_any_url(client, world):
    token, sid = world.tokens["kim"], world.suspect[0]
    for url in [*MEDIA, "/api/me", "/api/sightings/{s}"]:
        u = url.format(s=sid)
        r = client.get(u + ("&" if "?" in u else "?") + f"access_token={token}&case=C-1")
        assert r.status_code == 401, u
    js = "\n".join(p.read_text(encoding="utf-8") for p in STATIC.glob("*.js"))
    assert "access_token" not in js and "mg=" in js and "/api/auth/media-grant" in js


def test_media_grant_opens_media_only_and_ends_with_its_session(client, world):
    sid = world.suspect[0]
    h = hdr(world, "kim")
    grant = client.post("/api/auth/media-grant", headers=h).json()["grant"]
    assert world.tokens["kim"] not in grant
    q = {"mg": grant, "case": "C-1"}
    assert client.get(f"/api/sightings/{sid}/thumbnail", params=q).status_code == 200
    with client.stream("GET", f"/api/video/sighting/{sid}.mjpeg?speed=16&pad_s=0", params=q) as r:
        assert r.status_code == 200
    # Media only: no data route, no new grant, nothing but GET.
    for method, url in (
        ("GET", f"/api/sightings/{sid}"),
        ("GET", "/api/me"),
        ("POST", "/api/auth/media-grant"),
        ("POST", "/api/auth/logout"),
    ):
        assert client.request(method, url, params=q).status_code == 401, url
    # Still the case gate: another case's evidence stays refused.
    assert client.get(f"/api/sightings/{world.held_c2}/thumbnail", params=q).status_code == 403
    # Tampered, expired: refused.
    name, tid, exp, mac = grant.rsplit(".", 3)
    for bad in (f"{name}.{tid}.{int(exp) + 3600}.{mac}", f"lee.{tid}.{exp}.{mac}", grant[:-2] + "00"):
        assert client.get(f"/api/sightings/{sid}/thumbnail", params={**q, "mg": bad}).status_code == 401
    old = media.grant(User("kim", "investigator", None, int(tid)), now=0)
    assert client.get(f"/api/sightings/{sid}/thumbnail", params={**q, "mg": old}).status_code == 401
    # Logging out ends the grant with the token.
    assert client.post("/api/auth/logout", headers=h).status_code == 200
    assert client.get(f"/api/sightings/{sid}/thumbnail", params=q).status_code == 401


ABS = re.compile(r"(?<![\w:/.])/(?:tmp|home|root|var|srv|usr|etc|opt|data|work)/")


def test_error_messages_carry_no_server_paths(client, world):
    sid = world.suspect[0]
    with Store(world.db) as s, s.tx() as conn:
        conn.execute(
            "UPDATE sources SET uri=? WHERE camera_id='C01'", (str(world.db.parent / "gone" / "C01.mp4"),)
        )
    r = client.get(f"/api/video/sighting/{sid}.mjpeg", headers=hdr(world, "kim"))
    assert r.status_code >= 400 and not ABS.search(r.text), r.text
    exp = client.post(
        "/api/exports",
        headers=hdr(world, "kim"),
        json={"sightings": [world.suspect[1]], "pre_roll": 0, "post_roll": 0},
    )
    assert exp.status_code == 201, exp.text
    r = client.get(
        f"/api/exports/{exp.json()['export_id']}/file", params={"name": "../x"}, headers=hdr(world, "kim")
    )
    assert r.status_code == 422 and "relative path" in r.text and not ABS.search(r.text), r.text


@pytest.mark.parametrize(
    "text,want",
    [
        ("/tmp/a/exports/C-1-x: export folder exists", ".../C-1-x: export folder exists"),
        ("inside /srv/rt/exports/p", "inside .../p"),
        ("see POST /api/auth/login", "see POST /api/auth/login"),
        ("rtsp://10.0.0.1/live/1 down", "rtsp://10.0.0.1/live/1 down"),
        ("hops/../../x and 3/4", "hops/../../x and 3/4"),
    ],
)
def test_scrub_paths(text, want):
    assert scrub_paths(text) == want
