"""The learner UI: one page per module (lessons, quiz, tasks) plus a small runtime.

The HTML site, the SCORM packages and the LTI tool all deliver modules through this player; they
differ only in where files live (PlayerContext) and in which LMS API the runtime talks to.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .. import glossary
from ..citations import sources_html
from ..i18n import strings
from ..markdown import rewrite_urls
from ..model import Answer, Asset, Course, Html, Module, Question, Quiz, Session, Worksheet
from ..nodememo import node_memo
from ..units import TEMPLATES, fingerprint, media_state
from ..nodememo import same_objects

STATIC_FILES = ("learner.css", "learner.js")


@dataclass
class PlayerContext:
    """Where things are, as seen from the module page."""

    static_prefix: str  # URL prefix of learner.css/js, e.g. "../../assets/" or "" in a package
    asset_href: Callable[[Asset], str]  # URL of a media file
    module_href: Callable[[str], str | None]  # URL of another module's page, None if not reachable
    home_href: str | None = None  # course overview, if any
    runtime: dict = field(default_factory=dict)  # merged into the page data (e.g. {"lms": "scorm12"})
    # "local": the page carries the keys sealed and the runtime grades; "server": no key in the page,
    # the LMS-side tool grades what the runtime sends (the LTI tool).
    scoring: str = "local"


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
    env.filters["date"] = date_text
    return env


def date_text(day) -> str:
    """A date as German readers write it (and as the course's English fallback keeps it: unambiguous)."""
    return day.strftime("%d.%m.%Y") if isinstance(day, dt.date) else ""


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
        if a.path is not None and a.rel not in seen and course.is_file(a.path):
            seen[a.rel] = a
    return [seen[k] for k in sorted(seen)]


def page_index(course: Course) -> dict[Path, tuple[str, str]]:
    """Source file → (module id, page id) of the player page that shows it."""
    index: dict[Path, tuple[str, str]] = {}
    for node, module_id, prefix in _page_nodes(course):
        index.update(node_memo(f"page-entries:{module_id}:{prefix}", node, lambda: _page_entries(node, module_id, prefix)))
    return index


def page_index_digest(course: Course) -> str:
    """A fingerprint of page_index(course) for cache keys, made from what each node remembers of its
    place, so that a long-running process does not hash the whole index again after every edit."""
    root = os.path.join(os.fspath(Path(course.root).resolve()), "")
    h = hashlib.sha256()
    for node, module_id, prefix in _page_nodes(course):
        # The lines of a module's lessons are kept on the module: a long-running process joins 1,000
        # of them instead of formatting 4,000 lines after every edit.
        h.update(node_memo(f"page-lines:{root}:{module_id}:{prefix}", node, lambda: _page_lines(root, node, module_id, prefix)))
    return h.hexdigest()


def _page_nodes(course: Course):
    """(node, module id, page id prefix) in page_index's order: a module stands for its lessons."""
    for m in course.modules:
        yield m, m.id, "lesson-"
    for quiz in course.quizzes:
        if quiz.module:
            yield quiz, quiz.module, "quiz"
    for task in course.tasks:
        if task.module:
            yield task, task.module, "task-"


def _page_entries(node, module_id: str, prefix: str) -> list[tuple[Path, tuple[str, str]]]:
    """(resolved source path, (module id, page id)) of a module's lessons, a quiz or a task."""
    resolver = _Resolver()
    pages = [(lesson, f"lesson-{lesson.id}") for lesson in node.lessons] if prefix == "lesson-" else \
        [(node, "quiz" if prefix == "quiz" else f"task-{node.id}")]
    # Once per node: a long-running process keeps the nodes of unchanged files.
    return [(node_memo("page-path", page, lambda page=page: resolver(page.path)), (module_id, page_id))
            for page, page_id in pages]


def _page_lines(root: str, node, module_id: str, prefix: str) -> bytes:
    """The index lines of a module's lessons, a quiz or a task: path relative to the course folder (as
    fingerprints take paths, so that a course that moves keeps its cache), module id, page id."""
    lines = []
    for path, (_, page_id) in _page_entries(node, module_id, prefix):
        text = os.fspath(path)
        lines.append("\0".join((text[len(root):] if text.startswith(root) else text, module_id, page_id)) + "\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


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


def choices(q: Question) -> list[tuple[str, Answer]]:
    """(key, answer) of a choice question in the order the page lists them.

    Keys are numbered in that order, shuffled by the question's id: "a1" says nothing about which
    option the author wrote first (often the right one)."""
    keyed = list(enumerate(q.answers))
    if q.shuffle and q.type in ("single", "multiple"):
        keyed = [item for _, item in stable_order(q.id, [(f"{n}", (n, a)) for n, a in keyed])]
    return [(f"a{n}", a) for n, (_, a) in enumerate(keyed, 1)]


def _rights(q: Question) -> list[str]:
    """A matching question's right-hand texts, each once, in the order its lists show them."""
    rights: list[str] = []
    for a in q.answers:
        text = a.match.markdown.strip() if a.match else ""
        if text not in rights:
            rights.append(text)
    return [text for _, text in stable_order(q.id, list(enumerate(rights)))]


def _ordering_items(q: Question) -> list[tuple[str, int, Answer]]:
    """(key, right position, item) in the order the page lists the items; keys follow that order."""
    shown = [item for _, item in stable_order(q.id, [(f"o{n}", (n, a)) for n, a in enumerate(q.answers, 1)])]
    return [(f"o{i}", position, a) for i, (position, a) in enumerate(shown, 1)]


def question_data(q: Question) -> dict:
    """What the runtime needs to show a question and take its answer: no key."""
    data: dict = {"id": q.id, "type": q.type, "points": q.points, "shuffle": q.shuffle, "objectives": q.objectives}
    if q.type in ("single", "multiple", "truefalse"):
        data["answers"] = [{"key": key} for key, _ in choices(q)]
    elif q.type == "matching":
        data["pairs"] = [{"key": f"m{n}"} for n, _ in enumerate((a for a in q.answers if a.text), 1)]
        data["rights"] = len(_rights(q))
    elif q.type == "ordering":
        data["items"] = [key for key, _, _ in _ordering_items(q)]
    elif q.type == "essay":
        data["minWords"] = q.min_words
        data["maxWords"] = q.max_words
    return data


def question_key(q: Question, html: Callable[[Html], Markup] | None = None) -> dict:
    """What grading a question and giving its feedback needs: the part a learner must not read.

    Merged into question_data (course_builder.scoring.merged) it is what both graders take."""
    html = html or (lambda h: Markup(h.html))
    key: dict = {}
    feedback: dict[str, str] = {}
    if q.type in ("single", "multiple", "truefalse"):
        key["answers"] = [{"correct": a.correct, "weight": a.weight} for _, a in choices(q)]
        feedback = {k: html(a.feedback) for k, a in choices(q)}
        if q.type == "truefalse":
            key["truth"] = q.truth
    elif q.type == "short":
        key["answers"] = [{"key": f"a{n}", "text": a.text.markdown.strip(), "weight": a.weight}
                          for n, a in enumerate(q.answers, 1)]
        key["caseSensitive"] = q.case_sensitive
        feedback = {f"a{n}": html(a.feedback) for n, a in enumerate(q.answers, 1)}
    elif q.type == "numerical":
        key["answers"] = [{"key": f"a{n}", "value": a.value, "tolerance": a.tolerance, "weight": a.weight}
                          for n, a in enumerate(q.answers, 1)]
        feedback = {f"a{n}": html(a.feedback) for n, a in enumerate(q.answers, 1)}
    elif q.type == "matching":
        rights = _rights(q)
        lefts = [a for a in q.answers if a.text]
        key["pairs"] = [{"right": rights.index(a.match.markdown.strip())} for a in lefts]
        feedback = {f"m{n}": html(a.feedback) for n, a in enumerate(lefts, 1)}
    elif q.type == "ordering":
        items = _ordering_items(q)
        key["order"] = [position for _, position, _ in items]
        feedback = {k: html(a.feedback) for k, _, a in items}
    key["fb"] = {k: str(v) for k, v in feedback.items() if v.strip()}
    key["fbq"] = {name: str(text) for name, text in (
        ("correct", html(q.correct_feedback)), ("partly", html(q.partial_feedback)),
        ("incorrect", html(q.incorrect_feedback)), ("general", html(q.feedback))) if text.strip()}
    return key


def quiz_view(quiz: Quiz, rewriter: _Rewriter) -> dict:
    """The quiz as the page shows it before any answer: texts and fields, no key, no feedback."""
    questions = []
    for number, q in enumerate(quiz.questions, 1):
        def html(h: Html, q=q) -> Markup:
            return rewriter.html(h, quiz.path, q.assets)

        view = {"q": q, "number": number, "text": html(q.text), "answers": [], "hints": [html(h) for h in q.hints]}
        if q.type == "matching":
            right_html = {a.match.markdown.strip(): html(a.match) for a in q.answers if a.match}
            view["rights"] = [(f"r{i}", right_html[text]) for i, text in enumerate(_rights(q))]
            lefts = [a for a in q.answers if a.text]
            view["answers"] = [{"id": f"{q.id}-m{n}", "key": f"m{n}", "text": html(a.text)}
                               for n, a in enumerate(lefts, 1)]
        elif q.type == "ordering":
            view["answers"] = [{"id": f"{q.id}-{key}", "key": key, "text": html(a.text)}
                               for key, _, a in _ordering_items(q)]
        elif q.type in ("single", "multiple", "truefalse"):
            view["answers"] = [{"id": f"{q.id}-{key}", "key": key, "text": html(a.text)} for key, a in choices(q)]
        questions.append(view)
    return {"quiz": quiz, "intro": rewriter.html(quiz.intro, quiz.path, []), "questions": questions}


def quiz_keys(course: Course, quiz: Quiz, ctx: PlayerContext) -> dict[str, dict]:
    """Question id → the question's data merged with its key, feedback rendered for ctx (the graders' input)."""
    from ..scoring import merged

    rewriter = _Rewriter(course, course.module(quiz.module) if quiz.module else None, ctx)
    return {q.id: merged(question_data(q), question_key(q, lambda h, q=q: rewriter.html(h, quiz.path, q.assets)))
            for q in quiz.questions}


def module_data(course: Course, module: Module, ctx: PlayerContext, pages: list[dict],
                rewriter: _Rewriter | None = None) -> dict:
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
                        "feedback": quiz.meta.feedback, "scoring": ctx.scoring,
                        "questions": [question_data(q) for q in quiz.questions]}
        if quiz.meta.draw:  # item pools: [count, [question index, …]] per draw entry (Quiz.pools)
            index = {q.id: i for i, q in enumerate(quiz.questions)}
            data["quiz"]["pools"] = [[count, [index[q.id] for q in members]] for count, members in quiz.pools()]
        if ctx.scoring == "local":
            rewriter = rewriter or _Rewriter(course, module, ctx)
            keys = [question_key(q, lambda h, q=q: rewriter.html(h, quiz.path, q.assets)) for q in quiz.questions]
            salt = hashlib.sha256(json.dumps([course.id, module.id, keys], sort_keys=True).encode()).hexdigest()[:16]
            data["quiz"]["salt"] = salt
            for q_data, key in zip(data["quiz"]["questions"], keys):
                q_data["seal"] = seal(salt, q_data["id"], key)
    data.update(ctx.runtime)
    return data


def _keystream(salt: str, question_id: str):
    """xorshift32 seeded with FNV-1a of salt/question id, as learner.js's unseal() computes it."""
    state = 2166136261
    for char in f"{salt}/{question_id}":
        state = ((state ^ ord(char)) * 16777619) & 0xFFFFFFFF
    state = state or 1
    while True:
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        yield state & 0xFF


def seal(salt: str, question_id: str, key: dict) -> str:
    """A question's key as the package carries it: not readable in clear text (docs/runtime.md,
    "Answer keys"). Stops casual reading of the page, not a determined learner with the runtime at hand."""
    plain = json.dumps(key, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return _sealed(salt, question_id, plain)


@lru_cache(maxsize=8192)
def _sealed(salt: str, question_id: str, plain: bytes) -> str:
    """seal()'s bytes, made once per key: a module's page is rendered for three targets after each edit,
    and the keystream is computed byte by byte."""
    return base64.b64encode(bytes(b ^ k for b, k in zip(plain, _keystream(salt, question_id)))).decode("ascii")


def unseal(salt: str, question_id: str, sealed: str) -> dict:
    """The inverse of seal() (tests; the runtime has its own)."""
    raw = base64.b64decode(sealed)
    return json.loads(bytes(b ^ k for b, k in zip(raw, _keystream(salt, question_id))).decode())


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
                   "page_of", "partly", "passed", "resume", "score", "submit_failed")


def page_inputs(course: Course, module: Module) -> tuple:
    """Everything render_module reads, for cache keys: keep it in step with render_module below.

    The page index stands for the other modules: a link to one of their pages depends on it. Given as
    one fingerprint of them all, made once per build: the HTML site, both SCORM versions and the
    Moodle backup key their units by it."""
    return ("page", course.derived_for("page-inputs", module, lambda: _page_digest(course, module)))


def _page_digest(course: Course, module: Module) -> str:
    quiz, tasks = course.quiz_for(module.id), course.tasks_for(module.id)
    parts = (course.derived("player-page-frame", _page_frame), module, quiz, tasks, course.webinars_for(module.id))
    # The last build's digest while the parts are the same objects (a long-running process keeps
    # them) and the media they show have the same content.
    media = media_state(module, quiz, *tasks, seen=course.derived("media-digests", lambda c: {}))
    last = node_memo("page-inputs", module, lambda: [None, None, ""])
    if not (same_objects(last[0], parts) and last[1] == media):
        last[:] = [parts, media, fingerprint(course, *parts)]
    return last[2]


def _page_frame(course: Course) -> str:
    """What every module's page reads of the course, as one digest per build: its id, title and
    language, the page index (links to other modules' pages) and the glossary."""
    pages = course.derived("player-pages-digest", page_index_digest)
    parts = (course.id, course.title, course.spec.language if course.spec else "de", pages, course.glossary)
    return fingerprint(course, *parts)


def render_module(course: Course, module: Module, ctx: PlayerContext) -> str:
    rewriter = _Rewriter(course, module, ctx)
    lang = course.spec.language if course.spec else "de"
    ui = strings(lang)
    pages: list[dict] = [{"id": "intro", "kind": "intro", "title": ui["overview"]}]
    terms = glossary.index(course)
    for lesson in module.lessons:
        page_id = f"lesson-{lesson.id}"
        html = Markup(terms.link(rewriter.html(lesson.body, lesson.path, lesson.assets, page_id), page_id,
                                 ui["to_module_terms"]))
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
        closing=module_closing(course, module, ui, project_work_html=rewriter.html(module.project_work, module.path, []),
                               worksheet_href=lambda sheet: ctx.asset_href(worksheet_asset(course, sheet))),
        data=json_for_script(module_data(course, module, ctx, pages, rewriter)),
        runtime_strings=json_for_script({key: ui[key] for key in RUNTIME_STRINGS}),
        minutes=course.module_minutes(module), pass_mark=pass_mark(course, module),
    )


