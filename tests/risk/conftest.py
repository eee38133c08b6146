"""Fixtures for the risk tests (helpers live in risk_fixtures.py: conftest modules are not importable)."""

from __future__ import annotations

from pathlib import Path

import pytest
from risk_fixtures import mini_config, write_mini_seoul

from relaytrack.risk.config import RiskConfig


@pytest.fixture
def mini(tmp_path: Path) -> tuple[Path, RiskConfig]:
    root = write_mini_seoul(tmp_path / "data")
    return root, mini_config(root)
