"""`course build --watch`: the real command in a subprocess, edited while it runs.

After every save it builds again, and what it writes is what a fresh `course build` writes; a broken
source stops that build with the diagnostic (file:line:col), leaves the last good outputs in place,
and the fix builds again; Ctrl-C ends it cleanly and leaves the cache for the next command."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import output_files, run_course
from preview_support import CourseProcess

LESSON_2 = "modules/01-grundlagen/02-vertiefung.md"
QUIZ = "assessments/01-grundlagen/quiz.md"
TARGETS = ["-t", "html", "-t", "gift", "-t", "scorm12"]
BUILT = re.compile(r"^\[[\d:]+\] built 3 target\(s\) in \d+ ms$")


def builds(process: CourseProcess) -> int:
    return sum(1 for line in process.stdout if BUILT.match(line.rstrip("\n")))


def wait_for(predicate, process: CourseProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.proc.poll() is not None:
            break
        time.sleep(0.02)
    raise AssertionError(f"condition not met; output:\n{process.output}")


def cold_build(course: Path, out: Path) -> dict[str, bytes]:
    shutil.rmtree(out, ignore_errors=True)
    result = run_course("build", str(course), "--out", str(out), "--no-cache", *TARGETS)
    assert result.code == 0, result.output
    return output_files(out)


@pytest.fixture
def watching(mini, tmp_path):
    out = tmp_path / "out"
    process = CourseProcess(["build", str(mini), "--watch", "--out", str(out), *TARGETS],
                            re.compile(r"^watching "), startup_timeout=60)
    assert builds(process) == 1, process.output
    yield process, out
    assert process.stop() == 0, process.output
    assert "Traceback" not in process.output
    assert "stopped watching" in "".join(process.stdout)


def test_every_save_builds_again_and_writes_what_a_fresh_build_writes(watching, mini, tmp_path):
    process, out = watching
    assert output_files(out) == cold_build(mini, tmp_path / "cold-1")

    lesson = mini / LESSON_2
    for n in (1, 2):
        before = builds(process)
        lesson.write_text(lesson.read_text(encoding="utf-8") + f"\nEin frisch geschriebener Absatz {n}.\n",
                          encoding="utf-8")
        wait_for(lambda: builds(process) > before, process)
        built = output_files(out)
        assert f"Ein frisch geschriebener Absatz {n}.".encode() in built["html/module/grundlagen/index.html"]
        assert built == cold_build(mini, tmp_path / f"cold-{n + 1}")


def test_a_broken_source_keeps_the_last_good_outputs_until_it_is_fixed(watching, mini, tmp_path):
    process, out = watching
    good_outputs = output_files(out)
    quiz = mini / QUIZ
    good = quiz.read_text(encoding="utf-8")
    line = good.split("\n").index("## single: Eine Antwort {objectives=ziel}") + 1

    quiz.write_text(good.replace("## single: Eine Antwort", "## singel: Eine Antwort"), encoding="utf-8")
    process.wait_output(rf"^{QUIZ}:{line}:4: error\[QZ002\]: unknown question type 'singel'")
    process.wait_output(r"build stopped: fix the errors above")
    assert output_files(out) == good_outputs
    assert builds(process) == 1

    quiz.write_text(good, encoding="utf-8")
    wait_for(lambda: builds(process) == 2, process)
    process.wait_output(r"no problems left", stream="stdout")
    assert output_files(out) == good_outputs == cold_build(mini, tmp_path / "cold")


def test_a_deleted_course_yaml_is_reported_and_the_watch_goes_on(watching, mini):
    process, _ = watching
    course_yaml = mini / "course.yaml"
    text = course_yaml.read_text(encoding="utf-8")
    course_yaml.unlink()
    process.wait_output(r"no course\.yaml in .*; waiting for the course to come back")
    course_yaml.write_text(text, encoding="utf-8")
    wait_for(lambda: builds(process) == 2, process)


def test_the_watch_leaves_its_parsed_sources_in_the_cache_for_the_next_command(mini, tmp_path):
    out = tmp_path / "out"
    process = CourseProcess(["build", str(mini), "--watch", "--out", str(out), "-t", "gift"],
                            re.compile(r"^watching "), startup_timeout=60)
    lesson = mini / LESSON_2
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nNoch ein Absatz.\n", encoding="utf-8")
    wait_for(lambda: sum("built 1 target(s)" in line for line in process.stdout) == 2, process)
    assert process.stop() == 0, process.output
    packs = list((mini / ".course-cache" / "packs").rglob("*"))
    assert [p for p in packs if p.is_file()], "the parsed sources were not written to the cache"


def test_watch_refuses_what_a_plain_build_refuses(mini, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_course("build", str(tmp_path / "empty"), "--watch")
    assert result.code == 2 and "no course.yaml" in result.output
    result = run_course("build", str(mini), "--watch", "-t", "nosuch")
    assert result.code == 2 and "unknown target" in result.output
