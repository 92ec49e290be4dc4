"""SCORM packages in headless Chromium against the real LMS-side runtime scorm-again (npm).

For each version: read through and answer everything right → passed with 100; everything wrong →
failed; leave half-way and relaunch with the LMS's stored state → same page and answers. Every run
must be silent: no API error code, no scorm-again log message, no console error, no 404.
"""

from __future__ import annotations

import re

import pytest

from course_builder import player

from conftest import MINI
from scorm_support import (PageWatch, Session, answer_quiz, browser, module_pages,  # noqa: F401 (fixture)
                           next_launch_cmi, served_lms)

VERSIONS = ["scorm12", "scorm2004"]
TIMESPAN_12 = re.compile(r"^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$")
TIME_12 = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
DURATION_2004 = re.compile(r"^PT(\d+H)?(\d+M)?(\d+(\.\d{1,2})?S)$")
TIMESTAMP_2004 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,2})?(Z|[+-]\d{2}(:\d{2})?)?$")  # Moodle: at most 2 fraction digits
# SCORM 1.2 RTE 3.4.2: responses per interaction type (single characters a-z, 0-9 as identifiers).
RESPONSE_12 = {
    "true-false": re.compile(r"^[01tf]$"),
    "choice": re.compile(r"^[a-z0-9](,[a-z0-9])*$"),
    "fill-in": re.compile(r"^.{0,255}$", re.S),
    "numeric": re.compile(r"^-?\d+(\.\d+)?$"),
    "matching": re.compile(r"^[a-z0-9]\.[a-z0-9](,[a-z0-9]\.[a-z0-9])*$"),
    "sequencing": re.compile(r"^[a-z0-9](,[a-z0-9])*$"),
}
SHORT_ID = r"[\w\-()+.:=@;$!*'%/#]+"
RESPONSE_2004 = {
    "true-false": re.compile(r"^(true|false)$"),
    "choice": re.compile(rf"^{SHORT_ID}(\[,\]{SHORT_ID})*$"),
    "fill-in": re.compile(r"^(\{[^}]*\})*(?!\{)[^\n]{0,250}$"),
    "long-fill-in": re.compile(r"^[^\n]{0,4000}$"),
    "numeric": re.compile(r"^(-?\d+(\.\d+)?)?(\[:\](-?\d+(\.\d+)?)?)?$"),
    "matching": re.compile(rf"^{SHORT_ID}\[\.\]{SHORT_ID}(\[,\]{SHORT_ID}\[\.\]{SHORT_ID})*$"),
    "sequencing": re.compile(rf"^{SHORT_ID}(\[,\]{SHORT_ID})*$"),
}


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    """Mini course packages + scorm-again, served on 127.0.0.1."""
    with served_lms(MINI, tmp_path_factory.mktemp("scorm-lms")) as server:
        yield server


def _interactions(sets: dict[str, str]) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for key, value in sets.items():
        m = re.match(r"cmi\.interactions\.(\d+)\.(.+)$", key)
        if m:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return found


def _check_interactions(version: str, interactions: dict[int, dict[str, str]], quiz, right: bool) -> None:
    assert [i["id"] for _, i in sorted(interactions.items())] == [q.id for q in quiz.questions]
    responses = RESPONSE_2004 if version == "scorm2004" else RESPONSE_12
    response_key = "learner_response" if version == "scorm2004" else "student_response"
    for (_, rec), q in zip(sorted(interactions.items()), quiz.questions):
        assert float(rec["weighting"]) == q.points
        if version == "scorm2004":
            assert DURATION_2004.match(rec["latency"]), rec
            assert TIMESTAMP_2004.match(rec["timestamp"]), rec
        else:
            assert TIMESPAN_12.match(rec["latency"]), rec
            assert TIME_12.match(rec["time"]), rec
        assert re.fullmatch(responses[rec["type"]], rec[response_key]), rec
        if q.type == "essay":
            assert rec["result"] == "neutral" and "correct_responses.0.pattern" not in rec
            continue
        assert re.fullmatch(responses[rec["type"]], rec["correct_responses.0.pattern"].replace("{case_matters=false}", "")), rec
        wrong = "incorrect" if version == "scorm2004" else "wrong"
        assert rec["result"] == ("correct" if right else wrong), rec
        if right and q.type in ("single", "multiple", "truefalse", "matching", "ordering"):
            assert rec[response_key] == rec["correct_responses.0.pattern"], rec


