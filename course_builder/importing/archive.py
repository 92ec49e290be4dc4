"""A Moodle backup (.mbz: tar.gz or zip) read into memory, refusing members that could escape or explode."""

from __future__ import annotations

import io
import tarfile
import zipfile
import zlib
from pathlib import PurePosixPath

from .. import diagnostics as d
from ..diagnostics import SourceLoc
from .errors import ImportFailed

MAX_TOTAL = 2 * 1024 ** 3  # bytes unpacked: a backup beyond this is refused rather than filling memory
MAX_MEMBERS = 200_000


def _member_error(file: str, name: str, why: str, code=d.IMPORT_UNSAFE_PATH) -> ImportFailed:
    return ImportFailed(d.diag(code, SourceLoc(f"{file}:{name}", 1, 1), why,
                               "make the backup again with Moodle; nothing was written"))


def safe_name(file: str, name: str) -> str:
    clean = name.replace("\\", "/")
    parts = PurePosixPath(clean).parts
    if clean.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise _member_error(file, name, f"member '{name}' leaves the archive (absolute path or '..'); not read")
    return "/".join(p for p in parts if p not in ("", "."))


def read(raw: bytes, file: str) -> dict[str, bytes]:
    """Every regular file of the backup, by its path inside the archive."""
    try:
        if raw[:2] == b"\x1f\x8b" or raw[:262].find(b"ustar") >= 0:
            return _tar(raw, file)
        if raw[:4] == b"PK\x03\x04":
            return _zip(raw, file)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, SourceLoc(file, 1, 1),
                                  f"the backup is truncated or damaged ({exc.__class__.__name__}: {exc})",
                                  "download or copy the .mbz again; nothing was written")) from None
    raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, SourceLoc(file, 1, 1), "not a Moodle backup (neither tar.gz nor zip)",
                              "pass the .mbz file Moodle's course backup wrote"))


def _tar(raw: bytes, file: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:*") as tar:
        for member in tar:
            name = safe_name(file, member.name)
            if member.isdir():
                continue
            if not member.isfile():
                raise _member_error(file, member.name, f"member '{member.name}' is a link or device; not read")
            total += member.size
            if total > MAX_TOTAL or len(out) > MAX_MEMBERS:
                raise _member_error(file, member.name, "the backup unpacks to more than 2 GB; not read", d.IMPORT_UNREADABLE)
            fh = tar.extractfile(member)
            data = fh.read() if fh else b""
            if len(data) != member.size:
                raise EOFError(f"member '{member.name}' ends early")
            out[name] = data
    return out


def _zip(raw: bytes, file: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        for info in zf.infolist():
            name = safe_name(file, info.filename)
            if info.is_dir():
                continue
            total += info.file_size
            if total > MAX_TOTAL or len(out) > MAX_MEMBERS:
                raise _member_error(file, info.filename, "the backup unpacks to more than 2 GB; not read", d.IMPORT_UNREADABLE)
            out[name] = zf.read(info)
    return out
