"""Load a course folder into the typed model, collecting every problem as a diagnostic."""

from __future__ import annotations

import copy
import difflib
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from pydantic import BaseModel, ValidationError

from . import diagnostics as d
from .cache import NO_CACHE, Cache, Pack
from .diagnostics import Diagnostic, SourceLoc
from .model import (
    Asset, Course, CourseSpec, GlossaryEntry, Html, Lesson, LessonMeta, Link, Module, ModuleSpec, Quiz,
    QuizMeta, Task, TaskMeta, Worksheet, WorksheetMeta,
)
from .sources import SourceFile, Sources
from .warm import WarmState

TASK_KINDS = typing.get_args(TaskMeta.model_fields["kind"].annotation)

if typing.TYPE_CHECKING:
    from .markdown import Ref

# The parsers (frontmatter, yamlloc, quizparse, markdown) are imported where a file is parsed: a
# load whose files all come from the cache needs none of them, and importing them (markdown-it,
# PyYAML, nh3, a few hundred regular expressions) costs more than such a whole load.
NUMBER_PREFIX = re.compile(r"^(\d+)[-_]")


class NotACourse(Exception):
    """The folder is no course at all: a usage problem, not a content problem."""


@dataclass
class LoadResult:
    course: Course
    diagnostics: list[Diagnostic] = field(default_factory=list)


def strip_prefix(name: str) -> str:
    return NUMBER_PREFIX.sub("", name)


def _model_at(cls, path: tuple):
    """The pydantic model class that owns the last key of a validation-error path."""
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return cls
        ann = cls.model_fields[part].annotation
        cls = _unwrap(ann)
    return cls


def _unwrap(ann):
    for _ in range(4):
        args = typing.get_args(ann)
        if not args:
            break
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if models:
            return models[0]
        inner = [a for a in args if a is not type(None)]
        ann = inner[0] if inner else ann
    return ann


def validate(cls, data, fallback: SourceLoc, out: list[Diagnostic]):
    """Validate YAML data into a model; every error becomes a located diagnostic.

    After reporting, the offending entries are dropped and validation is tried again, so that one
    bad value does not take a whole module (and every reference to it) out of the later checks.
    """
    if not isinstance(data, dict):
        out.append(d.diag(d.YAML_NOT_MAPPING, fallback, f"expected 'key: value' lines for {cls.__name__.lower()}",
                          "see docs/authoring.md for the fields"))
        return None
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    reported: set[tuple] = set()
    paths = []
    for err in errors:
        path = _data_path(data, err["loc"])
        if path in reported:
            continue
        reported.add(path)
        paths.append((path, err["type"]))
        out.append(_schema_diagnostic(cls, data, path, err, fallback))
    return _salvage(cls, data, paths)


def _data_path(data, loc: tuple) -> tuple:
    """A pydantic error location as keys and indexes into the YAML data. Pydantic puts union and
    validator tags (`list[str]`, `function-after[…]`) in between; a key of the data is never one of
    them, even when an author's key contains brackets."""
    path, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and ("[" in part or part.startswith(("function-", "literal"))):
            continue
        else:
            node = None  # a missing field: it is named, there is nothing below it
        path.append(part)
    return tuple(path)


def _schema_diagnostic(cls, data, path: tuple, err: dict, fallback: SourceLoc) -> Diagnostic:
    from . import yamlloc

    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1])
        owner = _model_at(cls, path[:-1])
        fields = [f for f in getattr(owner, "model_fields", {}) if f not in ("loc", "field_locs", "key_locs")]
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(fields)
        return d.diag(d.SCHEMA_UNKNOWN_KEY, yamlloc.key_loc(data, path, fallback), f"unknown key '{key}'", hint)
    if kind == "missing":
        where = ".".join(str(p) for p in path)
        return d.diag(d.SCHEMA_MISSING, yamlloc.loc_at(data, path[:-1], fallback),
                      f"required field '{where}' is missing", f"add '{path[-1]}: …' here")
    where = ".".join(str(p) for p in path) or cls.__name__
    msg = err["msg"].replace("Value error, ", "")
    return d.diag(d.SCHEMA_TYPE, yamlloc.loc_at(data, path, fallback), f"{where}: {msg}", _type_hint(err))


