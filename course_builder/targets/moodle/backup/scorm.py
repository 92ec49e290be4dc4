"""SCORM activities (the scorm delivery, the default): each module as its SCORM 1.2 package, with the SCOs
Moodle reads from the manifest and the package's files unpacked in the content area."""

from __future__ import annotations

import hashlib
import logging
import posixpath

from ....units import runtime_fingerprint
from ...notices import notice
from .. import scorm_seam
from ..backup_xml import NULL, El, el
from ....model import Module
from . import files, grades
from .plan import Backup
from .records import COMPLETION_AUTOMATIC, Activity, Section

log = logging.getLogger("course_builder.targets.moodle.backup")

SCORM_STATUS_PASSED, SCORM_STATUS_COMPLETED = 2, 4  # bits of scorm.completionstatusrequired


def package_for(b: Backup, module: Module) -> bytes | None:
    """The module's SCORM 1.2 package in the scorm delivery; None in the native one (or without a builder)."""
    if b.delivery != "scorm":
        return None
    package = scorm_seam.package(b.course, module, b.cache)
    if package is None:
        notice(log, "moodle-backup: no SCORM 1.2 package builder is available; {n} modules are delivered "
                    "natively (Pages and a Quiz)",
               f"moodle-backup: no SCORM 1.2 package builder is available; module '{module.id}' is delivered "
               "natively (Pages and a Quiz)")
    return package


def add(b: Backup, section: Section, module: Module, package: bytes) -> Activity:
    manifest = read_manifest(b, package)
    zipname = scorm_seam.package_name(b.course, module)
    pass_mark = scorm_seam.pass_mark(b.course, module)
    a = b.activity("scorm", section, module.title, dict(
        name=module.title, scormtype="local", reference=zipname, intro=module.summary.html, introformat=1,
        version="SCORM_1.2", maxgrade=100, grademethod=1, whatgrade=0, maxattempt=0, forcecompleted=0,
        forcenewattempt=0, lastattemptlock=0, masteryoverride=1, displayattemptstatus=1,
        displaycoursestructure=0, updatefreq=0, sha1hash=hashlib.sha1(package).hexdigest(), md5hash="",
        revision=1, launch=0, skipview=2, hidebrowse=1, hidetoc=3, nav=1, navpositionleft=-100,
        navpositiontop=-100, auto=0, popup=0, options="", width=100, height=500, timeopen=0, timeclose=0,
        timemodified=b.now, completionstatusrequired=scorm_status(manifest), completionscorerequired=NULL,
        completionstatusallscos=0, autocommit=0))
    scoes = El("scoes")
    launch = None
    for sco in manifest.scoes:
        sco_id = b.next("sco")
        if launch is None and sco.launch:
            launch = sco_id
        datas = El("sco_datas")
        for key, value in sco.data:
            datas.add(el("sco_data", {"id": b.next("sco_data")}, name=key, value=value))
        scoes.add(el("sco", {"id": sco_id}, manifest=manifest.identifier, organization=sco.organization,
                     parent=sco.parent, identifier=sco.identifier, launch=sco.launch, scormtype=sco.scormtype,
                     title=sco.title, sortorder=sco.sortorder).add(
            datas, El("seq_ruleconds"), El("seq_rolluprules"), El("seq_objectives"), El("sco_tracks")))
    for i, child in enumerate(a.body.children):
        if child == ("launch", 0):
            a.body.children[i] = ("launch", launch or 0)
    a.body.add(scoes)
    content = [("/" + (posixpath.dirname(name) + "/" if posixpath.dirname(name) else ""), posixpath.basename(name), data)
               for name, data in manifest.files]
    a.files = (files.area(b, a.contextid, "mod_scorm", "package", 0, [("/", zipname, package)])
               + files.area(b, a.contextid, "mod_scorm", "content", 0,
                            [(p.replace("//", "/"), n, d) for p, n, d in content]))
    a.grade_items = [grades.item(b, "quizzes", module.title, "scorm", a.instance, 100.0, float(pass_mark))]
    a.completion = dict(completion=COMPLETION_AUTOMATIC)
    quiz = b.course.quiz_for(module.id)
    if quiz is not None and any(q is quiz for q in b.course.certificate_quizzes()):
        b.completion_cms.append(a)
    return a


def read_manifest(b: Backup, package: bytes) -> scorm_seam.Manifest:
    """What Moodle reads from a package, kept by the package's hash (a 1,000-module backup reads 1,000)."""
    key = b.cache.key("scorm-manifest", runtime_fingerprint(), hashlib.sha256(package).digest())
    found = b.cache.get_object("scorm-manifest", key)
    if not isinstance(found, scorm_seam.Manifest):
        found = scorm_seam.read_manifest(package)
        b.cache.put_object("scorm-manifest", key, found)
    return found


def scorm_status(manifest: scorm_seam.Manifest) -> int:
    """'passed' when a SCO has a mastery score (a graded quiz), else 'completed': the status the SCO can reach."""
    graded = any(key == "masteryscore" for sco in manifest.scoes for key, _ in sco.data)
    return SCORM_STATUS_PASSED if graded else SCORM_STATUS_COMPLETED
