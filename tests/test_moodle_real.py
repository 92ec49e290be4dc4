"""The Moodle outputs on a real Moodle 4.5 (opt-in: set MOODLE_CHECK to the bin folder of a moodle-check site,
e.g. MOODLE_CHECK=/work/moodle-check/bin; its scripts restore-mbz and import-questions exit 0 only when Moodle
reports no error, no warning and no PHP notice)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import run_course
from test_moodle_banks import SPECIAL_QUESTIONS

BIN = os.environ.get("MOODLE_CHECK")
pytestmark = pytest.mark.skipif(not BIN, reason="set MOODLE_CHECK to a moodle-check bin folder to run on real Moodle")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    import shutil

    from conftest import MINI

    root = tmp_path_factory.mktemp("real") / "mini"
    shutil.copytree(MINI, root)
    quiz = root / "assessments" / "01-grundlagen" / "quiz.md"
    quiz.write_text(quiz.read_text(encoding="utf-8") + SPECIAL_QUESTIONS, encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    assert run_course("build", str(root), "-t", "moodle-xml", "-t", "gift", "-t", "moodle-backup", "-o", str(out)).code == 0
    assert run_course("build", str(root), "-t", "moodle-backup", "-o", str(out / "native"),
                      "--moodle-delivery", "native").code == 0
    return {"xml": out / "moodle-xml" / "questions.xml", "gift": out / "gift" / "questions.gift.txt",
            "scorm": next((out / "moodle-backup").glob("*.mbz")),
            "native": next((out / "native" / "moodle-backup").glob("*.mbz"))}


def _run(*args: str) -> str:
    result = subprocess.run([str(Path(BIN) / args[0]), *args[1:]], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "RESULT: OK" in result.stdout
    return result.stdout


def _count(report: str, qtype: str) -> int:
    m = re.search(rf"^\s+{qtype}: (\d+)$", report, re.M)
    return int(m.group(1)) if m else 0


@pytest.mark.parametrize("delivery", ["scorm", "native"])
def test_moodle_restores_the_backup_cleanly(outputs, delivery: str):
    report = _run("restore-mbz", str(outputs[delivery]))
    assert "== Errors: 0 ==" in report and "== Warnings: 0 ==" in report
    assert ("scorm: " in report) == (delivery == "scorm")
    assert _count(report, "ordering") == 1 and _count(report, "match") == 2


def test_moodle_imports_both_banks_with_every_question(outputs):
    xml = _run("import-questions", str(outputs["xml"]))
    gift = _run("import-questions", str(outputs["gift"]), "--format=gift")
    for qtype in ("multichoice", "truefalse", "shortanswer", "numerical", "match", "essay"):
        assert _count(xml, qtype) == _count(gift, qtype) > 0
    assert _count(xml, "ordering") == 1 and _count(gift, "ordering") == 0
