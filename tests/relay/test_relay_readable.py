"""One clock and Korean text in the relay's outputs (issue 19): Seoul times with +09:00 in route JSON and
GeoJSON, `start`/`end` still seconds into the clip, stop reasons as sentences, a dead end pointing at the next
search hits, Korean under --lang ko."""

from __future__ import annotations

import json
from pathlib import Path

from relay_factory import T0
from test_relay_engine import DIM, Town, unit, walk
from typer.testing import CliRunner

from relaytrack.clock import human, to_seoul_iso
from relaytrack.evidence.access import create_case, create_user

# the factory's sightings start at its T0 (wall time); the walk starts there
DAY = human(T0)[:13]  # "YYYY-MM-DD HH" in Seoul


def _setup(db: str, tmp_path: Path) -> tuple[Town, list[int], str]:
    town = Town(db, tmp_path)
    with town.store.tx() as conn:
        create_user(conn, "kim", "investigator")
        create_case(conn, "2026-7", legal_basis="w", purpose="p", members=["kim"])
    ids = walk(town, unit(town.rng.normal(size=DIM)))
    return town, ids, town.store.url


def test_route_times_are_seoul_and_clip_seconds_stay(store_db: str, tmp_path: Path) -> None:
    from relaytrack.cli import app

    town, ids, db = _setup(store_db, tmp_path)
    out, geo, rep = tmp_path / "route.json", tmp_path / "r.geojson", tmp_path / "r.html"
    args = ["relay", "--from", str(ids[1]), "--hops", "3", "--db", db, "--out", str(out), "--geojson", str(geo),
            "--html", str(rep), "--user", "kim", "--case", "2026-7"]  # fmt: skip
    res = CliRunner().invoke(app, ["--lang", "en", *args])
    assert res.exit_code == 0, res.output
    hops = json.loads(out.read_text())["hops"]
    for h in hops:
        assert isinstance(h["start"], float) and isinstance(h["end"], float)  # the contract keys, unchanged
        assert h["start_time"] == to_seoul_iso(h["wall_start"])
        assert h["start_time"].endswith("+09:00") and h["end_time"].endswith("+09:00")
    assert hops[0]["start_time"][:13] == to_seoul_iso(T0)[:13]
    feats = json.loads(geo.read_text())["features"]
    times = [f["properties"]["time"] for f in feats if f["properties"]["kind"] == "hop"]
    assert times and all(x.endswith("+09:00") for x in times) and not any(x.endswith("Z") for x in times)
    route_line = next(f for f in feats if f["properties"]["kind"] == "route")
    assert all(x.endswith("+09:00") for x in route_line["properties"]["times"])
    assert DAY in res.output  # the table shows Seoul wall-clock time first
    assert "{'" not in res.output and "stopped:" in res.output  # a sentence, not a Python dict
    html = rep.read_text(encoding="utf-8")
    assert DAY in html and "Z<" not in html and "{'" not in html
    town.store.close()


def test_dead_end_names_the_next_search_hits_in_korean(store_db: str, tmp_path: Path) -> None:
    from relaytrack.cli import app

    town, ids, db = _setup(store_db, tmp_path)
    ident = ["--db", db, "--user", "kim", "--case", "2026-7"]
    runner = CliRunner()
    res = runner.invoke(app, ["search", "--sighting", str(ids[0]), "--top", "6", "--json", *ident])
    assert res.exit_code == 0, res.output
    hits = [h["sighting"] for h in json.loads(res.stdout)]
    assert all(h["start_time"].endswith("+09:00") for h in json.loads(res.stdout))
    first = hits[0]
    # --hops 0: the route is the origin alone, a dead end
    res = runner.invoke(app, ["--lang", "ko", "relay", "--from", str(first), "--hops", "0",
                              "--out", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"), *ident])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "카메라 한 대에서 끝났습니다" in res.output
    for nxt in hits[1:4]:
        assert f"relaytrack relay --from {nxt}" in res.output
    assert "카메라 한 대에서 끝났습니다" in (tmp_path / "r.html").read_text(encoding="utf-8")
    # Korean hop reasons and stop reasons; the route JSON keeps English reasons (the contract)
    res = runner.invoke(app, ["--lang", "ko", "relay", "--from", str(ids[0]), "--hops", "3",
                              "--out", str(tmp_path / "r2.json"), *ident])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "추적 중단" in res.output and "stopped" not in res.output and "appearance" not in res.output
    route = json.loads((tmp_path / "r2.json").read_text())
    assert any(r.startswith("appearance") for h in route["hops"][1:] for r in h["reasons"])
    town.store.close()


def test_search_table_in_korean(store_db: str, tmp_path: Path) -> None:
    from relaytrack.cli import app

    town, ids, db = _setup(store_db, tmp_path)
    res = CliRunner().invoke(app, ["--lang", "ko", "search", "--text", "빨간 상의", "--top", "3", "--db", db,
                                   "--user", "kim", "--case", "2026-7"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "상의 빨강" in res.output and "upper red" not in res.output and "{" not in res.output
    assert DAY[:10] in res.output  # the Seoul date (the table may wrap the time in a narrow terminal)
    town.store.close()
