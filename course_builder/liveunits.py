"""What a long-running process keeps of its last build to skip work on what did not change.

A fresh build finds a unit's bytes in the cache by a fingerprint of its inputs: every model node
hashed (once per node), the key hashed, the entry read and unpickled. A long-running process
(`course preview`, `course build --watch`) hands out the very same node objects for unchanged files
(warm.py), so it can find a unit's last bytes by the identity of its inputs instead, at the cost of a
dictionary lookup: a unit whose inputs are the same objects, whose strings and numbers are equal and
whose media files still have the same content, has the same bytes as last time (the cache key would be
the same). Likewise a zip member is the same while its data is the same bytes object, and an output
file need not be read to compare it with new bytes while its stat is what the last build left.

Entries of the last build that this one did not ask for are let go with the next (cache.Recent).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from pydantic import BaseModel

from .cache import Recent


class LiveUnits:
    """One per warm state, on its cache (Cache.live): what the targets and build.py look up."""

    def __init__(self):
        self.results = Recent()  # (what, signature of the inputs) → (inputs, media state, value)
        self.members = Recent()  # zip entry name → (data, Member)
        # An output file's path → (stat identity, bytes), as this build and the last one left it.
        self.files: dict[str, tuple[tuple, bytes]] = {}
        self._files_before: dict[str, tuple[tuple, bytes]] = {}
        # media path → content digest (units.media_digest), as found in this run or, while the watcher
        # reported nothing of the path, an earlier one (the warm state drops the others); also the
        # loaded course's "media-digests" (loader.load), so that pages and units look at a file once
        self.digests: dict = {}
        self.sorted_names: dict[str, object] = {}  # slot → the last sorted names with folders (tarwriter.py)
        self.archives: dict[tuple, object] = {}  # (first names, mtime) → the last tar.gz's layout (tarwriter.py)

    def next_run(self) -> None:
        self.results.next_run()
        self.members.next_run()
        self._files_before, self.files = self.files, {}  # outputs no build writes any more are let go

    # -- unit results

    def result(self, what: str, inputs: tuple):
        """The value stored for the same inputs (the same objects), or None."""
        # Imported here: units.py loads Jinja, which a check-only process never needs.
        from .units import media_state

        nodes: list = []
        found = self.results.get((what, signature(inputs, nodes)))
        # The entry holds its inputs, so no other object can have taken an id its signature names:
        # an equal signature means the same objects.
        if found is None or (nodes or found[1]) and found[1] != media_state(*nodes, seen=self.digests):
            return None
        return found[2]

    def keep_result(self, what: str, inputs: tuple, value) -> None:
        from .units import media_state

        nodes: list = []
        self.results.put((what, signature(inputs, nodes)), (inputs, media_state(*nodes, seen=self.digests), value))

    # -- zip members

    def member(self, name: str, data: bytes, make):
        """make() for this entry's data, unless the last build made it from the same bytes object."""
        found = self.members.get(name)
        if found is not None and found[0] is data:
            return found[1]
        made = make()
        self.members.put(name, (data, made))
        return made

    # -- written files

    def unchanged_file(self, path: str, data: bytes) -> tuple | None:
        """path's stat identity if it holds data, judged by the stat it had when this process last
        wrote or linked it; else None."""
        known = self.files.get(os.fspath(path)) or self._files_before.get(os.fspath(path))
        if known is None or not (known[1] is data or known[1] == data):
            return None
        identity = stat_identity(path)
        return identity if identity == known[0] else None

    def wrote(self, final: str, data: bytes, identity: tuple | None) -> None:
        """Record that final holds data (after the swap), with the stat identity of its file."""
        if identity is not None:
            self.files[os.fspath(final)] = (identity, data)



def remembered(cache, what: str, inputs: tuple, compute):
    """compute(), or in a long-running process what it gave for the same inputs last time (cache.live)."""
    live = cache.live
    if live is None:
        return compute()
    found = live.result(what, inputs)
    if found is None:
        found = compute()
        live.keep_result(what, inputs, found)
    return found


def stat_identity(path: str | Path) -> tuple | None:
    """What tells one file's version from another without reading it."""
    # Not the change time: linking the file into the next staging folder and deleting the replaced
    # folder change it (the link count) on every build. Writing to the file changes its mtime.
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def signature(value, nodes: list) -> object:
    """A hashable stand-in for inputs: nodes and other objects by identity, plain values by type and
    value; the model nodes met are added to nodes (the media below them count too)."""
    kind = type(value)
    if kind is str or kind is int:  # as themselves: they cannot equal a tuple, nor each other
        return value
    if kind is tuple or kind is list:
        return (kind.__name__, *[signature(item, nodes) for item in value])
    if value is None or kind in _PLAIN:
        return (kind.__name__, value)
    if isinstance(value, dict):
        return ("dict", *((signature(k, nodes), signature(v, nodes)) for k, v in value.items()))
    if isinstance(value, BaseModel):
        nodes.append(value)
    return ("id", id(value))


_PLAIN = (int, float, bool, bytes, Path, type(Path()), dt.date, dt.datetime, dt.time)
