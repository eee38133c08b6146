"""Event matching of alerts against a town's truth, and watch sources from a camera network file."""

from __future__ import annotations

import pytest

from relaytrack.errors import InputError
from relaytrack.watch.evaluate import evaluate_events
from relaytrack.watch.service import sources_from_network

TRUTH = {
    "couriers": [
        {
            "id": 2,
            "events": [
                {
                    "camera": "C03",
                    "zone": "Z62",
                    "kind": "drop",
                    "start": 7.0,
                    "end": 17.3,
                    "hand": [7.6, 11.2],
                },
                {"camera": "C03", "zone": "Z60", "kind": "drop", "start": 22.5, "end": 36.9, "hand": None},
                {"camera": "C05", "zone": "Z60", "kind": "drop", "start": 22.5, "end": 36.9},
            ],
        }
    ]
}


def test_matching_is_one_to_one_by_camera_and_time():
    alerts = [
        {"camera": "C03", "start": 7.4, "end": 15.0, "decided": 9.0, "score": 0.7, "zone": "Z62"},
        {
            "camera": "C03",
            "start": 8.0,
            "end": 16.0,
            "decided": 10.0,
            "score": 0.7,
            "zone": "Z62",
        },  # duplicate
        {
            "camera": "C05",
            "start": 50.0,
            "end": 55.0,
            "decided": 51.0,
            "score": 0.7,
            "zone": "Z1",
        },  # wrong time
        {"camera": "C03", "start": 23.0, "end": 30.0, "decided": 25.5, "score": 0.8, "zone": "Z60"},
        {"camera": "C03", "kind": "camera_down", "start": 0, "end": 0, "score": 1.0},  # not a courier alert
    ]
    ev = evaluate_events(alerts, TRUTH)
    assert ev["events"] == 3 and ev["alerts"] == 4 and ev["matched"] == 2
    assert ev["recall"] == pytest.approx(2 / 3, abs=1e-3) and ev["precision"] == 0.5
    assert sorted(m["latency"] for m in ev["matches"]) == [2.0, 3.0]
    assert ev["latency_action"] == 1.4 and ev["zone_correct"] == 2


def test_sources_from_network(tmp_path):
    (tmp_path / "videos").mkdir()
    net = tmp_path / "cameras.yaml"
    net.write_text(
        "cameras:\n"
        "  - {id: C01, source: videos/C01.mp4, start_time: '2026-11-25T23:00:00+09:00',"
        " zones: [{id: Z1, kind: mailbox, polygon: [[0,0],[9,0],[9,9]]}]}\n"
        "  - {id: C02, stream_url: 'rtsp://10.0.0.2/live'}\n"
        "  - {id: C03}\n",
        encoding="utf-8",
    )
    specs = sources_from_network(net)
    assert [s.camera for s in specs] == ["C01", "C02"]
    assert specs[0].uri == str((tmp_path / "videos" / "C01.mp4").resolve())
    assert specs[0].zones[0].kind == "mailbox" and specs[1].zones == []
    assert specs[0].start_wall == pytest.approx(1795615200.0)
    empty = tmp_path / "empty.yaml"
    empty.write_text("cameras:\n  - {id: C9}\n", encoding="utf-8")
    with pytest.raises(InputError, match="no camera has a source"):
        sources_from_network(empty)


def test_strict_matching_needs_the_right_hiding_spot():
    # The only alert on C03 at the time of the Z62 drop names Z60: found by camera and time, not by zone.
    alerts = [{"camera": "C03", "start": 7.4, "end": 15.0, "decided": 9.0, "score": 0.7, "zone": "Z60"}]
    ev = evaluate_events(alerts, TRUTH)
    assert ev["matched"] == 1 and ev["found_zone"] == 0 and ev["recall_zone"] == 0.0
    assert ev["precision"] == 1.0 and ev["precision_zone"] == 0.0
    # A wrong-zone alert does not use up the right one in the strict matching.
    alerts.append({"camera": "C03", "start": 8.0, "end": 16.0, "decided": 10.0, "score": 0.7, "zone": "Z62"})
    ev = evaluate_events(alerts, TRUTH)
    assert ev["found_zone"] == 1 and ev["latency_zone"] == 3.0
