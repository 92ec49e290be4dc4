"""Moodle HTML → Markdown, only where the Markdown renders back to the same HTML; else sanitised HTML.

The conversion is checked, not trusted: the Markdown is rendered with the course's own renderer
and compared with the source HTML (whitespace and editor noise aside). If they differ, the text
stays HTML — sanitised by the same allow-list the renderer uses — and the caller warns.
"""

from __future__ import annotations

import html as htmllib
import re

from lxml import etree

from ..markdown import render, sanitize
from ..diagnostics import SourceLoc

HEADINGS = {f"h{n}" for n in range(1, 7)}
INLINE = {"em": "*", "i": "*", "strong": "**", "b": "**"}
# Attributes Moodle's editors add that change nothing a learner sees.
IGNORED_ATTRIBUTES = {"dir", "class", "rel", "target"}
HARMLESS_STYLE = re.compile(r"^\s*(text-align:\s*left;?)?\s*$")
_ESCAPE = re.compile(r"([\\`*_\[\]<>#|{}&~]|!(?=\[))")
_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)])|(?:hint|feedback|correct|partial|incorrect)(?=:))")


class NotClean(Exception):
    """The HTML holds something the Markdown subset cannot say."""


def escape(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


def _escape_start(md: str) -> str:
    m = _LINE_START.match(md)
    if not m:
        return md
    token = m.group(2)
    if token.isdigit():  # '1.' at the start would make a list: escape the dot
        return md[:m.end()] + "\\" + md[m.end():]
    if token[0].isalpha():
        return md[:m.end()] + "\\" + md[m.end():]
    return md[:m.start(2)] + "\\" + md[m.start(2):]


def _attrs(el, allowed: set[str]) -> None:
    for key, value in el.attrib.items():
        if key in allowed or key in IGNORED_ATTRIBUTES or key == "style" and HARMLESS_STYLE.match(value):
            continue
        raise NotClean(f"attribute {key}")


def _inline(el) -> str:
    out = escape(_space(el.text or ""))
    for child in el:
        out += _inline_element(child) + escape(_space(child.tail or ""))
    return out


def _space(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _inline_element(el) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in INLINE:
        _attrs(el, set())
        inner = _inline(el)
        if not inner.strip() or inner != inner.strip():
            raise NotClean("emphasis with outer spaces")
        return INLINE[tag] + inner + INLINE[tag]
    if tag == "code":
        _attrs(el, set())
        if len(el):
            raise NotClean("markup inside code")
        code = el.text or ""
        fence = "``" if "`" in code else "`"
        return f"{fence}{code}{fence}"
    if tag == "a":
        _attrs(el, {"href", "title"})
        href = _url(el, "href", "link target")
        title = f' "{el.get("title")}"' if el.get("title") else ""
        return f"[{_inline(el)}]({href}{title})"
    if tag == "img":
        _attrs(el, {"src", "alt"})
        src = _url(el, "src", "image source")
        return f"![{escape(el.get('alt') or '')}]({src})"
    if tag == "br":
        _attrs(el, set())
        return "\\\n"
    raise NotClean(f"<{tag}>")


def _blocks(container) -> list[str]:
    blocks: list[str] = []
    loose = _inline_loose(container)
    if loose is not None:
        return [loose]
    if (container.text or "").strip():
        raise NotClean("text between blocks")
    for el in container:
        tag = el.tag if isinstance(el.tag, str) else ""
        if (el.tail or "").strip():
            raise NotClean("text between blocks")
        if tag == "p":
            _attrs(el, set())
            blocks.append(_escape_start(_inline(el).strip()))
        elif tag in ("ul", "ol"):
            _attrs(el, set())
            items = []
            for n, li in enumerate(el, 1):
                if li.tag != "li" or (li.tail or "").strip():
                    raise NotClean("list content")
                _attrs(li, set())
                marker = f"{n}. " if tag == "ol" else "- "
                inner = _li(li)
                items.append(marker + inner.replace("\n", "\n" + " " * len(marker)))
            blocks.append("\n".join(items))
        elif tag in HEADINGS:
            _attrs(el, {"id"})
            blocks.append("#" * int(tag[1]) + " " + _inline(el).strip())
        elif tag == "pre" and len(el) == 1 and el[0].tag == "code" and not (el.text or "").strip():
            code = el[0].text or ""
            blocks.append("```\n" + code.rstrip("\n") + "\n```")
        elif tag == "":
            continue
        else:
            raise NotClean(f"<{tag}>")
    return blocks


def _li(li) -> str:
    if len(li) and all(isinstance(c.tag, str) and c.tag in ("p", "ul", "ol") for c in li) and not (li.text or "").strip():
        return "\n\n".join(_blocks(li))
    return _escape_start(_inline(li).strip())


def _inline_loose(container) -> str | None:
    """Text without block elements (as Moodle's plain answers and many one-line stems are)."""
    if any(isinstance(c.tag, str) and c.tag in ("p", "ul", "ol", "pre", "div", "table", "h1", "h2", "h3", "h4",
                                                  "h5", "h6", "blockquote", "hr") for c in container):
        return None
    return _escape_start(_inline(container).strip())


_HTML_PARSER = etree.HTMLParser(no_network=True, remove_comments=True, default_doctype=False)


def _fragment(html: str):
    """The fragment inside one <div> (lxml.etree's HTML parser: lxml.html's element classes cost 3× the time)."""
    root = etree.fromstring(f"<div>{html}</div>", _HTML_PARSER)
    if root is None:
        raise ValueError("empty HTML")
    div = root.find("body/div")
    if div is None:
        raise ValueError("no fragment")
    return div


_SPACE_AFTER_TAG = re.compile(r">\s+")
_SPACE_BEFORE_TAG = re.compile(r"\s+<")
_ONE_PARAGRAPH = re.compile(r"<p>([^<>&]*)</p>")
_NOISE = re.compile(r'\s(?:dir|class|rel|target)="[^"]*"|\sstyle="\s*(?:text-align:\s*left;?)?\s*"|(?<=<h[1-6])\sid="[^"]*"')


def _quick(html: str) -> str:
    """A cheap normal form: when two texts agree on it, they agree on _normal too."""
    if '="' in html:
        html = _NOISE.sub("", html)
    return _SPACE_BEFORE_TAG.sub("<", _SPACE_AFTER_TAG.sub(">", " ".join(html.split())))


def _normal(html: str) -> str:
    """HTML compared as a reader sees it: editor attributes dropped, whitespace between tags ignored."""
    try:
        root = _fragment(html)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return html
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for key in list(el.attrib):
            if key in IGNORED_ATTRIBUTES or key == "style" and HARMLESS_STYLE.match(el.get(key)) \
                    or key == "id" and el.tag in HEADINGS:  # the renderer numbers headings itself
                del el.attrib[key]
    text = etree.tostring(root, encoding="unicode", method="html")
    text = re.sub(r"\s+", " ", htmllib.unescape(text))
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", text).strip()


def to_markdown(html: str, inline: bool = False) -> tuple[str, bool]:
    """(markdown, clean): clean is False where the text had to stay (sanitised) HTML."""
    html = html.strip()
    if not html:
        return "", True
    if "<" not in html and "&" not in html and "\n" not in html.strip():
        # Plain text, as most answers are: escaped, it renders as itself.
        return _escape_start(escape(html)), True
    one = _ONE_PARAGRAPH.fullmatch(html)
    if one and "\n\n" not in one.group(1) and one.group(1).strip():
        # One paragraph of plain text, as most stems and feedback are: it renders back to itself.
        md = _escape_start(escape(" ".join(one.group(1).split())))
        return md, True
    try:
        root = _fragment(html)
        md = "\n\n".join(_blocks(root)) if not inline else _inline_only(root)
        rendered = render(md, SourceLoc("import", 1, 1), inline=inline).html
        quick = _quick(rendered)
        if quick in (_quick(html), _quick(f"<p>{html}</p>")):
            return md, True
        if _normal(rendered) in (_normal(html), _normal(f"<p>{html}</p>")):
            return md, True
    except (NotClean, etree.ParserError, etree.XMLSyntaxError, ValueError):
        pass
    kept = sanitize(html).strip()
    kept = re.sub(r"\n\s*\n", "\n", kept)
    return (kept.replace("\n", " ") if inline else kept), False


def _inline_only(root) -> str:
    """An answer or pair side: one line of Markdown; a single <p> around it is unwrapped."""
    children = [c for c in root if isinstance(c.tag, str)]
    if len(children) == 1 and children[0].tag == "p" and not (root.text or "").strip() \
            and not (children[0].tail or "").strip():
        _attrs(children[0], set())
        root = children[0]
    md = _inline_loose(root)
    if md is None or "\n" in md:
        raise NotClean("block content in a one-line text")
    return md


def _url(el, attr: str, what: str) -> str:
    """A URL Markdown can hold between ( and ) as it stands."""
    url = el.get(attr) or ""
    if not url or re.search(r"[\s()<>]", url):
        raise NotClean(what)
    return url
