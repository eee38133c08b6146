"""`relay confirm|reject` say what the verdict changed in the route (issue 19 item 3), on the service's test
world."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner


def test_cli_reject_explains_what_changed(world, tmp_path: Path, monkeypatch):
    from relaytrack import i18n
    from relaytrack.cli import app

    monkeypatch.setattr(i18n, "_current", None)  # restored after the test: --lang en below must not stay

    s0, s1, _s2, s3 = world.suspect
    out = tmp_path / "r.json"
    ident = ["--db", str(world.db), "--user", "kim", "--case", "C-1"]
    res = CliRunner().invoke(app, ["relay", "--from", str(s0), "--hops", "6", "--out", str(out), *ident])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["relay", "reject", "--route", str(out), str(s3), "--json", *ident])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert {"sighting": s3, "camera": "C04", "reason": "rejected", "by": None} in doc["changes"]["dropped"]
    assert any(f"#{s3}" in line and "rejected" in line for line in doc["changes_explained"])
    res = CliRunner().invoke(app, ["--lang", "en", "relay", "confirm", "--route", str(out), str(s1), *ident])
    assert res.exit_code == 0 and "same sightings as before" in res.output, res.output
