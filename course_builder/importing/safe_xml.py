"""XML parsing that cannot be turned against the importer: no entities, no DTDs, no network, no huge trees."""

from __future__ import annotations

from lxml import etree

from .. import diagnostics as d
from .errors import ImportFailed


def parser() -> etree.XMLParser:
    # resolve_entities=False keeps an entity bomb from expanding; huge_tree=False keeps libxml2's depth
    # and size limits; no_network and load_dtd=False keep external DTDs and entities unread.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=False, strip_cdata=True)


def parse(raw: bytes, file: str) -> etree._Element:
    """The root element of raw, or ImportFailed naming the file, line and column of the first problem."""
    if b"<!ENTITY" in raw[:65536]:
        # Moodle never writes a DTD; an internal subset with entities is an expansion bomb or an XXE attempt.
        line = raw[:raw.index(b"<!ENTITY")].count(b"\n") + 1
        raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, d.SourceLoc(file, line, 1),
                                  "the XML declares entities, which Moodle never writes; not read",
                                  "export the file again from Moodle"))
    try:
        return etree.fromstring(raw, parser())
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (1, 1)
        raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, d.SourceLoc(file, max(line, 1), max(col, 1)),
                                  f"malformed XML: {exc.msg}", "export the file again from Moodle")) from None
