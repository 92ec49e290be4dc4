"""The course's own files: moodle_backup.xml (what restore reads first: the header, every section and
activity, the settings), course/*.xml, and the .ARCHIVE_INDEX of the whole archive."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache

from ....tarwriter import sorted_with_folders
from ..backup_xml import NULL, El, Written, document, el, fragment
from .plan import Backup
from .records import COURSE_CONTEXT, COURSE_ID, STUDENT_ROLE, SYSTEM_CONTEXT, epoch, para
from .versions import DEFAULT, Profile


def filename(course, version: Profile = DEFAULT) -> str:
    return f"{course.id}-{version.file_tag}-nousers.mbz"


def archive_index(b: Backup, files: dict[str, bytes]) -> bytes:
    """.ARCHIVE_INDEX as Moodle's tgz packer writes it; restore uses it to list the archive quickly."""
    names = sorted_with_folders(files, b.cache, "archive-index")
    lines = [f"Moodle archive file index. Count: {len(names)}"]
    for name in names:
        if name.endswith("/"):
            lines.append(f"{name}\td\t0\t?")
        else:
            lines.append(f"{name}\tf\t{len(files[name])}\t{b.now}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def moodle_backup_xml(b: Backup) -> El:
    spec = b.spec
    info = El("information").leaves(
        name=filename(b.course, b.version), moodle_version=b.version.moodle_version,
        moodle_release=b.version.moodle_release, backup_version=b.version.backup_version,
        backup_release=b.version.backup_release, backup_date=b.now,
        mnet_remoteusers=0, include_files=1, include_file_references_to_external_content=0,
        original_wwwroot="https://course-builder.invalid", original_site_identifier_hash=hashlib.md5(
            f"course_builder:{b.course.id}".encode()).hexdigest(),
        original_course_id=COURSE_ID, original_course_format="weeks", original_course_fullname=spec.title,
        original_course_shortname=shortname(b), original_course_startdate=b.now,
        original_course_enddate=enddate(b), original_course_contextid=COURSE_CONTEXT,
        original_system_contextid=SYSTEM_CONTEXT)
    backup_id = hashlib.md5(f"course_builder:{b.course.id}:{b.delivery}".encode()).hexdigest()
    info.add(El("details").add(el("detail", {"backup_id": backup_id}, type="course", format="moodle2",
                                  interactive=1, mode=10, execution=1, executiontime=0)))
    activities = El("activities").add(*(_activity_xml(a.cmid, a.section.id, a.modname, a.title, a.directory)
                                        for a in b.activities))
    sections = El("sections").add(*(_section_xml(s.id, s.name if s.name is not None else str(s.number))
                                    for s in b.sections))
    info.add(El("contents").add(activities, sections, el("course", courseid=COURSE_ID, title=shortname(b),
                                                          directory="course")))
    settings = El("settings")
    root = [("filename", filename(b.course, b.version)), ("imscc11", 0), ("users", 0), ("anonymize", 0),
            ("role_assignments", 0), ("activities", 1), ("blocks", 1), ("files", 1), ("filters", 1),
            ("comments", 0), ("badges", 1), ("calendarevents", 1), ("userscompletion", 0), ("logs", 0),
            ("grade_histories", 0), ("questionbank", 1), ("groups", 1), ("competencies", 1),
            ("customfield", 1), ("contentbankcontent", 1), ("xapistate", 0), ("legacyfiles", 1)]
    for name, value in root:
        settings.add(el("setting", level="root", name=name, value=value))
    settings.add(*(_section_settings_xml(s.id, tuple((a.modname, a.cmid) for a in s.activities)) for s in b.sections))
    info.add(settings)
    return El("moodle_backup").add(info)


# The lines of one activity or section, written once per set of values: a backup of 1,000 modules
# lists 1,000 activities and sets 4,000 settings, nearly all the same from one build to the next.

@lru_cache(maxsize=16384)
def _activity_xml(cmid: int, section_id: int, modname: str, title: str, directory: str) -> Written:
    return fragment(el("activity", moduleid=cmid, sectionid=section_id, modulename=modname, title=title,
                       directory=directory, insubsection=""), 4)


@lru_cache(maxsize=16384)
def _section_xml(section_id: int, title: str) -> Written:
    return fragment(el("section", sectionid=section_id, title=title, directory=f"sections/section_{section_id}",
                       parentcmid="", modname=""), 4)


@lru_cache(maxsize=16384)
def _section_settings_xml(section_id: int, activities: tuple[tuple[str, int], ...]) -> Written:
    key = f"section_{section_id}"
    settings = [el("setting", level="section", section=key, name=f"{key}_included", value=1),
                el("setting", level="section", section=key, name=f"{key}_userinfo", value=0)]
    for modname, cmid in activities:
        key_a = f"{modname}_{cmid}"
        settings.append(el("setting", level="activity", activity=key_a, name=f"{key_a}_included", value=1))
        settings.append(el("setting", level="activity", activity=key_a, name=f"{key_a}_userinfo", value=0))
    return Written("".join(fragment(setting, 3) for setting in settings))


def shortname(b: Backup) -> str:
    return b.spec.short_name or b.course.id


def enddate(b: Backup) -> int:
    spec = b.spec
    last = spec.cohort.end
    for s in spec.schedule.sessions:
        last = max(last, s.end)
    return epoch(last + dt.timedelta(days=1))


def course_files(b: Backup) -> dict[str, bytes]:
    spec = b.spec
    course = el("course", {"id": COURSE_ID, "contextid": COURSE_CONTEXT},
                shortname=shortname(b), fullname=spec.title, idnumber=b.course.id,
                summary=para(spec.summary.strip()) if spec.summary.strip() else "", summaryformat=1, format="weeks",
                showgrades=1, newsitems=5, startdate=b.now, enddate=enddate(b), marker=0, maxbytes=0,
                legacyfiles=0, showreports=0, visible=1, groupmode=0, groupmodeforce=0, defaultgroupingid=0,
                lang=spec.language, theme="", timecreated=b.now, timemodified=b.now, requested=0,
                showactivitydates=1, showcompletionconditions=1, pdfexportfont=NULL, enablecompletion=1,
                completionnotify=0)
    course.add(El("category", {"id": 1}).leaves(name="Category 1", description=NULL), El("tags"), El("customfields"))
    options = El("courseformatoptions")
    for name, value in (("hiddensections", 1), ("coursedisplay", 0), ("automaticenddate", 0)):
        options.add(el("courseformatoption", format="weeks", sectionid=0, name=name, value=value))
    course.add(options)
    inforef = El("inforef")
    inforef.add(El("groupingref").add(El("grouping").leaves(id=b.grouping_id)))
    if b.groups:
        inforef.add(El("groupref").add(*(El("group").leaves(id=gid) for gid, _ in b.groups)))
    inforef.add(El("roleref").add(El("role").leaves(id=STUDENT_ROLE)))
    if not b.version.qbank_module:  # on 5.x the bank activity's inforef lists them
        inforef.add(El("question_categoryref").add(*(El("question_category").leaves(id=cid)
                                                     for cid in b.category_ids.values())))
    return {
        "course/course.xml": document(course),
        "course/inforef.xml": document(inforef),
        "course/roles.xml": document(El("roles").add(El("role_overrides"), El("role_assignments"))),
        "course/filters.xml": document(El("filters").add(El("filter_actives"), El("filter_configs"))),
        "course/calendar.xml": document(El("events").add(*b.events)),
        "course/contentbank.xml": document(El("contents")),
        "course/competencies.xml": document(El("course_competencies").add(El("competencies"),
                                                                           El("user_competencies"))),
        "course/completiondefaults.xml": document(El("course_completion_defaults")),
        "course/enrolments.xml": document(El("enrolments").add(El("enrols").add(_manual_enrol(b)))),
    }


def _manual_enrol(b: Backup) -> El:
    enrol = el("enrol", {"id": 1}, enrol="manual", status=0, name=NULL, enrolperiod=0, enrolstartdate=0,
               enrolenddate=0, expirynotify=0, expirythreshold=86400, notifyall=0, password=NULL, cost=NULL,
               currency=NULL, roleid=STUDENT_ROLE, customint1=NULL, customint2=NULL, customint3=NULL,
               customint4=NULL, customint5=NULL, customint6=NULL, customint7=NULL, customint8=NULL,
               customchar1=NULL, customchar2=NULL, customchar3=NULL, customdec1=NULL, customdec2=NULL,
               customtext1=NULL, customtext2=NULL, customtext3=NULL, customtext4=NULL, timecreated=b.now,
               timemodified=b.now)
    return enrol.add(El("user_enrolments"))
