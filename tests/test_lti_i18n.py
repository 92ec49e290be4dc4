"""The LTI tool's pages and error messages speak the course's language: German for the (German) mini
course, English for an English copy of it; every visible string comes from course_builder/i18n.py."""

from __future__ import annotations

import ast
import inspect
import re
import shutil
import string
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from course_builder.i18n import STRINGS
from lti import ags
from lti.security import Rejected
from lti_harness import MINI, Tool, platform, tool  # noqa: F401 (fixtures)
from lti_platform import ROLE_INSTRUCTOR, MoodleLikePlatform
from test_lti_launch import csrf_of, put_state

LTI_SOURCES = sorted((Path(__file__).resolve().parent.parent / "lti").glob("*.py"))

# What each page must show (i18n keys); the teacher overview's rows hold every status the test produces.
TEACHER_KEYS = ["lti_groups", "lti_col_learner", "progress", "lti_col_completion", "lti_col_success", "lti_col_score",
                "lti_col_delivery", "lti_completion_completed", "lti_completion_incomplete", "lti_success_passed",
                "lti_success_failed", "lti_delivery_delivered", "lti_delivery_failed", "lti_per_question",
                "lti_col_question", "lti_col_correct", "lti_col_answered", "lti_col_delivered", "lti_changes",
                "lti_col_when", "lti_col_by", "lti_col_launch", "lti_col_change", "lti_by_self", "lti_source_state",
                "lti_source_attempt", "lti_field_progress", "lti_field_completion", "lti_field_score",
                "lti_field_attempts"]
GROUP_KEYS = ["lti_groups", "lti_groups_sync", "lti_groups_regions_import", "lti_groups_form", "lti_col_group",
              "lti_groups_save", "lti_export_groups", "lti_export_moodle_groups", "lti_export_moodle_members",
              "lti_groups_formed"]
PICKER_KEYS = ["lti_dl_choose", "lti_dl_add"]
# The English labels these pages had before they were translated.
OLD_LABELS = ["Learner", "learners", "Progress", "Completion", "Success", "Score", "Grade delivery", "Per question",
              "completed", "incomplete", "passed", "failed", "delivered", "pending", "Groups", "Project groups",
              "Roster from the course", "Import regions", "Form groups of four", "Save", "Group", "Add to course",
              "groups formed", "members"]


class _Visible(HTMLParser):
    """The text a person sees or hears: text outside script/style, plus title, aria-label and alt."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        self.parts += [value for name, value in attrs if name in ("title", "aria-label", "alt") and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def has_words(text: str, words: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


def assert_speaks(html: str, keys: list[str], lang: str) -> None:
    """Every key's text in `lang` is on the page; where the other language differs, its text is not."""
    other = "en" if lang == "de" else "de"
    text = visible(html)
    assert f'<html lang="{lang}">' in html
    for key in keys:
        assert STRINGS[lang][key] in text, (key, text)
        if not has_words(STRINGS[lang][key], STRINGS[other][key]):
            assert not has_words(text, STRINGS[other][key]), (key, text)
    assert not re.search(r"\w / \w", text), "no bilingual 'X / Y' labels"


def enrolled_launch(tool: Tool, user: str, **claims) -> tuple[str, str]:
    tool.platform.enrol(user, name=f"Person {user}")
    return tool.play(tool.launch(custom={"module": "grundlagen"}, user=user, **claims))


