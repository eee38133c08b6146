"""Tiny ONNX models written as raw protobuf, for tests (the project venv has no `onnx` package).

The ONNX schema's field numbers are stable; onnxruntime loads these bytes like any exported file.
"""

from __future__ import annotations

import pytest

from relaytrack.paths import shared_models_dir

FLOAT, UINT8, INT32 = 1, 2, 6


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(num << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint((num << 3) | 2) + _varint(len(data)) + data


def _value_info(name: str, elem_type: int, shape: list[int | str]) -> bytes:
    dims = b"".join(_field(1, _field(1, d) if isinstance(d, int) else _field(2, d)) for d in shape)
    tensor = _field(1, elem_type) + _field(2, dims)
    return _field(1, name) + _field(2, _field(1, tensor))


def tiny_onnx(
    inputs: list[tuple[str, int, list[int | str]]],
    outputs: list[tuple[str, int, list[int | str]]],
    nodes: list[tuple[str, list[str], list[str]]],
    opset: int = 13,
) -> bytes:
    """Serialized ModelProto: nodes are (op_type, inputs, outputs) in the default domain."""
    graph = _field(2, "tiny")
    for i, (op, ins, outs) in enumerate(nodes):
        node = b"".join(_field(1, x) for x in ins) + b"".join(_field(2, x) for x in outs)
        graph += _field(1, node + _field(3, f"n{i}") + _field(4, op))
    graph += b"".join(_field(11, _value_info(*v)) for v in inputs)
    graph += b"".join(_field(12, _value_info(*v)) for v in outputs)
    opset_id = _field(1, "") + _field(2, opset)
    return _field(1, 7) + _field(2, "relaytrack-tests") + _field(7, graph) + _field(8, opset_id)


def unknown_field() -> bytes:
    """A protobuf field no ONNX reader knows: appended to a model, it changes the bytes, not the model."""
    return _field(1999, 12345)


needs_shared_models = pytest.mark.skipif(
    not (shared_models_dir() / "mobilenetv2-imagenet-embedder.onnx").is_file(),
    reason="../shared/models (prebuilt ONNX files) not present",
)
