"""Target `html`: a static website of the course (overview, schedule, module players, tasks, glossary).

Layout of <out>/html/:
  index.html                 course overview with the schedule
  module/<module-id>/        one player page per module (index.html)
  aufgaben/<task-id>.html    tasks that belong to no module (project work)
  glossar.html               glossary
  assets/                    learner.css, learner.js
  files/<path in course>     images and media, at their path in the course folder
  <course-id>-html.zip       all of the above in one reproducible zip
"""

from __future__ import annotations

import shutil
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ... import player
from ...i18n import strings
from ...model import Course
from ...worksheets import worksheet_files
from ...zipwriter import zip_directory
from .. import BuildOptions, register
from ...timeline import events, weeks


def _env() -> Environment:
    env = Environment(loader=PackageLoader("course_builder.targets.html", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["date"] = player.date_text
    env.globals["session_details"] = player.session_details
    return env


@register
class HtmlSite:
    name = "html"
    description = "static website of the course: overview, schedule, module players, glossary"

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        lang = course.spec.language if course.spec else "de"
        ui = strings(lang)
        env = _env()
        (out / "assets").mkdir(parents=True)
        for name, content in player.static_files().items():
            (out / "assets" / name).write_bytes(content)
        for module in course.modules:
            for asset in player.module_assets(course, module):
                self._copy(asset.path, out / "files" / asset.rel)
            for rel, data in worksheet_files(course, module).items():
                (out / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / "files" / rel).write_bytes(data)
        for task in course.tasks:
            for asset in task.assets:
                if asset.path is not None and asset.path.is_file():
                    self._copy(asset.path, out / "files" / asset.rel)
        for module in course.modules:
            page_dir = f"module/{module.id}"
            ctx = self._context(page_dir)
            target = out / page_dir / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(player.render_module(course, module, ctx), encoding="utf-8")
        common = {"course": course, "ui": ui, "lang": lang}
        (out / "index.html").write_text(env.get_template("index.html.j2").render(
            weeks=weeks(course), events=events(course), **common), encoding="utf-8")
        (out / "glossar.html").write_text(env.get_template("glossary.html.j2").render(**common), encoding="utf-8")
        for task in course.tasks:
            if task.module:
                continue
            html = player.text_html(course, task.body, task.path, task.assets, self._context("aufgaben"))
            target = out / "aufgaben" / f"{task.id}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(env.get_template("task.html.j2").render(task=task, body=html, **common), encoding="utf-8")
        zip_directory(out, out / f"{course.id}-html.zip")

    @staticmethod
    def _context(page_dir: str) -> player.PlayerContext:
        return player.PlayerContext(
            static_prefix=player.relative(page_dir, "assets") + "/",
            asset_href=lambda a: player.relative(page_dir, f"files/{a.rel}"),
            module_href=lambda mid: player.relative(page_dir, f"module/{mid}/index.html"),
            home_href=player.relative(page_dir, "index.html"),
            runtime={"lms": "none"},
        )

    @staticmethod
    def _copy(source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
