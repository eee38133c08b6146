"""`relaytrack models check`: is each model file the one we expect, or one that computes the same thing?

A file passes by one of three kinds of evidence, strongest first:
- "digest": its SHA-256 equals the digest recorded for the prebuilt file (bit-identical);
- "outputs-vs-shared": on a fixed synthetic input its outputs equal (within tolerance) those of the prebuilt
  shared file, run side by side;
- "outputs-vs-stats": where no shared file is at hand, its outputs match the reference statistics recorded
  from the shared file (reference.py): shape, mean, std, min, max and a probe of values at fixed positions.
Every file must also satisfy the stage's I/O contract (registry.onnx_session).
Rebuilding with tf2onnx is not bit-reproducible (the names and order of the constants it folds follow Python's
hash seed and object identities: two runs on the same machine differ), hence the output comparison.
A file written by `models build` is also matched against the digest recorded in its folder's BUILD.json
(`build_record`): informative only, it shows whether the file changed since it was built.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.errors import ModelError, RelaytrackError
from relaytrack.models.registry import MODELS, candidates, onnx_session, sha256_file
from relaytrack.paths import shared_models_dir

N_PROBE = 48
# Rebuilt graphs differ in constant layout, not arithmetic: observed differences are float rounding
# (<1e-5 relative); the tolerance leaves room for other onnxruntime versions, not for other weights.
RTOL = 1e-3
ATOL_FRACTION = 1e-3  # of the reference output's largest magnitude


def reference_image(height: int, width: int) -> np.ndarray:
    """A deterministic BGR uint8 test picture: smooth gradients, stripes and a few solid blobs.

    Built from closed-form arithmetic (no RNG) so every platform and NumPy version produces the same pixels.
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    yn, xn = y / max(height - 1, 1), x / max(width - 1, 1)
    b = 255 * xn
    g = 255 * (0.5 + 0.5 * np.sin(6.0 * np.pi * yn + 2.0 * np.pi * xn))
    r = 255 * (0.5 + 0.5 * np.cos(9.0 * np.pi * xn * yn))
    img = np.stack([b, g, r], axis=-1)
    # Upright dark and bright blobs (person-sized in a 416 view) so detectors see more than texture.
    for cy, cx, hh, hw, colour in (
        (0.55, 0.3, 0.30, 0.07, (30, 30, 40)),
        (0.5, 0.7, 0.25, 0.06, (200, 180, 170)),
        (0.25, 0.5, 0.08, 0.08, (90, 120, 200)),
    ):
        inside = (np.abs(yn - cy) < hh) & (np.abs(xn - cx) < hw)
        img[inside] = colour
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _imagenet(rgb: np.ndarray) -> np.ndarray:
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    return ((rgb.astype(np.float32) / 255.0 - mean) / std).transpose(2, 0, 1)


