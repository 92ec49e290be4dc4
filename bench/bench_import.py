"""Benchmark: `course import questions` on a large Moodle XML bank (issue #14: 4,800 questions in ≤ 2 s).

Run: .venv/bin/python bench/bench_import.py [--questions 4800] [--repeat 3]
Builds a bank from the bundled course's own Moodle XML export, repeated (idnumbers made unique)
until it holds the asked number of questions, then runs the real CLI in a fresh process into an
empty folder each time. Prints median wall and CPU time (user + system of the command; steadier on
a shared machine), questions per second, and the ratio to the 2-second budget. Process start-up
(Python, click, lxml) is included, as a designer would see it.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUDGET_S = 2.0


def bank(count: int) -> tuple[str, int]:
    sys.path.insert(0, str(REPO))
    from course_builder import check
    from course_builder.targets.moodle import moodle_xml
    from course_builder.targets.moodle.bank import bank as make_bank

    course, _ = check(REPO)
    xml = moodle_xml.render(make_bank(course))
    body = xml.split("<quiz>\n", 1)[1].rsplit("</quiz>", 1)[0]
    per_copy = body.count('<question type="') - body.count('<question type="category">')
    copies = -(-count // per_copy)
    parts = []
    for n in range(copies):
        copy = re.sub(r"<idnumber>([^<]+)</idnumber>", lambda m: f"<idnumber>{m.group(1)}-k{n}</idnumber>", body)
        parts.append(copy.replace("$course$/top/", f"$course$/top/Kopie {n} "))
    return '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "".join(parts) + "</quiz>", copies * per_copy


def run_once(xml: Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "course_builder", "import", "questions", str(xml), "--into", out,
                               "--format", "json"], capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:])
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=4800)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text, count = bank(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "bank.xml"
        xml.write_text(text, encoding="utf-8")
        runs = [run_once(xml) for _ in range(args.repeat)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(f"import questions: {count} questions, {len(text) / 1e6:.1f} MB Moodle XML, {args.repeat} runs")
    print(f"  wall {wall * 1000:.0f} ms (median), cpu {cpu * 1000:.0f} ms, {count / wall:.0f} questions/s")
    print(f"  budget {BUDGET_S:.1f} s: wall/budget = {wall / BUDGET_S:.2f}, cpu/budget = {cpu / BUDGET_S:.2f}")


if __name__ == "__main__":
    main()
