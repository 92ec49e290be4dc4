"""YAML with source locations.

PyYAML composes a node graph with marks; we convert it ourselves so that every mapping carries
its location (``__loc__``) and the location of each of its values (``__locs__``), duplicate keys
are found, and scalars follow the YAML 1.2 core schema (``17:00`` stays text, ``no`` is no boolean).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import diagnostics as d
from .diagnostics import Diagnostic, SourceLoc

LOC = "__loc__"
LOCS = "__locs__"
KEYLOCS = "__keylocs__"
META_KEYS = (LOC, LOCS, KEYLOCS)
# Aliases can multiply a small document into a huge one ("billion laughs"); sources are small.
MAX_NODES = 200_000


class _Resolver(yaml.resolver.BaseResolver):
    pass


_Resolver.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", list("~nN") + [""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
    (
        "tag:yaml.org,2002:timestamp",
        r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?)$",
        list("0123456789"),
    ),
]:
    _Resolver.add_implicit_resolver(tag, re.compile(pattern), first)


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Resolver):
    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


if getattr(yaml, "__with_libyaml__", False):
    # libyaml's C parser composes the same nodes with the same marks, several times faster.
    class _CLoader(yaml._yaml.CParser, _Resolver):  # type: ignore[name-defined]
        def __init__(self, stream):
            yaml._yaml.CParser.__init__(self, stream)
            _Resolver.__init__(self)

    _FastLoader = _CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = _Loader


@dataclass
class YamlResult:
    value: object = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ok: bool = True


class _Converter:
    def __init__(self, file: str, line_offset: int):
        self.file = file
        self.line_offset = line_offset
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.active: set[int] = set()

    def loc(self, node: Node) -> SourceLoc:
        mark = node.start_mark
        return SourceLoc(self.file, mark.line + 1 + self.line_offset, mark.column + 1)

    def convert(self, node: Node):
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(self.loc(node))
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            raise _Recursive(self.loc(node))
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.convert(item) for item in node.value]
            return self.mapping(node)
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode) -> dict:
        out: dict = {LOC: self.loc(node), LOCS: {}, KEYLOCS: {}}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.diagnostics.append(d.diag(d.YAML_UNSUPPORTED, self.loc(key_node), "keys must be plain text",
                                               "write the key as a simple word"))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.diagnostics.append(d.diag(d.YAML_UNSUPPORTED, self.loc(key_node), "merge keys (<<) are not supported",
                                               "write the keys out"))
                continue
            key = str(self.scalar(key_node)) if key_node.value != "" else ""
            if key in out[LOCS]:
                first = out[LOCS][key]
                self.diagnostics.append(d.diag(d.YAML_DUPLICATE_KEY, self.loc(key_node),
                                               f"key '{key}' is given twice (first at line {first.line})",
                                               "remove one of them; YAML keeps only the last"))
                continue
            out[key] = self.convert(value_node)
            out[LOCS][key] = self.loc(value_node)
            out[KEYLOCS][key] = self.loc(key_node)
        return out

    def scalar(self, node: ScalarNode):
        value = node.value
        tag = node.tag
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return value.lower() == "true"
        if tag == "tag:yaml.org,2002:int":
            if value.startswith("0o"):
                return int(value[2:], 8)
            return int(value, 0) if value.startswith("0x") else int(value)
        if tag == "tag:yaml.org,2002:float":
            low = value.lower()
            if low.endswith("inf"):
                return float("-inf") if low.startswith("-") else float("inf")
            if low == ".nan":
                return float("nan")
            return float(value)
        if tag == "tag:yaml.org,2002:timestamp":
            try:
                if len(value) == 10:
                    return dt.date.fromisoformat(value)
                return dt.datetime.fromisoformat(value.replace("t", "T"))
            except ValueError:
                return value  # e.g. 2027-02-30: the schema reports it as a bad date
        return value


class _TooLarge(Exception):
    def __init__(self, loc):
        self.loc = loc


class _Recursive(Exception):
    def __init__(self, loc):
        self.loc = loc


def load(text: str, file: str, line_offset: int = 0) -> YamlResult:
    """Parse one YAML document; errors become diagnostics with the file's own line numbers."""
    result = YamlResult()
    try:
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        context = exc.context or ""
        if exc.context_mark is not None and context.startswith("while scanning a quoted scalar"):
            # The parser notices a missing closing quote far below; the opening quote is the place to fix.
            mark = exc.context_mark
            problem = "this quote is not closed"
        elif exc.context_mark is not None and context.startswith("while parsing a flow"):
            mark = exc.context_mark
            bracket = "[" if "sequence" in context else "{"
            problem = f"this '{bracket}' is not closed"
        line = (mark.line + 1 if mark else 1) + line_offset
        col = mark.column + 1 if mark else 1
        open_quote = _unbalanced_quote(text, mark.line if mark else 0)
        if open_quote is not None:
            # A quoted value may legally run over lines up to the next quote, so the parser only
            # fails further down; the unbalanced quote is what the author has to fix.
            line, col = open_quote[0] + 1 + line_offset, open_quote[1] + 1
            problem = "this quote is not closed"
        result.diagnostics.append(d.diag(d.YAML_SYNTAX, SourceLoc(file, line, col), f"YAML: {problem}", _syntax_hint(problem)))
        result.ok = False
        return result
    except yaml.YAMLError as exc:
        result.diagnostics.append(d.diag(d.YAML_SYNTAX, SourceLoc(file, 1 + line_offset, 1), f"YAML: {exc}", "check the file's syntax"))
        result.ok = False
        return result
    if node is None:
        return result
    conv = _Converter(file, line_offset)
    try:
        result.value = conv.convert(node)
    except _TooLarge as exc:
        result.diagnostics.append(d.diag(d.YAML_UNSUPPORTED, exc.loc, "document expands to too many values (aliases?)",
                                         "write the values out instead of using many aliases"))
        result.ok = False
    except _Recursive as exc:
        result.diagnostics.append(d.diag(d.YAML_UNSUPPORTED, exc.loc, "recursive alias", "remove the alias that refers to itself"))
        result.ok = False
    result.diagnostics.extend(conv.diagnostics)
    return result


