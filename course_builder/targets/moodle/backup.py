"""Target `moodle-backup`: the whole blended course as a Moodle 4.5 course backup (.mbz, format moodle2).

The layout copies what Moodle 4.5.6's backup controller writes for a course without users (see
../shared/reference/moodle/ and backup/moodle2/backup_*_stepslib.php): moodle_backup.xml lists every
section and activity, each activity folder holds module.xml, <mod>.xml, inforef.xml, grades.xml and
the other per-activity files, and files.xml plus files/<sha1[:2]>/<sha1> carry the blobs. Ids are
small consecutive numbers (restore maps them all) and every timestamp is the cohort's start, so
two builds are byte-identical.

Options (BuildOptions.extra): `moodle-delivery` = scorm (default: each module a SCORM 1.2 activity)
or native (each lesson a Page, the quiz a Quiz); `participants` = expected participants (default 20),
which sets how many empty groups of the project's group size the grouping "Projektgruppen" gets;
`moodle` = 4.5 (default) or 5.0 (questions in a mod_qbank activity, for Moodle 5.x; see moodle5.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html as htmllib
import json
import logging
import math
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ... import player, timeline
from ...i18n import strings
from ...cache import NO_CACHE, Cache
from ...model import Course, Module, Quiz, Task
from ...tarwriter import folders_of, tar_gz_bytes
from ...units import Units, runtime_fingerprint
from ...worksheets import worksheet_files
from .. import BuildOptions, OptionError, register
from ..notices import notice
from . import moodle5, scorm_seam
from .backup_xml import NULL, El, document, el
from .bank import Bank, File, MoodleQuestion, Text, bank, number, text

log = logging.getLogger(__name__)

TIMEZONE = ZoneInfo("Europe/Berlin")
DELIVERIES = ("scorm", "native")
DEFAULT_PARTICIPANTS = 20
COURSE_ID, SYSTEM_CONTEXT, COURSE_CONTEXT = 1, 1, 2
STUDENT_ROLE = 5
EMPTY_SHA1 = hashlib.sha1(b"").hexdigest()
# Moodle's completion constants.
COMPLETION_AUTOMATIC = 2
CRITERIA_ACTIVITY = 4
AGGREGATION_ALL = 1
SCORM_STATUS_PASSED, SCORM_STATUS_COMPLETED = 2, 4  # bits of scorm.completionstatusrequired
MIMETYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
             ".svg": "image/svg+xml", ".webp": "image/webp", ".html": "text/html", ".htm": "text/html",
             ".css": "text/css", ".js": "application/x-javascript", ".json": "application/json",
             ".xml": "application/xml", ".xsd": "application/xml", ".dtd": "application/xml-dtd",
             ".zip": "application/zip", ".pdf": "application/pdf", ".mp4": "video/mp4", ".mp3": "audio/mp3",
             ".txt": "text/plain", ".woff2": "font/woff2"}


# The files every activity folder holds that say nothing about the activity (no overrides, filters, events).
_EMPTY_ACTIVITY_FILES = {
    "roles.xml": document(El("roles").add(El("role_overrides"), El("role_assignments"))),
    "filters.xml": document(El("filters").add(El("filter_actives"), El("filter_configs"))),
    "calendar.xml": document(El("events")),
    "competencies.xml": document(El("course_module_competencies").add(El("competencies"))),
    "grade_history.xml": document(El("grade_history").add(El("grade_grades"))),
}


@register
class MoodleBackupTarget:
    name = "moodle-backup"
    description = ("the whole blended course as a Moodle 4.5 course backup (.mbz; -O moodle=5.0 for 5.x) "
                   "to restore as a new course")

    def units(self, course: Course, options: BuildOptions) -> Units:
        delivery = str(options.extra.get("moodle-delivery", "scorm"))
        if delivery not in DELIVERIES:
            raise OptionError(f"moodle-delivery must be one of {', '.join(DELIVERIES)}, not '{delivery}'")
        try:
            participants = int(options.extra.get("participants", DEFAULT_PARTICIPANTS))
        except ValueError:
            raise OptionError(f"participants must be a whole number, not '{options.extra['participants']}'") from None
        if participants < 0:
            raise OptionError("participants must not be negative")
        version = moodle5.profile(options.extra)
        units = Units(course, self.name, options.cache)
        # The backup holds the whole course; the modules' SCORM packages inside it are cached on their own.
        units.add(filename(course, version), lambda: tar_gz_bytes(
            Backup(course, delivery, participants, options.cache, version).entries().items(), first=(".ARCHIVE_INDEX",),
            cache=options.cache),
            (delivery, participants, version.name, course.spec, course.summary, course.glossary, course.modules, course.quizzes,
             course.tasks))
        return units

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        self.units(course, options).write(out)


def filename(course: Course, version: moodle5.Profile = moodle5.PROFILES[moodle5.DEFAULT]) -> str:
    return f"{course.id}-{version.file_tag}-nousers.mbz"


def epoch(day: dt.date, hhmm: str = "00:00") -> int:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return int(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TIMEZONE).timestamp())


def start_end(time_range: str | None) -> tuple[str, str]:
    if not time_range:
        return "09:00", "17:00"
    start, end = (p.strip() for p in time_range.split("-"))
    return start, end


def _date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def _p(value: str) -> str:
    return f"<p>{htmllib.escape(value, quote=False)}</p>"


@dataclass
class FileRecord:
    id: int
    contextid: int
    component: str
    filearea: str
    itemid: int
    filepath: str
    filename: str  # "." for a folder record
    content: bytes = b""

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.content).hexdigest()

    @property
    def is_folder(self) -> bool:
        return self.filename == "."


@dataclass
class Section:
    id: int
    number: int
    name: str | None
    summary: str = ""
    activities: list["Activity"] = field(default_factory=list)


@dataclass
class GradeItem:
    id: int
    categoryid: int | None
    itemname: str | None
    itemtype: str
    itemmodule: str | None
    iteminstance: int | None
    itemnumber: int | None
    grademax: float
    gradepass: float = 0.0
    sortorder: int = 0
    idnumber: str | None = ""


@dataclass
class Activity:
    modname: str
    cmid: int
    instance: int
    contextid: int
    section: Section
    title: str
    body: El  # the <modname id=…> element inside <activity>
    completion: dict = field(default_factory=dict)  # module.xml overrides
    grade_items: list[GradeItem] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    groupingid: int = 0
    groupmode: int = 0
    groups: list[int] = field(default_factory=list)
    question_categories: list[int] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return f"activities/{self.modname}_{self.cmid}"


# When Moodle shows a review item (mod_quiz\question\display_options): during the attempt, within two
# minutes after it, later while the quiz is open, after it closes (never, without a close date).
DURING, IMMEDIATELY_AFTER, LATER_WHILE_OPEN, AFTER_CLOSE = 0x10000, 0x01000, 0x00100, 0x00010
AFTER = IMMEDIATELY_AFTER | LATER_WHILE_OPEN | AFTER_CLOSE
ALWAYS = DURING | AFTER


def review_options(policy: str) -> dict:
    """The quiz's `feedback:` policy as Moodle's behaviour and review options (docs/moodle.md).

    Right/wrong, the marks (a question's mark tells right from wrong) and specific/general feedback
    follow the policy; the learner's grade stays visible in the gradebook. The right answer itself only
    after the quiz closes, in every policy, as the runtime never shows it (a second attempt would copy
    it). after-last-attempt has no exact Moodle equivalent: its nearest is "after the quiz is closed",
    so the teacher sets a close date."""
    shown = {"immediate": ALWAYS, "after-attempt": AFTER, "after-last-attempt": AFTER_CLOSE}[policy]
    return dict(preferredbehaviour="immediatefeedback" if policy == "immediate" else "deferredfeedback",
                reviewattempt=ALWAYS, reviewcorrectness=shown, reviewmaxmarks=ALWAYS,
                reviewmarks=shown, reviewspecificfeedback=shown,
                reviewgeneralfeedback=shown, reviewrightanswer=AFTER_CLOSE, reviewoverallfeedback=AFTER)


def random_filter(category_id: int) -> str:
    """A random slot's filtercondition as Moodle 4.3+ stores it: any question of one category
    (restore maps the category id inside it to the restored category)."""
    return json.dumps({"filter": {"category": {"jointype": 1, "values": [category_id],
                                               "filteroptions": {"includesubcategories": False}}}},
                      separators=(",", ":"))


class Backup:
    """Plans ids for every part of the course, then writes the files of the backup."""

    def __init__(self, course: Course, delivery: str, participants: int, cache: Cache = NO_CACHE,
                 version: moodle5.Profile = moodle5.PROFILES[moodle5.DEFAULT]):
        self.course = course
        self.version = version
        self.cache = cache
        self.spec = course.spec
        self.delivery = delivery
        self.participants = max(0, participants)
        self.s = strings(self.spec.language if self.spec else "de")
        self.now = epoch(self.spec.cohort.start)
        self.counters: dict[str, int] = {}
        self.sections: list[Section] = []
        self.files: list[FileRecord] = []
        self.events: list[El] = []
        self.activities: list[Activity] = []
        self.bank: Bank = bank(course)
        self.question_ids: dict[int, int] = {}  # id(MoodleQuestion) → question (and bank entry) id
        self.category_ids: dict[str, int] = {}
        self.grade_categories: dict[str, int] = {}
        self.groups: list[tuple[int, str]] = []
        self.grouping_id = 0
        self.completion_cms: list[Activity] = []
        self._plan()

    def next(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    # -- planning -------------------------------------------------------------------

    def _plan(self) -> None:
        self.questions_context = (moodle5.plan_bank(self) if self.version.qbank_module
                                  else moodle5.QuestionsContext(COURSE_CONTEXT, moodle5.CONTEXT_COURSE, COURSE_ID))
        self._plan_questions()
        self.grade_categories = {"course": self.next("grade_category")}
        self.grade_categories["quizzes"] = self.next("grade_category")
        self.grade_categories["project"] = self.next("grade_category")
        if any(t.kind == "assignment" for t in self.course.tasks):
            self.grade_categories["assignments"] = self.next("grade_category")
        self._plan_groups()
        self._plan_sections()
        if self.version.qbank_module:
            moodle5.place_bank(self, self.sections[0])

    def _plan_questions(self) -> None:
        self.category_ids["top"] = self.next("question_category")
        self.category_ids["course"] = self.next("question_category")
        for cat in self.bank.categories:
            self.category_ids[cat.idnumber] = self.next("question_category")
            for q in cat.questions:
                self.question_ids[id(q)] = self.next("question")

    def _plan_groups(self) -> None:
        project = self._project()
        size = (project.meta.group_size if project and project.meta.group_size else 4)
        count = math.ceil(self.participants / size) if self.participants else 0
        self.groups = [(self.next("group"), self.s["moodle_group"].format(n=n)) for n in range(1, count + 1)]
        self.grouping_id = self.next("grouping")

    def _project(self) -> Task | None:
        return next((t for t in self.course.tasks if t.kind == "project"), None)

    def _section(self, name: str | None, summary: str = "") -> Section:
        section = Section(self.next("section"), len(self.sections), name, summary)
        self.sections.append(section)
        return section

    def _plan_sections(self) -> None:
        spec = self.spec
        sessions = {s.kind: s for s in spec.schedule.sessions}
        kickoff = sessions.get("kickoff")
        summary = _p(spec.summary.strip()) if spec.summary.strip() else ""
        # The kickoff is section 0: in the weekly format section N shows week N from the course start,
        # so a section of its own before week 1 would make Moodle mark the wrong week as current.
        general = self._section(self._session_title(kickoff) if kickoff else None,
                                summary + (self._session_html(kickoff) if kickoff else ""))
        self._forum(general, self.s["moodle_announcements"], self.s["moodle_announcements_intro"], "news")
        project = self._project()
        if kickoff:
            self._session_event(kickoff)
            if project:  # the project starts at the kickoff, where the groups form
                self._assign(general, project)
                project = None
        placed: set[str] = set()
        for week in timeline.weeks(self.course):
            name = self.s["moodle_week"].format(n=week.number, start=_date(week.start), end=_date(week.end))
            section = self._section(name, self._week_summary(week))
            if project:
                self._assign(section, project)
                project = None
            for webinar in week.webinars:
                self._webinar(section, webinar)
            for module in week.modules:
                if module.id not in placed:
                    placed.add(module.id)
                    self._module(section, module)
            for milestone in week.milestones:
                self._event(f"{self.s['moodle_milestone']}: {milestone.title}", "", epoch(milestone.date), 0)
        for module in self.course.modules:
            if module.id not in placed:  # in no week of the schedule: after the last week, in course order
                placed.add(module.id)
                self._module(self.sections[-1], module)
        closing = sessions.get("closing")
        last = self.sections[-1]
        if closing:
            last = self._section(self._session_title(closing), self._session_html(closing))
            self._session_event(closing)
        for quiz in self.course.quizzes:
            if quiz.module is None:  # a course-level quiz (e.g. a final self-check) belongs to no module's week
                self._quiz(last, quiz)
        alumni = self._section(self.s["moodle_alumni"], self._alumni_html())
        self._forum(alumni, self.s["moodle_alumni_forum"], self.s["moodle_alumni_forum_intro"], "general")
        for meeting in spec.schedule.alumni:
            start, end = start_end(meeting.time)
            self._event(f"{self.s['moodle_alumni_meetings']}: {meeting.topic}", "", epoch(meeting.date, start),
                        epoch(meeting.date, end) - epoch(meeting.date, start))

    def _session_title(self, session) -> str:
        days = _date(session.start) if session.days == 1 else f"{_date(session.start)} – {_date(session.end)}"
        place = f", {session.place}" if session.place else ""
        return f"{session.title} ({days}{place})"

    def _session_html(self, session) -> str:
        parts = [_p(session.description.strip())] if session.description.strip() else []
        if session.place:
            parts.append(_p(f"{self.s['moodle_place']}: {session.place}"))
        if session.time:
            parts.append(_p(self.s["moodle_time"].format(time=session.time.replace("-", "–"))))
        parts.append(str(player.session_details(session, self.s, level=4)))
        return "".join(parts)

    def _session_event(self, session) -> None:
        start, end = start_end(session.time)
        first = epoch(session.start, start)
        self._event(session.title, self._session_html(session), first,
                    epoch(session.end, end) - first, location=session.place)

    def _week_summary(self, week) -> str:
        parts = []
        if week.modules:
            titles = ", ".join(m.title for m in week.modules)
            parts.append(_p(f"{self.s['moodle_self_study']}: {titles}"))
        for milestone in week.milestones:
            parts.append(_p(f"{self.s['moodle_milestone']} ({_date(milestone.date)}): {milestone.title}"))
        return "".join(parts)

    def _alumni_html(self) -> str:
        items = []
        for meeting in self.spec.schedule.alumni:
            when = _date(meeting.date) + (f", {self.s['moodle_time'].format(time=meeting.time.replace('-', '–'))}"
                                          if meeting.time else "")
            items.append(f"<li>{htmllib.escape(when, quote=False)}: {htmllib.escape(meeting.topic, quote=False)}</li>")
        if not items:
            return ""
        return f"<h4>{htmllib.escape(self.s['moodle_alumni_meetings'], quote=False)}</h4><ul>{''.join(items)}</ul>"

    def _event(self, name: str, description: str, timestart: int, duration: int, location: str = "") -> None:
        self.events.append(el("event", {"id": self.next("event")},
                              name=name, description=description, format=1, courseid=COURSE_ID, groupid=0,
                              userid=0, repeatid=0, modulename="", instance=0, type=0, eventtype="course",
                              timestart=timestart, timeduration=duration, timesort=NULL, visible=1, uuid="",
                              sequence=1, timemodified=self.now, priority=NULL, location=location))

    # -- activities -------------------------------------------------------------------

    def _activity(self, modname: str, section: Section, title: str, body_leaves: dict) -> Activity:
        cmid = self.next("cm")
        instance = self.next(f"instance_{modname}")
        contextid = COURSE_CONTEXT + cmid
        body = El(modname, {"id": instance}).leaves(**body_leaves)
        activity = Activity(modname, cmid, instance, contextid, section, title, body)
        section.activities.append(activity)
        self.activities.append(activity)
        return activity

    def _forum(self, section: Section, name: str, intro: str, kind: str) -> Activity:
        a = self._activity("forum", section, name, dict(
            type=kind, name=name, intro=_p(intro), introformat=1, duedate=0, cutoffdate=0, assessed=0,
            assesstimestart=0, assesstimefinish=0, scale=0, maxbytes=0, maxattachments=1,
            forcesubscribe=1 if kind == "news" else 0, trackingtype=1, rsstype=0, rssarticles=0,
            timemodified=self.now, warnafter=0, blockafter=0, blockperiod=0, completiondiscussions=0,
            completionreplies=0, completionposts=0, displaywordcount=0, lockdiscussionafter=0, grade_forum=0))
        a.body.add(*(El(tag) for tag in ("discussions", "subscriptions", "digests", "readposts", "trackedprefs",
                                         "poststags", "grades")))
        return a

    def _label(self, section: Section, html: str, name: str) -> Activity:
        short = name if len(name) <= 50 else name[:50] + "..."
        return self._activity("label", section, short, dict(name=short, intro=html, introformat=1,
                                                             timemodified=self.now))

    def _webinar(self, section: Section, webinar) -> None:
        start, end = start_end(webinar.time)
        when = f"{_date(webinar.date)}, {self.s['moodle_time'].format(time=webinar.time.replace('-', '–'))}"
        title = f"{self.s['moodle_webinar']}: {webinar.topic}"
        if webinar.join_url:
            url = htmllib.escape(webinar.join_url, quote=True)
            join = f'<p>{self.s["moodle_webinar_join"]}: <a href="{url}">{url}</a></p>'
        else:
            join = _p(self.s["moodle_webinar_join_later"])
        description = _p(webinar.description.strip()) if webinar.description.strip() else ""
        # Blocks on their own lines: Moodle derives the label's name from its text with the tags stripped.
        html = "\n".join(part for part in (f"<h4>{htmllib.escape(title, quote=False)}</h4>", _p(when), description, join)
                         if part)
        self._label(section, html, title)
        self._event(title, description + join, epoch(webinar.date, start),
                    epoch(webinar.date, end) - epoch(webinar.date, start), location=webinar.join_url)

    def _module(self, section: Section, module: Module) -> None:
        package = scorm_seam.package(self.course, module, self.cache) if self.delivery == "scorm" else None
        if self.delivery == "scorm" and package is None:
            notice(log, "moodle-backup: no SCORM 1.2 package builder is available; {n} modules are delivered "
                        "natively (Pages and a Quiz)",
                   f"moodle-backup: no SCORM 1.2 package builder is available; module '{module.id}' is delivered "
                   "natively (Pages and a Quiz)")
        assignments = [t for t in self.course.tasks_for(module.id) if t.kind == "assignment"]
        if package is not None:
            self._scorm(section, module, package)
            for task in assignments:  # graded by the teachers in Moodle, whatever delivers the module
                self._assign(section, task)
            return
        # Worksheets, sources and project pointers close the module's last lesson page, as they close the player's
        # overview; the worksheets lie in that page's file area.
        closing = str(player.module_closing(self.course, module, self.s, level=3,
                                            worksheet_href=lambda sheet: "@@PLUGINFILE@@/" + quote(sheet.file_name)))
        sheets = [File(posixpath.basename(rel), data) for rel, data in worksheet_files(self.course, module).items()]
        for lesson in module.lessons:
            last = lesson is module.lessons[-1]
            self._page(section, lesson.title, lesson.body, lesson.assets, closing if last else "", sheets if last else [])
        for task in self.course.tasks_for(module.id):
            if task.kind == "reflection":
                self._page(section, task.title, task.body, task.assets, self._task_extras(task))
        for task in assignments:
            self._assign(section, task)
        quiz = self.course.quiz_for(module.id)
        if quiz is not None:
            self._quiz(section, quiz)

    def _task_extras(self, task: Task) -> str:
        """What a task says besides its text: guiding questions, deliverables, criteria with points."""
        def items(values: list[str]) -> str:
            return "<ul>" + "".join(f"<li>{htmllib.escape(v, quote=False)}</li>" for v in values) + "</ul>"

        def heading(key: str) -> str:
            return f"<h3>{htmllib.escape(self.s[key], quote=False)}</h3>"

        meta = task.meta
        out = ""
        if meta.questions:
            out += heading("questions_to_reflect") + items(meta.questions)
        if meta.deliverables:
            out += heading("deliverables") + items(meta.deliverables)
        if meta.criteria:
            out += heading("criteria") + items([f"{c.text} ({c.points:g} {self.s['points']})" for c in meta.criteria])
        if meta.pass_points is not None:
            total = sum(c.points for c in meta.criteria)
            out += _p(self.s["moodle_pass_points"].format(points=f"{meta.pass_points:g}", total=f"{total:g}"))
        return out

    def _page(self, section: Section, title: str, body, assets, extra_html: str = "",
              extra_files: list[File] = ()) -> Activity:
        content = text(body, assets)
        content = Text(content.html, sorted([*content.files, *extra_files], key=lambda f: f.name))
        a = self._activity("page", section, title, dict(
            name=title, intro="", introformat=1, content=content.html + extra_html, contentformat=1, legacyfiles=0,
            legacyfileslast=NULL, display=5,
            displayoptions='a:2:{s:10:"printintro";i:0;s:17:"printlastmodified";i:0;}',
            revision=1, timemodified=self.now))
        a.files = self._file_area(a.contextid, "mod_page", "content", 0, [("/", f.name, f.content) for f in content.files])
        a.completion = dict(completion=COMPLETION_AUTOMATIC, completionview=1)
        return a

    def _file_area(self, contextid: int, component: str, filearea: str, itemid: int,
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
            records.append(FileRecord(self.next("file"), contextid, component, filearea, itemid, path, name, content))
        for folder in sorted(folders):
            records.append(FileRecord(self.next("file"), contextid, component, filearea, itemid, folder, "."))
        self.files.extend(records)
        return records

    def _grade_item(self, category: str, name: str, modname: str, instance: int, grademax: float,
                    gradepass: float = 0.0) -> GradeItem:
        item = GradeItem(self.next("grade_item"), self.grade_categories[category], name, "mod", modname, instance, 0,
                         grademax, gradepass, sortorder=0)
        return item

    def _quiz(self, section: Section, quiz: Quiz) -> Activity:
        sources = {id(q) for q in quiz.questions}
        cat = next((c for c in self.bank.categories if c.parent is None
                    and (c.quiz is quiz or any(id(q.source) in sources for q in c.questions))), None)
        questions = [q for q in cat.questions if id(q.source) in sources] if cat else []
        pools = [c for c in self.bank.categories if cat and c.parent == cat.idnumber]
        # Item pools: N random slots per pool's category; a slot's mark is the pool's average (Moodle
        # scales the drawn question's to it). Questions no pool takes are not asked (as elsewhere).
        slots = [(None, q.default_mark) for q in questions] if not pools else [
            (p.idnumber, sum(q.default_mark for q in p.questions) / len(p.questions))
            for p in pools if p.questions for _ in range(p.draw)]
        sumgrades = sum(mark for _, mark in slots)
        module = self.course.module(quiz.module) if quiz.module else None
        pass_mark = quiz.meta.pass_mark if quiz.meta.pass_mark is not None else (module.pass_mark if module else 0.0)
        required = any(q is quiz for q in self.course.certificate_quizzes())
        a = self._activity("quiz", section, quiz.title, dict(
            name=quiz.title, intro=quiz.intro.html, introformat=1, timeopen=0, timeclose=0,
            timelimit=0, overduehandling="autosubmit", graceperiod=86400,
            canredoquestions=0, attempts_number=quiz.meta.attempts,
            attemptonlast=0, grademethod=1, decimalpoints=2, questiondecimalpoints=-1,
            **review_options(quiz.meta.feedback), questionsperpage=1, navmethod="free",
            shuffleanswers=int(quiz.meta.shuffle),
            sumgrades=f"{sumgrades:.5f}", grade="100.00000", timecreated=self.now, timemodified=self.now,
            password="", subnet="", browsersecurity="", delay1=0, delay2=0, showuserpicture=0, showblocks=0,
            completionattemptsexhausted=0, completionminattempts=0, allowofflineattempts=0))
        a.body.add(El("subplugin_quizaccess_seb_quiz"), El("quiz_grade_items"))
        instances = El("question_instances")
        fixed = iter(questions)
        for slot, (pool_key, mark) in enumerate(slots, 1):
            if pool_key is None:
                ref = el("question_reference", {"id": self.next("question_reference")}, usingcontextid=a.contextid,
                         component="mod_quiz", questionarea="slot",
                         questionbankentryid=self.question_ids[id(next(fixed))], version=NULL)
            else:
                ref = el("question_set_reference", {"id": self.next("question_set_reference")},
                         usingcontextid=a.contextid, component="mod_quiz", questionarea="slot",
                         questionscontextid=self.questions_context.contextid,
                         filtercondition=random_filter(self.category_ids[pool_key]))
            instances.add(el("question_instance", {"id": self.next("slot")}, quizid=a.instance, slot=slot, page=slot,
                             displaynumber=NULL, requireprevious=0, maxmark=f"{mark:.7f}",
                             quizgradeitemid=NULL).add(ref))
        a.body.add(instances)
        a.body.add(El("sections").add(el("section", {"id": self.next("quiz_section")}, firstslot=1, heading="",
                                         shufflequestions=0)))
        a.body.add(*(El(tag) for tag in ("feedbacks", "overrides", "grades", "attempts")))
        a.grade_items = [self._grade_item("quizzes", quiz.title, "quiz", a.instance, 100.0, float(pass_mark))]
        if pass_mark > 0:
            a.completion = dict(completion=COMPLETION_AUTOMATIC, completiongradeitemnumber=0, completionpassgrade=1)
        else:
            a.completion = dict(completion=COMPLETION_AUTOMATIC, completiongradeitemnumber=0)
        a.question_categories = [self.category_ids["top"], self.category_ids["course"]]
        if cat is not None:
            a.question_categories.append(self.category_ids[cat.idnumber])
            a.question_categories += [self.category_ids[p.idnumber] for p in pools]
        if required:
            self.completion_cms.append(a)
        return a

    def _scorm(self, section: Section, module: Module, package: bytes) -> Activity:
        manifest = self._read_manifest(package)
        zipname = scorm_seam.package_name(self.course, module)
        pass_mark = scorm_seam.pass_mark(self.course, module)
        a = self._activity("scorm", section, module.title, dict(
            name=module.title, scormtype="local", reference=zipname, intro=module.summary.html, introformat=1,
            version="SCORM_1.2", maxgrade=100, grademethod=1, whatgrade=0, maxattempt=0, forcecompleted=0,
            forcenewattempt=0, lastattemptlock=0, masteryoverride=1, displayattemptstatus=1,
            displaycoursestructure=0, updatefreq=0, sha1hash=hashlib.sha1(package).hexdigest(), md5hash="",
            revision=1, launch=0, skipview=2, hidebrowse=1, hidetoc=3, nav=1, navpositionleft=-100,
            navpositiontop=-100, auto=0, popup=0, options="", width=100, height=500, timeopen=0, timeclose=0,
            timemodified=self.now, completionstatusrequired=self._scorm_status(manifest), completionscorerequired=NULL,
            completionstatusallscos=0, autocommit=0))
        scoes = El("scoes")
        launch = None
        for sco in manifest.scoes:
            sco_id = self.next("sco")
            if launch is None and sco.launch:
                launch = sco_id
            datas = El("sco_datas")
            for key, value in sco.data:
                datas.add(el("sco_data", {"id": self.next("sco_data")}, name=key, value=value))
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
        a.files = (self._file_area(a.contextid, "mod_scorm", "package", 0, [("/", zipname, package)])
                   + self._file_area(a.contextid, "mod_scorm", "content", 0,
                                     [(p.replace("//", "/"), n, d) for p, n, d in content]))
        a.grade_items = [self._grade_item("quizzes", module.title, "scorm", a.instance, 100.0, float(pass_mark))]
        a.completion = dict(completion=COMPLETION_AUTOMATIC)
        quiz = self.course.quiz_for(module.id)
        if quiz is not None and any(q is quiz for q in self.course.certificate_quizzes()):
            self.completion_cms.append(a)
        return a

    def _read_manifest(self, package: bytes) -> scorm_seam.Manifest:
        """What Moodle reads from a package, kept by the package's hash (a 1,000-module backup reads 1,000)."""
        key = self.cache.key("scorm-manifest", runtime_fingerprint(), hashlib.sha256(package).digest())
        found = self.cache.get_object("scorm-manifest", key)
        if not isinstance(found, scorm_seam.Manifest):
            found = scorm_seam.read_manifest(package)
            self.cache.put_object("scorm-manifest", key, found)
        return found

    @staticmethod
    def _scorm_status(manifest) -> int:
        """'passed' when a SCO has a mastery score (a graded quiz), else 'completed': the status the SCO can reach."""
        graded = any(key == "masteryscore" for sco in manifest.scoes for key, _ in sco.data)
        return SCORM_STATUS_PASSED if graded else SCORM_STATUS_COMPLETED

    def _assign(self, section: Section, task: Task) -> Activity:
        """The project (a group submission) or a module's graded assignment (one submission each)."""
        team = task.kind == "project"
        points = sum(c.points for c in task.meta.criteria) or 100
        intro = text(task.body, task.assets)
        intro = Text(intro.html + self._task_extras(task), intro.files)
        due = epoch(task.meta.due, "23:59") if task.meta.due else 0
        a = self._activity("assign", section, task.title, dict(
            name=task.title, intro=intro.html, introformat=1, alwaysshowdescription=1, submissiondrafts=1,
            sendnotifications=0, sendlatenotifications=0, sendstudentnotifications=1, duedate=due, cutoffdate=0,
            gradingduedate=0, allowsubmissionsfromdate=0, grade=int(points), timemodified=self.now,
            completionsubmit=1, requiresubmissionstatement=0, teamsubmission=int(team), requireallteammemberssubmit=0,
            teamsubmissiongroupingid=self.grouping_id if team else 0, blindmarking=0, hidegrader=0, revealidentities=0,
            attemptreopenmethod="untilpass", maxattempts=-1, markingworkflow=0, markingallocation=0,
            markinganonymous=0, preventsubmissionnotingroup=int(team), activity=NULL, activityformat=0, timelimit=0,
            submissionattachments=0))
        a.body.add(El("userflags"), El("submissions"), El("grades"))
        configs = El("plugin_configs")
        for plugin, subtype, name, value in (
                ("onlinetext", "assignsubmission", "enabled", "1"), ("onlinetext", "assignsubmission", "wordlimit", "0"),
                ("onlinetext", "assignsubmission", "wordlimitenabled", "0"), ("file", "assignsubmission", "enabled", "1"),
                ("file", "assignsubmission", "maxfilesubmissions", "5"),
                ("file", "assignsubmission", "maxsubmissionsizebytes", "0"),
                ("file", "assignsubmission", "filetypeslist", ""), ("comments", "assignsubmission", "enabled", "1"),
                ("comments", "assignfeedback", "enabled", "1"), ("comments", "assignfeedback", "commentinline", "0"),
                ("editpdf", "assignfeedback", "enabled", "0"), ("offline", "assignfeedback", "enabled", "0"),
                ("file", "assignfeedback", "enabled", "1")):
            configs.add(el("plugin_config", {"id": self.next("plugin_config")}, plugin=plugin, subtype=subtype,
                           name=name, value=value))
        a.body.add(configs, El("overrides"))
        a.files = self._file_area(a.contextid, "mod_assign", "intro", 0, [("/", f.name, f.content) for f in intro.files])
        a.grade_items = [self._grade_item("project" if team else "assignments", task.title, "assign", a.instance,
                                          float(points), float(task.meta.pass_points or 0))]
        if self._certificate_needs_pass(task):
            a.completion = dict(completion=COMPLETION_AUTOMATIC, completiongradeitemnumber=0, completionpassgrade=1)
        else:
            a.completion = dict(completion=COMPLETION_AUTOMATIC)
        if team:
            a.groupmode, a.groupingid = 1, self.grouping_id
            a.groups = [gid for gid, _ in self.groups]
        if due:
            self.events.append(el("event", {"id": self.next("event")}, name=task.title, description="", format=1,
                                  courseid=COURSE_ID, groupid=0, userid=0, repeatid=0, modulename="", instance=0,
                                  type=0, eventtype="course", timestart=due, timeduration=0, timesort=NULL, visible=1,
                                  uuid="", sequence=1, timemodified=self.now, priority=NULL, location=""))
        if self._certificate_needs(task) or self._certificate_needs_pass(task):
            self.completion_cms.append(a)
        return a

    def _certificate_needs(self, task: Task) -> bool:
        return any(t is task for t in self.course.certificate_tasks())

    def _certificate_needs_pass(self, task: Task) -> bool:
        cert = self.course.spec.certificate if self.course.spec else None
        return cert is not None and task.id in cert.tasks_passed and task.meta.pass_points is not None

    # -- writing -------------------------------------------------------------------

    def entries(self) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        files["moodle_backup.xml"] = document(self._moodle_backup())
        files["questions.xml"] = document(self._questions_xml())  # before files.xml: it adds the questions' files
        files["files.xml"] = document(self._files_xml())
        files["groups.xml"] = document(self._groups_xml())
        files["roles.xml"] = document(El("roles_definition").add(el(
            "role", {"id": STUDENT_ROLE}, name="", shortname="student", nameincourse=NULL, description="",
            sortorder=5, archetype="student")))
        files["scales.xml"] = document(El("scales_definition"))
        files["outcomes.xml"] = document(El("outcomes_definition"))
        files["badges.xml"] = document(El("badges"))
        files["completion.xml"] = document(self._completion_xml())
        files["gradebook.xml"] = document(self._gradebook_xml())
        files["grade_history.xml"] = document(El("grade_history").add(El("grade_grades")))
        files.update(self._course_files())
        for section in self.sections:
            files[f"sections/section_{section.id}/section.xml"] = document(self._section_xml(section))
            files[f"sections/section_{section.id}/inforef.xml"] = document(El("inforef"))
        for a in self.activities:
            files.update(self._activity_files(a))
        for record in self.files:
            if not record.is_folder:
                files[f"files/{record.sha1[:2]}/{record.sha1}"] = record.content
        files[".ARCHIVE_INDEX"] = self._archive_index(files)
        return files

    def _archive_index(self, files: dict[str, bytes]) -> bytes:
        """.ARCHIVE_INDEX as Moodle's tgz packer writes it; restore uses it to list the archive quickly."""
        names = sorted(list(files) + folders_of(files))
        lines = [f"Moodle archive file index. Count: {len(names)}"]
        for name in names:
            if name.endswith("/"):
                lines.append(f"{name}\td\t0\t?")
            else:
                lines.append(f"{name}\tf\t{len(files[name])}\t{self.now}")
        return ("\n".join(lines) + "\n").encode("utf-8")

    def _moodle_backup(self) -> El:
        spec = self.spec
        info = El("information").leaves(
            name=filename(self.course, self.version), moodle_version=self.version.moodle_version,
            moodle_release=self.version.moodle_release, backup_version=self.version.backup_version,
            backup_release=self.version.backup_release, backup_date=self.now,
            mnet_remoteusers=0, include_files=1, include_file_references_to_external_content=0,
            original_wwwroot="https://course-builder.invalid", original_site_identifier_hash=hashlib.md5(
                f"course_builder:{self.course.id}".encode()).hexdigest(),
            original_course_id=COURSE_ID, original_course_format="weeks", original_course_fullname=spec.title,
            original_course_shortname=self._shortname(), original_course_startdate=self.now,
            original_course_enddate=self._enddate(), original_course_contextid=COURSE_CONTEXT,
            original_system_contextid=SYSTEM_CONTEXT)
        backup_id = hashlib.md5(f"course_builder:{self.course.id}:{self.delivery}".encode()).hexdigest()
        info.add(El("details").add(el("detail", {"backup_id": backup_id}, type="course", format="moodle2",
                                      interactive=1, mode=10, execution=1, executiontime=0)))
        activities = El("activities")
        for a in self.activities:
            activities.add(el("activity", moduleid=a.cmid, sectionid=a.section.id, modulename=a.modname,
                              title=a.title, directory=a.directory, insubsection=""))
        sections = El("sections")
        for s in self.sections:
            sections.add(el("section", sectionid=s.id, title=s.name if s.name is not None else str(s.number),
                            directory=f"sections/section_{s.id}", parentcmid="", modname=""))
        info.add(El("contents").add(activities, sections, el("course", courseid=COURSE_ID, title=self._shortname(),
                                                              directory="course")))
        settings = El("settings")
        root = [("filename", filename(self.course, self.version)), ("imscc11", 0), ("users", 0), ("anonymize", 0),
                ("role_assignments", 0), ("activities", 1), ("blocks", 1), ("files", 1), ("filters", 1),
                ("comments", 0), ("badges", 1), ("calendarevents", 1), ("userscompletion", 0), ("logs", 0),
                ("grade_histories", 0), ("questionbank", 1), ("groups", 1), ("competencies", 1),
                ("customfield", 1), ("contentbankcontent", 1), ("xapistate", 0), ("legacyfiles", 1)]
        for name, value in root:
            settings.add(el("setting", level="root", name=name, value=value))
        for s in self.sections:
            key = f"section_{s.id}"
            settings.add(el("setting", level="section", section=key, name=f"{key}_included", value=1))
            settings.add(el("setting", level="section", section=key, name=f"{key}_userinfo", value=0))
            for a in s.activities:
                key_a = f"{a.modname}_{a.cmid}"
                settings.add(el("setting", level="activity", activity=key_a, name=f"{key_a}_included", value=1))
                settings.add(el("setting", level="activity", activity=key_a, name=f"{key_a}_userinfo", value=0))
        info.add(settings)
        return El("moodle_backup").add(info)

    def _shortname(self) -> str:
        return self.spec.short_name or self.course.id

    def _enddate(self) -> int:
        spec = self.spec
        last = spec.cohort.end
        for s in spec.schedule.sessions:
            last = max(last, s.end)
        return epoch(last + dt.timedelta(days=1))

    def _files_xml(self) -> El:
        root = El("files")
        for r in sorted(self.files, key=lambda r: r.id):
            root.add(el("file", {"id": r.id}, contenthash=EMPTY_SHA1 if r.is_folder else r.sha1,
                        contextid=r.contextid, component=r.component, filearea=r.filearea, itemid=r.itemid,
                        filepath=r.filepath, filename=r.filename, userid=NULL,
                        filesize=0 if r.is_folder else len(r.content),
                        mimetype=NULL if r.is_folder else MIMETYPES.get(posixpath.splitext(r.filename)[1].lower(),
                                                                        "document/unknown"),
                        status=0, timecreated=self.now, timemodified=self.now, source=NULL if r.is_folder else r.filename,
                        author=NULL, license=NULL if r.is_folder else "unknown", sortorder=0, repositorytype=NULL,
                        repositoryid=NULL, reference=NULL))
        return root

    def _groups_xml(self) -> El:
        root = El("groups")
        for gid, name in self.groups:
            root.add(el("group", {"id": gid}, name=name, idnumber="", description="", descriptionformat=1,
                        enrolmentkey=NULL, picture=0, visibility=0, participation=1, timecreated=self.now,
                        timemodified=self.now).add(El("group_members")))
        root.add(El("groupcustomfields"))
        grouping = el("grouping", {"id": self.grouping_id}, name=self.s["moodle_groups"], idnumber="projektgruppen",
                      description="", descriptionformat=1, configdata=NULL, timecreated=self.now,
                      timemodified=self.now)
        links = El("grouping_groups")
        for gid, _ in self.groups:
            links.add(el("grouping_group", {"id": gid}, groupid=gid, timeadded=self.now))
        grouping.add(links)
        root.add(El("groupings").add(grouping, El("groupingcustomfields")))
        return root

    def _completion_xml(self) -> El:
        root = El("course_completion")
        for a in self.completion_cms:
            root.add(el("course_completion_criteria", {"id": self.next("completion_criteria")}, course=COURSE_ID,
                        criteriatype=CRITERIA_ACTIVITY, module=a.modname, moduleinstance=a.cmid,
                        courseinstanceshortname=NULL, enrolperiod=NULL, timeend=NULL, gradepass=NULL, role=NULL,
                        roleshortname=NULL).add(El("course_completion_crit_completions")))
        root.add(el("course_completion_aggr_methd", {"id": 1}, course=COURSE_ID, criteriatype=NULL,
                    method=AGGREGATION_ALL, value=NULL))
        if self.completion_cms:
            root.add(el("course_completion_aggr_methd", {"id": 2}, course=COURSE_ID, criteriatype=CRITERIA_ACTIVITY,
                        method=AGGREGATION_ALL, value=NULL))
        return root

    def _grade_item_el(self, item: GradeItem, needsupdate: int = 0) -> El:
        return el("grade_item", {"id": item.id}, categoryid=item.categoryid, itemname=item.itemname,
                  itemtype=item.itemtype, itemmodule=item.itemmodule, iteminstance=item.iteminstance,
                  itemnumber=item.itemnumber, iteminfo=NULL, idnumber=item.idnumber, calculation=NULL, gradetype=1,
                  grademax=f"{item.grademax:.5f}", grademin="0.00000", scaleid=NULL, outcomeid=NULL,
                  gradepass=f"{item.gradepass:.5f}", multfactor="1.00000", plusfactor="0.00000",
                  aggregationcoef="0.00000", aggregationcoef2="0.00000", weightoverride=0, sortorder=item.sortorder,
                  display=0, decimals=NULL, hidden=0, locked=0, locktime=0, needsupdate=needsupdate,
                  timecreated=self.now, timemodified=self.now).add(El("grade_grades"))

    def _gradebook_xml(self) -> El:
        course_cat = self.grade_categories["course"]
        cats = El("grade_categories")
        names = {"course": "?", "quizzes": self.s["moodle_grades_quizzes"], "project": self.s["moodle_grades_project"],
                 "assignments": self.s["moodle_grades_assignments"]}
        for key, cid in self.grade_categories.items():
            parent = None if key == "course" else course_cat
            path = f"/{cid}/" if parent is None else f"/{course_cat}/{cid}/"
            cats.add(el("grade_category", {"id": cid}, parent=parent, depth=1 if parent is None else 2, path=path,
                        fullname=names[key], aggregation=13, keephigh=0, droplow=0, aggregateonlygraded=1,
                        aggregateoutcomes=0, timecreated=self.now, timemodified=self.now, hidden=0))
        items = El("grade_items")
        sortorder = 1
        for key, cid in self.grade_categories.items():
            kind = "course" if key == "course" else "category"
            item = GradeItem(self.next("grade_item"), None, None, kind, None, cid, None, 100.0, sortorder=sortorder)
            item.idnumber = NULL
            items.add(self._grade_item_el(item, needsupdate=1))
            sortorder += 1
            if key != "course":
                for a in self.activities:
                    for gi in a.grade_items:
                        if gi.categoryid == cid:
                            gi.sortorder = sortorder
                            sortorder += 1
        return El("gradebook").add(El("attributes"), cats, items, El("grade_letters"),
                                   El("grade_settings").add(el("grade_setting", {"id": ""}, name="minmaxtouse", value=1)))

    def _course_files(self) -> dict[str, bytes]:
        spec = self.spec
        course = el("course", {"id": COURSE_ID, "contextid": COURSE_CONTEXT},
                    shortname=self._shortname(), fullname=spec.title, idnumber=self.course.id,
                    summary=_p(spec.summary.strip()) if spec.summary.strip() else "", summaryformat=1, format="weeks",
                    showgrades=1, newsitems=5, startdate=self.now, enddate=self._enddate(), marker=0, maxbytes=0,
                    legacyfiles=0, showreports=0, visible=1, groupmode=0, groupmodeforce=0, defaultgroupingid=0,
                    lang=spec.language, theme="", timecreated=self.now, timemodified=self.now, requested=0,
                    showactivitydates=1, showcompletionconditions=1, pdfexportfont=NULL, enablecompletion=1,
                    completionnotify=0)
        course.add(El("category", {"id": 1}).leaves(name="Category 1", description=NULL), El("tags"), El("customfields"))
        options = El("courseformatoptions")
        for name, value in (("hiddensections", 1), ("coursedisplay", 0), ("automaticenddate", 0)):
            options.add(el("courseformatoption", format="weeks", sectionid=0, name=name, value=value))
        course.add(options)
        inforef = El("inforef")
        inforef.add(El("groupingref").add(El("grouping").leaves(id=self.grouping_id)))
        if self.groups:
            inforef.add(El("groupref").add(*(El("group").leaves(id=gid) for gid, _ in self.groups)))
        inforef.add(El("roleref").add(El("role").leaves(id=STUDENT_ROLE)))
        if not self.version.qbank_module:  # on 5.x the bank activity's inforef lists them
            inforef.add(El("question_categoryref").add(*(El("question_category").leaves(id=cid)
                                                         for cid in self.category_ids.values())))
        return {
            "course/course.xml": document(course),
            "course/inforef.xml": document(inforef),
            "course/roles.xml": document(El("roles").add(El("role_overrides"), El("role_assignments"))),
            "course/filters.xml": document(El("filters").add(El("filter_actives"), El("filter_configs"))),
            "course/calendar.xml": document(El("events").add(*self.events)),
            "course/contentbank.xml": document(El("contents")),
            "course/competencies.xml": document(El("course_competencies").add(El("competencies"),
                                                                               El("user_competencies"))),
            "course/completiondefaults.xml": document(El("course_completion_defaults")),
            "course/enrolments.xml": document(El("enrolments").add(El("enrols").add(self._manual_enrol()))),
        }

    def _manual_enrol(self) -> El:
        enrol = el("enrol", {"id": 1}, enrol="manual", status=0, name=NULL, enrolperiod=0, enrolstartdate=0,
                   enrolenddate=0, expirynotify=0, expirythreshold=86400, notifyall=0, password=NULL, cost=NULL,
                   currency=NULL, roleid=STUDENT_ROLE, customint1=NULL, customint2=NULL, customint3=NULL,
                   customint4=NULL, customint5=NULL, customint6=NULL, customint7=NULL, customint8=NULL,
                   customchar1=NULL, customchar2=NULL, customchar3=NULL, customdec1=NULL, customdec2=NULL,
                   customtext1=NULL, customtext2=NULL, customtext3=NULL, customtext4=NULL, timecreated=self.now,
                   timemodified=self.now)
        return enrol.add(El("user_enrolments"))

    def _section_xml(self, s: Section) -> El:
        return el("section", {"id": s.id}, number=s.number, name=s.name, summary=s.summary, summaryformat=1,
                  sequence=",".join(str(a.cmid) for a in s.activities), visible=1, availabilityjson=NULL,
                  component=NULL, itemid=NULL, timemodified=self.now)

    def _activity_files(self, a: Activity) -> dict[str, bytes]:
        d = a.directory
        module = el("module", {"id": a.cmid, "version": self.version.module_version}, modulename=a.modname, sectionid=a.section.id,
                    sectionnumber=a.section.number, idnumber="", added=self.now, score=0, indent=0, visible=1,
                    visibleoncoursepage=1, visibleold=1, groupmode=a.groupmode, groupingid=a.groupingid,
                    completion=a.completion.get("completion", 0),
                    completiongradeitemnumber=a.completion.get("completiongradeitemnumber", NULL),
                    completionpassgrade=a.completion.get("completionpassgrade", 0),
                    completionview=a.completion.get("completionview", 0), completionexpected=0, availability=NULL,
                    showdescription=0, downloadcontent=1, lang=NULL)
        module.add(El("tags"))
        activity = El("activity", {"id": a.instance, "moduleid": a.cmid, "modulename": a.modname,
                                   "contextid": a.contextid}).add(a.body)
        inforef = El("inforef")
        if a.files:
            inforef.add(El("fileref").add(*(El("file").leaves(id=f.id) for f in a.files)))
        if a.groupingid:
            inforef.add(El("groupingref").add(El("grouping").leaves(id=a.groupingid)))
        if a.groups:
            inforef.add(El("groupref").add(*(El("group").leaves(id=g) for g in a.groups)))
        if a.grade_items:
            inforef.add(El("grade_itemref").add(*(El("grade_item").leaves(id=g.id) for g in a.grade_items)))
        if a.question_categories:
            inforef.add(El("question_categoryref").add(*(El("question_category").leaves(id=c)
                                                         for c in a.question_categories)))
        grades = El("activity_gradebook").add(El("grade_items").add(*(self._grade_item_el(g) for g in a.grade_items)),
                                              El("grade_letters"))
        return {
            f"{d}/module.xml": document(module),
            f"{d}/{a.modname}.xml": document(activity),
            f"{d}/inforef.xml": document(inforef),
            f"{d}/grades.xml": document(grades),
            **{f"{d}/{name}": data for name, data in _EMPTY_ACTIVITY_FILES.items()},
        }

    # -- questions -------------------------------------------------------------------

    def _questions_xml(self) -> El:
        root = El("question_categories")
        top = self._category_el(self.category_ids["top"], "top", 0, 0, "", NULL, f"top-{self.course.id}")
        course_cat = self._category_el(self.category_ids["course"], self.bank.course_category.name,
                                       self.category_ids["top"], 1, self.bank.course_category.info,
                                       self.bank.course_category.idnumber, f"course-{self.course.id}")
        root.add(top.add(El("question_bank_entries")), course_cat.add(El("question_bank_entries")))
        order: dict[str | None, int] = {}
        for cat in self.bank.categories:  # a pool's category follows its module's
            cid = self.category_ids[cat.idnumber]
            order[cat.parent] = order.get(cat.parent, 0) + 1
            parent = self.category_ids[cat.parent] if cat.parent else self.category_ids["course"]
            c = self._category_el(cid, cat.name, parent, order[cat.parent], cat.info, cat.idnumber,
                                  f"category-{cat.idnumber}")
            entries = El("question_bank_entries")
            for q in cat.questions:
                entries.add(self._entry(q, cid))
            root.add(c.add(entries))
        return root

    def _category_el(self, cid: int, name: str, parent: int, sortorder: int, info: str, idnumber, stamp: str) -> El:
        where = self.questions_context
        return el("question_category", {"id": cid}, name=name, contextid=where.contextid,
                  contextlevel=where.contextlevel, contextinstanceid=where.instanceid, info=info, infoformat=1, stamp=f"course_builder+{stamp}",
                  parent=parent, sortorder=sortorder, idnumber=idnumber)

    def _entry(self, q: MoodleQuestion, category_id: int) -> El:
        qid = self.question_ids[id(q)]
        question = el("question", {"id": qid}, parent=0, name=q.name, questiontext=q.text.html, questiontextformat=1,
                      generalfeedback=q.general_feedback.html, generalfeedbackformat=1,
                      defaultmark=f"{q.default_mark:.7f}", penalty=f"{q.penalty:.7f}", qtype=q.qtype, length=1,
                      stamp=f"course_builder+{self.course.id}+{q.idnumber}", timecreated=self.now,
                      timemodified=self.now, createdby=2, modifiedby=2)
        question.add(self._qtype_plugin(q, qid))
        question.add(El("plugin_qbank_comment_question").add(El("comments")),
                     El("plugin_qbank_customfields_question").add(El("customfields")))
        hints = El("question_hints")
        for hint in q.hints:
            hints.add(el("question_hint", {"id": self.next("hint")}, hint=hint.html, hintformat=1,
                         shownumcorrect=NULL, clearwrong=NULL, options=NULL))
        question.add(hints, El("tags"))
        self._question_files(q, qid)
        version = el("question_versions", {"id": qid}, version=1, status="ready").add(El("questions").add(question))
        return el("question_bank_entry", {"id": qid}, questioncategoryid=category_id, idnumber=q.idnumber,
                  ownerid=2).add(El("question_version").add(version))

    def _question_files(self, q: MoodleQuestion, qid: int) -> None:
        """Files of the question's own texts (question text, general feedback) in the question component."""
        for area, t in (("questiontext", q.text), ("generalfeedback", q.general_feedback)):
            if t.files:
                self._file_area(self.questions_context.contextid, "question", area, qid, [("/", f.name, f.content) for f in t.files])
        for area, t in (("correctfeedback", q.correct_feedback), ("partiallycorrectfeedback", q.partial_feedback),
                        ("incorrectfeedback", q.incorrect_feedback)):
            if t.files:
                self._file_area(self.questions_context.contextid, "question", area, qid, [("/", f.name, f.content) for f in t.files])

    def _answers(self, q: MoodleQuestion) -> tuple[El, list[int]]:
        answers = El("answers")
        ids = []
        for a in q.answers:
            aid = self.next("answer")
            ids.append(aid)
            answers.add(el("answer", {"id": aid}, answertext=a.text.html,
                           answerformat=1 if a.format == "html" else 0, fraction=f"{a.fraction:.7f}",
                           feedback=a.feedback.html, feedbackformat=1))
            for area, t in (("answer", a.text), ("answerfeedback", a.feedback)):
                if t.files:
                    self._file_area(self.questions_context.contextid, "question", area, aid, [("/", f.name, f.content) for f in t.files])
        return answers, ids

    def _combined(self, q: MoodleQuestion) -> dict:
        return dict(correctfeedback=q.correct_feedback.html, correctfeedbackformat=1,
                    partiallycorrectfeedback=q.partial_feedback.html, partiallycorrectfeedbackformat=1,
                    incorrectfeedback=q.incorrect_feedback.html, incorrectfeedbackformat=1)

    def _qtype_plugin(self, q: MoodleQuestion, qid: int) -> El:
        wrapper = El(f"plugin_qtype_{q.qtype}_question")
        if q.qtype == "multichoice":
            answers, _ = self._answers(q)
            wrapper.add(answers, el("multichoice", {"id": self.next("multichoice")}, layout=0, single=int(q.single),
                                    shuffleanswers=int(q.shuffle), **self._combined(q),
                                    answernumbering=q.answer_numbering, shownumcorrect=1, showstandardinstruction=0))
        elif q.qtype == "truefalse":
            tf = [a for a in q.answers]
            answers = El("answers")
            ids = []
            for a, label in zip(tf, ("True", "False")):
                aid = self.next("answer")
                ids.append(aid)
                answers.add(el("answer", {"id": aid}, answertext=label, answerformat=0, fraction=f"{a.fraction:.7f}",
                               feedback=a.feedback.html, feedbackformat=1))
            wrapper.add(answers, el("truefalse", {"id": self.next("truefalse")}, trueanswer=ids[0], falseanswer=ids[1],
                                    showstandardinstruction=0))
        elif q.qtype == "shortanswer":
            answers, _ = self._answers(q)
            wrapper.add(answers, el("shortanswer", {"id": self.next("shortanswer")}, usecase=int(q.use_case)))
        elif q.qtype == "numerical":
            answers, ids = self._answers(q)
            records = El("numerical_records")
            for a, aid in zip(q.answers, ids):
                records.add(el("numerical_record", {"id": self.next("numerical_record")}, answer=aid,
                               tolerance=_tolerance(a.tolerance)))
            wrapper.add(answers, El("numerical_units"), El("numerical_options").add(
                el("numerical_option", {"id": self.next("numerical_option")}, showunits=3, unitsleft=0,
                   unitgradingtype=0, unitpenalty="0.1000000")), records)
        elif q.qtype == "match":
            matches = El("matches")
            for sub in q.subquestions:
                mid = self.next("match")
                matches.add(el("match", {"id": mid}, questiontext=sub.text.html, questiontextformat=1,
                               answertext=sub.answer))
                if sub.text.files:
                    self._file_area(self.questions_context.contextid, "qtype_match", "subquestion", mid,
                                    [("/", f.name, f.content) for f in sub.text.files])
            wrapper.add(el("matchoptions", {"id": self.next("matchoptions")}, shuffleanswers=int(q.shuffle),
                           **self._combined(q), shownumcorrect=1), matches)
        elif q.qtype == "ordering":
            answers, _ = self._answers(q)
            combined = self._combined(q)
            wrapper.add(answers, el("ordering", {"id": self.next("ordering")}, layouttype=0, selecttype=0,
                                    selectcount=len(q.answers), gradingtype=0, showgrading=1, numberingstyle="none",
                                    correctfeedback=combined["correctfeedback"], correctfeedbackformat=1,
                                    incorrectfeedback=combined["incorrectfeedback"], incorrectfeedbackformat=1,
                                    partiallycorrectfeedback=combined["partiallycorrectfeedback"],
                                    partiallycorrectfeedbackformat=1, shownumcorrect=1))
        elif q.qtype == "essay":
            wrapper.add(el("essay", {"id": self.next("essay")}, responseformat="editor", responserequired=1,
                           responsefieldlines=10, minwordlimit=q.min_words or NULL, maxwordlimit=q.max_words or NULL,
                           attachments=0, attachmentsrequired=0, graderinfo="", graderinfoformat=1,
                           responsetemplate="", responsetemplateformat=1, filetypeslist="", maxbytes=0))
        return wrapper


def _tolerance(value: float | None) -> str:
    return number(value or 0.0)
