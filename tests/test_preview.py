"""`course preview`: the real command in a subprocess, its shell in headless Chromium.

Edits reach the open tab without a manual reload and on the same page; errors show as an overlay
(with the location the terminal prints too) over the last good page and go away when fixed; the
stand-in SCORM 1.2 API records completion, score and interactions and resumes after a reload or a
restart; bad input while watching never stops the server; Ctrl-C ends it cleanly."""

from __future__ import annotations

import socket
import time
import zipfile

import pytest
from playwright.sync_api import expect
from watchfiles import Change

from conftest import MINI, run_course
from course_builder.loader import load
from course_builder.preview.attempts import AttemptStore, BadAttempt, validated
from course_builder.preview.snapshot import Snapshot, load_course, runtime_file
from course_builder.watching import SourceFilter
from preview_support import PreviewProcess, Shell, copy_bundled_course, running_preview
from scorm_support import answer_quiz, axe_violations, browser  # noqa: F401 (fixture)

LESSON_2 = "modules/01-grundlagen/02-vertiefung.md"
QUIZ = "assessments/01-grundlagen/quiz.md"


@pytest.fixture
def preview(mini):
    """The preview of a fresh copy of the mini course; at the end it must stop cleanly on Ctrl-C."""
    process = PreviewProcess(mini)
    yield process
    assert process.stop() == 0, process.output
    assert "Traceback" not in process.output
    assert "preview stopped" in "".join(process.stdout)


@pytest.fixture
def shell(browser, preview):
    page = Shell(browser, preview.url)
    yield page
    page.close()


def test_an_edited_lesson_shows_without_a_manual_reload_on_the_same_page(shell, mini):
    shell.go_to("lesson-vertiefung")
    shell.page.evaluate("window.shellNotReloaded = true")
    lesson = mini / LESSON_2
    loaded = len(shell.events("loaded"))
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nEin frisch geschriebener Absatz.\n", encoding="utf-8")

    shell.wait_loaded(loaded)
    expect(shell.frame.get_by_text("Ein frisch geschriebener Absatz.")).to_be_visible()
    assert shell.visible_page() == "lesson-vertiefung"
    assert shell.page.evaluate("window.shellNotReloaded") is True  # the module reloaded, not the tab
    assert len(shell.events("reload")) == 1
    assert shell.problems() == []


def test_a_broken_quiz_shows_an_overlay_over_the_last_good_page_until_it_is_fixed(shell, preview, mini):
    quiz = mini / QUIZ
    good = quiz.read_text(encoding="utf-8")
    line = good.split("\n").index("## single: Eine Antwort {objectives=ziel}") + 1
    quiz.write_text(good.replace("## single: Eine Antwort", "## singel: Eine Antwort"), encoding="utf-8")

    overlay = shell.page.get_by_role("dialog", name="Fehler in den Kursquellen")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text(f"{QUIZ}:{line}:4 · QZ002")
    expect(overlay).to_contain_text("unknown question type 'singel'")
    expect(overlay).to_contain_text("did you mean 'single'?")
    expect(shell.page.get_by_role("alert")).to_have_text("1 Fehler in den Kursquellen")
    # the terminal says the same, as `course check` does
    preview.wait_output(rf"^{QUIZ}:{line}:4: error\[QZ002\]: unknown question type 'singel'")

    # dismissed with the keyboard; the page below is the last good one, and usable
    expect(shell.page.locator("#pv-overlay-close")).to_be_focused()
    shell.page.keyboard.press("Escape")
    expect(overlay).to_be_hidden()
    expect(shell.page.get_by_role("button", name="Fehler anzeigen (1)")).to_be_visible()
    shell.go_to("quiz")
    expect(shell.frame.locator("fieldset.question").first).to_be_visible()

    quiz.write_text(good, encoding="utf-8")
    expect(shell.page.get_by_role("button", name="Fehler anzeigen (1)")).to_be_hidden()
    expect(overlay).to_be_hidden()
    preview.wait_output(r"no problems left", stream="stdout")
    assert shell.visible_page() == "quiz"
    assert shell.problems() == []


