"""The preview's state between edits: the last good snapshot, the current diagnostics, and who to tell.

`rebuild()` loads the course again; with errors it keeps the last good snapshot (the browser keeps
showing it, under an overlay), without errors it swaps in the new one and names the modules whose
pages changed. Every rebuild ends in a status that the terminal prints and every open tab receives.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..cache import NO_CACHE, Cache
from ..diagnostics import IO_MISSING, Diagnostic, SourceLoc, diag, format_text
from ..loader import NotACourse
from ..warm import WarmState
from ..watching import source_names
from .snapshot import Snapshot, load_course

# The overlay lists this many diagnostics; the terminal has all of them.
OVERLAY_LIMIT = 50


@dataclass
class Rebuild:
    """What one rebuild found."""

    diagnostics: list[Diagnostic]
    changed: list[str] = field(default_factory=list)
    internal_error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.internal_error is None and not any(d.is_error for d in self.diagnostics)


class LivePreview:
    def __init__(self, root: Path, echo: Callable[[str, bool], None], cache: Cache = NO_CACHE):
        """echo(text, is_diagnostic): how lines reach the terminal (diagnostics go to stderr); cache: the
        course's, so that a rebuild parses only the files saved since the last one."""
        self.root = root.resolve()
        # Keeps the parsed sources between rebuilds: a rebuild after one save reads and parses one file.
        self.warm = WarmState(cache)
        self.echo = echo
        self.snapshot: Snapshot | None = None
        self.last = Rebuild([])
        self.generation = 0
        self._printed = ""
        self._clients: set[asyncio.Queue] = set()
        # Top-level names the course is made of besides modules/ and assessments/ (glossary, shared media),
        # from the latest load, with or without errors: adding a missing picture must start a rebuild.
        self.source_names: set[str] = {"glossary.yaml"}

    # -- rebuilding (runs in a worker thread; the server keeps answering meanwhile)

    def rebuild(self, first: bool = False) -> Rebuild:
        """Load the course again. Only the first load may raise NotACourse (a usage problem); later, while
        the preview watches, course.yaml may be deleted or the folder renamed and be back a moment later."""
        started = time.perf_counter()
        try:
            try:
                course, diagnostics = load_course(self.root, self.warm)
            except NotACourse as exc:
                if first:
                    raise
                course, diagnostics = None, [diag(IO_MISSING, SourceLoc("course.yaml"), str(exc),
                                                  "restore course.yaml (or the course folder); the preview picks it up")]
            result = Rebuild(diagnostics)
            if course is not None:
                self.source_names = source_names(course)
            if course is not None and result.ok:
                snapshot = Snapshot.of(course, self.snapshot)
                result.changed = snapshot.changed_since(self.snapshot)
                # The pages a tab shows now are rendered before the tab is told to reload them.
                for module_id in set(result.changed) & set(self.snapshot.rendered() if self.snapshot else []):
                    snapshot.page(module_id)
                self.snapshot = snapshot
        except NotACourse:
            raise
        except Exception as exc:  # a bug in course_builder must not end the preview: report it, keep the last page
            if os.environ.get("COURSE_DEBUG"):
                traceback.print_exc()
            result = Rebuild([], internal_error=f"{type(exc).__name__}: {exc}")
        result.seconds = time.perf_counter() - started
        self.last = result
        self.generation += 1
        self._report(result)
        return result

    def _report(self, result: Rebuild) -> None:
        stamp = time.strftime("%H:%M:%S")
        if result.internal_error:
            self.echo(f"[{stamp}] internal error: {result.internal_error}\n"
                      "This is a bug in course_builder; set COURSE_DEBUG=1 for details and report it. "
                      "The browser keeps showing the last good version.", True)
            self._printed = ""
            return
        text = format_text(result.diagnostics, color=False) if result.diagnostics else ""
        if text != self._printed:  # the same warnings on every save would bury what changed
            if text:
                self.echo(text.rstrip("\n"), True)
            elif self._printed:
                self.echo(f"[{stamp}] no problems left", False)
            self._printed = text
        if not result.ok:
            self.echo(f"[{stamp}] the browser keeps showing the last good version until the errors are fixed", False)
        elif self.generation > 1:
            what = f"updated {', '.join(result.changed)}" if result.changed else "checked; no module page changed"
            self.echo(f"[{stamp}] {what} ({result.seconds * 1000:.0f} ms)", False)

    # -- what the browser sees

    def status(self) -> dict:
        result = self.last
        errors = [d for d in result.diagnostics if d.is_error]
        shown = (errors + [d for d in result.diagnostics if not d.is_error])[:OVERLAY_LIMIT]
        snap = self.snapshot
        return {
            "generation": self.generation,
            "ok": result.ok,
            "course": {"id": snap.course.id, "title": snap.course.title} if snap else None,
            "modules": snap.modules() if snap else [],
            "changed": result.changed,
            "diagnostics": [self._diagnostic(d) for d in shown],
            "errors": len(errors),
            "warnings": len(result.diagnostics) - len(errors),
            "internalError": result.internal_error,
            "rebuildMs": round(result.seconds * 1000, 1),
        }

    def _diagnostic(self, d: Diagnostic) -> dict:
        doc = d.as_dict()
        doc["excerpt"] = self._line(d.loc.file, d.loc.line)
        return doc

    def _line(self, rel: str, line: int) -> str:
        """The source line a diagnostic points at, for the overlay ('' if it cannot be read)."""
        path = (self.root / rel).resolve()
        if self.root not in path.parents:
            return ""
        try:
            with path.open(encoding="utf-8", errors="replace") as fh:
                for number, text in enumerate(fh, 1):
                    if number == line:
                        return text.rstrip("\n")[:300]
        except OSError:
            pass
        return ""

    # -- telling the open tabs (server-sent events; called on the event loop)

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        queue.put_nowait(self.status())
        self._clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._clients.discard(queue)

    def publish(self) -> None:
        status = self.status()
        for queue in self._clients:
            queue.put_nowait(status)

    def close(self) -> None:
        """End every event stream (the server is stopping), so no open tab holds the shutdown up."""
        for queue in self._clients:
            queue.put_nowait(None)
