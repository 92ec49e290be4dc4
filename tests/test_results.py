"""`course report` and `course check --results`: attempts from every source, Moodle's statistics, findings at
the source lines, the self-contained report, and bad input refused with nothing written (docs/results.md)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from conftest import MINI, REPO, run_course
from course_builder import check
from course_builder.results import ResultsError, analyse, load_attempts

import results_support as rs

MOODLE45 = REPO / "tests" / "fixtures" / "results" / "moodle45"
KEY = {"COURSE_PSEUDONYM_KEY": "test-key"}


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """The small course plus the self-check quiz the Moodle figures were made with."""
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    shutil.copy(MOODLE45 / "abschluss-selbstcheck.md", root / "assessments" / "abschluss-selbstcheck.md")
    return root


@pytest.fixture
def loaded(course_dir):
    course, diagnostics = check(course_dir)
    assert not [d for d in diagnostics if d.is_error]
    return course


def _quiz(course, quiz_id="abschluss-selbstcheck"):
    return next(q for q in course.quizzes if q.id == quiz_id)


def test_statistics_equal_moodles_own_on_the_same_attempts(loaded, tmp_path):
    moodle = json.loads((MOODLE45 / "statistics.json").read_text())
    analysis = analyse(loaded, load_attempts(loaded, [str(MOODLE45 / "responses.csv")], tmp_path), "all")
    ours = {st.question.id: st for st in analysis.quizzes[0].questions}
    assert int(moodle["attempts"]) == analysis.quizzes[0].attempts == 40
    for slot in moodle["slots"]:
        st = ours[slot["question"]]
        assert st.s == slot["s"]
        assert round(st.facility, 2) == round(slot["facility"], 2), slot["question"]
        assert round(st.discrimination, 2) == round(slot["discrimination_index"], 2), slot["question"]
        assert st.efficiency == pytest.approx(slot["discriminative_efficiency"], abs=1e-6)
        assert st.sd == pytest.approx(slot["sd"], abs=1e-9)
        assert st.random_guess == (None if slot["random_guess_score"] is None else pytest.approx(slot["random_guess_score"]))


def test_each_response_is_graded_as_moodle_graded_it(loaded, tmp_path):
    with open(MOODLE45 / "responses.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    attempts = load_attempts(loaded, [str(MOODLE45 / "responses.csv")], tmp_path)
    quiz = _quiz(loaded)
    for row, attempt in zip(rows, attempts):
        for n, q in enumerate(quiz.questions, 1):
            moodle = float(row[f"Fraction {n}"] or 0)
            assert attempt.responses[q.id].fraction == pytest.approx(moodle), (q.id, row[f"Response {n}"])


def test_every_source_gives_the_same_statistics(loaded, tmp_path):
    quiz = _quiz(loaded)
    people = rs.cohort(loaded, quiz, 50, seed=3, flip=quiz.questions[2].id)
    sources = [rs.responses_csv(quiz, people, tmp_path / "en.csv"),
               rs.responses_csv(quiz, people, tmp_path / "de.csv", rs.DE, question_text=True),
               rs.interactions_csv(quiz, people, tmp_path / "scorm12.csv"),
               rs.interactions_csv(quiz, people, tmp_path / "scorm2004.csv", v2004=True),
               rs.lti_database(loaded, quiz, people, tmp_path / "tool.db")]
    figures = []
    for source in sources:
        stats = analyse(loaded, load_attempts(loaded, [str(source)], tmp_path)).quizzes[0]
        choice = [st for st in stats.questions if st.question.type in ("single", "multiple", "truefalse")]
        figures.append([(st.question.id, round(st.facility, 6), round(st.discrimination, 6),
                         [(r.key, r.count) for r in st.responses]) for st in choice])
    assert all(f == figures[0] for f in figures[1:])
    flipped = next(f for f in figures[0] if f[0] == quiz.questions[2].id)
    assert flipped[2] < 0  # the miskeyed question: strong learners miss it


def test_the_tool_database_on_postgresql_reads_like_sqlite(loaded, tmp_path):
    from lti_postgres import PostgresServer, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    quiz = _quiz(loaded)
    people = rs.cohort(loaded, quiz, 20, seed=9)
    server = PostgresServer()
    try:
        url = rs.lti_database(loaded, quiz, people, server.database("results"))
        on_postgres = analyse(loaded, load_attempts(loaded, [url], tmp_path)).quizzes[0]
    finally:
        server.stop()
    on_sqlite = analyse(loaded, load_attempts(loaded, [rs.lti_database(loaded, quiz, people, tmp_path / "t.db")],
                                              tmp_path)).quizzes[0]
    assert [(st.facility, st.discrimination) for st in on_postgres.questions] == \
           [(st.facility, st.discrimination) for st in on_sqlite.questions]
    assert on_postgres.attempts == 20


def test_learners_are_pseudonymised_everywhere(course_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PSEUDONYM_KEY", "k1")
    html, data = tmp_path / "r.html", tmp_path / "r.json"
    assert run_course("report", str(MOODLE45 / "responses.csv"), "--course", str(course_dir), "-o", str(html)).code == 0
    assert run_course("report", str(MOODLE45 / "responses.csv"), "--course", str(course_dir), "-o", str(data),
                      "--format", "json").code == 0
    for text in (html.read_text(), data.read_text()):
        assert "Vorname" not in text and "Nachname" not in text and "example.invalid" not in text
    with open(MOODLE45 / "responses.csv", encoding="utf-8-sig") as fh:
        first = next(csv.DictReader(fh))
    from course_builder.results.pseudonym import Pseudonymiser

    one = Pseudonymiser(b"k1")(first["First name"], first["Last name"], first["Email address"])
    other = Pseudonymiser(b"k2")(first["First name"], first["Last name"], first["Email address"])
    assert one != other and one.startswith("L-") and "Vorname" not in one


def test_report_is_self_contained_german_and_deterministic(course_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PSEUDONYM_KEY", "k")
    pages = []
    for n in range(2):
        out = tmp_path / f"report{n}.html"
        result = run_course("report", str(MOODLE45 / "responses.csv"), "--course", str(course_dir), "-o", str(out))
        assert result.code == 0, result.output
        pages.append(out.read_bytes())
    assert pages[0] == pages[1]
    page = pages[0].decode()
    assert 'lang="de"' in page and "Leichtigkeit" in page and "Trennschärfe" in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page and "<script" not in page
    assert page.count('src="data:image/svg+xml;base64,') == 2  # score distribution and facility per question
    assert "abschluss-selbstcheck.md:14" in page  # the first question's source line


def test_report_falls_back_to_english_for_other_languages(course_dir, tmp_path):
    yaml = course_dir / "course.yaml"
    yaml.write_text(yaml.read_text().replace("language: de", "language: fr"))
    result = run_course("report", str(MOODLE45 / "responses.csv"), "--course", str(course_dir))
    assert result.code == 0, result.output
    assert 'lang="fr"' in result.stdout and "Facility index" in result.stdout and "Leichtigkeit" not in result.stdout


def test_json_names_questions_by_id_and_source(course_dir, tmp_path):
    result = run_course("report", str(MOODLE45 / "responses.csv"), "--course", str(course_dir), "--format", "json")
    assert result.code == 0, result.output
    data = json.loads(result.stdout)
    first = data["quizzes"][0]["questions"][0]
    assert first["id"] == "abschluss-selbstcheck-1"
    assert first["source"] == {"file": "assessments/abschluss-selbstcheck.md", "line": 14, "column": 1}
    assert first["facility"] == pytest.approx(0.75)
    assert sum(r["count"] for r in first["responses"]) == 40


def test_check_results_warns_at_the_question_line(course_dir, tmp_path):
    result = run_course("check", str(course_dir), "--results", str(MOODLE45 / "responses.csv"))
    assert result.code == 0, result.output
    # the flipped question (2nd): strong learners get it wrong
    assert ("assessments/abschluss-selbstcheck.md:35:1: warning[RES003]: 'abschluss-selbstcheck-2': "
            "discrimination -0.56 over 40 attempts: strong learners get this wrong — check the key") in result.output
    assert "abschluss-selbstcheck-12': facility 0.92 over 40 attempts: too easy" in result.output  # 0.925
    assert "RES004" in result.output  # a distractor below 5 % of 40


def test_no_claim_below_the_minimum_attempts(course_dir):
    yaml = course_dir / "course.yaml"
    yaml.write_text(yaml.read_text() + "checks:\n  results:\n    min_attempts: 41\n")
    result = run_course("check", str(course_dir), "--results", str(MOODLE45 / "responses.csv"))
    assert result.code == 0 and "RES00" not in result.output


def test_thresholds_are_validated_like_the_rest_of_course_yaml(course_dir):
    yaml = course_dir / "course.yaml"
    yaml.write_text(yaml.read_text() + "checks:\n  results:\n    facility_high: 3\n")
    result = run_course("check", str(course_dir))
    assert result.code == 1 and "course.yaml:" in result.output and "facility_high" in result.output


def _refused(course_dir: Path, tmp_path: Path, source: str, *extra: str) -> str:
    out = tmp_path / "report.html"
    result = run_course("report", source, "--course", str(course_dir), "-o", str(out), *extra)
    assert result.code == 2, result.output
    assert not out.exists() and "Traceback" not in result.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("report")] == []
    return result.output


def test_an_export_of_another_course_is_refused(course_dir, tmp_path):
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("First name,Last name,Response 1,Response 2\nA,B,Paris,42\nC,D,Rom,41\n", encoding="utf-8")
    assert "match no quiz of course 'mini'" in _refused(course_dir, tmp_path, str(foreign))


def test_an_export_in_another_moodle_language_is_refused(course_dir, tmp_path):
    french = tmp_path / "fr.csv"
    french.write_text("Prénom,Nom,Réponse 1\nA,B,x\n", encoding="utf-8")
    message = _refused(course_dir, tmp_path, str(french))
    assert "no 'Response 1' (English) or 'Antwort 1' (German) column" in message and "'Réponse 1'" in message


def test_missing_learner_columns_are_named(course_dir, tmp_path, loaded):
    header, *rows = list(csv.reader(open(MOODLE45 / "responses.csv", encoding="utf-8-sig")))
    keep = [i for i, h in enumerate(header) if h not in ("First name", "Last name", "Email address")]
    bare = tmp_path / "bare.csv"
    with open(bare, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([[r[i] for i in keep] for r in [header, *rows]])
    assert "no learner column (Username, Email address, First name" in _refused(course_dir, tmp_path, str(bare))


def test_an_empty_tool_database_is_refused(course_dir, tmp_path, loaded):
    url = rs.lti_database(loaded, _quiz(loaded), [], tmp_path / "empty.db")
    assert "holds no quiz attempt" in _refused(course_dir, tmp_path, url)
    assert "no such file" in _refused(course_dir, tmp_path, str(tmp_path / "missing.csv"))
    assert "no such database file" in _refused(course_dir, tmp_path, f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()


def test_a_scorm_export_of_another_package_is_refused(course_dir, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("First name,Last name,Attempt,Question 0,Response 0,Result 0\nA,B,1,q-9,a,correct\n", encoding="utf-8")
    assert "no interaction id is a question of course 'mini'" in _refused(course_dir, tmp_path, str(other))


def test_xlsx_and_ods_downloads_read_like_csv(loaded, tmp_path):
    from openpyxl import Workbook
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    rows = list(csv.reader(open(MOODLE45 / "responses.csv", encoding="utf-8-sig")))
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(tmp_path / "r.xlsx")
    doc = OpenDocumentSpreadsheet()
    table = Table(name="responses")
    for row in rows:
        tr = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(tmp_path / "r.ods"))
    facility = []
    for name in ("r.xlsx", "r.ods"):
        stats = analyse(loaded, load_attempts(loaded, [str(tmp_path / name)], tmp_path), "all").quizzes[0]
        facility.append([round(st.facility, 6) for st in stats.questions])
    csv_stats = analyse(loaded, load_attempts(loaded, [str(MOODLE45 / "responses.csv")], tmp_path), "all").quizzes[0]
    assert facility[0] == facility[1] == [round(st.facility, 6) for st in csv_stats.questions]


def test_objective_mastery_counts_learners_at_the_pass_mark(loaded):
    from course_builder.player import pass_mark
    from course_builder.results.attempt import Attempt, QuestionResponse

    quiz = next(q for q in loaded.quizzes if q.module)
    mark = pass_mark(loaded, loaded.module(quiz.module))
    objective = next(o.id for q in quiz.questions for o in loaded.module(quiz.module).spec.objectives
                     if o.id in q.objectives)
    tagged = [q for q in quiz.questions if objective in q.objectives and q.auto_graded]
    share = {"strong": 1.0, "weak": 0.0, "at-mark": mark / 100, "just-below": mark / 100 - 0.01}
    attempts = [Attempt(learner=who, quiz_id=quiz.id, number=1,
                        responses={q.id: QuestionResponse(q.id, f) for q in tagged}) for who, f in share.items()]
    m = next(m for m in analyse(loaded, attempts).mastery if m.objective_id == objective)
    assert (m.learners, m.mastered, m.share) == (4, 2, 0.5)


def test_the_report_passes_axe(course_dir, tmp_path, browser):
    out = tmp_path / "report.html"
    assert run_course("report", str(MOODLE45 / "responses.csv"), "--course", str(course_dir), "-o", str(out)).code == 0
    page = browser.new_page()
    try:
        page.goto(out.as_uri())
        violations = axe_violations(page)
        assert violations == []
    finally:
        page.close()


def test_results_error_is_raised_for_unknown_quiz(loaded, tmp_path):
    with pytest.raises(ResultsError, match="no quiz 'nope'"):
        load_attempts(loaded, [str(MOODLE45 / "responses.csv")], tmp_path, quiz_id="nope")


from scorm_support import axe_violations, browser  # noqa: E402,F401 (fixture)
