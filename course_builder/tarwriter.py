"""One tar.gz writer for packages that must be tar archives (Moodle's .mbz): byte-reproducible.

Like zipwriter.py: entries sorted (a caller may pin some names first), every folder stored as its own
entry before its files, one fixed mtime, uid/gid 0 without user or group names, modes 0644/0755,
POSIX ustar/pax headers, and a gzip header with mtime 0 and no file name. The tar bytes are those
tarfile writes; the deflate stream is cut into independently compressed runs (see tar_gz_bytes).
"""

from __future__ import annotations

import hashlib
import struct
import sys
import tarfile
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .atomic import write_atomically
from .cache import NO_CACHE, Cache
from .liveunits import remembered

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
        folder = name[:name.rfind("/") + 1]
        while folder and folder not in folders:  # a folder seen before has its parents in already
            folders.add(folder)
            folder = folder[:folder.rfind("/", 0, -1) + 1]
    return sorted(folders)


def tar_gz_bytes(entries: Iterable[tuple[str, bytes]], first: tuple[str, ...] = (), mtime: int = FIXED_MTIME,
                 cache: Cache = NO_CACHE) -> bytes:
    """The .tar.gz of entries (archive name, content); names in `first` come first, then folders and files sorted.

    The tar stream is compressed in runs of entries, each run on its own (a full flush between runs), so
    that a run whose entries did not change is taken from the cache instead of compressed again. A run
    ends after an entry whose name hashes to 0 mod RUN_SPREAD, and a large entry (a SCORM package, a
    video) is a run of its own; where runs end depends on each entry alone, so one changed entry
    changes one run. A very large entry (files.xml of a big course) is compressed in pieces (_chunks).
    """
    items = dict()
    for name, data in entries:
        if name in items:
            raise ValueError(f"duplicate tar entry name {name}")
        items[name] = data
    order = [n for n in first if n in items]
    rest = sorted([n for n in items if n not in first] + folders_of(items))
    runs: list[list[tuple[str, bytes | None]]] = [[]]
    for name in order + rest:
        data = None if name.endswith("/") else items[name]
        large = data is not None and len(data) >= LARGE_ENTRY
        if large and runs[-1]:
            runs.append([])
        runs[-1].append((name, data))
        if large or zlib.crc32(name.encode("utf-8")) % RUN_SPREAD == 0:
            runs.append([])
    parts, crc, size = [], 0, 0
    for run in runs:
        if len(run) == 1 and run[0][1] is not None and len(run[0][1]) >= 2 * CHUNK:
            compressed = [_compressed_piece(piece, cache) for piece in _chunks(_segment(*run[0], mtime))]
        else:
            compressed = [_compressed_run(run, mtime, cache)]
        for deflated, run_crc, run_size in compressed:
            parts.append(deflated)
            crc, size = crc32_combine(crc, run_crc, run_size), size + run_size
    end, end_crc = _end_of_archive(size)
    parts.append(_deflate(end) + _FINAL_BLOCK)
    crc, size = crc32_combine(crc, end_crc, len(end)), size + len(end)
    return _GZIP_HEADER + b"".join(parts) + struct.pack("<LL", crc, size & 0xFFFFFFFF)


def _chunks(raw: bytes) -> list[bytes]:
    """A large entry's tar bytes cut into pieces of about CHUNK bytes, each ending after the first
    newline (or any byte where there is none) from a multiple of CHUNK on.

    An edit that changes a few bytes in place or shifts the rest by a few (a new content hash, a size
    one digit longer: what one lesson changes in files.xml) leaves the cuts at the same lines, so only
    the pieces around the edit are compressed again."""
    pieces, start = [], 0
    for boundary in range(CHUNK, len(raw) - CHUNK, CHUNK):  # a piece ends by the next boundary at the latest
        end = raw.find(b"\n", boundary, boundary + CHUNK)
        end = boundary if end < 0 else end + 1
        pieces.append(raw[start:end])
        start = end
    pieces.append(raw[start:])
    return pieces


RUN_SPREAD = 16
LARGE_ENTRY = 16 * 1024
CHUNK = 64 * 1024  # an entry of twice this or more is compressed in pieces (_chunks)
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, mtime 0, best compression, any OS
_FINAL_BLOCK = b"\x03\x00"  # an empty final block closes the deflate stream
_RUN_NAMESPACE = "tar-gz-run"


