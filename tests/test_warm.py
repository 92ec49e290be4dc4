"""The warm state of a long-running process (warm.py, nodememo.py, Cache.keep_in_memory).

A rebuild with it gives what a cold run gives (model, diagnostics, every output byte) after every
kind of change; it reads and parses only what changed, and keeps the very node objects of the rest
(what is derived from them carries over); nothing it keeps outlives its use."""

from __future__ import annotations

import gc
import os
import shutil
import time
import weakref
from pathlib import Path

import pytest
from conftest import REPO, output_files
from preview_support import copy_course

from course_builder import check, targets
from course_builder.build import build
from course_builder.cache import Cache
from course_builder.loader import Loader
from course_builder.model import Lesson
from course_builder.nodememo import node_memo
from course_builder.sources import Sources
from course_builder.warm import RACY_NS, WarmState

LESSON = "modules/02-kommunikation/01-stakeholder-partner-zielgruppen.md"
QUIZ = "assessments/03-laterale-fuehrung/quiz.md"
MEDIA = "modules/01-netzwerke-aufbauen/media/netzwerkkarte.svg"
OPTIONS = targets.BuildOptions(extra={"lti_url": "https://lti.example.test"})


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A copy of the bundled course (its files keep their old times: the warm state trusts their stat)."""
    return copy_course(REPO, tmp_path / "course")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def changes(root: Path):
    """(name, change, paths a watcher reports) triples: every kind of edit a designer makes while a process watches."""
    lesson, quiz, media = root / LESSON, root / QUIZ, root / MEDIA
    quiz_text = quiz.read_text(encoding="utf-8")
    added = lesson.with_name("09-neu.md")
    renamed = root / "modules/06-oeffentlichkeitsarbeit", root / "modules/07-oeffentlichkeitsarbeit"
    yield "nothing", lambda: None, []
    yield "a lesson edited", lambda: append(lesson, "\nEin neuer Absatz über Netzwerkpflege.\n"), [lesson]
    yield "a picture replaced", lambda: media.write_bytes(media.read_bytes().replace(b"</svg>", b"<!-- neu --></svg>")), [media]
    picture = media.read_bytes()
    yield "a picture removed", lambda: media.unlink(), [media]
    yield "the picture back", lambda: media.write_bytes(picture.replace(b"</svg>", b"<!-- neu --></svg>")), [media]
    yield "a quiz broken", lambda: quiz.write_text(quiz_text.replace("## single:", "## singel:", 1), encoding="utf-8"), [quiz]
    yield "the quiz fixed", lambda: quiz.write_text(quiz_text, encoding="utf-8"), [quiz]
    yield "a lesson added", lambda: shutil.copy(lesson, added), [added]
    yield "a lesson deleted", lambda: added.unlink(), [added]
    yield "the glossary edited", lambda: append(root / "glossary.yaml", "\n- term: Netzwerkabend\n  definition: Ein Treffen.\n"), \
        [root / "glossary.yaml"]
    yield "a module renamed", lambda: renamed[0].rename(renamed[1]), renamed


@pytest.mark.parametrize("reported", [False, True], ids=["by stat", "by the watcher's reports"])
def test_warm_rebuilds_equal_cold_runs_after_every_kind_of_edit(course_dir: Path, tmp_path: Path, reported: bool):
    """By stat: a process that is not told what changed. Reported: one that is (course preview, build --watch),
    which then takes every file and module folder no report names as it was."""
    warm = WarmState(Cache(tmp_path / "cache"))
    for name, change, paths in changes(course_dir):
        change()
        if reported:
            warm.changed({os.fspath(path) for path in paths})
        course, diagnostics = check(course_dir, warm.cache, warm)
        cold_course, cold_diagnostics = check(course_dir)
        assert diagnostics == cold_diagnostics, name
        assert course.model_dump_json() == cold_course.model_dump_json(), name
        if any(d.is_error for d in diagnostics):
            continue
        build(course, targets.names(), tmp_path / "warm", OPTIONS, cache=warm.cache, wait_for_cleanup=False)
        shutil.rmtree(tmp_path / "cold", ignore_errors=True)
        build(cold_course, targets.names(), tmp_path / "cold", OPTIONS)
        assert output_files(tmp_path / "warm") == output_files(tmp_path / "cold"), name
    warm.close()


def test_a_rebuild_parses_only_the_edited_file_and_keeps_every_other_node(course_dir: Path, monkeypatch):
    warm = WarmState()
    before, _ = check(course_dir, warm=warm)
    parsed: list[str] = []
    original = Loader._lesson
    monkeypatch.setattr(Loader, "_lesson", lambda self, path, source: parsed.append(source.rel) or original(self, path, source))

    append(course_dir / LESSON, "\nEin neuer Absatz.\n")
    after, _ = check(course_dir, warm=warm)

    assert parsed == [LESSON]
    edited = next(m for m in after.modules if any(lesson.path == course_dir / LESSON for lesson in m.lessons))
    for old, new in zip(before.modules, after.modules):
        assert (new is old) == (new is not edited), new.id  # the same objects, but for the edited module
    assert all(new is old for new, old in zip(after.quizzes, before.quizzes))
    changed = [new for old, new in zip(before.modules, after.modules) for new, old in zip(new.lessons, old.lessons)
               if new is not old]
    assert [lesson.path for lesson in changed] == [course_dir / LESSON]


@pytest.mark.parametrize("reported", [False, True], ids=["by stat", "by the watcher's reports"])
def test_findings_kept_with_their_nodes_follow_every_edit_a_check_reads(course_dir: Path, reported: bool):
    """Checks keep a node's findings with the node and the other nodes they read (checks.node_findings):
    an edit of one of those (the quiz's module, a link's target text) must bring new findings."""
    lesson, module_yaml = course_dir / LESSON, course_dir / "modules/02-kommunikation/module.yaml"
    yaml_text = module_yaml.read_text(encoding="utf-8")
    edits = [
        ("a broken anchor", lambda: append(lesson, "\nSiehe [unten](#gibt-es-nicht).\n"), lesson, "LNK002"),
        ("its heading added", lambda: append(lesson, "\n## Gibt es nicht\n\nText.\n"), lesson, None),
        ("a pass mark above 100", lambda: module_yaml.write_text(yaml_text.replace("pass_mark: 70", "pass_mark: 150"),
                                                                 encoding="utf-8"), module_yaml, "PASS001"),
        ("an objective a quiz names removed", lambda: module_yaml.write_text(
            yaml_text.replace("  - id: anspruchsgruppen\n", "  - id: anspruchsgruppen-alt\n"), encoding="utf-8"),
         module_yaml, "REF001"),
        ("all fixed", lambda: module_yaml.write_text(yaml_text, encoding="utf-8"), module_yaml, None),
    ]
    warm = WarmState()
    if reported:
        warm.changed(set())
    check(course_dir, warm=warm)
    check(course_dir, warm=warm)
    for name, edit, path, expected in edits:
        edit()
        if reported:
            warm.changed({os.fspath(path)})
        _, diagnostics = check(course_dir, warm=warm)
        assert diagnostics == check(course_dir)[1], name
        codes = {diag.code.id for diag in diagnostics}
        assert (expected in codes) if expected else not diagnostics, (name, codes)


def test_told_what_changed_a_load_opens_and_stats_only_the_reported_files(course_dir: Path, monkeypatch):
    """A watching process: no stat per source file, no listing of unchanged module folders; a module no
    report touched is its last load's node (its diagnostics and texts come along: the equivalence test
    above compares them with cold runs)."""
    from course_builder import warm as warm_module
    from course_builder.loader import load

    warm = WarmState()
    warm.changed(set())  # the watcher is up: from the next load on, reports are all there is
    load(course_dir, warm=warm)
    before = load(course_dir, warm=warm).course
    opened, stated = [], []
    original_read, original_lstat = Sources.read, warm_module.os.lstat
    monkeypatch.setattr(Sources, "read", lambda self, path, *a: opened.append(self.rel(path)) or original_read(self, path, *a))
    monkeypatch.setattr(warm_module.os, "lstat", lambda path: stated.append(os.fspath(path)) or original_lstat(path))

    append(course_dir / LESSON, "\nEin neuer Absatz.\n")
    warm.changed({os.fspath(course_dir / LESSON)})
    after = load(course_dir, warm=warm).course

    assert opened == [LESSON]
    edited_folder = os.fspath((course_dir / LESSON).parent)
    assert os.fspath(course_dir / LESSON) in stated
    elsewhere = [p for p in stated if p.startswith(os.fspath(course_dir)) and not p.startswith(edited_folder)
                 and not edited_folder.startswith(p + "/")]  # the folders above are resolved once per load
    assert elsewhere == []
    edited = next(m for m in after.modules if any(lesson.path == course_dir / LESSON for lesson in m.lessons))
    for old, new in zip(before.modules, after.modules):
        assert (new is old) == (new is not edited), new.id
    assert after.quizzes is before.quizzes


def test_a_module_that_holds_a_link_is_loaded_again_though_no_report_names_it(course_dir: Path):
    """The watcher reports the link's target where it lies, not the link: such a module is never replayed."""
    shared = course_dir / "texte"
    shared.mkdir()
    (shared / "gemeinsam.md").write_text("---\ntitle: Gemeinsam\nminutes: 5\n---\nErste Fassung.\n", encoding="utf-8")
    module = course_dir / "modules/02-kommunikation"
    (module / "09-gemeinsam.md").symlink_to(shared / "gemeinsam.md")
    warm = WarmState()
    warm.changed(set())
    check(course_dir, warm=warm)
    check(course_dir, warm=warm)
    (shared / "gemeinsam.md").write_text("---\ntitle: Gemeinsam\nminutes: 5\n---\nZweite Fassung.\n", encoding="utf-8")
    warm.changed({os.fspath(shared / "gemeinsam.md")})
    course, _ = check(course_dir, warm=warm)
    lesson = next(l for m in course.modules for l in m.lessons if l.path.name == "09-gemeinsam.md")
    assert "Zweite Fassung" in lesson.body.html


