"""Fixtures for the model tests: isolated model folders, a hidden shared folder, the tiny ONNX builder."""

from __future__ import annotations

from pathlib import Path

import pytest
from onnx_tiny import tiny_onnx


@pytest.fixture
def isolated_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RELAYTRACK_HOME/MODELS in tmp_path, so no built model of this checkout is picked up."""
    monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "home"))
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("RELAYTRACK_MODELS", str(models))
    return models


@pytest.fixture
def no_shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide ../shared (an empty shared folder), as on a machine that has to build its models."""
    empty = tmp_path / "empty-shared"
    (empty / "models").mkdir(parents=True)
    monkeypatch.setenv("RELAYTRACK_SHARED", str(empty))


@pytest.fixture
def make_onnx():
    """The tiny_onnx builder as a fixture."""
    return tiny_onnx
