"""XML as Moodle's backup xml_writer writes it (backup/util/xml/xml_writer.class.php).

Two-space indentation; a leaf is `<tag>text</tag>` on one line, text escaped with
htmlspecialchars(ENT_NOQUOTES) (& < >), attributes with ENT_COMPAT (& < > "); a database NULL is the
marker `$@NULL@$`; a nested element without children is written open and close on two lines; no
newline after the root's closing tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

NULL = None
NULL_MARK = "$@NULL@$"

Value = Union[str, int, None]


@dataclass
class El:
    """A nested element: attributes (in order) and children, each a leaf (tag, value) or an El."""

    tag: str
    attrs: dict = field(default_factory=dict)
    children: list = field(default_factory=list)

    def add(self, *children) -> "El":
        self.children.extend(children)
        return self

    def leaves(self, **values: Value) -> "El":
        """Append leaves in keyword order; a keyword ending in '_' stands for the name without it."""
        self.children.extend((k.rstrip("_"), v) for k, v in values.items())
        return self


def el(tag: str, attrs: dict | None = None, **values: Value) -> El:
    return El(tag, dict(attrs or {})).leaves(**values)


def _text(value: Value) -> str:
    if value is None:
        return NULL_MARK
    if type(value) is int:  # most leaves are ids and flags: nothing to escape (a large backup has 500,000 leaves)
        return str(value)
    value = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value) -> str:
    return _text(value).replace('"', "&quot;")


class Written(str):
    """A child already serialised (by fragment(), at the depth it is added at): written as it is."""


def fragment(node: El, depth: int) -> Written:
    """node as document() writes it at that depth, to be cached and added to a parent later."""
    out: list[str] = []
    _write(node, depth, out)
    return Written("".join(out))


def _write(node: El, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    attrs = "".join(f' {k}="{_attr(v)}"' for k, v in node.attrs.items())
    out.append(f"{pad}<{node.tag}{attrs}>\n")
    for child in node.children:
        if isinstance(child, El):
            _write(child, depth + 1, out)
        elif isinstance(child, Written):
            out.append(child)
        else:
            tag, value = child
            out.append(f"{pad}  <{tag}>{_text(value)}</{tag}>\n")
    out.append(f"{pad}</{node.tag}>\n")


def document(root: El) -> bytes:
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _write(root, 0, out)
    return "".join(out).rstrip("\n").encode("utf-8")
