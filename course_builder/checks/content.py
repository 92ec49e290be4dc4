"""Texts and files: media, links, terms, placeholders."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

from .. import diagnostics as d
from ..diagnostics import Diagnostic
from ..model import Asset, Course, Link
from . import check

_SVG_UNSAFE = re.compile(rb"<\s*script\b|\son[a-z]+\s*=|javascript:|<\s*foreignObject\b", re.I)
_PLACEHOLDER_WORDS = ("lorem ipsum", "lorem", "todo", "tbd", "xxx", "fixme")
_PLACEHOLDER = re.compile(r"\b(" + "|".join(_PLACEHOLDER_WORDS) + r")\b", re.I)
# Letters that re.I matches to an ASCII letter although str.lower() does not map them onto it.
_FOLDS_TO_ASCII = "\u0131\u017f\u0130\u212a"  # ı ſ İ and the Kelvin sign
# „ opens, “ closes in German; a straight or English closing quote after „ is a typo.
_WRONG_CLOSING_QUOTE = re.compile(r'„[^“”"\n]*(["”])')
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:|^//", re.I)


def _all_assets(course: Course) -> list[Asset]:
    assets = [a for m in course.modules for lesson in m.lessons for a in lesson.assets]
    assets += [a for t in course.tasks for a in t.assets]
    assets += [a for quiz in course.quizzes for q in quiz.questions for a in q.assets]
    return assets


@check
def media_present_and_described(course: Course) -> list[Diagnostic]:
    out = []
    checked_svgs: set[Path] = set()
    for asset in _all_assets(course):
        if not asset.alt.strip():
            out.append(d.diag(d.MEDIA_NO_ALT, asset.loc, f"image '{asset.src}' has no alt text",
                              "describe the picture in the brackets: ![what it shows](" + asset.src + ")"))
        if asset.path is None:
            continue
        if not asset.path.is_file():
            out.append(d.diag(d.MEDIA_MISSING, asset.loc, f"image '{asset.src}' does not exist ({asset.rel})",
                              "check the file name and folder; paths are relative to the text's file"))
            continue
        if asset.path.suffix.lower() == ".svg" and asset.path not in checked_svgs:
            checked_svgs.add(asset.path)
            try:
                data = asset.path.read_bytes()
            except OSError:
                data = b""
            if _SVG_UNSAFE.search(data):
                out.append(d.diag(d.MEDIA_UNSAFE_SVG, asset.loc, f"'{asset.src}' contains scripts or event handlers",
                                  "remove <script>, on…= attributes and javascript: links from the SVG"))
    return out


class _RealPaths:
    """Path.resolve() with the folders' answers remembered: resolving walks every component with
    lstat, and thousands of texts share a few hundred folders."""

    def __init__(self):
        self.folders: dict[str, str] = {}

    def __call__(self, path: Path) -> Path:
        folder, name = os.path.split(os.path.normpath(path))
        real = self.folders.get(folder)
        if real is None:
            real = self.folders[folder] = os.path.realpath(folder)
        joined = os.path.join(real, name)
        return Path(os.path.realpath(joined) if name in ("", "..") or os.path.islink(joined) else joined)


def _link_targets(course: Course, real: _RealPaths) -> dict[Path, set[str]]:
    """Every file a link may point at, with its heading anchors."""
    targets: dict[Path, set[str]] = {}
    for m in course.modules:
        for lesson in m.lessons:
            targets[real(lesson.path)] = {slug for slug, _ in lesson.headings}
    for t in course.tasks:
        targets[real(t.path)] = set()
    for q in course.quizzes:
        targets[real(q.path)] = set()
    return targets


def _check_link(link: Link, source: Path, targets: dict[Path, set[str]], out: list[Diagnostic], real: _RealPaths) -> None:
    href = link.href
    if not href or _SCHEME.match(href):
        return
    path_part, _, anchor = href.partition("#")
    target = real(source.parent / unquote(path_part)) if path_part else real(source)
    if target not in targets:
        if path_part and (source.parent / unquote(path_part)).is_file():
            return  # a downloadable file beside the text
        names = sorted(p.name for p in targets if p.parent == source.parent.resolve())
        out.append(d.diag(d.LINK_BROKEN, link.loc, f"link target '{path_part}' does not exist",
                          "link to a lesson's .md file, relative to this file" + (f"; here: {', '.join(names[:6])}" if names else "")))
        return
    if anchor and targets[target] and anchor not in targets[target]:
        out.append(d.diag(d.LINK_ANCHOR, link.loc, f"'#{anchor}' is no heading in {target.name}",
                          "anchors: " + ", ".join(sorted(targets[target])[:8])))


@check
def internal_links_resolve(course: Course) -> list[Diagnostic]:
    real = _RealPaths()
    targets = _link_targets(course, real)
    out: list[Diagnostic] = []
    for m in course.modules:
        for lesson in m.lessons:
            for link in lesson.links:
                _check_link(link, lesson.path, targets, out, real)
    for t in course.tasks:
        for link in t.links:
            _check_link(link, t.path, targets, out, real)
    for q in course.quizzes:
        for link in q.links:
            _check_link(link, q.path, targets, out, real)
    return out


@check
def modules_have_lessons(course: Course) -> list[Diagnostic]:
    return [
        d.diag(d.MOD_NO_LESSONS, m.loc, f"module '{m.id}' has no lessons",
               f"add a lesson file such as {m.slug}/01-einfuehrung.md")
        for m in course.modules
        if not m.lessons
    ]


def _text_lines(course: Course, suspect):
    """(file, line, column offset, text) for every line of the course's prose texts that suspect(text) lets through."""
    for loc, text in course.texts:
        if not suspect(text):
            continue
        for i, line in enumerate(text.split("\n")):
            yield loc.file, loc.line + i, (loc.col - 1 if i == 0 else 0), line


@check
def wording(course: Course) -> list[Diagnostic]:
    avoid = [(re.compile(rf"(?<![\w:]){re.escape(word)}(?![\w:])"), word, entry.term)
             for entry in course.glossary for word in entry.avoid]
    # Most texts have nothing to report; substring tests (far faster than the regexes) find those,
    # and only the rest is scanned line by line, which reports the first placeholder of each line.
    lowered_needles = _PLACEHOLDER_WORDS + ("„",)
    exact_needles = tuple(word for entry in course.glossary for word in entry.avoid)

    def suspect(text: str) -> bool:
        low = text.lower()
        return (any(n in low for n in lowered_needles) or any(n in text for n in exact_needles)
                or any(c in text for c in _FOLDS_TO_ASCII))

    out = []
    for file, line, offset, text in _text_lines(course, suspect):
        m = _PLACEHOLDER.search(text)
        if m:
            out.append(d.diag(d.CONTENT_PLACEHOLDER, d.SourceLoc(file, line, offset + m.start() + 1),
                              f"placeholder '{m.group(0)}' in the text", "write the real text"))
        for q in _WRONG_CLOSING_QUOTE.finditer(text):
            out.append(d.diag(d.CONTENT_QUOTES, d.SourceLoc(file, line, offset + q.start(1) + 1),
                              f"„ is closed with {q.group(1)}", "close German quotations with “ („so“)"))
        for pattern, word, term in avoid:
            for hit in pattern.finditer(text):
                out.append(d.diag(d.TERM_AVOID, d.SourceLoc(file, line, offset + hit.start() + 1),
                                  f"'{word}': the glossary says '{term}'", f"write '{term}'"))
    return out
