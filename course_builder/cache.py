"""A content-addressed cache for the parts of a build that cost time (parsed files, rendered pages, packages).

An entry's key is a hash of everything its value depends on, plus the toolchain fingerprint: the
version and the bytes of every file of course_builder itself (code, templates, static files). A
change of the toolchain therefore misses every old entry instead of serving stale output; nothing
is ever invalidated by hand. Entries are written atomically, so a killed build leaves no torn entry,
and a cache that cannot be read or written is only slower: every problem counts as a miss.

Default location: ``<course>/.course-cache/`` (the loader skips dot-folders), or ``$COURSE_CACHE_DIR``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

from . import __version__

CACHE_DIR_NAME = ".course-cache"
ENV_CACHE_DIR = "COURSE_CACHE_DIR"
_PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def toolchain_fingerprint() -> str:
    """Hash of course_builder's version and of every file it ships (sorted, path and bytes)."""
    digest = hashlib.sha256(__version__.encode())
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


class Cache:
    """Entries are files ``<dir>/<namespace>/<key[:2]>/<key>``; keys already include the toolchain."""

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory is not None else None
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def key(self, *parts: bytes | str) -> str:
        return digest(toolchain_fingerprint(), *parts)

    def _path(self, namespace: str, key: str) -> Path:
        return self.directory / namespace / key[:2] / key

    def get(self, namespace: str, key: str) -> bytes | None:
        if self.directory is None:
            return None
        try:
            data = self._path(namespace, key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        self.hits += 1
        return data

    def put(self, namespace: str, key: str, data: bytes) -> None:
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

    def get_object(self, namespace: str, key: str):
        """The unpickled value, or None on a miss or an entry that no longer unpickles."""
        data = self.get(namespace, key)
        if data is None:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # an entry from another Python or a damaged file is a miss, not an error
            self.hits -= 1
            self.misses += 1
            return None

    def put_object(self, namespace: str, key: str, value) -> None:
        self.put(namespace, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


NO_CACHE = Cache(None)
