"""`course import moodle-backup`: Moodle's reference backup, our own backups (both deliveries), bad archives."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from course_builder import check
from course_builder.cli import cli
from course_builder.importing.html_md import _normal
from course_builder.targets.moodle.bank import moodle_question
from tests.test_import_questions import FOLDED, LOST_EVERYWHERE, ROOT, _compare

REFERENCE = ROOT.parent / "shared" / "reference" / "moodle" / "netzwerkkoordination-referenz-nousers.mbz"


def _import(mbz: Path, into: Path, *extra: str):
    return CliRunner().invoke(cli, ["import", "moodle-backup", str(mbz), "--into", str(into), "--format", "json", *extra])


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference backup not present")
def test_reference_backup_becomes_a_course_that_passes_check(tmp_path):
    into = tmp_path / "kurs"
    result = _import(REFERENCE, into)
    assert result.exit_code == 0, result.output
    course, diagnostics = check(into)
    assert not [x for x in diagnostics if x.is_error]
    assert course.title == "Netzwerkkoordination Referenz" and str(course.spec.cohort.start) == "2026-11-21"
    assert [m.title for m in course.modules] == ["Grundlagen der Netzwerkkoordination", "Kommunikation und Zusammenarbeit",
                                                 "Evaluation und Abschluss"]
    lessons = [lesson.title for lesson in course.modules[0].lessons]
    assert "Einführung: Was ist Netzwerkkoordination?" in lessons
    assert (into / "modules" / "01-grundlagen-der-netzwerkkoordination" / "media" / "netzwerk-diagramm.png").read_bytes()[:4] == b"\x89PNG"
    [quiz] = course.quizzes
    assert quiz.module == "evaluation-und-abschluss" and len(quiz.questions) == 7
    assert sorted(q.type for q in quiz.questions) == ["essay", "matching", "multiple", "numerical", "short", "single",
                                                      "truefalse"]
    assert [t.title for t in course.tasks] == ["Gruppenaufgabe: Netzwerkkarte erstellen"]
    report = (into / "IMPORT-REPORT.md").read_text(encoding="utf-8")
    assert "scorm 'SCORM-Lerneinheit Grundlagen'" in report and "forum" in report and "lti" in report
    codes = {x["code"] for x in json.loads(result.stdout)["diagnostics"]}
    assert "IMP007" in codes


@pytest.fixture(scope="module")
def source_course():
    course, _ = check(ROOT)
    return course


@pytest.mark.parametrize("delivery", ["native", "scorm"])
def test_our_own_backup_comes_back_with_every_question(delivery, source_course, tmp_path):
    out = tmp_path / "build"
    # questions=all: the SCORM delivery's backup otherwise carries only the course-level quiz's questions.
    built = CliRunner().invoke(cli, ["build", str(ROOT), "-t", "moodle-backup", "--moodle-delivery", delivery, "-o", str(out),
                                     "-O", "questions=all", "--no-cache"])
    assert built.exit_code == 0, built.output
    [mbz] = out.rglob("*.mbz")
    into = tmp_path / "kurs"
    result = _import(mbz, into)
    assert result.exit_code == 0, result.output
    course, diagnostics = check(into)
    assert not [x for x in diagnostics if x.is_error], [f"{x.loc} {x.message}" for x in diagnostics if x.is_error][:5]
    assert course.title == source_course.title
    got = {q.id: q for quiz in course.quizzes for q in quiz.questions}
    source = [q for quiz in source_course.quizzes for q in quiz.questions]
    assert sorted(got) == sorted(q.id for q in source)
    problems = {}
    for src in source:
        diffs = _compare(src, got[src.id], LOST_EVERYWHERE | FOLDED.get(src.type, set()))
        a, b = moodle_question(src), moodle_question(got[src.id])
        if _normal(a.general_feedback.html) != _normal(b.general_feedback.html):
            diffs.append("folded general feedback")
        if diffs:
            problems[src.id] = diffs
    assert not problems


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference backup not present")
def test_truncated_backup_is_refused_and_nothing_is_written(tmp_path):
    mbz = tmp_path / "kaputt.mbz"
    mbz.write_bytes(REFERENCE.read_bytes()[:20000])
    result = _import(mbz, tmp_path / "kurs")
    assert result.exit_code == 1
    diag = json.loads(result.stdout)["diagnostics"][0]
    assert diag["code"] == "IMP001" and diag["file"] == str(mbz) and "truncated" in diag["message"]
    assert not (tmp_path / "kurs").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["kaputt.mbz"]


def test_path_traversal_member_is_refused(tmp_path):
    mbz = tmp_path / "boese.mbz"
    mbz.write_bytes(_tar({"moodle_backup.xml": b"<moodle_backup/>", "../../etc/evil.txt": b"x"}))
    result = _import(mbz, tmp_path / "kurs")
    assert result.exit_code == 1
    diag = json.loads(result.stdout)["diagnostics"][0]
    assert diag["code"] == "IMP006" and "../../etc/evil.txt" in diag["file"] + diag["message"]
    assert not (tmp_path / "kurs").exists() and not (tmp_path.parent / "etc").exists()


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference backup not present")
def test_existing_folder_needs_force(tmp_path):
    into = tmp_path / "kurs"
    into.mkdir()
    (into / "notiz.txt").write_text("meins", encoding="utf-8")
    result = _import(REFERENCE, into)
    assert result.exit_code == 1 and "--force" in result.stdout
    assert [p.name for p in into.iterdir()] == ["notiz.txt"]
    assert _import(REFERENCE, into, "--force").exit_code == 0
    assert (into / "course.yaml").exists() and not (into / "notiz.txt").exists()
