"""Progress of a long load: bars on a terminal, periodic plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class LoadProgress:
    """A ``sinks.driver.Progress`` callback: ``(step, done, total)``; a context manager."""

    def __init__(self, stream: IO[str] | None = None, *, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.console = Console(file=self.stream)
        self.live = self.console.is_terminal
        self.bars = (
            Progress(
                TextColumn("{task.description:<24}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:>12}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            if self.live
            else None
        )
        self.tasks: dict[str, TaskID] = {}
        self.started: dict[str, float] = {}
        self.last_line = 0.0

    def __enter__(self) -> LoadProgress:
        if self.bars:
            self.bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bars:
            self.bars.stop()

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.perf_counter()
        first = step not in self.started
        if first:
            self.started[step] = now
        elapsed = max(now - self.started[step], 1e-9)
        rate = f"{done / elapsed:,.0f} rows/s" if done and elapsed > 0.5 else ""
        if self.bars is not None:
            if total == 0:  # a step without rows (planning, rebuilding an index)
                self.bars.console.print(f"  {step}")
                return
            if first:
                self.tasks[step] = self.bars.add_task(step, total=total, rate=rate)
            self.bars.update(self.tasks[step], completed=done, rate=rate)
            return
        finished = total and done >= total
        if first or finished or now - self.last_line >= self.interval:
            self.last_line = now
            what = f"{done:,}/{total:,} rows" if total else ""
            print(f"  {step} {what} {rate}".rstrip(), file=self.stream, flush=True)
