"""The CLI contract end to end on a tiny store: export from route.json, verify, request workflow, stats."""

import csv
import json

import cv2
import numpy as np
from typer.testing import CliRunner

from relaytrack.cli import app


def test_export_route_and_request_flow(store, add_sightings, tmp_path):
    seq = tmp_path / "seq" / "img1"
    seq.mkdir(parents=True)
    for f in range(1, 11):
        cv2.imwrite(str(seq / f"{f:06d}.png"), np.full((48, 64, 3), 90, np.uint8))
    ids = add_sightings(store, uri=str(seq.parent), n=2, wall=1_790_000_000.0)
    store.close()
    db = store.url
    run = CliRunner().invoke
    route = tmp_path / "route.json"
    route.write_text(
        json.dumps(
            {"hops": [{"sighting": ids[0], "camera": "CAM1", "start": 0.0, "end": 0.9, "frames": [1, 10]}]}
        )
    )
    pkg = tmp_path / "pkg"
    r = run(
        app,
        [
            "evidence",
            "export",
            "--route",
            str(route),
            "--out",
            str(pkg),
            "--case",
            "C-1",
            "--user",
            "kim",
            "--no-detect",
            "--no-faces",
            "--db",
            db,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert run(app, ["evidence", "verify", str(pkg)]).exit_code == 0
    # same export without a case: refused
    r = run(
        app,
        [
            "evidence",
            "export",
            "--sightings",
            str(ids[0]),
            "--out",
            str(tmp_path / "p2"),
            "--user",
            "kim",
            "--no-detect",
            "--no-faces",
            "--db",
            db,
        ],
    )
    assert r.exit_code != 0 and not (tmp_path / "p2").exists()

    base = ["--db", db]
    r = run(
        app,
        [
            "requests",
            "add",
            "--agency",
            "police",
            "--purpose",
            "drug courier",
            "--cameras",
            "CAM1",
            "--start",
            "2026-09-21T00:00:00+09:00",
            "--end",
            "2026-09-21T02:00:00+09:00",
            "--drug",
            "--user",
            "kim",
            "--case",
            "C-1",
            "--json",
            *base,
        ],
    )
    assert r.exit_code == 0, r.output
    rid = json.loads(r.output)["request"]
    assert run(app, ["requests", "approve", str(rid), "--user", "kim", *base]).exit_code != 0
    assert run(app, ["requests", "approve", str(rid), "--user", "park", *base]).exit_code == 0
    r = run(app, ["requests", "deliver", str(rid), "--package", str(pkg), "--user", "kim", *base])
    assert r.exit_code == 0, r.output
    assert (
        run(app, ["requests", "outcome", str(rid), "--outcome", "arrest", "--user", "kim", *base]).exit_code
        == 0
    )
    r2 = run(
        app,
        [
            "requests",
            "add",
            "--agency",
            "fire",
            "--purpose",
            "fire cause",
            "--cameras",
            "CAM1",
            "--start",
            "2026-09-22T00:00:00",
            "--end",
            "2026-09-22T01:00:00",
            "--user",
            "kim",
            "--case",
            "C-1",
            "--json",
            *base,
        ],
    )
    rid2 = json.loads(r2.output)["request"]
    assert (
        run(
            app,
            [
                "requests",
                "refuse",
                str(rid2),
                "--reason",
                "outside the purpose of the case",
                "--user",
                "park",
                *base,
            ],
        ).exit_code
        == 0
    )
    out_csv, out_html = tmp_path / "s.csv", tmp_path / "s.html"
    month = __import__("datetime").datetime.now().strftime("%Y-%m")
    r = run(
        app,
        [
            "requests",
            "stats",
            "--month",
            month,
            "--csv",
            str(out_csv),
            "--html",
            str(out_html),
            "--user",
            "aud",
            *base,
        ],
    )
    assert r.exit_code == 0, r.output
    rows = {row["agency"]: row for row in csv.DictReader(out_csv.open())}
    assert rows["police"]["delivered"] == "1" and rows["police"]["arrests"] == "1"
    assert rows["fire"]["refused"] == "1" and rows["ALL"]["drug_related"] == "1"
    assert "<table>" in out_html.read_text()
    assert run(app, ["audit", "verify", *base]).exit_code == 0
