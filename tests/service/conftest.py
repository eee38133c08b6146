"""Fixtures of the service tests: the session's world (svc_world.build_world), a private copy per test, the
app on it and a TestClient."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from svc_world import World, build_world


@pytest.fixture(scope="session")
def world_template(tmp_path_factory) -> World:
    import os

    root = tmp_path_factory.mktemp("service-world")
    old = os.environ.get("RELAYTRACK_HOME")
    os.environ["RELAYTRACK_HOME"] = str(root / "home")
    try:
        return build_world(root)
    finally:
        if old is None:
            os.environ.pop("RELAYTRACK_HOME", None)
        else:
            os.environ["RELAYTRACK_HOME"] = old


@pytest.fixture
def world(world_template, tmp_path, monkeypatch) -> World:
    """A private copy of the session's world store (the audit key and footage are shared, read-only)."""
    monkeypatch.setenv("RELAYTRACK_HOME", str(world_template.home))
    for var in ("RELAYTRACK_AUDIT_KEY", "RELAYTRACK_USER", "RELAYTRACK_CASE", "RELAYTRACK_DB"):
        monkeypatch.delenv(var, raising=False)
    db = tmp_path / "svc.db"
    shutil.copy(world_template.db, db)
    for suffix in (".audit-anchor", ".audit-heads"):  # the chain's anchor and signed-head journal travel along
        side = Path(str(world_template.db) + suffix)
        if side.exists():
            shutil.copy(side, Path(str(db) + suffix))
    return World(
        db,
        world_template.home,
        list(world_template.suspect),
        list(world_template.others),
        world_template.held_c2,
        dict(world_template.tokens),
    )


@pytest.fixture
def app(world, tmp_path):
    from relaytrack.evidence.mask import MaskSettings
    from relaytrack.service.app import create_app

    # No detector/face models on CI: mask by the stored tracks only (the exporter's own tests cover the rest).
    return create_app(
        world.db,
        export_root=tmp_path / "exports",
        mask=MaskSettings(detect=False, faces=False),
        alert_poll_s=0.2,
        keepalive_s=1.0,
    )


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
