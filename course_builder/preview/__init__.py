"""`course preview`: the modules as learners see them in Moodle, updated while the designer edits.

A local web server (127.0.0.1 only) shows every module's page exactly as its SCORM 1.2 package does,
inside a shell that stands in for the LMS (a SCORM 1.2 API that behaves as Moodle's) and shows what
the LMS would record. The course folder is watched; after a save the course is loaded again, only
the modules whose pages changed are rendered again, and the open tab reloads them on the same page.
Errors in the sources appear as an overlay over the last good version and in the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Callable

import uvicorn

from ..cache import course_state_dir, for_course
from .app import create_app
from .attempts import AttemptStore
from .live import LivePreview
from ..watching import SourceFilter, watch


class PortInUse(Exception):
    """The port asked for is taken: a usage problem."""


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: a free one), bound before anything else starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; "
                        "choose another port with --port N, or --port 0 for a free one") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _echo(text: str, diagnostic: bool) -> None:
    stream = sys.stderr if diagnostic else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _open_browser(url: str, echo) -> None:
    # Without a display, Python would start a text browser (lynx, w3m) in this very terminal.
    graphical = os.environ.get("BROWSER") or not sys.platform.startswith("linux") or \
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if not (graphical and webbrowser.open(url)):
        echo(f"--open: found no browser to open; open {url} yourself", True)


class _Server(uvicorn.Server):
    """uvicorn, told first when Ctrl-C comes, so that open event streams end and shutdown does not wait on them."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None], on_ready: Callable[[], None]):
        super().__init__(config)
        self._on_exit = on_exit
        self._on_ready = on_ready

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_ready()

    def handle_exit(self, sig, frame) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self):
        """Ctrl-C stops the preview; unlike uvicorn's own, the signal is not raised again afterwards
        (that would end a clean stop in a KeyboardInterrupt). A second Ctrl-C forces the stop."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def run(course_dir: Path, port: int = 8040, open_browser: bool = False, echo=_echo) -> None:
    """Serve the preview until Ctrl-C. The first load happens before the server starts (its problems are printed)."""
    live = LivePreview(course_dir, echo, for_course(course_dir))
    live.rebuild(first=True)
    sock = bind(port)
    attempts = AttemptStore(course_state_dir(live.root, "preview") / "attempts.json")
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    try:
        asyncio.run(_serve(live, attempts, sock, url, open_browser, echo))
    finally:
        live.warm.close()  # what the next `course` command finds in the cache
    echo("preview stopped", False)


async def _serve(live: LivePreview, attempts: AttemptStore, sock: socket.socket, url: str, open_browser: bool,
                 echo) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def stopping() -> None:  # from uvicorn's signal handler
        loop.call_soon_threadsafe(stop.set)
        loop.call_soon_threadsafe(live.close)

    def ready() -> None:
        title = live.snapshot.course.title if live.snapshot else live.root.name
        echo(f"Preview of {title} at {url} (Ctrl-C to stop)", False)
        if open_browser:
            threading.Thread(target=_open_browser, args=(url, echo), daemon=True).start()

    config = uvicorn.Config(create_app(live, attempts), log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=2)
    server = _Server(config, stopping, ready)
    rebuilding = asyncio.Lock()

    async def changed(paths: set[str]) -> None:
        live.warm.changed(paths)  # told before the rebuild it starts: that rebuild reads what they touched
        async with rebuilding:
            await asyncio.to_thread(live.rebuild)
            live.publish()

    watcher = asyncio.create_task(watch(live.root, SourceFilter(live.root, lambda: live.source_names), changed,
                                        lambda message: echo(message, True), stop))
    # The watcher is set up in its task's first step; from then on every save is reported (warm.py).
    await asyncio.sleep(0.05)
    live.warm.changed(set())
    try:
        await server.serve(sockets=[sock])
    finally:
        stop.set()
        live.close()
        try:
            await asyncio.wait_for(watcher, 5)
        except (TimeoutError, asyncio.CancelledError):
            watcher.cancel()
