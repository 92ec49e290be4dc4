"""Helpers for `course preview` tests and its benchmark: the real CLI in a subprocess, and its shell in Chromium."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from scorm_support import PageWatch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bench_build import copy_course  # noqa: E402  (one copy of the bundled course for tests and benches)

REPO = Path(__file__).resolve().parent.parent
URL_LINE = re.compile(r"at (http://127\.0\.0\.1:\d+/)")


def copy_bundled_course(target: Path) -> Path:
    return copy_course(REPO, target)


class CourseProcess:
    """A long-running `course` command (`preview`, `build --watch`) as a designer starts it; stdout and
    stderr are collected as they come. It counts as started once stdout has a line matching `ready`."""

    def __init__(self, args: list[str], ready: re.Pattern, startup_timeout: float = 30.0, env: dict | None = None):
        # The command keeps its state in the course's own cache folder, as for a designer.
        env = {**{k: v for k, v in os.environ.items() if k != "COURSE_CACHE_DIR"}, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen([sys.executable, "-m", "course_builder", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._ready = threading.Event()
        self.ready = ready
        self.ready_match: re.Match | None = None
        threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False), daemon=True).start()
        if not self._ready.wait(startup_timeout):
            self.stop()
            raise AssertionError(f"{args[0]} did not start:\n{self.output}")

    def _read(self, stream, lines: list[str], look_for_ready: bool) -> None:
        for line in stream:
            lines.append(line)
            match = self.ready.search(line) if look_for_ready else None
            if match and self.ready_match is None:
                self.ready_match = match
                self._ready.set()

    @property
    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def wait_output(self, pattern: str, timeout: float = 15.0, stream: str = "stderr") -> str:
        """Wait until a line matching pattern was printed (on stderr: diagnostics; stdout: the rest)."""
        lines = self.stderr if stream == "stderr" else self.stdout
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if regex.search(line):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} on {stream}:\n{self.output}")

    def stop(self, timeout: float = 15.0) -> int:
        """Ctrl-C, as a designer ends it; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class PreviewProcess(CourseProcess):
    """`course preview COURSE --port 0`; url is where it serves."""

    def __init__(self, course_dir: Path, *args: str, startup_timeout: float = 30.0, env: dict | None = None):
        super().__init__(["preview", str(course_dir), "--port", "0", *args], URL_LINE, startup_timeout, env)
        self.url = self.ready_match.group(1)


@contextmanager
def running_preview(course_dir: Path, *args: str, env: dict | None = None):
    preview = PreviewProcess(course_dir, *args, env=env)
    try:
        yield preview
    finally:
        preview.stop()


class Shell:
    """The preview's shell page in a fresh browser context; `frame` is the module's page inside it."""

    def __init__(self, browser, url: str, module: str | None = None, wait: bool = True):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.watch = PageWatch(self.page)
        self.page.goto(url + (f"#/{module}" if module else ""))
        self.frame = self.page.frame_locator("#pv-frame")
        if wait:
            self.wait_player()

    def wait_player(self) -> None:
        """Until the module's page is up and the runtime has started (its pager shows)."""
        self.frame.locator(".pager:not([hidden])").wait_for()

    def wait_loaded(self, before: int) -> None:
        """Until the frame has loaded a page more than `before` times: a reloaded page with its runtime started
        (while a page is parsed, before its runtime runs, every section of it is visible)."""
        self.page.wait_for_function("n => window.previewEvents.filter(e => e.type === 'loaded').length > n", arg=before)

    def by_id(self, element_id: str):
        return self.frame.locator(f'[id="{element_id}"]')

    @property
    def sco(self):  # what scorm_support.answer_quiz drives
        return self.frame

    def visible_page(self) -> str:
        return self.frame.locator("section.page:not([hidden])").get_attribute("id")

    def go_to(self, page_id: str) -> None:
        self.frame.locator(f".toc a[data-page='{page_id}']").click()
        self.frame.locator(f"section.page#{page_id}:not([hidden])").wait_for()

    def debug(self, field: str) -> str:
        return self.page.locator(f"#pv-{field}").inner_text()

    def events(self, kind: str) -> list[dict]:
        return self.page.evaluate("t => window.previewEvents.filter(e => e.type === t)", kind)

    def problems(self) -> list[str]:
        """Console errors, page errors, failed requests. Leaving the page (a reload) cuts two requests short
        from the page's view, which are no failure: the event stream, and the beacon with the last write
        (it reaches the server all the same; the resume tests show that)."""
        return [e for e in self.watch.errors
                if not (e.startswith("failed: ") and re.search(r"/(events|api/attempts/[^/]+)$", e))]

    def close(self) -> None:
        self.context.close()
