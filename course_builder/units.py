"""Incremental builds: a target lists its output files as units, each with everything it is made from.

A unit is one output file: its path in the target's folder, a function that makes its bytes, and
its inputs — model nodes, strings, numbers, option values. The unit's cache key is a fingerprint of
those inputs, the target's name and the unit's path, plus the toolchain fingerprint that
`Cache.key` adds (course_builder's version and every file it ships). A target declares a unit's
inputs where it adds the unit, so what a file is made from and what keys it stay side by side.

Fingerprints are content-based: a model node is hashed field by field (its parsed text, HTML,
metadata), and an `Asset` (an image or a media file a text embeds) by the bytes of its file, not by
its path, so a replaced picture is never served from an old entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import pickle
import sys
import zlib
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

import jinja2
import jinja2.bccache
import pydantic_core
from pydantic import BaseModel

from .cache import NO_CACHE, Cache
from .model import Asset, Course, Lesson, Module, Question, Quiz, Task
from .nodememo import node_memo
from .zipwriter import Member, member

UNIT_NAMESPACE = "unit"
MEMBER_NAMESPACE = "zip-member"
TEMPLATE_NAMESPACE = "template"


class Units:
    """A target's output files, each made at most once per build, from the cache when its inputs are unchanged.

    A target that offers ``units(course, options)`` lists its files here; build.py then writes only
    what changed. ``add(path, make, inputs)``: inputs=None for files not worth caching (a copied media
    file, a static asset, a package assembled from other cached parts).
    """

    def __init__(self, course: Course, target: str, cache: Cache = NO_CACHE):
        self.course = course
        self.target = target
        self.cache = cache
        self._makers: dict[str, tuple[Callable[[], bytes], tuple | None]] = {}
        self._made: dict[str, bytes] = {}

    def add(self, path: str, make: Callable[[], bytes], inputs: tuple | None = None) -> None:
        self._makers.setdefault(path, (make, inputs))

    def __iter__(self):
        return iter(list(self._makers))

    def __len__(self) -> int:
        return len(self._makers)

    def bytes(self, path: str) -> bytes:
        if path not in self._made:
            make, inputs = self._makers[path]
            self._made[path] = make() if inputs is None else memo(self.cache, self.course, f"{self.target}:{path}",
                                                                  inputs, make)
        return self._made[path]

    def member(self, path: str) -> Member:
        """The file as a zip entry; compressed once per content, so a site's zip re-compresses only what changed."""
        data = self.bytes(path)
        if not self.cache.enabled:
            return member(path, data)
        if self.cache.live is not None:
            return self.cache.live.member(f"{self.target}:{path}", data, lambda: self._member(path, data))
        return self._member(path, data)

    def _member(self, path: str, data: bytes) -> Member:
        key = self.cache.key("zip-member", runtime_fingerprint(), path, hashlib.sha256(data).digest())
        found = self.cache.get_object(MEMBER_NAMESPACE, key, shared=True)
        if not isinstance(found, Member):
            found = member(path, data)
            self.cache.put_object(MEMBER_NAMESPACE, key, found, shared=True)
        return found

    def write(self, out: Path) -> None:
        """Write every file below out (a target's build() for callers that bypass build.py)."""
        for path in self:
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.bytes(path))


def memo(cache: Cache, course: Course, what: str, inputs: tuple, make: Callable[[], bytes]) -> bytes:
    """make() cached under a key of what and the fingerprint of inputs (also for bytes several targets share)."""
    if not cache.enabled:
        return make()
    live = cache.live
    entry = live.result(what, inputs) if live is not None else None
    if entry is not None:
        return _replayed(entry)
    key = cache.key(what, runtime_fingerprint(), fingerprint(course, *inputs))
    entry = cache.get_object(UNIT_NAMESPACE, key, shared=True)
    made = not (isinstance(entry, tuple) and len(entry) == 2)
    if made:
        with _warnings_recorded() as warnings:
            entry = (make(), warnings)
        cache.put_object(UNIT_NAMESPACE, key, entry, shared=True)
    if live is not None:
        live.keep_result(what, inputs, entry)
    return entry[0] if made else _replayed(entry)


