"""`Reprocessor`: the on-demand re-processing a relay asks for, one way or another (`around`), through a priority
queue, on models loaded once (split from `pipeline.ondemand`, which holds the window and sighting operations it
runs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from relaytrack.config import Config
from relaytrack.errors import InputError
from relaytrack.pipeline.ondemand import (
    Window,
    add_missed,
    corners,
    hits_on,
    refine_sighting,
    reprocess_window,
)
from relaytrack.pipeline.raypool import JobQueue
from relaytrack.pipeline.session import Stages
from relaytrack.records import Sighting
from relaytrack.store import Store
from relaytrack.store.sightings import SIGHTING_COLUMNS, boxes_of, row_to_sighting
from relaytrack.store.vectors import background

# The ways of re-processing: before every candidate window the relay reads (window, sightings, look), or only
# for the relay's origin (origin) and then where the route stops (missed; pipeline.ondemand_relay).
AROUND = ("look", "sightings", "window", "origin", "missed")


@dataclass
class Reprocessor:
    """The relay's `refine` callback: re-process a candidate camera's window when its sources were indexed
    below `fps` (None: below their own frame rate). `submit` queues a window with a priority (lower first:
    the relay's likelier candidates), `run` drains the queue; calling it does both for one window.

    `around`: "window" re-processes the whole window; "sightings" only the spans of the low-rate sightings
    starting in it (padded by `pad_s`): far fewer frames, at the price of a person the low-rate index missed
    altogether in that window staying missed; "look" refines only the `top` low-rate sightings of the
    `reference`'s kind that look most like it (cosine of their embeddings, and `min_z` background spreads
    above strangers; needs `reference`, the relay's origin sighting), each replaced by the full-rate
    tracklets on its own boxes (`refine_sighting`; each sighting tried once): the relay decides between people
    who look like the suspect, and only those are worth full detail, so the frames spent no longer grow with
    the crowd, and the others in those frames are not stored twice; "origin" does nothing with windows (only
    `refine`, which `relay_on_demand` calls for the relay's origin); "missed" analyses a window whose live
    sightings hold nobody like the `reference` whole and adds only the people on none of their boxes
    (`add_missed`; nothing superseded): meant for the windows where a route stopped
    (`pipeline.ondemand_relay.relay_on_demand`), not for every window the relay reads."""

    store: Store
    cfg: Config
    fps: float | None = None
    stages: Stages | None = None
    pad_s: float = 1.0
    max_extend_s: float = 10.0
    around: str = "window"
    reference: Sighting | None = None
    top: int = 1
    min_z: float = 1.5
    windows: list[Window] = field(default_factory=list)
    queue: JobQueue = field(default_factory=JobQueue)
    _low: dict[str, bool] = field(default_factory=dict)
    _tried: set[int] = field(default_factory=set)
    _own: dict[str, set[int]] = field(default_factory=dict)
    _n: int = 0

    @property
    def frames(self) -> int:
        """Frames analysed by every window re-processed so far."""
        return sum(w.frames for w in self.windows)

    def needs(self, camera: str) -> bool:
        """Whether `camera` has a source indexed below the full rate."""
        if camera not in self._low:
            rows = self.store.conn.execute(
                "SELECT fps, analysed_fps FROM sources WHERE camera_id=? AND reprocess_of IS NULL", (camera,)
            ).fetchall()
            # Below the target rate (never above the source's own): analysed_fps None is every frame.
            self._low[camera] = any(
                fps and afps is not None and afps < min(self.fps or fps, fps) - 1e-6 for fps, afps in rows
            )
        return self._low[camera]

    def submit(self, camera: str, wall_lo: float, wall_hi: float, priority: int = 0) -> None:
        if self.needs(camera):
            self._n += 1
            self.queue.push(self._n, (camera, wall_lo, wall_hi), priority)  # type: ignore[arg-type]

    def _loaded(self) -> Stages:
        if self.stages is None:
            self.stages = Stages.load(self.cfg)
            self.stages.bind(self.store)
        return self.stages

    def refine(self, sighting: Sighting) -> int:
        """One low-rate sighting analysed again at full rate (`refine_sighting`, once); returns the id that
        now stands for it: of the tracklets that replaced it, the one on the sighting's best crop (the person
        the operator saw: a low-rate track may have run on into someone else), else the longest; its own id
        when nothing replaced it (a camera at full rate already, no footage, nobody found on its boxes)."""
        if not self.needs(sighting.camera) or sighting.id in self._tried:
            return sighting.id
        self._tried.add(sighting.id)
        crop = corners((0, 0, *sighting.box))
        own = {int(b[0]): corners(b) for b in boxes_of(self.store.conn, sighting.id)}
        shown = {f: b for f, b in own.items() if np.allclose(b, crop, atol=0.5)}
        win = refine_sighting(self.store, sighting, self.cfg, self._loaded(), fps=self.fps, pad_s=self.pad_s)
        if win is None:
            return sighting.id
        self.windows.append(win)
        rows = self.store.conn.execute(
            "SELECT id, last_frame - first_frame FROM sightings WHERE source_id=? AND superseded_by IS NULL",
            (win.source_id,),
        ).fetchall()
        if not win.superseded or not rows:
            return sighting.id
        src_fps = self.store.one("SELECT fps FROM sources WHERE id=?", (sighting.source_id,))[0]
        near = max(1, round(0.25 * float(src_fps or 10.0)))
        on_crop = {
            int(r[0]): hits_on(
                [(int(b[0]), corners(b)) for b in boxes_of(self.store.conn, int(r[0]))], shown, near
            )
            for r in rows
        }
        return max(rows, key=lambda r: (on_crop[int(r[0])], r[1], -int(r[0])))[0]

    def run(self) -> list[Window]:
        done = []
        while len(self.queue):
            _, (camera, lo, hi) = self.queue.pop()
            for w in self._work(camera, lo, hi, self._loaded()):
                if w is not None:
                    self.windows.append(w)
                    done.append(w)
        return done

    def _work(self, camera: str, lo: float, hi: float, stages: Stages) -> Iterator[Window | None]:
        """Re-process one queued window the `around` way, a window (or None: nothing to do) at a time."""
        if self.around not in AROUND:
            raise InputError(f"re-processing around {self.around!r}: one of {', '.join(AROUND)}")
        if self.around == "origin":
            return
        if self.around == "missed":
            # Someone here already looks like the reference: the index did not miss them, nothing to add.
            if not self._alike(camera, lo, hi, low_only=False):
                yield add_missed(self.store, camera, lo, hi, self.cfg, stages, fps=self.fps, pad_s=self.pad_s)
            return
        if self.around == "look":
            for s in self._alike(camera, lo, hi):
                if s.id in self._tried:
                    continue  # refined, or found nobody on its boxes: analysing it again would not change that
                self._tried.add(s.id)
                yield refine_sighting(self.store, s, self.cfg, stages, fps=self.fps, pad_s=self.pad_s)
            return
        for a, b in [(lo, hi)] if self.around == "window" else self._spans(camera, lo, hi):
            yield reprocess_window(
                self.store, camera, a, b, self.cfg, stages, fps=self.fps, pad_s=self.pad_s,
                max_extend_s=self.max_extend_s,
            )  # fmt: skip

    def _live(self, camera: str, lo: float, hi: float, low_only: bool = True) -> list[Sighting]:
        rows = self.store.conn.execute(
            f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE camera_id=? AND superseded_by IS NULL"
            " AND wall_start BETWEEN ? AND ?"
            + (" AND source_id IN (SELECT id FROM sources WHERE reprocess_of IS NULL)" if low_only else "")
            + " ORDER BY wall_start",
            (camera, lo, hi),
        ).fetchall()
        return [row_to_sighting(r) for r in rows]

    def _spans(self, camera: str, lo: float, hi: float) -> list[tuple[float, float]]:
        """ "sightings": the spans of the window's live low-rate sightings."""
        return [(s.wall_start, s.wall_end) for s in self._live(camera, lo, hi)]

    def _alike(self, camera: str, lo: float, hi: float, low_only: bool = True) -> list[Sighting]:
        """ "look": of the window's `top` live sightings of the reference's kind most like it (refined ones
        included, so asking again for a window refines nobody new), those still at the low rate (any, when
        not `low_only`)."""
        ref = self.reference
        if ref is None or ref.embedding is None:
            raise InputError("re-processing around the look needs the reference sighting's embedding")
        live = [
            s
            for s in self._live(camera, lo, hi, low_only=False)
            if s.kind == ref.kind and s.embedding is not None and s.embedding.shape == ref.embedding.shape
        ]
        sim = {s.id: float(s.embedding @ ref.embedding) for s in live}
        alike = sorted(live, key=lambda s: -sim[s.id])
        bg = background(self.store.conn, ref.kind)
        if bg is not None:
            # Nobody who looks no more like the suspect than strangers do is worth the detail.
            alike = [s for s in alike if (sim[s.id] - bg[0]) / bg[1] >= self.min_z]
        if not low_only:
            return alike[: self.top]
        low = self._low_sources(camera)
        return [s for s in alike[: self.top] if s.source_id in low]

    def _low_sources(self, camera: str) -> set[int]:
        """The camera's own (not re-processing) sources: fixed while re-processing only adds others."""
        if camera not in self._own:
            self._own[camera] = {
                int(r[0])
                for r in self.store.conn.execute(
                    "SELECT id FROM sources WHERE camera_id=? AND reprocess_of IS NULL", (camera,)
                ).fetchall()
            }
        return self._own[camera]

    def __call__(self, camera: str, wall_lo: float, wall_hi: float, priority: int = 0) -> None:
        self.submit(camera, wall_lo, wall_hi, priority)
        self.run()
