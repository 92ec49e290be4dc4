"""Quiet, useful output: repeated warnings summarised, long runs with a progress display on terminals only."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO, run_course
from terminal import run_on_terminal

LESSON = "modules/01-grundlagen/01-einstieg.md"
COURSE = [sys.executable, "-m", "course_builder"]


def _gift_comments(out: Path) -> list[str]:
    """What the GIFT file says it left out, one entry per question."""
    text = (out / "gift" / "questions.gift.txt").read_text(encoding="utf-8")
    return re.findall(r"^// not in GIFT: (.*) \(see the Moodle XML bank\)$", text, re.M)


def test_build_summarises_what_gift_cannot_hold_and_verbose_lists_it(tmp_path: Path):
    run = run_course("build", str(REPO), "-t", "gift", "--out", str(tmp_path))
    assert run.code == 0, run.output
    lost = _gift_comments(tmp_path)
    assert len(lost) > 10, "the bundled course has many questions GIFT cannot hold"
    lines = [line for line in run.stderr.splitlines() if line.startswith("warning: gift:")]
    assert len(lines) == 1, run.stderr
    assert f"gift: {len(lost)} questions keep features that GIFT cannot express (" in lines[0]
    assert lines[0].endswith("; --verbose lists them")
    features = Counter(re.sub(r" \(.*\)$", "", f).removeprefix("the ") for entry in lost for f in entry.split(", "))
    for feature, count in features.items():
        assert f"{feature} {count}" in lines[0]

    verbose = run_course("build", str(REPO), "-t", "gift", "--out", str(tmp_path), "--verbose")
    listed = [line for line in verbose.stderr.splitlines() if line.startswith("warning: gift: question '")]
    assert len(listed) == len(lost)
    assert "--verbose lists them" not in verbose.stderr


def test_notices_are_summarised_per_kind_and_plain_warnings_kept():
    from course_builder.targets.notices import collected, notice

    log = logging.getLogger("course_builder.targets.example")
    with collected() as notes:
        for i in range(3):
            notice(log, "example: {n} items lose colour{details}", f"example: item {i} loses colour",
                   ["red"] if i else ["red", "blue"])
        notice(log, "example: {n} items lose colour{details}", "example: item 0 loses colour", ["red", "blue"])
        notice(log, "other: {n} things", "other: the one thing")
        log.warning("a plug-in's own warning %d", 7)
    assert notes.lines() == ["warning: example: 3 items lose colour (red 3, blue 1); --verbose lists them",
                             "warning: other: the one thing", "warning: a plug-in's own warning 7"]
    assert notes.lines(verbose=True)[:3] == [f"warning: example: item {i} loses colour" for i in range(3)]
    log.warning("after the block: not collected")
    assert len(notes.notices) == 5


def _many_placeholders(root: Path, count: int) -> None:
    lesson = root / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "".join(f"\nTODO Absatz {i}.\n" for i in range(count)),
                      encoding="utf-8")


def test_check_text_counts_warnings_of_one_code_beyond_ten(mini: Path):
    _many_placeholders(mini, 14)
    text = run_course("check", str(mini)).stdout
    assert len(re.findall(r"warning\[TXT001\]", text)) == 10
    assert "… and 4 more warning(s) [TXT001] placeholder text; --verbose lists them" in text
    assert "0 error(s), 14 warning(s)" in text
    assert len(re.findall(r"warning\[TXT001\]", run_course("check", str(mini), "--verbose").stdout)) == 14
    report = json.loads(run_course("check", str(mini), "--format", "json").stdout)
    assert len(report["diagnostics"]) == 14, "machine formats keep every diagnostic"
    assert len(run_course("check", str(mini), "--format", "github").stdout.splitlines()) == 14
    sarif = json.loads(run_course("check", str(mini), "--format", "sarif").stdout)
    assert len(sarif["runs"][0]["results"]) == 14


def test_errors_are_never_grouped(mini: Path):
    lesson = mini / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "".join(f"\n[Weg {i}](fehlt-{i}.md)\n" for i in range(12)),
                      encoding="utf-8")
    run = run_course("check", str(mini))
    assert len(re.findall(r"error\[LNK001\]", run.stdout)) == 12
    assert "more" not in run.stdout


def _env(**extra: str) -> dict:
    return {**os.environ, "COURSE_PROGRESS_AFTER": "0", **extra}


def test_no_progress_display_when_stderr_is_no_terminal(tmp_path: Path):
    proc = subprocess.run([*COURSE, "build", str(REPO), "-t", "html", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stderr + proc.stdout
    assert "building" not in proc.stderr and "checking the course" not in proc.stderr


def test_progress_display_on_a_terminal_and_never_for_machine_formats(tmp_path: Path):
    code, shown = run_on_terminal([*COURSE, "build", str(REPO), "-t", "html", "-t", "gift", "--out", str(tmp_path)],
                                  env=_env())
    assert code == 0, shown
    assert "building html" in shown and "building gift" in shown
    assert "2 target(s)" in shown

    code, shown = run_on_terminal([*COURSE, "check", str(REPO)], env=_env())
    assert code == 0 and "checking the course" in shown
    for fmt in ("json", "sarif", "github"):
        code, shown = run_on_terminal([*COURSE, "check", str(REPO), "--format", fmt], env=_env())
        assert code == 0
        assert "checking the course" not in shown and "\x1b[?25l" not in shown, fmt


def test_quick_runs_show_no_progress_on_a_terminal(tmp_path: Path):
    code, shown = run_on_terminal([*COURSE, "build", str(REPO), "-t", "gift", "--out", str(tmp_path)],
                                  env=_env(COURSE_PROGRESS_AFTER="30"))
    assert code == 0, shown
    assert "building" not in shown and "\x1b[?25l" not in shown
