"""The Moodle outputs on a real Moodle (opt-in: set MOODLE_CHECK to the folder of a check site made by
scripts/moodle-check/setup.sh; its verbs bin/restore-mbz and bin/import-questions exit 0 and print
"RESULT: OK" only when Moodle reports no error, no warning and no PHP notice)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import run_course
from test_moodle_banks import SPECIAL_QUESTIONS

SITE = os.environ.get("MOODLE_CHECK")
pytestmark = pytest.mark.skipif(not SITE, reason="set MOODLE_CHECK to a check site (scripts/moodle-check/setup.sh) "
                                                 "to run on real Moodle")
# The site's folder or its bin/ (where the verbs and site.env are): both are what people pass.
BIN = Path(SITE or ".") if (Path(SITE or ".") / "site.env").is_file() else Path(SITE or ".") / "bin"


def site_version() -> tuple[int, int]:
    """(major, minor) of the check site's Moodle, from the version.php of the code its verbs run."""
    env = dict(line.split("=", 1) for line in (BIN / "site.env").read_text().splitlines() if "=" in line)
    code = Path(env["MOODLE_CODE"].strip("'\""))
    version_php = next(p for p in (code / "version.php", code / "public" / "version.php") if p.is_file())
    major, minor = re.search(r"\$release\s*=\s*'(\d+)\.(\d+)", version_php.read_text()).groups()
    return int(major), int(minor)


def qbank_site() -> bool:
    """Moodle 5.0 and later keep questions in mod_qbank activities; our backups for them say -O moodle=5.0."""
    return site_version() >= (5, 0)


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
    for delivery in ("scorm", "native"):
        assert run_course("build", str(root), "-t", "moodle-backup", "-o", str(out / f"{delivery}5"),
                          "--moodle-delivery", delivery, "-O", "moodle=5.0").code == 0
    return {"xml": out / "moodle-xml" / "questions.xml", "gift": out / "gift" / "questions.gift.txt",
            "scorm": next((out / "moodle-backup").glob("*.mbz")),
            "native": next((out / "native" / "moodle-backup").glob("*.mbz")),
            "scorm5": next((out / "scorm5" / "moodle-backup").glob("*.mbz")),
            "native5": next((out / "native5" / "moodle-backup").glob("*.mbz"))}


def _run(*args: str, clean: bool = True) -> str:
    """The verb's report; with `clean`, it must have ended "RESULT: OK" (no error, warning or PHP notice)."""
    assert (BIN / args[0]).exists(), f"{BIN / args[0]} missing: MOODLE_CHECK must name a folder set up by setup.sh"
    result = subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=900)
    if clean:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        assert "RESULT: OK" in result.stdout
    return result.stdout


def _count(report: str, qtype: str) -> int:
    m = re.search(rf"^\s+{qtype}: (\d+)$", report, re.M)
    return int(m.group(1)) if m else 0


@pytest.mark.parametrize("delivery", ["scorm", "native"])
def test_moodle_restores_the_backup_cleanly(outputs, delivery: str):
    qbank = qbank_site()
    report = _run("restore-mbz", str(outputs[delivery + "5" if qbank else delivery]))
    assert "== Errors: 0 ==" in report and "== Warnings: 0 ==" in report
    assert ("scorm: " in report) == (delivery == "scorm")
    _assert_carried_questions(report, delivery)
    if qbank:  # every question in the one bank activity the backup brings, none in a fallback bank
        banks = re.findall(r"^bank: (.*) \((\w+)\): (\d+)$", report, re.M)
        assert len(banks) == 1 and banks[0][1] == "standard", report
        assert int(banks[0][2]) == int(re.search(r"^questions: (\d+)$", report, re.M).group(1))


def _assert_carried_questions(report: str, delivery: str) -> None:
    if delivery == "native":
        assert _count(report, "ordering") == 1 and _count(report, "match") == 2
    else:  # the module's quiz is inside its package: the backup carries only what Moodle quizzes use
        assert re.search(r"^questions: 0$", report, re.M), report[-1500:]


@pytest.mark.parametrize("delivery", ["scorm", "native"])
def test_moodle_5_restores_a_4_5_backup_into_a_fallback_bank_with_one_warning_per_category(outputs, delivery: str):
    if not qbank_site():
        pytest.skip("the check site runs Moodle 4.x, where the 4.5 backup is the one to restore")
    report = _run("restore-mbz", str(outputs[delivery]), clean=False)
    assert "== Errors: 0 ==" in report
    warnings = re.findall(r"^  warning: (.*)$", report, re.M)
    assert warnings and all("will be created at a question bank module context" in w for w in warnings), report
    _assert_carried_questions(report, delivery)
    assert len(re.findall(r"^bank: ", report, re.M)) == 1


def test_moodle_imports_both_banks_with_every_question(outputs):
    xml = _run("import-questions", str(outputs["xml"]))
    gift = _run("import-questions", str(outputs["gift"]), "--format=gift")
    for qtype in ("multichoice", "truefalse", "shortanswer", "numerical", "match", "essay"):
        assert _count(xml, qtype) == _count(gift, qtype) > 0
    assert _count(xml, "ordering") == 1 and _count(gift, "ordering") == 0


