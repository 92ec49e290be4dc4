"""The content-addressed cache: a miss is always safe, a hit returns what was stored."""

from __future__ import annotations

import os

from course_builder import cache as cache_mod
from course_builder.cache import Cache, digest


def test_round_trip_and_object_round_trip(tmp_path):
    store = Cache(tmp_path)
    key = store.key("lesson", b"text")
    assert store.get("parse", key) is None
    store.put("parse", key, b"payload")
    assert store.get("parse", key) == b"payload"
    store.put_object("parse", key + "o", {"a": [1, 2]})
    assert store.get_object("parse", key + "o") == {"a": [1, 2]}
    assert (store.hits, store.misses) == (2, 1)


def test_keys_separate_their_parts():
    assert digest("ab", "c") != digest("a", "bc")
    assert digest("a") == digest(b"a")


def test_key_depends_on_the_toolchain(monkeypatch):
    store = Cache(None)
    before = store.key("x")
    monkeypatch.setattr(cache_mod, "toolchain_fingerprint", lambda: "another toolchain")
    assert store.key("x") != before


def test_damaged_entry_is_a_miss(tmp_path):
    store = Cache(tmp_path)
    store.put("parse", "ab" * 32, b"not a pickle")
    assert store.get_object("parse", "ab" * 32) is None
    assert store.hits == 0 and store.misses == 1


def test_unwritable_cache_only_stops_caching(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    store = Cache(blocked)
    store.put("parse", "cd" * 32, b"x")
    assert not store.enabled
    assert store.get("parse", "cd" * 32) is None


def test_disabled_cache_stores_nothing(tmp_path):
    cache_mod.NO_CACHE.put("parse", "ef" * 32, b"x")
    assert cache_mod.NO_CACHE.get("parse", "ef" * 32) is None


def test_default_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(cache_mod.ENV_CACHE_DIR, raising=False)
    assert cache_mod.default_dir(tmp_path) == tmp_path / ".course-cache"
    monkeypatch.setenv(cache_mod.ENV_CACHE_DIR, os.fspath(tmp_path / "elsewhere"))
    assert cache_mod.default_dir(tmp_path) == tmp_path / "elsewhere"


def test_pack_keeps_what_a_run_used_and_drops_the_rest(tmp_path):
    store = Cache(tmp_path)
    pack = cache_mod.Pack(store, "course")
    pack.put("a", {"value": 1})
    pack.put("b", [2])
    pack.save()
    again = cache_mod.Pack(store, "course")
    assert again.get("a") == {"value": 1}
    assert again.get("missing") is None
    again.save()  # "b" was not used by this run
    third = cache_mod.Pack(store, "course")
    assert third.get("a") == {"value": 1} and third.get("b") is None
    assert cache_mod.Pack(store, "another course").get("a") is None


def test_pack_skips_what_cannot_be_pickled(tmp_path):
    pack = cache_mod.Pack(Cache(tmp_path), "course")
    pack.put("lambda", lambda: None)
    assert pack.get("lambda") is None


def test_prune_drops_the_oldest_entries_first(tmp_path):
    store = Cache(tmp_path)
    for n, age in enumerate([300, 200, 100]):
        key = f"{n:02d}" * 32
        store.put("target", key, b"x" * 1000)
        stamp = os.path.getmtime(store._path("target", key)) - age
        os.utime(store._path("target", key), (stamp, stamp))
    store.touch("target", "00" * 32)  # used just now: kept although written first
    assert store.prune(max_bytes=2000) == 1000
    assert store.get("target", "00" * 32) is not None
    assert store.get("target", "01" * 32) is None
    assert store.get("target", "02" * 32) is not None


def test_for_course_follows_the_flags(tmp_path, monkeypatch):
    monkeypatch.delenv(cache_mod.ENV_CACHE_DIR, raising=False)
    assert cache_mod.for_course(tmp_path, no_cache=True) is cache_mod.NO_CACHE
    assert cache_mod.for_course(tmp_path, no_cache=True, cache_dir=tmp_path / "c") is cache_mod.NO_CACHE
    assert cache_mod.for_course(tmp_path, cache_dir=tmp_path / "c").directory == tmp_path / "c"
    assert cache_mod.for_course(tmp_path).directory == tmp_path / ".course-cache"


def test_prune_daily_prunes_once_a_day(tmp_path):
    store = Cache(tmp_path)
    store.put("target", "ab" * 32, b"x" * 100)
    store.prune_daily(max_bytes=0)
    assert store.get("target", "ab" * 32) is None  # the first prune of the folder ran
    store.put("target", "ab" * 32, b"x" * 100)
    store.prune_daily(max_bytes=0)
    assert store.get("target", "ab" * 32) == b"x" * 100  # pruned less than a day ago: left alone


def test_fingerprint_follows_the_installed_libraries(monkeypatch):
    assert any(name.startswith("nh3-") for name in cache_mod.installed_distributions())
    before = cache_mod.toolchain_fingerprint()
    monkeypatch.setattr(cache_mod, "installed_distributions", lambda: ["nh3-99.0.dist-info"])
    cache_mod.toolchain_fingerprint.cache_clear()
    try:
        assert cache_mod.toolchain_fingerprint() != before
    finally:
        monkeypatch.undo()
        cache_mod.toolchain_fingerprint.cache_clear()
    assert cache_mod.toolchain_fingerprint() == before


def test_gc_paused_resumes_collection_and_leaves_frozen_objects_frozen():
    import gc

    assert gc.isenabled()
    with cache_mod.gc_paused():
        assert not gc.isenabled()
        with cache_mod.gc_paused():
            pass
        assert not gc.isenabled()
        made = [[n] for n in range(1000)]
    assert gc.isenabled() and gc.get_count()[0] < 100  # promoted unscanned, not left young
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with cache_mod.gc_paused():
            made += [[n] for n in range(10)]
        assert gc.get_freeze_count() == frozen  # someone else's frozen objects stay frozen
    finally:
        gc.unfreeze()


def test_course_state_has_a_folder_per_course_in_a_shared_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(cache_mod.ENV_CACHE_DIR, raising=False)
    assert cache_mod.course_state_dir(tmp_path / "a", "preview") == tmp_path / "a" / ".course-cache" / "preview"
    monkeypatch.setenv(cache_mod.ENV_CACHE_DIR, os.fspath(tmp_path / "shared"))
    a, b = cache_mod.course_state_dir(tmp_path / "a", "preview"), cache_mod.course_state_dir(tmp_path / "b", "preview")
    assert a != b and a.parent == b.parent == tmp_path / "shared" / "preview"
