"""`course import moodle-backup`: an .mbz → a course folder (course.yaml, modules, lessons, quizzes, tasks).

Sections become modules, pages and book chapters their lessons (Markdown where it maps cleanly),
labels, URLs and the section summary an overview lesson, assignments tasks, the question bank
quiz files as `course import questions` writes them. What the model has no place for (forums,
SCORM, LTI, …) is listed in IMPORT-REPORT.md and reported as a warning.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import diagnostics as d
from ..diagnostics import Diagnostic, SourceLoc
from ..markdown import slugify
from ..targets.moodle.bank import File
from . import archive, backup_questions
from .errors import ImportFailed
from .html_md import to_markdown
from .questions import UNIMPORTED, _name_target, _unimported_xml, plan
from .quiz_writer import quiz_file
from .safe_xml import parse

NULL = "$@NULL@$"
NOT_IN_MODEL = {"forum": "forums", "scorm": "SCORM packages", "lti": "external tools (LTI)", "resource": "files",
                "folder": "folders", "glossary": "glossaries", "wiki": "wikis", "feedback": "feedback surveys",
                "choice": "choices", "h5pactivity": "H5P activities", "lesson": "Moodle lessons",
                "workshop": "workshops", "data": "databases", "chat": "chats", "survey": "surveys"}


@dataclass
class BackupResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    root: Path | None = None

    @property
    def failed(self) -> bool:
        return any(x.is_error for x in self.diagnostics)


def _t(node, tag: str) -> str:
    value = node.findtext(tag) if node is not None else None
    return "" if value is None or value == NULL else value


def _yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


class _Backup:
    def __init__(self, source: Path, members: dict[str, bytes]):
        self.file = str(source)
        self.members = members
        self.out: dict[str, bytes] = {}
        self.diagnostics: list[Diagnostic] = []
        self.not_carried: list[str] = []
        self.items: dict = {}  # (component, itemid) → files: how question texts find theirs
        self.files = self._files()

    def xml(self, name: str):
        if name not in self.members:
            raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, SourceLoc(f"{self.file}:{name}", 1, 1),
                                      f"the backup has no {name}", "make the backup again with Moodle"))
        return parse(self.members[name], f"{self.file}:{name}")

    def warn(self, member: str, line: int, message: str, hint: str = "") -> None:
        self.diagnostics.append(d.diag(d.IMPORT_NOT_CARRIED, SourceLoc(f"{self.file}:{member}", line, 1), message, hint))

    def _files(self) -> dict:
        """(contextid, component, filearea) → files, from files.xml."""
        index: dict = {}
        if "files.xml" not in self.members:
            return index
        for f in self.xml("files.xml").findall("file"):
            name, sha = _t(f, "filename"), _t(f, "contenthash")
            if name in ("", ".") or not re.fullmatch(r"[0-9a-f]{40}", sha):
                continue
            blob = self.members.get(f"files/{sha[:2]}/{sha}")
            if blob is None:
                self.warn("files.xml", f.sourceline or 1, f"file '{name}' is listed but not in the backup")
                continue
            item = File(name, blob)
            index.setdefault((_t(f, "contextid"), _t(f, "component"), _t(f, "filearea")), []).append(item)
            self.items.setdefault((_t(f, "component"), _t(f, "itemid")), []).append(item)
        return index

    def markdown(self, html: str, files: list[File], media: dict[str, bytes], where: str, member: str, line: int) -> str:
        byname = {f.name: f for f in files}

        def rewrite(m: re.Match) -> str:
            name = m.group(1)
            f = byname.get(name)
            if f is None:
                self.diagnostics.append(d.diag(d.IMPORT_IMAGE, SourceLoc(f"{self.file}:{member}", line, 1),
                                               f"{where} embeds '{name}', which the backup does not contain"))
            else:
                media[name] = f.content
            return "media/" + name

        html = re.sub(r"@@PLUGINFILE@@/([^\"'?#\s]+)", rewrite, html)
        for _ in re.finditer(r"<img\b(?![^>]*\balt=\"[^\"]+)[^>]*>", html):
            self.diagnostics.append(d.diag(d.IMPORT_IMAGE, SourceLoc(f"{self.file}:{member}", line, 1),
                                           f"an image in {where} has no alt text", "describe the image in its alt text"))
        md, clean = to_markdown(html)
        if not clean:
            self.diagnostics.append(d.diag(d.IMPORT_HTML_KEPT, SourceLoc(f"{self.file}:{member}", line, 1),
                                           f"{where} stays sanitised HTML", "rewrite it in Markdown if it reads badly"))
        return md


GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
LESSON_LINK = re.compile(r"\]\((?P<target>[^)\s#]+\.md)(?P<anchor>#[^)\s]*)?\)")


def _slug(title: str) -> str:
    """A file name for a German title: umlauts spelled out, as authors name their files."""
    return slugify(title.translate(GERMAN))


def _relink(b: "_Backup") -> None:
    """Links between lessons (course_builder exports keep them as '02-slug.md') point at the files written here."""
    lessons = [rel for rel in b.out if rel.startswith("modules/") and rel.endswith(".md")]
    by_slug: dict[str, list[str]] = {}
    for rel in lessons:
        by_slug.setdefault(re.sub(r"^\d+-", "", rel.rsplit("/", 1)[1][:-3]), []).append(rel)
    for rel in lessons:
        folder = rel.rsplit("/", 1)[0]
        text = b.out[rel].decode("utf-8")

        def fix(m: re.Match) -> str:
            target = m.group("target")
            if target.startswith(("http:", "https:")) or (Path(folder) / target).as_posix() in b.out:
                return m.group(0)
            candidates = by_slug.get(re.sub(r"^\d+-", "", target.rsplit("/", 1)[-1][:-3]), [])
            same = [c for c in candidates if c.startswith(folder + "/")] or candidates
            if len(same) != 1:
                b.warn(rel, 1, f"link to '{target}' names no imported lesson; the link is removed",
                       "link the lesson it meant by hand")
                return "]"
            return "](" + os.path.relpath(same[0], folder) + (m.group("anchor") or "") + ")"

        fixed = LESSON_LINK.sub(fix, text)
        if fixed != text:
            b.out[rel] = fixed.encode()


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def build(source: Path) -> tuple[_Backup, dict]:
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, SourceLoc(str(source), 1, 1), f"cannot read the file: {exc.strerror}",
                                  "check the path")) from None
    b = _Backup(source, archive.read(raw, str(source)))
    info = b.xml("moodle_backup.xml").find("information")
    course = b.xml("course/course.xml")
    title = _t(course, "fullname") or "Importierter Kurs"
    start = int(_t(course, "startdate") or 0)
    start_date = dt.datetime.fromtimestamp(start, dt.timezone.utc).date() if start else dt.date(2000, 1, 3)
    if not start:
        b.warn("course/course.xml", 1, "the course has no start date; 2000-01-03 is written", "set cohort.start in course.yaml")
    sections = [s for s in info.findall("contents/sections/section")]
    activities = info.findall("contents/activities/activity")
    modules: list[tuple[str, int]] = []  # (slug, week)
    assessments_module: dict[str, str] = {}
    for number, s in enumerate(sections):
        member = f"{_t(s, 'directory')}/section.xml"
        sec = b.xml(member)
        acts = [a for a in activities if _t(a, "sectionid") == _t(s, "sectionid")]
        name = _t(sec, "name") or (f"Abschnitt {_t(sec, 'number')}" if _t(sec, "number") != "0" else "Allgemeines")
        summary_html = _t(sec, "summary")
        if not acts and not _plain(summary_html):
            continue
        slug = _slug(name) or f"abschnitt-{number}"
        folder = f"modules/{len(modules) + 1:02d}-{slug}"
        media: dict[str, bytes] = {}
        lessons: list[tuple[str, str]] = []  # (title, markdown)
        overview: list[str] = []
        if _plain(summary_html):
            overview.append(b.markdown(summary_html, [], media, f"the summary of section '{name}'", member, 1))
        for a in acts:
            kind, act_title, directory = _t(a, "modulename"), _t(a, "title"), _t(a, "directory")
            act_member = f"{directory}/{kind}.xml"
            if kind in ("page", "book", "label", "url", "assign", "quiz") and act_member not in b.members:
                b.warn(act_member, 1, f"{kind} '{act_title}' has no {kind}.xml in the backup; skipped")
                continue
            if kind == "page":
                node = b.xml(act_member)
                page = node.find("page")
                files = b.files.get((node.get("contextid"), "mod_page", "content"), [])
                lessons.append((_t(page, "name") or act_title,
                                b.markdown(_t(page, "content"), files, media, f"page '{act_title}'", act_member, 1)))
            elif kind == "book":
                node = b.xml(act_member)
                files = b.files.get((node.get("contextid"), "mod_book", "chapter"), [])
                for ch in node.iter("chapter"):
                    lessons.append((_t(ch, "title") or act_title,
                                    b.markdown(_t(ch, "content"), files, media, f"chapter '{_t(ch, 'title')}'",
                                               act_member, ch.sourceline or 1)))
            elif kind == "label":
                node = b.xml(act_member)
                files = b.files.get((node.get("contextid"), "mod_label", "intro"), [])
                overview.append(b.markdown(_t(node.find("label"), "intro"), files, media, f"label '{act_title}'", act_member, 1))
            elif kind == "url":
                url = _t(b.xml(act_member).find("url"), "externalurl")
                overview.append(f"- [{act_title}]({url})" if url and " " not in url else f"- {act_title}")
            elif kind == "assign":
                assign = b.xml(act_member).find("assign")
                due = int(_t(assign, "duedate") or 0)
                meta = {"kind": "assignment", "module": slug, "title": _t(assign, "name") or act_title}
                if due:
                    meta["due"] = dt.datetime.fromtimestamp(due, dt.timezone.utc).date()
                body = b.markdown(_t(assign, "intro"), [], {}, f"assignment '{act_title}'", act_member, 1)
                b.out[f"assessments/{folder.split('/')[1]}/{slugify(act_title) or 'aufgabe'}.md"] = \
                    ("---\n" + _yaml(meta) + "---\n\n" + (body or act_title) + "\n").encode()
                if _t(assign, "grade") not in ("", "0"):
                    b.warn(act_member, 1, f"assignment '{act_title}': its grade ({_t(assign, 'grade')} points) has no "
                           "criteria; add a 'criteria:' rubric")
            elif kind == "quiz":
                assessments_module[act_title] = slug
                b.warn(f"{directory}/quiz.xml", 1, f"quiz '{act_title}': its settings (attempts, timing, slots) are not "
                       "carried over; its questions come from the question bank", "set attempts: and draw: in the quiz file")
                b.not_carried.append(f"- quiz settings of '{act_title}' (section '{name}')")
            else:
                what = NOT_IN_MODEL.get(kind, f"'{kind}' activities")
                b.warn(f"{directory}/module.xml", 1, f"{kind} '{act_title}' is not imported: the course model has no {what}",
                       "build it in Moodle after the import, or leave it out")
                b.not_carried.append(f"- {kind} '{act_title}' (section '{name}'): the course model has no {what}")
        if overview:
            lessons.insert(0, ("Überblick", "\n\n".join(x for x in overview if x.strip())))
        if not lessons:
            lessons.append((name, f"{name}\n"))
        module_yaml = {"title": name}
        if _plain(summary_html):
            module_yaml["summary"] = _plain(summary_html)
        b.out[f"{folder}/module.yaml"] = _yaml(module_yaml).encode()
        for n, (lesson_title, body) in enumerate(lessons, 1):
            lesson_slug = _slug(lesson_title)[:60].strip("-") or f"lektion-{n}"
            b.out[f"{folder}/{n:02d}-{lesson_slug}.md"] = ("---\n" + _yaml({"title": lesson_title}) + "---\n\n"
                                                          + body.strip() + "\n").encode()
        for media_name, content in media.items():
            b.out[f"{folder}/media/{media_name}"] = content
        modules.append((slug, len(modules) + 1))
    _relink(b)
    weeks = max(len(modules), 1)
    course_yaml = {
        "id": slugify(_t(course, "shortname")) or slugify(title) or "kurs",
        "title": title, "short_name": _t(course, "shortname"), "language": "de",
        "summary": _plain(_t(course, "summary")),
        "cohort": {"run": 1, "start": start_date, "weeks": weeks},
        "schedule": {"self_study": [{"week": week, "modules": [slug]} for slug, week in modules]},
    }
    b.out["course.yaml"] = _yaml(course_yaml).encode()
    if "questions.xml" in b.members:
        qbank = backup_questions.read(b.members["questions.xml"], f"{b.file}:questions.xml", b.items)
        quizzes, diagnostics = plan(qbank, None)
        b.diagnostics += qbank.diagnostics + diagnostics
        module_of = _quiz_modules(quizzes, assessments_module, [s for s, _ in modules])
        for quiz in quizzes:
            quiz.module = module_of.get(quiz.folder)
            folder = f"assessments/{quiz.folder}"
            b.out[f"{folder}/quiz.md"] = quiz_file(quiz.title, quiz.module, "", quiz.questions).encode()
            for rel, content in quiz.media.files.items():
                b.out[f"{folder}/{quiz.media.folder}/{rel}"] = content
        if qbank.unimported:
            b.out[f"assessments/{UNIMPORTED}"] = _unimported_xml(qbank).encode()
            b.diagnostics = [_name_target(x, Path("assessments") / UNIMPORTED) for x in b.diagnostics]
    return b, course_yaml


def _quiz_modules(quizzes, quiz_activities: dict[str, str], slugs: list[str]) -> dict[str, str]:
    """The module of each imported quiz: the section of the only quiz activity, if there is exactly one."""
    sections = set(quiz_activities.values())
    if len(sections) == 1 and len(quizzes) == 1:
        return {quizzes[0].folder: sections.pop()}
    return {}


def import_backup(source: Path, into: Path, force: bool = False) -> BackupResult:
    result = BackupResult()
    try:
        b, _ = build(source)
    except ImportFailed as exc:
        result.diagnostics.append(exc.diagnostic)
        return result
    result.diagnostics += b.diagnostics
    report = "# Import report\n\nImported from `" + source.name + "`. Not carried over:\n\n"
    report += "\n".join(b.not_carried or ["- nothing"]) + "\n"
    b.out["IMPORT-REPORT.md"] = report.encode()
    if result.failed:
        return result
    if into.exists() and any(into.iterdir()) and not force:
        result.diagnostics.append(d.diag(d.IMPORT_EXISTS, SourceLoc(str(into), 1, 1), f"{into} exists and is not empty; nothing was written",
                                         "pass --force to replace it, or name a new folder"))
        return result
    # The whole folder appears at once: written beside the target, then renamed into place.
    into.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{into.name}.", dir=into.parent))
    try:
        for rel, content in sorted(b.out.items()):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            os.chmod(path, 0o644)
        os.chmod(staging, 0o755)
        if into.exists():
            old = into.with_name(f".{into.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(into, old)
            os.replace(staging, into)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, into)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.root = into
    result.written = [into / rel for rel in sorted(b.out)]
    return result
