"""Where the Moodle backup meets the SCORM 1.2 target: the module's package and what Moodle reads from it.

The backup embeds exactly the per-module package that `course build -t scorm12` writes
(course_builder.targets.scorm.module_package). Moodle does not parse a restored package again: the backup
must carry the SCOs (as scorm_parse_scorm in mod/scorm/datamodels/scormlib.php makes them) and the
unpacked files (file area mod_scorm/content) beside the zip (mod_scorm/package). Both come from here.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from ...cache import NO_CACHE, Cache
from ...model import Course, Module

VERSION = "scorm12"
ADLCP = "http://www.adlnet.org/xsd/adlcp_rootv1p2"


@dataclass
class Sco:
    organization: str
    parent: str
    identifier: str
    launch: str
    scormtype: str
    title: str
    sortorder: int
    data: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Manifest:
    identifier: str
    scoes: list[Sco]
    files: list[tuple[str, bytes]]  # every file of the zip, by its path in the zip


def available() -> bool:
    """Whether the scorm12 target is installed (else the backup delivers every module natively)."""
    try:
        from ..scorm import module_package  # noqa: F401
    except ImportError:
        return False
    return True


def package(course: Course, module: Module, cache: Cache = NO_CACHE) -> bytes | None:
    """The module's SCORM 1.2 package as the scorm12 target writes it; None if that target is not installed."""
    try:
        from ..scorm import module_package
    except ImportError:
        return None
    return module_package(course, module, VERSION, cache)


def package_name(course: Course, module: Module) -> str:
    """The name the scorm12 target gives the module's package, so teachers recognise it in Moodle."""
    from ..scorm import package_name as scorm_name

    return f"{scorm_name(course, module, VERSION)}.zip"


def pass_mark(course: Course, module: Module) -> float:
    from ..scorm import mastery_percent

    return mastery_percent(course, module)


def read_manifest(data: bytes) -> Manifest:
    """The SCOs Moodle's SCORM 1.2 parser makes of a package: each organisation, then its items in document order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = [(info.filename, zf.read(info)) for info in zf.infolist() if not info.is_dir()]
    manifest_xml = dict(files)["imsmanifest.xml"]
    root = etree.fromstring(manifest_xml)
    ns = root.nsmap.get(None, "")
    q = (lambda tag: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
    resources = {r.get("identifier"): r for r in root.iter(q("resource"))}
    scoes: list[Sco] = []
    for org in root.iter(q("organization")):
        org_id = org.get("identifier")
        scoes.append(Sco("", "/", org_id, "", "", _title(org, q), len(scoes) + 1))

        def walk(node, parent: str) -> None:
            for item in node.findall(q("item")):
                res = resources.get(item.get("identifierref") or "")
                launch = (res.get("href") or "") if res is not None else ""
                scormtype = (res.get(f"{{{ADLCP}}}scormtype") or "").lower() if res is not None else "asset"
                data = [("isvisible", item.get("isvisible", "true")), ("parameters", item.get("parameters", ""))]
                mastery = item.find(f"{{{ADLCP}}}masteryscore")
                if mastery is not None and (mastery.text or "").strip():
                    data.append(("masteryscore", mastery.text.strip()))
                scoes.append(Sco(org_id, parent, item.get("identifier"), launch, scormtype, _title(item, q),
                                 len(scoes) + 1, data))
                walk(item, item.get("identifier"))

        walk(org, org_id)
    return Manifest(root.get("identifier") or "", scoes, sorted(files))


def _title(node, q) -> str:
    title = node.find(q("title"))
    return (title.text or "").strip() if title is not None else ""