def test_completion_score_and_interactions_show_in_the_debug_panel_and_resume_after_reload_and_restart(
        browser, shell, preview, mini):
    course = load(mini).course
    module = course.modules[0]
    expect(shell.page.locator("#pv-entry")).to_have_text("ab-initio")
    shell.go_to("quiz")
    answer_quiz(shell, course, module.id, right=True)
    shell.by_id("quiz-submit").click()
    shell.by_id("quiz-result").wait_for()

    expect(shell.page.locator("#pv-lesson-status")).to_have_text("passed")
    expect(shell.page.locator("#pv-raw")).to_have_text("100")
    expect(shell.page.locator("#pv-location")).to_have_text("quiz")
    questions = course.quiz_for(module.id).questions
    expect(shell.page.locator("#pv-interactions-count")).to_have_text(str(len(questions)))
    expect(shell.page.locator("#pv-interactions tr").first).to_contain_text(questions[0].id)
    length = int(shell.debug("suspend-length").split(" / ")[0])
    assert 0 < length <= 4096 and shell.debug("suspend-length").endswith("/ 4096")
    assert shell.page.locator("#pv-log li").count() > 10
    assert shell.page.locator("#pv-log li.pv-call-error").count() == 0

    shell.page.reload()
    shell.wait_player()
    assert shell.visible_page() == "quiz"
    expect(shell.page.locator("#pv-entry")).to_have_text("resume")
    expect(shell.page.locator("#pv-lesson-status")).to_have_text("passed")
    expect(shell.by_id("quiz-result")).to_be_visible()
    assert shell.problems() == []

    # a new `course preview` on the same folder resumes too (the attempt is kept in the course's cache dir)
    assert preview.stop() == 0
    assert (mini / ".course-cache" / "preview" / "attempts.json").is_file()
    with running_preview(mini) as again:
        other = Shell(browser, again.url)
        try:
            assert other.visible_page() == "quiz"
            expect(other.page.locator("#pv-entry")).to_have_text("resume")
            expect(other.page.locator("#pv-raw")).to_have_text("100")
        finally:
            other.close()


def test_the_shell_passes_axe_with_the_overlay_open_and_with_interactions(shell, mini):
    course = load(mini).course
    shell.go_to("quiz")
    answer_quiz(shell, course, course.modules[0].id, right=False)
    shell.by_id("quiz-submit").click()
    expect(shell.page.locator("#pv-interactions tr")).to_have_count(len(course.quizzes[0].questions))
    assert axe_violations(shell.page) == []
    quiz = mini / QUIZ
    quiz.write_text(quiz.read_text(encoding="utf-8").replace("## single:", "## singel:"), encoding="utf-8")
    expect(shell.page.locator("#pv-overlay")).to_be_visible()
    assert axe_violations(shell.page) == []


def test_reset_attempt_starts_the_module_afresh(shell):
    shell.go_to("lesson-vertiefung")
    expect(shell.page.locator("#pv-location")).to_have_text("lesson-vertiefung")
    shell.page.get_by_role("button", name="Versuch zurücksetzen").click()
    expect(shell.page.locator("#pv-entry")).to_have_text("ab-initio")
    shell.wait_player()
    assert shell.visible_page() == "intro"
    expect(shell.page.locator("#pv-location")).to_have_text("intro")
    shell.page.reload()
    shell.wait_player()
    assert shell.visible_page() == "intro"


def _wait_error(shell, code: str) -> None:
    """Until the preview reports a diagnostic with this code."""
    shell.page.wait_for_function("""code => fetch('/api/status').then(r => r.json())
        .then(s => !s.ok && s.diagnostics.some(d => d.code === code))""", arg=code)


def _wait_ok(shell) -> None:
    expect(shell.page.locator("#pv-overlay")).to_be_hidden()
    shell.page.wait_for_function("fetch('/api/status').then(r => r.json()).then(s => s.ok)")


