"""One tar.gz writer for packages that must be tar archives (Moodle's .mbz): byte-reproducible.

Like zipwriter.py: entries sorted (a caller may pin some names first), every folder stored as its own
entry before its files, one fixed mtime, uid/gid 0 without user or group names, modes 0644/0755,
POSIX ustar/pax headers, and a gzip header with mtime 0 and no file name. The tar bytes are those
tarfile writes; the deflate stream is cut into independently compressed runs (see tar_gz_bytes).
"""

from __future__ import annotations

import bisect
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


class _SortedNames:
    """File names and every folder above them ('a/', 'a/b/'), sorted, with how many files each folder
    holds: a long-running process makes it from the last one by the names that came and went (an edit
    of one lesson changes a few of a backup's 13,000 names)."""

    def __init__(self, files: set[str], entries: list[str], below: dict[str, int]):
        self.files, self.entries, self.below = files, entries, below

    @classmethod
    def of(cls, files: set[str]) -> "_SortedNames":
        below: dict[str, int] = {}
        for name in files:
            for folder in _folders_above(name):
                below[folder] = below.get(folder, 0) + 1
        return cls(files, sorted([*files, *below]), below)

    def changed_to(self, files: set[str]) -> "_SortedNames | None":
        """The names of files, made from these; None if too much changed to be worth it."""
        gone, new = self.files - files, files - self.files
        if len(gone) + len(new) > 256:
            return None
        entries, below = list(self.entries), dict(self.below)
        for name in gone:
            del entries[bisect.bisect_left(entries, name)]
            for folder in _folders_above(name):
                below[folder] -= 1
                if not below[folder]:
                    del below[folder]
                    del entries[bisect.bisect_left(entries, folder)]
        for name in new:
            bisect.insort(entries, name)
            for folder in _folders_above(name):
                if folder not in below:
                    below[folder] = 0
                    bisect.insort(entries, folder)
                below[folder] += 1
        return _SortedNames(files, entries, below)


def _folders_above(name: str) -> list[str]:
    """'a/b/c' → ['a/', 'a/b/']."""
    folders, end = [], name.find("/")
    while end >= 0:
        folders.append(name[:end + 1])
        end = name.find("/", end + 1)
    return folders


def sorted_with_folders(names: Iterable[str], cache: Cache = NO_CACHE, slot: str = "") -> list[str]:
    """names and every folder above one ('a/', 'a/b/'), sorted; in a long-running process made from the
    last call's for the same slot (cache.live), by the difference."""
    files = set(names)
    live = cache.live
    last = live.sorted_names.get(slot) if live is not None else None
    made = last.changed_to(files) if last is not None else None
    if made is None:
        made = _SortedNames.of(files)
    if live is not None:
        live.sorted_names[slot] = made
    return made.entries


def tar_gz_bytes(entries: Iterable[tuple[str, bytes]], first: tuple[str, ...] = (), mtime: int = FIXED_MTIME,
                 cache: Cache = NO_CACHE) -> bytes:
    """The .tar.gz of entries (archive name, content); names in `first` come first, then folders and files sorted.

    The tar stream is compressed in runs of entries, each run on its own (a full flush between runs), so
    that a run whose entries did not change is taken from the cache instead of compressed again. A run
    ends after an entry whose name hashes to 0 mod RUN_SPREAD, and a large entry (a SCORM package, a
    video) is a run of its own; where runs end depends on each entry alone, so one changed entry
    changes one run. A very large entry (files.xml of a big course) is compressed in pieces (_chunks).
    A long-running process keeps the last archive's layout (_Layout) and compresses only the runs
    whose entries are other objects than last time.
    """
    items = dict()
    for name, data in entries:
        if name in items:
            raise ValueError(f"duplicate tar entry name {name}")
        items[name] = data
    live = cache.live
    last = live.archives.get((first, mtime)) if live is not None else None
    layout = _Layout.of(items, first, cache)
    parts = layout.compress(last, mtime, cache)
    if live is not None:
        live.archives[(first, mtime)] = layout
    crc, size = layout.checksum(last)
    end, end_crc = _end_of_archive(size)
    crc, size = crc32_combine(crc, end_crc, len(end)), size + len(end)
    return b"".join((_GZIP_HEADER, *parts, _deflate(end), _FINAL_BLOCK, struct.pack("<LL", crc, size & 0xFFFFFFFF)))


def _large(data: bytes | None) -> bool:
    return data is not None and len(data) >= LARGE_ENTRY


