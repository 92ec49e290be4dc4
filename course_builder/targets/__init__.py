"""Output targets, registered by name in one place.

A target is a class with ``name``, ``description`` and ``build(course, out, options)`` that writes
its files below ``out`` (a fresh, empty folder; the build moves it into place atomically). A target
may also offer ``units(course, options)`` returning a ``course_builder.units.Units``: build.py then
takes its files from there, made only when their inputs changed (incremental builds).
Built-in targets are listed in BUILTIN; other packages add theirs through the entry-point group
``course_builder.targets``. Groups (e.g. ``scorm`` = ``scorm12`` + ``scorm2004``) expand to targets.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar, Protocol

from ..cache import NO_CACHE, Cache
from ..model import Course

# module path → the targets it registers; imported only when a target is needed.
BUILTIN = {
    "course_builder.targets.html": ["html"],
    "course_builder.targets.cc": ["cc"],
    "course_builder.targets.scorm": ["scorm12", "scorm2004"],
    "course_builder.targets.moodle.moodle_xml": ["moodle-xml"],
    "course_builder.targets.moodle.gift": ["gift"],
    "course_builder.targets.moodle.backup": ["moodle-backup"],
}
GROUPS: dict[str, list[str]] = {}


@dataclass
class BuildOptions:
    """Options every target may read; targets ignore what they do not use."""

    extra: dict = field(default_factory=dict)
    # Where targets that list their files as units (course_builder.units) keep and find work already done.
    cache: Cache = NO_CACHE


class OptionError(ValueError):
    """A target was given an option value it cannot use (`course build` reports it as a usage error)."""


class Target(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]

    def build(self, course: Course, out: Path, options: BuildOptions) -> None: ...


_REGISTRY: dict[str, type] = {}
_loaded = False


def register(cls):
    """Class decorator: make a target available by its name."""
    _REGISTRY[cls.name] = cls
    return cls


def register_group(name: str, members: list[str]) -> None:
    GROUPS[name] = members


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN:
        importlib.import_module(module)
    for ep in entry_points(group="course_builder.targets"):
        register(ep.load())


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def get(name: str) -> type:
    _load_all()
    return _REGISTRY[name]


def expand(requested: list[str]) -> list[str]:
    """Target and group names → target names, in registry order, without repeats; KeyError for unknown."""
    _load_all()
    wanted: list[str] = []
    for name in requested:
        members = GROUPS.get(name, [name])
        for member in members:
            if member not in _REGISTRY:
                raise KeyError(name)
            if member not in wanted:
                wanted.append(member)
    return wanted
