"""Finding 4 of issue 18 on the HTTP service: every route that reads footage-derived data, walked as each role,
refuses or leaves out another case's evidence through the one gate (relaytrack.evidence.access), and every
refusal is in the audit log. World: C-1 (kim, op, pol, aud), C-2 (lee) holding `held_c2` (the blue passer-by
on C04); sup is a supervisor acting for C-1."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from svc_world import hdr

from relaytrack.bench.service import write_alert
from relaytrack.evidence import access as acc
from relaytrack.store import Store

ROLES_ON_C1 = ["kim", "op", "pol", "sup", "aud"]


def denied(world, user: str) -> int:
    with Store(world.db) as s:
        return s.one("SELECT COUNT(*) FROM audit_log WHERE outcome='denied' AND user_name=?", (user,))[0]


def _reads(held: int, free: int) -> list[tuple[str, str, dict | None]]:
    """(method, url, json body) of every route that reads sighting `held` by id."""
    return [
        ("GET", f"/api/sightings/{held}", None),
        ("GET", f"/api/sightings/{held}/boxes", None),
        ("GET", f"/api/sightings/{held}/thumbnail", None),
        ("GET", f"/api/video/sighting/{held}.mjpeg", None),
        ("POST", "/api/search/sighting", {"sighting": held}),
        ("POST", "/api/relay", {"origin": held, "hops": 2}),
        ("GET", f"/api/relay/{held}", None),
        ("POST", f"/api/relay/{free}/confirm", {"sightings": [held], "hops": 2}),
        ("POST", f"/api/relay/{free}/reject", {"sightings": [held], "hops": 2}),
        ("POST", f"/api/relay/{held}/confirm", {"sightings": [free], "hops": 2}),
        ("POST", "/api/exports", {"sightings": [held], "pre_roll": 0, "post_roll": 0}),
    ]


@pytest.mark.parametrize("user", ROLES_ON_C1)
def test_every_read_by_id_of_another_cases_evidence_is_refused_and_logged(client, world, user):
    for method, url, body in _reads(world.held_c2, world.suspect[0]):
        before = denied(world, user)
        r = client.request(method, url, headers=hdr(world, user, "C-1"), json=body)
        assert r.status_code == 403, (user, method, url, r.status_code, r.text[:200])
        assert denied(world, user) == before + 1, (user, method, url)


def test_the_holding_case_reads_its_evidence(client, world):
    h = hdr(world, "lee", "C-2")
    for method, url, body in _reads(world.held_c2, world.others[0])[:5]:
        r = client.request(method, url, headers=h, json=body)
        assert r.status_code == 200, (url, r.text[:200])


@pytest.mark.parametrize("user", ["kim", "op", "sup"])
def test_searches_leave_other_cases_evidence_out(client, world, user):
    body = {"text": "blue top, gray trousers", "top": 20}
    hits = client.post("/api/search/text", headers=hdr(world, user, "C-1"), json=body).json()["hits"]
    ids = [h["sighting"] for h in hits]
    assert world.held_c2 not in ids and world.others[0] in ids
    lee = client.post("/api/search/text", headers=hdr(world, "lee", "C-2"), json=body).json()["hits"]
    assert world.held_c2 in [h["sighting"] for h in lee]


def test_relay_routes_around_another_cases_evidence(client, world):
    held = world.suspect[2]
    with Store(world.db) as s, s.tx() as conn:
        acc.hold_sightings(conn, "C-2", [held])
    r = client.post("/api/relay", headers=hdr(world, "kim"), json={"origin": world.suspect[0], "hops": 4})
    assert r.status_code == 200, r.text
    hops = [h["sighting"] for h in r.json()["hops"]]
    alts = [a.get("sighting") for h in r.json()["hops"] for a in h.get("alternatives") or []]
    assert held not in hops and held not in alts and hops[:2] == world.suspect[:2]
    r = client.post(
        "/api/relay", headers=hdr(world, "lee", "C-2"), json={"origin": world.suspect[0], "hops": 4}
    )
    assert [h["sighting"] for h in r.json()["hops"]] == world.suspect


def _blue_pixels(data: bytes) -> int:
    n, pos = 0, 0
    while (start := data.find(b"\xff\xd8\xff", pos)) >= 0:
        end = data.index(b"\r\n--", start)
        img = cv2.imdecode(np.frombuffer(data[start:end], np.uint8), cv2.IMREAD_COLOR)
        n += int(((img[..., 0] > 170) & (img[..., 1] > 40) & (img[..., 1] < 130) & (img[..., 2] < 90)).sum())
        pos = end
    return n


def test_camera_video_covers_people_held_by_other_cases(client, world):
    url = "/api/video/camera/C04.mjpeg?seconds=4&speed=16"
    seen_by_c2 = _blue_pixels(client.get(url, headers=hdr(world, "lee", "C-2")).content)
    assert seen_by_c2 > 500
    for user in ("kim", "op", "sup"):
        r = client.get(url, headers=hdr(world, user, "C-1"))
        assert r.status_code == 200 and r.content.count(b"Content-Type: image/jpeg") == 40
        assert _blue_pixels(r.content) < seen_by_c2 / 50, user
    # On C01 the blue passer-by is nobody's evidence: shown to C-1.
    r = client.get("/api/video/camera/C01.mjpeg?seconds=4&speed=16", headers=hdr(world, "kim"))
    assert _blue_pixels(r.content) > 500


def test_alert_wall_and_alert_video_do_not_show_held_people(client, world):
    with Store(world.db) as s, s.tx() as conn:
        aid = write_alert(
            conn, "C04", start=1.0, end=3.0, score=0.9, reasons=["test"], sighting=world.held_c2
        )
    for user, case in (
        ("op", None),
        ("lee", "C-2"),
    ):  # the alert wall belongs to no case, whatever is claimed
        alerts = client.get("/api/alerts", headers=hdr(world, user, case)).json()
        mine = [a for a in alerts if a["id"] == aid][0]
        assert mine["sightings"] == [] and mine["thumbnails"] == [] and mine["sighting"] is None
        assert client.get(f"/api/alerts/{aid}", headers=hdr(world, user, case)).json()["sightings"] == []
        r = client.get(f"/api/video/alert/{aid}.mjpeg?speed=16", headers=hdr(world, user, case))
        assert r.status_code == 200 and _blue_pixels(r.content) < 20, user


def test_no_hold_stealing_through_the_api(client, world):
    free = world.others[0]  # the blue passer-by on C01, nobody's evidence
    assert client.get(f"/api/sightings/{free}", headers=hdr(world, "kim")).status_code == 200  # C-1 found it
    r = client.post(
        "/api/exports",
        headers=hdr(world, "lee", "C-2"),
        json={"sightings": [free], "pre_roll": 0, "post_roll": 0},
    )
    assert r.status_code == 201, r.text
    assert client.get(f"/api/sightings/{free}", headers=hdr(world, "kim")).status_code == 200
    with Store(world.db) as s, s.tx() as conn:
        acc.create_case(conn, "C-5", legal_basis="w5", purpose="other", members=["op"])
    assert client.get(f"/api/sightings/{free}", headers=hdr(world, "op", "C-5")).status_code == 403


REQ = {
    "agency": "police",
    "purpose": "robbery near C02",
    "cameras": ["C02"],
    "start": "2026-11-18T00:00:00+09:00",
    "end": "2026-11-18T23:00:00+09:00",
}


def test_agency_requests_only_on_its_open_cases(client, world):
    with Store(world.db) as s, s.tx() as conn:
        acc.create_case(conn, "C-6", legal_basis="w6", purpose="closed one", members=["pol"])
        acc.set_case_status(conn, "C-6", status="closed")
    for case, body in (("C-2", REQ), ("C-6", REQ), ("C-1", {**REQ, "agency": "prosecution"})):
        before = denied(world, "pol")
        r = client.post("/api/requests", headers=hdr(world, "pol", case), json=body)
        assert r.status_code == 403, (case, r.text)
        assert denied(world, "pol") == before + 1
    assert client.post("/api/requests", headers=hdr(world, "pol"), json=REQ).status_code == 201


def test_agency_exports_only_an_approved_request(client, world):
    h = hdr(world, "pol")
    rid = client.post("/api/requests", headers=h, json=REQ).json()["id"]
    exports = [
        {"sightings": [world.suspect[1]], "pre_roll": 0, "post_roll": 0},  # no request
        {"request_id": rid},  # not approved
    ]
    for body in exports:
        before = denied(world, "pol")
        r = client.post("/api/exports", headers=h, json=body)
        assert r.status_code == 403, r.text
        assert denied(world, "pol") == before + 1
    r = client.post(f"/api/requests/{rid}/refuse", headers=hdr(world, "sup"), json={"reason": "no basis"})
    assert r.json()["status"] == "refused"
    assert client.post("/api/exports", headers=h, json={"request_id": rid}).status_code == 403
    rid2 = client.post("/api/requests", headers=h, json=REQ).json()["id"]
    client.post(f"/api/requests/{rid2}/approve", headers=hdr(world, "sup"), json={})
    r = client.post("/api/exports", headers=h, json={"request_id": rid2})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("user", ["aud", "pol"])
def test_auditor_and_agency_see_their_own_cases_trail_only(client, world, user):
    for who, case in (("kim", "C-1"), ("lee", "C-2")):  # something in each case's trail
        client.post("/api/search/text", headers=hdr(world, who, case), json={"text": "red top"})
    h = hdr(world, user, None)
    assert client.get("/api/audit/case/C-1", headers=h).status_code == 200
    entries = client.get("/api/audit?limit=1000", headers=h).json()
    assert entries and {e["case"] for e in entries} == {"C-1"}
    for url in ("/api/audit/case/C-2", "/api/audit?of_case=C-2"):
        before = denied(world, user)
        assert client.get(url, headers=h).status_code == 403, url
        assert denied(world, user) == before + 1
    sup = client.get("/api/audit?limit=1000", headers=hdr(world, "sup", None)).json()
    assert {e["case"] for e in sup} > {"C-1"}
