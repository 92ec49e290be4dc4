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
