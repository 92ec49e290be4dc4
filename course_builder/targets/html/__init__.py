"""Target `html`: a static website of the course (overview, schedule, module players, tasks, glossary).

Layout of <out>/html/:
  index.html                 course overview with the schedule
  module/<module-id>/        one player page per module (index.html)
  aufgaben/<task-id>.html    tasks that belong to no module (project work)
  glossar.html               glossary
  assets/                    learner.css, learner.js (the player's), site.css (the site pages')
  files/<path in course>     images and media, at their path in the course folder
  <course-id>-html.zip       all of the above in one reproducible zip
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ... import player
from ...i18n import strings
from ...model import Course
from ...nodememo import node_memo
from ...units import TEMPLATES, Units, fingerprint, media_bytes
from ...worksheets import add_worksheet_units
from ...zipwriter import zip_members
from .. import BuildOptions, register
from ...timeline import events, weeks


def outline(course: Course) -> tuple:
    """What the overview page reads: the course, and of each module, quiz and task its frame, not its text.

    A module's frame is one fingerprint, made once per module object (a long-running process keeps it)."""
    def frame(m) -> str:
        return fingerprint(course, m.id, m.slug, m.order, m.spec, m.summary, [(l.id, l.title, l.minutes) for l in m.lessons])

    return (course.spec, course.summary, course.glossary,
            [node_memo("html-outline", m, lambda m=m: frame(m)) for m in course.modules],
            [node_memo("html-outline", q, lambda q=q: fingerprint(course, q.id, q.module, q.meta)) for q in course.quizzes],
            [(t.id, t.module, t.meta) for t in course.tasks])


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("course_builder.targets.html", "templates"), bytecode_cache=TEMPLATES,
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["date"] = player.date_text
    env.globals["session_details"] = player.session_details
    return env


def _site_css() -> bytes:
    return resources.files(__package__).joinpath("static/site.css").read_bytes()


@register
class HtmlSite:
    name = "html"
    description = "static website of the course: overview, schedule, module players, glossary"

    def units(self, course: Course, options: BuildOptions) -> Units:
        lang = course.spec.language if course.spec else "de"
        common = {"course": course, "ui": strings(lang), "lang": lang}
        pages = course.derived("player-pages-digest", player.page_index_digest)
        units = Units(course, self.name, options.cache)
        for name, content in player.static_files().items():
            units.add(f"assets/{name}", lambda content=content: content)
        units.add("assets/site.css", _site_css)
        media = [a for module in course.modules for a in player.module_assets(course, module)]
        media += [a for task in course.tasks for a in task.assets if a.path is not None and course.is_file(a.path)]
        for asset in media:
            units.add(f"files/{asset.rel}", lambda path=asset.path: media_bytes(path, options.cache))
        for module in course.modules:
            add_worksheet_units(units, course, module, "files/")
        for module in course.modules:
            page_dir = f"module/{module.id}"
            units.add(f"{page_dir}/index.html", lambda module=module, page_dir=page_dir: player.render_module(
                course, module, self._context(page_dir)).encode("utf-8"), player.page_inputs(course, module))
        units.add("index.html", lambda: _env().get_template("index.html.j2").render(
            weeks=weeks(course), events=events(course), **common).encode("utf-8"), outline(course))
        units.add("glossar.html", lambda: _env().get_template("glossary.html.j2").render(**common).encode("utf-8"),
                  (course.spec, course.glossary))
        for task in course.tasks:
            if not task.module:
                units.add(f"aufgaben/{task.id}.html", lambda task=task: self._task_page(course, task, common),
                          (course.spec, task, pages))
        site = list(units)
        units.add(f"{course.id}-html.zip", lambda: zip_members(units.member(path) for path in site))
        return units

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        self.units(course, options).write(out)

    def _task_page(self, course: Course, task, common: dict) -> bytes:
        html = player.text_html(course, task.body, task.path, task.assets, self._context("aufgaben"))
        return _env().get_template("task.html.j2").render(task=task, body=html, **common).encode("utf-8")

    @staticmethod
    def _context(page_dir: str) -> player.PlayerContext:
        return player.PlayerContext(
            static_prefix=player.relative(page_dir, "assets") + "/",
            asset_href=lambda a: player.relative(page_dir, f"files/{a.rel}"),
            module_href=lambda mid: player.relative(page_dir, f"module/{mid}/index.html"),
            home_href=player.relative(page_dir, "index.html"),
            runtime={"lms": "none"},
        )
