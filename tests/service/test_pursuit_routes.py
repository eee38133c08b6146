"""The live pursuit in the service (issue 16, the console's part): the case's pursuits, one pursuit with its
events, the server-sent event stream (stored events in order, live ones as the pursuit writes them, resumed
after Last-Event-ID), the operator's verdict read back by the running pursuit (`take_verdicts`), the case gate
with its refusals audited, every look and verdict in the audit log, and Korean text beside the stages'
English. The pursuit is written through the pursuit's own `start_pursuit` and `EventLog`, as
`relaytrack pursue` writes it; no models run."""

from __future__ import annotations

import json
import threading
import time

import pytest
from svc_world import T0, hdr
from test_service_korean import KO, english_words

from relaytrack.pursue.events import EventLog, PursuitEvent, finish_pursuit, start_pursuit, take_verdicts
from relaytrack.store import Store


def _prediction(t: float, frm: int, cams=("C02", "C03")) -> PursuitEvent:
    from relaytrack.pursue.events import iso

    cameras = [
        {
            "camera": c,
            "eta_from": iso(t + 10 + 10 * i),
            "eta_to": iso(t + 30 + 10 * i),
            "p": round(0.7 / (i + 1), 4),
        }
        for i, c in enumerate(cams)
    ]
    return PursuitEvent("prediction", t, "C01", {"from": frm, "cameras": cameras, "off_network": 0.05})


def _handoff(t: float, sid: int, camera: str, status: str, conf: float) -> PursuitEvent:
    reasons = ["appearance 0.91 (z 4.2)", "upper red agrees", "arrived 20 s after C01 (expected 20±4)"]
    return PursuitEvent(
        "handoff", t, camera, {"sighting": sid, "confidence": conf, "reasons": reasons, "status": status}
    )


@pytest.fixture
def pursuit(world):
    """A pursuit of case C-1 by kim from the suspect's first sighting: a prediction, an offered hand-off, a
    camera down, a prediction, an automatic hand-off; still running (`more` writes the rest)."""
    store = Store(world.db)
    with store.tx() as conn:
        pid = start_pursuit(
            conn, case="C-1", user="kim", origin=world.suspect[0], cameras_file="cameras.yaml"
        )
    log = EventLog(None, store, pid)
    t = T0 + 5.0
    log.emit(_prediction(t, world.suspect[0]))
    log.emit(_handoff(t + 22, world.suspect[1], "C02", "offered", 0.55))
    log.emit(PursuitEvent("camera_down", t + 23, "C04", {"state": "down", "message": "no frames for 5 s"}))
    log.emit(_prediction(t + 24, world.suspect[1], ("C03", "C04")))
    log.emit(_handoff(t + 45, world.suspect[2], "C03", "auto", 0.93))

    def more() -> None:
        log.emit(PursuitEvent("lost", t + 200, "C03", {"from": world.suspect[2], "after_s": 120.0}))
        log.emit(PursuitEvent("ended", t + 200, "C03", {"reason": "lost", "anchor": world.suspect[2]}))
        finish_pursuit(store, pid, "lost", world.suspect[2])

    yield pid, store, more
    store.close()


def audit_rows(world, user: str) -> list[tuple]:
    with Store(world.db) as s:
        return s.conn.execute(
            "SELECT action, outcome, detail FROM audit_log WHERE user_name=? ORDER BY seq", (user,)
        ).fetchall()


def sse(lines) -> list[tuple[str, int | None, dict]]:
    """(event, id, data) of each server-sent event."""
    out, cur = [], {}
    for line in lines:
        if not line:
            if "event" in cur:
                out.append((cur["event"], cur.get("id"), json.loads(cur.get("data", "{}"))))
            cur = {}
        elif line.startswith("event: "):
            cur["event"] = line[7:]
        elif line.startswith("id: "):
            cur["id"] = int(line[4:])
        elif line.startswith("data: "):
            cur["data"] = line[6:]
    return out