# --- the three journeys, per version ------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_everything_right_passes_with_100(browser, lms, version):
    course = lms.course
    module = course.modules[0]
    s = Session(browser, lms, version, f"mini-{module.id}-{version}", module.id)
    try:
        s.next_until("quiz")
        answer_quiz(s, course, module.id, right=True)
        s.sco.locator("#quiz-submit").click()
        result = s.sco.locator("#quiz-result")
        assert "100" in result.inner_text()
        assert s.frame().evaluate("document.activeElement.id") == "quiz-result"
        s.page.wait_for_function("() => document.getElementById('sco').contentDocument.getElementById('live').textContent.includes('100')")
        s.next_until(None)
        cmi = s.leave()
        sets = s.sets()
        calls = s.calls()
        last_page = module_pages(course, module)[-1]
        if version == "scorm12":
            core = cmi["core"]
            assert core["lesson_status"] == "passed"
            assert (core["score"]["raw"], core["score"]["min"], core["score"]["max"]) == ("100", "0", "100")
            assert core["lesson_location"] == last_page
            assert core["exit"] == ""
            assert TIMESPAN_12.match(sets["cmi.core.session_time"])
        else:
            assert cmi["completion_status"] == "completed" and cmi["success_status"] == "passed"
            assert cmi["score"]["scaled"] == "1" and cmi["score"]["raw"] == "100"
            assert cmi["progress_measure"] == "1"
            assert cmi["location"] == last_page and cmi["exit"] == "normal"
            assert DURATION_2004.match(sets["cmi.session_time"])
        _check_interactions(version, _interactions(sets), course.quiz_for(module.id), right=True)
        init, finish, commit = (("Initialize", "Terminate", "Commit") if version == "scorm2004"
                                else ("LMSInitialize", "LMSFinish", "LMSCommit"))
        assert [c[0] for c in calls].count(init) == 1 and [c[0] for c in calls].count(finish) == 1
        # Commits at page changes, submission and start, not per answer.
        page_changes = len(module_pages(course, module)) - 1
        assert [c[0] for c in calls].count(commit) <= page_changes + 3
        s.assert_silent(lms)
    finally:
        s.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_everything_wrong_fails(browser, lms, version):
    course = lms.course
    module = course.modules[0]
    s = Session(browser, lms, version, f"mini-{module.id}-{version}", module.id)
    try:
        s.next_until("quiz")
        answer_quiz(s, course, module.id, right=False)
        s.sco.locator("#quiz-submit").click()
        assert s.sco.locator("#quiz-result.failed").is_visible()
        # per-answer feedback: a wrongly chosen option shows its own feedback text
        assert s.sco.locator(".question .is-wrong .fb:not([hidden])").count() > 0
        assert s.sco.locator("#quiz-retry").is_visible()  # the mini quiz allows 2 attempts
        cmi = s.leave()
        sets = s.sets()
        if version == "scorm12":
            assert cmi["core"]["lesson_status"] == "failed"
            assert float(cmi["core"]["score"]["raw"]) < player.pass_mark(course, module)
            assert cmi["core"]["exit"] == "suspend"  # attempts left: the learner may come back
        else:
            assert cmi["success_status"] == "failed"
            assert float(cmi["score"]["scaled"]) < player.pass_mark(course, module) / 100
            assert cmi["exit"] == "suspend"
        _check_interactions(version, _interactions(sets), course.quiz_for(module.id), right=False)
        s.assert_silent(lms)
    finally:
        s.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_leaving_half_way_resumes_page_and_answers(browser, lms, version):
    course = lms.course
    module = course.modules[0]
    package = f"mini-{module.id}-{version}"
    s = Session(browser, lms, version, package, module.id)
    try:
        s.sco.locator("#next").click()
        s.sco.locator(".toc a[data-page='quiz']").click()  # jump ahead through the table of contents
        assert s.visible_page() == "quiz"
        answer_quiz(s, course, module.id, right=True, only=len(course.quiz_for(module.id).questions) - 1)
        quiz = course.quiz_for(module.id)
        before = _form_state(s, quiz)
        progress_before = s.sco.locator("#progress").get_attribute("value")
        cmi = s.leave()
        status = cmi["core"]["lesson_status"] if version == "scorm12" else cmi["completion_status"]
        assert status == "incomplete"
        s.assert_silent(lms)
    finally:
        s.close()
    again = Session(browser, lms, version, package, module.id, cmi=next_launch_cmi(version, cmi))
    try:
        assert again.visible_page() == "quiz"
        assert _form_state(again, quiz) == before
        assert any(before.values())
        again.page.wait_for_function("() => document.getElementById('sco').contentDocument.getElementById('live').textContent !== ''")
        assert again.frame().evaluate("document.getElementById('progress').value") == float(progress_before)
        assert again.sco.locator(".toc a.done").count() == 3  # intro, the lesson after it, the quiz
        again.leave()
        again.assert_silent(lms)
    finally:
        again.close()


