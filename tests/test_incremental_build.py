"""Incremental builds: warm outputs are the cold outputs, byte for byte; unchanged files are not rewritten;
nothing that changed (a lesson, a media file, an option, the toolchain) is served from an old entry."""

from __future__ import annotations

import logging
import os
import random
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, run_course
from preview_support import copy_course

from course_builder import cache as cache_mod
from course_builder import check, targets
from course_builder.build import build
from course_builder.cache import Cache
from course_builder.model import Asset
from course_builder.units import Units, assets_in
from course_builder.zipwriter import members, zip_bytes, zip_members

LESSON = "modules/02-kommunikation/01-stakeholder-partner-zielgruppen.md"
MEDIA = "modules/01-netzwerke-aufbauen/media/netzwerkkarte.svg"


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A copy of the bundled course that a test may edit."""
    return copy_course(REPO, tmp_path / "course")


def files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def run(root: Path, out: Path, cache: Cache = cache_mod.NO_CACHE, **extra) -> dict[str, bytes]:
    course, diagnostics = check(root)
    assert not any(d.is_error for d in diagnostics)
    extra.setdefault("lti_url", "https://lti.example.test")  # every target, the cartridge too
    build(course, targets.names(), out, targets.BuildOptions(extra=dict(extra)), cache=cache)
    return files(out)


def cold(root: Path, out: Path, **extra) -> dict[str, bytes]:
    shutil.rmtree(out, ignore_errors=True)
    return run(root, out, **extra)


def edit_lesson(root: Path) -> None:
    path = root / LESSON
    path.write_text(path.read_text(encoding="utf-8") + "\nEin neuer Absatz über Netzwerkpflege.\n", encoding="utf-8")


def test_warm_builds_equal_cold_builds_before_and_after_an_edit(course_dir: Path, tmp_path: Path):
    store = Cache(tmp_path / "cache")
    reference = cold(course_dir, tmp_path / "cold")
    assert run(course_dir, tmp_path / "warm", store) == reference  # fills the cache
    assert run(course_dir, tmp_path / "warm", store) == reference  # served from it
    assert store.hits > 0

    edit_lesson(course_dir)
    hits = store.hits
    after = run(course_dir, tmp_path / "warm", store)
    assert after == cold(course_dir, tmp_path / "cold")
    assert store.hits > hits  # the other modules came from the cache
    changed = {name for name in after if after[name] != reference.get(name)}
    # The edited module's page and every package holding it changed; the question banks did not.
    assert "html/module/kommunikation/index.html" in changed
    assert "scorm12/nwk-2027-kommunikation-scorm12.zip" in changed
    assert "scorm2004/nwk-2027-scorm2004.zip" in changed
    assert "moodle-backup/nwk-2027-moodle45-nousers.mbz" in changed
    assert "scorm12/nwk-2027-verstetigung-scorm12.zip" not in changed
    assert not changed & {"gift/questions.gift.txt", "moodle-xml/questions.xml"}


def test_unchanged_files_keep_inode_and_mtime(course_dir: Path, tmp_path: Path):
    out, store = tmp_path / "out", Cache(tmp_path / "cache")
    run(course_dir, out, store)
    before = {p.relative_to(out): os.stat(p) for p in out.rglob("*") if p.is_file()}
    edit_lesson(course_dir)
    run(course_dir, out, store)
    after = {p.relative_to(out): os.stat(p) for p in out.rglob("*") if p.is_file()}
    assert before.keys() == after.keys()
    kept = {rel for rel in before if (before[rel].st_ino, before[rel].st_mtime_ns) == (after[rel].st_ino, after[rel].st_mtime_ns)}
    rewritten = set(before) - kept
    assert Path("cc/nwk-2027-cc11.imscc") in kept
    assert Path("moodle-xml/questions.xml") in kept
    assert Path("scorm12/nwk-2027-verstetigung-scorm12.zip") in kept
    assert Path("html/files/modules/01-netzwerke-aufbauen/media/netzwerkkarte.svg") in kept
    assert rewritten == {Path(p) for p in (
        "html/module/kommunikation/index.html", "html/nwk-2027-html.zip",
        "scorm12/nwk-2027-kommunikation-scorm12.zip", "scorm12/nwk-2027-scorm12.zip",
        "scorm2004/nwk-2027-kommunikation-scorm2004.zip", "scorm2004/nwk-2027-scorm2004.zip",
        "moodle-backup/nwk-2027-moodle45-nousers.mbz")}
    # The folders were still swapped in whole: no staging or old folder is left behind.
    assert sorted(p.name for p in out.iterdir()) == targets.names()


def test_a_changed_media_file_is_not_served_stale(course_dir: Path, tmp_path: Path):
    store = Cache(tmp_path / "cache")
    run(course_dir, tmp_path / "warm", store)
    media = course_dir / MEDIA
    stat = media.stat()
    old = media.read_bytes()
    # Same path, same size, same mtime: only the content tells the new picture from the old one.
    new = old.replace(b"<svg", b"<SVG", 1) if b"<svg" in old else old[::-1]
    assert len(new) == len(old) and new != old
    media.write_bytes(new)
    os.utime(media, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    warm = run(course_dir, tmp_path / "warm", store)
    assert warm == cold(course_dir, tmp_path / "cold")
    assert warm[f"html/files/{MEDIA}"] == new
    with zipfile.ZipFile(tmp_path / "warm" / "scorm12" / "nwk-2027-netzwerke-aufbauen-scorm12.zip") as zf:
        assert zf.read(f"files/{MEDIA}") == new


@pytest.mark.parametrize("extra", [{"participants": "24"}, {"moodle-delivery": "native"}, {"lti_url": "https://lti.example.net"}])
def test_a_changed_option_is_not_served_stale(course_dir: Path, tmp_path: Path, extra: dict):
    store = Cache(tmp_path / "cache")
    default = run(course_dir, tmp_path / "warm", store)
    warm = run(course_dir, tmp_path / "warm", store, **extra)
    assert warm == cold(course_dir, tmp_path / "cold", **extra)
    assert warm != default


@pytest.mark.parametrize("change", ["toolchain", "runtime"])
def test_a_changed_toolchain_is_not_served_stale(course_dir: Path, tmp_path: Path, monkeypatch, change: str):
    """A code or template change alters the toolchain fingerprint, an upgrade of Python, zlib or an output
    library the runtime fingerprint: an entry made by the old code is never used for what the new code makes."""
    from course_builder import units
    from course_builder.targets.moodle import gift

    store = Cache(tmp_path / "cache")
    run(course_dir, tmp_path / "warm", store)
    monkeypatch.setattr(gift, "render", lambda bank: "// the new exporter\n")
    if change == "toolchain":
        monkeypatch.setattr(cache_mod, "toolchain_fingerprint", lambda: "course_builder of tomorrow")
    else:
        monkeypatch.setattr(units, "runtime_fingerprint", lambda: "jinja2==99")
    hits = store.hits
    warm = run(course_dir, tmp_path / "warm", store)
    if change == "toolchain":
        assert store.hits == hits  # nothing at all was taken from the old toolchain's entries
    assert warm["gift/questions.gift.txt"] == b"// the new exporter\n"
    assert warm == cold(course_dir, tmp_path / "cold")


def test_a_cached_unit_warns_as_it_did_when_made(course_dir: Path, tmp_path: Path, caplog):
    store = Cache(tmp_path / "cache")
    course, _ = check(course_dir)
    with caplog.at_level(logging.WARNING, logger="course_builder"):
        build(course, ["gift"], tmp_path / "out", cache=store)
        made = [r.getMessage() for r in caplog.records]
        caplog.clear()
        build(check(course_dir)[0], ["gift"], tmp_path / "out", cache=store)
        replayed = [r.getMessage() for r in caplog.records]
    assert store.hits >= 1
    assert made and replayed == made


def test_a_plug_in_target_without_units_keeps_its_unchanged_files(course_dir: Path, tmp_path: Path, monkeypatch):
    class Plugin:
        name = "plugin"
        description = "writes one file that never changes and one that always does"
        runs = 0

        def build(self, course, out, options):
            Plugin.runs += 1
            (out / "same.txt").write_text(course.title)
            (out / "sub").mkdir()
            (out / "sub" / "count.txt").write_text(str(Plugin.runs))

    monkeypatch.setitem(targets._REGISTRY, "plugin", Plugin)
    out = tmp_path / "out"
    course, _ = check(course_dir)
    build(course, ["plugin"], out, cache=Cache(tmp_path / "cache"))
    same, count = os.stat(out / "plugin" / "same.txt"), os.stat(out / "plugin" / "sub" / "count.txt")
    build(course, ["plugin"], out, cache=Cache(tmp_path / "cache"))
    assert os.stat(out / "plugin" / "same.txt").st_ino == same.st_ino
    assert os.stat(out / "plugin" / "sub" / "count.txt").st_ino != count.st_ino
    assert (out / "plugin" / "sub" / "count.txt").read_text() == "2"


def test_a_unit_is_made_once_and_read_back_from_the_cache(course_dir: Path, tmp_path: Path):
    course, _ = check(course_dir)
    made = []

    def make() -> bytes:
        made.append(1)
        return b"expensive"

    for _ in range(2):
        units = Units(course, "t", Cache(tmp_path / "cache"))
        units.add("a.txt", make, (course.modules[0], "option"))
        assert units.bytes("a.txt") == b"expensive" and units.bytes("a.txt") == b"expensive"
    assert len(made) == 1
    units = Units(course, "t", Cache(tmp_path / "cache"))
    units.add("a.txt", make, (course.modules[1], "option"))  # other inputs, other entry
    units.bytes("a.txt")
    assert len(made) == 2


def test_the_asset_walk_finds_every_asset_of_the_model(course_dir: Path):
    """assets_in() knows where assets live instead of visiting every node; a walk of the whole model checks it."""
    course, _ = check(course_dir)
    everything: set[int] = set()

    def walk(value) -> None:
        if isinstance(value, Asset):
            everything.add(id(value))
        elif hasattr(value, "__pydantic_fields__"):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(course)
    assert everything and {id(a) for a in assets_in(course)} == everything


def test_zip_members_write_what_zipfile_writes():
    rng = random.Random(11)
    entries = [("a/ä.html", b"<p>" * 400), ("b.png", bytes(rng.randrange(256) for _ in range(3000))),
               ("c/empty.txt", b""), ("d.js", bytes(rng.randrange(256) for _ in range(2000)) + b"x" * 5000)]
    data = zip_bytes(entries)
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as zf:
        assert zf.testzip() is None
        assert [(i.filename, zf.read(i)) for i in zf.infolist()] == sorted(entries)
        assert {i.filename: i.compress_type for i in zf.infolist()}["b.png"] == zipfile.ZIP_STORED
    assert zip_members(members(data).values()) == data


def test_the_cli_builds_with_a_cache_in_the_course_folder(course_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.delenv(cache_mod.ENV_CACHE_DIR, raising=False)
    assert run_course("build", str(course_dir), "-t", "scorm12", "--out", str(tmp_path / "out")).code == 0
    assert any((course_dir / cache_mod.CACHE_DIR_NAME).rglob("*"))
    # The cache folder is not part of the course: a second build sees the same sources.
    assert run_course("build", str(course_dir), "-t", "scorm12", "--out", str(tmp_path / "out")).code == 0


def test_a_fresh_process_renders_from_compiled_templates_in_the_cache(course_dir: Path, tmp_path: Path):
    """`course build` is a new process each time: the second one takes the compiled templates from the cache."""
    import subprocess
    import sys

    env = {**os.environ, cache_mod.ENV_CACHE_DIR: str(tmp_path / "cache")}
    outs = []
    for n in range(2):
        out = tmp_path / f"out{n}"
        edit_lesson(course_dir)  # each process renders a changed page, so it needs the module template
        subprocess.run([sys.executable, "-m", "course_builder", "build", str(course_dir), "-t", "html", "-t", "scorm12",
                        "--out", str(out)], check=True, capture_output=True, env=env)
        outs.append(files(out))
    assert any((tmp_path / "cache" / "template").rglob("*"))
    reference = cold(course_dir, tmp_path / "cold")
    assert outs[1] == {name: data for name, data in reference.items() if name.startswith(("html/", "scorm12/"))}


def test_a_renamed_module_changes_the_cached_course_manifest_as_a_cold_build_does(course_dir: Path, tmp_path: Path):
    """The course package's manifest comes from the cache on its facts; a module title is one of them."""
    store = Cache(tmp_path / "cache")
    run(course_dir, tmp_path / "warm", store)
    module_yaml = sorted((course_dir / "modules").glob("*/module.yaml"))[0]
    text = module_yaml.read_text(encoding="utf-8")
    module_yaml.write_text(text.replace("title: ", "title: Neu ", 1), encoding="utf-8")
    assert run(course_dir, tmp_path / "warm", store) == cold(course_dir, tmp_path / "cold")
