"""Terminal output shared by the CLI commands: Rich consoles and a standard progress bar (plain progress
lines instead when stderr is not a terminal: a log file or a pipe)."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

console = Console()
console_err = Console(stderr=True)


@dataclass
class _PlainTask:
    description: str
    total: float | None
    completed: float = 0.0
    visible: bool = True
    started: float = 0.0
    said_at: float = 0.0
    said_tenth: int = -1
    done: bool = False


class PlainProgress:
    """What Rich's Progress does for the commands (add_task, update, advance, a context manager), written as
    plain lines for a log file: a Live display draws nothing until the end when its output is not a
    terminal, so a long ingest was silent for minutes. A task says it started, then a line at each tenth of
    its total (or every `every_s` seconds when its total is unknown or slow to move), and when it is done."""

    def __init__(self, out: TextIO | None = None, every_s: float | None = None) -> None:
        self.out = out
        self.every_s = (
            every_s if every_s is not None else float(os.environ.get("RELAYTRACK_PROGRESS_S", "30"))
        )
        self.tasks: dict[int, _PlainTask] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        for tid, task in self.tasks.items():
            if task.visible and not task.done and task.completed:
                self._say(tid, task, time.monotonic())

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        tid = len(self.tasks)
        now = time.monotonic()
        self.tasks[tid] = _PlainTask(description, total, started=now, said_at=now, said_tenth=0)
        self._line(f"{description}: started" + (f" (0/{_num(total)})" if total else ""))
        return tid

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def update(
        self,
        task_id: int,
        *,
        completed: float | None = None,
        total: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        visible: bool | None = None,
        **_: Any,
    ) -> None:
        task = self.tasks[task_id]
        if description is not None:
            task.description = description
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        if visible is not None:
            task.visible = visible
        if not task.visible or task.done:
            return
        now = time.monotonic()
        if task.total and task.completed >= task.total:
            task.done = True
            self._say(task_id, task, now)
            return
        tenth = int(10 * task.completed / task.total) if task.total else -1
        if tenth > task.said_tenth or now - task.said_at >= self.every_s:
            self._say(task_id, task, now, tenth)

    def _say(self, task_id: int, task: _PlainTask, now: float, tenth: int | None = None) -> None:
        task.said_at = now
        if tenth is not None:
            task.said_tenth = tenth
        count = f"{_num(task.completed)}/{_num(task.total)}" if task.total else _num(task.completed)
        pct = f" ({100 * task.completed / task.total:.0f} %)" if task.total else ""
        state = " done" if task.done else ""
        self._line(f"{task.description}: {count}{pct}{state}, {now - task.started:.0f} s")

    def _line(self, text: str) -> None:
        out = self.out or sys.stderr
        out.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        out.flush()


def _num(x: float | None) -> str:
    return "?" if x is None else str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def progress(transient: bool = False) -> Progress | PlainProgress:
    """A progress bar on a terminal; plain progress lines otherwise (a log file, a pipe)."""
    if not console_err.is_terminal:
        return PlainProgress()
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console_err,
        transient=transient,
    )


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()
