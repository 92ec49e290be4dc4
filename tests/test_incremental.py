"""Incremental loading: with a warm cache, check() gives the same model and diagnostics as without.

Every corpus case is run cold, warm, after the break (an edit of a cached course) and after a
further edit; the bundled course too. A warm run that still parses a file counts as a miss, so these
tests also fail if the cache silently stops working.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_course
from test_check_corpus import CASES, LESSON, _prepare

from course_builder import check
from course_builder.cache import Cache

sys.path.insert(0, str(REPO / "bench"))
from bench_build import copy_course  # noqa: E402  (the bench edits the same copy of the bundled course)

SECOND_LESSON = "modules/01-grundlagen/02-vertiefung.md"


def same_as_uncached(root: Path, cache: Cache):
    """check() with the cache, asserted equal to check() without one."""
    model, diagnostics = check(root, cache=cache)
    fresh_model, fresh_diagnostics = check(root)
    assert diagnostics == fresh_diagnostics
    assert model == fresh_model
    return model, diagnostics


def warm(root: Path, cache: Cache):
    """A second run on unchanged files: same result, and no file parsed again."""
    misses = cache.misses
    result = same_as_uncached(root, cache)
    assert cache.misses == misses, "a warm run parsed files again"
    return result


def edit(root: Path, rel: str, old: str, new: str) -> bool:
    path = root / rel
    if path.is_symlink() or not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    if old not in text:
        return False
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return True


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cached_check_equals_uncached_on_every_corpus_case(case, mini: Path, tmp_path: Path):
    cache = Cache(tmp_path / "cache")
    same_as_uncached(mini, cache)
    assert cache.misses > 0 and cache.enabled
    warm(mini, cache)
    _prepare(case, mini)  # the break, made to a course whose files are all cached
    same_as_uncached(mini, cache)
    warm(mini, cache)
    if edit(mini, SECOND_LESSON, "## Details", "## Mehr Details"):
        same_as_uncached(mini, cache)


def test_a_changed_heading_breaks_a_link_from_a_cached_lesson(mini: Path, tmp_path: Path):
    """The link check sees the headings of today's files, not a verdict cached with the linking lesson."""
    cache = Cache(tmp_path / "cache")
    _, diagnostics = same_as_uncached(mini, cache)
    assert not any(d.code.id == "LNK002" for d in diagnostics)
    assert edit(mini, SECOND_LESSON, "## Details", "## Mehr Details")
    _, diagnostics = same_as_uncached(mini, cache)
    assert [d.loc.file for d in diagnostics if d.code.id == "LNK002"] == [LESSON]


def test_cached_check_equals_uncached_on_the_bundled_course(tmp_path: Path):
    course = copy_course(REPO, tmp_path / "course")
    cache = Cache(tmp_path / "cache")
    same_as_uncached(course, cache)
    warm(course, cache)
    lesson = sorted((course / "modules").glob("*/*.md"))[0]
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nEin neuer Absatz mit TODO.\n", encoding="utf-8")
    misses = cache.misses
    _, diagnostics = same_as_uncached(course, cache)
    assert cache.misses == misses + 1, "exactly the edited lesson is parsed again"
    assert any(d.code.id == "TXT001" and d.loc.file.endswith(lesson.name) for d in diagnostics)


def test_an_image_that_now_leaves_the_course_is_found_with_a_warm_cache(mini: Path, tmp_path: Path):
    cache = Cache(tmp_path / "cache")
    same_as_uncached(mini, cache)
    media = mini / "modules/01-grundlagen/media/karte.svg"
    outside = tmp_path / "outside.svg"
    shutil.move(media, outside)
    os.symlink(outside, media)
    _, diagnostics = same_as_uncached(mini, cache)
    assert any(d.code.id == "MED004" for d in diagnostics)


def test_a_renamed_module_folder_changes_the_quizs_module_with_a_warm_cache(mini: Path, tmp_path: Path):
    cache = Cache(tmp_path / "cache")
    model, _ = same_as_uncached(mini, cache)
    assert model.quizzes[0].module == "grundlagen"
    (mini / "modules/01-grundlagen").rename(mini / "modules/01-basis")
    model, _ = same_as_uncached(mini, cache)
    assert model.quizzes[0].module is None


def test_cli_cache_flags(mini: Path, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("COURSE_CACHE_DIR")
    assert run_course("check", str(mini), "--no-cache").code == 0
    assert not (mini / ".course-cache").exists()
    elsewhere = tmp_path / "elsewhere"
    assert run_course("check", str(mini), "--cache-dir", str(elsewhere)).code == 0
    assert any(elsewhere.rglob("*")) and not (mini / ".course-cache").exists()
    assert run_course("check", str(mini)).code == 0
    assert (mini / ".course-cache").is_dir()
    out = tmp_path / "out"
    run = run_course("build", str(mini), "-t", "html", "-o", str(out), "--no-cache", "--cache-dir", str(elsewhere))
    assert run.code == 0, run.output