def _salvage(cls, data: dict, paths: list[tuple[tuple, str]], rounds: int = 5):
    """Drop what failed (a missing field takes its whole entry with it) and validate again, quietly."""
    data = copy.deepcopy(data)
    for _ in range(rounds):
        changed = False
        for path, kind in paths:
            target = path[:-1] if kind == "missing" else path
            if kind == "missing" and not target:
                return None  # the document itself lacks a required field
            changed |= _drop(data, target)
        if not changed:
            return None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            paths = [(_data_path(data, e["loc"]), e["type"]) for e in exc.errors()]
    return None


def _drop(data, path: tuple) -> bool:
    parent = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    last = path[-1] if path else None
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    if isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        del parent[last]
        return True
    return False


def _type_hint(err: dict) -> str:
    kind = err["type"]
    if kind.startswith("date"):
        return "write dates as YYYY-MM-DD, e.g. 2027-02-15"
    if kind.startswith(("int", "float")):
        return "write a number (with a decimal point, not a comma)"
    if kind.startswith("bool"):
        return "write true or false"
    if kind in ("list_type",):
        return "write a list: one '- item' per line, or [a, b]"
    if kind.startswith("string"):
        return "write text; put it in quotes if it looks like a number or date"
    return "see docs/authoring.md"


@dataclass
class _Parsed:
    """What parsing one source file gave: a value and what it reported. Depends on nothing but the
    file's text, its path and the extra key parts, except for the images it refers to, which are
    recorded with what they resolved to and resolved again before the entry is used."""

    value: object
    diagnostics: list[Diagnostic]
    texts: list[tuple[SourceLoc, str]]
    resolved: list[tuple[str, SourceLoc, str, Path, Asset]]  # an image's target, loc, alt; base folder; asset


