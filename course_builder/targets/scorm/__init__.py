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

from ... import player
from ...model import Course, Module
from ...worksheets import worksheet_files
from ...zipwriter import write_zip, zip_bytes
from .. import BuildOptions, register

VERSIONS = ("scorm12", "scorm2004")
# Longest suspend_data an LMS must keep, per version (SCORM 1.2: CMIString4096, 2004: 64000 characters).
SUSPEND_LIMIT = {"scorm12": 4096, "scorm2004": 64000}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=PackageLoader("course_builder.targets.scorm", "templates"),
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


def _sco(course: Course, module: Module, version: str) -> tuple[dict, dict[str, bytes]]:
    """One module as a SCO: its manifest facts and its files (page and media)."""
    files = {f"{module.id}/index.html": player.render_module(course, module, sco_context(version)).encode("utf-8")}
    for asset in player.module_assets(course, module):
        files[f"files/{asset.rel}"] = asset.path.read_bytes()
    files.update((f"files/{rel}", data) for rel, data in worksheet_files(course, module).items())
    mastery = mastery_score(course, module)
    sco = {"id": module.id, "title": module.title, "href": f"{module.id}/index.html", "files": sorted(files),
           "mastery": mastery,
           "measure": _number(mastery_percent(course, module) / 100) if mastery is not None else None}
    return sco, files


def package(course: Course, modules: list[Module], version: str, identifier: str, title: str) -> list[tuple[str, bytes]]:
    """The zip entries of one package holding the given modules, one SCO each."""
    scos, files = [], dict(runtime_files())
    for module in modules:
        sco, sco_files = _sco(course, module, version)
        scos.append(sco)
        files.update(sco_files)
    manifest = _env().get_template(f"imsmanifest-{version}.xml.j2").render(
        identifier=identifier, title=title, scos=scos, assets=sorted(runtime_files()),
        lang=course.spec.language if course.spec else "de", multi=len(scos) > 1)
    return [("imsmanifest.xml", manifest.encode("utf-8")), *files.items()]


def mastery_percent(course: Course, module: Module) -> float:
    """The module's pass mark as a SCORM mastery score, 0–100."""
    return min(100.0, max(0.0, player.pass_mark(course, module)))


def package_name(course: Course, module: Module, version: str) -> str:
    return f"{course.id}-{module.id}-{version}"


def module_package(course: Course, module: Module, version: str) -> bytes:
    """A module's own package, built once per build: the Moodle backup embeds these very bytes."""
    return course.derived(f"{version}-package:{module.id}", lambda c: zip_bytes(
        package(c, [module], version, package_name(c, module, version), module.title)))


class _Scorm:
    name = ""

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        for module in course.modules:
            (out / f"{package_name(course, module, self.name)}.zip").write_bytes(module_package(course, module, self.name))
        write_zip(out / f"{course.id}-{self.name}.zip",
                  package(course, course.modules, self.name, f"{course.id}-{self.name}", course.title))


@register
class Scorm12(_Scorm):
    name = "scorm12"
    description = "SCORM 1.2 packages: one per module and one for the whole course (Moodle's SCORM activity)"


@register
class Scorm2004(_Scorm):
    name = "scorm2004"
    description = "SCORM 2004 4th edition packages: one per module and one for the whole course"

