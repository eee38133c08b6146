"""Offline ONNX models: where they come from, where they are found, and how a session is opened.

Public API
- registry.MODELS: dict name -> ModelSpec (file, sha256, contract); names: nanodet, movenet, ssdlite,
  embedder, blazeface.
- registry.resolve(name, override=None) -> Path: the file to load (override > built models > shared).
- registry.onnx_session(name, override=None, threads=2) -> onnxruntime.InferenceSession, contract-checked;
  raises errors.ModelError naming the file on a missing/unreadable/wrong-shaped model.
- registry.candidates(name) -> list[Path]: where a built-in model is looked for, in order.
- check.check_models(names=None) -> list[CheckResult]; CheckResult.ok / .passed_by ("digest",
  "outputs-vs-shared", "outputs-vs-stats") / .error / .public() -> dict (the `check --json` entries).
- check.check_file(name, path) -> CheckResult for one file.
- build.build_models(names=None, out_dir=None, force=False, cache=None, step=None) -> list[BuildResult]
  (.ok, .bit_identical, .sha256, .seconds, .error, .log); never raises for one model's failure.
CLI: `relaytrack models list|build|check` (relaytrack/cli/models.py).
"""
