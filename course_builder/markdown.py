"""Markdown → sanitised HTML, with the images, links and headings a text contains.

CommonMark by markdown-it-py; sanitising by nh3 (ammonia), which is an allow-list HTML sanitiser:
safer than any hand-written filter. Unsafe markup is also reported, so the author learns of it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt

from . import diagnostics as d
from .diagnostics import Diagnostic, SourceLoc

_md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")


def _validate_link(url: str) -> bool:
    # Let every URL through to the token stream so unsafe ones can be *reported*;
    # nh3 removes them from the HTML afterwards.
    return True


_md.validateLink = _validate_link

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "scope", "style"},
    "ol": {"start"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_UNSAFE_PATTERNS = [
    (re.compile(r"<\s*script\b", re.I), "a <script> element"),
    (re.compile(r"<\s*(iframe|object|embed|style|form|base|meta)\b", re.I), "an element that is not allowed"),
    (re.compile(r"""\bon[a-z]+\s*=""", re.I), "an event-handler attribute"),
    (re.compile(r"""(?:href|src|action|formaction|xlink:href)\s*=\s*["']?\s*(?:javascript|vbscript|data):""", re.I), "a javascript:/data: URL"),
    (re.compile(r"(?:javascript|vbscript):", re.I), "a javascript: URL"),
]
_UNSAFE_URL = re.compile(r"^\s*(javascript|vbscript|data):", re.I)
_WORD = re.compile(r"\w+(?:[-'’:]\w+)*")


@dataclass
class Ref:
    target: str
    loc: SourceLoc
    alt: str = ""


@dataclass
class Rendered:
    html: str
    text: str  # plain text, for word counts and term checks
    images: list[Ref] = field(default_factory=list)
    links: list[Ref] = field(default_factory=list)
    headings: list[tuple[str, str]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(_WORD.findall(self.text))


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = text.replace("ß", "ss")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text or "abschnitt"


_SANITIZER_OPTIONS = dict(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer",
    strip_comments=True,
    # Markdown tables align columns with style="text-align:…"; nothing else may style.
    filter_style_properties={"text-align"},
)
# nh3.clean() builds its sanitiser anew on every call (16 µs, more than a short text takes to clean);
# a Cleaner (nh3 >= 0.3) is built once and cleans a short text in about 1 µs.
_clean = (nh3.Cleaner(**_SANITIZER_OPTIONS).clean if hasattr(nh3, "Cleaner")
          else lambda html: nh3.clean(html, **_SANITIZER_OPTIONS))


def sanitize(html: str) -> str:
    return _clean(html)


def _col(file_lines: list[str], line: int, needle: str, skip: int = 0) -> int:
    """Column of needle in a file line (plus skip characters), or 1."""
    if 1 <= line <= len(file_lines):
        idx = file_lines[line - 1].find(needle)
        if idx >= 0:
            return idx + 1 + skip
    return 1


# One line of text without any character CommonMark gives meaning to renders as itself:
# most answers and feedback are such lines, and skipping the parser for them halves a check.
_PLAIN = re.compile(r"^(?![\d+>=-])[^\\`*_\[\]<>&!#|~=\n\t]*$")


def _plain(text: str, inline: bool) -> Rendered | None:
    stripped = text.strip()
    if not _PLAIN.match(stripped) or text != stripped and not inline or "  " in stripped:
        return None
    escaped = stripped.replace('"', "&quot;")
    html = escaped if inline else f"<p>{escaped}</p>" if escaped else ""
    return Rendered(sanitize(html).strip(), stripped)


def render(text: str, loc: SourceLoc, file_lines: list[str] | None = None, inline: bool = False) -> Rendered:
    """Render Markdown that starts at ``loc`` (line of its first line) in a file whose lines are file_lines."""
    fast = _plain(text, inline)
    if fast is not None:
        return fast
    file_lines = file_lines or text.split("\n")
    first = loc.line
    diagnostics: list[Diagnostic] = []
    images: list[Ref] = []
    links: list[Ref] = []
    headings: list[tuple[str, str]] = []
    words: list[str] = []
    env: dict = {}
    tokens = _md.parseInline(text, env) if inline else _md.parse(text, env)
    used_slugs: dict[str, int] = {}
    block_line = first
    for i, tok in enumerate(tokens):
        if tok.map:
            block_line = first + tok.map[0]
        if tok.type == "heading_open" and i + 1 < len(tokens):
            title = tokens[i + 1].content
            slug = slugify(title)
            n = used_slugs.get(slug, 0)
            used_slugs[slug] = n + 1
            if n:
                slug = f"{slug}-{n}"
            tok.attrSet("id", slug)
            headings.append((slug, title))
        if tok.type in ("html_block", "html_inline"):
            _check_unsafe(tok.content, block_line, file_lines, loc.file, diagnostics)
        if tok.type == "inline" and tok.children:
            line = block_line
            for child in tok.children:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type == "text" or child.type == "code_inline":
                    words.append(child.content)
                elif child.type == "html_inline":
                    _check_unsafe(child.content, line, file_lines, loc.file, diagnostics)
                elif child.type == "image":
                    src = child.attrGet("src") or ""
                    alt = "".join(c.content for c in (child.children or []))
                    ref = Ref(src, SourceLoc(loc.file, line, _col(file_lines, line, "](" + src[:8], 2)), alt)
                    images.append(ref)
                    words.append(alt)
                    _check_url(src, ref.loc, diagnostics)
                elif child.type == "link_open":
                    href = child.attrGet("href") or ""
                    ref = Ref(href, SourceLoc(loc.file, line, _col(file_lines, line, "](" + href[:8], 2)))
                    links.append(ref)
                    _check_url(href, ref.loc, diagnostics)
        elif tok.type in ("code_block", "fence"):
            words.append(tok.content)
    raw = _md.renderer.render(tokens, _md.options, env)
    return Rendered(sanitize(raw).strip(), " ".join(words), images, links, headings, diagnostics)


def _check_url(url: str, loc: SourceLoc, out: list[Diagnostic]) -> None:
    if _UNSAFE_URL.match(url):
        out.append(d.diag(d.HTML_UNSAFE, loc, f"unsafe URL '{url[:40]}' is removed from the output",
                          "link to http(s) pages or files of the course only"))


def _check_unsafe(html: str, line: int, file_lines: list[str], file: str, out: list[Diagnostic]) -> None:
    for offset, html_line in enumerate(html.split("\n")):
        for pattern, what in _UNSAFE_PATTERNS:
            m = pattern.search(html_line)
            if m:
                col = _col(file_lines, line + offset, m.group(0))
                out.append(d.diag(d.HTML_UNSAFE, SourceLoc(file, line + offset, col),
                                  f"{what} is removed from the output",
                                  "course text may not contain scripts, event handlers or javascript: URLs"))
                break


def rewrite_urls(html: str, rewrite) -> str:
    """Apply rewrite(url) -> url to every href and src of sanitised HTML (nh3 always double-quotes)."""

    def sub(m: re.Match) -> str:
        return f'{m.group(1)}="{rewrite(m.group(2))}"'

    return re.sub(r'\b(href|src)="([^"]*)"', sub, html)
