"""Targets `scorm12` and `scorm2004` (group `scorm`): SCORM packages for Moodle and other LMSs.

Layout of <out>/scorm12/ (and likewise <out>/scorm2004/, with `scorm2004` in the names):
  <course-id>-scorm12.zip                the whole course: one SCO per module, organisation = the modules in order
  <course-id>-<module-id>-scorm12.zip    one package per module (one SCO)

Inside every package:
  imsmanifest.xml                 at the zip root; lists every file of the package
  <module-id>/index.html          the module's player page (one SCO), `data.lms` = scorm12 | scorm2004
  assets/learner.js, learner.css  the learner runtime, minified (the same code as the HTML site's)
  files/<path in course>          images and media, at their path in the course folder

The packages do not carry the ADL XSD files: Moodle and other LMSs ignore them, the files are
third-party data that the project does not ship, and the tests validate every manifest against
the control schemas in ../shared/schemas instead. `xsi:schemaLocation` still names the usual files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import rcssmin
import rjsmin
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ... import player
from ...cache import NO_CACHE, Cache
from ...liveunits import remembered
from ...model import Course, Module
from ...units import TEMPLATES, Units, memo
from ...worksheets import worksheet_files, worksheet_inputs
from ...zipwriter import Member, member, members, zip_members
from .. import BuildOptions, register

VERSIONS = ("scorm12", "scorm2004")
# Longest suspend_data an LMS must keep, per version (SCORM 1.2: CMIString4096, 2004: 64000 characters).
SUSPEND_LIMIT = {"scorm12": 4096, "scorm2004": 64000}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=PackageLoader("course_builder.targets.scorm", "templates"), bytecode_cache=TEMPLATES,
                       autoescape=select_autoescape(["xml", "j2"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


@lru_cache(maxsize=1)
def runtime_files() -> dict[str, bytes]:
    """learner.js and learner.css as a SCO carries them: minified, so both stay well under 30 KB."""
    minify = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}
    out = {}
    for name, content in player.static_files().items():
        text = minify[Path(name).suffix](content.decode("utf-8"))
        out[f"assets/{name}"] = text.strip().encode("utf-8") + b"\n"
    return out


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def sco_context(version: str) -> player.PlayerContext:
    """Where things are as seen from a SCO's page: <module>/index.html, ../assets/, ../files/<path in course>."""
    return player.PlayerContext(
        static_prefix="../assets/",
        asset_href=lambda a: f"../files/{a.rel}",
        module_href=lambda module_id: None,  # another SCO is reached through the LMS, never by a link
        home_href=None,
        runtime={"lms": version},
    )


def mastery_score(course: Course, module: Module) -> str | None:
    """The SCO's mastery score (the pass mark) as the manifest writes it; None if the module is not auto-graded."""
    quiz = course.quiz_for(module.id)
    graded = quiz is not None and quiz.auto_points > 0
    return _number(mastery_percent(course, module)) if graded else None


def _sco(course: Course, module: Module, files: list[str]) -> dict:
    """One module as a SCO: its manifest facts (files: the page, media and worksheets it carries)."""
    mastery = mastery_score(course, module)
    return {"id": module.id, "title": module.title, "href": f"{module.id}/index.html", "files": sorted(files),
            "mastery": mastery,
            "measure": _number(mastery_percent(course, module) / 100) if mastery is not None else None}


def _sco_files(course: Course, module: Module, version: str, cache: Cache = NO_CACHE) -> dict[str, bytes]:
    """The files of a module's SCO: its player page, its media and its worksheets."""
    files = {f"{module.id}/index.html": player.render_module(course, module, sco_context(version)).encode("utf-8")}
    for asset in player.module_assets(course, module):
        files[f"files/{asset.rel}"] = asset.path.read_bytes()
    files.update((f"files/{rel}", data) for rel, data in worksheet_files(course, module, cache).items())
    return files


def _manifest(course: Course, scos: list[dict], version: str, identifier: str, title: str) -> Member:
    parts = [_sco_xml(version, sco["id"], sco["title"], sco["href"], tuple(sco["files"]), sco["mastery"], sco["measure"])
             for sco in scos]
    text = _env().get_template(f"imsmanifest-{version}.xml.j2").render(
        identifier=identifier, title=title, items=[item for item, _ in parts],
        resources=[resource for _, resource in parts], assets=sorted(runtime_files()))
    return member("imsmanifest.xml", text.encode("utf-8"))


