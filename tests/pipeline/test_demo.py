"""The main job end to end on a tiny town: the --json contract, the demo case, and case-bound access."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

KEYS = ("detector_recall", "tracking_idf1", "route_accuracy", "route_hops_found", "route_hops_true",
        "route_precision", "route_recall", "route_f1", "decoys", "events_recall", "events_precision", "report",
        "seconds")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    db, fig = out / "demo.db", out / "fig.json"
    r = subprocess.run(
        [sys.executable, "-m", "relaytrack.cli", "demo", "--seed", "3", "--cameras", "3", "--minutes", "0.4",
         "--decoys", "1", "--out", str(out), "--db", str(db), "--json", str(fig)],
        capture_output=True, text=True, timeout=1500,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return db, json.loads(fig.read_text()), r.stdout


def test_json_has_the_contract_keys_with_real_values(demo):
    _, fig, stdout = demo
    for k in KEYS:
        assert k in fig, k
    assert 0.0 < fig["detector_recall"] <= 1.0
    assert 0.0 <= fig["tracking_idf1"] <= 1.0 and 0.0 <= fig["route_accuracy"] <= 1.0
    assert fig["route_hops_true"] >= 1 and 0 <= fig["route_hops_found"] <= fig["route_hops_true"]
    for k in ("route_precision", "route_recall", "route_f1"):
        assert 0.0 <= fig[k] <= 1.0, k
    assert fig["decoys"] == 1 and fig["links"] == "register"  # links not given: the register's own
    assert "P / R / F1" in stdout and "look-alike decoys in the town 1" in stdout
    # The route comes from the investigator's pick (the first hit that is the suspect) when the search has the
    # suspect, and the unattended pick is scored beside it either way.
    assert fig["route_origin"] in ("operator", "unattended")
    assert (fig["route_origin"] == "operator") == (fig["search_first_suspect_rank"] is not None)
    assert fig["route_start_is_suspect"] == (fig["route_origin"] == "operator")
    alone = fig["route_unattended"]
    assert all(0.0 <= alone[k] <= 1.0 for k in ("precision", "recall", "f1"))
    assert "route relayed from" in stdout and "unattended pick P / R / F1" in stdout
    assert os.path.exists(fig["report"]) and "<svg" in open(fig["report"], encoding="utf-8").read()
    assert "accuracy against the town's ground truth" in stdout


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "relaytrack.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_demo_case_is_audited_and_searches_need_it(demo):
    db, _, _ = demo
    import pysqlite3.dbapi2 as sqlite3

    conn = sqlite3.connect(str(db))
    actions = conn.execute("SELECT action FROM audit_log WHERE case_no='DEMO-0001' AND user_name='demo'"
                           " AND outcome='ok'").fetchall()
    conn.close()
    assert {"search", "relay"} <= {a[0] for a in actions}
    ok = _cli("search", "--db", str(db), "--text", "파란 바지", "--json",
              env={"RELAYTRACK_USER": "demo", "RELAYTRACK_CASE": "DEMO-0001"})
    assert ok.returncode == 0, ok.stderr
    assert isinstance(json.loads(ok.stdout), list)
    refused = _cli("search", "--db", str(db), "--text", "파란 바지", "--json",
                   env={"RELAYTRACK_USER": "demo", "RELAYTRACK_CASE": ""})
    assert refused.returncode != 0 and "case" in refused.stderr
    assert _cli("audit", "verify", "--db", str(db)).returncode == 0
