"""False alarms on confuser towns: attributed to the confuser kind whose visit they overlap, summed over the
exposure with a 95 % upper bound (no rendering)."""

from relaytrack.bench.watch_confusers import attribute, summarise

TRUTH = {"confusers": [
    {"id": 9, "kind": "postman", "visits": [{"camera": "C02", "zone": "Z1", "start": 10.0, "end": 14.0}]},
    {"id": 10, "kind": "resident", "visits": [{"camera": "C01", "zone": "Z4", "start": 30.0, "end": 36.0}]},
]}  # fmt: skip


def test_false_alarms_are_attributed_by_camera_and_time():
    alerts = [{"camera": "C02", "start": 13.0, "end": 20.0}, {"camera": "C01", "start": 12.0, "end": 14.0},
              {"camera": "C01", "start": 37.5, "end": 40.0}]  # fmt: skip
    assert attribute(alerts, TRUTH) == {"postman": 1, "other": 1, "resident": 1}


def test_rate_and_upper_bound_over_the_exposure():
    rows = [{"alerts": 1, "camera_hours": 1.0, "by_kind": {"postman": 1}, "visits_by_kind": {"postman": 4}},
            {"alerts": 0, "camera_hours": 1.5, "by_kind": {}, "visits_by_kind": {"resident": 2}}]  # fmt: skip
    s = summarise(rows)
    assert s["false_alarms"] == 1 and s["camera_hours"] == 2.5
    assert s["false_alarm_rate"]["rate"] == 0.4 and 1.8 < s["upper_95_per_camera_hour"] < 2.0  # 4.74 / 2.5
    assert s["target_fa_per_camera_hour<=1"] and s["visits_by_kind"] == {"postman": 4, "resident": 2}
    assert summarise([])["false_alarm_rate"] is None