def test_a_module_showing_an_image_from_outside_its_folder_is_loaded_again(course_dir: Path):
    """Where such an image resolves to can change with no report inside the module's folder (here a
    folder link is pointed elsewhere): the module is never taken from the last load."""
    for name in ("bilder-a", "bilder-b"):
        (course_dir / name).mkdir()
        (course_dir / name / "bild.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><title>{name}</title></svg>',
                                                    encoding="utf-8")
    (course_dir / "bilder").symlink_to(course_dir / "bilder-a")
    append(course_dir / LESSON, "\n![Ein gemeinsames Bild](../../bilder/bild.svg)\n")
    warm = WarmState()
    warm.changed(set())
    check(course_dir, warm=warm)
    check(course_dir, warm=warm)
    (course_dir / "bilder").unlink()
    (course_dir / "bilder").symlink_to(course_dir / "bilder-b")
    warm.changed({os.fspath(course_dir / "bilder")})
    course, _ = check(course_dir, warm=warm)
    lesson = next(l for m in course.modules for l in m.lessons if l.path == course_dir / LESSON)
    assert [a.path.parent.name for a in lesson.assets if a.src.endswith("bild.svg")] == ["bilder-b"]
    assert course.model_dump_json() == check(course_dir)[0].model_dump_json()


def test_reports_about_another_folder_than_the_loaded_one_count_as_unknown(course_dir: Path, tmp_path: Path):
    """A watcher that sees the course by another name (a link on the way) reports paths the loader does not
    know: then nothing is taken as unchanged."""
    link = tmp_path / "kurs-link"
    link.symlink_to(course_dir)
    warm = WarmState()
    warm.changed(set())
    check(course_dir, warm=warm)
    check(course_dir, warm=warm)
    append(course_dir / LESSON, "\nNeu über den Link.\n")
    warm.changed({os.fspath(link / LESSON)})
    course, _ = check(course_dir, warm=warm)
    assert "Neu über den Link" in next(l for m in course.modules for l in m.lessons if l.path == course_dir / LESSON).body.html