def test_bad_input_while_watching_gives_diagnostics_and_never_stops_the_server(shell, preview, mini):
    overlay = shell.page.locator("#pv-overlay")
    lesson, module_yaml, course_yaml = mini / LESSON_2, mini / "modules/01-grundlagen/module.yaml", mini / "course.yaml"
    lesson_text, module_text, course_text = lesson.read_bytes(), module_yaml.read_bytes(), course_yaml.read_bytes()
    cases = [
        ("a lesson deleted", lambda: lesson.unlink(), lambda: lesson.write_bytes(lesson_text), "LNK001"),
        # saved half-way through an objective: its text is still empty
        ("module.yaml saved half-written", lambda: module_yaml.write_bytes(module_text[: module_text.index(b"text:") + 5]),
         lambda: module_yaml.write_bytes(module_text), "SCH002"),
        ("a binary file with a source's name", lambda: (mini / "modules/01-grundlagen/03-bild.md").write_bytes(b"PNG\0\1\2" * 50),
         lambda: (mini / "modules/01-grundlagen/03-bild.md").unlink(), "IO003"),
        ("the module folder renamed", lambda: (mini / "modules/01-grundlagen").rename(mini / "modules/01-basis"),
         lambda: (mini / "modules/01-basis").rename(mini / "modules/01-grundlagen"), "SCHED004"),
        ("course.yaml deleted", lambda: course_yaml.unlink(), lambda: course_yaml.write_bytes(course_text), "IO007"),
        # a picture from a shared folder outside modules/, referenced before it exists: adding it is a fix
        ("a picture referenced before it is there", lambda: lesson.write_text(
            lesson_text.decode() + "\n![Logo des Netzwerks](../../media/logo.svg)\n", encoding="utf-8"),
         lambda: shared_picture.parent.mkdir() or shared_picture.write_bytes(picture), "MED001"),
    ]
    shared_picture, picture = mini / "media" / "logo.svg", (mini / "modules/01-grundlagen/media/karte.svg").read_bytes()
    for name, break_it, repair, code in cases:
        break_it()
        _wait_error(shell, code)
        expect(overlay).to_be_visible()
        expect(overlay).to_contain_text(code)
        preview.wait_output(rf"error\[{code}\]")
        assert shell.frame.locator("section.page:not([hidden])").count() == 1, name  # the last good page stays
        repair()
        _wait_ok(shell)
        assert preview.proc.poll() is None, (name, preview.output)

    shell.page.wait_for_function("""() => {
      const img = document.getElementById('pv-frame').contentDocument.querySelector("img[alt='Logo des Netzwerks']");
      return img && img.complete && img.naturalWidth > 0;
    }""")  # the new picture is served

    # binary media and stray files in modules/ are no sources: no diagnostic, also after the next rebuild
    (mini / "modules/scan.pdf").write_bytes(b"%PDF\0\1\2")
    (mini / "modules/01-grundlagen/media/foto.jpg").write_bytes(b"\xff\xd8\xff\0\1")
    loaded = len(shell.events("loaded"))
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nNoch ein Satz.\n", encoding="utf-8")
    shell.wait_loaded(loaded)
    status = shell.page.evaluate("fetch('/api/status').then(r => r.json())")
    assert status["ok"] and status["diagnostics"] == []
    assert "Traceback" not in preview.output


def test_a_course_with_errors_from_the_start_shows_them_and_then_the_module_once_fixed(browser, mini):
    quiz = mini / QUIZ
    good = quiz.read_text(encoding="utf-8")
    quiz.write_text(good.replace("## single:", "## singel:"), encoding="utf-8")
    with running_preview(mini) as preview:
        preview.wait_output(r"error\[QZ002\]")  # printed before the server starts
        shell = Shell(browser, preview.url, wait=False)
        try:
            expect(shell.page.locator("#pv-overlay")).to_be_visible()
            expect(shell.page.locator("#pv-overlay")).to_contain_text("noch keinen fehlerfreien Stand")
            assert shell.page.locator("#pv-frame").get_attribute("src") is None
            quiz.write_text(good, encoding="utf-8")
            shell.wait_player()
            expect(shell.page.locator("#pv-overlay")).to_be_hidden()
            expect(shell.page.locator("#pv-modules a[aria-current=page]")).to_have_text("Grundlagen")
            assert shell.problems() == []
        finally:
            shell.close()


def test_only_course_sources_start_a_rebuild(tmp_path):
    root = tmp_path / "course"
    accept = SourceFilter(root, lambda: {"glossary.yaml", "media"})
    for rel in ("course.yaml", "glossary.yaml", "modules/01-a/01-x.md", "modules/01-a", "assessments/q.md",
                "media/logo.png", "modules/neu"):
        assert accept(Change.modified, str(root / rel)), rel
    for rel in ("build/html/index.html", ".course-cache/x", ".git/index", "modules/01-a/.01-x.md.swp",
                "modules/01-a/01-x.md~", "modules/01-a/4913", "modules/01-a/.#01-x.md", "README.md",
                "course_builder/cli.py", "node_modules/x/y.js"):
        assert not accept(Change.modified, str(root / rel)), rel
    assert not accept(Change.added, str(tmp_path / "elsewhere" / "course.yaml"))


