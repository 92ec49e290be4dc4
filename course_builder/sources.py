"""Reading source files: every way a file can be unfit becomes a diagnostic, never an exception."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import diagnostics as d
from .diagnostics import Diagnostic, SourceLoc

# Text sources are hand-written; anything larger is a mistake (a pasted dump, a wrong file).
MAX_TEXT_BYTES = 2 * 1024 * 1024


@dataclass
class SourceFile:
    path: Path  # absolute
    rel: str  # as shown in diagnostics: relative to the course root, posix
    text: str

    def loc(self, line: int = 1, col: int = 1) -> SourceLoc:
        return SourceLoc(self.rel, line, col)


class Sources:
    """The course folder: resolves paths and reads files, collecting diagnostics."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._prefix = os.path.join(str(self.root), "")
        self.diagnostics: list[Diagnostic] = []
        self.links_seen = 0  # symbolic links met so far (a watcher does not see their targets change)

    def rel(self, path: Path) -> str:
        # As path.relative_to(root).as_posix(), by string: a course has thousands of files, and
        # pathlib parses every path it makes again.
        text = os.fspath(path)
        if text.startswith(self._prefix) and os.sep == "/":
            return text[len(self._prefix):]
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def inside(self, path: Path) -> Path | None:
        """The resolved path if it stays inside the course folder, else None."""
        try:
            resolved = path.resolve(strict=False)
        except (OSError, RuntimeError):
            return None
        if resolved == self.root or self.root in resolved.parents:
            return resolved
        return None

    def check_link(self, path: Path) -> bool:
        """False (with a diagnostic) for a symlink that loops or points outside the course."""
        if not path.is_symlink():
            return True
        self.links_seen += 1
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            self.report(d.diag(d.IO_LINK, SourceLoc(self.rel(path)), "symbolic link loops or points nowhere",
                               "replace the link by the file itself"))
            return False
        if self.inside(target) is None:
            self.report(d.diag(d.IO_LINK, SourceLoc(self.rel(path)), "symbolic link points outside the course folder",
                               "copy the file into the course instead of linking to it"))
            return False
        return True

    def read(self, path: Path, allow_empty: bool = False) -> SourceFile | None:
        rel = self.rel(path)
        loc = SourceLoc(rel)
        if not self.check_link(path):
            return None
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > MAX_TEXT_BYTES:
                    self.report(d.diag(d.IO_TOO_LARGE, loc, f"file has {size:,} bytes; sources may have at most {MAX_TEXT_BYTES:,}",
                                       "split the text into several lessons, or move data into a media file"))
                    return None
                raw = fh.read()
        except IsADirectoryError:
            self.report(d.diag(d.IO_UNREADABLE, loc, "expected a file, found a folder", "rename or remove the folder"))
            return None
        except OSError as exc:
            self.report(d.diag(d.IO_UNREADABLE, loc, f"cannot read file: {exc.strerror or exc}", "check the file's permissions"))
            return None
        return self.decode(raw, rel, allow_empty, path)

    def decode(self, raw: bytes, rel: str, allow_empty: bool = False, path: Path | None = None) -> SourceFile | None:
        loc = SourceLoc(rel)
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            if not allow_empty:
                self.report(d.diag(d.IO_EMPTY, loc, "file is empty", "write the file's content or delete it"))
            return None if not allow_empty else SourceFile(path or self.root / rel, rel, "")
        if b"\x00" in raw[:8192]:
            self.report(d.diag(d.IO_BINARY, loc, "file contains NUL bytes and looks binary, not text",
                               "a course source must be a UTF-8 text file; move binary files into media/"))
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            hint = "save the file as UTF-8"
            try:
                raw.decode("cp1252")
                hint = "the file looks like Latin-1/Windows-1252; save it as UTF-8"
            except UnicodeDecodeError:
                pass
            self.report(d.diag(d.IO_ENCODING, SourceLoc(rel, line, col), f"byte 0x{raw[exc.start]:02x} is not valid UTF-8", hint))
            return None
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return SourceFile(path or self.root / rel, rel, text)

    def walk(self, folder: Path, suffix: str) -> list[Path]:
        """Files with this suffix below folder, sorted; links that loop or leave are reported, not followed."""
        found: list[Path] = []
        seen_dirs: set[tuple[int, int]] = set()

        def visit(directory: Path) -> None:
            try:
                st = directory.stat()
            except OSError:
                return
            if (st.st_dev, st.st_ino) in seen_dirs:
                self.report(d.diag(d.IO_LINK, SourceLoc(self.rel(directory)), "folder link leads in a loop",
                                   "remove the symbolic link"))
                return
            seen_dirs.add((st.st_dev, st.st_ino))
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError as exc:
                self.report(d.diag(d.IO_UNREADABLE, SourceLoc(self.rel(directory)), f"cannot list folder: {exc.strerror}",
                                   "check the folder's permissions"))
                return
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                if entry.is_symlink() and not self.check_link(path):
                    continue
                if entry.is_dir():
                    visit(path)
                elif entry.name.endswith(suffix):
                    found.append(path)

        if folder.is_dir():
            visit(folder)
        return found
