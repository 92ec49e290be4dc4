"""The target registry lists the built-in targets from metadata, so that `course targets` starts fast."""

from __future__ import annotations

import subprocess
import sys

import pytest

from course_builder import targets


@pytest.mark.parametrize("name", sorted(targets.BUILTIN))
def test_builtin_metadata_matches_the_target_class(name: str):
    cls = targets.get(name)
    assert cls.name == name
    assert cls.__module__ == targets.BUILTIN[name].module
    assert cls.description == targets.BUILTIN[name].description


def test_groups_name_registered_targets():
    for members in targets.GROUPS.values():
        assert set(members) <= set(targets.names())
    assert targets.expand(["scorm", "html", "scorm12"]) == ["scorm12", "scorm2004", "html"]
    with pytest.raises(KeyError):
        targets.expand(["pdf"])


def test_listing_targets_imports_no_target_and_no_heavy_library():
    """`course targets` and `course --version` stay at start-up cost: no pydantic, lxml, jinja2, markdown-it."""
    probe = (
        "import sys\n"
        "from course_builder.cli import main\n"
        "for argv in (['course', 'targets'], ['course', '--version']):\n"
        "    sys.argv = argv\n"
        "    try: main()\n"
        "    except SystemExit: pass\n"
        "heavy = ('pydantic', 'lxml', 'jinja2', 'markdown_it', 'yaml', 'course_builder.model', 'course_builder.targets.')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    listed = proc.stdout.strip().splitlines()
    assert listed[-1] == "[]", listed[-1]
    assert any(line.startswith("scorm2004 ") for line in listed)