@pytest.mark.parametrize("fmt", ["xml", "gift"])
def test_moodle_5_imports_the_bank_into_the_question_bank_activity_it_is_started_from(outputs, fmt: str):
    if not qbank_site():
        pytest.skip("question bank activities came with Moodle 5.0")
    # The file's `$course$/…` category paths name a context 5.x no longer has: the questions must still land in
    # the bank the designer imports into, not in the course's default bank.
    report = _run("import-questions", str(outputs[fmt]), f"--format={fmt}", f"--course=own-bank-{fmt}",
                  "--bank=Fragensammlung")
    imported = int(re.search(r"^imported: (\d+)/", report, re.M).group(1))
    assert re.findall(r"^landed: (.*): (\d+)$", report, re.M) == [("Fragensammlung", str(imported))]


def test_moodle_parses_a_module_scorm_package(tmp_path):
    from conftest import MINI

    assert run_course("build", str(MINI), "-t", "scorm12", "-o", str(tmp_path)).code == 0
    # <course>-scorm12.zip (the whole course, shortest name) and one <course>-<module>-scorm12.zip per module
    packages = sorted((tmp_path / "scorm12").glob("*-scorm12.zip"), key=lambda p: (len(p.name), p.name))
    report = _run("add-scorm", str(packages[1]))
    assert "version: SCORM_1.2" in report and re.search(r"^scos: 1$", report, re.M)


def test_moodle_converts_the_cc11_cartridge_with_the_first_module_in_section_1(tmp_path):
    from conftest import MINI

    assert run_course("build", str(MINI), "-t", "cc", "-o", str(tmp_path), "-O", "lti_url=http://127.0.0.1:8000").code == 0
    report = _run("restore-mbz", str(next((tmp_path / "cc").glob("*-cc11.imscc"))))
    assert re.search(r"^\s+#0 .*\[\]$", report, re.M), report
    assert re.search(r"^\s+#1 .*\[lti\]$", report, re.M), report


def test_moodle_registers_the_lti_tool_once_with_a_stable_client_id():
    first = _run("register-lti", "--url=http://127.0.0.1:8090")
    again = _run("register-lti", "--url=http://127.0.0.1:8090/")
    client = re.search(r"^client id: (\S+)$", first, re.M).group(1)
    assert re.search(rf"^client id: {client}$", again, re.M)
    assert re.search(r"^Moodle .*: tool type (\d+) updated", again, re.M)
    assert "--client-id " + client in again


def test_report_statistics_equal_moodles_on_attempts_made_there(tmp_path):
    """Learners take the self-check quiz on the site; Moodle's own Statistics figures and `course report` on the
    same attempts agree (tests/fixtures/results/moodle45 is a committed run of this)."""
    import json
    import shutil

    import results_support as rs
    from conftest import MINI
    from course_builder import check
    from course_builder.results import analyse, load_attempts

    fixture = Path(__file__).parent / "fixtures" / "results" / "moodle45"
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    shutil.copy(fixture / "abschluss-selbstcheck.md", root / "assessments")
    assert run_course("build", str(root), "-t", "moodle-backup", "-o", str(tmp_path / "out"), "--moodle-delivery", "native",
                      *(("-O", "moodle=5.0") if qbank_site() else ())).code == 0
    restored = _run("restore-mbz", str(next((tmp_path / "out" / "moodle-backup").glob("*.mbz"))))
    course_id = re.search(r"as course id (\d+)", restored).group(1)
    course, _ = check(root)
    quiz = next(q for q in course.quizzes if q.id == "abschluss-selbstcheck")
    people = rs.cohort(course, quiz, 30, seed=23, flip=quiz.questions[3].id)
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(rs.moodle_answers(quiz, people, f"t{course_id}")), encoding="utf-8")
    verb = Path(__file__).resolve().parent.parent / "scripts" / "moodle-check" / "php" / "quiz_statistics.php"
    env = dict(os.environ, MOODLE_CODE=re.search(r"MOODLE_CODE=(\S+)", (BIN / "site.env").read_text()).group(1))
    result = subprocess.run(["php", str(verb), f"--course={course_id}", f"--quiz={quiz.title}", str(answers),
                             str(tmp_path / "moodle")], capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0 and "== Errors: 0 ==" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    moodle = json.loads((tmp_path / "moodle" / "statistics.json").read_text())
    stats = analyse(course, load_attempts(course, [str(tmp_path / "moodle" / "responses.csv")], tmp_path), "all")
    ours = {st.question.id: st for st in stats.quizzes[0].questions}
    for slot in moodle["slots"]:
        st = ours[slot["question"]]
        assert round(st.facility, 2) == round(slot["facility"], 2), slot
        assert round(st.discrimination, 2) == round(slot["discrimination_index"], 2), slot
