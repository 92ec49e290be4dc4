"""A content-addressed cache for the parts of a build that cost time (parsed files, rendered pages, packages).

An entry's key is a hash of everything its value depends on, plus the toolchain fingerprint: the
version and the bytes of every file of course_builder itself (code, templates, static files), the
Python version and the installed versions of the libraries beside its dependencies (markdown-it-py
and nh3 shape the HTML, pydantic the pickled nodes). A change of the toolchain therefore misses
every old entry instead of serving stale output; nothing is ever invalidated by hand. Entries are written atomically, so a killed build leaves no torn entry,
and a cache that cannot be read or written is only slower: every problem counts as a miss.

Default location: ``<course>/.course-cache/`` (the loader skips dot-folders), or ``$COURSE_CACHE_DIR``.
``for_course()`` is how commands open it (``--no-cache``, ``--cache-dir``); ``Cache.prune()`` keeps the
folder from growing without end; a ``Pack`` keeps many small entries (one per source file) in one
cache file, so that a warm start reads one file instead of thousands.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from . import __version__

CACHE_DIR_NAME = ".course-cache"
ENV_CACHE_DIR = "COURSE_CACHE_DIR"
# prune() keeps the folder below this size, dropping the entries used longest ago first.
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
# What a long-running process keeps in memory of it at most (Cache.keep_in_memory).
DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024
PRUNE_INTERVAL = 24 * 3600
PRUNE_STAMP = "last-prune"
_PACKAGE = Path(__file__).resolve().parent


# Libraries whose version changes what is cached; the distributions installed beside them count.
_LIBRARIES = ("markdown_it", "nh3", "pydantic", "pydantic_core", "yaml", "jinja2", "lxml")


def installed_distributions() -> list[str]:
    """The names of the distributions installed where the libraries are (e.g. 'nh3-0.3.8.dist-info').

    The names carry the versions, and listing a folder is far cheaper than importlib.metadata or
    importing the libraries, which a warm load does not need."""
    folders = set()
    for name in _LIBRARIES:
        with contextlib.suppress(ImportError, ValueError):
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin:
                folder = Path(spec.origin).parent
                folders.add(folder.parent if spec.submodule_search_locations else folder)
    names: list[str] = []
    for folder in sorted(folders):
        with contextlib.suppress(OSError):
            names += sorted(n for n in os.listdir(folder) if n.endswith((".dist-info", ".egg-info")))
    return names


@lru_cache(maxsize=1)
def toolchain_fingerprint() -> str:
    """Hash of course_builder's version, every file it ships (sorted, path and bytes), the Python
    version and the installed distributions."""
    digest = hashlib.sha256(__version__.encode())
    digest.update(sys.version.encode() + b"\0")
    for name in installed_distributions():
        digest.update(name.encode() + b"\0")
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def digest(*parts: bytes | str) -> str:
    """A key from parts; each part is length-prefixed so that ('ab', 'c') and ('a', 'bc') differ."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def default_dir(course_root: Path) -> Path:
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env) if env else Path(course_root) / CACHE_DIR_NAME


class Recent:
    """What the current run and the last one used, by key: an entry no run asked for since the last
    next_run() is let go with the next. With a limit, values (bytes) beyond it in total are not kept."""

    def __init__(self, limit: int | None = None):
        self.limit = limit
        self._now: dict = {}
        self._before: dict = {}
        self._size = 0

    def get(self, key):
        value = self._now.get(key)
        if value is None:
            value = self._before.get(key)
            if value is not None:
                self.put(key, value)
        return value

    def put(self, key, value) -> None:
        if self.limit is not None and self._size + len(value) > self.limit:
            return
        if self._now.setdefault(key, value) is value and self.limit is not None:
            self._size += len(value)

    def next_run(self) -> None:
        self._before, self._now, self._size = self._now, {}, 0


