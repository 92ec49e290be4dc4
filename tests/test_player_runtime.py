"""The learner runtime outside SCORM: no LMS (localStorage), the `http` adapter against a small local
state server (the contract in docs/runtime.md), keyboard-only use and accessibility (axe-core)."""

from __future__ import annotations

import http.server
import json
import re
import threading

import pytest

from course_builder import player, scoring
from course_builder.loader import load

from conftest import MINI, run_course
from scorm_support import PageWatch, StaticServer, answer_quiz, axe_violations, browser  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("html-site")
    result = run_course("build", "-t", "html", "-o", str(out), str(MINI))
    assert result.code == 0, result.output
    server = StaticServer({"/": out / "html"})
    server.course = load(MINI).course
    yield server
    server.close()


class Learner:
    """A learner's page in a fresh browser context (its own localStorage)."""

    def __init__(self, browser, url: str, context=None, viewport=None):
        self.context = context or browser.new_context(viewport=viewport or {"width": 1100, "height": 900})
        self.page = self.context.new_page()
        self.watch = PageWatch(self.page)
        self.page.goto(url)
        self.page.locator(".pager:not([hidden])").wait_for()
        self.sco = self.page  # the same locator API as a framed SCO, for the shared answer helper

    def by_id(self, element_id: str):
        return self.page.locator(f'[id="{element_id}"]')

    def visible_page(self) -> str:
        return self.page.evaluate("[...document.querySelectorAll('section.page')].find(s => !s.hidden).id")


def test_without_lms_progress_is_kept_in_local_storage(browser, site):
    course = site.course
    module = course.modules[0]
    url = f"{site.url}/module/{module.id}/index.html"
    learner = Learner(browser, url)
    try:
        learner.page.locator(".toc a[data-page='quiz']").click()
        answer_quiz(learner, course, module.id, right=True, only=2)
        learner.page.reload()
        learner.page.locator(".pager:not([hidden])").wait_for()
        assert learner.visible_page() == "quiz"
        q1 = course.quiz_for(module.id).questions[0]
        pick = next(key for key, a in player.choices(q1) if a.correct)
        assert learner.by_id(f"{q1.id}-{pick}").is_checked()
        assert learner.watch.errors == []
    finally:
        learner.context.close()


def test_the_page_carries_the_strings_the_runtime_shows_and_no_others(site):
    script = player.static_files()["learner.js"].decode()
    shown = set(re.findall(r"\bui\.(\w+)", script))
    # ui[g.result]: the values grading assigns to g.result
    shown |= set(re.findall(r'"(\w+)"', re.search(r"g\.result = ([^;]+);", script).group(1)))
    assert shown == set(player.RUNTIME_STRINGS)
    page = (site.handler.roots["/"] / "module" / site.course.modules[0].id / "index.html").read_text(encoding="utf-8")
    carried = json.loads(re.search(r'id="player-strings">(.*?)</script>', page).group(1))
    assert set(carried) == shown and all(carried.values())


def test_without_storage_the_page_still_works(browser, site):
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(window, 'localStorage', {get() { throw new DOMException('off', 'SecurityError'); }});")
    module = site.course.modules[0]
    learner = Learner(browser, f"{site.url}/module/{module.id}/index.html", context=context)
    try:
        learner.page.locator("#next").click()
        assert learner.visible_page() != "intro"
        learner.page.locator(".toc a[data-page='quiz']").click()
        learner.page.locator("#quiz-submit").click()
        learner.page.locator("#quiz-confirm-submit").click()  # nothing answered: confirmed
        assert learner.page.locator("#quiz-result").is_visible()
        assert learner.watch.errors == []
    finally:
        context.close()