def _replayed(entry: tuple[bytes, list[dict]]) -> bytes:
    """A cached unit's bytes, after logging its warnings again: a warm build warns as the cold one did,
    extra fields and all."""
    data, warnings = entry
    for fields in warnings:
        logger = logging.getLogger(fields["name"])
        if logger.isEnabledFor(fields["levelno"]):
            logger.handle(logging.makeLogRecord(fields))
    return data


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = dict(record.__dict__, msg=record.getMessage(), args=None, exc_info=None, exc_text=None)
        try:
            pickle.dumps(fields)
        except Exception:  # an extra field that cannot be stored: keep what every handler reads
            fields = {k: fields[k] for k in ("name", "levelno", "levelname", "msg", "args", "pathname", "lineno")}
        self.records.append(fields)


@contextmanager
def _warnings_recorded():
    """The warnings targets log while making a unit (what an output cannot hold), kept to replay on a hit."""
    logger = logging.getLogger("course_builder")
    recorder = _Recorder()
    logger.addHandler(recorder)
    try:
        yield recorder.records
    finally:
        logger.removeHandler(recorder)


# --- compiled templates ------------------------------------------------------------------------


class _TemplateBytecode(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept in the build's cache: a fresh `course build` process would
    otherwise compile the player's templates again, which costs more than rendering a changed page.

    The target environments share this one object; it stores nothing outside a build (build.py makes
    the build's cache active), so the LTI tool and tests without a cache compile as before."""

    active: Cache = NO_CACHE

    def _key(self, bucket: jinja2.bccache.Bucket) -> str:
        return self.active.key("template", runtime_fingerprint(), bucket.key, bucket.checksum)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self.active.enabled:
            data = self.active.get(TEMPLATE_NAMESPACE, self._key(bucket))
            if data is not None:
                bucket.bytecode_from_string(data)  # a stale or foreign entry resets the bucket: Jinja compiles

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self.active.enabled:
            self.active.put(TEMPLATE_NAMESPACE, self._key(bucket), bucket.bytecode_to_string())


TEMPLATES = _TemplateBytecode()


@contextmanager
def templates_cached_in(cache: Cache):
    """Keep compiled templates in cache while the block runs (one build)."""
    previous, TEMPLATES.active = TEMPLATES.active, cache
    try:
        yield
    finally:
        TEMPLATES.active = previous


# --- fingerprints -----------------------------------------------------------------------------


# Libraries whose output ends up in the files: templates, minified runtime, XML. (The parsers that make
# the model need not be here: a different parse gives a different model, hence other keys.)
_OUTPUT_LIBRARIES = ("jinja2", "markupsafe", "rjsmin", "rcssmin", "lxml", "python-docx")


@lru_cache(maxsize=1)
def runtime_fingerprint() -> str:
    """What besides course_builder's own files shapes the bytes: Python (tarfile, json), zlib (every
    compressed byte) and the versions of the output libraries. An upgrade misses every old entry."""
    parts = [sys.version, zlib.ZLIB_RUNTIME_VERSION]
    for name in _OUTPUT_LIBRARIES:
        try:
            parts.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} absent")
    return "\n".join(parts)


def fingerprint(course: Course, *values: Any) -> str:
    """A hex digest of values that changes whenever anything a target could read from them changes."""
    return course.derived("unit-fingerprints", lambda c: _Fingerprinter(c.root)).of(values)


_MEMO_FROM = 8


class _Fingerprinter:
    """Hashes values to bytes; large containers are memoised by identity for the life of one course
    object, which a build treats as immutable (as Course.derived does), model nodes' text for the
    life of the node (nodememo.py).

    A model node is serialised by pydantic's own (compiled) JSON serialiser, ten times faster than a
    walk in Python; the files its assets point at are added by content.
    """

    def __init__(self, root: Path):
        self.root = pydantic_core.to_json(str(Path(root).resolve()))[1:-1]
        self.nodes: dict[int, tuple[object, bytes]] = {}  # for this course object's life
        # A node's digest lives as long as the node (nodememo.py): in a long-running process the
        # nodes of unchanged files, and so their digests, carry over from one rebuild to the next.
        self.kind = "fingerprint:" + self.root.decode("utf-8", "surrogateescape")

    def of(self, values: tuple) -> str:
        return hashlib.sha256(self._encode(values)).hexdigest()

    def _encode(self, value: Any) -> bytes:
        if isinstance(value, BaseModel):
            return self._node(value)
        if isinstance(value, (list, tuple, dict)):
            if len(value) < _MEMO_FROM:
                return self._container(value)
            # Large containers (the course's modules, its page index) recur in many units' inputs.
            known = self.nodes.get(id(value))
            if known is None or known[0] is not value:
                known = (value, b"h" + hashlib.sha256(self._container(value)).digest())
                self.nodes[id(value)] = known
            return known[1]
        if isinstance(value, bytes):
            return b"b%d:" % len(value) + value
        if isinstance(value, str):
            data = value.encode("utf-8", "surrogatepass")
            return b"s%d:" % len(data) + data
        if value is None or isinstance(value, (int, float)):
            return b"n" + repr(value).encode() + b";"
        if isinstance(value, (Path, dt.date, dt.time)):
            data = pydantic_core.to_json(value).replace(self.root, b"<course>")
            return b"v%d:" % len(data) + data
        # An input the fingerprint cannot see into could hide a change: refuse rather than serve stale output.
        raise TypeError(f"cannot fingerprint a {type(value).__name__} as a build input")

    def _container(self, value: list | tuple | dict) -> bytes:
        if isinstance(value, dict):
            return b"{" + b"".join(self._encode(k) + self._encode(v) for k, v in value.items()) + b"}"
        return b"[" + b"".join(self._encode(v) for v in value) + b"]"

    def _node(self, node: BaseModel) -> bytes:
        known = self.nodes.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        digest = node_memo(self.kind, node, lambda: self._text_digest(node))
        # Media are hashed by content on every run, not with the node: a picture may be replaced
        # while a long-running process keeps the node that shows it.
        media = _media_files(node)
        if media:
            h = hashlib.sha256(digest)
            for rel, path in media:
                h.update(b"\0" + rel.encode() + b"=" + media_digest(path).encode())
            digest = b"h" + h.digest()
        self.nodes[id(node)] = (node, digest)
        return digest

    def _text_digest(self, node: BaseModel) -> bytes:
        # Source paths count relative to the course folder, so a course that moves keeps its cache.
        data = pydantic_core.to_json(node, fallback=str).replace(self.root, b"<course>")
        return b"h" + hashlib.sha256(type(node).__qualname__.encode() + b"\0" + data).digest()


def assets_in(node: BaseModel) -> Iterable[Asset]:
    """Every asset below a node. Assets live on lessons, questions and tasks only (a test walks the
    whole model to keep this true), so the walk need not visit every answer and heading."""
    if isinstance(node, Asset):
        yield node
    elif isinstance(node, (Lesson, Question, Task)):
        yield from node.assets
    elif isinstance(node, Module):
        for lesson in node.lessons:
            yield from lesson.assets
    elif isinstance(node, Quiz):
        for question in node.questions:
            yield from question.assets
    elif isinstance(node, Course):
        for child in [*node.modules, *node.quizzes, *node.tasks]:
            yield from assets_in(child)


def _media_files(node: BaseModel) -> list[tuple[str, Path]]:
    """(rel, path) of every local media file below the node, once per node."""
    return node_memo("media", node, lambda: [(a.rel, a.path) for a in assets_in(node) if a.path is not None])


def media_state(*nodes, seen: dict | None = None) -> tuple[str, ...]:
    """The content digests of every media file below the nodes (None nodes are skipped): what a node's
    fingerprint adds on every run, for memos that skip fingerprinting nodes they have seen.
    seen: the digests taken in this run (path → digest), so that the units of one build, which
    ask for the same media many times, look at each file once."""
    return tuple(media_digest(path, seen) for node in nodes if node is not None for _, path in _media_files(node))


_MEDIA: dict[tuple, str] = {}


def media_bytes(path: Path, cache: Cache) -> bytes:
    """A media file's bytes. A long-running process keeps them with their digest and reads the file
    again only when its digest (taken once per run) changed."""
    live = cache.live
    if live is None:
        return path.read_bytes()
    digest = media_digest(path, live.digests)
    found = live.results.get(("media-bytes", os.fspath(path)))
    if found is not None and found[0] == digest:
        return found[1]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() == digest:  # not changed again since the digest was taken
        live.results.put(("media-bytes", os.fspath(path)), (digest, data))
    return data


def media_digest(path: Path, seen: dict | None = None) -> str:
    """The sha256 of a file's bytes ("missing" if it is not a readable file).

    Remembered per process by the file's identity and change time (ctime cannot be set back by
    hand, unlike mtime), so a preview that rebuilds often does not hash large media again; with
    seen (this run's digests) not even looked at twice in one run.
    """
    if seen is not None:
        found = seen.get(path)
        if found is None:
            found = seen[path] = media_digest(path)
        return found
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    identity = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    known = _MEDIA.get(identity)
    if known is None:
        try:
            known = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            return "missing"
        _MEDIA[identity] = known
    return known