class Cache:
    """Entries are files ``<dir>/<namespace>/<key[:2]>/<key>``; keys already include the toolchain."""

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory is not None else None
        self.hits = 0
        self.misses = 0
        # Entries read or written lately, kept in memory by a long-running process (keep_in_memory()):
        # as bytes, and shared entries (get_object(shared=True)) as the objects themselves.
        self._memory: Recent | None = None
        self._objects: Recent | None = None
        # A long-running process's last build, by identity (liveunits.LiveUnits; set by warm.WarmState).
        self.live = None
        self._writer: ThreadPoolExecutor | None = None  # write_in_background()

    def keep_in_memory(self, limit: int = DEFAULT_MEMORY_BYTES) -> None:
        """Keep the entries of the current and the last run in memory, up to limit bytes, so that a
        rebuild in a long-running process reads no file for them (`course preview`, `build --watch`);
        without a folder (--no-cache) the memory is the whole cache and nothing is written to disk.
        The bytes are kept, so every get_object() returns a fresh value, but for shared entries (which
        no user changes), whose objects are kept and handed out again."""
        self._memory = Recent(limit)
        self._objects = Recent()

    def next_run(self) -> None:
        """Start a run: entries not used in the last one leave the memory with the next."""
        if self._memory is not None:
            self._memory.next_run()
            self._objects.next_run()

    def _remember(self, namespace: str, key: str, data: bytes) -> None:
        if self._memory is not None:
            self._memory.put((namespace, key), data)

    def _recall(self, namespace: str, key: str) -> bytes | None:
        return None if self._memory is None else self._memory.get((namespace, key))

    @property
    def enabled(self) -> bool:
        """Whether entries are kept at all: in the folder, or only in memory (keep_in_memory() without a folder)."""
        return self.directory is not None or self._memory is not None

    def key(self, *parts: bytes | str) -> str:
        return digest(toolchain_fingerprint(), *parts)

    def _path(self, namespace: str, key: str) -> Path:
        return self.directory / namespace / key[:2] / key

    def get(self, namespace: str, key: str) -> bytes | None:
        data = self._recall(namespace, key)
        if data is None:
            if self.directory is None:
                if self._memory is not None:
                    self.misses += 1
                return None
            try:
                data = self._path(namespace, key).read_bytes()
            except OSError:
                self.misses += 1
                return None
            self._remember(namespace, key, data)
        self.hits += 1
        return data

    def touch(self, namespace: str, key: str) -> None:
        """Mark an entry as used now, so that prune() keeps it (a hit does not change a file's mtime)."""
        if self.directory is not None:
            with contextlib.suppress(OSError):
                os.utime(self._path(namespace, key))

    def write_in_background(self) -> None:
        """Write entries to disk in a thread from now on (a long-running process: a rebuild need not wait
        for the disk, as the memory holds what it wrote); flush() waits for them."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="course-cache-writer")

    def flush(self) -> None:
        """Wait until every entry put so far is on disk."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def put(self, namespace: str, key: str, data: bytes, remember: bool = True) -> None:
        if remember:
            self._remember(namespace, key, data)
        if self.directory is None:
            return
        if self._writer is not None:
            self._writer.submit(self._write, namespace, key, data)
        else:
            self._write(namespace, key, data)

    def _write(self, namespace: str, key: str, data: bytes) -> None:
        if self.directory is None:
            return
        path = self._path(namespace, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp.", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            # A read-only or full disk makes the build slower, never wrong: stop trying to write.
            self.directory = None

    def get_object(self, namespace: str, key: str, shared: bool = False):
        """The unpickled value, or None on a miss or an entry that no longer unpickles.

        shared: the value is never changed by its users (bytes, tuples of them), so a long-running
        process may hand out the object it stored instead of unpickling a copy."""
        if shared and self._objects is not None:
            value = self._objects.get((namespace, key))
            if value is not None:
                self.hits += 1
                return value
        data = self.get(namespace, key)
        if data is None:
            return None
        try:
            value = pickle.loads(data)
        except Exception:  # an entry from another Python or a damaged file is a miss, not an error
            self.hits -= 1
            self.misses += 1
            return None
        if shared and self._objects is not None:
            self._objects.put((namespace, key), value)
        return value

    def put_object(self, namespace: str, key: str, value, shared: bool = False) -> None:
        """Store value; shared as for get_object."""
        kept = shared and self._objects is not None
        if kept:
            self._objects.put((namespace, key), value)
            if self.directory is None:  # memory only (--no-cache): the object is all that is needed
                return
        # A kept object need not be in memory a second time as bytes.
        self.put(namespace, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), remember=not kept)


    def prune(self, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
        """Delete the entries written or touched longest ago until the folder holds at most max_bytes.

        Entries of an older toolchain are never hit again; they age out here. Returns the bytes freed."""
        if self.directory is None or not self.directory.is_dir():
            return 0
        entries = []
        for path in self.directory.glob("*/*/*"):
            with contextlib.suppress(OSError):
                st = path.stat()
                entries.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        freed = 0
        stale_tmp = time.time() - 3600  # a temporary file this old belongs to a writer that died
        for mtime, size, path in sorted(entries):
            if total - freed <= max_bytes and not (path.name.startswith(".tmp.") and mtime < stale_tmp):
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                freed += size
        return freed

    def prune_daily(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """prune() at most once a day (a stamp file remembers when), so that commands stay fast."""
        if self.directory is None:
            return
        stamp = self.directory / PRUNE_STAMP
        try:
            if time.time() - stamp.stat().st_mtime < PRUNE_INTERVAL:
                return
        except OSError:
            pass  # never pruned (or no cache yet)
        if self.directory.is_dir():
            self.prune(max_bytes)
            with contextlib.suppress(OSError):
                stamp.touch()


NO_CACHE = Cache(None)


def course_state_dir(course_root: Path, name: str) -> Path:
    """A folder for one course's state beside its cache (e.g. the preview's attempts).

    In the course's own cache folder it is <course>/.course-cache/<name>; a folder named by
    $COURSE_CACHE_DIR may serve several courses, so there each course gets its own sub-folder."""
    if os.environ.get(ENV_CACHE_DIR):
        return default_dir(course_root) / name / digest(str(Path(course_root).resolve()))[:16]
    return default_dir(course_root) / name


def for_course(course_root: Path, no_cache: bool = False, cache_dir: Path | None = None) -> Cache:
    """The cache a command uses: none with no_cache, else cache_dir, else default_dir(course_root)."""
    if no_cache:
        return NO_CACHE
    cache = Cache(Path(cache_dir) if cache_dir is not None else default_dir(course_root))
    cache.prune_daily()
    return cache


@contextlib.contextmanager
def gc_paused():
    """Run a block without cyclic garbage collection: building or unpickling a model makes hundreds of
    thousands of objects, hardly any of them garbage, and the collector's passes over them cost a
    third of an unpickle and a tenth of a load. Collection resumes afterwards (and nests correctly)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():
                # Everything made in the block is in the youngest generation, so the first collection
                # afterwards would scan it all (0.2 s after a cold load of 1,000 modules). Freezing
                # and unfreezing moves it into the oldest generation without a scan; garbage among
                # it goes with the next full collection. (Skipped if someone froze objects on purpose.)
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _unpickle(data: bytes):
    if not gc.isenabled():  # the common case inside a load: no context manager to enter
        return pickle.loads(data)
    with gc_paused():
        return pickle.loads(data)


class Pack:
    """A memo table of many small entries, stored as one cache entry named by ``name``.

    Values are found by content keys (``Cache.key``), so an entry of the pack is as safe to use as a
    separate cache entry: the pack's name only says which table to read. ``save()`` writes the
    entries used in this run (found or added), so entries of deleted or changed files drop out.
    Values are pickled when added: later changes to the objects do not reach the cache."""

    NAMESPACE = "packs"

    def __init__(self, cache: Cache, name: str):
        self.cache = cache
        self.key = cache.key("pack", name)
        self.entries: dict[str, bytes] = {}
        self.used: set[str] = set()
        self.added = 0
        if cache.enabled:
            loaded = cache.get_object(self.NAMESPACE, self.key)
            if isinstance(loaded, dict):
                self.entries = loaded

    @property
    def enabled(self) -> bool:
        return self.cache.enabled

    def get(self, key: str):
        """The value stored under key, or None. Counts as a hit or miss of the cache."""
        data = self.entries.get(key)
        try:
            value = None if data is None else _unpickle(data)
        except Exception:  # a damaged entry is a miss
            value = None
        if value is None:
            self.cache.misses += 1
            return None
        self.cache.hits += 1
        self.used.add(key)
        return value

    def keep(self, key: str) -> None:
        """Count an entry as used without reading it (its value is at hand elsewhere), so save() keeps it."""
        if key in self.entries:
            self.used.add(key)

    def put(self, key: str, value) -> None:
        if not self.enabled:
            return
        try:
            self.entries[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return  # a value that cannot be stored is computed again next time (a miss the tests notice)
        self.used.add(key)
        self.added += 1

    def save(self) -> None:
        """Write the pack if this run added entries or left some unused; else only mark it as used."""
        if not self.enabled:
            return
        if not self.added and len(self.used) == len(self.entries):
            self.cache.touch(self.NAMESPACE, self.key)
            return
        kept = {key: self.entries[key] for key in sorted(self.used)}
        self.cache.put(self.NAMESPACE, self.key, pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
        self.entries, self.added = kept, 0