def reference_input(name: str) -> np.ndarray:
    """The fixed input for a built-in model, laid out as its contract (MODELS.md) says."""
    if name == "nanodet":
        bgr = reference_image(416, 416).astype(np.float32)
        mean = np.array([103.53, 116.28, 123.675], np.float32)
        std = np.array([57.375, 57.12, 58.395], np.float32)
        return ((bgr - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
    if name == "movenet":
        return reference_image(256, 256)[..., ::-1][None].astype(np.int32)
    if name == "ssdlite":
        return np.ascontiguousarray(reference_image(240, 320)[..., ::-1][None])
    if name == "embedder":
        rgb = reference_image(256, 256)[..., ::-1]
        return np.stack([_imagenet(rgb[:, :128]), _imagenet(rgb[:, 128:])]).astype(np.float32)
    if name == "blazeface":
        rgb = reference_image(128, 128)[..., ::-1].astype(np.float32)
        return (rgb / 127.5 - 1.0)[None].astype(np.float32)
    raise ModelError(f"no reference input for model {name!r}; known: {', '.join(MODELS)}")


def run_model(name: str, path: Path, threads: int = 1) -> dict[str, np.ndarray]:
    """Outputs of the model file at `path` on the reference input, keyed by output name (contract-checked)."""
    sess = onnx_session(name, path, threads=threads)
    feed = {sess.get_inputs()[0].name: reference_input(name)}
    try:
        values = sess.run(None, feed)
    except Exception as err:  # onnxruntime raises its own exception types at run time
        raise ModelError(f"{path}: failed on the reference input ({str(err).splitlines()[0][:200]})") from err
    return {o.name: np.asarray(v) for o, v in zip(sess.get_outputs(), values, strict=True)}


def _probe_index(size: int) -> np.ndarray:
    return np.unique(np.linspace(0, size - 1, num=min(N_PROBE, size)).round().astype(np.int64))


def output_stats(arr: np.ndarray) -> dict[str, Any]:
    """Compact fingerprint of one output tensor for the stored reference."""
    flat = arr.astype(np.float64).ravel()
    return {
        "shape": list(arr.shape),
        "mean": float(flat.mean()),
        "std": float(flat.std()),
        "min": float(flat.min()),
        "max": float(flat.max()),
        "probe": [float(v) for v in flat[_probe_index(flat.size)]],
    }


def _tolerance(reference: np.ndarray) -> float:
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    return ATOL_FRACTION * max(scale, 1e-6)


def compare_arrays(ref: np.ndarray, got: np.ndarray) -> tuple[bool, float, str]:
    """(equal within tolerance, max abs difference, reason when not)."""
    if ref.shape != got.shape:
        return False, float("inf"), f"shape {list(got.shape)} != reference {list(ref.shape)}"
    a, b = ref.astype(np.float64), got.astype(np.float64)
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    ok = bool(np.allclose(b, a, rtol=RTOL, atol=_tolerance(a)))
    return ok, diff, "" if ok else f"max abs difference {diff:.3g} over tolerance"


def compare_stats(ref: dict[str, Any], got: np.ndarray) -> tuple[bool, float, str]:
    if list(got.shape) != list(ref["shape"]):
        return False, float("inf"), f"shape {list(got.shape)} != reference {ref['shape']}"
    mine = output_stats(got)
    want = np.array([ref["mean"], ref["std"], ref["min"], ref["max"], *ref["probe"]], np.float64)
    have = np.array([mine["mean"], mine["std"], mine["min"], mine["max"], *mine["probe"]], np.float64)
    diff = float(np.max(np.abs(want - have)))
    scale = max(abs(ref["min"]), abs(ref["max"]), 1e-6)
    ok = bool(np.allclose(have, want, rtol=RTOL, atol=ATOL_FRACTION * scale))
    return ok, diff, "" if ok else f"statistics differ by up to {diff:.3g}"


def _pair_outputs(ref_names: list[str], got: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]] | None:
    """Match outputs by name; a rebuilt or user file may rename them, then fall back to their order."""
    if set(ref_names) == set(got):
        return [(n, got[n]) for n in ref_names]
    if len(ref_names) == len(got):
        return list(zip(ref_names, got.values(), strict=True))
    return None


@dataclass
class CheckResult:
    name: str
    path: str
    ok: bool = False
    passed_by: str | None = None  # "digest" | "outputs-vs-shared" | "outputs-vs-stats"
    sha256: str | None = None
    expected_sha256: str | None = None
    digest_match: bool = False
    contract_ok: bool = False
    max_abs_diff: float | None = None
    error: str | None = None
    outputs: dict[str, float] = field(default_factory=dict)  # per-output max abs difference
    build_record: bool | None = None  # matches BUILD.json beside it; None = no record

    def public(self) -> dict[str, Any]:
        return asdict(self)


def _shared_reference(name: str, path: Path) -> Path | None:
    """The prebuilt shared file to compare against, if present, intact and not `path` itself."""
    ref = shared_models_dir() / MODELS[name].file
    if not ref.is_file() or ref.resolve() == path.resolve():
        return None
    return ref if sha256_file(ref) == MODELS[name].sha256 else None


def _build_record_matches(name: str, path: Path, sha256: str) -> bool | None:
    record_path = path.parent / "BUILD.json"
    try:
        record = json.loads(record_path.read_text()).get(name) if record_path.is_file() else None
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(record, dict) or record.get("file") != path.name:
        return None
    return record.get("sha256") == sha256


def check_file(name: str, path: Path, reference_stats: dict[str, Any] | None = None) -> CheckResult:
    """Check one file for built-in model `name`. Never raises for a bad file: the result says what failed."""
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    spec = MODELS[name]
    res = CheckResult(name=name, path=str(path), expected_sha256=spec.sha256)
    try:
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        res.sha256 = sha256_file(path)
        res.digest_match = res.sha256 == spec.sha256
        res.build_record = _build_record_matches(name, path, res.sha256)
        got = run_model(name, path)  # opens the session: contract errors surface here
        res.contract_ok = True
        if res.digest_match:
            res.ok, res.passed_by = True, "digest"
            return res
        ref_path = _shared_reference(name, path)
        if ref_path is not None:
            ref = run_model(name, ref_path)
            pairs = _pair_outputs(list(ref), got)
            if pairs is None:
                raise ModelError(f"{path}: {len(got)} outputs, reference {ref_path.name} has {len(ref)}")
            kind, checks = "outputs-vs-shared", [(n, compare_arrays(ref[n], arr)) for n, arr in pairs]
        else:
            from relaytrack.models.reference import REFERENCE_STATS

            stats = reference_stats if reference_stats is not None else REFERENCE_STATS.get(name)
            if not stats:
                raise ModelError(
                    f"{path}: digest differs and there is no shared file or stored reference for {name}"
                )
            pairs = _pair_outputs(list(stats), got)
            if pairs is None:
                raise ModelError(f"{path}: {len(got)} outputs, reference statistics have {len(stats)}")
            kind, checks = "outputs-vs-stats", [(n, compare_stats(stats[n], arr)) for n, arr in pairs]
        res.outputs = {n: diff for n, (_, diff, _) in checks}
        res.max_abs_diff = max(res.outputs.values()) if res.outputs else 0.0
        failed = [f"{n}: {why}" for n, (ok, _, why) in checks if not ok]
        if failed:
            raise ModelError(f"{path}: outputs differ from the reference ({kind}): {'; '.join(failed)}")
        res.ok, res.passed_by = True, kind
    except RelaytrackError as err:
        res.error = str(err)
    return res


def found_files(names: list[str] | None = None) -> list[tuple[str, Path | None]]:
    """(name, path) for every candidate file present; (name, None) for a model found nowhere."""
    out: list[tuple[str, Path | None]] = []
    for name in names or list(MODELS):
        if name not in MODELS:
            raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
        present = [p for p in candidates(name) if p.is_file()]
        out.extend((name, p) for p in present) if present else out.append((name, None))
    return out


def check_models(names: list[str] | None = None) -> list[CheckResult]:
    results = []
    for name, path in found_files(names):
        if path is None:
            res = CheckResult(name=name, path="", expected_sha256=MODELS[name].sha256)
            res.error = f"model {name} ({MODELS[name].file}) not found; run `relaytrack models build`"
            results.append(res)
        else:
            results.append(check_file(name, path))
    return results


def reference_stats_of(name: str, path: Path) -> dict[str, Any]:
    """Reference statistics of one model file (used to write reference.json from the shared files)."""
    return {k: output_stats(v) for k, v in run_model(name, path).items()}
