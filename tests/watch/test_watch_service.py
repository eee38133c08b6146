"""The watch service end to end on a real clip: a dead stream beside it, the --once --json contract, the store
(alerts linked to sightings, ack through access control, audit)."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.evidence import access as acc
from relaytrack.store import Store
from relaytrack.watch.config import load_watch_config
from relaytrack.watch.service import CameraSpec, watch_sources
from relaytrack.watch.zones import make_zone

# PETS09 people walk across the middle of the 768x576 view; this band is where their feet pass.
BAND = {"id": "W1", "kind": "other", "polygon": [[0, 150], [768, 150], [768, 576], [0, 576]]}
# A hair-trigger config: any person in the band counts as a stop and raises an alert (plumbing, not tuning).
LOW = {
    "alert.threshold": 0.05,
    "signals.min_dwell_s": 0.0,
    "signals.stop_speed_h_s": 3.0,
    "signals.zone_margin_h": 3.0,
    "pose.enabled": False,
    "run.reconnect_tries": 1,
    "run.reconnect_max_s": 0.2,
    "alert.post_roll_s": 0.5,
    # The innocent cues lower a stop by up to 0.6: off here, where any stop must alert.
    "innocent.w_door": 0.0,
    "innocent.w_round": 0.0,
    "innocent.w_brief": 0.0,
    "innocent.w_linger": 0.0,
}


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RELAYTRACK_USER", raising=False)


def test_dead_stream_does_not_stop_the_file_beside_it(pets_clip, tmp_path):
    wcfg = load_watch_config(None, {**LOW, "run.workers": 2})
    specs = [
        CameraSpec("rtsp://127.0.0.1:9/dead", "DEAD", [make_zone(BAND, "t")]),
        CameraSpec(str(pets_clip), "PETS", [make_zone(BAND, "t")]),
    ]
    res = watch_sources(specs, None, None, wcfg, clips_dir=tmp_path / "clips")
    assert res.cameras["DEAD"].state == "failed" and "unreachable" in res.cameras["DEAD"].error
    assert res.cameras["PETS"].state == "ended" and res.cameras["PETS"].frames >= 20
    assert [a.camera for a in res.operator_alerts] == ["DEAD"]
    assert res.operator_alerts[0].kind == "camera_down"
    assert res.alerts and {a.camera for a in res.alerts} == {"PETS"}
    # De-duplicated per track: one alert per (track, zone).
    keys = [(a.track, a.zone) for a in res.alerts]
    assert len(keys) == len(set(keys))
    assert all(a.latency_s is not None and a.latency_s < 30 for a in res.alerts)


def test_cli_once_json_contract_and_alerts_commands(pets_clip, tmp_path):
    zones = tmp_path / "zones.yaml"
    zones.write_text(json.dumps([BAND]), encoding="utf-8")  # a plain list of zones (JSON is YAML)
    wc = tmp_path / "watch.yaml"
    nested: dict = {}
    for k, v in LOW.items():
        nested.setdefault(k.split(".")[0], {})[k.split(".")[1]] = v
    wc.write_text(yaml.safe_dump({"watch": nested}), encoding="utf-8")
    db = tmp_path / "w.db"
    out = tmp_path / "alerts.json"
    r = CliRunner().invoke(
        app,
        ["watch", str(pets_clip), "--camera", "P1", "--zones", str(zones), "--once", "--json", str(out),
         "--watch-config", str(wc), "--db", str(db)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    alerts = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(alerts, list) and alerts
    for a in alerts:
        assert {"camera", "start", "end", "score", "reasons", "clip"} <= set(a)
        assert a["camera"] == "P1" and 0 <= a["start"] <= a["end"] <= 40 / 7.0 + 0.5
        assert isinstance(a["reasons"], list) and a["reasons"][0].startswith("stopped")
        assert a["clip"] and (tmp_path / "clips" / "P1").is_dir()
    # Stored with sightings of the watched footage: each alert's track became a sighting.
    with Store(db) as store:
        linked = store.query("SELECT a.sighting_id, s.track_id, a.track_id FROM alerts a JOIN sightings s"
                             " ON s.id=a.sighting_id WHERE a.kind='courier'")  # fmt: skip
        assert linked and all(row[1] == row[2] for row in linked)
        with store.tx() as conn:
            acc.create_user(conn, "op1", "operator")
            acc.create_user(conn, "aud", "auditor")
    first = alerts[0]["alert_id"]
    runner = CliRunner()
    r = runner.invoke(app, ["alerts", "list", "--db", str(db), "--user", "op1", "--json"])
    assert r.exit_code == 0, r.output
    assert first in [a["alert_id"] for a in json.loads(r.stdout)]
    r = runner.invoke(app, ["alerts", "ack", str(first), "--false-alarm", "--db", str(db), "--user", "op1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["alerts", "show", str(first), "--db", str(db), "--user", "op1", "--json"])
    shown = json.loads(r.stdout)
    assert shown["status"] == "false_alarm" and shown["feedback"][0]["user_name"] == "op1"
    r = runner.invoke(app, ["alerts", "list", "--db", str(db), "--user", "aud"])
    assert r.exit_code != 0
    with Store(db) as store:
        actions = [(row[0], row[1]) for row in store.query("SELECT action, outcome FROM audit_log")]
    assert ("alerts", "ok") in actions and ("alerts", "denied") in actions and ("watch", "ok") in actions


def test_once_gives_up_on_a_dead_stream_with_default_reconnects(tmp_path):
    # Default config: reconnect forever when live; under --once the watch must still come to an end.
    wcfg = load_watch_config(None, {"run.workers": 1})
    assert wcfg.run.reconnect_tries == 0
    specs = [CameraSpec("rtsp://127.0.0.1:9/dead", "DEAD", [make_zone(BAND, "t")])]
    res = watch_sources(specs, None, None, wcfg, once=True, clips_dir=tmp_path / "clips")
    assert res.cameras["DEAD"].state == "failed"
    assert [a.camera for a in res.operator_alerts] == ["DEAD"]
