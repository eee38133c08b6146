"""A throw-away PostgreSQL cluster on loopback for the store tests (and by hand: `python tests/pgcluster.py`).

The Debian package puts the server binaries in /usr/lib/postgresql/N/bin, off PATH. initdb and the server
refuse to run as root, so as root the cluster belongs to the `postgres` system user (which the package
creates) and the commands run through runuser. Nothing listens beyond 127.0.0.1; the port is a free one.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER = "relaytrack"
_DB_COUNTER = itertools.count(1)


def bin_dir() -> Path | None:
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(cand, "pg_ctl").exists():
            return Path(cand)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _scratch_root() -> Path:
    """Where the data directory goes: a RAM-backed /dev/shm when it has room, else the temp folder. On a disk
    mounted with `discard`, removing hundreds of written-back test databases took tens of seconds."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 * 2**30:
            return Path(tempfile.mkdtemp(prefix="relaytrack-pg-", dir=shm))
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="relaytrack-pg-"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    root: Path
    port: int
    bindir: Path
    owner: str | None  # the system user that runs the server (None: the current one)

    def url(self, db: str = USER) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{db}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.owner:
            cmd = ["runuser", "-u", self.owner, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def new_database(self, template: str | None = None) -> str:
        """A fresh database, empty or a copy of `template` (a database name); its URL. Tests reach this through
        the `pg_cluster` fixture (a `from conftest import` finds whichever conftest was imported last)."""
        import psycopg

        name = f"t{os.getpid()}_{next(_DB_COUNTER)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a test database, its connections too: the cluster's data stays small over a whole run."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def createdb(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self.url(name)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start(root: Path | None = None) -> Cluster:
    """initdb + start on a free loopback port; raises RuntimeError with the server's words on failure."""
    bindir = bin_dir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(root) if root else _scratch_root()
    owner = "postgres" if os.geteuid() == 0 else None
    root.mkdir(parents=True, exist_ok=True)
    if owner:
        shutil.chown(root, owner)
        os.chmod(root, 0o755)
    cl = Cluster(root, _free_port(), bindir, owner)
    data = root / "data"
    try:
        cl._run("initdb", "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync")
        cl._run(
            "pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60", "start",
            "-o", f"-p {cl.port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        )  # fmt: skip
    except subprocess.CalledProcessError as err:
        log = (
            (root / "server.log").read_text(errors="replace")[-2000:]
            if (root / "server.log").exists()
            else ""
        )
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {err.stderr or err.stdout}{log}") from err
    for _ in range(100):
        if cl._run("pg_isready", "-h", "127.0.0.1", "-p", str(cl.port), check=False).returncode == 0:
            break
        time.sleep(0.1)
    cl.createdb(USER)
    return cl


if __name__ == "__main__":  # a cluster for benchmarks by hand; prints its URL, stops on Ctrl-C
    c = start(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(c.url(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        c.stop()
