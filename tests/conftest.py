"""Shared fixtures: real data from ../shared when present (tests needing it skip with a reason otherwise)."""

from __future__ import annotations

import faulthandler
import os
from pathlib import Path

import pytest

from relaytrack.paths import data_dir

os.environ.setdefault("RELAYTRACK_LANG", "en")  # human output in English unless a test says --lang ko
os.environ.setdefault(
    "RELAYTRACK_HOME", str(Path(__file__).resolve().parent.parent / ".relaytrack" / "test-home")
)

# Ray (and other native libraries) install their own fatal-signal handlers over pytest's faulthandler, and both
# write to stderr as captured by pytest, lost when the process dies: re-arm faulthandler before every test on the
# terminal's stderr (kept by the capture manager; private, so any change there only loses this report), so that a
# crash still prints the Python stacks of every thread.
_FAULT_OUT: list = []


def pytest_configure(config):
    capman = config.pluginmanager.getplugin("capturemanager")
    err = getattr(getattr(capman, "_global_capturing", None), "err", None)
    fd = getattr(err, "targetfd_save", None)
    if isinstance(fd, int):
        _FAULT_OUT.append(os.fdopen(os.dup(fd), "w"))


def pytest_runtest_setup(item):
    if _FAULT_OUT:
        faulthandler.enable(file=_FAULT_OUT[0], all_threads=True)


PETS = data_dir() / "mot15" / "PETS09-S2L1"
needs_data = pytest.mark.skipif(not PETS.is_dir(), reason="../shared/data (real MOT footage) not present")


@pytest.fixture(scope="session")
def pets_dir() -> Path:
    if not PETS.is_dir():
        pytest.skip("../shared/data/mot15/PETS09-S2L1 not present")
    return PETS


@pytest.fixture(scope="session")
def pets_clip(tmp_path_factory, pets_dir) -> Path:
    """The first 40 PETS09 frames as a small MJPEG/mp4v video (a real camera clip, quick to ingest)."""
    import cv2

    out = tmp_path_factory.mktemp("clips") / "pets40.mp4"
    frames = sorted((pets_dir / "img1").glob("*.jpg"))[:40]
    first = cv2.imread(str(frames[0]))
    h, w = first.shape[:2]
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 7.0, (w, h))
    for p in frames:
        vw.write(cv2.imread(str(p)))
    vw.release()
    return out


# --- both store backends -------------------------------------------------------------------------------
# Store-level tests take `store_db`: once with a SQLite file, once with a fresh database on a throw-away
# PostgreSQL cluster that the session starts on loopback (tests/pgcluster.py) and stops at the end. Without
# the server binaries the PostgreSQL half skips with the reason, except in CI, where it fails. `store_db`'s
# database is a copy of one migrated at the start of the session (the migrations themselves run there, and on
# every `pg_url`, which stays empty): copying takes a fraction of the time migrating does.
@pytest.fixture(scope="session")
def pg_cluster():
    import pgcluster  # tests/ is on sys.path (pytest prepends the conftest folder)

    if pgcluster.bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries missing in CI (.ci/run installs them)")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    cluster = pgcluster.start()
    yield cluster
    cluster.stop()


def new_pg_database(cluster, template: str | None = None) -> str:
    """A fresh database on the test cluster, empty or a copy of `template` (a database name); its URL.
    From a test module call `pg_cluster.new_database()` instead: `from conftest import` is ambiguous."""
    return cluster.new_database(template)


@pytest.fixture(scope="session")
def pg_migrated(pg_cluster) -> str:
    """The name of a database with every migration applied and nothing else (no store id, no audit entry)."""
    from relaytrack.store import Store

    url = new_pg_database(pg_cluster)
    Store(url).close()
    return url.rsplit("/", 1)[1]


def drop_pg_database(cluster, url: str) -> None:
    cluster.drop_database(url)


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """A fresh, empty PostgreSQL database for one test, dropped after it."""
    url = new_pg_database(pg_cluster)
    yield url
    drop_pg_database(pg_cluster, url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_db(request, tmp_path) -> str:
    """A store location on each backend: a SQLite file path, then a postgresql:// URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.db")
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = new_pg_database(cluster, request.getfixturevalue("pg_migrated"))
    yield url
    drop_pg_database(cluster, url)
