"""The loader builds the typed model with source locations down to single answers; parsing semantics."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MINI
from course_builder import check
from course_builder.markdown import render
from course_builder.diagnostics import SourceLoc
from course_builder.yamlloc import load as load_yaml, strip_meta

QUIZ = "assessments/01-grundlagen/quiz.md"


@pytest.fixture(scope="module")
def course():
    course, diagnostics = check(MINI)
    assert diagnostics == []
    return course


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if text in line)


def test_every_answer_knows_its_line(course):
    quiz = course.quiz_for("grundlagen")
    source = MINI / QUIZ
    for q in quiz.questions:
        assert q.loc.file == QUIZ
        assert source.read_text(encoding="utf-8").split("\n")[q.loc.line - 1].startswith("## ")
        for a in q.answers:
            line = source.read_text(encoding="utf-8").split("\n")[a.loc.line - 1]
            label = (a.text.markdown or a.match.markdown).strip()
            assert label in line, (label, line)


def test_yaml_nodes_know_their_field_locations(course):
    webinar = course.spec.schedule.webinars[1]
    loc = webinar.field_loc("date")
    assert loc == SourceLoc("course.yaml", _line_of(MINI / "course.yaml", "date: 2027-03-10"), 13)
    objective = course.module("grundlagen").objectives[1]
    assert objective.loc.line == _line_of(MINI / "modules/01-grundlagen/module.yaml", "id: anwenden")


def test_question_semantics(course):
    qs = {q.type: q for q in course.quiz_for("grundlagen").questions}
    assert [a.weight for a in qs["multiple"].answers] == [50, 50, -50]
    assert qs["truefalse"].truth is True
    assert [(a.text.markdown, a.weight) for a in qs["short"].answers] == [("Verstetigung", 100), ("Verstetigen", 50)]
    num = qs["numerical"].answers[0]
    assert (num.value, num.tolerance, qs["numerical"].points) == (50.0, 0.5, 2.0)
    pairs = [(a.text.markdown, a.match.markdown) for a in qs["matching"].answers]
    assert pairs == [("Kern", "Koordination"), ("Umfeld", "Politik"), ("", "Presse")]
    assert [a.text.markdown for a in qs["ordering"].answers] == ["Initiierung", "Aufbau", "Verstetigung"]
    assert qs["essay"].min_words == 20 and not qs["essay"].auto_graded
    assert qs["single"].id == "grundlagen-quiz-1"
    assert qs["short"].incorrect_feedback.markdown.startswith("Gesucht")


def test_module_and_lesson_ids_come_from_file_names(course):
    module = course.module("grundlagen")
    assert module.order == 1 and module.slug == "01-grundlagen"
    assert [lesson.id for lesson in module.lessons] == ["einstieg", "vertiefung"]
    assert [t.id for t in course.tasks] == ["grundlagen-reflexion", "projekt"]
    assert course.tasks[0].module == "grundlagen" and course.tasks[1].module is None


def test_yaml_12_scalars():
    result = load_yaml("a: no\nb: 17:00\nc: on\nd: true\ne: 2027-02-15\nf: 010\n", "x.yaml")
    data = strip_meta(result.value)
    assert data["a"] == "no" and data["b"] == "17:00" and data["c"] == "on"
    assert data["d"] is True and str(data["e"]) == "2027-02-15" and data["f"] == 10


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[klick](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<svg onload="alert(1)"></svg>',
    '<iframe src="https://example.org"></iframe>',
    "![x](javascript:alert(1))",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
])
def test_unsafe_markup_never_reaches_html_and_is_reported(payload):
    r = render(f"Text\n\n{payload}\n", SourceLoc("x.md", 1, 1))
    low = r.html.lower()
    assert "<script" not in low and "onerror" not in low and "onload" not in low
    assert "javascript:" not in low and "<iframe" not in low and "data:text" not in low
    assert "style=" not in low
    assert [d.code.id for d in r.diagnostics] == ["SEC001"]


def test_safe_markup_survives():
    r = render("## Titel\n\n**fett** [Link](https://example.org) | a |\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", SourceLoc("x.md"))
    assert '<h2 id="titel">' in r.html and "<strong>fett</strong>" in r.html
    assert 'href="https://example.org"' in r.html and "<table>" in r.html
    assert r.diagnostics == []


from hypothesis import given, settings
from hypothesis import strategies as st

from course_builder import markdown as md_module


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcäößÄ xyz:,.;?'\"()/%€0123456789-+=*_<>&[]!#\n")), max_size=40),
       st.booleans())
def test_plain_text_fast_path_renders_like_commonmark(text, inline):
    fast = md_module._plain(text, inline)
    if fast is None:
        return
    env: dict = {}
    tokens = md_module._md.parseInline(text, env) if inline else md_module._md.parse(text, env)
    slow = md_module.sanitize(md_module._md.renderer.render(tokens, md_module._md.options, env)).strip()
    assert fast.html == slow
