"""Benchmark: incremental `course build` — cold, warm with nothing changed, warm after one lesson edit.

Run: .venv/bin/python bench/bench_incremental.py [--repeat N] [--sizes 1000]
For the bundled course (a copy) and synthetic courses (bench_build.synthetic_course) it prints:
  - in-process times of the build step alone (course_builder.build.build, all targets), per target
    and in total, cold (empty cache) and warm (after one lesson edit; after no change);
  - the load + check step of the same runs (another part of issue 11 makes that incremental);
  - the build step in a fresh process (as `course build` runs it), warm after one edit;
  - the whole CLI (`python -m course_builder build`, fresh process) warm after one edit, next to the
    start-up baseline (`course --version`).
Each warm build's outputs are compared with a cold build of the same sources: a figure only counts
if the bytes are identical.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import COURSE, REPO, copy_course, synthetic_course, timed  # noqa: E402

from course_builder import check, targets  # noqa: E402
from course_builder.build import build  # noqa: E402
from course_builder.cache import Cache  # noqa: E402

FRESH_BUILD_STEP = """
import logging, sys, time
from pathlib import Path
logging.getLogger().addHandler(logging.NullHandler())
from course_builder import check, targets
from course_builder.build import build
from course_builder.cache import Cache
names = targets.names()
course, _ = check(Path(sys.argv[1]))
start = time.perf_counter()
build(course, names, Path(sys.argv[2]), targets.BuildOptions(extra={"lti_url": sys.argv[4]}), cache=Cache(Path(sys.argv[3])))
print(time.perf_counter() - start)
"""
# Every target is built, the Common Cartridge too, which needs the LTI tool's address.
LTI_URL = "https://lti.example.test"
OPTIONS = targets.BuildOptions(extra={"lti_url": LTI_URL})


def first_lesson(root: Path) -> Path:
    return sorted((root / "modules").glob("*/0*.md"))[0]


def edit(lesson: Path, n: int) -> None:
    """A designer's edit: one sentence more at the end of the lesson."""
    with lesson.open("a", encoding="utf-8") as fh:
        fh.write(f"\nEin weiterer Satz, Fassung {n}.\n")


def timed_build(root: Path, out: Path, cache: Cache) -> tuple[float, float, dict[str, float], float]:
    """(load + check s, build s, per-target s, build CPU s) of one in-process build of every target.

    The CPU time is reported beside the wall time because the machine may be shared: it counts the
    work of this process only (the deletion of replaced folders runs in a thread and is included)."""
    start = time.perf_counter()
    course, diagnostics = check(root)
    loaded = time.perf_counter()
    if any(d.is_error for d in diagnostics):
        raise SystemExit(f"{root}: the course has errors")
    cpu = time.process_time()
    per_target = {}
    for name in targets.names():
        t = time.perf_counter()
        build(course, [name], out, OPTIONS, cache=cache)
        per_target[name] = time.perf_counter() - t
    return loaded - start, time.perf_counter() - loaded, per_target, time.process_time() - cpu


def same_tree(a: Path, b: Path) -> bool:
    files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    return files_a == files_b


def measure(label: str, root: Path, work: Path, repeat: int) -> None:
    cache = Cache(work / "cache")
    out, cold_out = work / "out", work / "cold"
    lesson = first_lesson(root)
    load_cold, cold, cold_targets, cold_cpu = timed_build(root, out, cache)
    edited, edited_targets, loads, unchanged, cpus = [], [], [], [], []
    for n in range(repeat):
        edit(lesson, n)
        load, seconds, per_target, cpu = timed_build(root, out, cache)
        loads.append(load)
        edited.append(seconds)
        edited_targets.append(per_target)
        cpus.append(cpu)
        unchanged.append(timed_build(root, out, cache)[1])
    build(check(root)[0], targets.names(), cold_out, OPTIONS)  # no cache: the reference bytes
    identical = same_tree(out, cold_out)
    shutil.rmtree(cold_out)

    fresh = []  # the build step as a designer's `course build` runs it: in a new process (templates from the cache)
    for n in range(repeat):
        edit(lesson, 50 + n)
        proc = subprocess.run([sys.executable, "-c", FRESH_BUILD_STEP, str(root), str(out), str(cache.directory), LTI_URL],
                              capture_output=True, text=True, check=True)
        fresh.append(float(proc.stdout))

    cli_args = COURSE + ["build", str(root), "--out", str(work / "cli-out"), "-O", f"lti_url={LTI_URL}"]
    subprocess.run(cli_args, capture_output=True, env=_env(cache))  # warm the CLI's cache
    cli = []
    for n in range(repeat):
        edit(lesson, 100 + n)
        start = time.perf_counter()
        proc = subprocess.run(cli_args, capture_output=True, text=True, env=_env(cache))
        cli.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cli_args)}\n{proc.stderr[-2000:]}")

    median = statistics.median
    warm = median(edited)
    print(f"\n{label}  (median of {repeat}; outputs warm == cold: {'yes' if identical else 'NO'})")
    print(f"  {'target':16} {'cold ms':>9} {'warm, 1 edit ms':>16} {'ratio':>7}")
    for name in cold_targets:
        w = median(t[name] for t in edited_targets)
        print(f"  {name:16} {cold_targets[name] * 1000:9.1f} {w * 1000:16.1f} {cold_targets[name] / w:6.1f}×")
    print(f"  {'build step':16} {cold * 1000:9.1f} {warm * 1000:16.1f} {cold / warm:6.1f}×"
          f"   (warm, nothing changed: {median(unchanged) * 1000:.1f} ms)")
    rest = [n for n in cold_targets if n != "moodle-backup"]
    rest_cold = sum(cold_targets[n] for n in rest)
    rest_warm = sum(median(t[n] for t in edited_targets) for n in rest)
    print(f"  {'all but .mbz':16} {rest_cold * 1000:9.1f} {rest_warm * 1000:16.1f} {rest_cold / rest_warm:6.1f}×")
    print(f"  {'build step, CPU':16} {cold_cpu * 1000:9.1f} {median(cpus) * 1000:16.1f} {cold_cpu / median(cpus):6.1f}×")
    print(f"  build step in a fresh process, warm after one edit: {median(fresh) * 1000:.1f} ms")
    print(f"  load + check     {load_cold * 1000:9.1f} {median(loads) * 1000:16.1f}   (with the cache)")
    print(f"  whole CLI, warm after one edit: {median(cli) * 1000:.0f} ms")


def _env(cache: Cache) -> dict:
    import os

    return {**os.environ, "COURSE_CACHE_DIR": str(cache.directory)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="1000", help="synthetic course sizes (modules), comma-separated")
    args = parser.parse_args()
    startup = timed(COURSE + ["--version"], args.repeat, "version").wall
    logging.getLogger().addHandler(logging.NullHandler())  # the targets' warnings are not what is measured
    print("course_builder incremental build benchmark (all targets)")
    print(f"python start-up + import baseline (course --version): {startup * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        measure("bundled course", copy_course(REPO, tmp_path / "bundled" / "course"), tmp_path / "bundled", args.repeat)
        for size in [int(s) for s in args.sizes.split(",") if s]:
            work = tmp_path / f"synthetic-{size}"
            measure(f"synthetic {size} modules", synthetic_course(work / "course", size), work, max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