def test_list_and_one_pursuit(client, world, pursuit):
    pid, _, _ = pursuit
    lst = client.get("/api/pursuits", headers=hdr(world, "kim")).json()
    assert [p["id"] for p in lst] == [pid]
    p = lst[0]
    assert (p["case"], p["user"], p["origin"], p["status"], p["events"]) == (
        "C-1",
        "kim",
        world.suspect[0],
        "running",
        5,
    )
    assert p["last_event"]["type"] == "handoff" and p["started_time"].endswith("+09:00")
    # The operator on the case sees it too (the query parameter names the case, as EventSource URLs do).
    assert [x["id"] for x in client.get("/api/pursuits?case=C-1", headers=hdr(world, "op", None)).json()] == [
        pid
    ]
    # Acting for another case: that case's pursuits only.
    assert client.get("/api/pursuits", headers=hdr(world, "lee", "C-2")).json() == []

    one = client.get(f"/api/pursuits/{pid}", headers={**hdr(world, "kim"), **KO}).json()
    evs = one["event_list"]
    assert [e["type"] for e in evs] == ["prediction", "handoff", "camera_down", "prediction", "handoff"]
    assert [e["id"] for e in evs] == sorted(e["id"] for e in evs)
    assert evs[0]["cameras"][0]["camera"] == "C02" and evs[0]["cameras"][0]["eta_from"].endswith("+09:00")
    offered = evs[1]
    assert offered["status"] == "offered" and offered["sighting"] == world.suspect[1]
    assert offered["reasons"][0].startswith("appearance")  # the stages' English stays
    assert offered["reasons_text"][0].startswith("외모 유사도") and offered["status_text"] == "확인 요청"
    korean = [x for e in evs for x in [*e.get("reasons_text", []), e.get("status_text", "")]]
    assert not [x for x in korean if english_words(x)], korean


def test_case_gate_refuses_and_audits(client, world, pursuit):
    pid, _, _ = pursuit
    urls = [
        ("GET", f"/api/pursuits/{pid}", None),
        ("GET", f"/api/pursuits/{pid}/events?max_s=1", None),
        ("POST", f"/api/pursuits/{pid}/verdict", {"sighting": world.suspect[1], "verdict": "confirm"}),
    ]
    for user, case in (("lee", "C-2"), ("lee", "C-1"), ("aud", "C-1"), ("sup", "C-2")):
        for method, url, body in urls:
            before = len([r for r in audit_rows(world, user) if r[1] == "denied"])
            r = client.request(method, url, headers={**hdr(world, user, case), **KO}, json=body)
            assert r.status_code == 403, (user, case, url, r.status_code, r.text[:200])
            assert not english_words(r.json()["detail"]), r.json()
            assert len([r for r in audit_rows(world, user) if r[1] == "denied"]) == before + 1, (user, url)
    r = client.get(f"/api/pursuits/{pid}", headers=hdr(world, "lee", "C-2"))
    assert r.json()["detail_en"] == f"relay refused: pursuit {pid} belongs to another case"
    assert client.get("/api/pursuits", headers=hdr(world, "kim", None)).status_code == 403  # no case, no list
    assert client.get("/api/pursuits/999999", headers=hdr(world, "kim")).status_code == 404
    # The media grant opens the stream (EventSource sends no header), never the list or a verdict.
    grant = client.post("/api/auth/media-grant", headers=hdr(world, "kim", None)).json()["grant"]
    with client.stream("GET", f"/api/pursuits/{pid}/events?max_s=0.5&case=C-1&mg={grant}") as r:
        assert r.status_code == 200
    assert client.get(f"/api/pursuits?case=C-1&mg={grant}").status_code == 401


def test_views_are_audited(client, world, pursuit):
    pid, _, _ = pursuit
    client.get("/api/pursuits", headers=hdr(world, "kim"))
    client.get(f"/api/pursuits/{pid}", headers=hdr(world, "kim"))
    rows = [(a, o, json.loads(d)) for a, o, d in audit_rows(world, "kim")]
    mine = [(a, o, d) for a, o, d in rows if str(d.get("endpoint", "")).startswith("GET /api/pursuits")]
    assert [(a, o, d["endpoint"]) for a, o, d in mine] == [
        ("relay", "ok", "GET /api/pursuits"),
        ("relay", "ok", "GET /api/pursuits/{id}"),
    ]
    assert mine[1][2]["pursuit"] == pid and mine[1][2]["events"] == 5
    sentences = client.get("/api/audit?limit=50", headers={**hdr(world, "sup", None), **KO}).json()
    said = [r["summary_text"] for r in sentences if r["user"] == "kim"]
    assert any(f"실시간 추적 #{pid}을(를) 봄" in x for x in said), said


