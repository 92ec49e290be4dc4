"""Run a command on a pseudo-terminal, as a designer's shell would: for prompts and progress displays."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time


def run_on_terminal(cmd: list[str], answer: str | None = None, env: dict | None = None,
                    timeout: float = 120) -> tuple[int, str]:
    """(exit code, everything it wrote). stdin, stdout and stderr are the terminal; if answer is given,
    it is typed (with Enter) at the first prompt, i.e. when the output ends in ':'."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, close_fds=True, env=env)
    os.close(slave)
    seen, answered, deadline = b"", answer is None, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and seen.rstrip(b" ").endswith(b":"):
                os.write(master, answer.encode() + b"\r")
                answered = True
            if proc.poll() is not None and not ready:
                break
        return proc.wait(timeout=10), seen.decode("utf-8", "replace")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
