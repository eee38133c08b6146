"""The pursuits the console starts: each runs `relaytrack.pursue.service.run_pursuit` (what `relaytrack pursue`
runs) in a thread of this service, on a store connection of its own, until it is lost, its sources end, or
someone stops it.

The cameras are the service's cameras file (`relaytrack serve --cameras cameras.yaml`), read the way the CLI
reads `--cameras` (`watch.service.sources_from_network`); a browser never names a file on the server. Files
are played at their real pace (`realtime`): a pursuit the operator follows live. The service keeps each run's
stop event, so a stop from this service reaches its own pursuit at once; the stop request is also in the
store (`pursue.control.request_stop`), which is how a pursuit another process runs learns of it, and how the
pursuit's `ended` event names who stopped it. At shutdown every run is stopped and given a few seconds to
write its end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from relaytrack.errors import ConfigError, InputError, SourceError

MAX_RUNNING = 4  # pursuits this service runs at once: each loads the models and reads every camera
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PursuitStart:
    """What a console start asks for (the route has authorised the user, the case and the sighting)."""

    origin: int
    case: str
    user: str
    until_lost_s: float


@dataclass
class _Run:
    pursuit_id: int
    stop: threading.Event
    thread: threading.Thread


def _run_pursuit(
    store: Any, req: PursuitStart, cameras: Path, stop: threading.Event, pursuit_id: int
) -> None:
    from relaytrack.config import load_config
    from relaytrack.pursue.run import PursuitConfig
    from relaytrack.pursue.service import run_pursuit

    pcfg = replace(PursuitConfig(), until_lost_s=req.until_lost_s)
    run_pursuit(store, req.origin, cameras, cfg=load_config(None), pcfg=pcfg, realtime=True, user=req.user,
                case=req.case, stop=stop, pursuit_id=pursuit_id)  # fmt: skip


class PursuitRunner:
    """This service's running pursuits by id. `run` is what runs one (tests give one that needs no models)."""

    def __init__(
        self,
        db: str | Path,
        cameras: Path | None,
        *,
        max_running: int = MAX_RUNNING,
        run: Callable[[Any, PursuitStart, Path, threading.Event, int], None] = _run_pursuit,
    ) -> None:
        self.db, self.cameras, self.max_running, self.run = db, cameras, max_running, run
        self._runs: dict[int, _Run] = {}
        self._lock = threading.Lock()

    def cameras_file(self) -> Path:
        """The cameras file, checked as `relaytrack pursue` checks `--cameras` before anything starts (a file
        naming no source or stream is refused here, not in the pursuit's thread). The message names the file,
        never its folder on the server."""
        from relaytrack.watch.service import sources_from_network

        if self.cameras is None:
            raise ConfigError(
                "this service has no cameras file for pursuits: start it with `relaytrack serve --cameras FILE`"
            )
        try:
            sources_from_network(self.cameras)
        except (InputError, SourceError, OSError) as err:
            raise ConfigError(
                f"the service's cameras file {self.cameras.name} cannot be used: {err}"
            ) from None
        return self.cameras

    def full(self) -> bool:
        with self._lock:
            return len(self._runs) >= self.max_running

    def launch(self, pursuit_id: int, req: PursuitStart, cameras: Path) -> None:
        stop = threading.Event()
        th = threading.Thread(
            target=self._body,
            args=(pursuit_id, req, cameras, stop),
            name=f"pursuit-{pursuit_id}",
            daemon=True,
        )
        with self._lock:
            self._runs[pursuit_id] = _Run(pursuit_id, stop, th)
        th.start()

    def _body(self, pursuit_id: int, req: PursuitStart, cameras: Path, stop: threading.Event) -> None:
        from relaytrack.store import Store

        try:
            # A connection of its own: the pursuit outlives the request that started it.
            with Store(self.db) as store:
                self.run(store, req, cameras, stop, pursuit_id)
        except Exception:  # noqa: BLE001 - the pursuit's `ended` event already says why; the log keeps the rest
            log.exception("pursuit %s failed", pursuit_id)
        finally:
            with self._lock:
                self._runs.pop(pursuit_id, None)

    def stop(self, pursuit_id: int) -> bool:
        """Stop this service's own pursuit now (False: another process runs it; its heartbeat will see the
        store's request)."""
        with self._lock:
            run = self._runs.get(pursuit_id)
        if run is None:
            return False
        run.stop.set()
        return True

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._runs)

    def close(self, wait_s: float = 5.0) -> None:
        """Stop every pursuit and wait (up to `wait_s` in all) for them to write their end."""
        import time

        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop.set()
        deadline = time.monotonic() + wait_s
        for run in runs:
            run.thread.join(max(0.0, deadline - time.monotonic()))
