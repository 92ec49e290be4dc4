"""One zip writer for every package: byte-reproducible.

Entries are sorted, every timestamp is 1980-01-01 00:00 (the zip epoch), permissions are 0644,
no extra fields and no comments; folders are not stored as entries.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Iterable

from .atomic import write_atomically

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Already-compressed media gain nothing from deflate; storing them is faster and as small.
STORED_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".mp3", ".zip", ".woff2", ".mbz"}


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = 3  # unix, so that external_attr means mode bits everywhere
    info.external_attr = (0o100644 << 16)
    suffix = os.path.splitext(name)[1].lower()
    info.compress_type = zipfile.ZIP_STORED if suffix in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
    return info


def zip_bytes(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """The zip of entries (archive name, content) as bytes."""
    items = sorted(entries, key=lambda e: e[0])
    names = [name for name, _ in items]
    if len(names) != len(set(names)):
        raise ValueError("duplicate zip entry names")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compresslevel=9) as zf:
        for name, data in items:
            zf.writestr(_info(name), data)
    return buffer.getvalue()


def write_zip(target: Path, entries: Iterable[tuple[str, bytes]]) -> Path:
    """Write entries (archive name, content) to target atomically."""
    data = zip_bytes(entries)
    return write_atomically(target, lambda fh: fh.write(data))


def zip_directory(source: Path, target: Path, prefix: str = "") -> Path:
    """Zip every file below source (relative names, posix separators)."""
    entries = []
    for path in sorted(source.rglob("*")):
        if path.is_file():
            entries.append((prefix + path.relative_to(source).as_posix(), path.read_bytes()))
    return write_zip(target, entries)
