"""`course import questions`: round trips through our own exports and Moodle's, and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from course_builder.importing.html_md import _normal
from course_builder.importing.questions import import_questions
from course_builder import check as load  # load and check, as `course check` does
from course_builder.targets.moodle import moodle_xml
from course_builder.targets.moodle.bank import bank, moodle_question
from tests.moodle_formats import read_moodle_xml

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "moodle" / "netzwerkkoordination-referenz-questions.xml"

# What a Moodle XML bank cannot hold by design (docs/authoring.md, "Importing"): the objectives (pools come
# back as group=), and per type the feedback the exporter folds into other texts (bank.py).
LOST_EVERYWHERE = {"objectives", "group", "loc", "attr_locs", "assets"}
FOLDED = {
    "truefalse": {"correct_feedback", "partial_feedback", "incorrect_feedback", "answers.feedback", "answers.order"},
    "short": {"correct_feedback", "partial_feedback", "answers.feedback"},
    "numerical": {"correct_feedback", "partial_feedback", "answers.feedback"},
    "matching": {"feedback", "answers.feedback"},
    "ordering": {"feedback", "answers.feedback"},
}


@pytest.fixture(scope="module")
def source_course():
    course, diagnostics = load(ROOT)
    assert not [x for x in diagnostics if x.is_error]
    return course


@pytest.fixture(scope="module")
def reimported(source_course, tmp_path_factory):
    """The bundled course with its quizzes replaced by the import of its own Moodle XML export."""
    root = tmp_path_factory.mktemp("rt") / "course"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git", "build", ".course-cache"))
    for quiz in source_course.quizzes:
        (root / quiz.path.relative_to(ROOT)).unlink()
    xml = root / "questions.xml"
    xml.write_text(moodle_xml.render(bank(source_course)), encoding="utf-8")
    result = import_questions(xml, root)
    assert not result.failed, result.diagnostics
    course, diagnostics = load(root)
    return course, diagnostics


def _html(value) -> str:
    return _normal(value.html) if value else ""


def _compare(src, got, lost: set[str]) -> list[str]:
    diffs = []
    for name in ("id", "type", "name", "points", "shuffle", "case_sensitive", "min_words", "max_words"):
        if getattr(src, name) != getattr(got, name) and not (name == "shuffle" and src.type in ("truefalse", "short", "numerical", "essay")):
            diffs.append(f"{name}: {getattr(src, name)!r} != {getattr(got, name)!r}")
    for name in ("text", "feedback", "correct_feedback", "partial_feedback", "incorrect_feedback"):
        if name not in lost and _html(getattr(src, name)) != _html(getattr(got, name)):
            diffs.append(f"{name}: {_html(getattr(src, name))!r} != {_html(getattr(got, name))!r}")
    if [_html(h) for h in src.hints] != [_html(h) for h in got.hints]:
        diffs.append("hints")
    src_answers, got_answers = list(src.answers), list(got.answers)
    if "answers.order" in lost:
        src_answers.sort(key=lambda a: not a.correct)
        got_answers.sort(key=lambda a: not a.correct)
    if len(src_answers) != len(got_answers):
        return diffs + [f"{len(src_answers)} answers != {len(got_answers)}"]
    for i, (a, b) in enumerate(zip(src_answers, got_answers)):
        for name in ("weight", "correct", "value", "tolerance"):
            if getattr(a, name) != getattr(b, name) and not (src.type == "matching" and name == "weight"):
                diffs.append(f"answer {i} {name}: {getattr(a, name)!r} != {getattr(b, name)!r}")
        texts = [("text", a.text, b.text), ("match", a.match, b.match)]
        if "answers.feedback" not in lost:
            texts.append(("feedback", a.feedback, b.feedback))
        for name, x, y in texts:
            if src.type in ("short", "numerical") and name == "text":
                x_text, y_text = (x.markdown.strip() if x else ""), (y.markdown.strip() if y else "")
            else:
                x_text, y_text = _html(x), _html(y)
            if x_text != y_text:
                diffs.append(f"answer {i} {name}: {x_text!r} != {y_text!r}")
    return diffs


def test_import_of_the_export_gives_every_question_back_field_by_field(source_course, reimported):
    course, _ = reimported
    got = {q.id: q for quiz in course.quizzes for q in quiz.questions}
    source = [q for quiz in source_course.quizzes for q in quiz.questions]
    assert len(got) == len(source)
    problems = {}
    for src in source:
        lost = LOST_EVERYWHERE | FOLDED.get(src.type, set())
        diffs = _compare(src, got[src.id], lost)
        # What is folded must still arrive where the exporter put it: the Moodle forms are equal.
        a, b = moodle_question(src), moodle_question(got[src.id])
        if _normal(a.general_feedback.html) != _normal(b.general_feedback.html):
            diffs.append("folded general feedback")
        if [_normal(x.feedback.html) for x in a.answers] != [_normal(x.feedback.html) for x in b.answers]:
            diffs.append("folded answer feedback")
        if diffs:
            problems[src.id] = diffs
    assert not problems


def test_imported_course_passes_check(reimported):
    _, diagnostics = reimported
    assert not [x for x in diagnostics if x.is_error], [str(x.loc) + " " + x.message for x in diagnostics if x.is_error][:5]


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference exports not present")
def test_reference_moodle_export_comes_back_the_same(tmp_path):
    """export(import(X)) of Moodle 4.5.6's own export: the same questions, compared as parsed structures."""
    result = import_questions(REFERENCE, tmp_path)
    assert not result.failed
    (tmp_path / "course.yaml").write_text(MINIMAL_COURSE, encoding="utf-8")
    course, diagnostics = load(tmp_path)
    assert not [x for x in diagnostics if x.is_error]
    again = read_moodle_xml(moodle_xml.render(bank(course)).encode())
    original = _read_loose(REFERENCE.read_bytes())
    assert [q.name for q in again] == [q.name for q in original]
    for new, old in zip(again, original):
        assert new.qtype == old.qtype
        assert _same(new.text) == _same(old.text), new.name
        assert _same(new.general_feedback) == _same(old.general_feedback), new.name
        assert [(round(a.fraction, 3), _same(a.feedback)) for a in new.answers if a.text != "*"] == \
            [(round(a.fraction, 3), _same(a.feedback)) for a in old.answers if a.text != "*"], new.name
        assert new.subquestions == old.subquestions