def pages(tool: Tool, prefix: str) -> dict[str, httpx.Response]:
    """The teacher overview, groups page, deep-linking picker and an error page, with content in every state."""
    lineitem = tool.platform.lineitem(f"{prefix}-rl")
    link = {"resource_link": f"{prefix}-rl", "lineitem": lineitem}
    # The first question right for one learner (100), wrong for the other (37.5: the last ones right).
    for user, score in {f"{prefix}-1": 100.0, f"{prefix}-2": 37.5}.items():
        launch_id, page = enrolled_launch(tool, user, **link)
        assert put_state(tool, launch_id, csrf_of(page), {"progress": 1.0, "completion": "completed"}).status_code == 204
        assert tool.submit(launch_id, page, tool.answers_scoring("grundlagen", score)).status_code == 200
    # a learner the platform does not know: the platform refuses the score (delivery failed)
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user=f"{prefix}-x", **link))
    assert put_state(tool, launch_id, csrf_of(page), {"progress": 0.2}).status_code == 204
    assert tool.submit(launch_id, page, tool.answers_scoring("grundlagen", 12.5)).status_code == 200
    while ags.run_once(tool.tool.background, tool.tool.http, ags.OutboxPolicy(base_delay=0.0, lease_seconds=2)):
        pass
    for i in range(4):
        tool.platform.enrol(f"{prefix}-g{i}", region=["Nord", "Süd"][i % 2])
    tool.platform.enrol(f"{prefix}-t", role="Instructor")
    teacher_id, _ = tool.play(tool.launch(custom={"module": "grundlagen"}, user=f"{prefix}-t", roles=[ROLE_INSTRUCTOR],
                                          **link))
    out = {"teacher": tool.client.get(f"/lti/teacher/{teacher_id}")}
    csrf = tool.client.get(f"/lti/groups/{teacher_id}").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    synced = tool.client.post(f"/lti/groups/{teacher_id}/do/sync", data={"csrf": csrf})
    out["synced"] = tool.client.get(synced.headers["location"])
    formed = tool.client.post(f"/lti/groups/{teacher_id}/do/form", data={"csrf": csrf})
    out["groups"] = tool.client.get(formed.headers["location"])
    flow = tool.launch(message_type="LtiDeepLinkingRequest", roles=[ROLE_INSTRUCTOR], user=f"{prefix}-t")
    out["picker"] = tool.client.get(flow.launch.headers["location"])
    out["error"] = tool.launch(custom={"module": "no-such-module"}, user=f"{prefix}-1").launch
    return out


def assert_pages_speak(out: dict[str, httpx.Response], lang: str) -> None:
    ui = STRINGS[lang]
    for name, response in out.items():
        assert response.status_code == (404 if name == "error" else 200), (name, response.text)
    teacher = out["teacher"].text
    assert_speaks(teacher, TEACHER_KEYS, lang)
    assert ui["lti_learner_count"].format(n=3) in visible(teacher)
    # the machine values stay in data attributes
    for attribute in ('data-completion="completed"', 'data-success="failed"', 'data-status="delivered"',
                      'data-status="failed"'):
        assert attribute in teacher
    assert_speaks(out["groups"].text, GROUP_KEYS, lang)
    assert ui["moodle_group"].format(n=1) in out["groups"].text  # the groups' names
    synced = visible(out["synced"].text)
    assert re.search(re.escape(ui["lti_groups_synced"]).replace(re.escape("{n}"), r"\d+"), synced), synced
    assert_speaks(out["picker"].text, PICKER_KEYS, lang)
    error = out["error"].text
    assert_speaks(error, ["lti_error", "lti_error_hint"], lang)
    assert ui["lti_err_unknown_module"].format(module="no-such-module") in visible(error)
    assert "(unknown_module)" in error  # teachers quote the code


def test_pages_of_a_german_course_are_german(tool):
    out = pages(tool, "de")
    assert_pages_speak(out, "de")
    for name, response in out.items():
        text = visible(response.text)
        assert not [label for label in OLD_LABELS if has_words(text, label)], name
        assert "is not part of this course" not in text  # the English log text stays off the page


