"""The bundled course meets the content minimums of issue 3, computed from the model."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from lxml import etree

from conftest import REPO
from course_builder import check

REQUIRED_TOPICS = ["aufbauen", "kommunikation", "führen", "verstetigen", "community management", "öffentlichkeitsarbeit"]


@pytest.fixture(scope="module")
def loaded():
    return check(REPO)


@pytest.fixture(scope="module")
def course(loaded):
    return loaded[0]


def test_course_checks_clean_without_warnings(loaded):
    _, diagnostics = loaded
    assert [str(d.loc) + " " + d.code.id for d in diagnostics] == []


def test_six_modules_cover_the_required_topics(course):
    assert len(course.modules) >= 6
    titles = " | ".join(m.title.lower() for m in course.modules)
    for topic in REQUIRED_TOPICS:
        assert topic in titles, topic


def test_every_module_meets_the_minimums(course):
    report = []
    for m in course.modules:
        quiz = course.quiz_for(m.id)
        assert m.summary, m.id
        assert 3 <= len(m.objectives) <= 6, m.id
        assert len(m.lessons) >= 3, m.id
        assert m.words >= 1200, (m.id, m.words)
        headings = [t for lesson in m.lessons for _, t in lesson.headings] + [lesson.title for lesson in m.lessons]
        assert any("praxisbeispiel" in h.lower() for h in headings), f"{m.id}: no worked example"
        reflections = [t for t in course.tasks_for(m.id) if t.kind == "reflection"]
        assert reflections and all(t.meta.questions for t in reflections), m.id
        assert quiz is not None, m.id
        assert len(quiz.questions) >= 8, m.id
        types = Counter(q.type for q in quiz.questions)
        assert len(types) >= 4, (m.id, types)
        for q in quiz.questions:
            assert q.answers or q.type == "essay", q.id
            for a in q.answers:
                assert a.feedback, f"{q.id}: answer at {a.loc} has no feedback"
            assert q.objectives, f"{q.id} is aligned to no objective"
        tested = {o for q in quiz.questions for o in q.objectives}
        assert {o.id for o in m.objectives} <= tested, m.id
        report.append(f"{m.id}: {len(m.objectives)} objectives, {len(m.lessons)} lessons, {m.words} words, "
                      f"{len(quiz.questions)} questions of {len(types)} types")
    print("\n".join(report))


def test_every_module_has_an_accessible_svg_diagram(course):
    for m in course.modules:
        svgs = [a for lesson in m.lessons for a in lesson.assets if a.path and a.path.suffix == ".svg"]
        assert svgs, m.id
        for asset in svgs:
            assert len(asset.alt) >= 20, f"{asset.loc}: alt text too short to describe a diagram"
            root = etree.parse(str(asset.path)).getroot()
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert root.get("viewBox") and root.find("{http://www.w3.org/2000/svg}title") is not None


def test_schedule_of_the_cohort(course):
    sched = course.spec.schedule
    assert len(sched.webinars) == course.spec.cohort.weeks == 12
    kinds = {s.kind: s for s in sched.sessions}
    assert kinds["kickoff"].days == 2 and kinds["closing"].days == 2
    placed = {ref for w in sched.webinars for ref in w.modules}
    assert {m.id for m in course.modules} <= placed
    assert sched.milestones and sched.alumni
    gaps = {(b.date - a.date).days for a, b in zip(sched.alumni, sched.alumni[1:])}
    assert all(49 <= g <= 70 for g in gaps), gaps  # every two months


def test_project_task_self_check_and_glossary(course):
    projects = [t for t in course.tasks if t.kind == "project"]
    assert len(projects) == 1
    project = projects[0]
    closing = next(s for s in course.spec.schedule.sessions if s.kind == "closing")
    assert project.meta.group_size == 4 and project.meta.presentation == closing.id
    assert project.meta.deliverables and sum(c.points for c in project.meta.criteria) == 100
    assert [q for q in course.quizzes if q.module is None], "final self-check"
    assert len(course.glossary) >= 15
    assert project in course.certificate_tasks()
    assert {q.module for q in course.certificate_quizzes()} == {m.id for m in course.modules}


PLACEHOLDERS = re.compile(r"\b(lorem|ipsum|todo|tbd|xxx|fixme)\b", re.I)
# Umlauts and ß written out are typos in German text; the list holds frequent words only.
SUBSTITUTES = re.compile(r"\b(fuer|ueber|Ueber|koennen|muessen|moeglich\w*|waehrend|Fuehrung|fuehren|Aenderung\w*|"
                         r"Schluessel|Massnahme\w*|schliesslich|gross|grosse[nrs]?|heisst|Loesung\w*|Praesenz|"
                         r"Oeffentlichkeit\w*|Buerger\w*|Foerder\w*|Laender)\b")


def test_texts_have_no_placeholders_and_real_umlauts():
    files = [p for p in list(REPO.glob("modules/**/*.*")) + list(REPO.glob("assessments/**/*.md"))
             + [REPO / "course.yaml", REPO / "glossary.yaml"] if p.suffix in (".md", ".yaml", ".svg")]
    assert len(files) > 30
    problems = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            line = re.sub(r"\]\([^)]*\)", "]", line)  # file names in links are ASCII on purpose
            for pattern in (PLACEHOLDERS, SUBSTITUTES):
                for m in pattern.finditer(line):
                    problems.append(f"{path.relative_to(REPO)}:{n}: {m.group(0)}")
    assert problems == []
