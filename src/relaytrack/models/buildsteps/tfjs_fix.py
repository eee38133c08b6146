"""Repairs a TFJS graph-model JSON so that current TensorFlow accepts it (stdlib only).

This file runs inside the throw-away build virtualenv as well as in the project (unit tests), so it imports
nothing outside the standard library. Why the repair: the TFJS converter drops attributes that older
TensorFlow filled in by default, and TF 2.21's op registry now requires them:
- `_FusedConv2D` / `FusedDepthwiseConv2dNative` need `TArgs`: the dtype of each extra (fused) input;
- `TopKV2` needs `index_type` (TFJS only ever emits int32 indices).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FUSED_CONV_OPS = ("_FusedConv2D", "FusedDepthwiseConv2dNative")
DEFAULT_DTYPE = "DT_FLOAT"


def _data_inputs(node: dict[str, Any]) -> list[str]:
    # "^name" entries are control dependencies, not tensors.
    return [i for i in node.get("input", []) if not i.startswith("^")]


def fix_node(node: dict[str, Any]) -> list[str]:
    """Add missing required attributes to one TFJS node dict in place; returns the names of those added."""
    attrs = node.setdefault("attr", {})
    added: list[str] = []
    op = node.get("op")
    if op in FUSED_CONV_OPS and "TArgs" not in attrs:
        num_args = attrs.get("num_args", {}).get("i")
        # num_args counts the extra inputs (bias, then e.g. a LeakyRelu/PReLU alpha) after input and filter.
        n_extra = int(num_args) if num_args is not None else max(len(_data_inputs(node)) - 2, 0)
        dtype = attrs.get("T", {}).get("type", DEFAULT_DTYPE)
        attrs["TArgs"] = {"list": {"type": [dtype] * n_extra}}
        added.append("TArgs")
    elif op == "TopKV2" and "index_type" not in attrs:
        attrs["index_type"] = {"type": "DT_INT32"}
        added.append("index_type")
    return added


def _all_nodes(topology: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = list(topology.get("node", []))
    for fn in topology.get("library", {}).get("function", []):
        nodes.extend(fn.get("nodeDef", []))
    return nodes


def fix_model_json(model: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    """A repaired copy of a parsed TFJS model.json and a count of added attributes per op type."""
    if "modelTopology" not in model:
        raise ValueError("not a TFJS graph model: no modelTopology")
    fixed = copy.deepcopy(model)
    counts: dict[str, int] = {}
    for node in _all_nodes(fixed["modelTopology"]):
        if fix_node(node):
            counts[node["op"]] = counts.get(node["op"], 0) + 1
    return fixed, counts


def fix_model_file(src: Path, dst: Path) -> dict[str, int]:
    """Write a repaired copy of model.json `src` to `dst` (beside which the .bin weights must lie)."""
    fixed, counts = fix_model_json(json.loads(Path(src).read_text()))
    Path(dst).write_text(json.dumps(fixed))
    return counts
