"""Checks: small functions from the model to diagnostics, registered in one list."""

from __future__ import annotations

from typing import Callable, Iterable

from ..diagnostics import Diagnostic
from ..model import Course

Check = Callable[[Course], Iterable[Diagnostic]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def run_checks(course: Course) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for fn in CHECKS:
        out.extend(fn(course))
    return out


# Importing the modules registers their checks.
from . import content, questions, references, schedule  # noqa: E402,F401