def test_ctrl_c_ends_the_preview_cleanly_with_a_tab_open(shell, preview):
    assert shell.page.evaluate("window.previewEvents.some(e => e.type === 'status')")
    assert preview.stop(timeout=10) == 0
    assert "preview stopped" in "".join(preview.stdout)
    expect(shell.page.locator("#pv-connection")).to_be_visible()  # the tab notices, and says so


def test_the_api_stand_in_answers_as_scorm_12_defines(shell):
    codes = shell.page.evaluate("""() => {
      const lms = window.Scorm12Api({}), api = lms.api, out = {};
      const code = () => api.LMSGetLastError();
      api.LMSGetValue("cmi.core.lesson_status"); out.before = code();
      lms.launch({}, {learner: {id: "x", name: "X"}, masteryScore: "80"});
      out.init = [api.LMSInitialize(""), code()];
      out.again = [api.LMSInitialize(""), code()];
      out.entry = api.LMSGetValue("cmi.core.entry");
      out.status = api.LMSGetValue("cmi.core.lesson_status");
      out.readOnly = [api.LMSSetValue("cmi.core.entry", "resume"), code()];
      out.writeOnly = [api.LMSGetValue("cmi.core.exit"), code()];
      out.keyword = [api.LMSSetValue("cmi.core._children", "x"), code()];
      out.children = [api.LMSGetValue("cmi.core.score._children"), code()];
      out.noChildren = [api.LMSGetValue("cmi.core.lesson_status._children"), code()];
      out.noCount = [api.LMSGetValue("cmi.core._count"), code()];
      out.unknown = [api.LMSGetValue("cmi.core.nonsense"), code()];
      out.badStatus = [api.LMSSetValue("cmi.core.lesson_status", "done"), code()];
      out.range = [api.LMSSetValue("cmi.core.score.raw", "101"), code()];
      out.tooLong = [api.LMSSetValue("cmi.suspend_data", "x".repeat(4097)), code()];
      out.gap = [api.LMSSetValue("cmi.interactions.1.id", "q1"), code()];
      out.first = [api.LMSSetValue("cmi.interactions.0.id", "q1"), code()];
      out.count = api.LMSGetValue("cmi.interactions._count");
      api.LMSSetValue("cmi.core.score.raw", "75");
      api.LMSSetValue("cmi.core.exit", "suspend");
      api.LMSSetValue("cmi.core.session_time", "0000:01:30.5");
      out.finish = [api.LMSFinish(""), code()];
      out.after = [api.LMSGetValue("cmi.core.lesson_status"), code()];
      out.view = lms.view();
      return out;
    }""")
    assert codes["before"] == "301"
    assert codes["init"] == ["true", "0"] and codes["again"] == ["false", "101"]
    assert codes["entry"] == "ab-initio" and codes["status"] == "not attempted"
    assert codes["readOnly"] == ["false", "403"]
    assert codes["writeOnly"] == ["", "404"]
    assert codes["keyword"] == ["false", "402"]
    assert codes["children"] == ["raw,min,max", "0"]
    assert codes["noChildren"][1] == "202" and codes["noCount"][1] == "203"
    assert codes["unknown"][1] == "201"
    assert codes["badStatus"] == ["false", "405"] and codes["range"] == ["false", "405"] and codes["tooLong"] == ["false", "405"]
    assert codes["gap"] == ["false", "201"] and codes["first"] == ["true", "0"] and codes["count"] == "1"
    assert codes["finish"] == ["true", "0"] and codes["after"] == ["", "301"]
    # Moodle's LMSFinish: with a mastery score the score decides passed / failed; session time adds up
    assert codes["view"]["status"] == "failed" and codes["view"]["totalTime"] == "0000:01:30.50"
    assert codes["view"]["entry"] == "resume"


