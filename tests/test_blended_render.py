"""The blended parts reach every delivery: a module's webinars, project pointer and sources; the in-person
sessions' objectives, programme and preparation."""

from __future__ import annotations

from pathlib import Path

from lxml import html as lxml_html

from conftest import run_course
from test_moodle_backup import Backup, build

SESSION = """      place: Hamburg
      objectives:
        - Die eigenen Ziele <für> den Lehrgang formulieren.
      agenda:
        - {day: 1, time: "10:00-11:30", title: Ankommen & Kennenlernen}
        - {day: 2, time: "09:00-12:00", title: Projektideen, description: In Gruppen zu viert.}
      prework:
        - Eine Skizze Ihres Netzwerks
"""
MODULE_EXTRA = """project_work: |
  Bringen Sie Ihre **Netzwerkkarte** mit.
"""


def blend(mini: Path) -> Path:
    course = mini / "course.yaml"
    text = course.read_text(encoding="utf-8")
    course.write_text(text.replace("      place: Hamburg\n", SESSION, 1), encoding="utf-8")
    module = mini / "modules/01-grundlagen/module.yaml"
    module.write_text(module.read_text(encoding="utf-8").replace("sources:\n", MODULE_EXTRA + "sources:\n"), encoding="utf-8")
    with module.open("a", encoding="utf-8") as fh:
        fh.write("  - author: Alpha, B.\n    year: 2020\n    title: Ein <b>fetter</b> Titel\n    url: https://example.org/a?x=1&y=2\n")
    return mini


def test_module_overview_shows_webinars_project_work_and_sorted_sources(mini, tmp_path):
    blend(mini)
    result = run_course("build", str(mini), "-t", "html", "-o", str(tmp_path / "out"))
    assert result.code == 0, result.output
    page = lxml_html.fromstring((tmp_path / "out/html/module/grundlagen/index.html").read_bytes())
    intro = page.get_element_by_id("intro")
    assert [li.text_content() for li in intro.xpath(".//ul[@class='webinars']/li")] == ["03.03.2027, 16:30–18:00: Grundlagen"]
    assert intro.xpath(".//div[@class='project-work']//strong")[0].text == "Netzwerkkarte"
    sources = [li.text_content() for li in intro.xpath(".//section[@class='sources']//li")]
    assert sources == ["Alpha, B. (2020): Ein <b>fetter</b> Titel. https://example.org/a?x=1&y=2",
                       "Testautorin, A. (2024): Grundlagen der Netzwerkarbeit. Testverlag."]
    assert intro.xpath(".//section[@class='sources']/h3")[0].text == "Literatur und Quellen"
    assert intro.xpath(".//section[@class='sources']//a")[0].get("href") == "https://example.org/a?x=1&y=2"


def test_course_overview_shows_the_sessions_programme(mini, tmp_path):
    blend(mini)
    assert run_course("build", str(mini), "-t", "html", "-o", str(tmp_path / "out")).code == 0
    page = lxml_html.fromstring((tmp_path / "out/html/index.html").read_bytes())
    session = page.get_element_by_id("session-auftakt")
    assert [li.text for li in session.xpath(".//ul/li")][:1] == ["Die eigenen Ziele <für> den Lehrgang formulieren."]
    rows = [[td.text_content() for td in tr.xpath("td")] for tr in session.xpath(".//table[@class='agenda']/tbody/tr")]
    assert rows == [["1", "10:00–11:30", "Ankommen & Kennenlernen"], ["2", "09:00–12:00", "ProjektideenIn Gruppen zu viert."]]
    assert "Eine Skizze Ihres Netzwerks" in session.text_content()


def test_moodle_backup_carries_sessions_and_module_sources(mini, tmp_path):
    blend(mini)
    backup = Backup(build(mini, tmp_path / "out", "--moodle-delivery", "native"))
    summaries = [backup.xml(name).findtext("summary") for name in backup.files if name.endswith("/section.xml")]
    kickoff = next(s for s in summaries if "Ankommen" in s)
    assert "Ankommen &amp; Kennenlernen" in kickoff and "Die eigenen Ziele &lt;für&gt;" in kickoff
    pages = [backup.xml(name).findtext("page/content") for name in backup.files if name.endswith("/page.xml")]
    closing = [p for p in pages if "Literatur und Quellen" in p]
    assert len(closing) == 1 and "Ein &lt;b&gt;fetter&lt;/b&gt; Titel" in closing[0] and "Netzwerkkarte" in closing[0]
