"""Starting and stopping a live pursuit from the console (issue 16), and the pursuit whose process died.

The pursuit the service starts is the real one (`run_pursuit` in a thread of the service, the world's footage
played at real pace through `LiveFeed`, the heartbeat, the stop) with the two things that need models
replaced: the stages load nothing and each camera's analyser sees nobody, so the pursuit predicts and waits
until it is stopped. Refusals (role, case, unknown or another case's sighting, no cameras file, a pursuit that
is over or stale) are one-line 4xx answers, audited where the gate refuses; a "running" pursuit without a
heartbeat reads as stale everywhere without its row being rewritten."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
import yaml
from svc_world import CAMS, FPS, GAP_S, T0, hdr
from test_pursuit_routes import audit_rows
from test_service_korean import KO, english_words

from relaytrack.pursue.control import STALE_AFTER_S, Heartbeat
from relaytrack.pursue.events import start_pursuit
from relaytrack.store import Store


class _Stages:
    """Stand-in for the loaded models: nothing to load, nothing to bind."""

    def bind(self, store) -> None:
        pass


class _NobodyThere:
    """A camera's analyser that sees no one: the pursuit keeps predicting until it is stopped."""

    def __init__(self, *args, **kwargs) -> None:
        self.frames = 0

    def step(self, frame) -> list:
        self.frames += 1
        return []


@pytest.fixture
def no_models(monkeypatch):
    from relaytrack.pipeline.session import Stages

    monkeypatch.setattr(Stages, "load", classmethod(lambda cls, cfg, embed=True: _Stages()))
    monkeypatch.setattr("relaytrack.pursue.analyse.SessionAnalyser", _NobodyThere)


def _cameras_file(world, folder) -> str:
    """The world's four image-sequence cameras as a cameras file, each with its recording's start time."""
    footage = world.home.parent / "footage"
    cams = []
    for ci, cam in enumerate(CAMS):
        start = T0 + ci * (2.5 + GAP_S) - 0.4
        iso = datetime.fromtimestamp(start, UTC).isoformat(timespec="milliseconds")
        cams.append({"id": cam, "source": str(footage / cam), "start_time": iso})
    path = folder / "pursuit-cameras.yaml"
    path.write_text(yaml.safe_dump({"cameras": cams}), encoding="utf-8")
    return str(path)


