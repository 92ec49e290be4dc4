"""`course build --watch`: build, then build again after every save, until Ctrl-C.

The process keeps the course warm between builds (warm.py): after an edit only the changed files
are read and parsed, and every output unit whose inputs did not change comes from memory, so a
rebuild costs what the edit touched, not what the course holds. The outputs are the same bytes a
fresh `course build` writes (tests/test_build_watch.py compares them). A build with errors in the
sources writes nothing and keeps the last good outputs; the next save tries again. Diagnostics are
printed when they differ from the last ones printed (the same warnings on every save would bury
what changed); a line per build says how long it took.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import traceback
from pathlib import Path
from typing import Callable

from . import check
from .cache import Cache, gc_paused
from .diagnostics import Diagnostic
from .loader import NotACourse
from .model import Course
from .warm import WarmState
from .watching import SourceFilter, source_names, watch


class WatchedBuild:
    """Rebuilds of one course into one output folder, with the state kept between them."""

    def __init__(self, root: Path, build: Callable[[Course, Cache], list[Path]], cache: Cache,
                 show: Callable[[list[Diagnostic]], None], echo: Callable[[str, bool], None], strict: bool = False):
        """build(course, cache): write the targets with that cache (the warm one, in memory even with
        --no-cache) and without waiting for old outputs to be deleted;
        show(diagnostics): print them as `course build` does; echo(text, to_stderr)."""
        self.root = root.resolve()
        self.build = build
        self.show = show
        self.echo = echo
        self.strict = strict
        self.warm = WarmState(cache)
        self.source_names: set[str] = {"glossary.yaml"}
        self._shown: list[Diagnostic] | None = None

    def rebuild(self) -> bool:
        """Check and build once; True if the outputs were written. Never raises but for Ctrl-C."""
        # The warm state is hundreds of thousands of long-lived objects: the collector's passes over
        # them would cost more than a small rebuild (cache.gc_paused).
        with gc_paused():
            return self._rebuild()

    def _rebuild(self) -> bool:
        started = time.perf_counter()
        stamp = time.strftime("%H:%M:%S")
        try:
            course, diagnostics = check(self.root, warm=self.warm)
        except NotACourse as exc:
            self.echo(f"[{stamp}] {exc}; waiting for the course to come back", True)
            return False
        except Exception as exc:  # a bug must not end the watch: report it, keep the last outputs
            return self._internal_error(stamp, exc)
        self.source_names = source_names(course)
        if diagnostics != self._shown:
            if diagnostics:
                self.show(diagnostics)
            elif self._shown:
                self.echo(f"[{stamp}] no problems left", False)
            self._shown = diagnostics
        if any(d.is_error or self.strict for d in diagnostics):
            self.echo(f"[{stamp}] build stopped: fix the errors above; the last good outputs stay, "
                      "the next save builds again", True)
            return False
        try:
            written = self.build(course, self.warm.cache)
        except OSError as exc:
            self.echo(f"[{stamp}] cannot write {exc.filename or ''}: {exc.strerror or exc}", True)
            return False
        except Exception as exc:
            return self._internal_error(stamp, exc)
        elapsed = (time.perf_counter() - started) * 1000
        self.echo(f"[{stamp}] built {len(written)} target(s) in {elapsed:.0f} ms", False)
        return True

    def _internal_error(self, stamp: str, exc: Exception) -> bool:
        if os.environ.get("COURSE_DEBUG"):
            traceback.print_exc()
        self.echo(f"[{stamp}] internal error: {type(exc).__name__}: {exc}\nThis is a bug in course_builder; "
                  "set COURSE_DEBUG=1 for details and report it. The last good outputs stay.", True)
        return False

    def run(self) -> None:
        """Build, then build after every save until Ctrl-C (or SIGTERM)."""
        try:
            asyncio.run(self._run())
        finally:
            self.warm.close()  # what the next `course` command finds in the cache
        self.echo("stopped watching", False)

    async def _run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
                loop.add_signal_handler(sig, stop.set)
        one_at_a_time = asyncio.Lock()

        async def rebuild() -> None:
            async with one_at_a_time:
                # In a worker thread, so that Ctrl-C is noticed during a long build too.
                await asyncio.to_thread(self.rebuild)

        async def changed(paths: set[str]) -> None:
            self.warm.changed(paths)  # told before the rebuild it starts: that rebuild reads what they touched
            await rebuild()

        watcher = asyncio.create_task(watch(self.root, SourceFilter(self.root, lambda: self.source_names), changed,
                                            lambda message: self.echo(message, True), stop))
        # The watcher is set up in its task's first step: started before the first build, it sees
        # every save from then on, also those made while that build runs.
        await asyncio.sleep(0.05)
        self.warm.changed(set())  # watching from now on: every later save is reported
        await rebuild()
        self.echo(f"watching {self.root} for changes (Ctrl-C to stop)", False)
        await watcher
