"""The learner UI: one page per module (lessons, quiz, tasks) plus a small runtime.

The HTML site, the SCORM packages and the LTI tool all deliver modules through this player; they
differ only in where files live (PlayerContext) and in which LMS API the runtime talks to.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..i18n import strings
from ..markdown import rewrite_urls
from ..model import Asset, Course, Html, Module, Question, Quiz
from ..units import TEMPLATES

STATIC_FILES = ("learner.css", "learner.js")


@dataclass
class PlayerContext:
    """Where things are, as seen from the module page."""

    static_prefix: str  # URL prefix of learner.css/js, e.g. "../../assets/" or "" in a package
    asset_href: Callable[[Asset], str]  # URL of a media file
    module_href: Callable[[str], str | None]  # URL of another module's page, None if not reachable
    home_href: str | None = None  # course overview, if any
    runtime: dict = field(default_factory=dict)  # merged into the page data (e.g. {"lms": "scorm12"})


def stable_order(key: str, items: list) -> list:
    """A shuffled order that depends only on key and the items: same sources, same bytes."""
    return sorted(items, key=lambda item: hashlib.sha256(f"{key}\x00{item[0]}".encode()).hexdigest())


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("course_builder.player", "templates"),
        bytecode_cache=TEMPLATES,
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = lambda template, **kw: template.format(**kw)
    return env


def environment() -> Environment:
    return _env()


def static_files() -> dict[str, bytes]:
    root = resources.files("course_builder.player") / "static"
    return {name: (root / name).read_bytes() for name in STATIC_FILES}


def module_assets(course: Course, module: Module) -> list[Asset]:
    """Every local file the module's page shows, each once, in a stable order."""
    assets = [a for lesson in module.lessons for a in lesson.assets]
    quiz = course.quiz_for(module.id)
    if quiz:
        assets += [a for q in quiz.questions for a in q.assets]
    for task in course.tasks_for(module.id):
        assets += task.assets
    seen: dict[str, Asset] = {}
    for a in assets:
        if a.path is not None and a.path.is_file() and a.rel not in seen:
            seen[a.rel] = a
    return [seen[k] for k in sorted(seen)]


def page_index(course: Course) -> dict[Path, tuple[str, str]]:
    """Source file → (module id, page id) of the player page that shows it."""
    pages: dict[Path, tuple[str, str]] = {}
    resolve = _Resolver()
    for m in course.modules:
        for lesson in m.lessons:
            pages[resolve(lesson.path)] = (m.id, f"lesson-{lesson.id}")
    for quiz in course.quizzes:
        if quiz.module:
            pages[resolve(quiz.path)] = (quiz.module, "quiz")
    for task in course.tasks:
        if task.module:
            pages[resolve(task.path)] = (task.module, f"task-{task.id}")
    return pages


class _Resolver:
    """Path.resolve() for many files in few folders: each folder is resolved once (a course of 1,000
    modules has 4,000 sources, and resolving each walks every component of its path)."""

    def __init__(self):
        self.folders: dict[Path, Path] = {}

    def __call__(self, path: Path) -> Path:
        folder = self.folders.get(path.parent)
        if folder is None:
            folder = self.folders[path.parent] = path.parent.resolve()
        real = folder / path.name
        return real.resolve() if real.is_symlink() else real


class _Rewriter:
    """Rewrites the URLs in one text's HTML: media to their output place, .md links to player pages."""

    def __init__(self, course: Course, module: Module | None, ctx: PlayerContext):
        self.ctx = ctx
        self.module = module
        self.pages = course.derived("player-pages", page_index)

    def html(self, html: Html | str, source: Path, assets: list[Asset], page_id: str | None = None) -> Markup:
        """page_id namespaces heading ids (several lessons share one page) and #anchor links with them."""
        text = html.html if isinstance(html, Html) else html
        by_src = {a.src: a for a in assets}
        if page_id:
            text = re.sub(r'(<h[1-6] id=")([^"]*)"', rf'\g<1>{page_id}--\g<2>"', text)

        def rewrite(url: str) -> str:
            asset = by_src.get(url.replace("&amp;", "&"))
            if asset is not None and asset.path is not None:
                return self.ctx.asset_href(asset)
            if url.startswith("#") and page_id:
                return f"#{page_id}--{url[1:]}"
            if "://" in url or url.startswith(("mailto:", "tel:", "#")):
                return url
            path_part, _, anchor = url.partition("#")
            target = (source.parent / path_part).resolve()
            if target in self.pages:
                module_id, target_page = self.pages[target]
                # A heading anchor inside a lesson is namespaced by the page, as the player renders it.
                fragment = f"{target_page}--{anchor}" if anchor else target_page
                if self.module is not None and module_id == self.module.id:
                    return f"#{fragment}"
                href = self.ctx.module_href(module_id)
                return f"{href}#{fragment}" if href else "#"
            return url

        return Markup(rewrite_urls(text, rewrite))