def test_open_questions_are_confirmed_before_an_attempt_is_used(browser, site):
    course = site.course
    module = course.modules[0]
    questions = course.quiz_for(module.id).questions
    learner = Learner(browser, f"{site.url}/module/{module.id}/index.html")
    page = learner.page
    try:
        page.locator(".toc a[data-page='quiz']").click()
        answer_quiz(learner, course, module.id, right=True, only=1)
        page.locator("#quiz-submit").click()
        confirm = page.locator("#quiz-confirm")
        assert confirm.is_visible() and not page.locator("#quiz-result").is_visible()
        numbers = ", ".join(str(n) for n in range(2, len(questions) + 1))
        assert f"{len(questions) - 1} von {len(questions)} Fragen (Nr. {numbers})" in confirm.text_content()
        assert page.locator("fieldset.question.is-open").count() == len(questions) - 1
        assert page.locator("#quiz-submit").is_visible() and not page.locator("#quiz-retry").is_visible()  # no attempt used
        page.locator("#quiz-confirm-back").click()
        assert page.evaluate("document.activeElement.closest('fieldset').id") == f"q-{questions[1].id}"
        # Answering everything clears the marks and the confirmation; submitting then grades at once.
        answer_quiz(learner, course, module.id, right=True)
        page.locator("#quiz-form").click(position={"x": 1, "y": 1})  # blur the last field: its change event
        assert not confirm.is_visible() and page.locator("fieldset.question.is-open").count() == 0
        page.locator("#quiz-submit").click()
        assert page.locator("#quiz-result.passed").is_visible() and not confirm.is_visible()
        assert learner.watch.errors == []
    finally:
        learner.context.close()


def test_keyboard_only_read_and_take_the_quiz(browser, site):
    course = site.course
    module = course.modules[0]
    learner = Learner(browser, f"{site.url}/module/{module.id}/index.html")
    page = learner.page
    try:
        # Tab to "next" and press Enter: focus moves to the new page's heading.
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "next":
                break
        assert page.evaluate("document.activeElement.id") == "next"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", "")  # visible focus
        page.keyboard.press("Enter")
        assert learner.visible_page() == "lesson-" + module.lessons[0].id
        assert page.evaluate("document.activeElement.tagName") == "H2"
        # The quiz: the first radio group by keyboard (Tab into it, Space selects), then submit by Enter.
        page.locator(".toc a[data-page='quiz']").focus()
        page.keyboard.press("Enter")
        assert learner.visible_page() == "quiz"
        first = course.quiz_for(module.id).questions[0]
        page.locator(f'[id="{first.id}-a1"]').focus()
        page.keyboard.press("Space")
        assert page.locator(f'[id="{first.id}-a1"]').is_checked()
        page.locator("#quiz-submit").focus()
        page.keyboard.press("Enter")
        # The other questions are open: the confirmation takes the focus; Tab reaches "submit anyway".
        assert page.evaluate("document.activeElement.id") == "quiz-confirm"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "quiz-confirm-submit"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "quiz-result"
        page.wait_for_function("document.getElementById('live').textContent.length > 0")
        assert page.locator("#live").text_content() == page.locator("#quiz-result").text_content()
        assert page.locator("#live").get_attribute("aria-live") == "polite"
        assert learner.watch.errors == []
    finally:
        learner.context.close()


@pytest.mark.parametrize("width", [1100, 320])
def test_every_page_passes_axe_and_reflows(browser, site, width):
    course = site.course
    module = course.modules[0]
    learner = Learner(browser, f"{site.url}/module/{module.id}/index.html", viewport={"width": width, "height": 800})
    page = learner.page
    try:
        seen = []
        while True:
            seen.append(learner.visible_page())
            assert axe_violations(page) == [], seen[-1]
            assert page.evaluate("document.documentElement.scrollWidth") <= width, seen[-1]
            if learner.visible_page() == "quiz":
                answer_quiz(learner, course, module.id, right=False)
                page.locator("#quiz-submit").click()
                assert axe_violations(page) == [], "quiz with feedback"
                assert page.evaluate("document.documentElement.scrollWidth") <= width
            if page.locator("#next").is_disabled():
                break
            page.locator("#next").click()
        assert len(seen) == len(page.locator("section.page").all())
        # Every form control has a label.
        unlabelled = page.evaluate("""[...document.querySelectorAll('input,select,textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.id)""")
        assert unlabelled == []
        assert learner.watch.errors == []
    finally:
        learner.context.close()


