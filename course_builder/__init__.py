"""course_builder: course-as-code for Moodle-based blended learning."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def check(root: Path):
    """Load and check a course folder: (model, sorted diagnostics). Raises loader.NotACourse."""
    from .checks import run_checks, switched_off
    from .diagnostics import sort_unique
    from .loader import load

    result = load(Path(root))
    diagnostics = list(result.diagnostics)
    diagnostics += run_checks(result.course)
    return result.course, sort_unique(switched_off(result.course, diagnostics))