@pytest.fixture
def live(world, tmp_path, no_models):
    from fastapi.testclient import TestClient

    from relaytrack.evidence.mask import MaskSettings
    from relaytrack.service.app import create_app

    app = create_app(
        world.db,
        export_root=tmp_path / "exports",
        mask=MaskSettings(detect=False, faces=False),
        alert_poll_s=0.2,
        keepalive_s=1.0,
        pursuit_cameras=_cameras_file(world, tmp_path),
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, app


def _until(fn, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("timed out")


def _pursuits(world) -> list[tuple]:
    with Store(world.db) as s:
        return [tuple(r) for r in s.conn.execute("SELECT id, status, stop_by FROM pursuits ORDER BY id")]


def test_start_from_the_console_then_stop_names_who(live, world):
    client, app = live
    r = client.post(
        "/api/pursuits", headers=hdr(world, "op"), json={"sighting": world.suspect[0], "until_lost": 600}
    )
    assert r.status_code == 201, r.text
    p = r.json()
    pid = p["id"]
    assert (p["status"], p["case"], p["user"], p["origin"]) == ("running", "C-1", "op", world.suspect[0])
    assert app.state.pursuits.running() == [pid]
    # The pursuit writes its first prediction once it runs; its heartbeat is fresh.
    one = _until(
        lambda: (x := client.get(f"/api/pursuits/{pid}", headers=hdr(world, "op")).json())["events"] and x
    )
    assert one["event_list"][0]["type"] == "prediction" and one["heartbeat_age_s"] < STALE_AFTER_S
    assert one["status"] == "running"

    # kim, on the same case, stops it: the pursuit ends saying who did.
    r = client.post(f"/api/pursuits/{pid}/stop", headers=hdr(world, "kim"))
    assert r.status_code == 200, r.text
    assert r.json()["stop_by"] == "kim"
    done = _until(
        lambda: (
            (x := client.get(f"/api/pursuits/{pid}", headers={**hdr(world, "op"), **KO}).json())["status"]
            == "stopped"
            and x
        )
    )
    ended = done["event_list"][-1]
    assert ended["type"] == "ended" and ended["reason"] == "stopped by the operator"
    assert ended["stopped_by"] == "kim" and ended["reason_text"] == "관제요원이 중지함"
    assert done["status_text"] == "중지됨" and done["ended"] is not None
    _until(lambda: app.state.pursuits.running() == [])
    assert _pursuits(world)[-1] == (pid, "stopped", "kim")

    # Over: stopping it again is refused in one line.
    again = client.post(f"/api/pursuits/{pid}/stop", headers={**hdr(world, "kim"), **KO})
    assert again.status_code == 409
    assert again.json()["detail_en"] == f"pursuit {pid} is stopped: only a running pursuit can be stopped"
    assert not english_words(again.json()["detail"]), again.json()

    # Both actions are in the audit log, as sentences too.
    started = [json.loads(d) for a, o, d in audit_rows(world, "op") if o == "ok"]
    assert any(d.get("endpoint") == "POST /api/pursuits" and d.get("pursuit") == pid for d in started)
    stopped = [json.loads(d) for a, o, d in audit_rows(world, "kim") if o == "ok"]
    assert any(
        d.get("endpoint") == "POST /api/pursuits/{id}/stop" and d.get("pursuit") == pid for d in stopped
    )
    said = [
        x["summary_text"]
        for x in client.get("/api/audit?limit=50", headers={**hdr(world, "sup", None), **KO}).json()
    ]
    assert any(f"목격 #{world.suspect[0]}에서 실시간 추적 #{pid}을(를) 시작함" in x for x in said), said
    assert any(f"실시간 추적 #{pid}을(를) 중지함" in x for x in said), said


def test_start_refusals_are_one_line_and_write_nothing(live, world):
    client, app = live
    before = _pursuits(world)
    cases = [
        ("lee", "C-1", {"sighting": world.suspect[0]}, 403, "relay refused"),  # not a member of C-1
        ("aud", "C-1", {"sighting": world.suspect[0]}, 403, "may not relay"),  # the auditor's role
        (
            "kim",
            None,
            {"sighting": world.suspect[0], "case": "C-2"},
            403,
            "relay refused",
        ),  # kim is not on C-2
        ("kim", "C-1", {"sighting": 987654}, 403, "do not exist"),
        ("kim", "C-1", {"sighting": world.held_c2}, 403, "belong to another case"),
        ("kim", "C-1", {"sighting": world.suspect[0], "case": "C-2"}, 422, "is not the case of the request"),
    ]
    for user, case, body, status, said in cases:
        denied = len([r for r in audit_rows(world, user) if r[1] == "denied"])
        r = client.post("/api/pursuits", headers={**hdr(world, user, case), **KO}, json=body)
        assert r.status_code == status, (user, body, r.status_code, r.text[:300])
        assert said in r.json()["detail_en"] and "\n" not in r.json()["detail_en"], r.json()
        assert not english_words(r.json()["detail"]), r.json()
        if status == 403:  # refused by the gate: audited
            assert len([r for r in audit_rows(world, user) if r[1] == "denied"]) == denied + 1, (user, body)
    bad = client.post(
        "/api/pursuits", headers=hdr(world, "kim"), json={"sighting": world.suspect[0], "until_lost": 0}
    )
    assert bad.status_code == 422
    assert (
        client.post("/api/pursuits", headers=hdr(world, "kim"), json={"sighting": 1, "x": 1}).status_code
        == 422
    )
    assert _pursuits(world) == before and app.state.pursuits.running() == []
    # Stopping what is not there, or another case's pursuit.
    assert client.post("/api/pursuits/987654/stop", headers=hdr(world, "kim")).status_code == 404
    with Store(world.db) as s, s.tx() as conn:
        other = start_pursuit(conn, case="C-2", user="lee", origin=world.held_c2, cameras_file=None)
    r = client.post(f"/api/pursuits/{other}/stop", headers=hdr(world, "kim"))
    assert r.status_code == 403 and "belongs to another case" in r.json()["detail_en"]
    assert _pursuits(world)[-1] == (other, "running", None)


def test_no_cameras_file_no_start(client, world):
    r = client.post("/api/pursuits", headers={**hdr(world, "kim"), **KO}, json={"sighting": world.suspect[0]})
    assert r.status_code == 409 and "no cameras file" in r.json()["detail_en"], r.text
    assert not english_words(r.json()["detail"].replace("relaytrack serve --cameras", ""))
    assert _pursuits(world) == []


def test_a_start_that_fails_ends_the_pursuit_saying_why(live, world, monkeypatch):
    from relaytrack.errors import ModelError
    from relaytrack.pipeline.session import Stages

    def broken(cls, cfg, embed=True):
        raise ModelError("detector model yolo.pt not found")

    monkeypatch.setattr(Stages, "load", classmethod(broken))
    client, app = live
    r = client.post("/api/pursuits", headers=hdr(world, "kim"), json={"sighting": world.suspect[0]})
    assert r.status_code == 201
    pid = r.json()["id"]
    done = _until(
        lambda: (
            (x := client.get(f"/api/pursuits/{pid}", headers=hdr(world, "kim")).json())["status"] == "ended"
            and x
        )
    )
    assert [e["type"] for e in done["event_list"]] == ["ended"]
    assert done["event_list"][0]["reason"] == "could not start: detector model yolo.pt not found"


def test_too_many_pursuits(live, world):
    client, app = live
    app.state.pursuits.max_running = 1
    first = client.post("/api/pursuits", headers=hdr(world, "kim"), json={"sighting": world.suspect[0]})
    assert first.status_code == 201
    r = client.post("/api/pursuits", headers=hdr(world, "kim"), json={"sighting": world.suspect[1]})
    assert r.status_code == 429 and "1 pursuits already run" in r.json()["detail_en"]
    assert (
        client.post(f"/api/pursuits/{first.json()['id']}/stop", headers=hdr(world, "kim")).status_code == 200
    )


def test_stop_reaches_a_pursuit_another_process_runs(client, world):
    """A pursuit `relaytrack pursue` runs elsewhere: the console's stop is a request in the store, which that
    process's heartbeat passes to its stop event."""
    with Store(world.db) as s:
        with s.tx() as conn:
            pid = start_pursuit(
                conn, case="C-1", user="kim", origin=world.suspect[0], cameras_file="cameras.yaml"
            )
        stop = threading.Event()
        with Heartbeat(s.url, pid, stop, every_s=0.05):
            r = client.post(f"/api/pursuits/{pid}/stop", headers=hdr(world, "op"))
            assert r.status_code == 200 and r.json()["status"] == "running" and r.json()["stop_by"] == "op"
            assert stop.wait(5)
        twice = client.post(f"/api/pursuits/{pid}/stop", headers=hdr(world, "kim"))
        assert twice.status_code == 409 and "already being stopped (asked by op)" in twice.json()["detail_en"]


def test_a_pursuit_whose_process_died_reads_stale(client, world):
    with Store(world.db) as s:
        with s.tx() as conn:
            pid = start_pursuit(
                conn, case="C-1", user="kim", origin=world.suspect[0], cameras_file="cameras.yaml"
            )
            conn.execute(
                "UPDATE pursuits SET heartbeat_at = unixepoch('subsec') - ? WHERE id=?",
                (STALE_AFTER_S + 40, pid),
            )
    h = {**hdr(world, "kim"), **KO}
    lst = client.get("/api/pursuits", headers=h).json()
    assert [(p["id"], p["status"], p["status_text"]) for p in lst] == [(pid, "stale", "응답 없음")]
    assert lst[0]["heartbeat_age_s"] > STALE_AFTER_S
    assert client.get(f"/api/pursuits/{pid}", headers=h).json()["status"] == "stale"
    for url, body in (
        (f"/api/pursuits/{pid}/stop", None),
        (f"/api/pursuits/{pid}/verdict", {"sighting": 1, "verdict": "reject"}),
    ):
        r = client.post(url, headers=h, json=body)
        if url.endswith("verdict"):  # not one of its hand-offs: 422 before the state is looked at
            assert r.status_code == 422
            continue
        assert r.status_code == 409, r.text
        assert (
            "is stale (no heartbeat for" in r.json()["detail_en"]
            and "process is gone" in r.json()["detail_en"]
        )
        assert not english_words(r.json()["detail"]), r.json()
    # Nothing more will come: the stream answers 204, as for a pursuit that is over.
    assert client.get(f"/api/pursuits/{pid}/events", headers=h).status_code == 204
    # Derived, not rewritten: the row still says what the pursuit last wrote.
    assert _pursuits(world)[-1] == (pid, "running", None)
    assert FPS > 0  # the world's footage rate (the cameras file above plays it)


def test_the_cli_lists_stale_pursuits_and_stops_a_running_one(world):
    """`relaytrack pursue list` shows what the console shows (stale derived the same way); `pursue stop` writes
    the same request the console's stop does; both audited, refusals in one line."""
    from typer.testing import CliRunner

    from relaytrack.cli import app as cli

    def run(*argv: str, user: str = "kim", case: str = "C-1"):
        return CliRunner().invoke(cli, [*argv, "--db", str(world.db), "--user", user, "--case", case])

    with Store(world.db) as s, s.tx() as conn:
        dead = start_pursuit(
            conn, case="C-1", user="kim", origin=world.suspect[0], cameras_file="cameras.yaml"
        )
        live_ = start_pursuit(
            conn, case="C-1", user="op", origin=world.suspect[1], cameras_file="cameras.yaml"
        )
        conn.execute("UPDATE pursuits SET heartbeat_at = unixepoch('subsec') - 500 WHERE id=?", (dead,))
    res = run("pursue", "list", "--json")
    assert res.exit_code == 0, res.output
    got = {p["id"]: (p["status"], p["stored_status"]) for p in json.loads(res.output)}
    assert got == {dead: ("stale", "running"), live_: ("running", "running")}
    res = run("pursue", "list")
    assert "no heartbeat for" in res.output and f"#{dead}" in res.output, res.output

    res = run("pursue", "stop", str(dead))
    assert res.exit_code != 0 and "is stale" in str(res.exception) and "\n" not in str(res.exception)
    res = run("pursue", "stop", str(live_), user="lee", case="C-2")
    assert res.exit_code != 0 and "belongs to another case" in str(res.exception)
    res = run("pursue", "stop", str(live_), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"pursuit": live_, "stop_by": "kim"}
    res = run("pursue", "stop", str(live_))
    assert res.exit_code != 0 and "already being stopped (asked by kim)" in str(res.exception)
    assert _pursuits(world)[-2:] == [(dead, "running", None), (live_, "running", "kim")]
    logged = [json.loads(d) for a, o, d in audit_rows(world, "kim") if o == "ok"]
    assert {"pursuit": live_, "stop": True} in logged
    assert any(d.get("command") == "pursue list" and d.get("pursuits") == 2 for d in logged)


def test_run_pursuit_unpaced_as_the_cli_runs_files(world, tmp_path, no_models):
    """`relaytrack pursue` on files without --realtime (the merged feed): the pursuit ends when its sources
    do; stopped on the way (Ctrl-C, or a stop request) it ends as stopped, naming who, not "sources ended"."""
    from relaytrack.pursue.service import run_pursuit

    cameras = _cameras_file(world, tmp_path)
    with Store(world.db) as store:
        res = run_pursuit(store, world.suspect[0], cameras, user="kim", case="C-1")
        assert res.state == "ended" and res.events[-1].data["reason"] == "sources ended"
        assert sum(res.analysed.values()) > 0
        stop = threading.Event()
        stop.set()
        res = run_pursuit(store, world.suspect[0], cameras, user="kim", case="C-1", stop=stop)
        assert res.state == "stopped" and res.events[-1].type == "ended"
        assert res.events[-1].data["reason"] == "stopped" and "stopped_by" not in res.events[-1].data
    assert [(s, b) for _, s, b in _pursuits(world)] == [("ended", None), ("stopped", None)]
