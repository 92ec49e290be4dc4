"""Pages (the native delivery): a module's lessons, its reflection tasks; the last lesson closes with the
module's worksheets, sources and project pointers, as the player's overview does."""

from __future__ import annotations

import html as htmllib
import posixpath
from urllib.parse import quote

from .... import glossary, player
from ....model import Html, Module, Task
from ....worksheets import worksheet_files
from ..backup_xml import NULL
from ..bank import File, Text, text
from . import files
from .plan import Backup
from .records import COMPLETION_AUTOMATIC, Activity, Section, para


def add_lessons(b: Backup, section: Section, module: Module) -> None:
    # The worksheets lie in the last lesson page's file area.
    closing = str(player.module_closing(b.course, module, b.s, level=3,
                                        worksheet_href=lambda sheet: "@@PLUGINFILE@@/" + quote(sheet.file_name)))
    sheets = [File(posixpath.basename(rel), data) for rel, data in worksheet_files(b.course, module, b.cache).items()]
    terms = glossary.index(b.course)
    for lesson in module.lessons:
        last = lesson is module.lessons[-1]
        # mod_page shows its content unfiltered by HTML Purifier (noclean), so the popovers survive.
        body = Html(markdown=lesson.body.markdown, html=terms.link(lesson.body.html, f"lesson-{lesson.id}", None,
                                                                    glossary.INLINE_STYLE))
        add(b, section, lesson.title, body, lesson.assets, closing if last else "", sheets if last else [])
    for task in b.course.tasks_for(module.id):
        if task.kind == "reflection":
            add(b, section, task.title, task.body, task.assets, task_extras(b, task))


def task_extras(b: Backup, task: Task) -> str:
    """What a task says besides its text: guiding questions, deliverables, criteria with points."""
    def items(values: list[str]) -> str:
        return "<ul>" + "".join(f"<li>{htmllib.escape(v, quote=False)}</li>" for v in values) + "</ul>"

    def heading(key: str) -> str:
        return f"<h3>{htmllib.escape(b.s[key], quote=False)}</h3>"

    meta = task.meta
    out = ""
    if meta.questions:
        out += heading("questions_to_reflect") + items(meta.questions)
    if meta.deliverables:
        out += heading("deliverables") + items(meta.deliverables)
    if meta.criteria:
        out += heading("criteria") + items([f"{c.text} ({c.points:g} {b.s['points']})" for c in meta.criteria])
    if meta.pass_points is not None:
        total = sum(c.points for c in meta.criteria)
        out += para(b.s["moodle_pass_points"].format(points=f"{meta.pass_points:g}", total=f"{total:g}"))
    return out


def add(b: Backup, section: Section, title: str, body, assets, extra_html: str = "",
        extra_files: list[File] = ()) -> Activity:
    content = text(body, assets)
    content = Text(content.html, sorted([*content.files, *extra_files], key=lambda f: f.name))
    a = b.activity("page", section, title, dict(
        name=title, intro="", introformat=1, content=content.html + extra_html, contentformat=1, legacyfiles=0,
        legacyfileslast=NULL, display=5,
        displayoptions='a:2:{s:10:"printintro";i:0;s:17:"printlastmodified";i:0;}',
        revision=1, timemodified=b.now))
    a.files = files.area(b, a.contextid, "mod_page", "content", 0, [("/", f.name, f.content) for f in content.files])
    a.completion = dict(completion=COMPLETION_AUTOMATIC, completionview=1)
    return a