def test_open_hands_the_url_to_the_browser(mini, tmp_path):
    opened = tmp_path / "opened.txt"
    browser_command = tmp_path / "browser"
    browser_command.write_text(f'#!/bin/sh\necho "$1" > {opened}\n', encoding="utf-8")
    browser_command.chmod(0o755)
    with running_preview(mini, "--open", env={"BROWSER": str(browser_command)}) as preview:
        preview.wait_output(r"Preview of", stream="stdout")
        deadline = time.monotonic() + 10
        while not (opened.exists() and opened.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text().strip() == preview.url


def test_the_cli_refuses_a_busy_port_and_a_folder_that_is_no_course(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        result = run_course("preview", str(MINI), "--port", str(busy.getsockname()[1]))
    assert result.code == 2 and "choose another port" in result.output and result.exception is None
    result = run_course("preview", str(tmp_path), "--port", "0")
    assert result.code == 2 and "no course.yaml" in result.output and result.exception is None


def test_a_module_page_is_the_scorm_12_package_page_byte_for_byte(tmp_path):
    result = run_course("build", "-t", "scorm12", "-o", str(tmp_path), str(MINI))
    assert result.code == 0, result.output
    course, diagnostics = load_course(MINI)
    snapshot = Snapshot.of(course)
    with zipfile.ZipFile(tmp_path / "scorm12" / "mini-grundlagen-scorm12.zip") as package:
        assert snapshot.page("grundlagen") == package.read("grundlagen/index.html")
        assert runtime_file("learner.js") == package.read("assets/learner.js")
        assert runtime_file("learner.css") == package.read("assets/learner.css")
    assert set(snapshot.assets) == {"modules/01-grundlagen/media/karte.svg"}


def test_the_preview_serves_a_worksheet_as_the_package_carries_it(tmp_path):
    from lti_harness import TestClient  # with the httpx deprecation note silenced

    from course_builder.preview.app import create_app
    from course_builder.preview.live import LivePreview

    result = run_course("build", "-t", "scorm12", "-o", str(tmp_path), str(MINI))
    assert result.code == 0, result.output
    rel = "modules/01-grundlagen/worksheets/netzwerkkarte.docx"
    with zipfile.ZipFile(tmp_path / "scorm12" / "mini-grundlagen-scorm12.zip") as package:
        packaged = package.read(f"files/{rel}")
    live = LivePreview(MINI, lambda text, err: None)
    live.rebuild(first=True)
    app = create_app(live, AttemptStore(tmp_path / "attempts.json"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = client.get(f"/sco/files/{rel}")
    assert response.status_code == 200 and response.content == packaged


def test_only_the_modules_whose_sources_changed_are_rendered_again(tmp_path):
    course_dir = copy_bundled_course(tmp_path / "course")
    first = Snapshot.of(load_course(course_dir)[0])
    pages = {m.id: first.page(m.id) for m in first.course.modules}
    module = first.course.modules[2]
    lesson = module.lessons[0].path
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nNeu.\n", encoding="utf-8")

    second = Snapshot.of(load_course(course_dir)[0], first)
    assert second.changed_since(first) == [module.id]
    assert second.rendered() == [m.id for m in first.course.modules if m.id != module.id]
    for m in second.course.modules:
        if m.id != module.id:
            assert second.page(m.id) is pages[m.id]  # kept, not rendered again
    assert b"Neu." in second.page(module.id) and b"Neu." not in pages[module.id]


def test_attempts_keep_the_newest_write_and_a_reset_outlasts_a_late_one(tmp_path):
    path = tmp_path / "preview" / "attempts.json"
    store = AttemptStore(path)
    assert store.put("c/m", 1, {"cmi.core.lesson_location": "intro"})
    assert store.put("c/m", 3, {"cmi.core.lesson_location": "quiz"})
    assert not store.put("c/m", 2, {"cmi.core.lesson_location": "lesson-a"})  # arrived late
    store.reset("c/m", 4)  # the page's last write (rev 4) may still be on its way
    assert not store.put("c/m", 4, {"cmi.core.lesson_location": "quiz"})
    assert AttemptStore(path).get("c/m") == {"rev": 4, "cmi": {}}
    assert store.put("c/m", 5, {"cmi.core.lesson_location": "intro"})
    assert AttemptStore(path).get("c/m")["cmi"] == {"cmi.core.lesson_location": "intro"}
    path.write_text("{not json", encoding="utf-8")
    assert AttemptStore(path).get("c/m") == {"rev": 0, "cmi": {}}  # damaged: start afresh, no error
    with pytest.raises(BadAttempt):
        validated({"rev": 1, "cmi": {"cmi.core.lesson_location": 3}})