@lru_cache(maxsize=8192)
def _sco_xml(version: str, sco_id: str, title: str, href: str, files: tuple[str, ...], mastery, measure) -> tuple[Markup, Markup]:
    """A SCO's <item> and <resource> in the manifest, written once per set of facts: the course package's
    manifest lists 1,000 of them, all but the edited module's the same as in the last build."""
    sco = {"id": sco_id, "title": title, "href": href, "files": files, "mastery": mastery, "measure": measure}
    env = _env()
    return (Markup(env.get_template(f"imsmanifest-{version}-item.xml.j2").render(sco=sco)),
            Markup(env.get_template(f"imsmanifest-{version}-resource.xml.j2").render(sco=sco)))


@lru_cache(maxsize=1)
def _runtime_members() -> dict[str, Member]:
    return {name: member(name, data) for name, data in runtime_files().items()}


def mastery_percent(course: Course, module: Module) -> float:
    """The module's pass mark as a SCORM mastery score, 0–100."""
    return min(100.0, max(0.0, player.pass_mark(course, module)))


def package_name(course: Course, module: Module, version: str) -> str:
    return f"{course.id}-{module.id}-{version}"


def module_package(course: Course, module: Module, version: str, cache: Cache = NO_CACHE) -> bytes:
    """A module's own package, made once per build (the Moodle backup embeds these very bytes) and
    cached across builds under the module page's and its worksheets' inputs."""
    def make(c: Course) -> bytes:
        files = _sco_files(c, module, version, cache)
        scos = [_sco(c, module, list(files))]
        manifest = _manifest(c, scos, version, package_name(c, module, version), module.title)
        return zip_members([manifest, *_runtime_members().values(), *(member(n, d) for n, d in files.items())])

    # The page's inputs are the package's: its name, title, language and mastery score come from them too.
    def inputs(c: Course) -> tuple:
        return player.page_inputs(c, module), [worksheet_inputs(c, module, sheet) for sheet in module.worksheets]

    return course.derived(f"{version}-package:{module.id}", lambda c: memo(
        cache, c, f"{version}-package", inputs(c), lambda: make(c)))


def course_package(course: Course, version: str, cache: Cache = NO_CACHE) -> bytes:
    """The whole course in one package, one SCO per module: assembled from the modules' own packages,
    whose compressed pages and media it reuses, so that changing one module compresses one page."""
    scos: list[dict] = []
    entries = dict(_runtime_members())
    for module in course.modules:
        parts, sco = _course_part(course, module, module_package(course, module, version, cache), cache)
        files = [name for name in parts if name != "imsmanifest.xml" and name not in entries]
        scos.append(dict(sco, files=sorted(files)))
        entries.update((name, parts[name]) for name in files)
    manifest = _manifest(course, scos, version, f"{course.id}-{version}", course.title)
    return zip_members([manifest, *entries.values()])


def _course_part(course: Course, module: Module, package: bytes, cache: Cache) -> tuple[dict[str, Member], dict]:
    """The module package's members and its SCO's facts but the file list (which depends on the modules
    before it). The package's manifest carries those facts, so a long-running process takes them from
    its last build while the package is the same bytes (liveunits.py)."""
    return remembered(cache, "scorm-course-part", (module.id, package),
                      lambda: (members(package), _sco(course, module, [])))


class _Scorm:
    name = ""

    def units(self, course: Course, options: BuildOptions) -> Units:
        units = Units(course, self.name, options.cache)
        for module in course.modules:
            units.add(f"{package_name(course, module, self.name)}.zip",
                      lambda module=module: module_package(course, module, self.name, options.cache))
        units.add(f"{course.id}-{self.name}.zip", lambda: course_package(course, self.name, options.cache))
        return units

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        self.units(course, options).write(out)


@register
class Scorm12(_Scorm):
    name = "scorm12"
    description = "SCORM 1.2 packages: one per module and one for the whole course (Moodle's SCORM activity)"


@register
class Scorm2004(_Scorm):
    name = "scorm2004"
    description = "SCORM 2004 4th edition packages: one per module and one for the whole course"