class Loader:
    def __init__(self, root: Path, cache: Cache = NO_CACHE, warm: WarmState | None = None):
        self.sources = Sources(root)
        self.root = self.sources.root
        self.diagnostics = self.sources.diagnostics
        self.texts: list[tuple[SourceLoc, str]] = []
        self.warm = warm
        # Parsed source files by content: a warm load parses only the files that changed.
        pack_name = f"sources:{self.root}"
        self.parsed = warm.pack(pack_name) if warm is not None else Pack(cache, pack_name)
        self._resolved: list[tuple[str, SourceLoc, str, Path, Asset]] | None = None
        self.memo_keys: list[str] = []  # content keys of the files parsed or found so far

    def read(self, path: Path) -> SourceFile | None:
        return self.sources.read(path) if self.warm is None else self.warm.read(self.sources, path)

    def report(self, diagnostics) -> None:
        self.diagnostics.extend(diagnostics)

    def memo(self, kind: str, source: SourceFile, parse, *key_parts: str):
        """parse() for this file, or what it gave last time for the same text (and key_parts).

        Reports parse()'s diagnostics and returns (value, texts): the caller adds the texts where
        the course's text order wants them. parse() may only depend on the source file and
        key_parts and report through self.diagnostics, self.texts and self.resolve."""
        key, parsed = self._known(kind, source, key_parts)
        if key:
            self.memo_keys.append(key)
        if parsed is not None and all(self._resolve(*ref, base)[0] == asset for *ref, base, asset in parsed.resolved):
            if self.warm is not None:
                self.warm.parsed.put(key, parsed)
            self.report(parsed.diagnostics)
            return parsed.value, parsed.texts
        outer = self.diagnostics, self.texts, self._resolved
        self.diagnostics, self.texts, self._resolved = [], [], []
        try:
            value = parse()
            parsed = _Parsed(value, self.diagnostics, self.texts, self._resolved)
        finally:
            self.diagnostics, self.texts, self._resolved = outer
        if key:
            self.parsed.put(key, parsed)
            if self.warm is not None:
                self.warm.parsed.put(key, parsed)
        self.report(parsed.diagnostics)
        return parsed.value, parsed.texts

    def _known(self, kind: str, source: SourceFile, key_parts: tuple[str, ...]) -> tuple[str, _Parsed | None]:
        """(content key, what parsing gave last time or None); the key is "" without cache and warm state."""
        if self.warm is not None:
            key = self.warm.key(kind, str(self.root), source, key_parts)
            parsed = self.warm.parsed.get(key)
            if parsed is not None:
                self.parsed.keep(key)
                return key, parsed
        elif self.parsed.enabled:
            key = self.parsed.cache.key(kind, str(self.root), source.rel, source.text, *key_parts)
        else:
            return "", None
        return key, self.parsed.get(key)

    # -- helpers

    def yaml(self, source: SourceFile):
        from . import yamlloc

        result = yamlloc.load(source.text, source.rel)
        self.report(result.diagnostics)
        return result.value if result.ok else None

    def md(self, text: str, loc: SourceLoc, lines: list[str] | None = None, inline: bool = False):
        from .markdown import render

        r = render(text, loc, lines, inline=inline)
        self.report(r.diagnostics)
        if text.strip():
            self.texts.append((loc, text))
        return r

    def resolve(self, ref: Ref, base: Path) -> Asset:
        asset, problem = self._resolve(ref.target, ref.loc, ref.alt, base)
        if problem is not None:
            self.diagnostics.append(problem)
        if self._resolved is not None:  # recorded as plain values: reading them back needs no parser
            self._resolved.append((ref.target, ref.loc, ref.alt, base, asset))
        return asset

    def _resolve(self, src: str, loc: SourceLoc, alt: str, base: Path) -> tuple[Asset, Diagnostic | None]:
        if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith("//"):
            return Asset(src=src, path=None, rel="", loc=loc, alt=alt), None
        target = src.split("#")[0].split("?")[0]
        path = (base / unquote(target)) if target else base
        inside = self.sources.inside(path)
        if inside is None:
            return Asset(src=src, path=None, rel="", loc=loc, alt=alt), d.diag(
                d.MEDIA_OUTSIDE, loc, f"'{src}' points outside the course folder",
                "keep media inside the course, e.g. in the module's media/ folder")
        return Asset(src=src, path=inside, rel=self.sources.rel(inside), loc=loc, alt=alt), None

    def replayed(self, what: str, folder: Path, key, load, assets):
        """load(), or in a watching process what it gave last time (with its diagnostics and texts) while
        the watcher reported nothing in folder since and key is equal (warm.py). A load that met a
        symbolic link, or whose images (assets(value)) resolve outside folder, is not kept: the watcher
        would not see a link's target change, nor anything outside the folder."""
        if self.warm is None or not self.warm.watched:
            return load()

        def recorded():
            marks = len(self.diagnostics), len(self.texts), len(self.memo_keys), self.sources.links_seen
            value = load()
            record = value, self.diagnostics[marks[0]:], self.texts[marks[1]:], self.memo_keys[marks[2]:]
            del self.diagnostics[marks[0]:], self.texts[marks[1]:]
            inside = os.path.join(os.fspath(folder), "")
            keep = self.sources.links_seen == marks[3] and all(
                a.path is None or os.fspath(a.path).startswith(inside) for a in assets(value))
            return record, keep

        value, diagnostics, texts, keys = self.warm.replay(what, folder, key, recorded)
        self.diagnostics.extend(diagnostics)
        self.texts.extend(texts)
        for key in keys:  # what the files parsed into stays in the cache as if they had been read
            self.parsed.keep(key)
        return value

    def links(self, refs: list[Ref]) -> list[Link]:
        return [Link(href=r.target, loc=r.loc) for r in refs]

    # -- course

    def load(self) -> LoadResult:
        if not self.root.is_dir():
            raise NotACourse(f"{self.root} is not a folder")
        course_file = self.root / "course.yaml"
        if not course_file.exists() and not course_file.is_symlink():
            raise NotACourse(f"no course.yaml in {self.root}; run the command in a course folder or pass --course DIR")
        source = self.read(course_file)
        spec, summary = None, Html()
        if source is not None:
            (spec, summary), texts = self.memo("course", source, lambda: self._course_spec(source))
            self.texts.extend(texts)
        # Its parts are validated models already; validating them again would build the validators
        # of every model, which a load from the cache otherwise never needs.
        course = Course.model_construct(spec=spec, root=self.root, summary=summary)
        course.modules = self.load_modules()
        course.quizzes, course.tasks = self.load_assessments(course)
        course.glossary = self.load_glossary(spec.glossary if spec else "glossary.yaml")
        course.texts = self.texts
        return LoadResult(course, self.diagnostics)

    def _course_spec(self, source: SourceFile) -> tuple[CourseSpec | None, Html]:
        data = self.yaml(source)
        spec = None
        if data is not None:
            spec = validate(CourseSpec, data, source.loc(), self.diagnostics)
        elif not self.diagnostics:
            self.diagnostics.append(d.diag(d.YAML_NOT_MAPPING, source.loc(), "course.yaml is empty", "see docs/authoring.md"))
        summary = self._html(spec.summary, spec.field_loc("summary")) if spec is not None and spec.summary else Html()
        return spec, summary

    def _html(self, text: str, loc: SourceLoc) -> Html:
        r = self.md(text, loc)
        return Html(markdown=text, html=r.html)

    # -- modules

    def load_modules(self) -> list[Module]:
        folder = self.root / "modules"
        modules = []
        if not folder.is_dir():
            return modules
        for index, entry in enumerate(sorted(os.scandir(folder), key=lambda e: e.name), 1):
            path = Path(entry.path)
            if entry.name.startswith(".") or entry.is_symlink() and not self.sources.check_link(path):
                continue
            if not entry.is_dir():
                continue
            module = (self.load_module(path, index) if entry.is_symlink() else
                      self.replayed("module", path, index, lambda: self.load_module(path, index),
                                    lambda m: [a for lesson in m.lessons for a in lesson.assets] if m else []))
            if module is not None:
                modules.append(module)
        modules.sort(key=lambda m: (m.order, m.slug))
        return modules

    def load_module(self, folder: Path, index: int) -> Module | None:
        yaml_path = folder / "module.yaml"
        rel = self.sources.rel(folder)
        if not yaml_path.exists():
            self.diagnostics.append(d.diag(d.IO_MISSING, SourceLoc(rel + "/module.yaml"), f"module folder '{rel}' has no module.yaml",
                                           "run 'course new module <slug>' or add module.yaml"))
            return None
        source = self.read(yaml_path)
        if source is None:
            return None
        (spec, summary, project_work), spec_texts = self.memo("module", source, lambda: self._module_spec(source))
        if spec is None:
            return None
        prefix = NUMBER_PREFIX.match(folder.name)
        order = spec.order if spec.order is not None else (int(prefix.group(1)) if prefix else index)
        module_id = spec.id or strip_prefix(folder.name)
        lessons = [lesson for p in self.lesson_files(folder) if (lesson := self.load_lesson(p)) is not None]
        self.texts.extend(spec_texts)
        worksheets = [sheet for p in self.sources.walk(folder / "worksheets", ".md")
                      if (sheet := self.load_worksheet(p)) is not None]

        def make() -> Module:
            return Module.model_construct(id=module_id, slug=folder.name, order=order, spec=spec, lessons=lessons,
                                          path=folder, loc=source.loc(), summary=summary, project_work=project_work,
                                          worksheets=worksheets)

        if self.warm is None:
            return make()
        # The same module object as last time if its parts are the same: what is derived from it carries over.
        return self.warm.module(folder, (module_id, folder.name, order, spec, lessons, source.rel, summary,
                                         project_work, worksheets), make)

    def _module_spec(self, source: SourceFile) -> tuple[ModuleSpec | None, Html, Html]:
        data = self.yaml(source)
        spec = validate(ModuleSpec, data, source.loc(), self.diagnostics) if data is not None else None
        if spec is None:
            return None, Html(), Html()
        summary = self._html(spec.summary, spec.field_loc("summary")) if spec.summary else Html()
        project_work = self._html(spec.project_work, spec.field_loc("project_work")) if spec.project_work else Html()
        for obj in spec.objectives:
            self.texts.append((obj.field_loc("text"), obj.text))
        return spec, summary, project_work

    def lesson_files(self, folder: Path) -> list[Path]:
        files = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            name = entry.name
            if name.endswith(".md") and not name.startswith("."):
                path = Path(entry.path)
                if not entry.is_symlink() or self.sources.check_link(path):
                    files.append(path)
        return files

    def load_lesson(self, path: Path) -> Lesson | None:
        source = self.read(path)
        if source is None:
            return None
        lesson, texts = self.memo("lesson", source, lambda: self._lesson(path, source))
        self.texts.extend(texts)
        return lesson

    def _markdown_with_meta(self, source: SourceFile, meta_cls):
        """(front matter, validated meta, rendered body) of a Markdown file with front matter, or None."""
        from . import frontmatter

        fm = frontmatter.split(source)
        self.report(fm.diagnostics)
        if fm.data is None:
            return None
        meta = validate(meta_cls, fm.data, source.loc(), self.diagnostics)
        if meta is None:
            return None
        return fm, meta, self.md(fm.body, source.loc(fm.body_line), source.text.split("\n"))

    def _lesson(self, path: Path, source: SourceFile) -> Lesson | None:
        if (read := self._markdown_with_meta(source, LessonMeta)) is None:
            return None
        fm, meta, r = read
        return Lesson(
            id=strip_prefix(path.stem), title=meta.title, minutes=meta.minutes,
            body=Html(markdown=fm.body, html=r.html), headings=r.headings, words=r.words,
            assets=[self.resolve(i, path.parent) for i in r.images], links=self.links(r.links),
            path=path, loc=source.loc(),
        )

    def load_worksheet(self, path: Path) -> Worksheet | None:
        source = self.read(path)
        if source is None:
            return None
        sheet, texts = self.memo("worksheet", source, lambda: self._worksheet(path, source))
        self.texts.extend(texts)
        return sheet

    def _worksheet(self, path: Path, source: SourceFile) -> Worksheet | None:
        if (read := self._markdown_with_meta(source, WorksheetMeta)) is None:
            return None
        fm, meta, r = read
        for image in r.images:
            self.diagnostics.append(d.diag(d.WORKSHEET_IMAGE, image.loc, "worksheets hold text, tables and checklists, no images",
                                           "describe the figure in words, or put the image into the lesson"))
        return Worksheet(id=strip_prefix(path.stem), title=meta.title, description=meta.description,
                         body=Html(markdown=fm.body, html=r.html), path=path, loc=source.loc())

    # -- assessments

    def assessment_id(self, path: Path) -> str:
        rel = path.relative_to(self.root / "assessments").with_suffix("")
        return "-".join(strip_prefix(part) for part in rel.parts)

    def default_module(self, path: Path, modules_by_slug: dict[str, str]) -> str | None:
        parent = path.parent.name
        return modules_by_slug.get(parent)

    def load_assessments(self, course: Course) -> tuple[list[Quiz], list[Task]]:
        by_slug = {m.slug: m.id for m in course.modules}
        return self.replayed("assessments", self.root / "assessments", by_slug, lambda: self._load_assessments(by_slug),
                             lambda found: [a for quiz in found[0] for q in quiz.questions for a in q.assets]
                             + [a for task in found[1] for a in task.assets])

    def _load_assessments(self, by_slug: dict[str, str]) -> tuple[list[Quiz], list[Task]]:
        quizzes: list[Quiz] = []
        tasks: list[Task] = []
        for path in self.sources.walk(self.root / "assessments", ".md"):
            source = self.read(path)
            if source is None:
                continue
            # The module a quiz or task belongs to by default comes from another file: part of the key.
            default_module = self.default_module(path, by_slug)
            item, texts = self.memo("assessment", source, lambda: self._assessment(path, source, default_module),
                                    default_module or "")
            self.texts.extend(texts)
            if isinstance(item, Quiz):
                quizzes.append(item)
            elif isinstance(item, Task):
                tasks.append(item)
        return quizzes, tasks

    def _assessment(self, path: Path, source: SourceFile, default_module: str | None) -> Quiz | Task | None:
        from . import frontmatter, yamlloc

        fm = frontmatter.split(source)
        self.report(fm.diagnostics)
        if fm.data is None:
            return None
        kind = fm.data.get("kind")
        if kind == "quiz":
            return self.load_quiz(path, source, fm, default_module)
        if kind in TASK_KINDS:
            return self.load_task(path, source, fm, default_module)
        loc = fm.data.get(yamlloc.LOCS, {}).get("kind", source.loc(2, 1))
        if kind is None:
            self.diagnostics.append(d.diag(d.SCHEMA_MISSING, source.loc(1, 1), "front matter has no 'kind'",
                                           "add 'kind: quiz', 'kind: project', 'kind: assignment' or 'kind: reflection'"))
        else:
            close = difflib.get_close_matches(str(kind), ["quiz", *TASK_KINDS], n=1)
            self.diagnostics.append(d.diag(d.SCHEMA_TYPE, loc, f"unknown kind '{kind}'",
                                           f"did you mean '{close[0]}'?" if close else "kind is quiz, " + ", ".join(TASK_KINDS)))
        return None

    def load_quiz(self, path: Path, source: SourceFile, fm, default_module: str | None) -> Quiz | None:
        meta = validate(QuizMeta, fm.data, source.loc(), self.diagnostics)
        if meta is None:
            return None
        from . import quizparse

        quiz_id = meta.id or self.assessment_id(path)
        parsed = quizparse.parse(fm.body, fm.body_line, source.rel, source.text.split("\n"), quiz_id,
                                 lambda ref: self.resolve(ref, path.parent))
        self.report(parsed.diagnostics)
        self.texts.extend(parsed.texts)
        return Quiz(id=quiz_id, meta=meta, module=meta.module or default_module,
                    intro=parsed.intro, questions=parsed.questions, path=path, loc=source.loc(),
                    links=self.links(parsed.links))

    def load_task(self, path: Path, source: SourceFile, fm, default_module: str | None) -> Task | None:
        meta = validate(TaskMeta, fm.data, source.loc(), self.diagnostics)
        if meta is None:
            return None
        r = self.md(fm.body, source.loc(fm.body_line), source.text.split("\n"))
        for text_field in ("deliverables", "questions"):
            loc = meta.field_loc(text_field)
            self.texts.extend((loc, t) for t in getattr(meta, text_field))
        return Task(id=meta.id or self.assessment_id(path), meta=meta,
                    module=meta.module or default_module,
                    body=Html(markdown=fm.body, html=r.html), assets=[self.resolve(i, path.parent) for i in r.images],
                    links=self.links(r.links), path=path, loc=source.loc())

    # -- glossary

    def load_glossary(self, name: str) -> list[GlossaryEntry]:
        path = self.root / name
        if not path.exists():
            return []
        source = self.read(path)
        if source is None:
            return []
        entries, texts = self.memo("glossary", source, lambda: self._glossary(source))
        self.texts.extend(texts)
        return entries

    def _glossary(self, source: SourceFile) -> list[GlossaryEntry]:
        data = self.yaml(source)
        if data is None:
            return []
        if not isinstance(data, list):
            self.diagnostics.append(d.diag(d.YAML_NOT_MAPPING, source.loc(), "glossary must be a list of terms",
                                           "write '- term: …' entries, see docs/authoring.md"))
            return []
        from . import yamlloc

        entries = []
        for item in data:
            loc = item.get(yamlloc.LOC, source.loc()) if isinstance(item, dict) else source.loc()
            entry = validate(GlossaryEntry, item, loc, self.diagnostics)
            if entry is not None:
                entries.append(entry)
                self.texts.append((entry.field_loc("definition"), entry.definition))
        return entries


def load(root: Path, cache: Cache = NO_CACHE, warm: WarmState | None = None) -> LoadResult:
    """Load a course; with a cache, files whose text did not change are not parsed again.

    warm: what a long-running process keeps between loads (warm.py); its cache is the one used, and it
    writes it at its close()."""
    if warm is not None:
        cache = warm.cache
    loader = Loader(root, cache, warm)
    if warm is not None:
        warm.next_run(loader.root)
    result = loader.load()
    if warm is None:
        loader.parsed.save()
    else:  # what a path is, and a media file's digest, hold while the watcher reports nothing of it (warm.py)
        result.course.derived("is-file", lambda course: warm.file_kinds)
        result.course.derived("media-digests", lambda course: warm.cache.live.digests)
    return result
