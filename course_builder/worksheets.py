"""Worksheets as DOCX: the Markdown a designer wrote, as a file learners open and fill in.

python-docx writes the document (Word, LibreOffice and Google Docs open it); the zip it makes is
re-packed by zipwriter so that the same sources give the same bytes. The Markdown is taken from its
sanitised HTML, which has only the elements a worksheet needs: headings, paragraphs, lists, checklists
("- [ ] …"), tables (empty cells get room to write in), emphasis and links.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import docx
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.enum.table import WD_ROW_HEIGHT_RULE
from lxml import html as lxml_html

from .cache import NO_CACHE, Cache
from .model import Course, Module, Worksheet
from .units import memo
from .zipwriter import zip_bytes

# Documents carry a fixed date: the build is reproducible, and a worksheet has no meaningful "created".
FIXED_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
CHECKBOXES = {"[ ]": "☐", "[x]": "☒", "[X]": "☒"}
HEADING_LEVELS = {f"h{n}": n for n in range(1, 7)}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
WRITING_SPACE = Cm(1.2)
# XML 1.0 has no place for most control characters; a stray one in a source must not break the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def docx_bytes(course: Course, module: Module, sheet: Worksheet) -> bytes:
    document = docx.Document()
    _set_language(document, course.spec.language if course.spec else "de")
    props = document.core_properties
    props.title, props.subject = _xml(sheet.title), _xml(f"{module.title} – {course.title}")
    props.author = props.last_modified_by = _xml(", ".join(o.name for o in course.spec.organisers) if course.spec else "")
    props.created = props.modified = props.last_printed = FIXED_DATE
    props.revision, props.keywords, props.comments = 1, "", _xml(sheet.description)
    document.add_heading(_xml(sheet.title), level=0)
    if sheet.description:
        document.add_paragraph().add_run(_xml(sheet.description)).italic = True
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = _xml(f"{course.title} · {module.title}")
    footer.runs[0].font.size = Pt(8)
    for element in lxml_html.fragments_fromstring(_xml(sheet.body.html)) if sheet.body.html.strip() else []:
        if isinstance(element, str):
            if element.strip():
                document.add_paragraph(_xml(element.strip()))
            continue
        _block(document, element)
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as packed:
        return zip_bytes((info.filename, packed.read(info)) for info in packed.infolist())


def worksheet_inputs(course: Course, module: Module, sheet: Worksheet) -> tuple:
    """Everything docx_bytes reads, for cache keys: keep it in step with docx_bytes."""
    return (course.spec, course.root.as_posix(), module.spec, sheet)


def worksheet_docx(course: Course, module: Module, sheet: Worksheet, cache: Cache = NO_CACHE) -> bytes:
    """docx_bytes, made once per build and kept in the cache: a module's page, its SCORM packages and
    its Moodle pages carry the same documents, and python-docx takes ~0.1 s for each."""
    return course.derived_for("worksheet-docx", sheet, lambda: memo(
        cache, course, "worksheet-docx", worksheet_inputs(course, module, sheet), lambda: docx_bytes(course, module, sheet)))


def add_worksheet_units(units, course: Course, module: Module, prefix: str = "") -> None:
    """The module's worksheets as units of a target (course_builder.units), each built only when it changed."""
    for sheet in module.worksheets:
        # No unit inputs: worksheet_docx keeps the document in the cache itself, once for every target.
        units.add(prefix + sheet.rel(course.root), lambda sheet=sheet: worksheet_docx(course, module, sheet, units.cache))


def worksheet_files(course: Course, module: Module, cache: Cache = NO_CACHE) -> dict[str, bytes]:
    """Output path (beside the source, .docx) → bytes, for every worksheet of the module."""
    return {sheet.rel(course.root): worksheet_docx(course, module, sheet, cache) for sheet in module.worksheets}


def _set_language(document, lang: str) -> None:
    """Spell-checking and screen readers read the document in the course's language."""
    tag = {"de": "de-DE", "en": "en-GB"}.get(lang.split("-")[0], lang)
    rpr = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang_el)
    lang_el.set(qn("w:val"), tag)


def _block(document, element) -> None:
    tag = element.tag
    if tag in HEADING_LEVELS:
        document.add_heading(_xml(element.text_content().strip()), level=min(HEADING_LEVELS[tag], 4))
    elif tag in ("ul", "ol"):
        _list(document, element, "List Number" if tag == "ol" else "List Bullet")
    elif tag == "table":
        _table(document, element)
    elif tag == "blockquote":
        for child in element:
            _inline(document.add_paragraph(style="Quote"), child)
    elif tag == "hr":
        document.add_paragraph()
    else:  # p, pre, div and anything else the sanitiser lets through: its text as a paragraph
        _inline(document.add_paragraph(), element)


def _list(document, element, style: str) -> None:
    for item in element.findall("li"):
        paragraph = document.add_paragraph(style=style)
        text = (item.text or "").lstrip()
        box = next((mark for mark in CHECKBOXES if text.startswith(mark)), None)
        if box:  # a checklist item: a box to tick instead of a bullet
            paragraph.style = document.styles["List Paragraph"]
            paragraph.add_run(CHECKBOXES[box] + " ")
            item.text = text[len(box):].lstrip()
        _inline(paragraph, item, skip_lists=True)
        for nested in item.findall("ul") + item.findall("ol"):
            _list(document, nested, style)


def _table(document, element) -> None:
    rows = element.findall(".//tr")
    if not rows:
        return
    width = max(len(row.findall("th") + row.findall("td")) for row in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = document.styles["Table Grid"]
    for r, row in enumerate(rows):
        cells = row.findall("th") + row.findall("td")
        empty = all(not c.text_content().strip() for c in cells)
        for c, cell in enumerate(cells):
            paragraph = table.cell(r, c).paragraphs[0]
            _inline(paragraph, cell, bold=cell.tag == "th")
        if empty or any(not c.text_content().strip() for c in cells if c.tag == "td"):
            table.rows[r].height = WRITING_SPACE  # room to write by hand in a printed sheet
            table.rows[r].height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    document.add_paragraph()


def _inline(paragraph, element, bold: bool = False, italic: bool = False, skip_lists: bool = False) -> None:
    """The element's text and inline children as runs, keeping bold, italic, code and link targets."""
    if element.text:
        _run(paragraph, element.text, bold, italic)
    for child in element:
        if skip_lists and child.tag in ("ul", "ol"):
            continue
        if child.tag == "br":
            paragraph.add_run().add_break()
        else:
            _inline(paragraph, child, bold or child.tag in ("strong", "b", "th"), italic or child.tag in ("em", "i"))
            if child.tag == "a" and child.get("href", "").startswith(("http://", "https://")) \
                    and child.get("href") != child.text_content():
                _run(paragraph, f" ({child.get('href')})", bold, italic)
            if child.tag == "code":
                for run in paragraph.runs[-1:]:
                    run.font.name = "Courier New"
        if child.tail:
            _run(paragraph, child.tail, bold, italic)


def _run(paragraph, text: str, bold: bool, italic: bool) -> None:
    text = _xml(" ".join(text.split()) if "\n" in text else text)
    if not text:
        return
    run = paragraph.add_run(text)
    run.bold, run.italic = bold or None, italic or None
