"""Where shared data, models and default stores live.

The repository sits beside a `shared/` folder on the development machines; users may point elsewhere with
RELAYTRACK_SHARED, RELAYTRACK_MODELS and RELAYTRACK_HOME.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    # src/relaytrack -> repo root (editable installs); falls back to the working directory.
    root = PACKAGE_DIR.parent.parent
    return root if (root / "pyproject.toml").exists() else Path.cwd()


def shared_dir() -> Path:
    env = os.environ.get("RELAYTRACK_SHARED")
    if env:
        return Path(env)
    for base in (repo_root(), Path.cwd()):
        cand = base.parent / "shared"
        if cand.is_dir():
            return cand
    return repo_root().parent / "shared"


def data_dir() -> Path:
    return shared_dir() / "data"


def home_dir() -> Path:
    """Per-installation working folder: built models, default store, demo output."""
    env = os.environ.get("RELAYTRACK_HOME")
    path = Path(env) if env else repo_root() / ".relaytrack"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    env = os.environ.get("RELAYTRACK_MODELS")
    return Path(env) if env else home_dir() / "models"


def shared_models_dir() -> Path:
    return shared_dir() / "models"


def default_db() -> Path | str:
    """RELAYTRACK_DB (a file or a postgresql:// URL, kept a string so its '//' survives) or the home store."""
    env = os.environ.get("RELAYTRACK_DB")
    if env:
        return env if "://" in env else Path(env)
    return home_dir() / "relaytrack.db"
