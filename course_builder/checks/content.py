"""Texts and files: media, links, terms, placeholders."""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from urllib.parse import unquote

from .. import diagnostics as d
from ..diagnostics import Diagnostic
from ..model import Asset, Course, Link
from ..scaffold import placeholder_sentences
from ..nodememo import node_memo
from . import check, per_node

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
        if not course.is_file(asset.path):
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


class _LinkTargets:
    """Every file a link may point at, with its heading anchors, found as the original check found
    them: by resolved path. Resolving walks every path component with lstat, so a link that names a
    file exactly as the loader found it (no '..', which a folder link would change) is looked up
    directly, and only the others are resolved (all of them on the first, then from a table)."""

    _last: "_LinkTargets | None" = None

    def __init__(self, as_loaded: dict[str, frozenset[str]]):
        self.as_loaded = as_loaded
        self.parts: list[tuple] = []
        self._resolved: dict[Path, frozenset[str]] | None = None

    @classmethod
    def of(cls, course: Course) -> "_LinkTargets":
        """The targets of the course; the last check's object while they are the same, so that what a
        text's links gave is remembered with it (the resolved table is made anew: links may have changed)."""
        # Each module's texts with their anchors, kept on the module: after an edit only its part is new.
        parts = [node_memo("link-targets", m, lambda m=m: tuple(
            (str(lesson.path), frozenset(slug for slug, _ in lesson.headings)) for lesson in m.lessons))
            for m in course.modules]
        parts += [((str(item.path), frozenset()),) for item in [*course.tasks, *course.quizzes]]
        last = cls._last
        if last is not None and len(parts) == len(last.parts) and all(
                new is old or new == old for new, old in zip(parts, last.parts)):
            last.parts, last._resolved = parts, None
            return last
        cls._last = cls({path: anchors for part in parts for path, anchors in part})
        cls._last.parts = parts
        return cls._last

    @property
    def resolved(self) -> dict[Path, frozenset[str]]:
        if self._resolved is None:
            self._resolved = {Path(path).resolve(): anchors for path, anchors in self.as_loaded.items()}
        return self._resolved

    def find(self, path: Path) -> tuple[Path, frozenset[str]] | None:
        """(a path of the text, its anchors) for the text at path, or None."""
        anchors = self.named(path)
        if anchors is not None:
            return path, anchors
        real = path.resolve()
        anchors = self.resolved.get(real)
        return None if anchors is None else (real, anchors)

    def named(self, path: Path) -> frozenset[str] | None:
        """The anchors of the text at path if the link names it as loaded (no file system asked), else None."""
        return None if ".." in path.parts else self.as_loaded.get(str(path))


def _link_target(link: Link, source: Path) -> Path | None:
    href = link.href
    if not href or _SCHEME.match(href):
        return None
    path_part = href.partition("#")[0]
    return source.parent / unquote(path_part) if path_part else source


def _check_link(link: Link, source: Path, targets: _LinkTargets, out: list[Diagnostic]) -> None:
    href = link.href
    if not href or _SCHEME.match(href):
        return
    path_part, _, anchor = href.partition("#")
    found = targets.find(source.parent / unquote(path_part) if path_part else source)
    if found is None:
        if path_part and (source.parent / unquote(path_part)).is_file():
            return  # a downloadable file beside the text
        names = sorted(p.name for p in targets.resolved if p.parent == source.parent.resolve())
        out.append(d.diag(d.LINK_BROKEN, link.loc, f"link target '{path_part}' does not exist",
                          "link to a lesson's .md file, relative to this file" + (f"; here: {', '.join(names[:6])}" if names else "")))
        return
    target, anchors = found
    if anchor and anchors and anchor not in anchors:
        out.append(d.diag(d.LINK_ANCHOR, link.loc, f"'#{anchor}' is no heading in {target.resolve().name}",
                          "anchors: " + ", ".join(sorted(anchors)[:8])))


def _links_of(node, targets: _LinkTargets) -> list[Diagnostic]:
    """The findings of a text's links. Remembered with the node while the targets are the same object and
    every link named its text as loaded; a link that needs the file system (a '..', a missing or
    downloadable file) is checked on every run."""
    if not node.links:
        return []
    holder = node_memo("link-findings", node, lambda: [None, None])
    if holder[0] is targets:
        return holder[1]
    out: list[Diagnostic] = []
    for link in node.links:
        _check_link(link, node.path, targets, out)
    local = all((target := _link_target(link, node.path)) is None or targets.named(target) is not None
                for link in node.links)
    holder[:] = [targets, out] if local else [None, None]
    return out


@check
def internal_links_resolve(course: Course) -> list[Diagnostic]:
    targets = _LinkTargets.of(course)
    out: list[Diagnostic] = []
    for m in course.modules:
        holder = node_memo("module-link-findings", m, lambda: [None, None])
        if holder[0] is not targets:  # the module's findings, kept while every one of its texts' are
            found = [diag for lesson in m.lessons for diag in _links_of(lesson, targets)]
            holder[:] = [targets, found] if all(node_memo("link-findings", lesson, lambda: [None])[0] is targets
                                                for lesson in m.lessons if lesson.links) else [None, None]
            out += found
        else:
            out += holder[1]
    for item in [*course.tasks, *course.quizzes]:
        out += _links_of(item, targets)
    return out