def _answer_view(q: Question, n: int) -> dict:
    return {"id": f"{q.id}-a{n}", "key": f"a{n}"}


def question_data(q: Question) -> dict:
    """What the runtime needs to grade a question and report it to an LMS."""
    data: dict = {"id": q.id, "type": q.type, "points": q.points, "shuffle": q.shuffle, "objectives": q.objectives}
    if q.type in ("single", "multiple", "truefalse"):
        data["answers"] = [{"key": f"a{n}", "correct": a.correct, "weight": a.weight}
                           for n, a in enumerate(q.answers, 1)]
        if q.type == "truefalse":
            data["truth"] = q.truth
    elif q.type == "short":
        data["answers"] = [{"key": f"a{n}", "text": a.text.markdown.strip(), "weight": a.weight}
                           for n, a in enumerate(q.answers, 1)]
        data["caseSensitive"] = q.case_sensitive
    elif q.type == "numerical":
        data["answers"] = [{"key": f"a{n}", "value": a.value, "tolerance": a.tolerance, "weight": a.weight}
                           for n, a in enumerate(q.answers, 1)]
    elif q.type == "matching":
        rights = _matching_rights(q)
        data["pairs"] = [{"key": f"m{n}", "right": rights.index(a.match.markdown.strip())}
                         for n, a in enumerate((a for a in q.answers if a.text), 1)]
        data["rights"] = len(rights)
    elif q.type == "ordering":
        data["items"] = [f"o{n}" for n in range(1, len(q.answers) + 1)]
    elif q.type == "essay":
        data["minWords"] = q.min_words
        data["maxWords"] = q.max_words
    return data


def _matching_rights(q: Question) -> list[str]:
    rights: list[str] = []
    for a in q.answers:
        text = a.match.markdown.strip() if a.match else ""
        if text not in rights:
            rights.append(text)
    return rights


def quiz_view(quiz: Quiz, rewriter: _Rewriter) -> dict:
    questions = []
    for number, q in enumerate(quiz.questions, 1):
        def html(h: Html, q=q) -> Markup:
            return rewriter.html(h, quiz.path, q.assets)

        view = {"q": q, "number": number, "text": html(q.text), "answers": [], "hints": [html(h) for h in q.hints],
                "feedback": html(q.feedback), "correct_feedback": html(q.correct_feedback),
                "partial_feedback": html(q.partial_feedback), "incorrect_feedback": html(q.incorrect_feedback)}
        if q.type == "matching":
            rights = _matching_rights(q)
            right_html = {a.match.markdown.strip(): html(a.match) for a in q.answers if a.match}
            view["rights"] = [(f"r{i}", right_html[text]) for i, text in stable_order(q.id, list(enumerate(rights)))]
            lefts = [a for a in q.answers if a.text]
            view["answers"] = [{"id": f"{q.id}-m{n}", "key": f"m{n}", "text": html(a.text), "feedback": html(a.feedback)}
                               for n, a in enumerate(lefts, 1)]
        elif q.type == "ordering":
            items = [{"id": f"{q.id}-o{n}", "key": f"o{n}", "text": html(a.text), "feedback": html(a.feedback)}
                     for n, a in enumerate(q.answers, 1)]
            view["answers"] = [item for _, item in stable_order(q.id, [(i["key"], i) for i in items])]
        else:
            view["answers"] = [{**_answer_view(q, n), "text": html(a.text), "feedback": html(a.feedback)}
                               for n, a in enumerate(q.answers, 1)]
        questions.append(view)
    return {"quiz": quiz, "intro": rewriter.html(quiz.intro, quiz.path, []), "questions": questions}