# --- the http adapter (LTI tool) against a stub state server ---------------------------------------


class StateServer:
    """The docs/runtime.md contract: GET/PUT {stateUrl}; PUT needs the CSRF token and answers 204;
    POST {attemptUrl} grades the answers (with course_builder.scoring, as the LTI tool does)."""

    def __init__(self, pages: dict[str, bytes], files: dict[str, bytes], csrf: str, grade=None):
        store = {"location": None, "state": None,
                 "quiz": {"attempts": 0, "best": None, "last": None, "review": None, "checked": {}}}
        puts: list[dict] = []
        attempts: list[dict] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/state":
                    assert self.headers.get("Accept") == "application/json"
                    return self._send(200, json.dumps(store).encode(), "application/json")
                body = pages.get(self.path) or files.get(self.path)
                if self.path == "/favicon.ico":
                    return self._send(204, b"", "")
                if body is None:
                    return self._send(404, b"missing", "text/plain")
                kind = "text/html" if self.path.endswith(".html") else (
                    "text/css" if self.path.endswith(".css") else "text/javascript")
                return self._send(200, body, kind + "; charset=utf-8")

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/attempt" or self.headers.get("X-CSRF-Token") != csrf:
                    return self._send(403, b"", "text/plain")
                attempts.append(body)
                score, review = grade(body["answers"])
                quiz = store["quiz"]
                quiz.update(attempts=quiz["attempts"] + 1, last=score, review=review,
                            best=score if quiz["best"] is None else max(quiz["best"], score))
                answer = {"score": score, "attempts": quiz["attempts"], "best": quiz["best"], "review": review}
                return self._send(200, json.dumps(answer).encode(), "application/json")

            def do_PUT(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ok = (self.path == "/state" and self.headers.get("X-CSRF-Token") == csrf
                      and self.headers.get("Content-Type") == "application/json")
                if not ok:
                    return self._send(403, b"", "text/plain")
                puts.append(body)
                store.update(location=body["location"], state=body["state"])
                return self._send(204, b"", "text/plain")

            def _send(self, code, body, kind):
                self.send_response(code)
                if code != 204:
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if code != 204:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.store, self.puts, self.attempts = store, puts, attempts
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def lti_page():
    course = load(MINI).course
    module = course.modules[0]
    csrf = "token-1234"
    ctx = player.PlayerContext(static_prefix="/assets/", asset_href=lambda a: f"/files/{a.rel}",
                               module_href=lambda mid: None, scoring="server",
                               runtime={"lms": "http", "stateUrl": "/state", "attemptUrl": "/attempt", "csrf": csrf})
    html = player.render_module(course, module, ctx).encode("utf-8")
    quiz = course.quiz_for(module.id)
    keys = player.quiz_keys(course, quiz, ctx)
    files = {f"/assets/{name}": content for name, content in player.static_files().items()}
    for asset in player.module_assets(course, module):
        files[f"/files/{asset.rel}"] = asset.path.read_bytes()
    server = StateServer({"/module.html": html, "/other.html": b"<!DOCTYPE html><title>x</title>"}, files, csrf,
                         lambda answers: scoring.attempt([keys[q.id] for q in quiz.questions], answers))
    server.course, server.module = course, module
    yield server
    server.close()


def test_http_adapter_reports_and_resumes_through_the_state_server(browser, lti_page):
    course, module = lti_page.course, lti_page.module
    quiz = course.quiz_for(module.id)
    learner = Learner(browser, f"{lti_page.url}/module.html")
    page = learner.page
    try:
        page.locator("#next").click()
        page.wait_for_function("true")
        page.locator(".toc a[data-page='quiz']").click()
        answer_quiz(learner, course, module.id, right=True)
        page.locator("#quiz-submit").click()
        page.wait_for_timeout(300)
        # The page sends answers once per attempt, never a score; the server's review is what it shows.
        (sent,) = lti_page.attempts
        assert set(sent) == {"answers"} and set(sent["answers"]) == {q.id for q in quiz.questions}
        assert page.locator("#quiz-result.passed").is_visible()
        assert "100" in page.locator("#quiz-result").inner_text()
        assert page.locator(".question .is-correct").count() > 0 and page.locator(".question .is-wrong").count() == 0
        first = quiz.questions[0]
        chosen = next(a for key, a in player.choices(first) if a.correct)
        assert page.locator(f'[id="q-{first.id}"] .option .fb:not([hidden])').inner_text().strip() \
            == chosen.feedback.markdown.strip().split("\n")[0].strip()
        put = lti_page.puts[-1]
        assert not {"score", "success", "interactions"} & set(put)
        assert put["location"] == "quiz" and put["completion"] == "incomplete" and 0 < put["progress"] < 1
        page.goto(f"{lti_page.url}/other.html")  # leaving the page sends the last write
        page.wait_for_timeout(300)
        assert lti_page.puts[-1]["final"] is True
        # The keepalive PUT outlives the page; Playwright may see it as aborted by the navigation.
        assert [e for e in learner.watch.errors if e != f"failed: {lti_page.url}/state"] == []
    finally:
        learner.context.close()
    again = Learner(browser, f"{lti_page.url}/module.html")
    try:
        assert again.visible_page() == "quiz"
        assert again.page.locator("#quiz-result.passed").is_visible()
        assert again.page.locator(".question .is-correct").count() > 0  # the server's review, on resume
        assert again.watch.errors == []
    finally:
        again.context.close()


# --- the feedback policy (quiz front matter `feedback:`) in the local runtime -----------------------


def policy_site(tmp_path, policy: str, draw: str | None = None) -> StaticServer:
    """The mini course as an HTML site, its quiz with feedback policy `policy` (and item pools `draw`)."""
    import shutil

    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    quiz_md = root / "assessments" / "01-grundlagen" / "quiz.md"
    extra = f"feedback: {policy}\n" + (f"draw: {draw}\n" if draw else "")
    quiz_md.write_text(quiz_md.read_text(encoding="utf-8").replace("shuffle: true\n", "shuffle: true\n" + extra, 1),
                       encoding="utf-8")
    result = run_course("build", "-t", "html", "-o", str(tmp_path / "out"), str(root))
    assert result.code == 0, result.output
    server = StaticServer({"/": tmp_path / "out" / "html"})
    server.course = load(root).course
    return server


def markers(page) -> int:
    return page.locator(".question .is-correct, .question .is-wrong, .question .q-result:not([hidden]), "
                        ".question .fb:not([hidden])").count()


def submit_anyway(page) -> None:
    page.locator("#quiz-submit").click()
    if page.locator("#quiz-confirm-submit").is_visible():
        page.locator("#quiz-confirm-submit").click()
    page.locator("#quiz-result:not([hidden])").wait_for()


def test_after_last_attempt_shows_markers_only_when_no_attempt_is_left(browser, tmp_path):
    site = policy_site(tmp_path, "after-last-attempt")
    try:
        module = site.course.modules[0]
        learner = Learner(browser, f"{site.url}/module/{module.id}/index.html")
        page = learner.page
        page.locator(".toc a[data-page='quiz']").click()
        answer_quiz(learner, site.course, module.id, right=False)
        submit_anyway(page)
        assert markers(page) == 0  # one attempt left: the score, nothing per question
        assert "1" in page.locator("#quiz-result").inner_text()
        page.reload()
        page.locator(".pager:not([hidden])").wait_for()
        assert markers(page) == 0  # nor after a reload
        page.locator("#quiz-retry").click()
        answer_quiz(learner, site.course, module.id, right=False)
        submit_anyway(page)
        assert page.locator(".question .is-wrong").count() > 0  # the last attempt: its review is shown
        assert learner.watch.errors == []
        learner.context.close()
    finally:
        site.close()


def test_immediate_feedback_checks_a_question_and_keeps_its_answer(browser, tmp_path):
    site = policy_site(tmp_path, "immediate")
    try:
        module = site.course.modules[0]
        first = site.course.quiz_for(module.id).questions[0]
        learner = Learner(browser, f"{site.url}/module/{module.id}/index.html")
        page = learner.page
        page.locator(".toc a[data-page='quiz']").click()
        answer_quiz(learner, site.course, module.id, right=False, only=1)
        box = page.locator(f'[id="q-{first.id}"]')
        assert box.locator(".is-wrong").count() == 0
        box.locator(".q-check").click()
        assert box.locator(".is-wrong").count() == 1 and box.locator(".q-result.incorrect").is_visible()
        assert box.locator("input:not([disabled])").count() == 0  # the checked answer stands
        assert page.locator(".question .is-correct, .question .is-wrong").count() == 1  # only that question
        page.reload()
        page.locator(".pager:not([hidden])").wait_for()
        box = page.locator(f'[id="q-{first.id}"]')
        assert box.locator(".is-wrong").count() == 1 and box.locator("input:not([disabled])").count() == 0
        answer_quiz(learner, site.course, module.id, right=True, skip=1)  # the first is locked: stays wrong
        submit_anyway(page)
        assert box.locator(".is-wrong").count() == 1
        assert "Ergebnis: 87.5 " in page.locator("#quiz-result").inner_text()  # 7 of 8 points
        assert learner.watch.errors == []
        learner.context.close()
    finally:
        site.close()


def test_item_pools_draw_per_attempt_and_resume_keeps_the_draw(browser, tmp_path):
    site = policy_site(tmp_path, "after-attempt", draw="[1 from ziel, 2 from anwenden]")
    try:
        module = site.course.modules[0]
        quiz = site.course.quiz_for(module.id)
        pools = {q.id: "ziel" if "ziel" in q.objectives else "anwenden" for q in quiz.questions}
        learner = Learner(browser, f"{site.url}/module/{module.id}/index.html")
        page = learner.page

        def shown() -> list[str]:
            return page.evaluate("[...document.querySelectorAll('fieldset.question')].filter(f => !f.hidden)"
                                 ".map(f => f.dataset.qid)")

        page.locator(".toc a[data-page='quiz']").click()
        first = shown()
        assert sorted(pools[q] for q in first) == ["anwenden", "anwenden", "ziel"]
        numbers = page.evaluate("[...document.querySelectorAll('fieldset.question:not([hidden]) .q-number')]"
                                ".map(n => n.textContent)")
        assert numbers == ["1.", "2.", "3."]
        page.reload()
        page.locator(".pager:not([hidden])").wait_for()
        assert shown() == first  # resume keeps the drawn set (suspend string)
        state = page.evaluate(f"localStorage.getItem('course_builder:{site.course.id}:{module.id}')")
        assert len(json.loads(state)["state"]) < 4096
        # Only drawn questions are open or count: answering them right is 100 %.
        for q in quiz.questions:
            if q.id in first:
                answer_quiz(learner, site.course, module.id, right=True, only=quiz.questions.index(q) + 1,
                            skip=quiz.questions.index(q))
        submit_anyway(page)
        assert "Ergebnis: 100 " in page.locator("#quiz-result").inner_text()  # the pool "ziel" has no essay
        page.locator("#quiz-retry").click()
        again = shown()
        assert sorted(pools[q] for q in again) == ["anwenden", "anwenden", "ziel"]
        assert learner.watch.errors == []
        learner.context.close()
    finally:
        site.close()
