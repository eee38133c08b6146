"""`bench colours` scores the stored clothing colours against a town's truth, by what each person carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaytrack.bench.colours import run, score_sightings
from relaytrack.errors import InputError

PEOPLE = {
    "1": {"upper": "yellow", "lower": "blue", "items": ["backpack"]},
    "2": {"upper": "red", "lower": "black", "items": []},
    "3": {"upper": "white", "lower": "gray", "items": ["handbag"]},
}


def test_right_and_wrong_reads_are_counted_by_part_and_by_what_is_carried() -> None:
    rows = [
        (10, "brown", "blue"),  # the backpack wearer's top read as the pack
        (11, "yellow", "blue"),
        (12, "red", "black"),
        (13, "white", None),  # no lower colour read
        (14, "green", "green"),  # nobody (a false track): not scored
        (15, "red", "red"),  # a person without colours in the truth: not scored
    ]
    identities = {10: 1, 11: 1, 12: 2, 13: 3, 14: None, 15: 99}
    res = score_sightings(rows, identities, PEOPLE)
    assert res["sightings"] == 4 and res["upper_right"] == 3 and res["lower_right"] == 3
    assert res["upper_accuracy"] == 0.75 and res["lower_accuracy"] == 0.75
    assert res["by_carried"]["backpack"] == {
        "sightings": 2, "upper_right": 1, "lower_right": 2, "upper_accuracy": 0.5, "lower_accuracy": 1.0
    }  # fmt: skip
    assert res["by_carried"]["other bag"]["lower_accuracy"] == 0.0
    assert res["confusions"]["upper"] == {"yellow -> brown": 1}
    assert res["confusions"]["lower"] == {"gray -> none": 1}


def test_nothing_scored_has_no_accuracy() -> None:
    res = score_sightings([(1, "red", "black")], {1: None}, PEOPLE)
    assert res["sightings"] == 0 and res["upper_accuracy"] is None


def test_a_town_the_relay_bench_has_not_ingested_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="town-s7-c12-m1-d3-x2.db: no ingested town.*bench relay"):
        run([7], tmp_path, say=lambda _m: None)


def test_the_command_scores_the_held_out_towns_or_the_tuning_ones(tmp_path: Path, monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from relaytrack.bench import colours
    from relaytrack.cli import app
    from relaytrack.seeds import HELD_OUT, TUNING

    seen: list[str] = []

    def fake(tdir: Path, db: Path) -> dict:
        seen.append(tdir.name)
        return score_sightings([(1, "red", "black")], {1: 2}, PEOPLE)

    monkeypatch.setattr(colours, "score_town", fake)
    out = tmp_path / "c.json"
    r = CliRunner().invoke(
        app, ["bench", "colours", "--towns", "2", "--work", str(tmp_path), "--json", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert seen == [f"town-s{s}-c12-m1-d3-x2" for s in HELD_OUT["relay-towns"][:2]]
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["pooled"]["upper_accuracy"] == 1.0 and res["pooled"]["by_carried"]["no bag"]["sightings"] == 2
    seen.clear()
    assert (
        CliRunner()
        .invoke(app, ["bench", "colours", "--tuning", "--towns", "1", "--work", str(tmp_path)])
        .exit_code
        == 0
    )
    assert seen == [f"town-s{TUNING['relay-towns'][0]}-c12-m1-d3-x2"]
