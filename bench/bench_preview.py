"""Benchmark: `course preview` on the bundled course, from saving a lesson to the browser's reload.

Run: .venv/bin/python bench/bench_preview.py [--edits 30] [--warmup 3]
Starts the real `course preview` on a copy of the bundled course, opens a lesson of one module in
headless Chromium (/usr/bin/chromium), then saves that lesson --edits times. For each save it takes
the time from just before the write to the shell's reload event (the server's event has arrived and
the module's page is being reloaded; Date.now() in the page, time.time() here: the same clock), and to
the new page being loaded. Prints p50 / p95 and their ratios to the goals of issue 11 (p50 ≤ 150 ms,
p95 ≤ 300 ms), then where one rebuild's time goes, measured in-process: loading (reading, parsing,
Markdown), the checks, the per-module revisions and one page's rendering, and loading with the
source cache when this build has one (`course_builder.check(root, cache=…)`); without one, an
estimate of its share: loading with every Markdown rendering memoized.
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

GOAL_P50_MS, GOAL_P95_MS = 150.0, 300.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def edit_loop(course_dir: Path, lesson: Path, module_id: str, page_id: str, edits: int, warmup: int) -> dict:
    from preview_support import PreviewProcess, Shell
    from scorm_support import shared_browser

    preview = PreviewProcess(course_dir)
    shell = Shell(shared_browser(), preview.url, module_id)
    original = lesson.read_text(encoding="utf-8")
    reload_ms, loaded_ms, rebuild_ms = [], [], []
    try:
        shell.go_to(page_id)
        for n in range(warmup + edits):
            marker = f"Bench-Änderung {n}"
            reloads, loaded = len(shell.events("reload")), len(shell.events("loaded"))
            written = time.time() * 1000
            lesson.write_text(f"{original}\n{marker}\n", encoding="utf-8")
            shell.page.wait_for_function("n => window.previewEvents.filter(e => e.type === 'reload').length > n",
                                         arg=reloads, timeout=10_000)
            shell.wait_loaded(loaded)
            shell.frame.get_by_text(marker).wait_for(timeout=10_000)
            reload_event = shell.events("reload")[-1]
            loaded_event = shell.events("loaded")[-1]
            status = shell.page.evaluate("fetch('/api/status').then(r => r.json())")
            assert shell.visible_page() == page_id, "the reload did not stay on the page"
            if n >= warmup:
                reload_ms.append(reload_event["at"] - written)
                loaded_ms.append(loaded_event["at"] - written)
                rebuild_ms.append(status["rebuildMs"])
            shell.page.wait_for_timeout(100)  # a designer does not save twice within a tenth of a second
    finally:
        lesson.write_text(original, encoding="utf-8")
        shell.close()
        preview.stop()
    return {"reload": reload_ms, "loaded": loaded_ms, "rebuild": rebuild_ms}


def phases(course_dir: Path, lesson: Path, repeat: int = 10) -> list[tuple[str, float]]:
    """Median milliseconds of each part of one rebuild, in-process."""
    import course_builder
    from course_builder.checks import run_checks
    from course_builder.loader import load
    from course_builder.player import render_module
    from course_builder.preview.snapshot import LMS, Snapshot, sco_context

    def median_ms(fn) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    course = load(course_dir).course
    snapshot = Snapshot.of(course)
    module = next(m for m in course.modules if any(lesson_.path == lesson.resolve() for lesson_ in m.lessons))
    rows = [("load: read, parse, Markdown (loader.load)", median_ms(lambda: load(course_dir))),
            ("checks (checks.run_checks)", median_ms(lambda: run_checks(course))),
            ("revisions of every module (Snapshot.of)", median_ms(lambda: Snapshot.of(course, snapshot))),
            ("render one module page", median_ms(lambda: render_module(course, module, sco_context(LMS))))]
    if "cache" in inspect.signature(course_builder.check).parameters:
        from course_builder.cache import Cache

        with tempfile.TemporaryDirectory() as cache_dir:
            cache = Cache(Path(cache_dir))
            course_builder.check(course_dir, cache=cache)  # warm
            original = lesson.read_text(encoding="utf-8")
            counter = iter(range(10**6))

            def edited_check() -> None:
                lesson.write_text(f"{original}\nBench {next(counter)}\n", encoding="utf-8")
                course_builder.check(course_dir, cache=cache)

            try:
                rows.append(("load + checks with the warm source cache, one lesson changed", median_ms(edited_check)))
            finally:
                lesson.write_text(original, encoding="utf-8")
        rows.append(("load + checks without the cache", median_ms(lambda: course_builder.check(course_dir))))
    else:
        rows.append(("load + checks with the source cache", float("nan")))
        rows.append(("estimate: load with Markdown memoized (a cache's share)", median_ms(memoized_markdown(course_dir))))
    return rows


def memoized_markdown(course_dir: Path):
    """loader.load with every Markdown rendering memoized: what a source cache saves on Markdown, at most."""
    from functools import lru_cache

    from course_builder import loader, quizparse
    from course_builder.markdown import render

    @lru_cache(maxsize=None)
    def remembered(text, loc, lines, inline):
        return render(text, loc, list(lines) if lines is not None else None, inline=inline)

    def fast(text, loc, file_lines=None, inline=False):
        return remembered(text, loc, tuple(file_lines) if file_lines is not None else None, inline)

    def run() -> None:
        saved = loader.render, quizparse.render
        loader.render = quizparse.render = fast
        try:
            loader.load(course_dir)
        finally:
            loader.render, quizparse.render = saved

    run()  # fill the memo: the warm state after the first load
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    from course_builder.loader import load
    from preview_support import copy_bundled_course
    from course_builder.watching import STEP_MS

    with tempfile.TemporaryDirectory() as tmp:
        course_dir = copy_bundled_course(Path(tmp) / "course")
        course = load(course_dir).course
        module = course.modules[len(course.modules) // 2]
        lesson = module.lessons[0]
        rel = lesson.path.relative_to(course_dir.resolve()).as_posix()
        print(f"course preview, bundled course ({len(course.modules)} modules): {args.edits} saves of {rel}")
        print(f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start "
              "(timings scale with it: compare runs at a similar load)")
        result = edit_loop(course_dir, lesson.path, module.id, f"lesson-{lesson.id}", args.edits, args.warmup)
        for name, key in (("save → reload event in the browser", "reload"), ("save → new page loaded", "loaded")):
            p50, p95 = percentile(result[key], 0.5), percentile(result[key], 0.95)
            print(f"  {name:<38} p50 {p50:6.1f} ms ({p50 / GOAL_P50_MS:.2f} × goal {GOAL_P50_MS:.0f}), "
                  f"p95 {p95:6.1f} ms ({p95 / GOAL_P95_MS:.2f} × goal {GOAL_P95_MS:.0f}), max {max(result[key]):.1f} ms")
        print(f"  {'of which the rebuild on the server':<38} p50 {percentile(result['rebuild'], 0.5):6.1f} ms, "
              f"p95 {percentile(result['rebuild'], 0.95):6.1f} ms (load + checks + revisions + render)")
        print(f"  {'of which watchfiles waits for quiet':<38} {STEP_MS} ms (the rest: event delivery, the browser)")
        print("where one rebuild's time goes (in-process, median of 10):")
        for name, ms in phases(course_dir, lesson.path):
            print(f"  {name:<62} {'not in this build' if ms != ms else f'{ms:6.1f} ms'}")


if __name__ == "__main__":
    main()
