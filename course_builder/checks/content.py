"""Texts and files: media, links, terms, placeholders."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from .. import diagnostics as d
from ..diagnostics import Diagnostic
from ..model import Asset, Course, Link
from ..scaffold import placeholder_sentences
from . import check

_SVG_UNSAFE = re.compile(rb"<\s*script\b|\son[a-z]+\s*=|javascript:|<\s*foreignObject\b", re.I)
_PLACEHOLDER = re.compile(r"\b(lorem ipsum|lorem|todo|tbd|xxx|fixme)\b", re.I)
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


def _link_targets(course: Course) -> dict[Path, set[str]]:
    """Every file a link may point at, with its heading anchors."""
    targets: dict[Path, set[str]] = {}
    for m in course.modules:
        for lesson in m.lessons:
            targets[lesson.path.resolve()] = {slug for slug, _ in lesson.headings}
    for t in course.tasks:
        targets[t.path.resolve()] = set()
    for q in course.quizzes:
        targets[q.path.resolve()] = set()
    return targets


def _check_link(link: Link, source: Path, targets: dict[Path, set[str]], out: list[Diagnostic]) -> None:
    href = link.href
    if not href or _SCHEME.match(href):
        return
    path_part, _, anchor = href.partition("#")
    target = (source.parent / unquote(path_part)).resolve() if path_part else source.resolve()
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
    targets = _link_targets(course)
    out: list[Diagnostic] = []
    for m in course.modules:
        for lesson in m.lessons:
            for link in lesson.links:
                _check_link(link, lesson.path, targets, out)
    for t in course.tasks:
        for link in t.links:
            _check_link(link, t.path, targets, out)
    for q in course.quizzes:
        for link in q.links:
            _check_link(link, q.path, targets, out)
    return out


@check
def modules_have_lessons(course: Course) -> list[Diagnostic]:
    return [
        d.diag(d.MOD_NO_LESSONS, m.loc, f"module '{m.id}' has no lessons",
               f"add a lesson file such as {m.slug}/01-einfuehrung.md")
        for m in course.modules
        if not m.lessons
    ]


def _text_lines(course: Course):
    """(file, line, column offset, text) for every line of prose in the course."""
    for loc, text in course.texts:
        for i, line in enumerate(text.split("\n")):
            yield loc.file, loc.line + i, (loc.col - 1 if i == 0 else 0), line


@check
def wording(course: Course) -> list[Diagnostic]:
    avoid = [(re.compile(rf"(?<![\w:]){re.escape(word)}(?![\w:])"), word, entry.term)
             for entry in course.glossary for word in entry.avoid]
    sentences = placeholder_sentences()
    scaffold_text = re.compile("|".join(map(re.escape, sentences))) if sentences else None
    out = []
    for file, line, offset, text in _text_lines(course):
        m = _PLACEHOLDER.search(text)
        if m:
            out.append(d.diag(d.CONTENT_PLACEHOLDER, d.SourceLoc(file, line, offset + m.start() + 1),
                              f"placeholder '{m.group(0)}' in the text", "write the real text"))
        for sentence in scaffold_text.finditer(text) if scaffold_text else ():
            out.append(d.diag(d.CONTENT_SCAFFOLD, d.SourceLoc(file, line, offset + sentence.start() + 1),
                              f"'{sentence.group(0)}' is the module template's example text",
                              "replace it with the module's own text"))
        for q in _WRONG_CLOSING_QUOTE.finditer(text):
            out.append(d.diag(d.CONTENT_QUOTES, d.SourceLoc(file, line, offset + q.start(1) + 1),
                              f"„ is closed with {q.group(1)}", "close German quotations with “ („so“)"))
        for pattern, word, term in avoid:
            for hit in pattern.finditer(text):
                out.append(d.diag(d.TERM_AVOID, d.SourceLoc(file, line, offset + hit.start() + 1),
                                  f"'{word}': the glossary says '{term}'", f"write '{term}'"))
    return out


@check
def modules_cite_sources(course: Course) -> list[Diagnostic]:
    return [d.diag(d.MOD_NO_SOURCES, m.loc, f"module '{m.id}' lists no sources",
                   "add 'sources:' to module.yaml (author, year, title, publisher or url) for every model and figure used")
            for m in course.modules if not m.spec.sources]
