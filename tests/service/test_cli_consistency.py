"""CLI consistency (issue 19 item 7), on the service's test world: `relay confirm|reject` name the route as
`relay` does (`--from ID` or `--route F`) and write the re-scored route; `users list` and `cases list` for
administrators; help without "<bool>" beside each flag; progress as plain lines in a log file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.errors import AccessDenied
from relaytrack.ui import PlainProgress, progress


def run(world, *argv: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, [*argv, "--db", str(world.db)], env=env)


def kim(*argv: str) -> list[str]:
    return [*argv, "--user", "kim", "--case", "C-1"]


def test_relay_confirm_takes_the_route_as_relay_does_and_writes_it_rescored(world, tmp_path: Path):
    s0, s1, s2, s3 = world.suspect
    route = tmp_path / "route.json"
    res = run(world, *kim("relay", "--from", str(s0), "--hops", "6", "--out", str(route)))
    assert res.exit_code == 0, res.output
    assert not json.loads(route.read_text())["anchors"]

    res = run(world, *kim("relay", "confirm", "--route", str(route), str(s2)))
    assert res.exit_code == 0, res.output
    rescored = json.loads(route.read_text())  # the route file now holds the re-scored route
    assert s2 in rescored["anchors"] and [h["sighting"] for h in rescored["hops"]] == world.suspect
    assert "confirm" in res.output and "C03" in res.output  # the re-scored route is printed

    other = tmp_path / "other.json"
    res = run(world, *kim("relay", "reject", "--from", str(s0), str(s3), "--out", str(other), "--json"))
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"origin", "verdict", "sightings", "stored"} <= set(out)  # the old keys keep their meaning
    assert out["origin"] == s0 and out["verdict"] == "reject" and out["sightings"] == [s3]
    assert out["route"] == str(other) and out["hops"] == len(json.loads(other.read_text())["hops"])
    assert s3 not in [h["sighting"] for h in json.loads(other.read_text())["hops"]]

    res = run(world, *kim("relay", "confirm", str(s0), str(s1)))  # the older form still works
    assert res.exit_code == 0, res.output
    res = run(world, *kim("relay", "confirm", "--from", str(s0), "--route", str(route), str(s1)))
    assert "not both" in str(res.exception)
    res = run(world, *kim("relay", "confirm", "--from", str(s0)))
    assert res.exit_code == 2  # no sighting named: a usage error


def test_users_and_cases_list_for_administrators(world, monkeypatch):
    monkeypatch.delenv("RELAYTRACK_TOKEN", raising=False)
    res = run(world, "users", "list", "--json")  # the store's owner
    assert res.exit_code == 0, res.output
    users = {u["name"]: u for u in json.loads(res.output)}
    assert users["kim"]["role"] == "investigator" and users["kim"]["active"] and users["kim"]["tokens"] >= 1
    assert users["pol"]["agency"] == "police" and users["kim"]["created_time"].endswith("+09:00")
    res = run(world, "cases", "list", "--json")
    cases = {c["case_no"]: c for c in json.loads(res.output)}
    assert cases["C-1"]["members"] == ["aud", "kim", "op", "pol"] and cases["C-1"]["status"] == "open"
    assert cases["C-2"]["purpose"] == "theft"

    res = run(world, "--lang", "ko", "cases", "list")  # a table for a person, in Korean
    assert res.exit_code == 0 and "사건 번호" in res.output and "진행 중" in res.output, res.output

    # Anyone else needs a supervisor's token, as for the other administration commands.
    res = run(world, "users", "list", env={"RELAYTRACK_TOKEN": world.tokens["kim"]})
    assert isinstance(res.exception, AccessDenied) and "not a supervisor" in str(res.exception)
    res = run(world, "cases", "list", "--json", env={"RELAYTRACK_TOKEN": world.tokens["sup"]})
    assert res.exit_code == 0 and len(json.loads(res.output)) == 2


@pytest.mark.parametrize(
    "argv", [("relay", "confirm"), ("cameras", "import"), ("search",), ("users", "list"), ("ingest",)]
)
def test_help_has_no_bool_noise(argv):
    res = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "140"})
    assert res.exit_code == 0, res.output
    assert "<bool>" not in res.output and "--json" in res.output
    assert "<int" in res.output or "<str>" in res.output or "<path>" in res.output  # values keep their type


def test_progress_is_plain_lines_outside_a_terminal():
    assert isinstance(progress(), PlainProgress)  # pytest's stderr is not a terminal
    buf = io.StringIO()
    with PlainProgress(buf, every_s=3600) as bar:
        t = bar.add_task("ingest C01", total=200)
        for i in range(1, 201):
            bar.update(t, completed=i)
        u = bar.add_task("export", total=None)
        bar.advance(u, 5)
    lines = buf.getvalue().splitlines()
    assert lines[0].endswith("ingest C01: started (0/200)")
    assert sum("ingest C01:" in x for x in lines) == 11  # started, each tenth, done
    assert "200/200 (100 %) done" in lines[10]
    assert lines[-2].endswith("export: started") and "export: 5" in lines[-1]  # said when the bar stops
