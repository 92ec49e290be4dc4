"""The module page in headless Chromium against the real tool: the runtime's `http` adapter saves to
the tool, the score reaches the (Moodle-like) gradebook, and a new launch resumes where it stopped."""

from __future__ import annotations

from sqlalchemy import select

from lti.db import OutboxScore, Progress
from lti_harness import Tool, course
from lti_platform import MoodleLikePlatform
from scorm_support import answer_quiz, browser  # noqa: F401 (fixture)
from test_lti_grades import deliver_all
from test_player_runtime import Learner


def test_learner_takes_the_quiz_in_the_browser_and_the_score_arrives(browser, tmp_path):
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data", platform)
    mini = course()
    try:
        platform.enrol("77")
        lineitem = platform.lineitem("rl-browser")
        launch_id, _ = tool.play(tool.launch(custom={"module": "grundlagen"}, user="77", lineitem=lineitem,
                                             resource_link="rl-browser"))
        learner = Learner(browser, f"{tool.server.url}/lti/play/{launch_id}")
        page = learner.page
        try:
            page.locator("#next").click()
            page.locator(".toc a[data-page='quiz']").click()
            answer_quiz(learner, mini, "grundlagen", right=True)
            page.locator("#quiz-submit").click()
            page.wait_for_function("true")
            for _ in range(50):
                with tool.tool.Session() as session:
                    row = session.scalar(select(Progress))
                if row is not None and row.score is not None:
                    break
                page.wait_for_timeout(100)
            assert row.score == 100 and row.success == "passed" and row.location == "quiz"
            quiz = mini.quiz_for("grundlagen")
            assert {i["id"] for i in row.interactions} == {q.id for q in quiz.questions}
            assert learner.watch.errors == []
        finally:
            learner.context.close()
        deliver_all(tool)
        assert platform.lineitems["1"].scores["77"][1]["scoreGiven"] == 100
        with tool.tool.Session() as session:
            assert [r.status for r in session.scalars(select(OutboxScore))][-1] == "delivered"
        # Another device: a fresh launch of the same learner and link resumes on the quiz page.
        tool.client.cookies.clear()
        again_id, _ = tool.play(tool.launch(custom={"module": "grundlagen"}, user="77", lineitem=lineitem,
                                            resource_link="rl-browser"))
        again = Learner(browser, f"{tool.server.url}/lti/play/{again_id}")
        try:
            assert again.visible_page() == "quiz"
            assert again.page.locator("#quiz-result.passed").is_visible()
        finally:
            again.context.close()
    finally:
        tool.close()
        platform.stop()


def test_immediate_feedback_in_the_browser_comes_from_the_tool(browser, tmp_path, monkeypatch):
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data", platform)
    mini = tool.tool.course
    quiz = mini.quiz_for("grundlagen")
    monkeypatch.setattr(quiz.meta, "feedback", "immediate")  # before the tool renders the page
    first = quiz.questions[0]
    try:
        platform.enrol("78")
        launch_id, page_html = tool.play(tool.launch(custom={"module": "grundlagen"}, user="78",
                                                     resource_link="rl-immediate"))
        assert "q-check" in page_html and '"fbq"' not in page_html
        learner = Learner(browser, f"{tool.server.url}/lti/play/{launch_id}")
        page = learner.page
        try:
            page.locator(".toc a[data-page='quiz']").click()
            answer_quiz(learner, mini, "grundlagen", right=True, only=1)
            box = page.locator(f'[id="q-{first.id}"]')
            box.locator(".q-check").click()
            box.locator(".q-result.correct").wait_for()
            assert box.locator(".is-correct").count() == 1 and box.locator("input:not([disabled])").count() == 0
            with tool.tool.Session() as session:
                assert list(session.scalar(select(Progress.checked))) == [first.id]
            page.reload()
            page.locator(".pager:not([hidden])").wait_for()
            assert page.locator(f'[id="q-{first.id}"] .q-result.correct').is_visible()
            # The reload may abort the last keepalive PUT of the page it leaves; nothing else may fail.
            assert [e for e in learner.watch.errors if not e.startswith("failed: ") or "/lti/state/" not in e] == []
        finally:
            learner.context.close()
    finally:
        tool.close()
        platform.stop()


def test_the_page_asks_the_questions_the_tool_drew(browser, tmp_path, monkeypatch):
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data", platform)
    quiz = tool.tool.course.quiz_for("grundlagen")
    monkeypatch.setattr(quiz.meta, "draw", ["1 from ziel", "2 from anwenden"])
    try:
        platform.enrol("79")
        launch_id, _ = tool.play(tool.launch(custom={"module": "grundlagen"}, user="79", resource_link="rl-drawn"))
        learner = Learner(browser, f"{tool.server.url}/lti/play/{launch_id}")
        try:
            learner.page.locator(".toc a[data-page='quiz']").click()
            shown = learner.page.evaluate("[...document.querySelectorAll('fieldset.question')]"
                                          ".filter(f => !f.hidden).map(f => f.dataset.qid)")
            with tool.tool.Session() as session:
                drawn = session.scalar(select(Progress.drawn))
            assert len(drawn) == 3 and sorted(shown) == sorted(drawn)
            assert learner.watch.errors == []
        finally:
            learner.context.close()
    finally:
        tool.close()
        platform.stop()