@pytest.fixture(scope="module")
def english_course(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("english") / "mini"
    shutil.copytree(MINI, copy)
    spec = copy / "course.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "\nlanguage: de\n" in text
    spec.write_text(text.replace("\nlanguage: de\n", "\nlanguage: en\n"), encoding="utf-8")
    return copy


def test_pages_of_an_english_course_are_english(english_course, tmp_path):
    english_platform = MoodleLikePlatform()
    english = Tool(tmp_path / "data", english_platform, course_path=english_course)
    try:
        assert_pages_speak(pages(english, "en"), "en")
    finally:
        english.close()
        english_platform.stop()


def test_a_language_without_strings_gets_english_pages_marked_english(english_course, tmp_path):
    spec = english_course.parent / "french" / "course.yaml"
    shutil.copytree(english_course, spec.parent)
    spec.write_text(spec.read_text(encoding="utf-8").replace("\nlanguage: en\n", "\nlanguage: fr\n"), encoding="utf-8")
    french = Tool(tmp_path / "data", course_path=spec.parent)
    try:
        page = french.client.get("/lti/launch")  # a GET is refused: the error page needs no platform
        assert page.status_code == 405
        assert_speaks(page.text, ["lti_error", "lti_err_method_not_allowed"], "en")
    finally:
        french.close()


def test_error_page_of_the_dynamic_registration_is_german(tool):
    page = tool.client.get("/lti/register")
    assert page.status_code == 403 and "(registration_token)" in page.text
    assert_speaks(page.text, ["lti_error", "lti_err_registration_token"], "de")


# --- the strings themselves ----------------------------------------------------------------------------


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_both_languages_have_every_key_with_the_same_placeholders():
    assert set(STRINGS["de"]) == set(STRINGS["en"])
    assert any(key.startswith("lti_err_") for key in STRINGS["de"])
    for key in STRINGS["de"]:
        assert placeholders(STRINGS["de"][key]) == placeholders(STRINGS["en"][key]), key


def rejections() -> list[tuple[str, int, str, set[str]]]:
    """(file, line, code, detail names) of every `Rejected(...)` raised in lti/."""
    found = []
    for path in LTI_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Rejected":
                named = {k.arg: k.value for k in node.keywords}
                code = node.args[2] if len(node.args) > 2 else named.get("code")
                assert isinstance(code, ast.Constant) and isinstance(code.value, str), \
                    f"{path.name}:{node.lineno}: give Rejected an explicit code"
                details = set(named) - {"message", "status", "code"}
                found.append((path.name, node.lineno, code.value, details))
    return found


def test_every_rejection_code_has_a_text_in_both_languages_fed_by_its_details():
    found = rejections()
    codes = {code for _, _, code, _ in found} | {inspect.signature(Rejected).parameters["code"].default}
    # the walk sees the raises of every file (security, app, groups, registration)
    assert {"incomplete_login", "unknown_module", "bad_csv", "registration_request"} <= codes
    for lang in ("de", "en"):
        missing = sorted(code for code in codes if f"lti_err_{code}" not in STRINGS[lang])
        assert not missing, f"{lang}: no lti_err_<code> text for {missing}"
    for file, line, code, details in found:
        needed = placeholders(STRINGS["de"][f"lti_err_{code}"])
        assert needed <= details, f"{file}:{line}: {code} needs the details {sorted(needed - details)}"


def test_every_error_text_belongs_to_a_code_in_use():
    codes = {code for _, _, code, _ in rejections()} | {inspect.signature(Rejected).parameters["code"].default}
    texts = {key.removeprefix("lti_err_") for key in STRINGS["de"] if key.startswith("lti_err_")}
    assert texts - codes == set()


def test_rejected_shows_the_code_text_and_falls_back_to_its_english_message():
    ui = STRINGS["de"]
    shown = Rejected("The module 'x' is not part of this course.", 404, "unknown_module", module="x").text(ui)
    assert shown == ui["lti_err_unknown_module"].format(module="x")
    assert Rejected("Something new.", 400, "no_text_for_this").text(ui) == "Something new."
    assert Rejected("Detail missing.", 404, "unknown_module").text(ui) == "Detail missing."
