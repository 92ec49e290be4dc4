"""Target `cc`: IMS Common Cartridges that place the course's modules as LTI links to the LTI tool.

Layout of <out>/cc/:
  <course-id>-cc11.imscc   Common Cartridge 1.1 (Moodle 4.5 imports 1.0 and 1.1 only)
  <course-id>-cc13.imscc   Common Cartridge 1.3, for other LMSs

The organization mirrors the course: one folder per module holding its LTI link, then a folder for
the tasks that belong to no module (the project work). Each link launches <tool>/lti/launch with the
custom parameter `module` (or `task`), which the tool reads. The tool's URL comes from the build
option `lti_url` (`course build -t cc -O lti_url=…`) or the environment variable COURSE_LTI_URL; there
is no default, as a cartridge pointing at a placeholder host would import fine and fail at every launch.

Moodle's CC 1.1 converter (backup/cc/cc2moodle.php) turns each child of the organization's root item into
a section numbered from 0 and never reads a section name (only the folder's title, as the section
summary). So the 1.1 cartridge starts with an empty folder named after the course, which becomes
section 0 ("General"), and the modules land in sections 1, 2, …; 1.3 keeps the plain folder list.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from lxml import etree

from ...model import Course
from ...units import Units
from ...zipwriter import zip_bytes
from .. import BuildOptions, OptionError, register

XSI = "http://www.w3.org/2001/XMLSchema-instance"
BLTI = "http://www.imsglobal.org/xsd/imsbasiclti_v1p0"
LTICM = "http://www.imsglobal.org/xsd/imslticm_v1p0"
LTICP = "http://www.imsglobal.org/xsd/imslticp_v1p0"
URL_HINT = ("give the LTI tool's public base URL (where `course serve` answers): "
            "course build -t cc -O lti_url=https://lti.your-domain.org (or set COURSE_LTI_URL)")


def tool_url(options: BuildOptions) -> str | None:
    """The LTI tool's base URL from -O lti_url= or COURSE_LTI_URL; None when neither is given."""
    url = (options.extra.get("lti_url") or os.environ.get("COURSE_LTI_URL") or "").strip().rstrip("/")
    if url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise OptionError(f"cc: lti_url '{url}' is not an http(s) URL; {URL_HINT}")
    return url or None


@dataclass(frozen=True)
class Version:
    suffix: str
    schema_version: str
    cp: str  # manifest namespace
    lom: str  # LOM (manifest metadata) namespace
    cp_xsd: str
    lom_xsd: str
    link_type: str
    link_ns: str
    link_xsd: str


CC11 = Version("cc11", "1.1.0", "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1",
               "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest",
               "http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_imscp_v1p2_v1p0.xsd",
               "http://www.imsglobal.org/profile/cc/ccv1p1/LOM/ccv1p1_lommanifest_v1p0.xsd",
               "imsbasiclti_xmlv1p0", "http://www.imsglobal.org/xsd/imslticc_v1p0",
               "http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticc_v1p0.xsd")
CC13 = Version("cc13", "1.3.0", "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1",
               "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest",
               "http://www.imsglobal.org/profile/cc/ccv1p3/ccv1p3_imscp_v1p2_v1p0.xsd",
               "http://www.imsglobal.org/profile/cc/ccv1p3/LOM/ccv1p3_lommanifest_v1p0.xsd",
               "imsbasiclti_xmlv1p3", "http://www.imsglobal.org/xsd/imslticc_v1p3",
               "http://www.imsglobal.org/xsd/lti/ltiv1p3/imslticc_v1p3.xsd")


@dataclass(frozen=True)
class Link:
    ident: str
    title: str
    description: str
    custom: dict


def ident(*parts: str) -> str:
    """A stable XML id from the course's own ids (same sources, same bytes)."""
    return "i" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:20]


