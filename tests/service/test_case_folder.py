"""The case folder and the console's shape per role (issue 19 item 5): a case's searches, routes, verdicts, notes
and exports in time order; another case's user refused and audited; each role's landing page and pages; a
single-case user's case pre-selected. World: C-1 (kim, op, pol, aud), C-2 (lee); sup is a supervisor."""

from __future__ import annotations

import pytest
from svc_world import hdr

from relaytrack.errors import InputError
from relaytrack.evidence import access as acc
from relaytrack.evidence.notes import add_note, notes_of
from relaytrack.store import Store

KO = {"Accept-Language": "ko"}


def _audit(world, sql: str, args: tuple) -> list:
    with Store(world.db) as s:
        return s.conn.execute(sql, args).fetchall()


def test_folder_lists_search_route_and_note_in_order(client, world):
    h = hdr(world, "kim")
    r = client.post("/api/search/text", json={"text": "빨간 상의에 검은 바지", "top": 5}, headers=h)
    assert r.status_code == 200, r.text
    hits = len(r.json()["hits"])
    origin = world.suspect[0]
    r = client.post("/api/relay", json={"origin": origin, "hops": 3}, headers=h)
    assert r.status_code == 200, r.text
    hops = len(r.json()["hops"])
    r = client.post("/api/cases/C-1/notes", json={"text": "2번 카메라에서 백팩 확인"}, headers=h)
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["user"] == "kim" and note["case"] == "C-1" and note["text"] == "2번 카메라에서 백팩 확인"

    r = client.get("/api/cases/C-1/folder", headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["case"]["case_no"] == "C-1"
    kinds = [it["kind"] for it in out["items"]]
    assert kinds == ["search", "route", "note"], kinds
    search, route, nt = out["items"]
    assert search["search_kind"] == "text" and search["query"] == "빨간 상의에 검은 바지"
    assert search["user"] == "kim" and search["hits"] == hits
    assert route["origin"] == origin and route["hops"] == hops and route["user"] == "kim"
    assert nt["note_id"] == note["id"] and nt["text"] == note["text"]
    ats = [it["at"] for it in out["items"]]
    assert ats == sorted(ats)
    assert out["counts"] == {"search": 1, "route": 1, "verdict": 0, "note": 1, "export": 0}
    # every view of the folder is audited, and reads as a sentence
    rows = _audit(
        world,
        "SELECT detail FROM audit_log WHERE action='view' AND user_name='kim' AND case_no='C-1'"
        " AND outcome='ok' AND detail LIKE '%folder%'",
        (),
    )
    assert len(rows) == 1
    page = client.get("/api/audit?limit=5", headers={**hdr(world, "sup", None), **KO}).json()
    assert any("사건 폴더" in e["summary_text"] for e in page)
    assert any("사건 메모" in e["summary_text"] for e in page)


def test_folder_lists_verdicts_and_exports_with_download(client, world):
    h = hdr(world, "kim")
    origin, nxt = world.suspect[0], world.suspect[1]
    assert client.post(
        f"/api/relay/{origin}/confirm", json={"sightings": [nxt], "hops": 2}, headers=h
    ).is_success
    r = client.post("/api/exports", json={"sightings": [origin], "pre_roll": 0, "post_roll": 0}, headers=h)
    assert r.status_code == 201, r.text
    out = client.get("/api/cases/C-1/folder", headers=h).json()
    verdict = [it for it in out["items"] if it["kind"] == "verdict"]
    assert verdict and verdict[0]["verdict"] == "confirm" and verdict[0]["sightings"] == [nxt]
    ex = [it for it in out["items"] if it["kind"] == "export"]
    assert len(ex) == 1 and ex[0]["status"] == "done" and ex[0]["download"].endswith("/download")
    assert client.get(ex[0]["download"], headers=h).status_code == 200
    # the other case's folder holds none of it
    other = client.get("/api/cases/C-2/folder", headers=hdr(world, "lee", "C-2")).json()
    assert other["items"] == []


def _denied(world, user: str) -> int:
    return len(_audit(world, "SELECT seq FROM audit_log WHERE outcome='denied' AND user_name=?", (user,)))


@pytest.mark.parametrize(
    ("user", "acting", "url", "body"),
    [
        ("lee", "C-2", "/api/cases/C-1/folder", None),  # acts for their own case, asks another's
        ("lee", "C-1", "/api/cases/C-1/folder", None),  # claims a case they are not assigned to
        ("lee", "C-2", "/api/cases/C-1/notes", {"text": "끼어들기"}),
        ("aud", "C-1", "/api/cases/C-1/folder", None),  # an auditor reads the audit log, not the folder
        ("pol", "C-1", "/api/cases/C-1/folder", None),  # an agency does not read the investigation's steps
    ],
)
def test_folder_of_another_case_is_refused_and_audited(client, world, user, acting, url, body):
    before = _denied(world, user)
    r = client.request("POST" if body else "GET", url, json=body, headers=hdr(world, user, acting))
    assert r.status_code in (403, 404), r.text
    assert _denied(world, user) == before + 1
    assert "C-1" not in str(r.json().get("items", ""))


def test_note_text_is_checked(client, world):
    h = hdr(world, "kim")
    assert client.post("/api/cases/C-1/notes", json={"text": ""}, headers=h).status_code == 422
    assert (
        client.post("/api/cases/C-1/notes", json={"text": "<script>x</script>"}, headers=h).status_code == 422
    )


@pytest.mark.parametrize(
    ("user", "landing", "shown", "hidden"),
    [
        ("op", "alerts", {"alerts", "search", "map"}, {"audit"}),
        ("kim", "search", {"search", "relay", "folder", "cases"}, {"audit"}),
        ("aud", "audit", {"audit", "cases"}, {"search", "relay", "alerts", "folder", "map"}),
        ("sup", "cases", {"audit", "search", "folder"}, set()),
        ("pol", "cases", {"cases", "audit"}, {"search", "relay", "alerts", "folder", "map"}),
    ],
)
def test_each_role_lands_on_its_page_and_sees_only_its_pages(client, world, user, landing, shown, hidden):
    me = client.get("/api/me", headers=hdr(world, user, None)).json()
    assert me["landing"] == landing
    assert shown <= set(me["pages"]) and not hidden & set(me["pages"])
    assert me["landing"] in me["pages"]


def test_login_answers_the_landing_page_and_the_only_case(client, world):
    from svc_world import PASSWORD

    r = client.post("/api/auth/login", json={"user": "op", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["landing"] == "alerts"
    assert r.json()["default_case"] == "C-1"  # op works on C-1 only


def test_only_case_is_preselected_and_several_are_not(client, world):
    assert client.get("/api/me", headers=hdr(world, "kim", None)).json()["default_case"] == "C-1"
    assert client.get("/api/me", headers=hdr(world, "lee", None)).json()["default_case"] == "C-2"
    # the supervisor may act for both open cases: nothing is chosen for them
    assert client.get("/api/me", headers=hdr(world, "sup", None)).json()["default_case"] is None
    with Store(world.db) as s, s.tx() as conn:
        acc.set_case_status(conn, "C-2", status="closed")
    assert client.get("/api/me", headers=hdr(world, "sup", None)).json()["default_case"] == "C-1"


def test_console_uses_the_servers_landing_and_case():
    """The console takes the landing page, the pages and the pre-selected case from /api/me (the tests above
    check what the server answers); a page the role cannot use is sent to its landing page."""
    from test_service_korean import STATIC

    js = (STATIC / "app.js").read_text(encoding="utf-8")
    assert "me.landing" in js and "me.default_case" in js and "me.pages" in js


def test_notes_on_both_backends(store_db):
    with Store(store_db) as s, s.tx() as conn:
        acc.create_user(conn, "kim", "investigator")
        acc.create_case(conn, "C-9", legal_basis="warrant 1", purpose="test", members=["kim"])
        a = add_note(conn, "C-9", "kim", "첫 메모")
        b = add_note(conn, "C-9", "kim", "두 번째\n메모")
        with pytest.raises(InputError):
            add_note(conn, "C-9", "kim", "   ")
    with Store(store_db) as s:
        got = notes_of(s.conn, "C-9")
        assert notes_of(s.conn, "C-404") == []
    assert [n.id for n in got] == [a, b] and got[1].text == "두 번째\n메모" and got[0].created_at > 0
