"""course_builder: course-as-code for Moodle-based blended learning."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def check(root: Path, cache=None, warm=None):
    """Load and check a course folder: (model, sorted diagnostics). Raises loader.NotACourse.

    cache: a ``cache.Cache`` (e.g. ``cache.for_course(root)``) to reuse what earlier runs parsed of
    unchanged files; the result is the same with and without. The default is no cache, so that a
    library call writes nothing into the course folder; the `course` commands use the folder's cache.
    warm: a ``warm.WarmState`` that a long-running process passes to every rebuild (the same result,
    sooner after a small edit); its cache is used instead of cache.
    """
    from .cache import NO_CACHE, gc_paused
    from .checks import run_checks, switched_off
    from .diagnostics import sort_unique
    from .loader import load

    with gc_paused():
        result = load(Path(root), cache if cache is not None else NO_CACHE, warm)
        diagnostics = list(result.diagnostics)
        diagnostics += run_checks(result.course)
        return result.course, sort_unique(switched_off(result.course, diagnostics))
