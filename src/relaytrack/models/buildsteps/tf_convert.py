"""Runs tf2onnx inside the throw-away build virtualenv (tensorflow-cpu + tf2onnx); never imported by the project.

Usage: python tf_convert.py {tfjs MODEL.json | tflite FILE | graphdef FILE.pb} --output OUT.onnx
       [--opset N] [--inputs ...] [--outputs ...]
For tfjs, the model.json is repaired first (tfjs_fix.py beside this file) into a copy next to its .bin files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy  # noqa: E402

# tf2onnx 1.17 still calls numpy.product, removed in NumPy 2.
if not hasattr(numpy, "product"):
    numpy.product = numpy.prod

import tfjs_fix  # noqa: E402


def repair_tfjs(src: Path) -> Path:
    """The model.json to convert: `src` itself when it needs no repair, else a repaired copy in fixed/."""
    fixed, counts = tfjs_fix.fix_model_json(json.loads(src.read_text()))
    if not counts:
        return src
    out_dir = src.parent / "fixed"
    out_dir.mkdir(exist_ok=True)
    # The weights manifest names the .bin shards relative to the JSON: link them beside the copy.
    for group in fixed.get("weightsManifest", []):
        for shard in group.get("paths", []):
            link = out_dir / shard
            if not link.exists():
                link.symlink_to((src.parent / shard).resolve())
    dst = out_dir / src.name
    dst.write_text(json.dumps(fixed))
    print(f"repaired {src.name}: added attributes on {counts}", flush=True)
    return dst


def main(argv: list[str]) -> int:
    kind, src, rest = argv[0], Path(argv[1]), argv[2:]
    if kind == "tfjs":
        src = repair_tfjs(src)
    flag = {"tfjs": "--tfjs", "tflite": "--tflite", "graphdef": "--graphdef"}[kind]
    from tf2onnx import convert

    sys.argv = ["tf2onnx.convert", flag, str(src), *rest]
    convert.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
