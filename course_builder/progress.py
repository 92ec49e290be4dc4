"""A progress display on stderr for commands that run longer than a second, and only on a terminal.

Nothing appears when stderr is no terminal (CI logs, pipes, files), when the report is for a machine
(--format json/sarif/github), or when the work is done within the delay: a quick build prints exactly
what it printed before. The display is transient: it disappears when the work is done. rich is
imported only when the display is shown. COURSE_PROGRESS_AFTER sets the delay in seconds (default 1).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

DEFAULT_DELAY_S = 1.0


def wanted(stream: TextIO, fmt: str = "text") -> bool:
    return fmt == "text" and stream.isatty() and os.environ.get("TERM") != "dumb"


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("COURSE_PROGRESS_AFTER", DEFAULT_DELAY_S)))
    except ValueError:
        return DEFAULT_DELAY_S


class Progress:
    """Steps of a command; ``with Progress(total, enabled) as p: p.step("html"); …``."""

    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None) -> None:
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.done, self.current = 0, ""
        self._lock = threading.Lock()
        self._finished = False
        self._display = None  # (rich Progress, task id) once shown
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._timer = threading.Timer(_delay(), self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def step(self, description: str) -> None:
        """Start the next step: the one before it is done."""
        with self._lock:
            if self.current:
                self.done += 1
            self.current = description
            self._update()

    def __exit__(self, *exc) -> None:
        if self._timer:
            self._timer.cancel()
        with self._lock:
            self._finished = True
            if self._display:
                self._display[0].stop()

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        with self._lock:
            if self._finished:
                return
            display = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                   MofNCompleteColumn(), TimeElapsedColumn(),
                                   console=Console(file=self.stream), transient=True)
            self._display = (display, display.add_task(self.current, total=self.total, completed=self.done))
            display.start()

    def _update(self) -> None:
        if self._display:
            display, task = self._display
            # Drawn now, not at the next tick: a step shorter than rich's refresh interval is still shown.
            display.update(task, description=self.current, completed=self.done, refresh=True)
