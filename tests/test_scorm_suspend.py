"""suspend_data stays within SCORM 1.2's 4,096 characters: for the largest bundled module and for a
synthetic worst case (48 questions of every type with 10 options each, everything answered, free texts
far longer than any limit). Measured in the browser, with scorm-again as the LMS."""

from __future__ import annotations

import shutil

import pytest


from conftest import MINI, REPO
from scorm_support import Session, browser, next_launch_cmi, served_lms  # noqa: F401 (fixture)

LIMIT_12 = 4096


def big_quiz(per_type: int = 6, options: int = 10) -> str:
    """A quiz in the authoring format with per_type questions of every type, `options` options each."""
    parts = ["---\nkind: quiz\ntitle: Großer Wissenscheck\nattempts: 99\n---\n\nAlle Fragen.\n"]
    n = 0

    def head(kind: str) -> str:
        nonlocal n
        n += 1
        return f"\n## {kind}: Frage {n}\nText der Frage {n}?\n\n"

    for _ in range(per_type):
        parts.append(head("single") + "".join(f"- ({'x' if i == 0 else ' '}) Antwort {i}\n" for i in range(options)))
        parts.append(head("multiple") + "".join(f"- [{'x' if i % 2 == 0 else ' '}] Antwort {i}\n" for i in range(options)))
        parts.append(head("truefalse") + "- (x) wahr\n- ( ) falsch\n")
        parts.append(head("short") + "- = Verstetigung\n- = Netzwerk {weight=50}\n")
        parts.append(head("numerical") + "- = 50 ± 0.5\n")
        parts.append(head("matching") + "".join(f"- Links {i} => Rechts {i}\n" for i in range(options)))
        parts.append(head("ordering") + "".join(f"{i + 1}. Schritt {i}\n" for i in range(options)))
        parts.append(head("essay"))
    return "".join(parts)


# Long text with the characters the encoding must escape.
LONG_TEXT = ("Überlegung ~ mit | Sonderzeichen % und Umlauten äöü – " * 200)[:10000]
# Fills every field of the form, the longest way: all boxes ticked, last option chosen; `essay` in text areas,
# `line` in short-answer and numerical fields (the worst case passes the same long text for both).
FILL = """([essay, line]) => {
  for (const fs of document.querySelectorAll('fieldset.question')) {
    const radios = fs.querySelectorAll('input[type=radio]');
    if (radios.length) radios[radios.length - 1].checked = true;
    fs.querySelectorAll('input[type=checkbox]').forEach(el => { el.checked = true; });
    fs.querySelectorAll('select').forEach(el => { el.selectedIndex = el.options.length - 1; });
    fs.querySelectorAll('textarea').forEach(el => { el.value = essay; });
    fs.querySelectorAll('input[type=text]').forEach(el => { el.value = line; });
  }
  document.getElementById('quiz-form').dispatchEvent(new Event('change', {bubbles: true}));
}"""


def _suspend_data(session) -> str:
    values = [c[2] for c in session.calls() if c[0] == "LMSSetValue" and c[1] == "cmi.suspend_data"]
    return values[-1]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    course_dir = root / "course"
    shutil.copytree(MINI, course_dir)
    (course_dir / "assessments" / "01-grundlagen" / "quiz.md").write_text(big_quiz(), encoding="utf-8")
    with served_lms(course_dir, root) as server:
        yield server


def test_synthetic_worst_case_fits_scorm12(browser, synthetic):
    module = synthetic.course.modules[0]
    quiz = synthetic.course.quiz_for(module.id)
    assert len(quiz.questions) == 48
    s = Session(browser, synthetic, "scorm12", f"mini-{module.id}-scorm12", module.id)
    try:
        s.sco.locator(".toc a[data-page='quiz']").click()
        s.frame().evaluate(FILL, [LONG_TEXT, LONG_TEXT])
        s.sco.locator("#quiz-submit").click()
        s.next_until(None)
        data = _suspend_data(s)
        print(f"\nworst-case suspend_data (SCORM 1.2, {len(quiz.questions)} questions): {len(data)} characters")
        assert len(data) <= LIMIT_12
        answered = s.frame().evaluate("[...document.querySelectorAll('#quiz-form select')].map(el => el.value)")
        s.page.evaluate("document.getElementById('sco').src = 'about:blank'")
        s.page.wait_for_function("window.lmsCalls.some(c => c[0] === 'LMSFinish')")
        cmi = s.page.evaluate("window.lmsApi.renderCMIToJSONObject().cmi")
        s.assert_silent(synthetic)
    finally:
        s.close()
    again = Session(browser, synthetic, "scorm12", f"mini-{module.id}-scorm12", module.id, cmi=next_launch_cmi("scorm12", cmi))
    try:
        # Everything but the free texts comes back exactly; texts gave way to the limit, from their end.
        assert again.frame().evaluate("[...document.querySelectorAll('#quiz-form select')].map(el => el.value)") == answered
        assert again.frame().evaluate("document.querySelectorAll('#quiz-form input:checked').length") == \
            sum(len(q.answers) if q.type == "multiple" else 1 for q in quiz.questions if q.type in ("single", "multiple", "truefalse"))
        texts = again.frame().evaluate("[...document.querySelectorAll('#quiz-form input[type=text], #quiz-form textarea')].map(el => el.value)")
        assert all(LONG_TEXT.startswith(t) for t in texts)
        assert again.frame().evaluate("!document.getElementById('quiz-result').hidden")
        again.assert_silent(synthetic)
    finally:
        again.close()


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    with served_lms(REPO, tmp_path_factory.mktemp("bundled")) as server:
        yield server


def test_largest_bundled_module_fits_scorm12_without_cutting_anything(browser, bundled):
    course = bundled.course

    def size(module):
        quiz = course.quiz_for(module.id)
        return sum(len(q.answers) + 1 for q in quiz.questions) if quiz else 0

    module = max(course.modules, key=size)
    questions = course.quiz_for(module.id).questions
    essay = ("Ich koordiniere ein Netzwerk aus Schulen, Betrieben und Kammern. " * 30)[:1500]
    line = ("Eine Antwort in einer Zeile " * 10)[:200]
    s = Session(browser, bundled, "scorm12", f"{course.id}-{module.id}-scorm12", module.id)
    try:
        s.sco.locator(".toc a[data-page='quiz']").click()
        s.frame().evaluate(FILL, [essay, line])
        s.sco.locator("#quiz-submit").click()
        data = _suspend_data(s)
        print(f"\nlargest module '{module.id}' suspend_data (SCORM 1.2, essays of {len(essay)} and one-line answers of "
              f"{len(line)} characters): {len(data)} characters")
        assert len(data) <= LIMIT_12
        assert data.count(essay) == sum(q.type == "essay" for q in questions)
        assert data.count(line) == sum(q.type in ("short", "numerical") for q in questions)
        s.assert_silent(bundled)
    finally:
        s.close()