def _same(html: str) -> str:
    """A text as a learner reads it: a lone paragraph around plain text is the same text (Moodle omits it)."""
    text = _normal(html)
    if text.startswith("<div><p>") and text.endswith("</p></div>") and text.count("<p>") == 1:
        text = "<div>" + text[8:-10] + "</div>"
    return text


def _read_loose(raw: bytes):
    """The reference as our importer's reader sees it, in the test reader's shape."""
    from course_builder.importing import moodle_xml as reader
    from tests.moodle_formats import ReadAnswer, ReadQuestion
    out = []
    for rq in reader.read(raw, "ref").questions:
        q = rq.question
        out.append(ReadQuestion(q.qtype, q.name, q.text.html, q.general_feedback.html, q.idnumber,
                                answers=[ReadAnswer(a.text.html, a.fraction * 100, a.feedback.html) for a in q.answers],
                                subquestions=[(s.text.html, s.answer) for s in q.subquestions]))
    return out


# What GIFT cannot hold (targets/moodle/gift.py: lost_features), on top of what Moodle XML loses.
GIFT_LOST = {"hints", "correct_feedback", "partial_feedback", "incorrect_feedback", "points", "case_sensitive",
             "min_words", "max_words", "shuffle"}


MINIMAL_COURSE = "id: kurs\ntitle: Kurs\ncohort: {run: 1, start: 2027-01-04, weeks: 12}\n"


def test_import_of_the_gift_export_keeps_what_gift_can_hold(source_course, tmp_path):
    from course_builder.targets.moodle import gift

    src_file = tmp_path / "questions.gift.txt"
    src_file.write_text(gift.render(bank(source_course)), encoding="utf-8")
    result = import_questions(src_file, tmp_path / "kurs")
    assert not result.failed
    (tmp_path / "kurs" / "course.yaml").write_text(MINIMAL_COURSE, encoding="utf-8")
    course, diagnostics = load(tmp_path / "kurs")
    assert not [x for x in diagnostics if x.is_error]
    got = {q.id: q for quiz in course.quizzes for q in quiz.questions}
    source = [q for quiz in source_course.quizzes for q in quiz.questions]
    # GIFT has no ordering type: exactly those questions are missing (the export names them in a comment).
    assert sorted(q.id for q in source if q.id not in got) == sorted(q.id for q in source if q.type == "ordering")
    problems = {}
    for src in source:
        if src.type == "ordering":
            continue
        q = got[src.id]
        diffs = []
        diffs += [d for d in _compare(src, q, LOST_EVERYWHERE | FOLDED.get(src.type, set()) | GIFT_LOST)
                  if not d.startswith(tuple(GIFT_LOST))]
        if src.type in ("short", "numerical") and _html(src.incorrect_feedback) != _html(q.incorrect_feedback):
            diffs.append("incorrect feedback (the '*' answer GIFT keeps)")
        if diffs:
            problems[src.id] = diffs
    assert not problems