def test_rebuilds_told_what_changed_leave_the_cache_whole_for_the_next_process(course_dir: Path, tmp_path: Path):
    """Modules taken from the last load still count as used: closing the process keeps their parsed files."""
    cache_dir = tmp_path / "cache"
    warm = WarmState(Cache(cache_dir))
    warm.changed(set())
    for text in ("", "\nEins.\n", "\nZwei.\n", "\nDrei.\n"):
        if text:
            append(course_dir / LESSON, text)
            warm.changed({os.fspath(course_dir / LESSON)})
        check(course_dir, warm=warm)
    warm.close()
    fresh = Cache(cache_dir)
    check(course_dir, fresh)
    assert fresh.misses == 0 and fresh.hits > 0


def test_a_file_changed_without_a_new_size_or_mtime_is_read_again(course_dir: Path):
    """Size and mtime can be kept by a tool (or set back by hand); the change time and inode cannot."""
    warm = WarmState()
    lesson = course_dir / LESSON
    check(course_dir, warm=warm)
    st = lesson.stat()
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("Stakeholder", "Stakeholdex", 1), encoding="utf-8")
    os.utime(lesson, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert lesson.stat().st_size == st.st_size and lesson.stat().st_mtime_ns == st.st_mtime_ns

    course, _ = check(course_dir, warm=warm)
    assert "Stakeholdex" in next(l for m in course.modules for l in m.lessons if l.path == lesson).title


def test_a_file_changed_within_the_last_two_seconds_is_not_trusted(tmp_path: Path):
    """A file system with coarse times could show two saves within a tick with equal stat ("racily clean")."""
    path = tmp_path / "datei.md"
    path.write_text("eins", encoding="utf-8")
    warm, sources = WarmState(), Sources(tmp_path)
    assert warm.read(sources, path).text == "eins"
    assert os.fspath(path) not in warm.files
    old = time.time_ns() - RACY_NS - 10**9
    os.utime(path, ns=(old, old))
    warm.read(sources, path)
    assert os.fspath(path) in warm.files


def test_what_a_node_gives_is_remembered_while_the_node_lives():
    class Value:
        pass

    lesson = Lesson.model_construct(id="a", title="A")
    calls = []
    value = node_memo("test", lesson, lambda: calls.append(1) or Value())
    assert node_memo("test", lesson, lambda: calls.append(1) or Value()) is value
    assert node_memo("other", lesson, lambda: calls.append(1) or Value()) is not value
    assert calls == [1, 1]
    held = weakref.ref(value)
    del lesson, value
    gc.collect()
    assert held() is None  # the memo let go of the value with its node


def test_the_cache_in_memory_serves_without_reading_the_disk_and_lets_go_of_unused_entries(tmp_path: Path):
    cache = Cache(tmp_path / "cache")
    cache.keep_in_memory(limit=1000)
    cache.put("unit", "a" * 64, b"x" * 100)
    cache.put("unit", "b" * 64, b"y" * 2000)  # beyond the limit: on disk only
    shutil.rmtree(tmp_path / "cache")
    assert cache.get("unit", "a" * 64) == b"x" * 100
    assert cache.get("unit", "b" * 64) is None
    cache.next_run()
    assert cache.get("unit", "a" * 64) == b"x" * 100  # used in the last run: kept
    cache.next_run()
    cache.next_run()
    assert cache.get("unit", "a" * 64) is None  # unused for a run: gone


def test_without_a_cache_folder_the_warm_state_keeps_its_cache_in_memory_only(course_dir: Path, tmp_path: Path,
                                                                               monkeypatch):
    """`course build --watch --no-cache`: nothing is written for the cache, and still a rebuild after an
    edit renders only the edited module's page."""
    from course_builder import player
    from course_builder.cache import NO_CACHE

    rendered = []
    original = player.render_module
    monkeypatch.setattr(player, "render_module", lambda course, module, ctx: rendered.append(module.id)
                        or original(course, module, ctx))
    warm = WarmState(NO_CACHE)
    for edit in (None, "\nEin neuer Absatz.\n"):
        if edit:
            append(course_dir / LESSON, edit)
        rendered.clear()
        course, _ = check(course_dir, warm.cache, warm)
        build(course, ["html"], tmp_path / "out", cache=warm.cache, wait_for_cleanup=False)
    warm.close()
    assert rendered == ["kommunikation"]
    assert not NO_CACHE.enabled  # the shared "no cache" stays one
    assert not (course_dir / ".course-cache").exists()


def test_a_rebuild_fingerprints_and_reads_back_only_what_changed(course_dir: Path, tmp_path: Path, monkeypatch):
    """A long-running process finds the last build's units by the identity of their inputs (liveunits.py):
    after an edit it hashes a handful of values, not every unit's inputs, and reads back from the
    output folder only files whose bytes changed, not every file it links into the new folder."""
    from course_builder import build as build_module
    from course_builder.units import _Fingerprinter

    out = tmp_path / "out"
    warm = WarmState(Cache(tmp_path / "cache"))
    course, _ = check(course_dir, warm=warm)
    build(course, targets.names(), out, OPTIONS, cache=warm.cache, wait_for_cleanup=False)
    units = sum(len(output_files(out / name)) for name in targets.names())

    hashed, read_back = [], []
    original_of, original_same = _Fingerprinter.of, build_module._same_bytes
    monkeypatch.setattr(_Fingerprinter, "of", lambda self, values: hashed.append(values) or original_of(self, values))
    monkeypatch.setattr(build_module, "_same_bytes", lambda old, data: read_back.append(Path(old)) or original_same(old, data))
    for edit in (None, "\nEin neuer Absatz über Netzwerkpflege.\n"):
        if edit:
            append(course_dir / LESSON, edit)
        before = output_files(out)
        hashed.clear()
        read_back.clear()
        course, _ = check(course_dir, warm=warm)
        build(course, targets.names(), out, OPTIONS, cache=warm.cache, wait_for_cleanup=False)
        after = output_files(out)
        changed = {out / rel for rel in after if before.get(rel) != after[rel]}
        assert bool(changed) == bool(edit)
        assert set(read_back) <= changed  # an unchanged file is linked without reading it
        # The course-wide frames (one per build) and the edited module's units: a few dozen of hundreds.
        assert len(hashed) <= (4 if edit is None else 40) < units, len(hashed)
    warm.close()


def test_the_warm_state_writes_its_cache_in_the_background_and_all_of_it_at_close(course_dir: Path, tmp_path: Path):
    warm = WarmState(Cache(tmp_path / "cache"))
    course, _ = check(course_dir, warm=warm)
    build(course, ["html"], tmp_path / "out", cache=warm.cache, wait_for_cleanup=False)
    warm.close()
    # A fresh process finds every unit on disk: nothing of the html target is made again.
    fresh = Cache(tmp_path / "cache")
    course, _ = check(course_dir, fresh)
    build(course, ["html"], tmp_path / "again", cache=fresh)
    assert fresh.misses == 0 and fresh.hits > 0
    assert output_files(tmp_path / "again") == output_files(tmp_path / "out")
