"""models check / registry: digests, output comparison, contract errors, overrides."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from onnx_tiny import FLOAT, needs_shared_models, unknown_field
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.errors import ModelError
from relaytrack.models import check
from relaytrack.models.reference import REFERENCE_STATS
from relaytrack.models.registry import MODELS, onnx_session, resolve
from relaytrack.paths import shared_models_dir

EMBEDDER = "mobilenetv2-imagenet-embedder.onnx"


def test_reference_input_is_deterministic_and_follows_contracts():
    for name in MODELS:
        a, b = check.reference_input(name), check.reference_input(name)
        assert np.array_equal(a, b)
    assert check.reference_input("nanodet").shape == (1, 3, 416, 416)
    assert check.reference_input("movenet").dtype == np.int32
    assert check.reference_input("ssdlite").dtype == np.uint8
    assert check.reference_input("embedder").shape == (2, 3, 256, 128)
    blaze = check.reference_input("blazeface")
    assert blaze.shape == (1, 128, 128, 3) and blaze.min() >= -1 and blaze.max() <= 1
    # The picture has structure, not a constant: otherwise output checks would prove little.
    assert check.reference_image(64, 64).std() > 30
    with pytest.raises(ModelError, match="unknown-model"):
        check.reference_input("unknown-model")


@needs_shared_models
def test_check_passes_on_the_shared_models_by_digest(isolated_models):
    results = check.check_models()
    assert [r.name for r in results] == list(MODELS)
    for r in results:
        assert r.ok, r.error
        assert r.passed_by == "digest" and r.digest_match and r.contract_ok
        assert Path(r.path).parent == shared_models_dir()


@needs_shared_models
@pytest.mark.parametrize("name", list(MODELS))
def test_stored_reference_stats_match_the_shared_models(name):
    # Guards reference.py against drift of reference_input() or of the stored numbers.
    outputs = check.run_model(name, shared_models_dir() / MODELS[name].file)
    assert set(outputs) == set(REFERENCE_STATS[name])
    for out_name, arr in outputs.items():
        ok, _, why = check.compare_stats(REFERENCE_STATS[name][out_name], arr)
        assert ok, f"{name}/{out_name}: {why}"


def _equivalent_copy(dst_dir: Path) -> Path:
    """The shared embedder with different bytes but the same graph (an extra unknown protobuf field)."""
    dst = dst_dir / EMBEDDER
    shutil.copyfile(shared_models_dir() / EMBEDDER, dst)
    with open(dst, "ab") as f:
        f.write(unknown_field())
    return dst


@needs_shared_models
def test_rebuilt_file_with_other_bytes_passes_by_outputs_vs_shared(isolated_models):
    built = _equivalent_copy(isolated_models)
    assert resolve("embedder") == built  # a built file is preferred over the shared one
    res = check.check_file("embedder", built)
    assert res.ok, res.error
    assert not res.digest_match and res.passed_by == "outputs-vs-shared" and res.max_abs_diff == 0.0
    assert res.build_record is None  # no BUILD.json beside it
    record = {"embedder": {"file": EMBEDDER, "sha256": res.sha256}}
    (isolated_models / "BUILD.json").write_text(json.dumps(record))
    assert check.check_file("embedder", built).build_record is True
    record["embedder"]["sha256"] = "0" * 64
    (isolated_models / "BUILD.json").write_text(json.dumps(record))
    assert check.check_file("embedder", built).build_record is False


@needs_shared_models
def test_rebuilt_file_passes_by_stored_stats_without_shared(tmp_path, monkeypatch):
    built = _equivalent_copy(tmp_path)
    empty = tmp_path / "empty-shared"
    (empty / "models").mkdir(parents=True)
    monkeypatch.setenv("RELAYTRACK_SHARED", str(empty))
    res = check.check_file("embedder", built)
    assert res.ok, res.error
    assert res.passed_by == "outputs-vs-stats"


def _identity_model(path: Path, make_onnx, shape: list) -> Path:
    path.write_bytes(
        make_onnx([("input", FLOAT, shape)], [("feat", FLOAT, shape)], [("Identity", ["input"], ["feat"])])
    )
    return path


def test_stats_comparison_accepts_equal_and_rejects_changed_outputs(tmp_path, no_shared, make_onnx):
    model = _identity_model(tmp_path / "ident.onnx", make_onnx, ["N", 3, "H", "W"])
    stats = check.reference_stats_of("embedder", model)
    res = check.check_file("embedder", model, reference_stats=stats)
    assert res.ok and res.passed_by == "outputs-vs-stats", res.error
    shifted = json.loads(json.dumps(stats))
    shifted["feat"]["mean"] += 0.05
    res = check.check_file("embedder", model, reference_stats=shifted)
    assert not res.ok and "statistics differ" in res.error and str(model) in res.error
    reshaped = json.loads(json.dumps(stats))
    reshaped["feat"]["shape"] = [2, 1280]
    assert "shape" in check.check_file("embedder", model, reference_stats=reshaped).error


@needs_shared_models
def test_contract_compliant_but_wrong_model_fails_against_shared(tmp_path, make_onnx):
    # Right rank, dtype and output count for the embedder, but it computes something else.
    model = _identity_model(tmp_path / "fake-embedder.onnx", make_onnx, ["N", 3, "H", "W"])
    res = check.check_file("embedder", model)
    assert res.contract_ok and not res.ok
    assert "outputs-vs-shared" in res.error and str(model) in res.error


def test_array_comparison_tolerance():
    ref = np.linspace(-5, 5, 100, dtype=np.float32)
    assert check.compare_arrays(ref, ref + 1e-6)[0]
    ok, diff, why = check.compare_arrays(ref, ref + 0.1)
    assert not ok and diff == pytest.approx(0.1, rel=1e-3) and "tolerance" in why
    assert not check.compare_arrays(ref, ref[:50])[0]


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a protobuf at all \x00\xff" * 10, "truncated"],
    ids=["empty", "garbage", "truncated"],
)
def test_unreadable_model_gives_model_error_naming_the_file(tmp_path, make_onnx, content):
    path = tmp_path / "broken.onnx"
    if content == "truncated":
        full = make_onnx(
            [("input", FLOAT, [1, 3, 8, 8])],
            [("feat", FLOAT, [1, 3, 8, 8])],
            [("Identity", ["input"], ["feat"])],
        )
        content = full[: len(full) // 2]
    path.write_bytes(content)
    with pytest.raises(ModelError) as err:
        onnx_session("embedder", path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    res = check.check_file("embedder", path)
    assert not res.ok and str(path) in res.error


@needs_shared_models
def test_truncated_real_model_gives_model_error(tmp_path):
    data = (shared_models_dir() / EMBEDDER).read_bytes()
    path = tmp_path / EMBEDDER
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match=str(path)):
        onnx_session("embedder", path)


def test_wrong_shaped_model_gives_model_error_naming_the_file(tmp_path, make_onnx):
    rank2 = _identity_model(tmp_path / "rank2.onnx", make_onnx, ["N", 1280])
    with pytest.raises(ModelError, match=r"wrong input for embedder") as err:
        onnx_session("embedder", rank2)
    assert str(rank2) in str(err.value)
    # Right input, wrong number of outputs for nanodet (six expected).
    one_out = make_onnx(
        [("input_1:0", FLOAT, [1, 3, 416, 416])],
        [("y", FLOAT, [1, 3, 416, 416])],
        [("Identity", ["input_1:0"], ["y"])],
    )
    path = tmp_path / "one-output.onnx"
    path.write_bytes(one_out)
    with pytest.raises(ModelError, match=r"wrong outputs for nanodet: expected 6, got 1"):
        onnx_session("nanodet", path)


def test_resolve_honours_override_and_lookup_order(isolated_models, tmp_path, no_shared, make_onnx):
    mine = _identity_model(tmp_path / "my-embedder.onnx", make_onnx, ["N", 3, "H", "W"])
    assert resolve("embedder", override=mine) == mine
    assert resolve("embedder", override=str(mine)) == mine
    with pytest.raises(ModelError, match="nope.onnx: model file not found"):
        resolve("embedder", override=tmp_path / "nope.onnx")
    with pytest.raises(ModelError, match="run `relaytrack models build`"):
        resolve("embedder")
    built = isolated_models / EMBEDDER
    shutil.copyfile(mine, built)
    assert resolve("embedder") == built
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        resolve("nope")
    # A session on the override goes through the same contract check.
    assert onnx_session("embedder", mine).get_outputs()[0].name == "feat"


def test_missing_models_fail_check(isolated_models, no_shared):
    results = check.check_models(["embedder"])
    assert len(results) == 1 and not results[0].ok and "not found" in results[0].error
    with pytest.raises(ModelError, match="unknown model"):
        check.check_models(["bogus"])


@needs_shared_models
def test_cli_check_json_and_exit_codes(isolated_models):
    runner = CliRunner()
    ok = runner.invoke(app, ["models", "check", "--json", "--only", "embedder"])
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.stdout)
    assert payload["ok"] and payload["models"][0]["passed_by"] == "digest"
    (isolated_models / EMBEDDER).write_bytes(b"garbage")
    bad = runner.invoke(app, ["models", "check", "--json", "--only", "embedder"])
    assert bad.exit_code == 1
    payload = json.loads(bad.stdout)
    assert not payload["ok"]
    broken = [m for m in payload["models"] if not m["ok"]]
    assert broken and str(isolated_models / EMBEDDER) in broken[0]["error"]
