"""Benchmark: start-up of the commands that do no course work, `course --version` and `course targets`.

Run: .venv/bin/python bench/bench_startup.py [--repeat 20] [--script PATH/TO/course]
Each run starts the installed console script in a fresh process (as a shell would); prints the median,
p90 and min wall time in ms and the ratio to the 0.1 s budget (issue 11), then the slowest imports of
`course targets` from `python -X importtime`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET_S = 0.1
SCRIPT = Path(sys.executable).with_name("course")
COMMANDS = [["--version"], ["targets"]]


def wall_times(cmd: list[str], repeat: int) -> list[float]:
    subprocess.run(cmd, check=True, capture_output=True)  # warm the OS file cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return sorted(times)


def slowest_imports(args: list[str], top: int = 8) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the top-level imports, from -X importtime."""
    code = f"import sys; sys.argv = ['course', *{args!r}]; from course_builder.cli import main; main()"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)  # top level: no indent before the name
        if m:
            rows.append((int(m.group(1)), m.group(2)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--script", type=Path, default=SCRIPT,
                        help="the console script to time, e.g. of a venv with the wheel installed (default: this venv's)")
    opts = parser.parse_args()
    print(f"script: {opts.script}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'command':22} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'median/0.1 s':>13}")
    # The interpreter alone: the floor every command pays, for reading the figures on a busy machine.
    rows = [("python -c pass", [sys.executable, "-c", "pass"])]
    rows += [("course " + " ".join(args), [str(opts.script), *args]) for args in COMMANDS]
    for label, cmd in rows:
        times = wall_times(cmd, opts.repeat)
        median = statistics.median(times)
        p90 = times[int(0.9 * (len(times) - 1))]
        print(f"{label:22} {median * 1000:10.1f} {p90 * 1000:8.1f} {times[0] * 1000:8.1f} {median / BUDGET_S:13.2f}")
    print(f"\n(runs per command: {opts.repeat}; budget {BUDGET_S * 1000:.0f} ms; ratio < 1 is within it)")
    print("\nslowest top-level imports of `course targets` (cumulative ms):")
    for micros, module in slowest_imports(["targets"]):
        print(f"  {micros / 1000:7.1f}  {module}")


if __name__ == "__main__":
    main()
