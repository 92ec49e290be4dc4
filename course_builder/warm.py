"""What a long-running process keeps between rebuilds of one course (`course preview`, `course build --watch`).

A fresh `course check` or `course build` finds unchanged files in the cache on disk, but still reads
every source and unpickles what it parsed from them, and so makes new model nodes for the whole
course. A process that rebuilds after every save can do better: it keeps the parsed files as live
objects, so a rebuild after one edit reads and parses only that file, and every node of the other
files is the very same object as before. What is derived from a node (its fingerprint for the build
cache, its page's place, check findings) is remembered per node (nodememo.py) and so carries over.

Results stay those of a cold run: an entry is found by the same content key as in the cache on disk,
and a file is only taken as unchanged while its size, modification and change times and inode are
(a file changed within the last two seconds is read again, as git does for "racily clean" files:
a file system with coarse timestamps could show an edit with the old ones).

A process that watches the folder knows more: once its watcher is set up it says so (changed() with
no paths), and then it tells the warm state every path the watcher reports. From the second load
after that on, a file or module folder that no report touched since the last load is taken as it
was, without even a stat: a module is then its last load's node with the same diagnostics and
texts. Reports cover writes, creations, deletions and renames; a folder reported as a whole
(created, renamed, the course folder come back) counts for everything below it. What a report of
the folder cannot show (a symbolic link's target changing, an image the module shows from outside
its folder) is ruled out: such a module is always loaded again.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

from .cache import NO_CACHE, Cache, Pack, Recent
from .liveunits import LiveUnits
from .nodememo import same_objects
from .sources import SourceFile, Sources

# A file modified this recently is read again even if its stat looks unchanged.
RACY_NS = 2_000_000_000


class WarmState:
    """One course's state between rebuilds; pass it to `check(root, cache, warm=…)` on every rebuild."""

    def __init__(self, cache: Cache = NO_CACHE):
        """cache: the course's; without one (--no-cache) a cache in memory only, for this process."""
        self.cache = cache if cache.enabled else Cache(None)
        self.cache.keep_in_memory()
        self.cache.live = LiveUnits()
        self.cache.write_in_background()
        self.packs: dict[str, Pack] = {}
        self.parsed = Recent()  # content key → what parsing the file gave (loader._Parsed)
        self.files: dict[str, tuple[tuple, SourceFile | None, list]] = {}  # path → (stat, read result, diagnostics)
        self.keys: dict[tuple, tuple[str, str]] = {}  # (kind, file, key parts) → (text, content key)
        self.modules: dict[str, tuple[tuple, object]] = {}  # module folder → (parts, Module)
        # What the watcher reported since the current load began, and what the current load goes by:
        # None where nothing is known (no watcher yet, or its first report since the last load).
        self._reported: set[str] | None = None
        self.watched = False
        self._lock = threading.Lock()
        self.changes: Changes | None = None
        self.loads: dict[tuple[str, str], tuple] = {}  # (what, folder) → (key, what its load gave)
        self.file_kinds: dict[Path, bool] = {}  # path → is it a file (Course.is_file), kept as digests are
        self._loads_used: set[tuple[str, str]] = set()

    def changed(self, paths) -> None:
        """The watcher's report of changed paths (absolute, as it watches the course folder)."""
        with self._lock:
            if self._reported is not None:
                self._reported.update(paths)
            self.watched = True

    def next_run(self, root: Path | None = None) -> None:
        """Start a rebuild of the course at root: what the last one did not use is let go with this one."""
        with self._lock:
            reported, self._reported = self._reported, (set() if self.watched else None)
        self.changes = Changes(root, reported) if reported is not None and root is not None else None
        if self.changes is not None and not self.changes.known:
            self.changes = None
        # What went unused is found by set difference (in C): the tables hold thousands of entries.
        for where in self.loads.keys() - self._loads_used:
            del self.loads[where]
        self._loads_used = set()
        self.parsed.next_run()
        self.cache.next_run()
        self.cache.live.next_run()
        # Media files' digests and whether a path is a file hold while no report touched the path.
        for table in (self.cache.live.digests, self.file_kinds):
            for path in [path for path in table if self.changes is None or not self.changes.untouched(os.fspath(path))]:
                del table[path]
        for pack in self.packs.values():  # entries of files that changed or went are let go too
            for key in pack.entries.keys() - pack.used:
                del pack.entries[key]
            pack.used.clear()

    def close(self) -> None:
        """Write what is worth keeping for the next process (the parsed files of the last rebuild)."""
        for pack in self.packs.values():
            pack.save()
        self.cache.flush()

    # -- for the loader

    def pack(self, name: str) -> Pack:
        """The loader's table of parsed files, read from disk once per process, written at close()."""
        if name not in self.packs:
            self.packs[name] = Pack(self.cache, name)
        return self.packs[name]

    def read(self, sources: Sources, path: Path) -> SourceFile | None:
        """sources.read(path), from memory while no report touched the file or, without reports, while
        its stat is unchanged (diagnostics included)."""
        key = os.fspath(path)
        if self.changes is not None and key in self.files and self.changes.untouched(key):
            known = self.files[key]
            sources.diagnostics.extend(known[2])
            return known[1]
        try:
            st = os.lstat(path)
        except OSError:
            st = None
        # Links are read each time: where they point may change without their own stat changing.
        trusted = st is not None and stat.S_ISREG(st.st_mode) and time.time_ns() - st.st_mtime_ns > RACY_NS
        if trusted:
            identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            known = self.files.get(key)
            if known is not None and known[0] == identity:
                sources.diagnostics.extend(known[2])
                return known[1]
        before = len(sources.diagnostics)
        source = sources.read(path)
        if trusted:
            self.files[key] = (identity, source, sources.diagnostics[before:])
        else:
            self.files.pop(key, None)
        return source

    def key(self, kind: str, root: str, source: SourceFile, parts: tuple[str, ...]) -> str:
        """The loader's content key of a file, hashed again only when its text is a new object."""
        where = (kind, source.rel, parts)
        known = self.keys.get(where)
        if known is not None and known[0] is source.text:
            return known[1]
        key = self.cache.key(kind, root, source.rel, source.text, *parts)
        self.keys[where] = (source.text, key)
        return key

    def module(self, folder: Path, parts: tuple, make):
        """The module object of the last rebuild if it is made of the same parts (same objects), else make()."""
        known = self.modules.get(os.fspath(folder))
        if known is not None and same_objects(known[0], parts):
            return known[1]
        module = make()
        self.modules[os.fspath(folder)] = (parts, module)
        return module

    def replay(self, what: str, folder: Path, key, load):
        """What load() gave for folder the last time with an equal key, while no report touched folder
        since; else load(). load() returns (what it gave, whether that may be kept)."""
        where = (what, os.fspath(folder))
        self._loads_used.add(where)
        known = self.loads.get(where)
        if known is not None and self.changes is not None and known[0] == key and self.changes.untouched(where[1]):
            return known[1]
        record, keep = load()
        if keep:
            self.loads[where] = (key, record)
        else:
            self.loads.pop(where, None)
        return record


class Changes:
    """The paths reported between two loads of the course at root, asked per file or folder."""

    def __init__(self, root: Path, reported: set[str]):
        self.root = os.fspath(root)
        self.reported = {os.path.normpath(path) for path in reported}
        # A report outside the course folder means the watcher sees the folder by another name (a link
        # on the way): then nothing is known.
        self.known = all(path == self.root or path.startswith(self.root + "/") for path in self.reported)
        self.below: set[str] = set()  # every reported path and every folder above one
        for path in self.reported:
            while path not in self.below and len(path) >= len(self.root):
                self.below.add(path)
                path = os.path.dirname(path)

    def untouched(self, path: str) -> bool:
        """True if no report names path, a file or folder below it, or a folder above it."""
        if path in self.below:
            return False
        while len(path) > len(self.root):
            path = os.path.dirname(path)
            if path in self.reported:
                return False
        return True
