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