def test_import_is_deterministic(source_course, tmp_path):
    xml = tmp_path / "questions.xml"
    xml.write_text(moodle_xml.render(bank(source_course)), encoding="utf-8")
    runs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        import_questions(xml, out)
        runs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert runs[0] == runs[1] and runs[0]


def test_module_option_adds_to_the_module_quiz(tmp_path):
    course = tmp_path / "kurs"
    shutil.copytree(ROOT, course, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git", "build", ".course-cache"))
    quiz = course / "assessments" / "02-kommunikation" / "quiz.md"
    before = quiz.read_text(encoding="utf-8")
    xml = tmp_path / "neu.xml"
    xml.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n<question type="shortanswer"><name><text>Kürzel</text></name>'
                   '<questiontext format="html"><text>&lt;p&gt;Wofür steht &lt;strong&gt;IHK&lt;/strong&gt;?&lt;/p&gt;</text>'
                   '</questiontext><idnumber>ihk-kuerzel</idnumber><answer fraction="100"><text>Industrie- und Handelskammer</text>'
                   '<feedback><text>Richtig.</text></feedback></answer></question>\n</quiz>\n', encoding="utf-8")
    result = import_questions(xml, course, module="kommunikation")
    assert not result.failed and result.written == [quiz]
    after = quiz.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")) and "## short: Kürzel {id=ihk-kuerzel}" in after
    loaded, diagnostics = load(course)
    assert not [x for x in diagnostics if x.is_error]
    [q] = [q for quiz in loaded.quizzes for q in quiz.questions if q.id == "ihk-kuerzel"]
    assert q.text.html == "<p>Wofür steht <strong>IHK</strong>?</p>" and q.answers[0].text.markdown == "Industrie- und Handelskammer"
    assert next(z for z in loaded.quizzes if q in z.questions).module == "kommunikation"


def tagged_mini(tmp_path: Path, tags: str) -> tuple[Path, Path]:
    """The mini course with tags on its first question: (course folder, quiz file)."""
    from conftest import MINI

    course = tmp_path / "mini"
    shutil.copytree(MINI, course, ignore=shutil.ignore_patterns(".course-cache"))
    quiz = course / "assessments" / "01-grundlagen" / "quiz.md"
    quiz.write_text(quiz.read_text(encoding="utf-8").replace(
        "## single: Eine Antwort {objectives=ziel}", f"## single: Eine Antwort {{objectives=ziel tags={tags}}}"),
        encoding="utf-8")
    return course, quiz


def test_tags_go_out_to_moodle_xml_and_come_back(tmp_path):
    course, quiz = tagged_mini(tmp_path, '"Laterale Führung,glasl"')
    source, diagnostics = load(course)
    assert not [x for x in diagnostics if x.is_error]
    [tagged] = [q for z in source.quizzes for q in z.questions if q.tags]
    assert tagged.tags == ["Laterale Führung", "glasl"]
    xml = tmp_path / "bank.xml"
    xml.write_text(moodle_xml.render(bank(source)), encoding="utf-8")
    assert "<tag><text>Laterale Führung</text>" in xml.read_text(encoding="utf-8")
    quiz.unlink()
    result = import_questions(xml, course)
    assert not result.failed, result.diagnostics
    assert 'tags="Laterale Führung,glasl"' in "".join(p.read_text(encoding="utf-8") for p in result.written)
    back, diagnostics = load(course)
    [again] = [q for z in back.quizzes for q in z.questions if q.tags]
    assert again.tags == tagged.tags and again.id == tagged.id
    assert not [x for x in diagnostics if x.code == "IMP007" and "tags" in x.message]


def test_tags_survive_a_course_backup(tmp_path):
    from click.testing import CliRunner

    from course_builder.cli import cli

    course, _ = tagged_mini(tmp_path, '"Laterale Führung"')
    out = tmp_path / "out"
    built = CliRunner().invoke(cli, ["build", str(course), "-t", "moodle-backup", "--moodle-delivery", "native",
                                     "-o", str(out), "--no-cache"])
    assert built.exit_code == 0, built.output
    [mbz] = out.rglob("*.mbz")
    into = tmp_path / "kurs"
    result = CliRunner().invoke(cli, ["import", "moodle-backup", str(mbz), "--into", str(into)])
    assert result.exit_code == 0, result.output
    back, _ = load(into)
    assert [q.tags for z in back.quizzes for q in z.questions if q.tags] == [["Laterale Führung"]]
