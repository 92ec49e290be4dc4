"""Worksheets: Markdown in modules/NN-slug/worksheets/ built to DOCX, offered in every delivery."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest

from conftest import MINI, run_course
from course_builder import check
from course_builder.worksheets import worksheet_files
from test_moodle_backup import Backup, build

REL = "modules/01-grundlagen/worksheets/netzwerkkarte.docx"


def sheet_document(course_dir: Path = MINI) -> docx.document.Document:
    course, _ = check(course_dir)
    return docx.Document(io.BytesIO(worksheet_files(course, course.modules[0])[REL]))


def test_docx_holds_what_the_markdown_says():
    document = sheet_document()
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs if p.text]
    assert paragraphs[0] == ("Title", "Arbeitsblatt Netzwerkkarte")
    assert ("Heading 2", "So gehen Sie vor") in paragraphs
    assert ("List Number", "Tragen Sie alle Akteur:innen ein, siehe KOFA (https://www.kofa.de).") in paragraphs
    assert ("List Paragraph", "☐ Alle Schulen eingetragen") in paragraphs
    assert ("List Paragraph", "☒ Kammern eingetragen") in paragraphs
    bold = [r.text for p in document.paragraphs for r in p.runs if r.bold]
    assert "alle" in bold
    [table] = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows == [["Akteur:in", "Kreis (Kern, Partner:innen, Umfeld)", "Interesse"], ["IHK", "Kern", ""], ["", "", ""]]
    assert table.rows[0].height is None and all(row.height is not None for row in table.rows[1:])  # room to write


def test_docx_is_in_the_course_language_and_reproducible():
    course, _ = check(MINI)
    first, second = worksheet_files(course, course.modules[0]), worksheet_files(check(MINI)[0], course.modules[0])
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first[REL])) as packed:
        assert {info.date_time for info in packed.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        styles = packed.read("word/styles.xml").decode()
    assert 'w:val="de-DE"' in styles
    props = sheet_document().core_properties
    assert props.title == "Arbeitsblatt Netzwerkkarte" and props.created.year == 2000


def test_an_image_in_a_worksheet_is_an_error(mini):
    sheet = mini / "modules/01-grundlagen/worksheets/netzwerkkarte.md"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "\n![Karte](../media/karte.svg)\n", encoding="utf-8")
    _, diagnostics = check(mini)
    [found] = [d for d in diagnostics if d.code.id == "MED005"]
    assert found.loc.file == "modules/01-grundlagen/worksheets/netzwerkkarte.md"
    assert found.loc.line == len(sheet.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("target", ["scorm12", "scorm2004"])
def test_scorm_packages_carry_and_link_the_worksheet(tmp_path, target):
    assert run_course("build", str(MINI), "-t", target, "-o", str(tmp_path)).code == 0
    [package] = [p for p in (tmp_path / target).glob("*.zip") if "grundlagen" in p.name]
    with zipfile.ZipFile(package) as packed:
        assert f"files/{REL}" in packed.namelist()
        manifest = packed.read("imsmanifest.xml").decode()
        page = packed.read("grundlagen/index.html").decode()
    assert f'href="files/{REL}"' in manifest
    assert f'href="../files/{REL}" download>Arbeitsblatt Netzwerkkarte</a>' in page


def test_html_site_and_native_moodle_backup_offer_the_worksheet(tmp_path):
    assert run_course("build", str(MINI), "-t", "html", "-o", str(tmp_path)).code == 0
    assert (tmp_path / "html/files" / REL).read_bytes()[:2] == b"PK"
    backup = Backup(build(MINI, tmp_path / "mbz", "--moodle-delivery", "native"))
    pages = [backup.xml(n).findtext("page/content") for n in backup.files if n.endswith("/page.xml")]
    assert sum('href="@@PLUGINFILE@@/netzwerkkarte.docx"' in p for p in pages) == 1
    names = [f.findtext("filename") for f in backup.xml("files.xml") if f.findtext("component") == "mod_page"]
    assert "netzwerkkarte.docx" in names


def test_lti_tool_serves_the_worksheet(tmp_path):
    from lti_harness import Tool

    tool = Tool(tmp_path / "data")
    try:
        response = tool.client.get(f"/lti/files/{REL}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
        assert response.content[:2] == b"PK"
    finally:
        tool.close()


def test_control_characters_in_a_worksheet_do_not_break_the_document(mini):
    sheet = mini / "modules/01-grundlagen/worksheets/netzwerkkarte.md"
    text = sheet.read_text(encoding="utf-8")
    sheet.write_text(text.replace("## Checkliste", "## Check\x07liste").replace("Alle Schulen", "Alle \x1bSchulen"),
                     encoding="utf-8")  # (the front matter is YAML, which refuses them itself)
    texts = [p.text for p in sheet_document(mini).paragraphs]
    assert "Checkliste" in texts and "☐ Alle Schulen eingetragen" in texts


def test_a_worksheet_is_made_once_per_build_and_then_comes_from_the_cache(mini, tmp_path, monkeypatch):
    """The site, both SCORM versions and the native backup carry the same document: python-docx runs
    once for it, and not at all in the next build, also when a lesson of its module changed."""
    from course_builder import targets, worksheets
    from course_builder.build import build as build_targets
    from course_builder.cache import Cache

    made = []
    original = worksheets.docx_bytes
    monkeypatch.setattr(worksheets, "docx_bytes", lambda *args: made.append(args[2].id) or original(*args))
    names = ["html", "scorm12", "scorm2004", "moodle-backup"]
    options = targets.BuildOptions(extra={"moodle-delivery": "native"})
    cache = Cache(tmp_path / "cache")

    build_targets(check(mini)[0], names, tmp_path / "out", options, cache=cache)
    assert made == ["netzwerkkarte"]
    lesson = mini / "modules/01-grundlagen/02-vertiefung.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nEin neuer Absatz.\n", encoding="utf-8")
    build_targets(check(mini)[0], names, tmp_path / "out", options, cache=cache)
    assert made == ["netzwerkkarte"]
