"""Glossary terms are explained where lessons use them, and lead to the module's list of terms."""

from __future__ import annotations

from course_builder.glossary import TermIndex
from course_builder.model import GlossaryEntry

from scorm_support import StaticServer, axe_violations, browser  # noqa: F401 (fixture)
from test_player_runtime import Learner, site  # noqa: F401 (fixture)


def entry(term: str, **kw) -> GlossaryEntry:
    return GlossaryEntry(term=term, definition=f"Erklärung von {term}.", **kw)


TERMS = TermIndex([entry("Verstetigung"), entry("Stakeholder"), entry("Community Management"), entry("Community"),
                   entry("Netzwerkkoordinator:in"), entry("laterale Führung"), entry("Webinar", link=False),
                   entry("Lenkungskreis", forms=["Lenkungskreise"])])


def explained(html: str) -> list[str]:
    import re
    return re.findall(r'<button type="button" class="term" popovertarget="[^"]+">([^<]+)</button>', html)


def test_the_first_use_on_a_page_is_explained_and_later_ones_are_not():
    html = TERMS.link("<p>Verstetigung braucht Zeit. Verstetigung gelingt mit Stakeholdern.</p>", "lesson-a", "Alle")
    assert explained(html) == ["Verstetigung", "Stakeholdern"]
    assert 'id="lesson-a--glossar-verstetigung" popover><dfn>Verstetigung</dfn>: Erklärung von Verstetigung.' in html
    assert '<a href="#glossar-verstetigung">Alle</a>' in html


def test_headings_links_code_and_other_words_are_left_alone():
    html = ('<h2 id="x">Verstetigung</h2><p><a href="https://example.org">Stakeholder</a> <code>Community</code> '
            "Stakeholder-Matrix, Vorverstetigung, Webinar</p>")
    assert explained(TERMS.link(html, "p", "Alle")) == []


def test_longest_form_wins_and_gender_inclusive_plurals_and_sentence_starts_count():
    html = "<p>Community Management ist Arbeit der Netzwerkkoordinator:innen. Laterale Führung hilft. Zwei Lenkungskreise.</p>"
    assert explained(TERMS.link(html, "p", "Alle")) == ["Community Management", "Netzwerkkoordinator:innen",
                                                        "Laterale Führung", "Lenkungskreise"]


def test_terms_used_are_listed_once_in_order_of_use():
    used = TERMS.used("<p>Stakeholder und Verstetigung, wieder Stakeholder.</p><h3>Community</h3>")
    assert [t.entry.term for t in used] == ["Stakeholder", "Verstetigung"]


def test_the_module_overview_lists_the_terms_its_lessons_use(site):
    module = site.course.modules[0]
    page = (site.handler.roots["/"] / "module" / module.id / "index.html").read_text(encoding="utf-8")
    assert '<dt id="glossar-akteur-innen">Akteur:innen</dt><dd>Alle, die im Netzwerk mitwirken.</dd>' in page
    assert 'id="glossar-netzwerkkoordinator-in"' not in page  # the mini course's lessons do not use it


def test_a_learner_opens_the_explanation_and_follows_it_to_the_list(browser, site):
    module = site.course.modules[0]
    learner = Learner(browser, f"{site.url}/module/{module.id}/index.html")
    page = learner.page
    try:
        page.locator("#next").click()
        term = page.locator("section.page:not([hidden]) button.term", has_text="Akteur:innen")
        term.focus()
        page.keyboard.press("Enter")  # keyboard alone opens it
        popover = page.locator("section.page:not([hidden]) .term-def:popover-open")
        assert "Alle, die im Netzwerk mitwirken." in popover.inner_text()
        assert axe_violations(page) == []
        popover.locator("a").click()
        assert learner.visible_page() == "intro"
        assert page.evaluate("document.activeElement.id") == "glossar-akteur-innen"
        assert learner.watch.errors == []
    finally:
        learner.context.close()


def test_moodle_pages_explain_terms_without_a_link_to_another_page(tmp_path):
    import html
    import tarfile

    from conftest import MINI, run_course

    result = run_course("build", "-t", "moodle-backup", "--moodle-delivery", "native", "-o", str(tmp_path), str(MINI))
    assert result.code == 0, result.output
    mbz = next(tmp_path.rglob("*.mbz"))
    with tarfile.open(mbz) as tar:
        pages = [tar.extractfile(m).read().decode() for m in tar.getmembers() if m.name.endswith("/page.xml")]
    first = next(p for p in pages if "Akteur:innen" in p)
    assert 'popovertarget="lesson-einstieg--glossar-akteur-innen" style="font:inherit' in first
    assert 'href="#glossar-' not in first  # the list of terms is on the module's last page: no link to it
