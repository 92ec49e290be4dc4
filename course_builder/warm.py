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
"""

from __future__ import annotations

import os
import stat
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

    def next_run(self) -> None:
        """Start a rebuild: what the last one did not use is let go with this one."""
        self.parsed.next_run()
        self.cache.next_run()
        self.cache.live.next_run()
        for pack in self.packs.values():  # entries of files that changed or went are let go too
            pack.entries = {key: pack.entries[key] for key in pack.used if key in pack.entries}
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
        """sources.read(path), from memory while the file's stat is unchanged (diagnostics included)."""
        try:
            st = os.lstat(path)
        except OSError:
            st = None
        # Links are read each time: where they point may change without their own stat changing.
        trusted = st is not None and stat.S_ISREG(st.st_mode) and time.time_ns() - st.st_mtime_ns > RACY_NS
        key = os.fspath(path)
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
