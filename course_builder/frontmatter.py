"""Markdown files with YAML front matter."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import diagnostics as d
from . import yamlloc
from .diagnostics import Diagnostic
from .sources import SourceFile


@dataclass
class FrontMatter:
    data: dict | None
    body: str
    body_line: int  # file line number of the body's first line
    diagnostics: list[Diagnostic] = field(default_factory=list)


def split(source: SourceFile) -> FrontMatter:
    lines = source.text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return FrontMatter(None, source.text, 1, [d.diag(
            d.FRONT_MATTER, source.loc(1, 1), "file must start with front matter: a line '---', YAML, and '---'",
            "add e.g. '---\\ntitle: …\\n---' at the top")])
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            break
    else:
        return FrontMatter(None, "", len(lines), [d.diag(
            d.FRONT_MATTER, source.loc(1, 1), "front matter is not closed", "add a line '---' after the YAML")])
    yaml_text = "\n".join(lines[1:i])
    result = yamlloc.load(yaml_text, source.rel, line_offset=1)
    diagnostics = list(result.diagnostics)
    data = result.value
    if result.ok and not isinstance(data, dict):
        diagnostics.append(d.diag(d.YAML_NOT_MAPPING, source.loc(2, 1), "front matter must be 'key: value' lines",
                                  "write the settings as 'key: value'"))
        data = None
    body = "\n".join(lines[i + 1:])
    return FrontMatter(data if result.ok else None, body, i + 2, diagnostics)
