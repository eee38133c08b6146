"""The re-identification model file: part features plus the learned projection, in one ONNX graph.

Input `input` float [N,3,H,W] at the spec's size (64 x 32 since session 24, 128 x 64 before; RGB / 255,
ImageNet mean and std: the embedder contract), output `embedding` [N,d]. Metadata `relaytrack.reid` records
the feature spec and what it was trained on, so that a model can say what it is (the embedder names its
weights by their hash: stores refuse to mix two models' vectors).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from relaytrack.errors import ModelError
from relaytrack.reid.graph import FeatureSpec, build_features, make_model
from relaytrack.reid.learn import Projection

META_KEY = "relaytrack.reid"


def build(spec: FeatureSpec | None = None, projection: Projection | None = None, info: dict | None = None):
    """An onnx ModelProto: features, then (x - mean) @ W when a projection is given."""
    from onnx import TensorProto, helper, numpy_helper

    spec = spec or FeatureSpec()
    graph = build_features(spec)
    out_dim = spec.dim()
    if projection is not None:
        if projection.weights.shape[0] != spec.dim():
            raise ModelError(f"projection expects {projection.weights.shape[0]} features, the spec gives {spec.dim()}")
        graph.initializer.extend([
            numpy_helper.from_array(projection.mean.astype(np.float32), "reid_mean"),
            numpy_helper.from_array(projection.weights.astype(np.float32), "reid_weights"),
        ])
        graph.node.extend([
            helper.make_node("Sub", ["features", "reid_mean"], ["centred"]),
            helper.make_node("MatMul", ["centred", "reid_weights"], ["embedding"]),
        ])
        out_dim = projection.dim
    else:
        graph.node.append(helper.make_node("Identity", ["features"], ["embedding"]))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", out_dim]))
    model = make_model(graph)
    meta = {"spec": asdict(spec), "dim": out_dim, "trained": projection is not None, **(info or {})}
    if projection is not None:
        meta["projection"] = projection.info
    model.metadata_props.add(key=META_KEY, value=json.dumps(meta, sort_keys=True))
    return model


def model_bytes(model) -> bytes:
    return model.SerializeToString()


def write(model, path: str | Path) -> Path:
    """Write atomically (a half-written model must never be picked up by an ingest)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(model_bytes(model))
    tmp.replace(path)
    return path


def read_meta(path: str | Path) -> dict:
    """The model's relaytrack metadata; ModelError naming the file when it is not a valid ONNX model."""
    import onnx

    p = Path(path)
    try:
        model = onnx.load(str(p))
        onnx.checker.check_model(model)
    except FileNotFoundError as err:
        raise ModelError(f"{p}: model file not found") from err
    except Exception as err:  # onnx raises DecodeError, ValidationError, ... for corrupt files
        raise ModelError(f"{p}: not a valid ONNX model ({str(err).splitlines()[0][:160]})") from err
    for prop in model.metadata_props:
        if prop.key == META_KEY:
            return json.loads(prop.value)
    return {}
