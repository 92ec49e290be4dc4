"""Benchmark: time to build all SCORM packages (both versions) of the bundled course, and their sizes.

Run: .venv/bin/python bench/bench_scorm.py [--repeat N]
Prints the median wall time of `course build -t scorm` (a fresh process each time, as CI runs it, so
including start-up, loading and `course check`), the time of the two targets alone, then every package's size, the runtime (learner.js + learner.css) each SCO carries, and the ratio of
the runtime to the 30 KB budget.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNTIME_BUDGET = 30 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "build"
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "course_builder", "build", "-t", "scorm", "-o", str(out), str(REPO)],
                           check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        packages = sorted(out.glob("scorm*/*.zip"))
        print(f"build all SCORM packages ({len(packages)} zips): median {statistics.median(times) * 1000:.0f} ms "
              f"over {args.repeat} runs (min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms)")
        sys.path.insert(0, str(REPO))
        from course_builder.build import build
        from course_builder.loader import load

        course = load(REPO).course
        inner = []
        for n in range(args.repeat):
            start = time.perf_counter()
            build(course, ["scorm12", "scorm2004"], Path(tmp) / f"inproc{n}")
            inner.append(time.perf_counter() - start)
        print(f"of which the SCORM targets themselves (in-process, course loaded): median "
              f"{statistics.median(inner) * 1000:.0f} ms")
        print(f"{'package':<58} {'zip bytes':>10} {'unpacked':>10} {'files':>6}")
        total = 0
        for path in packages:
            with zipfile.ZipFile(path) as zf:
                unpacked = sum(i.file_size for i in zf.infolist())
                count = len(zf.infolist())
                runtime = zf.getinfo("assets/learner.js").file_size + zf.getinfo("assets/learner.css").file_size
                js, css = zf.getinfo("assets/learner.js").file_size, zf.getinfo("assets/learner.css").file_size
            total += path.stat().st_size
            print(f"{path.parent.name + '/' + path.name:<58} {path.stat().st_size:>10} {unpacked:>10} {count:>6}")
        print(f"{'total':<58} {total:>10}")
        print(f"runtime per SCO: {runtime} bytes (learner.js {js}, learner.css {css}) = "
              f"{runtime / RUNTIME_BUDGET:.2f} of the 30 KB budget")


if __name__ == "__main__":
    main()
