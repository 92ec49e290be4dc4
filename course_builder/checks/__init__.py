"""Checks: small functions from the model to diagnostics, registered in one list."""

from __future__ import annotations

from typing import Callable, Iterable, TypeVar

from ..diagnostics import Diagnostic
from ..model import Course
from ..nodememo import node_memo, same_objects

T = TypeVar("T")

Check = Callable[[Course], Iterable[Diagnostic]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def per_node(nodes: Iterable[T], findings: Callable[[T], Iterable[Diagnostic]]) -> list[Diagnostic]:
    """findings(node) for each node, remembered per node (nodememo.py): for checks whose findings on a
    node depend on nothing but the node, so that a long-running process checks again only the nodes
    of changed files. findings must be a module-level function (its name keys the memo)."""
    kind = f"check:{findings.__module__}.{findings.__qualname__}"
    out: list[Diagnostic] = []
    for node in nodes:
        out += node_memo(kind, node, lambda node=node: tuple(findings(node)))
    return out


def node_findings(kind: str, node, context: tuple, findings: Callable[[], Iterable[Diagnostic]]) -> tuple[Diagnostic, ...]:
    """findings() for a node whose findings depend on the node and on context (the other nodes or values
    they read, e.g. the quiz's module), remembered per node while context holds the same objects.
    kind names the check; the memo holds context, so its objects cannot be replaced by others."""
    holder = node_memo(f"findings:{kind}", node, lambda: [None, None])
    if holder[1] is None or not same_objects(holder[0], context):
        holder[:] = [context, tuple(findings())]
    return holder[1]


def run_checks(course: Course) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for fn in CHECKS:
        out.extend(fn(course))
    return out


def switched_off(course: Course, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Drop the warnings course.yaml's `checks: disable:` names; errors cannot be switched off."""
    from .. import diagnostics as d

    if course.spec is None or not course.spec.checks.disable:
        return diagnostics
    config = course.spec.checks
    known = {code.id: code for code in d.all_codes()}
    disabled, out = set(), []
    for name in config.disable:
        code = known.get(name.strip().upper())
        if code is None:
            out.append(d.diag(d.CHECKS_CONFIG, config.field_loc("disable"), f"'{name}' is no diagnostic code",
                              "use a code from docs/diagnostics.md, e.g. ITEM004"))
        elif code.severity is d.Severity.ERROR:
            out.append(d.diag(d.CHECKS_CONFIG, config.field_loc("disable"), f"{code.id} is an error and cannot be switched off",
                              "fix what it reports; only warnings can be disabled"))
        else:
            disabled.add(code.id)
    return out + [diag for diag in diagnostics if diag.code.id not in disabled]


# Importing the modules registers their checks.
from . import content, item_writing, questions, references, schedule  # noqa: E402,F401
