"""Round trip through a real Moodle (opt-in: MOODLE_CHECK names a check site, scripts/moodle-check/setup.sh):
the bundled course's Moodle XML is imported into Moodle 4.5, exported again by Moodle's own exporter
(qformat_xml, verb export-questions), and `course import questions` of that file gives every question
back equal field by field to the source (what Moodle XML cannot hold by design is named in
test_import_questions)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from course_builder import check
from course_builder.importing.questions import import_questions
from course_builder.targets.moodle import moodle_xml
from course_builder.targets.moodle.bank import bank
from tests.test_import_questions import FOLDED, LOST_EVERYWHERE, MINIMAL_COURSE, ROOT, _compare

SITE = os.environ.get("MOODLE_CHECK")
pytestmark = pytest.mark.skipif(not SITE, reason="set MOODLE_CHECK to a check site (scripts/moodle-check/setup.sh)")
BIN = Path(SITE or ".") / "bin"
EXPORT_PHP = ROOT / "scripts" / "moodle-check" / "php" / "export_questions.php"


def _verb(verb: str, *args: str, cwd: Path) -> str:
    # A site set up before export-questions existed has no bin/export-questions: run this worktree's script
    # with the site's Moodle (the script finds common.php beside itself).
    if (BIN / verb).exists():
        command = [str(BIN / verb), *args]
    else:
        command = ["bash", "-c", f'. "{BIN}/site.env"; MOODLE_CODE="$MOODLE_CODE" exec php -d display_errors=1 '
                   f'-d error_reporting=-1 "{EXPORT_PHP}" "$@"', "export-questions", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=cwd)
    assert result.returncode == 0 and "== Errors: 0 ==" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def test_moodle_export_of_our_bank_imports_back_to_the_same_questions(tmp_path):
    source, _ = check(ROOT)
    ours = tmp_path / "questions.xml"
    ours.write_text(moodle_xml.render(bank(source)), encoding="utf-8")
    course = f"import-rt-{uuid.uuid4().hex[:8]}"  # a fresh course: earlier runs leave their questions behind
    report = _verb("import-questions", str(ours), f"--course={course}", cwd=tmp_path)
    assert "RESULT: OK" in report
    _verb("export-questions", "moodle.xml", f"--course={course}", cwd=tmp_path)
    into = tmp_path / "kurs"
    result = import_questions(tmp_path / "moodle.xml", into)
    assert not result.failed
    (into / "course.yaml").write_text(MINIMAL_COURSE, encoding="utf-8")
    imported, diagnostics = check(into)
    assert not [x for x in diagnostics if x.is_error]
    got = {q.id: q for quiz in imported.quizzes for q in quiz.questions}
    expected = [q for quiz in source.quizzes for q in quiz.questions]
    assert sorted(got) == sorted(q.id for q in expected)
    problems = {q.id: diffs for q in expected
                if (diffs := _compare(q, got[q.id], LOST_EVERYWHERE | FOLDED.get(q.type, set())))}
    assert not problems