@check
def modules_have_lessons(course: Course) -> list[Diagnostic]:
    return [
        d.diag(d.MOD_NO_LESSONS, m.loc, f"module '{m.id}' has no lessons",
               f"add a lesson file such as {m.slug}/01-einfuehrung.md")
        for m in course.modules
        if not m.lessons
    ]


# Wording findings per text, for the rules in force (glossary's avoid list, template sentences): a
# long-running process (course preview) scans again only the texts that changed since its last check.
_WORDING_MEMO: dict[tuple, list[Diagnostic]] = {}
_WORDING_MEMO_LIMIT = 100_000
# Whether a text may have findings at all under the rules in _PATTERN_MEMO (most texts have none).
_SUSPECTS: dict[str, bool] = {}


@check
def wording(course: Course) -> list[Diagnostic]:
    avoid = {word: entry.term for entry in course.glossary for word in entry.avoid}
    sentences = placeholder_sentences()
    rules = (tuple(avoid.items()), tuple(sentences))
    # Most texts have nothing to report; substring tests (far faster than the regexes) find those.
    lowered_needles = _PLACEHOLDER_WORDS + ("„",)

    def suspect(text: str) -> bool:
        low = text.lower()
        return (any(n in low for n in lowered_needles) or any(n in text for n in avoid)
                or any(c in text for c in _FOLDS_TO_ASCII) or any(s in text for s in sentences))

    patterns = _wording_patterns(rules)
    if len(_WORDING_MEMO) > _WORDING_MEMO_LIMIT:
        _WORDING_MEMO.clear()
    if len(_SUSPECTS) > _WORDING_MEMO_LIMIT:
        _SUSPECTS.clear()
    out = []
    for loc, text in course.texts:
        is_suspect = _SUSPECTS.get(text)
        if is_suspect is None:
            is_suspect = _SUSPECTS[text] = suspect(text)
        if not is_suspect:
            continue
        key = (loc, text, rules)
        found = _WORDING_MEMO.get(key)
        if found is None:
            found = _WORDING_MEMO[key] = _wording_in(loc, text, patterns, avoid)
        out += found
    return out


_PATTERN_MEMO: dict[tuple, tuple] = {}


def _wording_patterns(rules: tuple) -> tuple:
    if rules not in _PATTERN_MEMO:
        avoid, sentences = rules
        words = sorted((word for word, _ in avoid), key=len, reverse=True)  # the longest spelling wins
        avoid_re = re.compile(r"(?<![\w:])(" + "|".join(map(re.escape, words)) + r")(?![\w:])") if words else None
        scaffold_re = re.compile("|".join(map(re.escape, sentences))) if sentences else None
        _PATTERN_MEMO.clear()
        _SUSPECTS.clear()  # found under the old rules
        _PATTERN_MEMO[rules] = (avoid_re, scaffold_re)
    return _PATTERN_MEMO[rules]


def _wording_in(loc: d.SourceLoc, text: str, patterns: tuple, avoid: dict[str, str]) -> list[Diagnostic]:
    """The findings in one text, each at its line and column in the source file (one scan per rule)."""
    avoid_re, scaffold_re = patterns
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def at(offset: int) -> d.SourceLoc:
        i = bisect.bisect_right(starts, offset) - 1
        return d.SourceLoc(loc.file, loc.line + i, offset - starts[i] + 1 + (loc.col - 1 if i == 0 else 0))

    out, placeholder_lines = [], set()
    for m in _PLACEHOLDER.finditer(text):
        where = at(m.start())
        if where.line not in placeholder_lines:  # the first placeholder of a line is enough
            placeholder_lines.add(where.line)
            out.append(d.diag(d.CONTENT_PLACEHOLDER, where, f"placeholder '{m.group(0)}' in the text", "write the real text"))
    for sentence in scaffold_re.finditer(text) if scaffold_re else ():
        out.append(d.diag(d.CONTENT_SCAFFOLD, at(sentence.start()), f"'{sentence.group(0)}' is the module template's example text",
                          "replace it with the module's own text"))
    for q in _WRONG_CLOSING_QUOTE.finditer(text):
        out.append(d.diag(d.CONTENT_QUOTES, at(q.start(1)), f"„ is closed with {q.group(1)}",
                          "close German quotations with “ („so“)"))
    for hit in avoid_re.finditer(text) if avoid_re else ():
        word, term = hit.group(1), avoid[hit.group(1)]
        out.append(d.diag(d.TERM_AVOID, at(hit.start()), f"'{word}': the glossary says '{term}'", f"write '{term}'"))
    return out


@check
def modules_cite_sources(course: Course) -> list[Diagnostic]:
    return per_node(course.modules, _cites_sources)


def _cites_sources(m) -> list[Diagnostic]:
    if m.spec.sources:
        return []
    return [d.diag(d.MOD_NO_SOURCES, m.loc, f"module '{m.id}' lists no sources",
                   "add 'sources:' to module.yaml (author, year, title, publisher or url) for every model and figure used")]
