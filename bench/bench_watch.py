"""Benchmark: `course build --watch`, from saving a lesson to the finished rebuild.

Run: .venv/bin/python bench/bench_watch.py [--sizes 1000] [--targets html] [--edits 10] [--no-bundled]
For the bundled course (a copy) and synthetic courses (bench_build.synthetic_course) it starts the
real `course build COURSE --watch` in a fresh process, waits for its first build, then saves one
lesson --edits times, each after the last rebuild ended, and takes for each save
  - latency: from just before the write to the tool's line "built … target(s) in N ms" (what a
    designer waits for: the watcher's settling time, STEP_MS, included);
  - rebuild: the N ms the tool reports (reading, checking and building).
After the last save the outputs are compared with a fresh `course build --no-cache` of the same
sources: the figures only count if every file is byte-identical. Prints median and p95 and their
ratios to issue 11's goal for a 1,000-module course (a warm rebuild after one edit ≤ 0.5 s).
--targets as in bench_build.py: names, `all` (every default target) or `all-but:NAME,…`.
Then the same edits in `course preview`'s rebuild (in-process, as its file watcher calls it; an open
tab shows the edited module, so its page is rendered again within the rebuild): the rebuild's time.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import COURSE, REPO, copy_course, synthetic_course, target_args  # noqa: E402

GOAL_MS = 500.0
BUILT = "built "


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Watcher:
    """`course build --watch` in a child process; its output lines arrive on a queue, stamped on arrival."""

    def __init__(self, args: list[str]):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))
        self.lines.put((time.perf_counter(), None))

    def next_build(self, timeout: float) -> tuple[float, float]:
        """(arrival time, reported ms) of the next "built … in N ms" line."""
        deadline = time.perf_counter() + timeout
        while True:
            arrived, line = self.lines.get(timeout=max(0.1, deadline - time.perf_counter()))
            if line is None:
                raise SystemExit("course build --watch ended early")
            if line.split("] ", 1)[-1].startswith(BUILT):
                return arrived, float(line.rsplit(" in ", 1)[1].removesuffix(" ms"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def same_trees(a: Path, b: Path) -> list[str]:
    """Paths that differ between two output folders (missing on one side, or other bytes)."""
    def outputs(root: Path) -> set[Path]:  # not the replaced folders (.<target>.old.*) deleted in the background
        return {p.relative_to(root) for p in root.rglob("*")
                if p.is_file() and not p.relative_to(root).parts[0].startswith(".")}

    files_a, files_b = outputs(a), outputs(b)
    differ = sorted(str(p) for p in files_a ^ files_b)
    differ += sorted(str(p) for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False))
    return differ


def measure(root: Path, work: Path, targets: list[str], edits: int) -> dict:
    lessons = sorted((root / "modules").glob("*/*.md"))
    lesson = lessons[len(lessons) // 2]
    original = lesson.read_text(encoding="utf-8")
    out, cache = work / f"out-{root.name}", work / f"cache-{root.name}"
    watcher = Watcher(COURSE + ["build", str(root), "--watch", "--out", str(out), "--cache-dir", str(cache)] + targets)
    latencies, reported = [], []
    try:
        _, first = watcher.next_build(600)
        # The first build's cache entries are written in the background for a while (thousands of
        # them): a designer's first save comes seconds later, not while those are written.
        time.sleep(3)
        for i in range(edits):
            time.sleep(0.3)  # a designer's saves are apart; the old outputs' deletion is done meanwhile
            start = time.perf_counter()
            lesson.write_text(original + f"\nEin geänderter Absatz, Fassung {i}.\n", encoding="utf-8")
            arrived, ms = watcher.next_build(60)
            latencies.append((arrived - start) * 1000)
            reported.append(ms)
    finally:
        watcher.stop()
    cold = work / f"cold-{root.name}"
    subprocess.run(COURSE + ["build", str(root), "--no-cache", "--out", str(cold)] + targets,
                   check=True, capture_output=True)
    differ = same_trees(out, cold)
    lesson.write_text(original, encoding="utf-8")
    if differ:
        raise SystemExit(f"outputs of the watched build differ from a cold build: {differ[:10]}")
    return {"first": first, "latency": latencies, "rebuild": reported}


def preview_rebuilds(root: Path, work: Path, edits: int) -> list[float]:
    """Seconds of each `course preview` rebuild after a save of one lesson (the module's page rendered too)."""
    sys.path.insert(0, str(REPO))
    from course_builder.cache import Cache
    from course_builder.preview.live import LivePreview

    live = LivePreview(root, lambda text, is_diagnostic: None, Cache(work / f"preview-cache-{root.name}"))
    live.rebuild(first=True)
    live.warm.changed(set())  # the preview's watcher is up (as `course preview` says after starting it)
    lessons = sorted((root / "modules").glob("*/*.md"))
    lesson = lessons[len(lessons) // 2]
    module = next(m for m in live.snapshot.course.modules if any(l.path == lesson for l in m.lessons))
    live.snapshot.page(module.id)  # the open tab's page
    original = lesson.read_text(encoding="utf-8")
    seconds = []
    try:
        for i in range(edits):
            time.sleep(0.3)
            lesson.write_text(original + f"\nEin geänderter Absatz, Fassung {i}.\n", encoding="utf-8")
            live.warm.changed({os.fspath(lesson)})  # what the preview's file watcher reports before it rebuilds
            result = live.rebuild()
            if result.changed != [module.id]:
                raise SystemExit(f"preview rebuilt {result.changed}, not {module.id}")
            seconds.append(result.seconds)
    finally:
        lesson.write_text(original, encoding="utf-8")
        live.warm.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000")
    parser.add_argument("--targets", default="html")
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--no-bundled", action="store_true", help="measure the synthetic courses only")
    args = parser.parse_args()
    targets = target_args(args.targets)
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        courses = [] if args.no_bundled else [("bundled course", copy_course(REPO, work / "bundled"))]
        for size in [int(s) for s in args.sizes.split(",") if s]:
            courses.append((f"synthetic {size} modules", synthetic_course(work / f"c{size}", size)))
        for label, root in courses:
            rows.append((label, measure(root, work, targets, args.edits)))
            shutil.rmtree(work / f"out-{root.name}", ignore_errors=True)
            rows[-1][1]["preview"] = [s * 1000 for s in preview_rebuilds(root, work, args.edits)]
    load_after = os.getloadavg()
    print(f"course build --watch benchmark ({args.edits} edits, ms; targets: {args.targets})")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in load_before)}; after: "
          f"{', '.join(f'{x:.2f}' for x in load_after)}; {os.cpu_count()} CPUs")
    print("first: the first build (cold process, warm disk cache); latency: write → 'built' line; "
          "rebuild: as the tool reports it. Outputs compared with a cold build: identical.")
    print(f"{'course':26}{'first':>8}{'lat p50':>9}{'lat p95':>9}{'reb p50':>9}{'reb p95':>9}"
          f"{'p50/goal':>10}{'p95/goal':>10}")
    for label, r in rows:
        p50, p95 = statistics.median(r["latency"]), percentile(r["latency"], 0.95)
        print(f"{label:26}{r['first']:8.0f}{p50:9.0f}{p95:9.0f}{statistics.median(r['rebuild']):9.0f}"
              f"{percentile(r['rebuild'], 0.95):9.0f}{p50 / GOAL_MS:10.2f}{p95 / GOAL_MS:10.2f}")
    print("\ncourse preview, rebuild after one edit (in-process; the open tab's page rendered again), ms")
    print(f"{'course':26}{'p50':>9}{'p95':>9}{'p50/goal':>10}")
    for label, r in rows:
        p50 = statistics.median(r["preview"])
        print(f"{label:26}{p50:9.0f}{percentile(r['preview'], 0.95):9.0f}{p50 / GOAL_MS:10.2f}")


if __name__ == "__main__":
    main()