def test_stream_sends_stored_then_live_events_in_order_and_ends(client, world, pursuit):
    pid, _, more = pursuit

    def later():
        time.sleep(0.6)
        more()

    th = threading.Thread(target=later)
    th.start()
    with client.stream("GET", f"/api/pursuits/{pid}/events?max_s=10", headers=hdr(world, "kim")) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        got = sse(r.iter_lines())
    th.join()
    assert got[0][0] == "hello"
    events = got[1:]
    assert [e for e, _, _ in events] == [
        "prediction", "handoff", "camera_down", "prediction", "handoff", "lost", "ended",
    ]  # fmt: skip
    ids = [i for _, i, _ in events]
    assert ids == sorted(ids) and all(d["id"] == i for _, i, d in events)
    assert events[-1][2]["reason"] == "lost"
    # Resumed after the third event (EventSource's Last-Event-ID): the rest only.
    with client.stream(
        "GET", f"/api/pursuits/{pid}/events", headers={**hdr(world, "kim"), "Last-Event-ID": str(ids[2])}
    ) as r:
        again = sse(r.iter_lines())[1:]
    assert [i for _, i, _ in again] == ids[3:]
    # The pursuit is over and everything was sent: 204 (an EventSource does not reconnect).
    r = client.get(f"/api/pursuits/{pid}/events?after={ids[-1]}", headers=hdr(world, "kim"))
    assert r.status_code == 204
    assert client.get("/api/pursuits", headers=hdr(world, "kim")).json()[0]["status"] == "lost"


def test_stream_leaves_out_another_cases_hand_off(client, world, pursuit):
    from relaytrack.evidence import access as acc

    pid, store, more = pursuit
    with store.tx() as conn:
        acc.hold_sightings(conn, "C-2", [world.suspect[2]])
    more()
    with client.stream("GET", f"/api/pursuits/{pid}/events", headers=hdr(world, "kim")) as r:
        got = sse(r.iter_lines())
    assert world.suspect[2] not in [d.get("sighting") for _, _, d in got]
    assert [e for e, _, _ in got][-2:] == ["lost", "ended"]


def test_verdict_is_what_the_running_pursuit_takes(client, world, pursuit):
    pid, store, more = pursuit
    h = hdr(world, "op")
    r = client.post(
        f"/api/pursuits/{pid}/verdict", headers=h, json={"sighting": world.suspect[1], "verdict": "confirm"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "confirm" and r.json()["user"] == "op"
    assert take_verdicts(store, pid) == [(world.suspect[1], "confirm")]
    assert take_verdicts(store, pid) == []
    rows = [(a, o, json.loads(d)) for a, o, d in audit_rows(world, "op")]
    assert (
        ("relay", "ok") == rows[-1][:2]
        and rows[-1][2]["verdict"] == "confirm"
        and rows[-1][2]["pursuit"] == pid
    )
    said = client.get("/api/audit?limit=20", headers={**hdr(world, "sup", None), **KO}).json()
    assert any(
        f"실시간 추적 #{pid}의 인계 #{world.suspect[1]}을(를) 확인함" in x["summary_text"] for x in said
    )

    bad = client.post(
        f"/api/pursuits/{pid}/verdict",
        headers={**h, **KO},
        json={"sighting": world.suspect[1], "verdict": "maybe"},
    )
    assert bad.status_code == 422 and bad.json()["message"].startswith("판정")  # the field, named
    bad = client.post(f"/api/pursuits/{pid}/verdict", headers=h, json={"verdict": "reject"})
    assert bad.status_code == 422 and "sighting" in bad.json()["message"]
    r = client.post(
        f"/api/pursuits/{pid}/verdict", headers=h, json={"sighting": world.others[0], "verdict": "reject"}
    )
    assert r.status_code == 422 and "not a hand-off" in r.json()["detail_en"]
    more()  # lost and ended: a verdict comes too late
    r = client.post(
        f"/api/pursuits/{pid}/verdict",
        headers={**h, **KO},
        json={"sighting": world.suspect[2], "verdict": "reject"},
    )
    assert r.status_code == 409 and "이미 끝남" in r.json()["detail"]
    assert take_verdicts(store, pid) == []


def test_the_pursuit_page_is_the_relay_roles(client, world):
    pages = {
        u: client.get("/api/me", headers=hdr(world, u, None)).json()["pages"]
        for u in ("kim", "op", "aud", "pol")
    }
    assert "pursuit" in pages["kim"] and "pursuit" in pages["op"]
    assert "pursuit" not in pages["aud"] and "pursuit" not in pages["pol"]
