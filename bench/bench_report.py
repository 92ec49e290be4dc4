"""Benchmark of the results loop: 10,000 attempts × 12 questions analysed as Moodle's Statistics report does.

Run: .venv/bin/python bench/bench_report.py [--attempts 10000] [--repeat 3]

The course is tests/fixtures/mini plus the 12-question self-check of tests/fixtures/results/moodle45; the
attempts are a simulated cohort (tests/results_support.py) written as Moodle's quiz Responses export (CSV)
and as the LTI tool's SQLite database. Printed: the best of --repeat runs of the analysis alone
(statistics per question and response, objective mastery) against the 2 s goal, and of reading each source
plus the analysis, and of rendering the HTML page, for information.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

GOAL_SECONDS = 2.0


def best(repeat: int, run) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import results_support as rs
    from course_builder import check
    from course_builder.results import analyse, load_attempts

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = work / "mini"
        shutil.copytree(REPO / "tests" / "fixtures" / "mini", root)
        shutil.copy(REPO / "tests" / "fixtures" / "results" / "moodle45" / "abschluss-selbstcheck.md", root / "assessments")
        course, _ = check(root)
        quiz = next(q for q in course.quizzes if q.id == "abschluss-selbstcheck")
        people = rs.cohort(course, quiz, args.attempts, seed=1)
        export = rs.responses_csv(quiz, people, work / "responses.csv")
        database = rs.lti_database(course, quiz, people, work / "tool.db")
        attempts = load_attempts(course, [str(export)], work)
        answered = sum(len(a.responses) for a in attempts)
        print(f"{len(attempts)} attempts × {len(quiz.questions)} questions ({answered} responses)")

        seconds, analysis = best(args.repeat, lambda: analyse(course, attempts, "all"))
        assert analysis.quizzes[0].attempts == args.attempts
        print(f"analysis (statistics, responses, mastery): {seconds:.3f} s  goal {GOAL_SECONDS:.1f} s  "
              f"ratio {seconds / GOAL_SECONDS:.2f} of the goal")
        from course_builder.model import ResultsThresholds
        from course_builder.results.report import as_html

        seconds, _ = best(args.repeat, lambda: as_html(course, analysis, work, ResultsThresholds()))
        print(f"HTML report with its charts (for information): {seconds:.3f} s")
        for name, source in (("Responses CSV", str(export)), ("LTI SQLite", database)):
            seconds, _ = best(args.repeat, lambda s=source: analyse(course, load_attempts(course, [s], work), "all"))
            print(f"read {name} + analysis: {seconds:.3f} s  ratio {seconds / GOAL_SECONDS:.2f} of the goal")


if __name__ == "__main__":
    main()
