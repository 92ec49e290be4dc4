"""Sources as readers of a German course expect them: „Autor:in (Jahr): Titel. Verlag. URL“."""

from __future__ import annotations

from markupsafe import Markup, escape

from .model import Source


def citation_text(source: Source) -> str:
    """Plain text, for places without HTML (GIFT comments, worksheets, plain-text summaries)."""
    parts = [f"{source.author} ({source.year}): {source.title.rstrip('.')}."]
    if source.publisher:
        parts.append(f"{source.publisher.rstrip('.')}.")
    if source.url:
        parts.append(source.url)
    return " ".join(parts)


def citation_html(source: Source) -> Markup:
    """The title in italics and the URL as a link; every part escaped."""
    html = Markup("{} ({}): <cite>{}</cite>.").format(source.author, source.year, source.title.rstrip("."))
    if source.publisher:
        html += Markup(" {}.").format(source.publisher.rstrip("."))
    if source.url:
        html += Markup(' <a href="{0}">{0}</a>').format(source.url)
    if source.note:
        html += Markup(' <span class="source-note">– {}</span>').format(source.note)
    return html


def sources_html(sources: list[Source], heading: str, level: int = 3) -> Markup:
    """A 'Literatur und Quellen' block, sorted by author and year as a reference list is."""
    if not sources:
        return Markup("")
    items = Markup("").join(Markup("<li>{}</li>").format(citation_html(s))
                            for s in sorted(sources, key=lambda s: (s.author.lower(), str(s.year))))
    return Markup('<section class="sources"><h{0}>{1}</h{0}><ul class="source-list">{2}</ul></section>').format(
        level, escape(heading), items)
