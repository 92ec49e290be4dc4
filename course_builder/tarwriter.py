"""One tar.gz writer for packages that must be tar archives (Moodle's .mbz): byte-reproducible.

Like zipwriter.py: entries sorted (a caller may pin some names first), every folder stored as its own
entry before its files, one fixed mtime, uid/gid 0 without user or group names, modes 0644/0755,
POSIX ustar/pax headers, and a gzip header with mtime 0 and no file name.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Iterable

from .atomic import write_atomically

FIXED_MTIME = 1356998400  # 2013-01-01 00:00 UTC, the time Moodle's own tgz packer gives its folders


def _info(name: str, size: int, is_dir: bool, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0 if is_dir else size
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    info.mode = 0o755 if is_dir else 0o644
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def folders_of(names: Iterable[str]) -> list[str]:
    """Every folder that contains one of names, as 'a/' and 'a/b/'."""
    folders: set[str] = set()
    for name in names:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folders.add("/".join(parts[:i]) + "/")
    return sorted(folders)


def tar_gz_bytes(entries: Iterable[tuple[str, bytes]], first: tuple[str, ...] = (), mtime: int = FIXED_MTIME) -> bytes:
    """The .tar.gz of entries (archive name, content); names in `first` come first, then folders and files sorted."""
    items = dict()
    for name, data in entries:
        if name in items:
            raise ValueError(f"duplicate tar entry name {name}")
        items[name] = data
    order = [n for n in first if n in items]
    rest = sorted([n for n in items if n not in first] + folders_of(items))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in order + rest:
            if name.endswith("/"):
                tar.addfile(_info(name.rstrip("/"), 0, True, mtime))
            else:
                data = items[name]
                tar.addfile(_info(name, len(data), False, mtime), io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def write_tar_gz(target: Path, entries: Iterable[tuple[str, bytes]], first: tuple[str, ...] = ()) -> Path:
    """Write the .tar.gz of entries to target atomically."""
    data = tar_gz_bytes(entries, first)
    return write_atomically(target, lambda fh: fh.write(data))
