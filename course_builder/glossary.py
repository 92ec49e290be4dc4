"""Glossary terms in rendered lesson HTML: the first use of a term on a page explains it in place.

The explanation is a native HTML popover (a button with `popovertarget` and the definition in a
`popover` element): it needs no script, so it works the same in the SCORM packages, the LTI tool,
the HTML site and Moodle pages, and keyboard and screen-reader users get it as a button. Its last
line links to the module's list of terms on the overview page, the module's glossary.

Matching is deliberately conservative: whole words, case-sensitive except for the first letter
(a term may start a sentence), the term's `forms:` and, for a term ending in ":in", the plural
":innen". Text inside headings, links, code, buttons and the explanations themselves is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from .markdown import slugify
from .model import Course, GlossaryEntry

_SKIP = {"a", "h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "button", "dfn", "abbr", "kbd", "summary"}
_VOID = {"br", "hr", "img", "input", "wbr", "col", "source", "meta", "link"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>")


@dataclass(frozen=True)
class Term:
    entry: GlossaryEntry
    anchor: str  # id of the term in the module's list of terms


def _forms(entry: GlossaryEntry) -> list[str]:
    forms = [entry.term, *entry.forms]
    if entry.term.endswith(":in"):
        forms.append(entry.term + "nen")
    return forms


def _pattern(word: str) -> str:
    first = word[0]
    head = f"[{re.escape(first.upper())}{re.escape(first.lower())}]" if first.upper() != first.lower() else re.escape(first)
    # German inflection adds at most a short ending (Mehrwerts, Stakeholdern); ":" joins ":innen" to a word.
    return head + re.escape(word[1:]) + r"(?:e|en|n|s|es)?"


class TermIndex:
    """Every linkable term of a course, found in one regular-expression scan per text."""

    def __init__(self, entries: list[GlossaryEntry]):
        self.terms: dict[str, Term] = {}
        by_form: dict[str, Term] = {}
        for entry in entries:
            if not entry.link:
                continue
            term = Term(entry, f"glossar-{slugify(entry.term)}")
            self.terms[entry.term] = term
            for form in _forms(entry):
                by_form.setdefault(form, term)
        # Longest forms first, so "Community Management" wins over a shorter term inside it.
        forms = sorted(by_form, key=len, reverse=True)
        self.by_pattern = [(re.compile(_pattern(f)), by_form[f]) for f in forms]
        self.regex = re.compile(r"(?<![\w:-])(?:" + "|".join(_pattern(f) for f in forms) + r")(?![\w:-])") if forms else None

    def term_of(self, text: str) -> Term:
        for pattern, term in self.by_pattern:
            if pattern.fullmatch(text):
                return term
        raise KeyError(text)

    def used(self, html: str) -> list[Term]:
        """The terms a text uses outside skipped elements, in order of first use."""
        seen: dict[str, Term] = {}
        for text in _texts(html):
            for match in self.regex.finditer(text) if self.regex else ():
                term = self.term_of(match.group(0))
                seen.setdefault(term.entry.term, term)
        return list(seen.values())

    def link(self, html: str, page_id: str, to_list: str | None, style: str = "") -> str:
        """html with the first use of each term on the page turned into its explanation.

        to_list: the text of the link to the module's list of terms; None where that list is on
        another page the link cannot reach (Moodle gives pages their URLs only at restore).
        style: inline CSS for the button, where learner.css is not loaded (Moodle's pages)."""
        if self.regex is None:
            return html
        done: set[str] = set()

        def explain(match: re.Match) -> str:
            term = self.term_of(match.group(0))
            if term.entry.term in done:
                return match.group(0)
            done.add(term.entry.term)
            pop = f"{page_id}--{term.anchor}"
            more = Markup(' <a href="#{}">{}</a>').format(term.anchor, to_list) if to_list else ""
            return str(Markup(
                '<button type="button" class="term" popovertarget="{0}"{5}>{1}</button>'
                '<span class="term-def" id="{0}" popover><dfn>{2}</dfn>: {3}{4}</span>'
            ).format(pop, match.group(0), term.entry.term, term.entry.definition, more,
                     Markup(' style="{}"').format(style) if style else ""))

        # str(): slices of a Markup would escape the tags joined to them.
        return "".join(self.regex.sub(explain, text) + tag if linkable else text + tag
                       for text, tag, linkable in _segments(str(html)))


# What learner.css gives .term, for pages without it.
INLINE_STYLE = ("font:inherit;color:inherit;background:none;border:0;padding:0;"
                "text-decoration:underline dotted;cursor:help")


def _depth_change(tag: re.Match) -> int:
    name = tag.group(2).lower()
    if name not in _SKIP or name in _VOID or tag.group(3):
        return 0
    return -1 if tag.group(1) else 1


def _segments(html: str):
    """(text, the tag after it, whether the text lies outside skipped elements) through the whole html."""
    depth, pos = 0, 0
    for tag in _TAG.finditer(html):
        yield html[pos:tag.start()], tag.group(0), depth == 0
        depth += _depth_change(tag)
        pos = tag.end()
    yield html[pos:], "", depth == 0


def _texts(html: str):
    return (text for text, _, linkable in _segments(html) if linkable)


def index(course: Course) -> TermIndex:
    return course.derived("glossary-terms", lambda c: TermIndex(c.glossary))


def module_terms(course: Course, module) -> list[Term]:
    """The terms a module's lessons use, in the glossary's order: the module's list of terms."""
    terms = index(course)
    used = {t.entry.term for lesson in module.lessons for t in terms.used(lesson.body.html)}
    return [t for t in terms.terms.values() if t.entry.term in used]


def terms_html(terms: list[Term], title: str, level: int) -> Markup:
    if not terms:
        return Markup("")
    return Markup('<h{0}>{1}</h{0}><dl class="glossary">{2}</dl>').format(level, title, Markup("").join(
        Markup('<dt id="{}">{}</dt><dd>{}</dd>').format(t.anchor, t.entry.term, t.entry.definition) for t in terms))