def worksheet_asset(course: Course, sheet: Worksheet) -> Asset:
    """The built worksheet as the asset a delivery links to (its bytes come from worksheets.worksheet_files)."""
    return Asset(src=sheet.file_name, path=None, rel=sheet.rel(course.root), loc=sheet.loc)


def module_closing(course: Course, module: Module, ui: dict[str, str], level: int = 3,
                   project_work_html: Markup | str | None = None,
                   worksheet_href: Callable[[Worksheet], str] | None = None) -> Markup:
    """What ties a module into the blended course: its webinars, worksheets, what goes into the project, its sources."""
    html = Markup("")
    if module.worksheets and worksheet_href is not None:
        html += Markup('<h{0}>{1}</h{0}><ul class="worksheets">{2}</ul>').format(level, ui["worksheets"], Markup("").join(
            Markup('<li><a href="{}" download>{}</a> (DOCX){}</li>').format(
                worksheet_href(sheet), sheet.title, Markup(" – {}").format(sheet.description) if sheet.description else "")
            for sheet in module.worksheets))
    webinars = course.webinars_for(module.id)
    if webinars:
        html += Markup('<h{0}>{1}</h{0}><ul class="webinars">{2}</ul>').format(level, ui["module_webinars"], Markup("").join(
            Markup("<li>{}, {}: {}</li>").format(date_text(w.date), w.time.replace("-", "–"), w.topic) for w in webinars))
    project = project_work_html if project_work_html is not None else Markup(module.project_work.html)
    if project:
        html += Markup('<h{0}>{1}</h{0}><div class="project-work">{2}</div>').format(level, ui["project_work"], project)
    html += glossary.terms_html(glossary.module_terms(course, module), ui["module_terms"], level)
    return html + sources_html(module.spec.sources, ui["sources"], level)


