"""File areas and files.xml: every file an activity or a question text holds, stored once by its sha1."""

from __future__ import annotations

import hashlib
import posixpath

from ..backup_xml import NULL, El, Written, el, fragment
from .plan import Backup
from .records import FileRecord

EMPTY_SHA1 = hashlib.sha1(b"").hexdigest()
MIMETYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
             ".svg": "image/svg+xml", ".webp": "image/webp", ".html": "text/html", ".htm": "text/html",
             ".css": "text/css", ".js": "application/x-javascript", ".json": "application/json",
             ".xml": "application/xml", ".xsd": "application/xml", ".dtd": "application/xml-dtd",
             ".zip": "application/zip", ".pdf": "application/pdf", ".mp4": "video/mp4", ".mp3": "audio/mp3",
             ".txt": "text/plain", ".woff2": "font/woff2"}


def area(b: Backup, contextid: int, component: str, filearea: str, itemid: int,
         files: list[tuple[str, str, bytes]]) -> list[FileRecord]:
    """File records as Moodle stores them: every folder as a '.' record beside the files."""
    folders = {"/"}
    for path, _, _ in files:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            folders.add("/" + "/".join(parts[:i]) + "/")
    if not files:
        return []
    records = []
    for path, name, content in sorted(files):
        records.append(FileRecord(b.next("file"), contextid, component, filearea, itemid, path, name, content))
    for folder in sorted(folders):
        records.append(FileRecord(b.next("file"), contextid, component, filearea, itemid, folder, "."))
    b.files.extend(records)
    return records


def files_xml(b: Backup) -> El:
    return El("files").add(*(record_xml(b, r) for r in sorted(b.files, key=lambda r: r.id)))


def record_xml(b: Backup, r: FileRecord) -> Written:
    """The record's <file> element, written once (a replayed module brings its records' elements along)."""
    if r.xml is None:
        r.xml = fragment(el("file", {"id": r.id}, contenthash=EMPTY_SHA1 if r.is_folder else r.sha1,
                            contextid=r.contextid, component=r.component, filearea=r.filearea, itemid=r.itemid,
                            filepath=r.filepath, filename=r.filename, userid=NULL,
                            filesize=0 if r.is_folder else len(r.content),
                            mimetype=NULL if r.is_folder else MIMETYPES.get(
                                posixpath.splitext(r.filename)[1].lower(), "document/unknown"),
                            status=0, timecreated=b.now, timemodified=b.now,
                            source=NULL if r.is_folder else r.filename, author=NULL,
                            license=NULL if r.is_folder else "unknown", sortorder=0, repositorytype=NULL,
                            repositoryid=NULL, reference=NULL), 1)
    return r.xml


def blobs(b: Backup) -> dict[str, bytes]:
    """files/<sha1[:2]>/<sha1>: each content once, however many records share it."""
    return {f"files/{r.sha1[:2]}/{r.sha1}": r.content for r in b.files if not r.is_folder}
