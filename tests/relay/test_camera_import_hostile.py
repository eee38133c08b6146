"""Finding 8 of issue 18: malformed network files give one-line errors (exit 1, no traceback), and camera ids
are restricted to a safe character set."""

import json
import subprocess
import sys

import pytest

CASES = {
    "cameras-scalar.yaml": "cameras: 5\n",
    "links-scalar.yaml": "cameras: []\nlinks: {a: 1}\n",
    "camera-string.yaml": "cameras: [just-a-string]\n",
    "features-int.geojson": json.dumps({"type": "FeatureCollection", "features": [1]}),
    "props-string.geojson": json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": "x"}],
        }
    ),
    "coords-scalar.geojson": json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"geometry": {"type": "Point", "coordinates": 5}, "properties": {"id": "A"}}],
        }
    ),
    "geometry-list.geojson": json.dumps(
        {"type": "FeatureCollection", "features": [{"geometry": [1], "properties": {}}]}
    ),
    "lat-list.yaml": "cameras: [{id: A, lat: [1], lon: 2}]\n",
    "id-slash.yaml": "cameras: [{id: '../../etc', lat: 37.5, lon: 127.0}]\n",
    "id-markup.yaml": "cameras: [{id: '<script>x</script>', lat: 37.5, lon: 127.0}]\n",
    "id-space.csv": "id,lat,lon\ncam one,37.5,127.0\n",
    "id-missing.yaml": "cameras: [{lat: 37.5, lon: 127.0}]\n",
    "id-missing.geojson": json.dumps(
        {"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": [127, 37]}}]}
    ),
    "id-newline.yaml": 'cameras: [{id: "A\\nB", lat: 37.5, lon: 127.0}]\n',
    "lat-nan.yaml": "cameras: [{id: A, lat: .nan, lon: 127.0}]\n",
    "lon-inf.csv": "id,lat,lon\nA,37.5,inf\n",
    "coords-inf.geojson": '{"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", '
    '"coordinates": [1e999, 37.5]}, "properties": {"id": "A"}}]}',
    "coords-nested.geojson": json.dumps(
        {"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": [[1], [2]]},
                                                     "properties": {"id": "A"}}]}
    ),
    "lat-huge-int.yaml": "cameras: [{id: A, lat: 1" + "0" * 400 + ", lon: 127.0}]\n",
    "width-5000-digits.yaml": "cameras: [{id: A, lat: 37.5, lon: 127.0, width: 1" + "0" * 5000 + "}]\n",
    "lat-bool.yaml": "cameras: [{id: A, lat: true, lon: 127.0}]\n",
    "deep.geojson": "[" * 100_000 + "]" * 100_000,
    "alias-bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True))
    + "cameras: [{id: A, lat: 37.5, lon: 127.0, x: *g}]\n",
    "zone-inf.yaml": "cameras: [{id: A, lat: 37.5, lon: 127.0, zones: [{id: z, polygon: [[0, 0], [1, .inf], [2, 2]]}]}]\n",
    "link-src-list.yaml": "cameras: [{id: A, lat: 37.5, lon: 127.0}]\nlinks: [{src: [A], dst: A, mean_s: 3}]\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_network_one_line_error(tmp_path, name):
    f = tmp_path / name
    f.write_text(CASES[name])
    r = subprocess.run(
        [sys.executable, "-m", "relaytrack.cli", "cameras", "import", str(f), "--db", str(tmp_path / "n.db")],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "RELAYTRACK_HOME": str(tmp_path / "home"), "COLUMNS": "400"},
    )
    out = (r.stdout + r.stderr).strip()
    assert r.returncode == 1, out
    assert "Traceback" not in out and len(out.splitlines()) == 1, out
    assert "error" in out


def test_bad_file_keeps_what_is_stored(tmp_path):
    """A malformed file changes nothing already stored: a valid camera before the bad one is not written."""
    from relaytrack.errors import InputError
    from relaytrack.relay.network import all_cameras, all_links, import_network
    from relaytrack.store import Store

    good = tmp_path / "good.yaml"
    good.write_text(
        "cameras:\n"
        "  - {id: 강남-01, lat: 37.5, lon: 127.0, heading_deg: 90}\n"
        "  - {id: SC00001, lat: 37.5005, lon: 127.0, heading_deg: 180}\n"
        "  - {id: 'cam:7@gate.b_2', lat: 37.501, lon: 127.0}\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "cameras:\n  - {id: 강남-01, lat: 37.6, lon: 127.1}\n  - {id: B, lat: 37.5, lon: .inf}\n", encoding="utf-8"
    )
    store = Store(tmp_path / "s.db")
    summary = import_network(store, good)
    assert summary["cameras"] == 3 and summary["links_inferred"] > 0
    before = ([(c.id, c.lat, c.lon) for c in all_cameras(store.conn)], all_links(store.conn))
    with pytest.raises(InputError, match=r"bad\.yaml: cameras\[1\] \(camera B\): lon must be finite"):
        import_network(store, bad)
    assert ([(c.id, c.lat, c.lon) for c in all_cameras(store.conn)], all_links(store.conn)) == before
    store.close()


def test_extra_dates_are_stored_as_text(tmp_path):
    from relaytrack.relay.network import camera_info, import_network
    from relaytrack.store import Store

    f = tmp_path / "d.yaml"
    f.write_text("cameras: [{id: A, lat: 37.5, lon: 127.0, installed: 2020-01-02}]\n")
    store = Store(tmp_path / "s.db")
    import_network(store, f)
    assert camera_info(store.conn, "A")["extra"]["installed"] == "2020-01-02"
    store.close()


def test_flow_register_reads_as_yaml(tmp_path):
    """A register of one JSON object per line is read by the JSON parser; the cameras are those YAML gives."""
    import yaml

    from relaytrack.relay.netfile import _flow_register, read_network

    text = (
        "# a register\ncameras:\n"
        '  - {"id": "SC00001", "name": "강남구 방범 1", "lat": 37.5, "lon": 127.01, "heading_deg": 90.0, '
        '"width": 640, "extra": [1, "a\\/b", null, true], "f": 1.5e+3}\n'
        "\n"
        '  - {"id": "강남-02", "lat": 37.5001, "lon": 127.0, "note": "x: y, # z"}\n'
    )
    assert _flow_register(text) == yaml.safe_load(text)
    f = tmp_path / "r.yaml"
    f.write_text(text, encoding="utf-8")
    assert [e.camera.id for e in read_network(f).cameras] == ["SC00001", "강남-02"]
    for other in ("cameras:\n  - {\"id\": \"A\", \"v\": 1e5}\n", "cameras:\n  - {id: A}\n",
                  "cameras: []\nlinks: []\n", "cameras:\n  - {\"id\": \"A\", \"v\": NaN}\n"):
        assert _flow_register(other) is None
