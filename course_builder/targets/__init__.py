"""Output targets, registered by name in one place.

A target is a class with ``name``, ``description`` and ``build(course, out, options)`` that writes
its files below ``out`` (a fresh, empty folder; the build moves it into place atomically). A target
may also offer ``units(course, options)`` returning a ``course_builder.units.Units``: build.py then
takes its files from there, made only when their inputs changed (incremental builds).
Built-in targets are listed in BUILTIN with their descriptions, so listing them imports none of
them; other packages add theirs through the entry-point group ``course_builder.targets``.
Groups (e.g. ``scorm`` = ``scorm12`` + ``scorm2004``) expand to targets.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from ..cache import NO_CACHE, Cache

if TYPE_CHECKING:  # the model pulls in pydantic; `course targets` must not pay for it
    from ..model import Course


@dataclass(frozen=True)
class Builtin:
    module: str  # imported only when the target is built
    description: str  # the same as the class's own (tests/test_targets_registry.py keeps them equal)


BUILTIN: dict[str, Builtin] = {
    "html": Builtin("course_builder.targets.html",
                    "static website of the course: overview, schedule, module players, glossary"),
    "cc": Builtin("course_builder.targets.cc",
                  "IMS Common Cartridge 1.1 and 1.3: the modules as LTI links to the LTI tool, in folders"),
    "scorm12": Builtin("course_builder.targets.scorm",
                       "SCORM 1.2 packages: one per module and one for the whole course (Moodle's SCORM activity)"),
    "scorm2004": Builtin("course_builder.targets.scorm",
                         "SCORM 2004 4th edition packages: one per module and one for the whole course"),
    "moodle-xml": Builtin("course_builder.targets.moodle.moodle_xml",
                          "question bank as Moodle XML (one category per module), for Question bank → Import"),
    "gift": Builtin("course_builder.targets.moodle.gift",
                    "question bank as GIFT text (without what GIFT cannot express; warnings say what)"),
    "moodle-backup": Builtin("course_builder.targets.moodle.backup",
                             "the whole blended course as a Moodle 4.5 course backup (.mbz; -O moodle=5.0 for 5.x) "
                             "to restore as a new course"),
}
GROUPS: dict[str, list[str]] = {"scorm": ["scorm12", "scorm2004"]}


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
_plugins_loaded = False


def register(cls):
    """Class decorator: make a target available by its name."""
    _REGISTRY[cls.name] = cls
    return cls


def register_group(name: str, members: list[str]) -> None:
    GROUPS[name] = members


def _load_plugins() -> None:
    """Targets of other packages (entry points); unlike the built-in ones they are imported to be listed."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group="course_builder.targets"):
        register(ep.load())


def names() -> list[str]:
    _load_plugins()
    return sorted(set(BUILTIN) | set(_REGISTRY))


def descriptions() -> dict[str, str]:
    """name → description of every target, without importing the built-in ones."""
    _load_plugins()
    described = {name: builtin.description for name, builtin in BUILTIN.items()}
    described.update((name, cls.description) for name, cls in _REGISTRY.items())
    return dict(sorted(described.items()))


def get(name: str) -> type:
    _load_plugins()
    if name not in _REGISTRY and name in BUILTIN:
        importlib.import_module(BUILTIN[name].module)
    return _REGISTRY[name]


def expand(requested: list[str]) -> list[str]:
    """Target and group names → target names, in the order asked for, without repeats; KeyError for unknown."""
    known = set(names())
    wanted: list[str] = []
    for name in requested:
        members = GROUPS.get(name, [name])
        for member in members:
            if member not in known:
                raise KeyError(name)
            if member not in wanted:
                wanted.append(member)
    return wanted