def _compressed_run(run: list[tuple[str, bytes | None]], mtime: int, cache: Cache) -> tuple[bytes, int, int]:
    """(deflated bytes ending in a full flush, crc32 and length of the raw tar bytes) of one run of entries."""
    # A long-running process finds the run by its entries (bytes objects hash once and compare by
    # identity first) without hashing every entry's content again: most of a backup's entries are
    # the very objects of the last build.
    return remembered(cache, _RUN_NAMESPACE, (mtime, run), lambda: _hashed_run(run, mtime, cache))


def _hashed_run(run: list[tuple[str, bytes | None]], mtime: int, cache: Cache) -> tuple[bytes, int, int]:
    h = hashlib.sha256(f"{mtime} {zlib.ZLIB_RUNTIME_VERSION} {sys.version}".encode())
    if cache.enabled:
        for name, data in run:
            h.update(b"\0" + name.encode("utf-8") + b"\0" + (b"/" if data is None else hashlib.sha256(data).digest()))
    return _compressed(h, lambda: b"".join(_segment(name, data, mtime) for name, data in run), cache)


def _compressed_piece(raw: bytes, cache: Cache) -> tuple[bytes, int, int]:
    """As _compressed_run for a piece of one large entry's tar bytes."""
    h = hashlib.sha256(f"piece {zlib.ZLIB_RUNTIME_VERSION} {sys.version}".encode())
    if cache.enabled:
        h.update(hashlib.sha256(raw).digest())
    return _compressed(h, lambda: raw, cache)


def _compressed(h, make_raw, cache: Cache) -> tuple[bytes, int, int]:
    key = None
    if cache.enabled:
        key = cache.key(_RUN_NAMESPACE, h.digest())
        found = cache.get_object(_RUN_NAMESPACE, key, shared=True)
        if isinstance(found, tuple) and len(found) == 3:
            return found
    raw = make_raw()
    result = (_deflate(raw), zlib.crc32(raw), len(raw))
    if key is not None:
        cache.put_object(_RUN_NAMESPACE, key, result, shared=True)
    return result


def _deflate(raw: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(raw) + compressor.flush(zlib.Z_FULL_FLUSH)


def _segment(name: str, data: bytes | None, mtime: int) -> bytes:
    """One entry as tarfile writes it: header block(s), then the data padded to whole blocks."""
    info = _info(name.rstrip("/"), len(data or b""), data is None, mtime)
    header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    if not data:
        return header
    return header + data + tarfile.NUL * (-len(data) % tarfile.BLOCKSIZE)


def _end_of_archive(size: int) -> tuple[bytes, int]:
    """Two empty blocks, then zeros up to a whole record, as tarfile closes an archive."""
    end = tarfile.NUL * (2 * tarfile.BLOCKSIZE)
    end += tarfile.NUL * (-(size + len(end)) % tarfile.RECORDSIZE)
    return end, zlib.crc32(end)


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The crc32 of A+B from crc32(A), crc32(B) and len(B) (zlib's crc32_combine, which Python does not expose)."""
    n = 0
    while len2:
        if len2 & 1:
            crc1 = _gf2_times(_zeros_operator(n), crc1)
        len2 >>= 1
        n += 1
    return crc1 ^ crc2


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, i = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


@lru_cache(maxsize=None)
def _zeros_operator(n: int) -> list[int]:
    """The GF(2) operator that appends 2**n zero bytes to a crc32 state."""
    if n == 0:
        one_bit = [0xEDB88320] + [1 << k for k in range(31)]  # one zero bit
        op = one_bit
        for _ in range(3):  # one bit → two → four → eight bits (one byte)
            op = [_gf2_times(op, op[k]) for k in range(32)]
        return op
    half = _zeros_operator(n - 1)
    return [_gf2_times(half, half[k]) for k in range(32)]


def write_tar_gz(target: Path, entries: Iterable[tuple[str, bytes]], first: tuple[str, ...] = ()) -> Path:
    """Write the .tar.gz of entries to target atomically."""
    data = tar_gz_bytes(entries, first)
    return write_atomically(target, lambda fh: fh.write(data))
