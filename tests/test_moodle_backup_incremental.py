"""The course backup builds incrementally: after a one-lesson edit only the edited module is planned
and written again, the others are replayed from the cache, and the .mbz is the one a build without
the cache makes, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from preview_support import copy_course

from course_builder import check, targets
from course_builder.build import build
from course_builder.cache import NO_CACHE, Cache
from course_builder.targets.moodle.backup import sections

LESSON = "modules/02-kommunikation/01-stakeholder-partner-zielgruppen.md"


def backup(root: Path, out: Path, delivery: str, cache: Cache = NO_CACHE, moodle: str = "4.5") -> bytes:
    course, diagnostics = check(root)
    assert not any(d.is_error for d in diagnostics)
    build(course, ["moodle-backup"], out, targets.BuildOptions(extra={"moodle-delivery": delivery, "moodle": moodle}),
          cache=cache)
    [mbz] = (out / "moodle-backup").glob("*.mbz")
    return mbz.read_bytes()


@pytest.mark.parametrize("delivery,moodle", [("scorm", "4.5"), ("native", "4.5"), ("scorm", "5.0"), ("native", "5.0")])
def test_after_an_edit_only_that_module_is_planned_again(tmp_path: Path, monkeypatch, delivery: str, moodle: str):
    root = copy_course(REPO, tmp_path / "course")
    cache = Cache(tmp_path / "cache")
    planned: list[str] = []
    plan_module = sections._add_module
    monkeypatch.setattr(sections, "_add_module", lambda b, s, m: (planned.append(m.id), plan_module(b, s, m)))
    first = backup(root, tmp_path / "cold", delivery, cache, moodle)
    assert len(planned) == len(check(root)[0].modules) > 1
    lesson = root / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nEin neuer Absatz über Netzwerkpflege.\n",
                      encoding="utf-8")
    planned.clear()
    warm = backup(root, tmp_path / "warm", delivery, Cache(tmp_path / "cache"), moodle)  # a fresh process's view
    assert planned == ["kommunikation"]
    fresh = backup(root, tmp_path / "fresh", delivery, moodle=moodle)
    assert warm == fresh != first


def test_a_cache_warmed_for_moodle_4_5_gives_the_5_0_backup_a_build_without_cache_makes(tmp_path: Path):
    """The modules' cached parts name their Moodle version (module.xml's version, the questions' context):
    a 5.0 build after a 4.5 one replays none of the 4.5 parts."""
    root = copy_course(REPO, tmp_path / "course")
    backup(root, tmp_path / "45", "native", Cache(tmp_path / "cache"))
    warm = backup(root, tmp_path / "50", "native", Cache(tmp_path / "cache"), "5.0")
    assert warm == backup(root, tmp_path / "fresh", "native", moodle="5.0")