def module_data(course: Course, module: Module, ctx: PlayerContext, pages: list[dict]) -> dict:
    quiz = course.quiz_for(module.id)
    data = {
        "course": course.id,
        "module": module.id,
        "title": module.title,
        "lang": course.spec.language if course.spec else "de",
        "passMark": pass_mark(course, module),
        "pages": [{"id": p["id"], "kind": p["kind"], "title": p["title"]} for p in pages],
        "quiz": None,
    }
    if quiz:
        data["quiz"] = {"id": quiz.id, "attempts": quiz.meta.attempts, "shuffle": quiz.meta.shuffle,
                        "questions": [question_data(q) for q in quiz.questions]}
    data.update(ctx.runtime)
    return data


def pass_mark(course: Course, module: Module) -> float:
    """The percentage needed to pass the module: its quiz's own pass mark, else the module's."""
    quiz = course.quiz_for(module.id)
    return quiz.meta.pass_mark if quiz and quiz.meta.pass_mark is not None else module.pass_mark


def json_for_script(data: dict) -> Markup:
    """JSON safe inside <script type="application/json">: no '</script>' or '<!--' can be formed."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


# The strings learner.js itself shows (the page's HTML has the rest already); only these travel as JSON,
# not the whole table with the LTI tool's teacher pages and error texts.
RUNTIME_STRINGS = ("attempts_left", "correct", "failed", "finished", "incorrect", "no_attempts", "open_questions",
                   "page_of", "partly", "passed", "resume", "score")


def page_inputs(course: Course, module: Module) -> tuple:
    """Everything render_module reads, for cache keys: keep it in step with render_module below.

    The page index stands for the other modules: a link to one of their pages depends on it."""
    return (course.id, course.title, course.spec.language if course.spec else "de",
            course.derived("player-pages", page_index), module, course.quiz_for(module.id),
            course.tasks_for(module.id))


def render_module(course: Course, module: Module, ctx: PlayerContext) -> str:
    rewriter = _Rewriter(course, module, ctx)
    lang = course.spec.language if course.spec else "de"
    ui = strings(lang)
    pages: list[dict] = [{"id": "intro", "kind": "intro", "title": ui["overview"]}]
    for lesson in module.lessons:
        html = rewriter.html(lesson.body, lesson.path, lesson.assets, f"lesson-{lesson.id}")
        pages.append({"id": f"lesson-{lesson.id}", "kind": "lesson", "title": lesson.title, "html": html,
                      "minutes": lesson.minutes})
    quiz = course.quiz_for(module.id)
    if quiz:
        pages.append({"id": "quiz", "kind": "quiz", "title": quiz.title, "view": quiz_view(quiz, rewriter)})
    for task in course.tasks_for(module.id):
        pages.append({"id": f"task-{task.id}", "kind": "task", "title": task.title, "task": task,
                      "html": rewriter.html(task.body, task.path, task.assets)})
    return _env().get_template("module.html.j2").render(
        course=course, module=module, pages=pages, ui=ui, lang=lang, ctx=ctx,
        summary=rewriter.html(module.summary, module.path, []),
        data=json_for_script(module_data(course, module, ctx, pages)),
        runtime_strings=json_for_script({key: ui[key] for key in RUNTIME_STRINGS}),
        minutes=course.module_minutes(module), pass_mark=pass_mark(course, module),
    )


def text_html(course: Course, html: Html, source: Path, assets: list[Asset], ctx: PlayerContext) -> Markup:
    """A text outside any module page (e.g. the project task), with its URLs rewritten for ctx."""
    return _Rewriter(course, None, ctx).html(html, source, assets)


def relative(from_dir: str, to: str) -> str:
    """A relative URL from a folder to a path, both relative to the output root (posix)."""
    return posixpath.relpath(to, from_dir or ".")