def session_details(session: Session, ui: dict[str, str], level: int = 3) -> Markup:
    """An in-person session's objectives, programme and preparation, for the course overview and Moodle."""
    def heading(key: str) -> Markup:
        return Markup("<h{0}>{1}</h{0}>").format(level, ui[key])

    def items(values: list[str]) -> Markup:
        return Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(v) for v in values))

    html = Markup("")
    if session.objectives:
        html += heading("session_objectives") + items(session.objectives)
    if session.agenda:
        rows = Markup("").join(
            Markup("<tr><td>{}</td><td>{}</td><td>{}{}</td></tr>").format(
                a.day, a.time.replace("-", "–"), a.title,
                Markup("<br>{}").format(a.description) if a.description else "")
            for a in session.agenda)
        html += heading("agenda") + Markup(
            '<table class="agenda"><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th>'
            "</tr></thead><tbody>{}</tbody></table>").format(ui["day"], ui["time"], ui["topic"], rows)
    if session.prework:
        html += heading("prework") + items(session.prework)
    return html


def text_html(course: Course, html: Html, source: Path, assets: list[Asset], ctx: PlayerContext) -> Markup:
    """A text outside any module page (e.g. the project task), with its URLs rewritten for ctx."""
    return _Rewriter(course, None, ctx).html(html, source, assets)


def relative(from_dir: str, to: str) -> str:
    """A relative URL from a folder to a path, both relative to the output root (posix)."""
    return posixpath.relpath(to, from_dir or ".")
