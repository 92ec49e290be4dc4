"""One zip writer for every package: byte-reproducible.

Entries are sorted, every timestamp is 1980-01-01 00:00 (the zip epoch), permissions are 0644,
no extra fields and no comments; folders are not stored as entries.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .atomic import write_atomically

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Already-compressed media gain nothing from deflate; storing them is faster and as small.
STORED_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".mp3", ".zip", ".woff2", ".mbz"}

_VERSION = 20  # "version needed to extract" and "made by": deflate, as zipfile writes it
_UNIX = 3  # made on unix, so that the external attributes are mode bits
_MODE = 0o100644 << 16
_UTF8_NAME = 0x800
_ZIP64_LIMIT = (1 << 31) - 1


def _method(name: str) -> int:
    suffix = os.path.splitext(name)[1].lower()
    return zipfile.ZIP_STORED if suffix in STORED_SUFFIXES else zipfile.ZIP_DEFLATED


@dataclass(frozen=True)
class Member:
    """One zip entry, already compressed: what a package is assembled from (and can be taken apart into)."""

    name: str
    method: int  # zipfile.ZIP_STORED or ZIP_DEFLATED
    crc: int
    size: int
    compressed: bytes


def member(name: str, data: bytes) -> Member:
    """data as the entry `name`: deflated like zipfile does it (level 6) unless its type is already compressed."""
    method = _method(name)
    if method == zipfile.ZIP_DEFLATED:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        compressed = compressor.compress(data) + compressor.flush()
    else:
        compressed = data
    return Member(name, method, zlib.crc32(data), len(data), compressed)


def zip_bytes(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """The zip of entries (archive name, content) as bytes."""
    return zip_members(member(name, data) for name, data in entries)


def zip_members(members: Iterable[Member]) -> bytes:
    """The zip of already-compressed members, sorted by name: the very bytes zipfile would write.

    Assembling from members lets a package reuse the compressed entries of another (the SCORM course
    package takes each module's page from the module's own package) instead of compressing again.
    """
    items = sorted(members, key=lambda m: m.name)
    names = [m.name for m in items]
    if len(names) != len(set(names)):
        raise ValueError("duplicate zip entry names")
    dostime, dosdate = 0, (FIXED_TIME[0] - 1980) << 9 | FIXED_TIME[1] << 5 | FIXED_TIME[2]
    local, central = [], []
    offset = 0
    for m in items:
        if max(m.size, len(m.compressed), offset) > _ZIP64_LIMIT:
            raise ValueError(f"zip entry {m.name} is too large for a package (over 2 GB)")
        try:
            name, flags = m.name.encode("ascii"), 0
        except UnicodeEncodeError:
            name, flags = m.name.encode("utf-8"), _UTF8_NAME
        fields = (_VERSION, 0, flags, m.method, dostime, dosdate, m.crc, len(m.compressed), m.size, len(name))
        local.append(struct.pack("<4s2B4HL2L2H", b"PK\003\004", *fields, 0) + name + m.compressed)
        central.append(struct.pack("<4s4B4HL2L5H2L", b"PK\001\002", _VERSION, _UNIX, *fields, 0, 0, 0, 0,
                                   _MODE, offset) + name)
        offset += len(local[-1])
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\005\006", 0, 0, len(items), len(items), len(directory), offset, 0)
    return b"".join(local) + directory + end


def members(data: bytes) -> dict[str, Member]:
    """The members of a zip that zip_members wrote (no data descriptors, no extra fields), by name."""
    found: dict[str, Member] = {}
    pos = 0
    while data[pos:pos + 4] == b"PK\003\004":
        (_, _, _, _, method, _, _, crc, csize, size, name_len, extra_len) = struct.unpack_from("<4s2B4HL2L2H", data, pos)
        start = pos + 30 + name_len + extra_len
        name = data[pos + 30:pos + 30 + name_len].decode("utf-8")
        found[name] = Member(name, method, crc, size, data[start:start + csize])
        pos = start + csize
    return found


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