def _unbalanced_quote(text: str, upto_line: int) -> tuple[int, int] | None:
    """(line, column), 0-based, of the first double quote left open on its own line, before upto_line."""
    for number, line in enumerate(text.split("\n")[: upto_line + 1]):
        stripped = re.sub(r'\\.', "", line)
        if stripped.lstrip().startswith("#"):
            continue
        quotes = [i for i, c in enumerate(stripped) if c == '"']
        if len(quotes) % 2 == 1 and number < upto_line:
            return number, line.index('"', quotes[-1] if len(quotes) == 1 else 0)
    return None


def _syntax_hint(problem: str) -> str:
    if problem == "this quote is not closed":
        return "add the closing quote, or escape a quote inside the text"
    if problem.startswith("this '") and problem.endswith("is not closed"):
        return "close the bracket, or put the whole value in quotes if the bracket is part of the text"
    if "mapping values are not allowed" in problem:
        return "a value contains ': ' – put the whole value in quotes"
    if "found character '\\t'" in problem or "tab" in problem:
        return "indent with spaces, not tabs"
    if "could not find expected ':'" in problem:
        return "each line of a mapping needs 'key: value'"
    if "expected <block end>" in problem:
        return "check the indentation of this line against the lines above"
    return "check quotes, colons and indentation"


def strip_meta(value):
    """The plain data without location keys (for hashing, printing)."""
    if isinstance(value, dict):
        return {k: strip_meta(v) for k, v in value.items() if k not in META_KEYS}
    if isinstance(value, list):
        return [strip_meta(v) for v in value]
    return value


def loc_at(value, path: tuple, fallback: SourceLoc) -> SourceLoc:
    """Best location for a pydantic error path: the deepest value (or key, for unknown keys) on it."""
    best = value.get(LOC, fallback) if isinstance(value, dict) else fallback
    node = value
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node.get(LOCS, {}):
            best = node[LOCS][part]
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            item = node[part]
            if isinstance(item, dict) and LOC in item:
                best = item[LOC]
            node = item
        elif isinstance(node, dict) and LOC in node:
            best = node[LOC]
            if isinstance(part, str) and part in node.get(KEYLOCS, {}):
                best = node[KEYLOCS][part]
            break
        else:
            break
    return best


def key_loc(value, path: tuple, fallback: SourceLoc) -> SourceLoc:
    """Location of the key at the end of path (for unknown keys)."""
    parent = value
    for part in path[:-1]:
        if isinstance(parent, dict) and part in parent:
            parent = parent[part]
        elif isinstance(parent, list) and isinstance(part, int) and 0 <= part < len(parent):
            parent = parent[part]
        else:
            return loc_at(value, path, fallback)
    if isinstance(parent, dict):
        return parent.get(KEYLOCS, {}).get(path[-1]) or parent.get(LOC, fallback)
    return fallback