def folders(course: Course) -> list[tuple[str, str, list[Link]]]:
    """(folder id, title, links): one folder per module, then one for tasks outside modules."""
    result = []
    for module in course.modules:
        link = Link(ident(course.id, "module", module.id), module.title, module.spec.summary.strip(),
                    {"module": module.id})
        result.append((ident(course.id, "folder", module.id), module.title, [link]))
    loose = [t for t in course.tasks if t.module is None]
    if loose:
        links = [Link(ident(course.id, "task", t.id), t.title, "", {"task": t.id}) for t in loose]
        result.append((ident(course.id, "folder", "tasks"), "Projektarbeit" if course.spec and
                       course.spec.language == "de" else "Project work", links))
    return result


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def link_xml(version: Version, link: Link, base_url: str) -> bytes:
    nsmap = {None: version.link_ns, "blti": BLTI, "lticm": LTICM, "lticp": LTICP, "xsi": XSI}
    root = etree.Element(f"{{{version.link_ns}}}cartridge_basiclti_link", nsmap=nsmap)
    root.set(f"{{{XSI}}}schemaLocation", f"{version.link_ns} {version.link_xsd}")
    etree.SubElement(root, f"{{{BLTI}}}title").text = link.title
    if link.description:
        etree.SubElement(root, f"{{{BLTI}}}description").text = link.description
    custom = etree.SubElement(root, f"{{{BLTI}}}custom")
    for name, value in sorted(link.custom.items()):
        prop = etree.SubElement(custom, f"{{{LTICM}}}property", name=name)
        prop.text = value
    url = f"{base_url}/lti/launch?{urlencode(link.custom)}"
    etree.SubElement(root, f"{{{BLTI}}}launch_url").text = url
    if url.startswith("https://"):
        etree.SubElement(root, f"{{{BLTI}}}secure_launch_url").text = url
    vendor = etree.SubElement(root, f"{{{BLTI}}}vendor")
    etree.SubElement(vendor, f"{{{LTICP}}}code").text = "course_builder"
    etree.SubElement(vendor, f"{{{LTICP}}}name").text = "course_builder"
    return _xml(root)


def manifest(version: Version, course: Course, tree: list[tuple[str, str, list[Link]]]) -> bytes:
    if version is CC11:
        tree = [(ident(course.id, "folder", "general"), course.title, []), *tree]
    cp, lom = version.cp, version.lom
    root = etree.Element(f"{{{cp}}}manifest", nsmap={None: cp, "lomimscc": lom, "xsi": XSI},
                         identifier=ident(course.id, "manifest", version.suffix))
    root.set(f"{{{XSI}}}schemaLocation", f"{cp} {version.cp_xsd} {lom} {version.lom_xsd}")
    metadata = etree.SubElement(root, f"{{{cp}}}metadata")
    etree.SubElement(metadata, f"{{{cp}}}schema").text = "IMS Common Cartridge"
    etree.SubElement(metadata, f"{{{cp}}}schemaversion").text = version.schema_version
    general = etree.SubElement(etree.SubElement(metadata, f"{{{lom}}}lom"), f"{{{lom}}}general")
    lang = course.spec.language if course.spec else "de"
    etree.SubElement(etree.SubElement(general, f"{{{lom}}}title"), f"{{{lom}}}string", language=lang).text = course.title
    if course.spec and course.spec.summary:
        description = etree.SubElement(general, f"{{{lom}}}description")
        etree.SubElement(description, f"{{{lom}}}string", language=lang).text = course.spec.summary.strip()
    organizations = etree.SubElement(root, f"{{{cp}}}organizations")
    organization = etree.SubElement(organizations, f"{{{cp}}}organization",
                                    identifier=ident(course.id, "organization"), structure="rooted-hierarchy")
    top = etree.SubElement(organization, f"{{{cp}}}item", identifier=ident(course.id, "root"))
    resources = etree.SubElement(root, f"{{{cp}}}resources")
    for folder_id, title, links in tree:
        folder = etree.SubElement(top, f"{{{cp}}}item", identifier=folder_id)
        etree.SubElement(folder, f"{{{cp}}}title").text = title
        for link in links:
            item = etree.SubElement(folder, f"{{{cp}}}item", identifier=link.ident + "_item",
                                    identifierref=link.ident)
            etree.SubElement(item, f"{{{cp}}}title").text = link.title
            resource = etree.SubElement(resources, f"{{{cp}}}resource", identifier=link.ident, type=version.link_type)
            etree.SubElement(resource, f"{{{cp}}}file", href=f"{link.ident}.xml")
    return _xml(root)


@register
class CommonCartridge:
    name = "cc"
    description = "IMS Common Cartridge 1.1 and 1.3: the modules as LTI links to the LTI tool, in folders"

    def check_options(self, options: BuildOptions) -> None:
        if tool_url(options) is None:
            raise OptionError(f"cc: no LTI tool URL, so the cartridge's links would lead nowhere; {URL_HINT}")

    def units(self, course: Course, options: BuildOptions) -> Units:
        self.check_options(options)
        url = tool_url(options)
        # folders() and manifest() read the course frame and each module's and task's title and summary.
        inputs = (url, course.spec, [(m.id, m.spec) for m in course.modules],
                  [(t.id, t.module, t.meta) for t in course.tasks])
        units = Units(course, self.name, options.cache)
        for version in (CC11, CC13):
            units.add(f"{course.id}-{version.suffix}.imscc", lambda version=version: self._cartridge(
                course, version, url), inputs)
        return units

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        self.units(course, options).write(out)

    @staticmethod
    def _cartridge(course: Course, version: Version, url: str) -> bytes:
        tree = folders(course)
        entries = [("imsmanifest.xml", manifest(version, course, tree))]
        entries += [(f"{link.ident}.xml", link_xml(version, link, url)) for _, _, links in tree for link in links]
        return zip_bytes(entries)