class _Layout:
    """An archive's entries in order (data None for a folder), cut into runs of entries, with each run's
    compressed parts (deflated, crc32, length) and the running checksum after each part."""

    def __init__(self, names: list[str], datas: list[bytes | None], starts: list[int]):
        self.names, self.datas, self.starts = names, datas, starts  # a run is names[starts[r]:starts[r + 1]]
        self.parts: list[list[tuple[bytes, int, int]]] = []
        self.runs: dict[tuple, tuple] = {}  # (names, data ids) → (data, parts) of each run
        self.pieces: dict[str, list[tuple[bytes, tuple]]] = {}  # a large entry's → (raw piece, compressed)
        self.sums: list[tuple[int, int]] = []  # (crc32, length) of the tar bytes up to the end of each part

    @classmethod
    def of(cls, items: dict[str, bytes], first: tuple[str, ...], cache: Cache = NO_CACHE) -> "_Layout":
        names = [n for n in first if n in items]
        pinned = set(names)
        names += [n for n in sorted_with_folders(items, cache, f"tar:{first}") if n not in pinned]
        datas = [None if name.endswith("/") else items[name] for name in names]
        if len(_ENDS_RUN) > 1_000_000:  # names of long-gone entries
            _ENDS_RUN.clear()
        starts = [0]
        for i, (name, data) in enumerate(zip(names, datas)):
            large = _large(data)
            if large and starts[-1] != i:
                starts.append(i)
            ends = _ENDS_RUN.get(name)
            if ends is None:
                ends = _ENDS_RUN[name] = zlib.crc32(name.encode("utf-8")) % RUN_SPREAD == 0
            if large or ends:
                starts.append(i + 1)
        if starts[-1] != len(names):
            starts.append(len(names))
        return cls(names, datas, starts)

    def compress(self, last: "_Layout | None", mtime: int, cache: Cache) -> list[bytes]:
        """The deflated parts of every run. A run of the same names and data objects as one of last's is
        not looked at again (names and data ids make its key; the entry holds the data, so an id cannot
        have been reused)."""
        known = last.runs if last is not None else {}
        for r in range(len(self.starts) - 1):
            names = tuple(self.names[self.starts[r]:self.starts[r + 1]])
            datas = tuple(self.datas[self.starts[r]:self.starts[r + 1]])
            key = (names, tuple(map(id, datas)))
            found = known.get(key)
            if found is None:
                found = (datas, self._compress_run(list(zip(names, datas)), last, mtime, cache))
            elif names[0] in last.pieces:
                self.pieces[names[0]] = last.pieces[names[0]]
            self.runs[key] = found
            self.parts.append(found[1])
        return [deflated for run in self.parts for deflated, _, _ in run]

    def _compress_run(self, run: list[tuple[str, bytes | None]], last: "_Layout | None", mtime: int,
                      cache: Cache) -> list[tuple[bytes, int, int]]:
        name, data = run[0]
        if len(run) > 1 or data is None or len(data) < 2 * CHUNK:
            return [_compressed_run(run, mtime, cache)]
        # A piece equal to the one at its place last time is not hashed again (comparing is cheaper).
        before = last.pieces.get(name, []) if last is not None else []
        pieces = []
        for i, raw in enumerate(_chunks(_segment(name, data, mtime))):
            same = i < len(before) and before[i][0] == raw
            pieces.append((raw, before[i][1] if same else _compressed_piece(raw, cache)))
        self.pieces[name] = pieces
        return [compressed for _, compressed in pieces]

    def checksum(self, last: "_Layout | None") -> tuple[int, int]:
        """crc32 and length of the whole tar stream but its end, combined from the parts' (from the first
        part that differs from last's on: the sums before it are last's)."""
        flat = [part for run in self.parts for part in run]
        reuse = 0
        if last is not None:
            before = [part for run in last.parts for part in run]
            while reuse < min(len(flat), len(before)) and flat[reuse] is before[reuse]:
                reuse += 1
        self.sums = last.sums[:reuse] if reuse else []
        crc, size = self.sums[-1] if self.sums else (0, 0)
        for _, part_crc, part_size in flat[reuse:]:
            crc, size = crc32_combine(crc, part_crc, part_size), size + part_size
            self.sums.append((crc, size))
        return crc, size


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
_ENDS_RUN: dict[str, bool] = {}  # whether a run ends after the entry of that name (its name's hash)
LARGE_ENTRY = 16 * 1024
CHUNK = 64 * 1024  # an entry of twice this or more is compressed in pieces (_chunks)
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, mtime 0, best compression, any OS
_FINAL_BLOCK = b"\x03\x00"  # an empty final block closes the deflate stream
_RUN_NAMESPACE = "tar-gz-run"


def _compressed_run(run: list[tuple[str, bytes | None]], mtime: int, cache: Cache) -> tuple[bytes, int, int]:
    """(deflated bytes ending in a full flush, crc32 and length of the raw tar bytes) of one run of entries,
    found in the cache by its entries' content (a long-running process asks only for runs that are not
    the last archive's, see _Layout.compress)."""
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
            t0, t1, t2, t3 = _zeros_tables(n)
            crc1 = t0[crc1 & 0xFF] ^ t1[(crc1 >> 8) & 0xFF] ^ t2[(crc1 >> 16) & 0xFF] ^ t3[crc1 >> 24]
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


@lru_cache(maxsize=None)
def _zeros_tables(n: int) -> tuple[list[int], ...]:
    """_zeros_operator(n) as four tables, one per byte of the state: applying it is four lookups
    instead of a pass over 32 bits (a big archive combines a thousand runs' checksums)."""
    op = _zeros_operator(n)
    tables = []
    for byte in range(4):
        columns = op[8 * byte:8 * byte + 8]
        table = [0] * 256
        for value in range(1, 256):
            low = value & -value
            table[value] = table[value ^ low] ^ columns[low.bit_length() - 1]
        tables.append(table)
    return tuple(tables)


def write_tar_gz(target: Path, entries: Iterable[tuple[str, bytes]], first: tuple[str, ...] = ()) -> Path:
    """Write the .tar.gz of entries to target atomically."""
    data = tar_gz_bytes(entries, first)
    return write_atomically(target, lambda fh: fh.write(data))