def _form_state(s: Session, quiz) -> dict:
    return s.frame().evaluate(
        """ids => Object.fromEntries(ids.map(id => {
             const fs = document.getElementById('q-' + id);
             return [id, [...fs.querySelectorAll('input,select,textarea')].map(el =>
                 el.type === 'radio' || el.type === 'checkbox' ? (el.checked ? el.value : '') : el.value).join('/')];
           }))""", [q.id for q in quiz.questions])


@pytest.mark.parametrize("version", VERSIONS)
def test_a_new_attempt_after_failing_can_pass(browser, lms, version):
    course = lms.course
    module = course.modules[0]
    quiz = course.quiz_for(module.id)
    s = Session(browser, lms, version, f"mini-{module.id}-{version}", module.id)
    try:
        s.sco.locator(".toc a[data-page='quiz']").click()
        answer_quiz(s, course, module.id, right=False)
        s.sco.locator("#quiz-submit").click()
        s.sco.locator("#quiz-retry").click()
        # A fresh attempt: inputs enabled and empty, feedback gone.
        assert s.frame().evaluate("[...document.querySelectorAll('#quiz-form input,#quiz-form select,#quiz-form textarea')]"
                                  ".every(el => !el.disabled && !el.checked && el.value === (el.type === 'radio' || el.type === 'checkbox' ? el.value : ''))")
        assert s.sco.locator(".question .fb:not([hidden])").count() == 0
        answer_quiz(s, course, module.id, right=True)
        s.sco.locator("#quiz-submit").click()
        assert s.sco.locator("#quiz-result.passed").is_visible()
        assert not s.sco.locator("#quiz-retry").is_visible()  # the mini quiz has 2 attempts
        s.next_until(None)
        cmi = s.leave()
        interactions = _interactions(s.sets())
        assert len(interactions) == 2 * len(quiz.questions)  # one record per question and attempt
        if version == "scorm12":
            assert cmi["core"]["lesson_status"] == "passed" and cmi["core"]["score"]["raw"] == "100"
        else:
            assert cmi["success_status"] == "passed" and cmi["score"]["raw"] == "100"
        s.assert_silent(lms)
    finally:
        s.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_api_is_found_through_the_opener_of_a_popup(browser, lms, version):
    """Some LMSs launch the SCO in a new window: the runtime looks there after the parent windows."""
    module = lms.course.modules[0]
    context = browser.new_context()
    page = context.new_page()
    watch = PageWatch(page)
    try:
        page.goto(f"{lms.url}/lms.html?v={version}&sco=about:blank")
        with page.expect_popup() as popup_info:
            page.evaluate(f"window.open('/pkg/mini-{module.id}-{version}/{module.id}/index.html', 'sco')")
        popup = popup_info.value
        popup_watch = PageWatch(popup)
        popup.locator(".pager:not([hidden])").wait_for()
        popup.locator("#next").click()
        popup.close(run_before_unload=True)
        finish = "Terminate" if version == "scorm2004" else "LMSFinish"
        page.wait_for_function(f"window.lmsCalls.some(c => c[0] === '{finish}')")
        names = [c[0] for c in page.evaluate("window.lmsCalls")]
        assert names[0] in ("Initialize", "LMSInitialize") and names.count(finish) == 1
        assert page.evaluate("window.lmsErrors") == [] and page.evaluate("window.lmsLog") == []
        assert watch.errors == [] and popup_watch.errors == []
    finally:
        context.close()
