"""Run targets; every target's output folder appears whole or not at all.

Each target writes into a fresh staging folder that then replaces <out>/<target> by renames. A file
whose bytes are the same as in the folder it replaces is not written again: the staging folder gets
a hard link to the old file, so it keeps its inode and mtime (LMS uploads, rsync and make see no
change), while the swap stays atomic. Targets that list their files as units (units.py) are built
incrementally from the cache; other targets (plug-ins) build as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import shutil
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import targets
from .cache import NO_CACHE, Cache
from .liveunits import stat_identity
from .model import Course
from .units import templates_cached_in


def check_options(target_names: list[str], options: targets.BuildOptions) -> None:
    """Raise OptionError for the first target that cannot use the options, before any target writes a file."""
    for name in target_names:
        check = getattr(targets.get(name), "check_options", None)
        if check:
            check(targets.get(name)(), options)


_CLEANER: ThreadPoolExecutor | None = None


def _cleaner() -> ThreadPoolExecutor:
    """One thread for a long-running process to delete replaced outputs while it waits for the next edit
    (the interpreter still lets it finish before exiting)."""
    global _CLEANER
    if _CLEANER is None:
        _CLEANER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="course-build-cleanup")
    return _CLEANER


def finish_cleanup() -> None:
    """Wait until the replaced outputs of builds with wait_for_cleanup=False are deleted."""
    global _CLEANER
    if _CLEANER is not None:
        _CLEANER.shutdown(wait=True)
        _CLEANER = None


def build(course: Course, target_names: list[str], out: Path, options: targets.BuildOptions | None = None,
          cache: Cache = NO_CACHE, wait_for_cleanup: bool = True) -> list[Path]:
    """Build the targets into out/<target>; the replaced folders are gone when it returns, or, with
    wait_for_cleanup=False (`course build --watch`), soon after."""
    options = options or targets.BuildOptions()
    check_options(target_names, options)
    if cache.enabled:
        options = dataclasses.replace(options, cache=cache)
    out.mkdir(parents=True, exist_ok=True)
    written, leftovers = [], []
    # Replaced folders are deleted while the next target builds (deleting a large site is slow disk work).
    local = ThreadPoolExecutor(max_workers=1) if wait_for_cleanup else contextlib.nullcontext(_cleaner())
    with local as deleter, templates_cached_in(options.cache):
        for name in target_names:
            target = targets.get(name)()
            final = out / name
            staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
            try:
                if hasattr(target, "units"):
                    units = target.units(course, options)
                    folders: set[str] = set()  # made in staging already (a site has a folder per module)
                    for path in units:
                        _stage(os.fspath(staging), os.fspath(final), path, units.bytes(path), folders,
                               options.cache.live)
                else:
                    target.build(course, staging, options)
                    _keep_unchanged(staging, final)
                replaced = _swap_in(staging, final)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            if replaced is not None:
                if wait_for_cleanup:
                    deleter.submit(shutil.rmtree, replaced, ignore_errors=True)
                else:
                    leftovers.append(replaced)
            written.append(final)
    # A long-running process deletes after the last target: the deleting thread would otherwise take
    # turns at the interpreter lock with the next target's build, which is what the designer waits for.
    for replaced in leftovers:
        deleter.submit(shutil.rmtree, replaced, ignore_errors=True)
    return written


def _stage(staging: str, final: str, rel: str, data: bytes, folders: set[str], live=None) -> None:
    """Put data at staging/rel: a hard link to final/rel if that holds the same bytes, else a new file.

    live: a long-running process's record of the files it wrote (liveunits.py), which spares reading
    final/rel back while its stat is the one the last build left. (Plain strings, not Paths: a site
    stages thousands of files per build.)"""
    path, old = f"{staging}/{rel}", f"{final}/{rel}"
    folder = posixpath.dirname(rel)
    if folder not in folders:
        os.makedirs(posixpath.dirname(path), exist_ok=True)
        folders.add(folder)
    identity = live.unchanged_file(old, data) if live is not None else None  # a link keeps inode, size, mtime
    if not ((identity is not None or _same_bytes(old, data)) and _link(old, path)):
        with open(path, "wb") as fh:
            fh.write(data)
        identity = None
    if live is not None:
        live.wrote(old, data, identity or stat_identity(path))


def _keep_unchanged(staging: Path, final: Path) -> None:
    """Replace each staged file whose bytes equal the old one by a link to the old one."""
    if not final.is_dir():
        return
    for path in staging.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        old = final / path.relative_to(staging)
        try:
            if os.lstat(old).st_size != path.stat().st_size:
                continue
        except OSError:
            continue
        link = path.with_name(f".{path.name}.link")
        if _same_bytes(old, path.read_bytes()) and _link(old, link):
            os.replace(link, path)


def _same_bytes(old: str | Path, data: bytes) -> bool:
    """True if old is a regular file (not a link) holding exactly data."""
    try:
        st = os.lstat(old)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with open(old, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def _link(old: str | Path, new: str | Path) -> bool:
    """Hard-link old at new; False where the file system cannot (the caller then writes a copy)."""
    try:
        os.link(old, new)
        return True
    except OSError:
        return False


def _swap_in(staging: Path, final: Path) -> Path | None:
    """Replace final by staging with renames only, so readers never see a half-written folder.
    Returns the folder that now holds the replaced output, for the caller to delete."""
    os.chmod(staging, 0o755)
    if final.exists() or final.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
        os.replace(final, old / final.name)
        os.replace(staging, final)
        return old
    os.replace(staging, final)
    return None
