"""Capacity planning: the arithmetic (linear in cameras and rate, gating lowers it), the JSON contract of
`relaytrack plan capacity`, bad input as a one-line usage error (exit 2), and where the costs come from."""

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.errors import RelaytrackError
from relaytrack.pipeline.capacity import (
    DEFAULT_COSTS,
    CapacityRequest,
    StageCosts,
    load_costs,
    plan_capacity,
    save_costs,
)

COSTS = StageCosts(
    detect_s=0.040,
    track_s=0.002,
    describe_s=0.005,
    store_s=0.003,
    decode_s=0.002,
    gate_s=0.0005,
    gated_share={1.0: 0.5, 5.0: 0.3},
    sightings_per_camera_hour=100.0,
    bytes_per_sighting=20_000.0,
    provenance={"command": "test"},
)


def _plan(**kw):
    return plan_capacity(CapacityRequest(**kw), COSTS)


def test_cores_scale_linearly_with_cameras_and_rate():
    base = _plan(cameras=1000, fps=1.0, gated_share=0.0)
    # 1000 x (decode 2 + gate 0.5 + 50 analysed) ms = 52.5 core-seconds per second, at 75 %: 70 cores
    assert base.core_seconds_per_s == pytest.approx(52.5)
    assert base.cpu_cores == 70
    assert _plan(cameras=3000, fps=1.0, gated_share=0.0).core_seconds_per_s == pytest.approx(3 * 52.5)
    assert _plan(cameras=1000, fps=4.0, gated_share=0.0).core_seconds_per_s == pytest.approx(4 * 52.5)
    assert _plan(cameras=3000, fps=1.0, gated_share=0.0).cpu_cores == 210
    # storage follows the cameras, not the rate: 1000 x 100 sightings/h x 24 h x 20 kB = 48 GB
    assert base.storage_gb_per_day == pytest.approx(48.0)
    assert _plan(cameras=2000, fps=5.0, gated_share=0.0).storage_gb_per_day == pytest.approx(96.0)


def test_gating_lowers_the_cores_and_decoding_the_full_stream_raises_them():
    none = _plan(cameras=1000, fps=1.0, gated_share=0.0)
    half = _plan(cameras=1000, fps=1.0, gated_share=0.5)
    assert half.analysed_per_s == pytest.approx(500.0)
    assert half.core_seconds_per_s == pytest.approx(1000 * (0.0025 + 0.5 * 0.050))
    assert half.cpu_cores < none.cpu_cores
    measured = _plan(cameras=1000, fps=3.0)  # between the measured rates: 0.5 at 1 fps, 0.3 at 5 fps
    assert measured.gated_share == pytest.approx(0.4)
    full = _plan(cameras=1000, fps=1.0, gated_share=0.0, source_fps=25.0)
    assert full.stage_cores["decode"] == pytest.approx(25 * none.stage_cores["decode"])


def test_gpus_only_where_a_gpu_cost_was_measured():
    assert _plan(cameras=100).gpus is None
    gpu = plan_capacity(
        CapacityRequest(cameras=10_000, fps=1.0, gated_share=0.0), replace(COSTS, gpu_detect_s=0.001)
    )
    assert gpu.gpus == 14  # 10,000 frames/s x 1 ms / 0.75
    assert gpu.cpu_cores_with_gpus < gpu.cpu_cores


@pytest.mark.parametrize(
    "kw, flag",
    [
        ({"cameras": 0}, "--cameras 0"),
        ({"cameras": 10, "fps": -1.0}, "--fps -1"),
        ({"cameras": 10, "fps": 0.0}, "--fps 0"),
        ({"cameras": 10, "gated_share": 1.0}, "--gated-share 1"),
        ({"cameras": 10, "utilisation": 0.0}, "--utilisation 0"),
        ({"cameras": 10, "fps": 5.0, "source_fps": 2.0}, "--source-fps 2"),
    ],
)
def test_bad_requests_name_the_option(kw, flag):
    with pytest.raises(RelaytrackError, match=flag):
        plan_capacity(CapacityRequest(**kw), COSTS)


def test_costs_round_trip_and_fall_back_to_the_embedded_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "home"))
    costs, origin = load_costs()
    assert costs is DEFAULT_COSTS and "embedded defaults" in origin
    assert DEFAULT_COSTS.provenance.get("measured_at") and DEFAULT_COSTS.provenance.get("command")
    path = save_costs(COSTS)
    again, origin = load_costs()
    assert again == COSTS and str(path) in origin
    with pytest.raises(RelaytrackError, match="no such costs file"):
        load_costs(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"detect_s": 0.1}))
    with pytest.raises(RelaytrackError, match="missing"):
        load_costs(tmp_path / "bad.json")


def test_cli_json_contract(tmp_path):
    costs = save_costs(COSTS, tmp_path / "costs.json")
    res = CliRunner().invoke(app, ["plan", "capacity", "--cameras", "176371", "--fps", "2", "--costs",
                                   str(costs), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"cameras", "fps", "cpu_cores", "storage_gb_per_day", "gpus", "gated_share", "costs"} <= set(out)
    assert out["cameras"] == 176371 and out["fps"] == 2.0
    assert isinstance(out["cpu_cores"], int) and out["cpu_cores"] > 0
    assert out["gpus"] is None and str(costs) in out["costs"]["origin"]
    plain = CliRunner().invoke(app, ["plan", "capacity", "--cameras", "10", "--costs", str(costs)])
    assert plain.exit_code == 0 and "GPU: none measured" in plain.stdout


@pytest.mark.parametrize("args", [["--cameras", "0"], ["--cameras", "5", "--fps", "-2"]])
def test_cli_bad_input_is_one_line_and_exit_2(args):
    res = CliRunner().invoke(app, ["plan", "capacity", *args])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --")
